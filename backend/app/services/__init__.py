"""The domain: the model registry, LLM generation, speech (ASR, language identification, diarization),
long-audio jobs, usage and quotas, metrics. Free of HTTP types where the issue 10 refactor has reached."""
