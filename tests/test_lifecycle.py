"""The slot lifecycle's edges, on small fake wrappers: one load task, cancellation, failures, the lazy wait,
and the CUDA lock."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Any

import numpy as np
import pytest

from app.config import Settings
from app.errors import InvalidRequestError, ModelUnavailableError
from app.infra import cuda_init
from app.models.base import ModelState
from app.models.roles import ASRWrapper
from app.models.types import TranscribeOptions, Transcript
from app.services.model_registry import ModelRegistry
from app.slots import Role

pytestmark = pytest.mark.anyio


class FakeASR(ASRWrapper):
    """Loads when `release` is set; `fail_load` / `fail_unload` make those steps raise."""

    def __init__(self, folder: Path, key: str = "fake") -> None:
        folder.mkdir(parents=True, exist_ok=True)
        super().__init__(key, str(folder), folder, lambda: None)
        self.release = asyncio.Event()
        self.loading = asyncio.Event()
        self.loads = 0
        self.unloads = 0
        self.fail_load = False
        self.fail_unload = False
        self.devices_for_load = ["cpu"]

    def default_devices(self, gpu_count: int) -> list[str]:
        return self.devices_for_load

    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        self.loads += 1
        self.loading.set()
        await self.release.wait()
        if self.fail_load:
            raise RuntimeError("weights are corrupt")
        return {"fake": True}

    async def _unload(self) -> None:
        self.unloads += 1
        if self.fail_unload:
            raise RuntimeError("engine would not stop")

    def transcribe_batch(self, audios: list[np.ndarray], options: TranscribeOptions) -> list[Transcript]:
        return [Transcript("") for _ in audios]


def registry_with(tmp_path: Path, wrapper: FakeASR, **settings: Any) -> ModelRegistry:
    registry = ModelRegistry(
        Settings(_env_file=None, model_cache_dir=tmp_path / "cache", enabled_models=[], **settings), lambda: None
    )
    registry.configure(with_defaults=False)
    registry.register(wrapper)
    return registry


async def test_concurrent_loads_share_one_task(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    first = asyncio.create_task(wrapper.ensure_loaded())
    second = asyncio.create_task(wrapper.ensure_loaded())
    await wrapper.loading.wait()
    assert wrapper.start_loading() is wrapper.load_task
    wrapper.release.set()
    await asyncio.gather(first, second)
    assert wrapper.loads == 1 and wrapper.load_count == 1 and wrapper.state == ModelState.LOADED


async def test_cancelling_a_waiter_leaves_the_load_running(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    waiter = asyncio.create_task(wrapper.ensure_loaded())
    await wrapper.loading.wait()
    waiter.cancel()
    with pytest.raises(asyncio.CancelledError):
        await waiter
    assert wrapper.state == ModelState.LOADING and wrapper.load_task is not None
    wrapper.release.set()
    await wrapper.ensure_loaded()
    assert wrapper.state == ModelState.LOADED and wrapper.loads == 1


async def test_cancelled_load_returns_to_the_previous_state(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    assert wrapper.state == ModelState.DOWNLOADED  # a local folder
    wrapper.start_loading()
    await wrapper.loading.wait()
    await wrapper.cancel_load()
    assert wrapper.state == ModelState.DOWNLOADED and wrapper.runtime.message == "load cancelled"
    assert wrapper.unloads == 1  # what the load had built is dropped
    assert wrapper.load_task is None and wrapper.status()["load"] is None
    wrapper.release.set()
    await wrapper.ensure_loaded()  # a new load starts afresh
    assert wrapper.state == ModelState.LOADED and wrapper.loads == 2


async def test_cancelled_load_whose_cleanup_fails_ends_in_error(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    wrapper.fail_unload = True
    wrapper.start_loading()
    await wrapper.loading.wait()
    await wrapper.cancel_load()
    assert wrapper.state == ModelState.ERROR and "engine would not stop" in (wrapper.runtime.error or "")
    assert wrapper.last_error is not None and wrapper.last_error["during"] == "load"


async def test_failing_load_ends_in_error_with_the_reason(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    wrapper.fail_load = True
    wrapper.release.set()
    with pytest.raises(ModelUnavailableError) as raised:
        await wrapper.ensure_loaded()
    assert raised.value.code == "load_failed"
    assert wrapper.state == ModelState.ERROR and wrapper.runtime.message == "load failed"
    assert wrapper.runtime.error == "RuntimeError: weights are corrupt"
    wrapper.fail_load = False
    await wrapper.ensure_loaded()  # from error, a load starts again
    assert wrapper.state == ModelState.LOADED


async def test_failing_unload_ends_in_error_with_the_reason(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    wrapper.release.set()
    await wrapper.ensure_loaded()
    wrapper.fail_unload = True
    with pytest.raises(RuntimeError):
        await wrapper.unload()
    assert wrapper.state == ModelState.ERROR and wrapper.runtime.message == "unload failed"
    assert wrapper.last_error is not None and wrapper.last_error["during"] == "unload"
    assert wrapper.unavailable_error().code == "model_error"
    wrapper.fail_unload = False
    await wrapper.ensure_loaded()  # an admin loads it again
    assert wrapper.state == ModelState.LOADED


async def test_cancelled_unload_while_draining_stays_loaded(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    wrapper.release.set()
    await wrapper.ensure_loaded()
    async with wrapper.use():
        unload = asyncio.create_task(wrapper.unload(wait=True))
        await asyncio.sleep(0)  # the unload runs up to its wait for the holder to leave
        assert wrapper.state == ModelState.UNLOADING
        unload.cancel()
        with pytest.raises(asyncio.CancelledError):
            await unload
    assert wrapper.state == ModelState.LOADED and wrapper.unloads == 0


async def test_lazy_wait_joins_the_load_without_polling(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    registry = registry_with(tmp_path, wrapper, lazy_load_wait_s=30)
    sleeps: list[float] = []
    real_sleep = asyncio.sleep

    async def counting_sleep(delay: float, *args: Any) -> Any:
        sleeps.append(delay)
        return await real_sleep(delay, *args)

    async def request() -> str:
        async with registry.acquire("fake", Role.ASR) as model:
            return model.key

    asyncio.sleep = counting_sleep  # type: ignore[assignment]
    try:
        waiting = [asyncio.create_task(request()) for _ in range(3)]
        await wrapper.loading.wait()
        wrapper.release.set()
        assert await asyncio.gather(*waiting) == ["fake"] * 3
    finally:
        asyncio.sleep = real_sleep  # type: ignore[assignment]
    assert wrapper.loads == 1 and not [d for d in sleeps if d > 0]


async def test_lazy_wait_times_out_with_retry_after(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    registry = registry_with(tmp_path, wrapper, lazy_load_wait_s=0.05)
    with pytest.raises(ModelUnavailableError) as raised:
        async with registry.acquire("fake", Role.ASR):
            pass
    assert raised.value.code == "model_loading" and raised.value.headers["Retry-After"] == "5"
    assert wrapper.state == ModelState.LOADING  # the load goes on
    wrapper.release.set()
    async with registry.acquire("fake", Role.ASR) as model:
        assert model is wrapper
    await registry.shutdown()


async def test_lazy_wait_reports_a_failed_load(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    wrapper.fail_load = True
    wrapper.release.set()
    registry = registry_with(tmp_path, wrapper)
    with pytest.raises(ModelUnavailableError) as raised:
        async with registry.acquire("fake", Role.ASR):
            pass
    assert raised.value.code == "model_error"


async def test_registry_loaded_waits_for_the_load_and_reports_failures(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    registry = registry_with(tmp_path, wrapper, lazy_load_models=False)
    waiting = asyncio.create_task(registry.loaded("fake", Role.ASR))
    await wrapper.loading.wait()
    wrapper.release.set()
    assert await waiting is wrapper
    await wrapper.unload()
    wrapper.fail_load = True
    with pytest.raises(ModelUnavailableError) as raised:
        await registry.loaded("fake", Role.ASR)
    assert raised.value.code == "model_error"


async def test_wrong_role_is_refused(tmp_path: Path) -> None:
    registry = registry_with(tmp_path, FakeASR(tmp_path / "m"))
    with pytest.raises(Exception) as raised:
        registry.resolve("fake", Role.LLM)
    assert getattr(raised.value, "code", None) == "wrong_model_kind"


async def test_gpu_loads_take_the_cuda_lock_one_at_a_time(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    first, second = FakeASR(tmp_path / "a", "a"), FakeASR(tmp_path / "b", "b")
    for wrapper in (first, second):
        wrapper.devices_for_load = ["cuda:0"]
        monkeypatch.setattr(wrapper, "select_devices", lambda ids: ["cuda:0"])
    first.start_loading()
    await first.loading.wait()
    second.start_loading()
    for _ in range(20):
        await asyncio.sleep(0)
    assert not second.loading.is_set() and "waiting for another slot" in second.runtime.message
    assert cuda_init.cuda_lock().locked()
    first.release.set()
    second.release.set()
    await asyncio.gather(first.ensure_loaded(), second.ensure_loaded())
    assert first.state == second.state == ModelState.LOADED and not cuda_init.cuda_lock().locked()


async def test_cpu_loads_do_not_take_the_cuda_lock(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    wrapper.start_loading()
    await wrapper.loading.wait()
    assert not cuda_init.cuda_lock().locked()
    wrapper.release.set()
    await wrapper.ensure_loaded()


async def test_wrong_devices_are_refused_before_a_task_starts(tmp_path: Path) -> None:
    wrapper = FakeASR(tmp_path / "m")
    with pytest.raises(InvalidRequestError):
        wrapper.start_loading([0, 0])
    assert wrapper.load_task is None
