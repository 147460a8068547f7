"""The model registry: one slot per model, lifecycle actions, name resolution, background work."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from typing import Any, Literal, overload

from app.config import Settings, SettingsError
from app.errors import GatewayError, InvalidRequestError, ModelNotFoundError, ModelUnavailableError, NotFoundError
from app.infra.gpu_monitor import GpuSample
from app.infra.request_records import current_record
from app.models.base import BaseModelWrapper, ModelState
from app.models.roles import (
    ROLE_CONTRACTS,
    ASRWrapper,
    DiarizationWrapper,
    LanguageIdWrapper,
    LLMWrapper,
    SpeechSynthesisWrapper,
    TranslationWrapper,
)
from app.services.slot_bindings import WrapperFactory, build_wrapper
from app.slots import ROLE_DESCRIPTIONS, SLOTS, Role

logger = logging.getLogger("app.registry")

__all__ = ["ModelRegistry", "WrapperFactory"]


_PENDING = (ModelState.ABSENT, ModelState.DOWNLOADED, ModelState.DOWNLOADING, ModelState.LOADING)
"""States a lazy load starts from, or waits on."""


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
            for slot in self.settings.slots:
                self.register(build_wrapper(slot, self.settings, self._token_provider))
            self.check_served_names()

    def check_served_names(self) -> None:
        """Two slots answering to one name would make the name pick one of them silently: refused at start."""
        owners: dict[str, str] = {}
        for wrapper in self._wrappers.values():
            for name in wrapper.served_names:
                other = owners.setdefault(name, wrapper.key)
                if other != wrapper.key:
                    raise SettingsError(
                        f"model slots '{other}' and '{wrapper.key}' both answer to the name '{name}': change the "
                        f"model id or the aliases of one of them ({wrapper.setting_name('model_aliases')})"
                    )

    def register(self, wrapper: BaseModelWrapper) -> None:
        contract = ROLE_CONTRACTS[wrapper.role]
        if not isinstance(wrapper, contract):
            raise TypeError(f"slot '{wrapper.key}' has role {wrapper.role} but is no {contract.__name__}")
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

    def default_key(self, role: Role) -> str:
        """The slot of `role` used where a request names none (diarize=true, language identification): the first
        declared, built-in slots first; when none is served, the role's built-in key (its lookup gives the 404)."""
        served = next((w.key for w in self._wrappers.values() if w.role == role), None)
        return served or next(spec.key for spec in SLOTS if spec.role == role)

    def find(self, name: str) -> BaseModelWrapper | None:
        """The model a client names by served name, alias or slot key, whatever its kind."""
        return next((w for w in self._wrappers.values() if name in w.served_names), None)

    @overload
    def resolve(self, name: str, role: Literal[Role.LLM]) -> LLMWrapper: ...
    @overload
    def resolve(self, name: str, role: Literal[Role.ASR]) -> ASRWrapper: ...
    @overload
    def resolve(self, name: str, role: Literal[Role.LANGUAGE_IDENTIFICATION]) -> LanguageIdWrapper: ...
    @overload
    def resolve(self, name: str, role: Literal[Role.DIARIZATION]) -> DiarizationWrapper: ...
    @overload
    def resolve(self, name: str, role: Literal[Role.TRANSLATION]) -> TranslationWrapper: ...
    @overload
    def resolve(self, name: str, role: Literal[Role.SPEECH_SYNTHESIS]) -> SpeechSynthesisWrapper: ...
    @overload
    def resolve(self, name: str, role: Role) -> BaseModelWrapper: ...
    def resolve(self, name: str, role: Role) -> BaseModelWrapper:
        """The `role` model a client names, typed as that role's contract; a model of another role is refused
        with the routes that serve it."""
        wrapper = self.find(name)
        if wrapper is None:
            raise ModelNotFoundError(f"The model '{name}' does not exist", param="model")
        if wrapper.role != role:
            described = ROLE_DESCRIPTIONS.get(wrapper.role, f"a model of kind '{wrapper.role}'")
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
        return self._watch(name, asyncio.create_task(work, name=name))

    def _watch(self, name: str, task: asyncio.Task[Any]) -> asyncio.Task[Any]:
        """Log the task's failure, and cancel it at shutdown."""
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
        """Start (or join) the slot's load; a wrong device list is a 400 now, not an error later."""
        wrapper = self.get(key)
        if wrapper.state != ModelState.LOADED:
            self._watch(f"load:{key}", wrapper.start_loading(device_ids))
        return wrapper

    def start_unload(self, key: str, wait: bool) -> BaseModelWrapper:
        wrapper = self.get(key)
        wrapper.check_can_unload(wait)
        self._background(f"unload:{key}", wrapper.unload(wait))
        return wrapper

    def drain_replica(self, key: str, url: str, draining: bool) -> BaseModelWrapper:
        """Take one replica of an upstream slot out of the rotation (`draining`), or put it back."""
        wrapper = self.get(key)
        pool = wrapper.upstream() if isinstance(wrapper, LLMWrapper) else None
        if pool is None:
            raise InvalidRequestError(f"model slot '{key}' is not served by upstream servers", param="key")
        replica = pool.replica(url)
        if replica is None:
            known = ", ".join(r.name for r in pool.replicas)
            raise NotFoundError(f"model slot '{key}' has no replica '{url}'; its replicas: {known}", param="url")
        pool.drain(replica, draining)
        return wrapper

    async def preload_all(self) -> None:
        for wrapper in self._wrappers.values():
            try:
                await wrapper.ensure_loaded()
            except GatewayError as exc:
                logger.error("preloading %s failed: %s", wrapper.key, exc.message)

    @overload
    def acquire(self, name: str, role: Literal[Role.LLM]) -> AbstractAsyncContextManager[LLMWrapper]: ...
    @overload
    def acquire(self, name: str, role: Literal[Role.ASR]) -> AbstractAsyncContextManager[ASRWrapper]: ...
    @overload
    def acquire(
        self, name: str, role: Literal[Role.LANGUAGE_IDENTIFICATION]
    ) -> AbstractAsyncContextManager[LanguageIdWrapper]: ...
    @overload
    def acquire(
        self, name: str, role: Literal[Role.DIARIZATION]
    ) -> AbstractAsyncContextManager[DiarizationWrapper]: ...
    @overload
    def acquire(
        self, name: str, role: Literal[Role.TRANSLATION]
    ) -> AbstractAsyncContextManager[TranslationWrapper]: ...
    @overload
    def acquire(
        self, name: str, role: Literal[Role.SPEECH_SYNTHESIS]
    ) -> AbstractAsyncContextManager[SpeechSynthesisWrapper]: ...
    @overload
    def acquire(self, name: str, role: Role) -> AbstractAsyncContextManager[BaseModelWrapper]: ...
    def acquire(self, name: str, role: Role) -> AbstractAsyncContextManager[BaseModelWrapper]:
        """Hold the named model for one request, lazily loading it when the settings allow; typed as the
        contract of `role` (`registry.acquire(name, Role.ASR)` gives an `ASRWrapper`)."""
        return self._acquire(self.resolve(name, role))

    @asynccontextmanager
    async def _acquire(self, wrapper: BaseModelWrapper) -> AsyncIterator[BaseModelWrapper]:
        record = current_record()
        if record is not None:
            record.reached(wrapper.served_names[0])
        if wrapper.state != ModelState.LOADED and self.settings.lazy_load_models:
            await self._wait_for_lazy_load(wrapper)
        async with wrapper.use():
            yield wrapper

    async def _wait_for_lazy_load(self, wrapper: BaseModelWrapper) -> None:
        """Start (or join) the wrapper's load and wait for it up to LAZY_LOAD_WAIT_S; 503 `model_loading`
        with Retry-After after that (the load goes on). A failed load leaves the slot in `error` (503 `model_error`
        from `use()`); a wrong default device is the load's own 400."""
        if wrapper.state not in _PENDING:
            return
        load = wrapper.start_loading()
        try:
            await asyncio.wait_for(asyncio.shield(load), self.settings.lazy_load_wait_s)
        except ModelUnavailableError:
            return  # the load failed: the slot is in `error`, and `use()` answers with its 503 `model_error`
        except TimeoutError:
            raise ModelUnavailableError(
                f"model '{wrapper.key}' is loading ({wrapper.state.value}, {wrapper.runtime.progress:.0%}); "
                "retry shortly",
                code="model_loading",
                retry_after_s=5,
            ) from None
        except asyncio.CancelledError:
            me = asyncio.current_task()
            if load.cancelled() and me is not None and me.cancelling() == 0:  # the load was cancelled, not us
                raise wrapper.unavailable_error() from None
            raise

    @overload
    async def loaded(self, name: str, role: Literal[Role.LLM]) -> LLMWrapper: ...
    @overload
    async def loaded(self, name: str, role: Literal[Role.ASR]) -> ASRWrapper: ...
    @overload
    async def loaded(self, name: str, role: Literal[Role.LANGUAGE_IDENTIFICATION]) -> LanguageIdWrapper: ...
    @overload
    async def loaded(self, name: str, role: Literal[Role.DIARIZATION]) -> DiarizationWrapper: ...
    @overload
    async def loaded(self, name: str, role: Literal[Role.TRANSLATION]) -> TranslationWrapper: ...
    @overload
    async def loaded(self, name: str, role: Literal[Role.SPEECH_SYNTHESIS]) -> SpeechSynthesisWrapper: ...
    @overload
    async def loaded(self, name: str, role: Role) -> BaseModelWrapper: ...
    async def loaded(self, name: str, role: Role) -> BaseModelWrapper:
        """The named model once loaded, for work no client waits on (jobs): the load is started (or joined)
        whatever LAZY_LOAD_MODELS says and awaited however long it takes. A model whose load fails, or that
        is being unloaded, raises its 503 (`unavailable_error()`); a wrong device setting its 400."""
        wrapper = self.resolve(name, role)
        record = current_record()
        if record is not None:
            record.reached(wrapper.served_names[0])
        while wrapper.state != ModelState.LOADED:
            if wrapper.state in (ModelState.ERROR, ModelState.UNLOADING):
                raise wrapper.unavailable_error()
            load = wrapper.start_loading()
            try:
                await asyncio.shield(load)
            except ModelUnavailableError:
                raise wrapper.unavailable_error() from None
            except asyncio.CancelledError:
                if not load.cancelled():
                    raise  # this caller was cancelled
                # the load was cancelled (an admin, a shutdown): the loop looks at the state again
        return wrapper

    # --- reporting --------------------------------------------------------------------------------
    def status(self) -> list[dict[str, Any]]:
        return [w.status() for w in self._wrappers.values()]

    def gpu_budget(self, gpus: list[GpuSample]) -> list[dict[str, Any]]:
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
            await wrapper.cancel_load()  # lazy loads and preloads: each settles its slot's state
        for wrapper in self._wrappers.values():
            try:
                await asyncio.wait_for(wrapper.unload(wait=True), timeout=self.shutdown_drain_s)
            except TimeoutError:
                logger.warning(
                    "%s still busy after %ss; stopping without unloading", wrapper.key, self.shutdown_drain_s
                )
