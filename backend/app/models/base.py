"""What every model wrapper shares: lifecycle lock, runtime status, downloads, use counting."""

from __future__ import annotations

import asyncio
import gc
import logging
import time
from abc import ABC, abstractmethod
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any

from app.errors import ConflictError, InvalidRequestError, ModelUnavailableError
from app.services import gpu_monitor

logger = logging.getLogger("app.models")


class ModelState(StrEnum):
    ABSENT = "absent"
    DOWNLOADING = "downloading"
    DOWNLOADED = "downloaded"
    LOADING = "loading"
    LOADED = "loaded"
    UNLOADING = "unloading"
    ERROR = "error"


@dataclass
class RuntimeStatus:
    state: ModelState = ModelState.ABSENT
    progress: float = 0.0
    message: str = ""
    error: str | None = None
    server: dict[str, Any] = field(default_factory=dict)
    devices: list[str] = field(default_factory=list)
    updated_at: float = field(default_factory=time.time)


def hub_cache_dir_name(repo_id: str) -> str:
    """The folder `huggingface_hub` uses for a model repo: `models--org--repo`."""
    return "models--" + repo_id.replace("/", "--")


class BaseModelWrapper(ABC):
    """One model slot. Subclasses implement `_load` / `_unload` and the family's inference calls."""

    kind: str = "model"
    listed: bool = True
    """Shown by `/v1/models`: a model clients name on some route."""
    one_gpu: str | None = None
    """Set for models that run on one device: what they are, for the 400 a load on several GPUs gets."""

    def __init__(
        self,
        key: str,
        model_id: str,
        cache_dir: Path,
        token_provider: Callable[[], str | None],
        revision: str | None = None,
        allow_patterns: list[str] | None = None,
        hub_endpoint: str | None = None,
    ) -> None:
        self.key = key
        self.hub_endpoint = hub_endpoint
        self.model_id = model_id
        self.revision = revision
        self.cache_dir = cache_dir
        self.allow_patterns = allow_patterns
        self._token_provider = token_provider
        self._lifecycle_lock = asyncio.Lock()
        self._in_use = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.load_count = 0
        self.runtime = RuntimeStatus()
        if self.local_path is not None or self.cache_has_artifacts():
            self.runtime.state = ModelState.DOWNLOADED

    # --- identity -------------------------------------------------------------------------------
    @property
    def local_path(self) -> Path | None:
        """The model folder (or file) when `model_id` names an existing path rather than a Hub id."""
        path = Path(self.model_id).expanduser()
        return path.resolve() if path.exists() else None

    @property
    def names_a_path(self) -> bool:
        """`model_id` is a path: an existing one, or one written as a path (absolute, `./`, `../`, `~`),
        which a Hub id never looks like."""
        return self.local_path is not None or self.model_id.startswith(("/", ".", "~"))

    @property
    def public_model_id(self) -> str:
        """The model's name as clients see it: the Hub id, or for a local model the file or folder name
        (`canary-1b-v2.nemo` -> `canary-1b-v2`), never a path of the server."""
        if not self.names_a_path:
            return self.model_id
        path = Path(self.model_id)
        return (path.stem if path.suffix == ".nemo" else path.name) or self.key

    @property
    def served_names(self) -> list[str]:
        """Names clients may use for this model; the first one is its `id` in `/v1/models`."""
        return list(dict.fromkeys([self.public_model_id, self.key]))

    # --- status ---------------------------------------------------------------------------------
    def update_runtime(self, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(self.runtime, name, value)
        self.runtime.updated_at = time.time()

    @property
    def state(self) -> ModelState:
        return self.runtime.state

    @property
    def in_use(self) -> int:
        return self._in_use

    def status(self) -> dict[str, Any]:
        status = asdict(self.runtime)
        status["state"] = self.runtime.state.value
        return {
            "key": self.key,
            "kind": self.kind,
            "model_id": self.model_id,
            "served_names": self.served_names,
            "source": "local" if self.local_path else "hub",
            "cache_has_artifacts": self.local_path is not None or self.cache_has_artifacts(),
            "in_flight_requests": self._in_use,
            "load_count": self.load_count,
            **status,
        }

    # --- artifacts ------------------------------------------------------------------------------
    @property
    def hub_cache_path(self) -> Path:
        return self.cache_dir / hub_cache_dir_name(self.model_id)

    def cache_has_artifacts(self) -> bool:
        snapshots = self.hub_cache_path / "snapshots"
        return snapshots.is_dir() and any(p.is_file() for p in snapshots.rglob("*"))

    async def ensure_downloaded(self) -> Path:
        async with self._lifecycle_lock:
            return await self._download_locked()

    async def _download_locked(self) -> Path:
        if self.local_path is not None:
            if self.state in (ModelState.ABSENT, ModelState.ERROR):
                self.update_runtime(state=ModelState.DOWNLOADED, progress=1.0, message="local directory", error=None)
            return self.local_path
        previous = self.state
        if previous not in (ModelState.LOADED, ModelState.LOADING):
            self.update_runtime(
                state=ModelState.DOWNLOADING, progress=0.0, message=f"downloading {self.model_id}", error=None
            )
        try:
            path = await hub_download(self, self._token_provider())
        except Exception as exc:
            self.update_runtime(state=ModelState.ERROR, message="download failed", error=describe_error(exc))
            raise ModelUnavailableError(
                f"model '{self.key}' could not be downloaded; the reason is in its admin status", code="download_failed"
            ) from exc
        if previous not in (ModelState.LOADED, ModelState.LOADING):
            self.update_runtime(state=ModelState.DOWNLOADED, progress=1.0, message="downloaded")
        return path

    async def _artifacts_for_load(self) -> Path:
        """A snapshot already in the cache loads without asking the Hub (offline machines);
        the download action is what refreshes it."""
        if self.local_path is None and self.cache_has_artifacts():
            from app.services.hub_download import cached_snapshot

            cached = await cached_snapshot(self.model_id, self.revision, self.cache_dir, self.allow_patterns)
            if cached is not None:
                return cached
        return await self._download_locked()

    # --- loading --------------------------------------------------------------------------------
    async def ensure_loaded(self, device_ids: list[int] | None = None) -> None:
        async with self._lifecycle_lock:
            if self.state == ModelState.LOADED:
                return
            path = await self._artifacts_for_load()
            devices = self.select_devices(device_ids)
            self.update_runtime(
                state=ModelState.LOADING, progress=0.0, message=f"loading on {', '.join(devices)}", error=None
            )
            started = time.perf_counter()
            try:
                server = await self._load(path, devices)
            except Exception as exc:
                logger.exception("loading %s failed", self.key)
                await self._release_memory()
                self.update_runtime(state=ModelState.ERROR, message="load failed", error=describe_error(exc))
                raise ModelUnavailableError(
                    f"model '{self.key}' failed to load; the reason is in its admin status", code="load_failed"
                ) from exc
            self.load_count += 1
            server["load_seconds"] = round(time.perf_counter() - started, 3)
            self.update_runtime(state=ModelState.LOADED, progress=1.0, message="ready", server=server, devices=devices)
            logger.info("%s loaded on %s in %.2fs", self.key, devices, server["load_seconds"])

    def select_devices(self, device_ids: list[int] | None) -> list[str]:
        """Validate the requested GPU ids; no ids means the wrapper's default (CPU without CUDA)."""
        if self.one_gpu is not None and device_ids and len(device_ids) > 1:
            raise InvalidRequestError(
                f"{self.one_gpu} runs on one GPU; got gpu_device_ids {device_ids}", param="gpu_device_ids"
            )
        available = gpu_monitor.visible_gpu_count()
        if device_ids:
            if available == 0:
                raise InvalidRequestError(
                    f"gpu_device_ids {device_ids} requested but this machine has no usable GPU",
                    param="gpu_device_ids",
                )
            wrong = [i for i in device_ids if i < 0 or i >= available]
            if wrong or len(set(device_ids)) != len(device_ids):
                raise InvalidRequestError(
                    f"gpu_device_ids must be distinct ids between 0 and {available - 1}; got {device_ids}",
                    param="gpu_device_ids",
                )
            return [f"cuda:{i}" for i in device_ids]
        return self.default_devices(available)

    def default_devices(self, gpu_count: int) -> list[str]:
        return ["cuda:0"] if gpu_count else ["cpu"]

    @abstractmethod
    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        """Load onto `devices`; return server metadata for the status."""

    @abstractmethod
    async def _unload(self) -> None:
        """Drop the model and stop its engine."""

    # --- use and unload ---------------------------------------------------------------------------
    def unavailable_error(self) -> ModelUnavailableError:
        state = self.state
        hint = f"POST /api/admin/models/{self.key}/load"
        if state == ModelState.LOADING or state == ModelState.DOWNLOADING:
            return ModelUnavailableError(
                f"model '{self.key}' is {state.value} ({self.runtime.progress:.0%}); retry shortly",
                code="model_loading",
                retry_after_s=5,
            )
        if state == ModelState.UNLOADING:
            return ModelUnavailableError(f"model '{self.key}' is being unloaded; load it again with {hint}")
        if state == ModelState.ERROR:
            # The reason (`runtime.error`) may name server paths: admins read it in the status, clients do not.
            return ModelUnavailableError(
                f"model '{self.key}' is unavailable ({self.runtime.message}): an admin finds the reason in "
                f"GET /api/admin/models/{self.key}, fixes it, then calls {hint}",
                code="model_error",
            )
        return ModelUnavailableError(f"model '{self.key}' is not loaded; load it with {hint}")

    @asynccontextmanager
    async def use(self) -> AsyncIterator[None]:
        """Hold the model for one request; unload waits until every holder has left."""
        if self.state != ModelState.LOADED:
            raise self.unavailable_error()
        self._in_use += 1
        self._idle.clear()
        try:
            yield
        finally:
            self._in_use -= 1
            if self._in_use == 0:
                self._idle.set()

    def check_can_unload(self, wait: bool) -> None:
        if not wait and self._in_use:
            raise ConflictError(
                f"model '{self.key}' is serving {self._in_use} request(s); retry later or unload with wait=true",
                code="model_busy",
            )

    async def unload(self, wait: bool = True) -> None:
        self.check_can_unload(wait)
        async with self._lifecycle_lock:
            if self.state != ModelState.LOADED:
                return
            self.check_can_unload(wait)
            self.update_runtime(state=ModelState.UNLOADING, message=f"draining {self._in_use} request(s)")
            await self._idle.wait()
            before = gpu_monitor.memory_used_mib(self.runtime.devices)
            self.update_runtime(message="stopping")
            try:
                await self._unload()
            finally:
                await self._release_memory()
            after = gpu_monitor.memory_used_mib(self.runtime.devices)
            state = ModelState.DOWNLOADED if self.local_path or self.cache_has_artifacts() else ModelState.ABSENT
            server = {"gpu_memory_used_mib_before_unload": before, "gpu_memory_used_mib_after_unload": after}
            self.update_runtime(state=state, progress=0.0, message="unloaded", server=server, devices=[])

    async def _release_memory(self) -> None:
        def release() -> None:
            gc.collect()
            try:
                import torch
            except ImportError:
                return
            if torch.cuda.is_available():
                torch.cuda.empty_cache()

        await asyncio.to_thread(release)


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


async def hub_download(wrapper: BaseModelWrapper, token: str | None) -> Path:
    """`snapshot_download` on a thread, with byte-level progress read from the hub cache."""
    from app.services.hub_download import download_snapshot

    return await download_snapshot(
        repo_id=wrapper.model_id,
        revision=wrapper.revision,
        cache_dir=wrapper.cache_dir,
        token=token,
        allow_patterns=wrapper.allow_patterns,
        endpoint=wrapper.hub_endpoint,
        on_progress=lambda done, total: wrapper.update_runtime(
            progress=done / total if total else 0.0,
            message=f"downloading {wrapper.model_id}: {done / 2**20:.1f} of {total / 2**20:.1f} MiB",
        ),
    )
