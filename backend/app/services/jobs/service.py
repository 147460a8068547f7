"""Long audio as jobs: an upload is decoded, transcribed and/or diarized in the background, with progress
per stage, and its result is kept to be fetched later in any format.

Jobs are rows of an SQLite database, `JOBS_DIR/jobs.sqlite3` (`store.py`); each has a folder
`JOBS_DIR/files/<id>/` holding the upload until the job ends, then `result.json`. SQLite runs on worker
threads, never on the event loop. At start, jobs the previous process left `running` fail with a reason and
`queued` ones run again. At most `JOBS_MAX_QUEUED` jobs are queued or running (`429 too_many_jobs` beyond);
a finished job is deleted by its owner (`delete`) or once it is `JOBS_RETENTION_DAYS` old.
Owners: a job belongs to the client (API key name) that submitted it; other clients get 404 for it,
admin keys see and act on every job.
"""

from __future__ import annotations

import asyncio
import logging
import math
import shutil
import time
import uuid
from collections import Counter, deque
from collections.abc import AsyncIterator
from contextlib import suppress
from pathlib import Path
from typing import Any

from app.config import Settings
from app.errors import (
    ConflictError,
    GatewayError,
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    RateLimitError,
)
from app.infra.auth import Client
from app.infra.request_records import RecordSink, RequestRecord, open_record
from app.services.jobs.model import (
    FINAL_STATES,
    FORMATS,
    LIVE_STATES,
    RESTART_REASON,
    STAGES,
    Job,
    JobFailure,
    JobOptions,
    JobState,
    JobTask,
    ResultFormat,
    Stage,
    StageState,
)
from app.services.jobs.runner import RESULT_FILE, JobRunner, read_json
from app.services.jobs.store import JobStore
from app.services.model_registry import ModelRegistry
from app.services.speech import SpeechPipeline, SpeechResult, check_speaker_counts
from app.services.speech_formats import Rendered, RenderOptions, render
from app.slots import Role

logger = logging.getLogger("app.jobs")

RECENT_RUNS = 20
"""Run times kept to estimate a `Retry-After` for `too_many_jobs`."""


