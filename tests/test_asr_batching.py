"""The dynamic batcher on its own: batches form under load, results go back to the right caller,
a full queue is a 429, a departed caller's piece never reaches the model, and a batch waits (a bounded
time) for work announced as coming."""

from __future__ import annotations

import asyncio
import threading
import time
from collections.abc import Callable

import pytest

from app.errors import RateLimitError
from app.services.asr_batching import DynamicBatcher

pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


class Recorder:
    """A blocking batch function (like `transcribe`) that records every call it gets. After `hold()`, a call
    is recorded, then blocks its worker thread until `release()`: a batch that runs as long as the test wants."""

    def __init__(self) -> None:
        self.calls: list[tuple[list[int], str]] = []
        self.threads: set[str] = set()
        self._open = threading.Event()
        self._open.set()

    def hold(self) -> None:
        self._open.clear()

    def release(self) -> None:
        self._open.set()

    def __call__(self, items: list[int], options: str) -> list[str]:
        self.threads.add(threading.current_thread().name)
        self.calls.append((list(items), options))
        if not self._open.wait(30):
            raise TimeoutError("the test never released the batch")
        return [f"{options}:{item}" for item in items]


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.005)


def make(recorder: Recorder, batch_size: int = 8, queue_size: int = 64) -> DynamicBatcher[int, str, str]:
    return DynamicBatcher("test", recorder, batch_size=batch_size, max_wait_s=0.02, queue_size=queue_size)


async def test_concurrent_requests_share_batches_and_get_their_own_results() -> None:
    recorder = Recorder()
    batcher = make(recorder)
    results = await asyncio.gather(*(batcher.submit([i], "en") for i in range(20)))
    assert results == [[f"en:{i}"] for i in range(20)]
    assert len(recorder.calls) < 20
    assert all(len(items) <= 8 for items, _ in recorder.calls)
    assert sorted(i for items, _ in recorder.calls for i in items) == list(range(20))
    assert batcher.stats()["batches_run"] == len(recorder.calls)
    assert "MainThread" not in recorder.threads
    await batcher.stop()


async def test_different_options_never_share_a_batch() -> None:
    recorder = Recorder()
    batcher = make(recorder)
    submitted = [batcher.submit([i], "en" if i % 2 else "de") for i in range(10)]
    results = await asyncio.gather(*submitted)
    assert results == [[f"{'en' if i % 2 else 'de'}:{i}"] for i in range(10)]
    for items, options in recorder.calls:
        assert {("en" if i % 2 else "de") for i in items} == {options}
    await batcher.stop()


async def test_pieces_of_one_request_come_back_in_order() -> None:
    batcher = make(Recorder(), batch_size=3)
    assert await batcher.submit(list(range(7)), "en") == [f"en:{i}" for i in range(7)]
    await batcher.stop()


async def test_full_queue_is_429_with_retry_after() -> None:
    recorder = Recorder()
    recorder.hold()
    batcher = make(recorder, batch_size=1, queue_size=2)
    first = asyncio.ensure_future(batcher.submit([1], "en"))
    await until(lambda: len(recorder.calls) == 1)  # the worker took it and runs it: the queue is empty again
    waiting = asyncio.ensure_future(batcher.submit([2, 3], "en"))
    await until(lambda: batcher.waiting == 2)
    with pytest.raises(RateLimitError) as caught:
        await batcher.submit([4], "en")
    assert caught.value.status_code == 429 and caught.value.code == "queue_full"
    assert int(caught.value.headers["Retry-After"]) >= 1
    recorder.release()
    assert await first == ["en:1"] and await waiting == ["en:2", "en:3"]
    await batcher.stop()


async def test_cancelled_callers_are_dropped_before_the_model() -> None:
    recorder = Recorder()
    recorder.hold()
    batcher = make(recorder, batch_size=1)
    busy = asyncio.ensure_future(batcher.submit([1], "en"))
    await until(lambda: len(recorder.calls) == 1)  # [1] runs
    gone = asyncio.ensure_future(batcher.submit([2], "en"))
    await until(lambda: batcher.waiting == 1)  # [2] waits for it
    gone.cancel()
    await asyncio.wait([gone])
    assert gone.cancelled()
    recorder.release()
    assert await busy == ["en:1"]
    assert await batcher.submit([3], "en") == ["en:3"]
    assert [items for items, _ in recorder.calls] == [[1], [3]]
    await batcher.stop()


async def test_a_failing_batch_fails_its_callers_only() -> None:
    def explode(items: list[int], options: str) -> list[str]:
        if 13 in items:
            raise RuntimeError("bad audio")
        return [str(i) for i in items]

    batcher: DynamicBatcher[int, str, str] = DynamicBatcher("t", explode, batch_size=1, max_wait_s=0, queue_size=8)
    with pytest.raises(RuntimeError, match="bad audio"):
        await batcher.submit([13], "en")
    assert await batcher.submit([1], "en") == ["1"]
    await batcher.stop()


