"""Infrastructure the domain relies on: audio decoding, Hub downloads, GPUs, keys, limits, logs, request records."""
