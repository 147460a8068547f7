"""The LLM slot: Qwen on vLLM's async engine (GPU) or on transformers (CPU, or GPU without vLLM)."""

from __future__ import annotations

import asyncio
import hashlib
import importlib.util
from collections.abc import Callable
from pathlib import Path
from typing import Any, Literal

from app import __version__
from app.config import CPU_DEFAULT_LLM, GPU_DEFAULT_LLM, Settings
from app.engines.base import LLMEngine
from app.errors import InvalidRequestError
from app.infra import gpu_monitor
from app.models.prompts import PromptBuilder
from app.models.roles import LLMWrapper
from app.slot_options import LLMOptions, SlotConfig

# Weights, configs and tokenizer files; skips the original PyTorch/GGUF copies some repos carry.
LLM_ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.model", "*.tiktoken", "*.txt", "*.jinja", "*.py"]


def vllm_installed() -> bool:
    return importlib.util.find_spec("vllm") is not None


class QwenModel(LLMWrapper):
    device_field = "gpu_device_ids"

    def __init__(
        self, settings: Settings, token_provider: Callable[[], str | None], slot: SlotConfig | None = None
    ) -> None:
        self.slot = slot or settings.builtin_slot("qwen")
        self.options = options = self.slot.options_as(LLMOptions)
        on_vllm = gpu_monitor.visible_gpu_count() > 0 and vllm_installed() and options.engine != "transformers"
        model_id = options.model_id or (GPU_DEFAULT_LLM if on_vllm else CPU_DEFAULT_LLM)
        super().__init__(
            key=self.slot.key,
            model_id=model_id,
            cache_dir=settings.model_cache_dir,
            token_provider=token_provider,
            revision=options.revision,
            allow_patterns=LLM_ALLOW_PATTERNS,
            hub_endpoint=settings.hf_endpoint,
        )
        self.settings = settings
        self.engine: LLMEngine | None = None
        self.prompts: PromptBuilder | None = None
        self.system_fingerprint = ""

    @property
    def served_names(self) -> list[str]:
        options = self.options
        names = [options.served_model_name or self.public_model_id, *options.model_aliases, self.key]
        return list(dict.fromkeys(names))

    def default_devices(self, gpu_count: int) -> list[str]:
        if not gpu_count:
            return ["cpu"]
        if self.options.gpu_device_ids:
            return self.select_devices(self.options.gpu_device_ids)
        size = min(self.options.tensor_parallel_size or 1, gpu_count)
        return [f"cuda:{i}" for i in range(size)]

    def engine_for(self, devices: list[str]) -> str:
        choice = self.options.engine
        on_gpu = devices[0].startswith("cuda")
        if choice == "auto":
            return "vllm" if on_gpu and vllm_installed() else "transformers"
        if choice == "vllm" and not on_gpu:
            raise InvalidRequestError(f"{self.setting_name('engine')}=vllm needs a GPU; this load asked for the CPU")
        return choice

    def gpu_memory_reading(self, devices: list[str]) -> dict[str, int]:
        """vLLM runs in engine processes of its own: NVML's reading of the GPUs (whole devices)."""
        if any(d.startswith("cuda") for d in devices) and self.engine_for(devices) == "vllm":
            return gpu_monitor.memory_used_mib(devices)
        return super().gpu_memory_reading(devices)

    def gpu_budget_share(self, device: str, total_mib: int) -> tuple[int, Literal["reserved", "measured"]] | None:
        """vLLM keeps QWEN_GPU_MEMORY_UTILIZATION of each of its GPUs (weights and KV cache), whatever it uses."""
        server = self.runtime.server
        if server.get("engine") == "vllm":
            return round(server["gpu_memory_utilization"] * total_mib), "reserved"
        return super().gpu_budget_share(device, total_mib)

    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        engine = await self._start_engine(path, devices)
        try:
            self.prompts = await asyncio.to_thread(PromptBuilder, engine.tokenizer, self.served_names[0])
        except BaseException:
            await engine.shutdown()
            raise
        self.engine = engine
        server = {"path": str(path), **engine.describe()}
        self.system_fingerprint = fingerprint(self.model_id, self.revision, path.name, server)
        return server

    async def _start_engine(self, path: Path, devices: list[str]) -> LLMEngine:
        options = self.options
        if self.engine_for(devices) == "vllm":
            from app.engines.vllm_engine import VLLMEngine

            indices = [int(d.split(":")[1]) for d in devices]
            return await VLLMEngine.load(
                path,
                cuda_visible_devices=gpu_monitor.cuda_visible_devices_for(indices),
                tensor_parallel_size=len(indices),
                max_model_len=options.max_model_len,
                dtype=options.dtype,
                gpu_memory_utilization=options.gpu_memory_utilization,
                served_model_name=self.served_names[0],
                extra_args=options.engine_args,
            )
        from app.engines.transformers_engine import TransformersEngine

        return await asyncio.to_thread(
            TransformersEngine.load,
            path,
            devices[0],
            options.dtype,
            options.max_model_len,
            options.cpu_max_concurrency,
        )

    async def _unload(self) -> None:
        engine, self.engine = self.engine, None
        prompts, self.prompts = self.prompts, None
        if prompts is not None:
            prompts.shutdown()
        if engine is not None:
            await engine.shutdown()

    def loaded(self) -> tuple[LLMEngine, PromptBuilder]:
        """The engine and the prompt builder of the loaded model."""
        if self.engine is None or self.prompts is None:
            raise self.unavailable_error()
        return self.engine, self.prompts


def fingerprint(model_id: str, revision: str | None, snapshot: str, server: dict[str, Any]) -> str:
    """OpenAI's `system_fingerprint`: changes when the gateway, the weights or the engine's setup change."""
    setup = sorted((key, str(value)) for key, value in server.items() if key != "path")
    digest = hashlib.sha256(repr((__version__, model_id, revision, snapshot, setup)).encode()).hexdigest()
    return f"fp_{digest[:10]}"
