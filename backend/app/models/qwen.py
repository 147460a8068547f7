"""The LLM slot: Qwen on vLLM's async engine (GPU) or on transformers (CPU, or GPU without vLLM)."""

from __future__ import annotations

import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import CPU_DEFAULT_LLM, GPU_DEFAULT_LLM, Settings
from app.engines.base import LLMEngine
from app.errors import InvalidRequestError
from app.models.base import BaseModelWrapper
from app.services import gpu_monitor

# Weights, configs and tokenizer files; skips the original PyTorch/GGUF copies some repos carry.
LLM_ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.tiktoken", "*.txt", "*.jinja", "*.py"]


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


class QwenModel(BaseModelWrapper):
    kind = "llm"

    def __init__(self, settings: Settings, token_provider: Callable[[], str | None], key: str = "qwen") -> None:
        on_vllm = gpu_monitor.visible_gpu_count() > 0 and vllm_installed() and settings.qwen_engine != "transformers"
        model_id = settings.qwen_model_id or (GPU_DEFAULT_LLM if on_vllm else CPU_DEFAULT_LLM)
        super().__init__(
            key=key,
            model_id=model_id,
            cache_dir=settings.model_cache_dir,
            token_provider=token_provider,
            revision=settings.qwen_revision,
            allow_patterns=LLM_ALLOW_PATTERNS,
            hub_endpoint=settings.hf_endpoint,
        )
        self.settings = settings
        self.engine: LLMEngine | None = None

    @property
    def served_names(self) -> list[str]:
        settings = self.settings
        names = [settings.qwen_served_model_name or self.public_model_id, *settings.qwen_model_aliases, self.key]
        return list(dict.fromkeys(names))

    def default_devices(self, gpu_count: int) -> list[str]:
        if not gpu_count:
            return ["cpu"]
        if self.settings.qwen_gpu_device_ids:
            return self.select_devices(self.settings.qwen_gpu_device_ids)
        size = min(self.settings.qwen_tensor_parallel_size or 1, gpu_count)
        return [f"cuda:{i}" for i in range(size)]

    def engine_for(self, devices: list[str]) -> str:
        choice = self.settings.qwen_engine
        on_gpu = devices[0].startswith("cuda")
        if choice == "auto":
            return "vllm" if on_gpu and vllm_installed() else "transformers"
        if choice == "vllm" and not on_gpu:
            raise InvalidRequestError("QWEN_ENGINE=vllm needs a GPU; this load asked for the CPU")
        return choice

    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        settings = self.settings
        if self.engine_for(devices) == "vllm":
            from app.engines.vllm_engine import VLLMEngine

            indices = [int(d.split(":")[1]) for d in devices]
            self.engine = await VLLMEngine.load(
                path,
                cuda_visible_devices=gpu_monitor.cuda_visible_devices_for(indices),
                tensor_parallel_size=len(indices),
                max_model_len=settings.qwen_max_model_len,
                dtype=settings.qwen_dtype,
                gpu_memory_utilization=settings.qwen_gpu_memory_utilization,
                served_model_name=self.served_names[0],
                extra_args=settings.qwen_engine_args,
            )
        else:
            import asyncio

            from app.engines.transformers_engine import TransformersEngine

            self.engine = await asyncio.to_thread(
                TransformersEngine.load,
                path,
                devices[0],
                settings.qwen_dtype,
                settings.qwen_max_model_len,
                settings.qwen_cpu_max_concurrency,
            )
        return {"path": str(path), **self.engine.describe()}

    async def _unload(self) -> None:
        engine, self.engine = self.engine, None
        if engine is not None:
            await engine.shutdown()

    # --- prompts --------------------------------------------------------------------------------
    def _require_engine(self) -> LLMEngine:
        if self.engine is None:
            raise self.unavailable_error()
        return self.engine

    def chat_prompt_ids(self, messages: list[dict[str, Any]], template_kwargs: dict[str, Any]) -> list[int]:
        tokenizer = self._require_engine().tokenizer
        if not getattr(tokenizer, "chat_template", None):
            raise InvalidRequestError(f"model '{self.served_names[0]}' has no chat template; use /v1/completions")
        try:
            text = tokenizer.apply_chat_template(
                messages, add_generation_prompt=True, tokenize=False, **template_kwargs
            )
        except Exception as exc:
            raise InvalidRequestError(f"the chat template rejected these messages: {exc}", param="messages") from exc
        return list(tokenizer.encode(text, add_special_tokens=False))

    def text_prompt_ids(self, prompt: str) -> list[int]:
        return list(self._require_engine().tokenizer.encode(prompt, add_special_tokens=False))
