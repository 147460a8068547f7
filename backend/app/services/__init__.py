"""Cross-cutting services: registry, auth, rate limits, monitoring, token storage."""