# --- work announced as coming (uploads still being decoded) ---------------------------------------
def announcing(recorder: Recorder, cap_s: float = 5.0, batch_size: int = 4) -> DynamicBatcher[int, str, str]:
    return DynamicBatcher(
        "test", recorder, batch_size=batch_size, max_wait_s=0.02, queue_size=64, max_announced_wait_s=cap_s
    )


async def test_a_batch_waits_for_announced_work_and_includes_it() -> None:
    recorder = Recorder()
    batcher = announcing(recorder)
    coming = batcher.announce("en")  # an upload for the same options is being decoded
    first = asyncio.ensure_future(batcher.submit([1], "en"))
    # The behaviour under test is time itself: ten times ASR_BATCH_WAIT_MS, and the batch still waits.
    await asyncio.sleep(0.2)
    assert recorder.calls == [] and not first.done()
    second = asyncio.ensure_future(batcher.submit([2], "en", coming))  # queued and withdrawn in one step
    assert await first == ["en:1"] and await second == ["en:2"]
    assert [items for items, _ in recorder.calls] == [[1, 2]]
    assert batcher.stats()["announced"] == 0
    await batcher.stop()


async def test_a_full_batch_does_not_wait_for_announced_work() -> None:
    recorder = Recorder()
    batcher = announcing(recorder, batch_size=2)
    with batcher.announce("en"):
        started = time.monotonic()
        assert await asyncio.gather(batcher.submit([1], "en"), batcher.submit([2], "en")) == [["en:1"], ["en:2"]]
        assert time.monotonic() - started < 1.0
    await batcher.stop()


async def test_a_lone_request_is_not_delayed() -> None:
    """Nothing announced for its options (work for other options may be): the batch waits ASR_BATCH_WAIT_MS,
    no more, as before announcements existed."""
    recorder = Recorder()
    batcher = announcing(recorder, cap_s=5.0)
    for announced in (None, "de"):  # nothing at all, then an upload in another language on its way
        announcement = batcher.announce(announced) if announced else None
        started = time.monotonic()
        assert await batcher.submit([1], "en") == ["en:1"]
        assert time.monotonic() - started < 0.5  # the wait is 0.02 s; the cap, 5 s, does not apply
        if announcement is not None:
            announcement.withdraw()
    await batcher.stop()


async def test_an_announcement_of_unknown_options_holds_every_batch() -> None:
    """A request whose language is still to be detected may join any batch."""
    recorder = Recorder()
    batcher = announcing(recorder)
    unknown = batcher.announce(None)
    first = asyncio.ensure_future(batcher.submit([1], "de"))
    await asyncio.sleep(0.2)  # ten times ASR_BATCH_WAIT_MS, and the batch still waits: the behaviour under test
    assert recorder.calls == []
    assert await asyncio.gather(first, batcher.submit([2], "de", unknown)) == [["de:1"], ["de:2"]]
    assert [items for items, _ in recorder.calls] == [[1, 2]]
    await batcher.stop()


@pytest.mark.parametrize("ending", ["failed", "cancelled"])
async def test_a_failed_or_cancelled_announcement_does_not_leave_the_batch_waiting(ending: str) -> None:
    recorder = Recorder()
    batcher = announcing(recorder, cap_s=30.0)
    decoding, fail = asyncio.Event(), asyncio.Event()

    async def request() -> None:
        """Announces itself, then its decode fails (when told) or its client leaves: it never submits."""
        with batcher.announce("en"):
            decoding.set()
            await fail.wait()
            raise ValueError("the upload could not be decoded")

    coming = asyncio.ensure_future(request())
    await decoding.wait()
    waiting = asyncio.ensure_future(batcher.submit([1], "en"))
    await asyncio.sleep(0.1)  # five times ASR_BATCH_WAIT_MS: the announcement holds the batch (the behaviour)
    assert not waiting.done()
    started = time.monotonic()
    if ending == "cancelled":
        coming.cancel()
    else:
        fail.set()
    assert await waiting == ["en:1"]
    assert time.monotonic() - started < 1.0  # not the 30 s cap
    assert batcher.stats()["announced"] == 0
    await asyncio.gather(coming, return_exceptions=True)
    await batcher.stop()


async def test_announced_work_holds_batches_back_no_longer_than_the_cap() -> None:
    """ASR_BATCH_DECODE_WAIT_MS, counted from the announcement: a decode that never ends (or a very long
    one) delays the batches that form meanwhile by that much at most, and later ones not at all."""
    recorder = Recorder()
    batcher = announcing(recorder, cap_s=0.4)
    batcher.announce("en")  # never submitted, never withdrawn
    started = time.monotonic()
    assert await batcher.submit([1], "en") == ["en:1"]
    held = time.monotonic() - started
    assert 0.35 <= held < 1.5
    started = time.monotonic()
    assert await batcher.submit([2], "en") == ["en:2"]
    assert time.monotonic() - started < 0.3  # the announcement is older than the cap: no wait now
    await batcher.stop()
