"""What every model wrapper shares: lifecycle lock, runtime status, downloads, use counting."""

from __future__ import annotations

import asyncio
import gc
import logging
import sys
import time
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from pathlib import Path
from typing import Any, ClassVar, Literal

from app.errors import ConflictError, InvalidRequestError, ModelUnavailableError
from app.infra import gpu_monitor
from app.infra.cuda_init import cuda_initialisation
from app.infra.hub_download import hub_cache_dir_name
from app.models.remedies import remedy_for
from app.slot_options import SlotConfig
from app.slots import Role

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


class DownloadProgress:
    """Bytes of a running download, and its pace over the last `window_s` seconds."""

    def __init__(self, window_s: float = 10.0) -> None:
        self.window_s = window_s
        self.done_bytes = 0
        self.total_bytes = 0
        self._samples: deque[tuple[float, int]] = deque()

    def update(self, done_bytes: int, total_bytes: int, now: float) -> None:
        """Record the bytes present at monotonic time `now`."""
        self.done_bytes, self.total_bytes = done_bytes, total_bytes
        self._samples.append((now, done_bytes))
        while len(self._samples) > 2 and self._samples[1][0] <= now - self.window_s:
            self._samples.popleft()  # keeps one sample at or before the window's start

    @property
    def bytes_per_s(self) -> float | None:
        """Bytes per second between the oldest sample kept and the newest; None before two samples."""
        if len(self._samples) < 2:
            return None
        (start, first), (end, last) = self._samples[0], self._samples[-1]
        return (last - first) / (end - start) if end > start else None

    def public(self) -> dict[str, Any]:
        speed = self.bytes_per_s
        left = max(0, self.total_bytes - self.done_bytes)
        if left == 0 and self.total_bytes:
            eta: float | None = 0.0
        else:
            eta = round(left / speed, 1) if speed else None
        return {
            "done_bytes": self.done_bytes,
            "total_bytes": self.total_bytes,
            "bytes_per_s": None if speed is None else round(speed, 1),
            "eta_s": eta,
        }


LEAK_SHARE = 0.9
"""An unload that gives back less than this share of what the model held is flagged (`memory_leak_suspected`)."""
LEAK_FLOOR_MIB = 64
"""Holdings below this are measurement noise, never flagged."""


def leak_suspected(held_mib: dict[str, int], given_back_mib: dict[str, int]) -> bool:
    """Whether an unload gave back less than `LEAK_SHARE` of what the model held on any of its GPUs."""
    return any(
        held >= LEAK_FLOOR_MIB and given_back_mib.get(device, 0) < LEAK_SHARE * held
        for device, held in held_mib.items()
    )