class JobService:
    heartbeat_s = 15.0
    """Seconds between the comment lines that keep an idle event stream open."""
    retention_sweep_s = 3600.0
    """Seconds between two sweeps for jobs older than `JOBS_RETENTION_DAYS`."""

    def __init__(
        self, settings: Settings, registry: ModelRegistry, speech: SpeechPipeline, records: RecordSink
    ) -> None:
        self.settings = settings
        self._registry = registry
        self._records = records
        self._files = settings.jobs_dir / "files"
        self._store: JobStore
        self._runner = JobRunner(settings, registry, speech, self._save, self._folder)
        self._slots = asyncio.Semaphore(settings.jobs_concurrency)
        self._live: dict[str, Job] = {}
        """Every job not yet in a final state; the same objects its task updates."""
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._stopping = False
        self._sweeper: asyncio.Task[None] | None = None
        self._recent_runs: deque[float] = deque(maxlen=RECENT_RUNS)
        self.ended: Counter[str] = Counter()
        """Jobs this process has moved to each final state since it started (the store holds them all)."""

    # --- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the database (migrating it), pick up where the previous process left off, and start
        the retention sweeps."""

        def open_store() -> JobStore:
            self._files.mkdir(parents=True, exist_ok=True)
            return JobStore(self.settings.jobs_dir / "jobs.sqlite3")

        self._store = await asyncio.to_thread(open_store)
        for job in await asyncio.to_thread(self._store.unfinished):
            if job.state == JobState.RUNNING:
                await self._end(job, JobState.FAILED, {"code": "server_restarted", "message": RESTART_REASON})
            elif not self._input(job).is_file():
                message = "the job's uploaded file is gone from JOBS_DIR; submit it again"
                await self._end(job, JobState.FAILED, {"code": "input_missing", "message": message})
            else:
                self._live[job.id] = job
                self._spawn(job)
        if self._live:
            logger.info("resuming %d queued job(s)", len(self._live))
        await self.sweep()
        self._sweeper = asyncio.create_task(self._sweep_periodically(), name="jobs:retention")

    async def stop(self) -> None:
        """Stop every job without recording an end: the next start fails the running ones with
        `RESTART_REASON` and runs the queued ones."""
        self._stopping = True
        if self._sweeper is not None:
            self._sweeper.cancel()
            await asyncio.gather(self._sweeper, return_exceptions=True)
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        await asyncio.to_thread(self._store.close)

    # --- the API ------------------------------------------------------------------------------------
    def admit(self, task: JobTask, options: JobOptions) -> None:
        """What can be refused before the upload is stored: the bound on queued jobs, the model, the
        languages a loaded model does not know, speaker counts that do not fit the task."""
        self._check_room()
        counts = (options.num_speakers, options.min_speakers, options.max_speakers)
        if task != "diarize":
            asr = self._registry.resolve(options.model, Role.ASR)
            # The model's languages are known once it has loaded.
            self._runner.speech.check_languages(asr, options.transcribe())
        if task == "transcribe" and any(c is not None for c in counts):
            raise InvalidRequestError(
                "num_speakers, min_speakers and max_speakers apply to task 'diarize' or 'both'", param="task"
            )
        if task != "transcribe":
            try:
                self._registry.resolve(self._registry.default_key(Role.DIARIZATION), Role.DIARIZATION)
            except ModelNotFoundError:
                raise InvalidRequestError(
                    f"task '{task}' needs the diarization model, which this server does not serve (ENABLED_MODELS)",
                    param="task",
                ) from None
            check_speaker_counts(options.diarize())

    def _check_room(self) -> None:
        limit = self.settings.jobs_max_queued
        if len(self._live) < limit:
            return
        pace = sum(self._recent_runs) / len(self._recent_runs) if self._recent_runs else 30.0
        raise RateLimitError(
            f"{len(self._live)} jobs are queued or running, the most this server takes (JOBS_MAX_QUEUED={limit}); "
            "retry once some have finished",
            retry_after_s=math.ceil(pace / self.settings.jobs_concurrency),
            code="too_many_jobs",
        )

    async def submit(
        self, client: Client, task: JobTask, options: JobOptions, upload: Path, filename: str | None
    ) -> dict[str, Any]:
        """Queue a job for the audio file `upload`, which the job takes over (moved into its folder)."""
        self.admit(task, options)
        job = Job(
            id=f"job_{uuid.uuid4().hex}",
            owner=client.name,
            task=task,
            options=options,
            filename=(filename or "audio")[:255],
            input_file=f"input{upload.suffix}",
            stages={name: Stage() for name in STAGES[task]},
        )
        self._live[job.id] = job
        try:
            await asyncio.to_thread(_move_into, upload, self._input(job))
            await self._save(job)
        except BaseException:
            self._live.pop(job.id, None)
            shutil.rmtree(self._folder(job), ignore_errors=True)
            raise
        if job.state == JobState.QUEUED:  # not cancelled while it was being saved
            self._spawn(job)
        return job.public()

    async def get(self, job_id: str, client: Client) -> dict[str, Any]:
        return (await self._job(job_id, client)).public()

    async def newest(self, client: Client, limit: int) -> list[dict[str, Any]]:
        jobs = await asyncio.to_thread(self._store.newest, None if client.is_admin else client.name, limit)
        return [self._live.get(job.id, job).public() for job in jobs]

    async def cancel(self, job_id: str, client: Client) -> dict[str, Any]:
        job = await self._job(job_id, client)
        if job.state in (JobState.SUCCEEDED, JobState.FAILED):
            raise ConflictError(f"job {job.id} has {job.state}; only a queued or running job can be cancelled")
        task = self._tasks.get(job.id)
        if task is None:  # still being submitted (or already cancelled)
            if job.state not in FINAL_STATES:
                await self._end(job, JobState.CANCELLED)
        else:
            if not task.cancelling():
                task.cancel()
            await asyncio.wait([task])  # the task records the end itself
        return job.public()

    async def delete(self, job_id: str, client: Client) -> dict[str, Any] | None:
        """Remove a finished job and its files (None); a queued or running job is cancelled instead, as
        `DELETE` always did (the job in its final state), and a second `DELETE` removes it."""
        job = await self._job(job_id, client)
        if job.state in LIVE_STATES:
            return await self.cancel(job_id, client)
        await self._remove(job.id)
        return None

    async def result(self, job_id: str, client: Client, response_format: ResultFormat) -> Rendered:
        job = await self._job(job_id, client)
        if response_format not in FORMATS[job.task]:
            raise InvalidRequestError(
                f"response_format '{response_format}' does not fit a '{job.task}' job; use one of: "
                + ", ".join(FORMATS[job.task]),
                param="response_format",
            )
        if job.state != JobState.SUCCEEDED:
            reason = f": {job.error['message']}" if job.error else ""
            raise ConflictError(f"job {job.id} is {job.state}{reason}; a result exists once it has succeeded")
        body = await asyncio.to_thread(read_json, self._folder(job) / RESULT_FILE)
        options = RenderOptions(json_languages=True, file_id=Path(job.filename).stem or job.id)
        return render(SpeechResult.from_json(body), response_format, options)

    async def watch(self, job_id: str, client: Client) -> AsyncIterator[dict[str, Any] | None]:
        """The job now and after each change (None: nothing changed for `heartbeat_s`), until a final state."""
        job = await self._job(job_id, client)
        return self._updates(job)

    async def _updates(self, job: Job) -> AsyncIterator[dict[str, Any] | None]:
        loop = asyncio.get_running_loop()
        sent, quiet_since = -1, loop.time()
        while True:
            changed = self._changed  # taken before reading the job, so no change slips between
            if job.version != sent:
                sent, quiet_since = job.version, loop.time()
                yield job.public()
            if job.state in FINAL_STATES:
                return
            # Every job's change wakes every stream: keep time by this job's stream alone.
            wait = quiet_since + self.heartbeat_s - loop.time()
            if wait <= 0:
                quiet_since = loop.time()
                yield None
                continue
            with suppress(TimeoutError):
                await asyncio.wait_for(changed.wait(), wait)

    def stats(self) -> dict[str, int]:
        """Jobs by state: the live ones (queued, running) now, the final states counted since this process
        started. Cheap enough for every metrics scrape: nothing is read from the store."""
        counts = dict.fromkeys([JobState.QUEUED, JobState.RUNNING, *sorted(FINAL_STATES)], 0)
        for job in self._live.values():
            if job.state not in FINAL_STATES:  # an ended job leaves `_live` a moment after `_end`
                counts[job.state] += 1
        for state, count in self.ended.items():
            counts[JobState(state)] += count
        return {state.value: count for state, count in counts.items()}

    # --- retention ----------------------------------------------------------------------------------
    async def sweep(self) -> int:
        """Remove the jobs that ended more than `JOBS_RETENTION_DAYS` ago, and their files; how many."""
        days = self.settings.jobs_retention_days
        if days <= 0:
            return 0
        cutoff = time.time() - days * 86400
        removed = 0
        while expired := await asyncio.to_thread(self._store.finished_before, cutoff):
            for job_id in expired:
                await self._remove(job_id)
            removed += len(expired)
        if removed:
            logger.info("removed %d job(s) older than JOBS_RETENTION_DAYS=%g", removed, days)
        return removed

    async def _sweep_periodically(self) -> None:
        while True:
            await asyncio.sleep(self.retention_sweep_s)
            try:
                await self.sweep()
            except Exception:
                logger.exception("the jobs retention sweep failed; it runs again in %.0f s", self.retention_sweep_s)

    async def _remove(self, job_id: str) -> None:
        """The job's row, then its folder (a folder without a row is never shown)."""
        await asyncio.to_thread(self._store.delete, job_id)
        await asyncio.to_thread(shutil.rmtree, self._files / job_id, True)

    # --- bookkeeping --------------------------------------------------------------------------------
    async def _job(self, job_id: str, client: Client) -> Job:
        job = self._live.get(job_id) or await asyncio.to_thread(self._store.get, job_id)
        if job is None or not (client.is_admin or job.owner == client.name):
            raise NotFoundError(f"no job '{job_id}'", param="job_id")
        return job

    def _folder(self, job: Job) -> Path:
        return self._files / job.id

    def _input(self, job: Job) -> Path:
        return self._folder(job) / job.input_file

    def _spawn(self, job: Job) -> None:
        self._tasks[job.id] = asyncio.create_task(self._run(job), name=f"job:{job.id}")

    async def _save(self, job: Job) -> None:
        job.version += 1
        self._changed.set()
        self._changed = asyncio.Event()
        await asyncio.to_thread(self._store.save, job.row())

    async def _end(self, job: Job, state: JobState, error: dict[str, str] | None = None) -> None:
        job.state, job.error, job.finished_at = state, error, time.time()
        self.ended[state] += 1
        for stage in job.stages.values():
            if stage.state == StageState.RUNNING:
                stage.state = StageState.FAILED if state == JobState.FAILED else StageState.CANCELLED
        await self._save(job)

        def discard() -> None:
            self._input(job).unlink(missing_ok=True)
            if state != JobState.SUCCEEDED:
                (self._folder(job) / RESULT_FILE).unlink(missing_ok=True)

        await asyncio.to_thread(discard)

    async def _run(self, job: Job) -> None:
        # The run is accounted as its own record (the request log's `job` rows), not the submitting request's.
        record = RequestRecord(job.id, "JOB", f"job:{job.task}", kind="job", client=job.owner, time=job.created_at)
        open_record(record)
        status = 200
        try:
            async with self._slots:
                job.state, job.started_at = JobState.RUNNING, time.time()
                record.started = time.perf_counter()
                await self._save(job)
                await self._runner.work(job, self._input(job))
            self._recent_runs.append(time.time() - job.started_at)
            await self._end(job, JobState.SUCCEEDED)
        except asyncio.CancelledError:
            status = 499
            if self._stopping:
                raise
            await self._end(job, JobState.CANCELLED)
        except JobFailure as exc:
            status = 503
            record.error_code = exc.error["code"]
            await self._end(job, JobState.FAILED, exc.error)
        except GatewayError as exc:
            status, record.error_code = exc.status_code, exc.code or exc.error_type
            await self._end(job, JobState.FAILED, {"code": exc.code or exc.error_type, "message": exc.message})
        except Exception:
            logger.exception("job %s failed", job.id)
            status, record.error_code = 500, "internal_error"
            # The exception's text may name server paths: it goes to the log only, as for a request's 500.
            message = f"internal error (job {job.id}); the server log has the details"
            await self._end(job, JobState.FAILED, {"code": "internal_error", "message": message})
        finally:
            self._tasks.pop(job.id, None)
            if job.state in FINAL_STATES:
                self._live.pop(job.id, None)
                record.close(status)
                self._records.finished(record)


def _move_into(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)
