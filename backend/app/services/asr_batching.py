"""Cross-request dynamic batching for ASR models.

Concurrent requests for one model put their audio pieces in a bounded queue. One worker per model
takes the first waiting piece, gathers up to `batch_size` pieces with the same options for at most
`max_wait_s`, and runs them in one `transcribe` call on a worker thread, so the event loop never
blocks and the model is never called from two threads at once. While a batch runs, new pieces
queue up and form the next batch. A full queue answers 429 at once; a piece whose caller went
away is dropped before it reaches the model.

Work known to be coming fills batches: a request announces itself (`announce`) while its upload is
being decoded, and withdraws when it submits its pieces or fails. A batch that is not full keeps
waiting past `max_wait_s` while a request announced for its options (or for options not known yet)
is on its way, but never longer than `max_announced_wait_s` after that announcement began, so a long
decode cannot hold batches back for long. With nothing announced, nothing waits longer than before.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, Generic, TypeVar

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


class Announcement(Generic[Options]):
    """Work on its way to a batcher: `options=None` when they are not known yet (matches every batch).
    Withdrawn by `submit(..., announcement=...)`, by `withdraw()`, or on leaving its `with` block."""

    def __init__(self, batcher: DynamicBatcher[Any, Options, Any], options: Options | None, since: float) -> None:
        self._batcher = batcher
        self.options = options
        self.since = since

    def withdraw(self) -> None:
        self._batcher._withdraw(self)

    def __enter__(self) -> Announcement[Options]:
        return self

    def __exit__(
        self, kind: type[BaseException] | None, error: BaseException | None, trace: TracebackType | None
    ) -> None:
        self.withdraw()


class DynamicBatcher(Generic[Item, Options, Result]):
    def __init__(
        self,
        name: str,
        run_batch: Callable[[list[Item], Options], list[Result]],
        batch_size: int,
        max_wait_s: float,
        queue_size: int,
        max_announced_wait_s: float = 0.0,
        unit: str = "audio pieces",
        queue_setting: str = "ASR_QUEUE_SIZE",
    ) -> None:
        self.name = name
        self.unit = unit
        """What the items are, and the setting that sizes the queue, for the 429's message."""
        self.queue_setting = queue_setting
        self._run_batch = run_batch
        self.batch_size = batch_size
        self.max_wait_s = max_wait_s
        self.max_announced_wait_s = max_announced_wait_s
        self.queue_size = queue_size
        self._pending: deque[_Pending[Item, Options, Result]] = deque()
        self._announced: list[Announcement[Options]] = []
        self._changed = asyncio.Event()
        """Set when a piece arrives or an announcement is withdrawn; the worker clears it before it waits."""
        self._worker: asyncio.Task[None] | None = None
        self.batches_run = 0
        self.items_run = 0
        self.batch_sizes = [0] * (batch_size + 1)
        """How many batches of each size ran (index: the size), for the batch-size histogram of `/metrics`."""
        self._seconds_per_item = 1.0

    @property
    def waiting(self) -> int:
        return len(self._pending)

    def stats(self) -> dict[str, float | int]:
        return {
            "batches_run": self.batches_run,
            "items_run": self.items_run,
            "waiting": self.waiting,
            "announced": len(self._announced),
            "queue_size": self.queue_size,
            "batch_size": self.batch_size,
        }

    def announce(self, options: Options | None) -> Announcement[Options]:
        """Tell the batcher that a request with `options` (None: not known yet) will submit soon."""
        announcement = Announcement(self, options, asyncio.get_running_loop().time())
        self._announced.append(announcement)
        return announcement

    def _withdraw(self, announcement: Announcement[Options]) -> None:
        if announcement in self._announced:
            self._announced.remove(announcement)
            self._changed.set()

    async def submit(
        self, items: list[Item], options: Options, announcement: Announcement[Options] | None = None
    ) -> list[Result]:
        """Queue all `items` (or none: 429 when they do not fit) and wait for their results in order.
        `announcement` is withdrawn in the same step the pieces are queued."""
        if announcement is not None:
            announcement.withdraw()
        if self._worker is None or self._worker.done():
            self._worker = asyncio.create_task(self._work(), name=f"batcher:{self.name}")
        if len(items) > self.queue_size - len(self._pending):
            wait = self._seconds_per_item * (self.waiting + len(items))
            raise RateLimitError(
                f"'{self.name}' has {self.waiting} {self.unit} waiting and no room for {len(items)} more "
                f"({self.queue_setting}); retry shortly",
                retry_after_s=max(1, math.ceil(wait)),
                code="queue_full",
            )
        loop = asyncio.get_running_loop()
        futures: list[asyncio.Future[Result]] = []
        for item in items:
            future: asyncio.Future[Result] = loop.create_future()
            self._pending.append(_Pending(item, options, future))
            futures.append(future)
        self._changed.set()
        try:
            return list(await asyncio.gather(*futures))
        finally:
            for future in futures:
                future.cancel()

    async def _wait_for_change(self, seconds: float | None) -> None:
        self._changed.clear()
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):
                await self._changed.wait()

    def _announced_until(self, options: Options) -> float:
        """Until when announcements still hold a batch with `options` back (-inf: none does)."""
        return max(
            (a.since + self.max_announced_wait_s for a in self._announced if a.options in (None, options)),
            default=-math.inf,
        )

    async def _gather_batch(self) -> list[_Pending[Item, Options, Result]]:
        """The oldest waiting piece and up to `batch_size - 1` later ones with its options, once the batch
        is full, or `max_wait_s` has passed and no announced request for these options is still coming."""
        while not self._pending:
            await self._wait_for_change(None)
        options = self._pending[0].options
        loop = asyncio.get_running_loop()
        deadline = loop.time() + self.max_wait_s
        while True:
            batch = [p for p in self._pending if p.options == options][: self.batch_size]
            remaining = max(deadline, self._announced_until(options)) - loop.time()
            if len(batch) == self.batch_size or remaining <= 0:
                break
            await self._wait_for_change(remaining)
        taken = {id(p) for p in batch}
        self._pending = deque(p for p in self._pending if id(p) not in taken)
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
            self.batch_sizes[len(batch)] += 1
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
        while self._pending:
            self._pending.popleft().future.cancel()
        self._announced.clear()