def allocator_reserved_mib(devices: list[str]) -> dict[str, int]:
    """MiB the CUDA caching allocator of this process reserves on each `cuda:N` of `devices`: the memory of
    the models this process runs itself, without the CUDA context or other processes. 0 before CUDA is
    initialised; torch is never imported here just to read it."""
    cuda = [d for d in devices if d.startswith("cuda:")]
    torch = sys.modules.get("torch")
    if not cuda or torch is None or not torch.cuda.is_initialized():
        return dict.fromkeys(cuda, 0)
    return {d: torch.cuda.memory_reserved(torch.device(d)) // 2**20 for d in cuda}


class BaseModelWrapper(ABC):
    """One model slot. Subclasses implement `_load` / `_unload` and the family's inference calls."""

    role: ClassVar[Role]
    """Set by the role's contract (`app.models.roles`): `LLMWrapper`, `ASRWrapper`, ..."""
    listed: bool = True
    """Shown by `/v1/models`: a model clients name on some route."""
    one_gpu: str | None = None
    """Set for models that run on one device: what they are, for the 400 a load on several GPUs gets."""
    device_field: ClassVar[str] = "gpu_device_id"
    """The slot option that picks the GPU of a load that names none, for the remedies."""
    slot: SlotConfig | None = None
    """Where the slot's options come from (the environment or the models file), for messages; None for wrappers
    built by hand (tests)."""

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
        self._load_task: asyncio.Task[None] | None = None
        """The running (or last) load; `ensure_loaded` joins it, never starting a second one."""
        self._in_use = 0
        self._idle = asyncio.Event()
        self._idle.set()
        self.load_count = 0
        self.runtime = RuntimeStatus()
        self.last_error: dict[str, Any] | None = None
        """The last failure, kept after the slot leaves `error`: `{"message", "remedy", "at", "during"}`."""
        self.memory_leak_suspected = False
        self._cached_artifacts: bool | None = None
        self._download: DownloadProgress | None = None
        self._load_started: tuple[float, float] | None = None
        """Wall-clock and monotonic time the running load began."""
        self._previous_load_s: float | None = None
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

    def setting_name(self, field: str) -> str:
        """How the operator sets the slot's `field`: `CANARY_MODEL_ID`, or the field of its models file entry."""
        return self.slot.setting_name(field) if self.slot is not None else f"the {field} of slot '{self.key}'"

    # --- status ---------------------------------------------------------------------------------
    def update_runtime(self, **changes: Any) -> None:
        for name, value in changes.items():
            setattr(self.runtime, name, value)
        self.runtime.updated_at = time.time()

    @property
    def kind(self) -> Role:
        """The role, as the status shows it (`kind`)."""
        return self.role

    @property
    def state(self) -> ModelState:
        return self.runtime.state

    @property
    def in_use(self) -> int:
        return self._in_use

    def status(self) -> dict[str, Any]:
        """The slot as the admin routes show it. Cheap enough for a dashboard's poll: nothing here walks the
        cache or asks a device."""
        status = asdict(self.runtime)
        status["state"] = self.runtime.state.value
        local = self.local_path is not None
        return {
            "key": self.key,
            "kind": self.kind,
            "model_id": self.model_id,
            "served_names": self.served_names,
            "source": "local" if local else "hub",
            "cache_has_artifacts": local or self.cache_has_artifacts(),
            "in_flight_requests": self._in_use,
            "load_count": self.load_count,
            **status,
            "download": self._download.public() if self._download is not None else None,
            "load": self._load_status(),
            "last_error": self.last_error,
            "memory_leak_suspected": self.memory_leak_suspected,
        }

    def _load_status(self) -> dict[str, Any] | None:
        if self._load_started is None:
            return None
        started_at, started = self._load_started
        return {
            "started_at": started_at,
            "elapsed_s": round(time.monotonic() - started, 3),
            "previous_load_s": self._previous_load_s,
        }

    def _fail(self, message: str, during: Literal["download", "load", "unload"], exc: BaseException | str) -> None:
        """Move to `error`; the cause and what to do about it stay in `last_error` after the slot recovers."""
        error = exc if isinstance(exc, str) else describe_error(exc)
        self.last_error = {
            "message": error,
            "remedy": remedy_for(self, error, None if isinstance(exc, str) else exc),
            "at": time.time(),
            "during": during,
        }
        self.update_runtime(state=ModelState.ERROR, message=message, error=error)

    # --- artifacts ------------------------------------------------------------------------------
    @property
    def hub_cache_path(self) -> Path:
        return self.cache_dir / hub_cache_dir_name(self.model_id)

    def cache_has_artifacts(self) -> bool:
        """Whether the Hub cache holds files of this model. The answer is kept: walking a large cache on every
        status poll would cost milliseconds per slot. `refresh_artifacts()` walks it again after each
        download, before each load and after each unload."""
        if self._cached_artifacts is None:
            self._cached_artifacts = self._walk_cache()
        return self._cached_artifacts

    def _walk_cache(self) -> bool:
        snapshots = self.hub_cache_path / "snapshots"
        return snapshots.is_dir() and any(p.is_file() for p in snapshots.rglob("*"))

    async def refresh_artifacts(self) -> bool:
        self._cached_artifacts = await asyncio.to_thread(self._walk_cache)
        return self._cached_artifacts

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
        self._download = DownloadProgress()
        try:
            path = await hub_download(self, self._token_provider())
        except asyncio.CancelledError:
            # Nothing is loaded by a download: back to what the cache holds (or the state it left).
            has_files = await self.refresh_artifacts()
            if previous not in (ModelState.LOADED, ModelState.LOADING):
                state = ModelState.DOWNLOADED if has_files else ModelState.ABSENT
                self.update_runtime(state=state, progress=0.0, message="download cancelled")
            raise
        except Exception as exc:
            logger.warning("downloading %s failed: %s", self.key, describe_error(exc))
            await self.refresh_artifacts()
            self._fail("download failed", "download", exc)
            raise ModelUnavailableError(
                f"model '{self.key}' could not be downloaded; the reason is in its admin status", code="download_failed"
            ) from exc
        finally:
            self._download = None
        await self.refresh_artifacts()
        if previous not in (ModelState.LOADED, ModelState.LOADING):
            self.update_runtime(state=ModelState.DOWNLOADED, progress=1.0, message="downloaded")
        return path

    def download_progressed(self, done_bytes: int, total_bytes: int) -> None:
        if self._download is not None:
            self._download.update(done_bytes, total_bytes, time.monotonic())
        self.update_runtime(
            progress=done_bytes / total_bytes if total_bytes else 0.0,
            message=f"downloading {self.model_id}: {done_bytes / 2**20:.1f} of {total_bytes / 2**20:.1f} MiB",
        )

    async def _artifacts_for_load(self) -> Path:
        """A snapshot already in the cache loads without asking the Hub (offline machines);
        the download action is what refreshes it."""
        if self.local_path is None and await self.refresh_artifacts():
            from app.infra.hub_download import cached_snapshot

            cached = await cached_snapshot(self.model_id, self.revision, self.cache_dir, self.allow_patterns)
            if cached is not None:
                return cached
        return await self._download_locked()

    # --- loading --------------------------------------------------------------------------------
    @property
    def load_task(self) -> asyncio.Task[None] | None:
        """The load under way, if any."""
        task = self._load_task
        return task if task is not None and not task.done() else None

    def start_loading(self, device_ids: list[int] | None = None) -> asyncio.Task[None]:
        """The wrapper's load task: the one under way (whatever devices it was asked for), or a new one.
        A wrong device list is refused here, before any task starts (a 400)."""
        running = self.load_task
        if running is not None:
            return running
        self.select_devices(device_ids)
        task = asyncio.create_task(self._load_locked(device_ids), name=f"load:{self.key}")
        task.add_done_callback(_retrieve)
        self._load_task = task
        return task

    async def ensure_loaded(self, device_ids: list[int] | None = None) -> None:
        """Load, or join the load under way, and wait for it. Cancelling the caller leaves the load running
        (others may wait on it); `cancel_load()` stops it."""
        if self.state == ModelState.LOADED and self.load_task is None:
            return
        await asyncio.shield(self.start_loading(device_ids))

    async def cancel_load(self) -> None:
        """Cancel the load under way and wait until the slot has settled (see `_load_locked`)."""
        task = self.load_task
        if task is not None:
            task.cancel()
            await asyncio.wait([task])

    async def _load_locked(self, device_ids: list[int] | None) -> None:
        """The load task. It ends in `loaded`; or in `error` with the reason (an exception, or a cancelled
        load whose partial model could not be dropped); or, cancelled, back to `downloaded` (`absent`
        without files) after `_unload()` dropped whatever the load had built."""
        async with self._lifecycle_lock:
            if self.state == ModelState.LOADED:
                return
            path = await self._artifacts_for_load()
            devices = self.select_devices(device_ids)
            where = ", ".join(devices) or "its upstream servers"  # no device: the model runs elsewhere
            self.update_runtime(state=ModelState.LOADING, progress=0.0, message=f"loading on {where}", error=None)
            started = time.perf_counter()
            self._load_started = (time.time(), time.monotonic())
            self.memory_leak_suspected = False
            try:
                async with cuda_initialisation(devices, on_wait=self._waiting_for_cuda):
                    self.update_runtime(message=f"loading on {where}")
                    before = self.gpu_memory_reading(devices)
                    server = await self._load(path, devices)
                    after = self.gpu_memory_reading(devices)
            except asyncio.CancelledError:
                logger.warning("loading %s was cancelled", self.key)
                await self._abandon_load()
                raise
            except Exception as exc:
                logger.exception("loading %s failed", self.key)
                await self._release_memory()
                self._fail("load failed", "load", exc)
                raise ModelUnavailableError(
                    f"model '{self.key}' failed to load; the reason is in its admin status", code="load_failed"
                ) from exc
            finally:
                self._load_started = None
            self.load_count += 1
            server["load_seconds"] = self._previous_load_s = round(time.perf_counter() - started, 3)
            server["gpu_memory_held_mib"] = {d: max(0, after[d] - before.get(d, 0)) for d in after}
            self.update_runtime(state=ModelState.LOADED, progress=1.0, message="ready", server=server, devices=devices)
            logger.info("%s loaded on %s in %.2fs", self.key, devices, server["load_seconds"])

    def _waiting_for_cuda(self) -> None:
        self.update_runtime(message="waiting for another slot to finish initialising CUDA")

    async def _abandon_load(self) -> None:
        """After a cancelled load: drop what it built. A blocking step already running on a thread runs to its
        end (threads cannot be stopped); what it builds after this point is dropped by the next unload or load."""
        try:
            await self._unload()
            await self._release_memory()
        except Exception as exc:
            logger.exception("dropping the cancelled load of %s failed", self.key)
            self._fail("load cancelled; dropping its partial model failed", "load", exc)
            return
        has_files = self.local_path is not None or await self.refresh_artifacts()
        state = ModelState.DOWNLOADED if has_files else ModelState.ABSENT
        self.update_runtime(state=state, progress=0.0, message="load cancelled", devices=[])

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

    # --- GPU memory -----------------------------------------------------------------------------------
    def gpu_memory_reading(self, devices: list[str]) -> dict[str, int]:
        """MiB held on each GPU of `devices` by what this kind of model lives in, read before and after a
        load and an unload: by default the caching allocator of this process (the models that run in it).
        Engines in processes of their own override it."""
        return allocator_reserved_mib(devices)

    def gpu_budget_share(self, device: str, total_mib: int) -> tuple[int, Literal["reserved", "measured"]] | None:
        """MiB this loaded model holds on `device`, and how that is known: measured at load by default."""
        held = self.runtime.server.get("gpu_memory_held_mib", {})
        return (held[device], "measured") if device in held else None

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
            try:
                await self._idle.wait()
            except asyncio.CancelledError:  # nothing was dropped yet: still loaded
                self.update_runtime(state=ModelState.LOADED, message="ready (unload cancelled)")
                raise
            devices = self.runtime.devices
            held = self.runtime.server.get("gpu_memory_held_mib", {})
            before = gpu_monitor.memory_used_mib(devices)
            holding = self.gpu_memory_reading(devices)
            self.update_runtime(message="stopping")
            try:
                try:
                    await self._unload()
                finally:
                    await self._release_memory()
            except (Exception, asyncio.CancelledError) as exc:
                # Part of the model may be gone: the slot is unusable until loaded again (a load starts afresh).
                logger.exception("unloading %s failed", self.key)
                self._fail("unload failed" if isinstance(exc, Exception) else "unload cancelled", "unload", exc)
                raise
            after = gpu_monitor.memory_used_mib(devices)
            remaining = self.gpu_memory_reading(devices)
            given_back = {d: max(0, holding[d] - remaining.get(d, 0)) for d in holding}
            self.memory_leak_suspected = leak_suspected(held, given_back)
            if self.memory_leak_suspected:
                logger.warning("%s held %s MiB, gave back %s MiB: memory may leak", self.key, held, given_back)
            else:
                returned = "".join(f", GPU {d} gave back {mib} MiB" for d, mib in given_back.items())
                logger.info("%s unloaded from %s%s", self.key, ", ".join(devices) or "its upstream servers", returned)
            has_files = self.local_path is not None or await self.refresh_artifacts()
            server = {
                "gpu_memory_used_mib_before_unload": before,
                "gpu_memory_used_mib_after_unload": after,
                "gpu_memory_held_mib": held,
                "gpu_memory_given_back_mib": given_back,
            }
            state = ModelState.DOWNLOADED if has_files else ModelState.ABSENT
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


def _retrieve(task: asyncio.Task[None]) -> None:
    """Mark a load's outcome as seen: its waiters (if any) report it, the slot's status keeps it."""
    if not task.cancelled():
        task.exception()


def describe_error(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


async def hub_download(wrapper: BaseModelWrapper, token: str | None) -> Path:
    """`snapshot_download` on a thread, with byte-level progress read from the hub cache."""
    from app.infra.hub_download import download_snapshot

    return await download_snapshot(
        repo_id=wrapper.model_id,
        revision=wrapper.revision,
        cache_dir=wrapper.cache_dir,
        token=token,
        allow_patterns=wrapper.allow_patterns,
        endpoint=wrapper.hub_endpoint,
        on_progress=wrapper.download_progressed,
    )
