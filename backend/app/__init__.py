"""Unified inference gateway: LLM, ASR and diarization models behind one authenticated API."""

__version__ = "0.1.0"
