"""LLM engines behind the Qwen wrapper: vLLM's async engine on GPU, transformers on CPU."""
