"""The model registry: one slot per model, lifecycle actions, name resolution, background work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

from app.config import Settings
from app.errors import GatewayError, ModelNotFoundError, ModelUnavailableError, NotFoundError
from app.infra.request_records import current_record
from app.models.base import BaseModelWrapper, ModelState

logger = logging.getLogger("app.registry")

KIND_DESCRIPTIONS = {
    "llm": "a language model, served by /v1/chat/completions and /v1/completions",
    "asr": "a speech-to-text model, served by /v1/audio/transcriptions, /v1/audio/translations and "
    "/api/audio/transcribe",
    "diarization": "a speaker diarization model, served by /api/diarization/process and diarize=true",
    "langid": "a spoken-language identification model, which the speech routes use when a request gives no language",
}
WrapperFactory = Callable[[Settings, Callable[[], str | None]], BaseModelWrapper]


def default_factories() -> dict[str, WrapperFactory]:
    from app.models.canary import CanaryASRModel
    from app.models.langid import LanguageIdModel
    from app.models.pyannote_model import PyannoteDiarizationModel
    from app.models.qwen import QwenModel

    return {
        "qwen": lambda settings, token: QwenModel(settings, token),
        "canary": lambda settings, token: CanaryASRModel(settings, token),
        "pyannote": lambda settings, token: PyannoteDiarizationModel(settings, token),
        "langid": lambda settings, token: LanguageIdModel(settings, token),
    }


class ModelRegistry:
    shutdown_drain_s = 30.0

    def __init__(self, settings: Settings, token_provider: Callable[[], str | None]) -> None:
        self.settings = settings
        self._token_provider = token_provider
        self._wrappers: dict[str, BaseModelWrapper] = {}
        self._tasks: set[asyncio.Task[Any]] = set()

    # --- composition ------------------------------------------------------------------------------
    def configure(self, with_defaults: bool = True) -> None:
        self.settings.model_cache_dir.mkdir(parents=True, exist_ok=True)
        if with_defaults:
            for key, factory in default_factories().items():
                if key in self.settings.enabled_models:
                    self.register(factory(self.settings, self._token_provider))

    def register(self, wrapper: BaseModelWrapper) -> None:
        self._wrappers[wrapper.key] = wrapper

    def wrappers(self) -> list[BaseModelWrapper]:
        return list(self._wrappers.values())

    def get(self, key: str) -> BaseModelWrapper:
        try:
            return self._wrappers[key]
        except KeyError:
            raise NotFoundError(
                f"no model slot '{key}'; known slots: {', '.join(self._wrappers) or 'none'}", param="key"
            ) from None

    def find(self, name: str) -> BaseModelWrapper | None:
        """The model a client names by served name, alias or slot key, whatever its kind."""
        return next((w for w in self._wrappers.values() if name in w.served_names), None)

    def resolve(self, name: str, kind: str) -> BaseModelWrapper:
        """The `kind` model a client names; a model of another kind is refused with the routes that serve it."""
        wrapper = self.find(name)
        if wrapper is None:
            raise ModelNotFoundError(f"The model '{name}' does not exist", param="model")
        if wrapper.kind != kind:
            described = KIND_DESCRIPTIONS.get(wrapper.kind, f"a model of kind '{wrapper.kind}'")
            raise ModelNotFoundError(
                f"The model '{name}' is {described}; it cannot be used here", param="model", code="wrong_model_kind"
            )
        return wrapper

    # --- lifecycle --------------------------------------------------------------------------------
    async def ensure_downloaded(self, key: str) -> None:
        await self.get(key).ensure_downloaded()

    async def ensure_loaded(self, key: str, device_ids: list[int] | None = None) -> None:
        await self.get(key).ensure_loaded(device_ids)

    async def unload(self, key: str, wait: bool = True) -> None:
        await self.get(key).unload(wait)

    def _background(self, name: str, work: Any) -> asyncio.Task[Any]:
        task = asyncio.create_task(work, name=name)
        self._tasks.add(task)

        def finished(done: asyncio.Task[Any]) -> None:
            self._tasks.discard(done)
            if not done.cancelled() and (exc := done.exception()) is not None:
                message = exc.message if isinstance(exc, GatewayError) else repr(exc)
                logger.error("%s failed: %s", name, message)

        task.add_done_callback(finished)
        return task

    def start_download(self, key: str) -> BaseModelWrapper:
        wrapper = self.get(key)
        self._background(f"download:{key}", wrapper.ensure_downloaded())
        return wrapper

    def start_load(self, key: str, device_ids: list[int] | None) -> BaseModelWrapper:
        wrapper = self.get(key)
        wrapper.select_devices(device_ids)  # a wrong device list is a 400 now, not an error later
        self._background(f"load:{key}", wrapper.ensure_loaded(device_ids))
        return wrapper

    def start_unload(self, key: str, wait: bool) -> BaseModelWrapper:
        wrapper = self.get(key)
        wrapper.check_can_unload(wait)
        self._background(f"unload:{key}", wrapper.unload(wait))
        return wrapper

    async def preload_all(self) -> None:
        for wrapper in self._wrappers.values():
            try:
                await wrapper.ensure_loaded()
            except GatewayError as exc:
                logger.error("preloading %s failed: %s", wrapper.key, exc.message)

    @asynccontextmanager
    async def acquire(self, name: str, kind: str) -> AsyncIterator[BaseModelWrapper]:
        """Hold the named model for one request, lazily loading it when the settings allow."""
        wrapper = self.resolve(name, kind)
        record = current_record()
        if record is not None:
            record.reached(wrapper.served_names[0])
        if wrapper.state != ModelState.LOADED and self.settings.lazy_load_models:
            await self._wait_for_lazy_load(wrapper)
        async with wrapper.use():
            yield wrapper

    async def _wait_for_lazy_load(self, wrapper: BaseModelWrapper) -> None:
        """Start (or join) a load and wait for it up to LAZY_LOAD_WAIT_S; 503 with Retry-After after that."""
        pending = (ModelState.ABSENT, ModelState.DOWNLOADED, ModelState.DOWNLOADING, ModelState.LOADING)
        if wrapper.state not in pending:
            return
        load = None
        if wrapper.state in (ModelState.ABSENT, ModelState.DOWNLOADED):
            load = self._background(f"lazy-load:{wrapper.key}", wrapper.ensure_loaded())
        deadline = asyncio.get_running_loop().time() + self.settings.lazy_load_wait_s
        while wrapper.state in pending:
            if load is not None and load.done() and not load.cancelled() and load.exception() is not None:
                raise load.exception()  # type: ignore[misc]  # e.g. a default GPU that does not exist
            if asyncio.get_running_loop().time() >= deadline:
                raise ModelUnavailableError(
                    f"model '{wrapper.key}' is loading ({wrapper.state.value}, {wrapper.runtime.progress:.0%}); "
                    "retry shortly",
                    code="model_loading",
                    retry_after_s=5,
                )
            await asyncio.sleep(0.05)

    # --- reporting --------------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        return [w.status() for w in self._wrappers.values()]

    def gpu_budget(self, gpus: list[dict[str, Any]]) -> list[dict[str, Any]]:
        """Per GPU of a monitor sample: what each model on it holds (vLLM's reserved share, or what its load
        measured) and the headroom left (total minus what NVML sees used, other processes included)."""
        holding = (ModelState.LOADED, ModelState.UNLOADING)
        budget = []
        for gpu in gpus:
            device, total = f"cuda:{gpu['index']}", gpu["memory_total_mib"]
            models = []
            for wrapper in self._wrappers.values():
                if wrapper.state not in holding or device not in wrapper.runtime.devices:
                    continue
                share = wrapper.gpu_budget_share(device, total)
                if share is not None:
                    models.append({"key": wrapper.key, "kind": wrapper.kind, "mib": share[0], "basis": share[1]})
            budget.append(
                {
                    "index": gpu["index"],
                    "name": gpu["name"],
                    "total_mib": total,
                    "used_mib": gpu["memory_used_mib"],
                    "headroom_mib": max(0, total - gpu["memory_used_mib"]),
                    "models": models,
                }
            )
        return budget

    async def shutdown(self) -> None:
        for task in list(self._tasks):
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)
        for wrapper in self._wrappers.values():
            try:
                await asyncio.wait_for(wrapper.unload(wait=True), timeout=self.shutdown_drain_s)
            except TimeoutError:
                logger.warning(
                    "%s still busy after %ss; stopping without unloading", wrapper.key, self.shutdown_drain_s
                )
