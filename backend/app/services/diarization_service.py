"""Diarization requests on top of the pyannote wrapper: one file at a time per pipeline copy.

pyannote's pipeline takes one file per call and batches inside it (segmentation windows, embeddings), so
files are not batched across requests: each model has a bounded queue of waiting files and one worker
per pipeline copy (`DIARIZATION_REPLICAS`), each running `wrapper.diarize(..., replica=i)` on its own
thread, never on the event loop. A full queue answers 429 at once, with a Retry-After estimated from the
recent runs; a caller that goes away leaves the queue at once, so its file never reaches the pipeline.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
from collections import deque
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from typing import TYPE_CHECKING

from app.config import Settings
from app.errors import GatewayError, RateLimitError
from app.infra.audio_io import DecodedAudio
from app.models.types import Diarization, DiarizeOptions

if TYPE_CHECKING:
    from app.models.roles import DiarizationWrapper
    from app.services.model_registry import ModelRegistry

logger = logging.getLogger("app.diarization")

RECENT_RUNS = 20
DEFAULT_SECONDS_PER_AUDIO_SECOND = 0.05
"""The Retry-After estimate before the first run: about a GPU's pace (CPU is slower; real runs replace it)."""


@dataclass(eq=False)
class _Job:
    audio: DecodedAudio
    options: DiarizeOptions
    future: asyncio.Future[Diarization] = field(repr=False)


class _ModelQueue:
    """The waiting files of one model and the workers that feed its pipeline copies."""

    def __init__(self, wrapper: DiarizationWrapper, replicas: int, queue_size: int) -> None:
        self.wrapper = wrapper
        self.replicas = replicas
        self.queue_size = queue_size
        self._waiting: deque[_Job] = deque()
        self._jobs = asyncio.Semaphore(0)
        """One permit per queued job; a worker that finds the queue empty (its caller left) waits again."""
        self._executor = ThreadPoolExecutor(max_workers=replicas, thread_name_prefix=f"diarize-{wrapper.key}")
        self._workers: list[asyncio.Task[None]] = []
        self._recent: deque[tuple[float, float]] = deque(maxlen=RECENT_RUNS)
        """(wall seconds, audio seconds) of the latest runs."""
        self.runs = 0
        self.running = 0

    def stats(self) -> dict[str, int | float]:
        return {
            "runs": self.runs,
            "running": self.running,
            "waiting": len(self._waiting),
            "replicas": self.replicas,
            "queue_size": self.queue_size,
            "seconds_per_audio_second": round(self._pace(), 4),
        }

    def _pace(self) -> float:
        wall = sum(w for w, _ in self._recent)
        audio = sum(a for _, a in self._recent)
        return wall / audio if audio > 0 else DEFAULT_SECONDS_PER_AUDIO_SECOND

    def _retry_after(self) -> int:
        """About when the waiting files will all have started: their audio at the recent pace, spread over
        the pipeline copies (a slot may free sooner; retrying later spreads the retries out)."""
        queued = sum(job.audio.duration_s for job in self._waiting)
        return max(1, math.ceil(self._pace() * queued / self.replicas))

    async def submit(self, audio: DecodedAudio, options: DiarizeOptions) -> Diarization:
        if not self._workers:
            self._workers = [
                asyncio.create_task(self._work(replica), name=f"diarize:{self.wrapper.key}:{replica}")
                for replica in range(self.replicas)
            ]
        if len(self._waiting) >= self.queue_size:
            raise RateLimitError(
                f"'{self.wrapper.key}' has {len(self._waiting)} files waiting for diarization "
                "(DIARIZATION_QUEUE_SIZE); retry shortly",
                retry_after_s=self._retry_after(),
                code="queue_full",
            )
        job = _Job(audio, options, asyncio.get_running_loop().create_future())
        self._waiting.append(job)
        self._jobs.release()
        try:
            return await job.future
        finally:
            job.future.cancel()  # a no-op once settled; a run still going for a caller who left ends unread
            if job in self._waiting:  # the caller left before a pipeline copy took its file
                self._waiting.remove(job)

    async def _work(self, replica: int) -> None:
        loop = asyncio.get_running_loop()
        while True:
            await self._jobs.acquire()
            if not self._waiting:
                continue
            job = self._waiting.popleft()
            audio = job.audio
            self.running += 1
            started = loop.time()
            try:
                result = await loop.run_in_executor(
                    self._executor, self.wrapper.diarize, audio.samples, audio.sample_rate, job.options, replica
                )
            except Exception as exc:
                if not isinstance(exc, GatewayError):  # a GatewayError is the caller's to answer (a 400)
                    logger.exception("diarizing %.1f s of audio on %s failed", audio.duration_s, self.wrapper.key)
                if not job.future.done():
                    job.future.set_exception(exc)
            else:
                self.runs += 1
                self._recent.append((loop.time() - started, audio.duration_s))
                if not job.future.done():
                    job.future.set_result(result)
            finally:
                self.running -= 1
                if not job.future.done():  # the worker was stopped during the run
                    job.future.cancel()

    async def stop(self) -> None:
        for worker in self._workers:
            worker.cancel()
        for worker in self._workers:
            with contextlib.suppress(asyncio.CancelledError):
                await worker
        self._workers = []
        while self._waiting:
            self._waiting.popleft().future.cancel()
        self._executor.shutdown(wait=False, cancel_futures=True)


class DiarizationService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._queues: dict[str, _ModelQueue] = {}

    @classmethod
    def for_gateway(cls, settings: Settings, registry: ModelRegistry) -> DiarizationService:
        """The service of the diarization slots (`app.slots.SLOTS`)."""
        return cls(settings)

    def _queue(self, wrapper: DiarizationWrapper) -> _ModelQueue:
        if wrapper.key not in self._queues:
            self._queues[wrapper.key] = _ModelQueue(wrapper, wrapper.replicas, self.settings.diarization_queue_size)
        return self._queues[wrapper.key]

    async def diarize(self, wrapper: DiarizationWrapper, audio: DecodedAudio, options: DiarizeOptions) -> Diarization:
        """Wait for a free pipeline copy, then diarize `audio` on it (429 when the model's queue is full)."""
        return await self._queue(wrapper).submit(audio, options)

    def stats(self) -> dict[str, dict[str, int | float]]:
        return {key: queue.stats() for key, queue in self._queues.items()}

    async def stop(self) -> None:
        for queue in self._queues.values():
            await queue.stop()
