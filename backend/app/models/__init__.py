"""Model wrappers: one per family (Qwen, Canary, language identification, pyannote), their lifecycle."""
