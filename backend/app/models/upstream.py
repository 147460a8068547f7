"""An LLM slot served by upstream OpenAI-compatible servers (`engine: upstream`, e.g. `QWEN_ENGINE=upstream`).

The model runs elsewhere (vLLM replicas, data parallel, or one vLLM over a Ray cluster): this slot has nothing to
download and nothing on the gateway's GPUs. Its load opens the connection pool and checks every replica once
(replicas that do not answer yet are taken in by the health checks when they do); its unload, after the
requests in flight have ended, stops the checks and closes the connections. The OpenAI service relays its
requests to the pool (`services/openai_upstream.py`) instead of running an engine.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import GPU_DEFAULT_LLM, Settings
from app.engines.base import LLMEngine
from app.engines.upstream import UpstreamPool
from app.errors import InvalidRequestError
from app.models.base import ModelState
from app.models.prompts import PromptBuilder
from app.models.roles import LLMWrapper
from app.slot_options import LLMOptions, SlotConfig

NOTHING_TO_DOWNLOAD = "served by upstream servers: nothing to download"


class UpstreamLLMModel(LLMWrapper):
    device_field = "upstream_urls"

    def __init__(
        self, settings: Settings, token_provider: Callable[[], str | None], slot: SlotConfig | None = None
    ) -> None:
        self.slot = slot or settings.builtin_slot("qwen")
        self.options = options = self.slot.options_as(LLMOptions)
        model_id = options.model_id or options.upstream_model or GPU_DEFAULT_LLM
        super().__init__(
            key=self.slot.key,
            model_id=model_id,
            cache_dir=settings.model_cache_dir,
            token_provider=token_provider,
            revision=options.revision,
        )
        self.upstream_model = options.upstream_model or model_id
        self.system_fingerprint = ""
        key = options.upstream_api_key
        self.pool = UpstreamPool(
            self.key,
            options.upstream_urls,
            model=self.upstream_model,
            api_key=key.get_secret_value() if key is not None else None,
            connect_timeout_s=options.upstream_connect_timeout_s,
            read_timeout_s=options.upstream_read_timeout_s,
            health_interval_s=options.upstream_health_interval_s,
        )
        self.update_runtime(state=ModelState.DOWNLOADED, message=NOTHING_TO_DOWNLOAD)

    @property
    def local_path(self) -> Path | None:
        return None

    @property
    def served_names(self) -> list[str]:
        options = self.options
        names = [options.served_model_name or self.public_model_id, *options.model_aliases, self.key]
        return list(dict.fromkeys(names))

    def upstream(self) -> UpstreamPool:
        return self.pool

    def loaded(self) -> tuple[LLMEngine, PromptBuilder]:
        raise TypeError(f"slot '{self.key}' relays its requests to upstream servers: it has no engine here")

    def status(self) -> dict[str, Any]:
        status = super().status()
        status["source"] = "upstream"
        status["cache_has_artifacts"] = False
        status["server"] = {
            **status["server"],
            "engine": "upstream",
            "upstream_model": self.upstream_model,
            "replicas": self.pool.describe(),
        }
        return status

    # --- lifecycle: no files, no devices ------------------------------------------------------------
    def _walk_cache(self) -> bool:
        return True  # nothing to fetch: always ready to load

    async def _download_locked(self) -> Path:
        if self.state in (ModelState.ABSENT, ModelState.ERROR):
            self.update_runtime(state=ModelState.DOWNLOADED, progress=1.0, message=NOTHING_TO_DOWNLOAD, error=None)
        return Path(self.model_id)

    async def _artifacts_for_load(self) -> Path:
        return Path(self.model_id)

    def select_devices(self, device_ids: list[int] | None) -> list[str]:
        if device_ids:
            raise InvalidRequestError(
                f"model '{self.key}' is served by upstream servers: a load takes no gpu_device_ids",
                param="gpu_device_ids",
            )
        return []

    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        await self.pool.start()
        return {"replicas_up_at_load": self.pool.up_count()}

    async def _unload(self) -> None:
        await self.pool.stop()

    async def _release_memory(self) -> None:
        """Nothing of the model is in this process (and torch need not be imported to say so)."""
