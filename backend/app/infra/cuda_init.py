"""One lock for every change of the process's CUDA set-up.

A slot that initialises CUDA in this process (NeMo, pyannote, transformers on a GPU) reads
`CUDA_VISIBLE_DEVICES` once, at initialisation; the vLLM engine sets that variable process-wide
while it spawns its engine process (`engines.vllm_engine.engine_environment`). The model wrappers'
loads on a GPU therefore hold this lock (`BaseModelWrapper._load_locked`), so no slot initialises CUDA
while another changes the environment, and two loads on GPUs run one after the other.
"""

from __future__ import annotations

import asyncio
import weakref
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager

_locks: weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, asyncio.Lock] = weakref.WeakKeyDictionary()


def cuda_lock() -> asyncio.Lock:
    """The lock of the running event loop (one per loop: a lock cannot wait on two)."""
    loop = asyncio.get_running_loop()
    lock = _locks.get(loop)
    if lock is None:
        lock = _locks[loop] = asyncio.Lock()
    return lock


@asynccontextmanager
async def cuda_initialisation(devices: list[str], on_wait: Callable[[], None] | None = None) -> AsyncIterator[None]:
    """Hold the lock while a load on `devices` runs, when any of them is a GPU; `on_wait` is called when
    another load holds it."""
    if not any(d.startswith("cuda") for d in devices):
        yield
        return
    lock = cuda_lock()
    if lock.locked() and on_wait is not None:
        on_wait()
    async with lock:
        yield
