"""HTTP routes: thin layers over services and wrappers."""
