"""Cross-request dynamic batching for ASR models.

Concurrent requests for one model put their audio pieces in a bounded queue. One worker per model
takes the first waiting piece, gathers up to `batch_size` pieces with the same options for at most
`max_wait_s`, and runs them in one `transcribe` call on a worker thread, so the event loop never
blocks and the model is never called from two threads at once. While a batch runs, new pieces
queue up and form the next batch. A full queue answers 429 at once; a piece whose caller went
away is dropped before it reaches the model.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Generic, TypeVar

from app.errors import RateLimitError

logger = logging.getLogger("app.asr.batching")

Item = TypeVar("Item")
Options = TypeVar("Options")
Result = TypeVar("Result")


@dataclass
class _Pending(Generic[Item, Options, Result]):
    item: Item
    options: Options
    future: asyncio.Future[Result] = field(repr=False)


class DynamicBatcher(Generic[Item, Options, Result]):
    def __init__(
        self,
        name: str,
        run_batch: Callable[[list[Item], Options], list[Result]],
        batch_size: int,
        max_wait_s: float,
        queue_size: int,
    ) -> None:
        self.name = name
        self._run_batch = run_batch
        self.batch_size = batch_size
        self.max_wait_s = max_wait_s
        self._queue: asyncio.Queue[_Pending[Item, Options, Result]] = asyncio.Queue(maxsize=queue_size)
        self._held: list[_Pending[Item, Options, Result]] = []
        self._worker: asyncio.Task[None] | None = None
        self.batches_run = 0
        self.items_run = 0
        self._seconds_per_item = 1.0

    @property
    def waiting(self) -> int:
        return self._queue.qsize() + len(self._held)

    def stats(self) -> dict[str, float | int]:
        return {
            "batches_run": self.batches_run,
            "items_run": self.items_run,
            "waiting": self.waiting,
            "queue_size": self._queue.maxsize,
            "batch_size": self.batch_size,
        }

    async def submit(self, items: list[Item], options: Options) -> list[Result]:
        """Queue all `items` (or none: 429 when they do not fit) and wait for their results in order."""
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=f"batcher:{self.name}")
        free = self._queue.maxsize - self._queue.qsize()
        if len(items) > free:
            wait = self._seconds_per_item * (self.waiting + len(items))
            raise RateLimitError(
                f"'{self.name}' has {self.waiting} audio pieces waiting and no room for {len(items)} more "
                "(ASR_QUEUE_SIZE); retry shortly",
                retry_after_s=max(1, math.ceil(wait)),
                code="queue_full",
            )
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Result]] = []
        for item in items:
            future: asyncio.Future[Result] = loop.create_future()
            self._queue.put_nowait(_Pending(item, options, future))
            futures.append(future)
        try:
            return list(await asyncio.gather(*futures))
        finally:
            for future in futures:
                future.cancel()

    async def _next_within(self, seconds: float) -> _Pending[Item, Options, Result] | None:
        try:
            async with asyncio.timeout(seconds):
                return await self._queue.get()
        except TimeoutError:
            return None

    async def _gather_batch(self) -> list[_Pending[Item, Options, Result]]:
        first = self._held.pop(0) if self._held else await self._queue.get()
        batch = [first]
        keep = [p for p in self._held if p.options == first.options][: self.batch_size - 1]
        batch += keep
        self._held = [p for p in self._held if p not in keep]
        deadline = asyncio.get_running_loop().time() + self.max_wait_s
        while len(batch) < self.batch_size:
            remaining = deadline - asyncio.get_running_loop().time()
            pending = await self._next_within(max(0.0, remaining))
            if pending is None:
                break
            (batch if pending.options == first.options else self._held).append(pending)
        return batch

    async def _work(self) -> None:
        loop = asyncio.get_running_loop()
        while True:
            batch = [p for p in await self._gather_batch() if not p.future.done()]
            if not batch:
                continue
            started = loop.time()
            try:
                results = await asyncio.to_thread(self._run_batch, [p.item for p in batch], batch[0].options)
            except Exception as exc:
                logger.exception("batch of %d on %s failed", len(batch), self.name)
                for pending in batch:
                    if not pending.future.done():
                        pending.future.set_exception(exc)
                continue
            self.batches_run += 1
            self.items_run += len(batch)
            # Per item of a batch: the queue drains at this pace when batches are full.
            self._seconds_per_item = max(0.01, (loop.time() - started) / len(batch))
            for pending, result in zip(batch, results, strict=True):
                if not pending.future.done():
                    pending.future.set_result(result)

    async def stop(self) -> None:
        if self._worker is not None:
            self._worker.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._worker
        for pending in self._drain():
            pending.future.cancel()

    def _drain(self) -> list[_Pending[Item, Options, Result]]:
        drained, self._held = self._held, []
        while not self._queue.empty():
            drained.append(self._queue.get_nowait())
        return drained
