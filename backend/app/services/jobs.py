"""Long audio as jobs: an upload is decoded, transcribed and/or diarized in the background, with progress
per stage, and its result is kept to be fetched later in any format.

Jobs are rows of an SQLite database, `JOBS_DIR/jobs.sqlite3`; each has a folder `JOBS_DIR/files/<id>/`
holding the upload until the job ends, then `result.json`. SQLite runs on worker threads, never on the
event loop. A job holds a model per piece of work (a group of ASR pieces, one diarization call), not for
the whole job: an unload waits for the current piece only, and the job then fails with a reason. At
start, jobs the previous process left `running` fail with a reason and `queued` ones run again.
Owners: a job belongs to the client (API key name) that submitted it; other clients get 404 for it,
admin keys see and act on every job.
"""

from __future__ import annotations

import asyncio
import json
import logging
import os
import shutil
import sqlite3
import threading
import time
import uuid
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import AbstractAsyncContextManager, asynccontextmanager, suppress
from dataclasses import asdict, dataclass, field
from functools import partial
from pathlib import Path
from typing import TYPE_CHECKING, Any, Literal, TypeVar, get_args

from starlette.datastructures import UploadFile

from app.errors import (
    ConflictError,
    GatewayError,
    InvalidRequestError,
    ModelNotFoundError,
    NotFoundError,
    RateLimitError,
)
from app.infra.audio_io import DecodedAudio, save_upload
from app.infra.auth import Client
from app.infra.request_records import RequestRecord, current_record, open_record
from app.infra.tasks import together
from app.models.base import BaseModelWrapper, ModelState
from app.models.types import Diarization, DiarizeOptions, SpeakerTurn, TimedText, TranscribeOptions, Transcript
from app.services.audio_chunking import split_for_model
from app.services.languages import SpokenLanguage, check_language
from app.services.speakers import SpeakerSegment, assign_speakers, diarized_json, labelled_cues, to_rttm
from app.services.speech_requests import DIARIZATION_MODEL, check_speaker_counts, verbose_segments
from app.services.transcripts import TranscribeRequest, cues, join_pieces, to_srt, to_vtt, verbose_json
from app.slots import Role

if TYPE_CHECKING:
    from app.api.dependencies import AppState

logger = logging.getLogger("app.jobs")

T = TypeVar("T")
JobTask = Literal["transcribe", "diarize", "both"]
ResultFormat = Literal["json", "text", "srt", "vtt", "verbose_json", "diarized_json", "rttm"]
FINAL_STATES = frozenset({"succeeded", "failed", "cancelled"})
STAGES: dict[str, tuple[str, ...]] = {
    "transcribe": ("decode", "asr", "merge"),
    "diarize": ("decode", "diarization", "merge"),
    "both": ("decode", "asr", "diarization", "merge"),
}
FORMATS: dict[str, tuple[str, ...]] = {
    "transcribe": ("json", "text", "srt", "vtt", "verbose_json"),
    "diarize": ("json", "rttm"),
    "both": get_args(ResultFormat),
}
RESTART_REASON = "the server restarted while the job was running"
LANGUAGE_FIELDS = ("language", "source_language", "source_language_origin")
SCHEMA = """
CREATE TABLE IF NOT EXISTS jobs (
    id TEXT PRIMARY KEY,
    owner TEXT NOT NULL,
    task TEXT NOT NULL,
    options TEXT NOT NULL,
    filename TEXT NOT NULL,
    input_file TEXT NOT NULL,
    state TEXT NOT NULL,
    stages TEXT NOT NULL,
    error TEXT,
    duration REAL,
    created_at REAL NOT NULL,
    started_at REAL,
    finished_at REAL,
    version INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS jobs_by_owner ON jobs (owner, created_at);
CREATE INDEX IF NOT EXISTS jobs_by_state ON jobs (state);
"""
COLUMN_NAMES = (
    "id", "owner", "task", "options", "filename", "input_file", "state", "stages", "error", "duration", "created_at",
    "started_at", "finished_at", "version",
)  # fmt: skip
COLUMNS = ", ".join(COLUMN_NAMES)
UPSERT = (
    f"INSERT INTO jobs ({COLUMNS}) VALUES ({', '.join('?' * len(COLUMN_NAMES))}) ON CONFLICT (id) DO UPDATE SET "
    + ", ".join(f"{name} = excluded.{name}" for name in COLUMN_NAMES[1:])
    + " WHERE excluded.version > jobs.version"
)


class JobFailure(Exception):
    """Ends a job as failed, with a reason its owner sees."""

    def __init__(self, message: str, code: str) -> None:
        super().__init__(message)
        self.error = {"code": code, "message": message}


@dataclass(frozen=True, slots=True)
class JobOptions:
    model: str = "canary"
    language: str | None = None
    target_language: str | None = None
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None

    def transcribe(self) -> TranscribeRequest:
        # Timestamps always: the result is rendered later, as subtitles or speaker segments too.
        return TranscribeRequest(self.language, self.target_language, timestamps=True)

    def diarize(self) -> DiarizeOptions:
        return DiarizeOptions(self.num_speakers, self.min_speakers, self.max_speakers)


@dataclass(frozen=True, slots=True)
class Transcribed:
    """A job's transcript with the options it was made with and how its spoken language was chosen."""

    transcript: Transcript
    options: TranscribeOptions
    spoken: SpokenLanguage


@dataclass(slots=True)
class Stage:
    state: str = "pending"
    """`pending`, `running`, `succeeded`, `failed` or `cancelled`."""
    progress: float = 0.0


@dataclass(slots=True)
class Job:
    id: str
    owner: str
    task: JobTask
    options: JobOptions
    filename: str
    input_file: str
    state: str = "queued"
    stages: dict[str, Stage] = field(default_factory=dict)
    error: dict[str, str] | None = None
    duration_s: float | None = None
    created_at: float = field(default_factory=time.time)
    started_at: float | None = None
    finished_at: float | None = None
    version: int = 0
    """Bumped on every change: subscribers compare it, and an older write never overwrites a newer row."""

    def public(self) -> dict[str, Any]:
        def seconds(value: float | None) -> int | None:
            return None if value is None else int(value)

        return {
            "id": self.id,
            "object": "audio.job",
            "owner": self.owner,
            "task": self.task,
            "state": self.state,
            "options": asdict(self.options),
            "filename": self.filename,
            "duration": None if self.duration_s is None else round(self.duration_s, 3),
            "progress": {name: {"state": s.state, "progress": round(s.progress, 4)} for name, s in self.stages.items()},
            "error": self.error,
            "created_at": seconds(self.created_at),
            "started_at": seconds(self.started_at),
            "finished_at": seconds(self.finished_at),
        }

    def row(self) -> tuple[Any, ...]:
        stages = {name: asdict(s) for name, s in self.stages.items()}
        return (
            self.id, self.owner, self.task, json.dumps(asdict(self.options)), self.filename, self.input_file,
            self.state, json.dumps(stages), json.dumps(self.error) if self.error else None, self.duration_s,
            self.created_at, self.started_at, self.finished_at, self.version,
        )  # fmt: skip

    @classmethod
    def from_row(cls, row: sqlite3.Row) -> Job:
        return cls(
            id=row["id"],
            owner=row["owner"],
            task=row["task"],
            options=JobOptions(**json.loads(row["options"])),
            filename=row["filename"],
            input_file=row["input_file"],
            state=row["state"],
            stages={name: Stage(**s) for name, s in json.loads(row["stages"]).items()},
            error=json.loads(row["error"]) if row["error"] else None,
            duration_s=row["duration"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            version=row["version"],
        )


class JobStore:
    """The jobs table. Blocking: callers run every method on a worker thread."""

    def __init__(self, path: Path) -> None:
        self._lock = threading.Lock()
        self._db = sqlite3.connect(path, check_same_thread=False, isolation_level=None)
        self._db.row_factory = sqlite3.Row
        self._db.execute("PRAGMA journal_mode=WAL")
        self._db.executescript(SCHEMA)

    def save(self, row: tuple[Any, ...]) -> None:
        """Insert or update a job; a row already at a newer version is kept."""
        with self._lock:
            self._db.execute(UPSERT, row)

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            row = self._db.execute(f"SELECT {COLUMNS} FROM jobs WHERE id = ?", (job_id,)).fetchone()
        return None if row is None else Job.from_row(row)

    def newest(self, owner: str | None, limit: int) -> list[Job]:
        """Newest first; every owner's with `owner=None`."""
        where, args = ("WHERE owner = ?", (owner,)) if owner is not None else ("", ())
        query = f"SELECT {COLUMNS} FROM jobs {where} ORDER BY created_at DESC, rowid DESC LIMIT ?"
        with self._lock:
            rows = self._db.execute(query, (*args, limit)).fetchall()
        return [Job.from_row(r) for r in rows]

    def unfinished(self) -> list[Job]:
        query = f"SELECT {COLUMNS} FROM jobs WHERE state IN ('queued', 'running') ORDER BY created_at, rowid"
        with self._lock:
            return [Job.from_row(r) for r in self._db.execute(query).fetchall()]

    def close(self) -> None:
        with self._lock:
            self._db.close()


def _write_json(path: Path, body: dict[str, Any]) -> None:
    temporary = path.with_suffix(".tmp")
    temporary.write_text(json.dumps(body), encoding="utf-8")
    os.replace(temporary, path)


def _read_json(path: Path) -> dict[str, Any]:
    return json.loads(path.read_text(encoding="utf-8"))


def _move_into(source: Path, target: Path) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    shutil.move(source, target)


class JobService:
    heartbeat_s = 15.0
    """Seconds between the comment lines that keep an idle event stream open."""

    def __init__(self, gateway: AppState) -> None:
        self._gateway = gateway
        self.settings = gateway.settings
        self._files = self.settings.jobs_dir / "files"
        self._store: JobStore
        self._slots = asyncio.Semaphore(self.settings.jobs_concurrency)
        self._live: dict[str, Job] = {}
        """Every job not yet in a final state; the same objects its task updates."""
        self._tasks: dict[str, asyncio.Task[None]] = {}
        self._changed = asyncio.Event()
        self._stopping = False
        self.ended: Counter[str] = Counter()
        """Jobs this process has moved to each final state since it started (the store holds them all)."""

    # --- lifecycle ----------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the database and pick up where the previous process left off."""

        def open_store() -> JobStore:
            self._files.mkdir(parents=True, exist_ok=True)
            return JobStore(self.settings.jobs_dir / "jobs.sqlite3")

        self._store = await asyncio.to_thread(open_store)
        for job in await asyncio.to_thread(self._store.unfinished):
            if job.state == "running":
                await self._end(job, "failed", {"code": "server_restarted", "message": RESTART_REASON})
            elif not self._input(job).is_file():
                message = "the job's uploaded file is gone from JOBS_DIR; submit it again"
                await self._end(job, "failed", {"code": "input_missing", "message": message})
            else:
                self._live[job.id] = job
                self._spawn(job)
        if self._live:
            logger.info("resuming %d queued job(s)", len(self._live))

    async def stop(self) -> None:
        """Stop every job without recording an end: the next start fails the running ones with
        `RESTART_REASON` and runs the queued ones."""
        self._stopping = True
        for task in self._tasks.values():
            task.cancel()
        await asyncio.gather(*self._tasks.values(), return_exceptions=True)
        await asyncio.to_thread(self._store.close)

    # --- the API ------------------------------------------------------------------------------------
    async def submit(self, client: Client, task: JobTask, options: JobOptions, upload: UploadFile) -> dict[str, Any]:
        self._check(task, options)
        temporary = await save_upload(upload, int(self.settings.max_upload_mb * 2**20))
        job = Job(
            id=f"job_{uuid.uuid4().hex}",
            owner=client.name,
            task=task,
            options=options,
            filename=(upload.filename or "audio")[:255],
            input_file=f"input{temporary.suffix}",
            stages={name: Stage() for name in STAGES[task]},
        )
        try:
            await asyncio.to_thread(_move_into, temporary, self._input(job))
            self._live[job.id] = job
            await self._save(job)
        except BaseException:
            self._live.pop(job.id, None)
            temporary.unlink(missing_ok=True)
            shutil.rmtree(self._folder(job), ignore_errors=True)
            raise
        if job.state == "queued":  # not cancelled while it was being saved
            self._spawn(job)
        return job.public()

    async def get(self, job_id: str, client: Client) -> dict[str, Any]:
        return (await self._job(job_id, client)).public()

    async def newest(self, client: Client, limit: int) -> list[dict[str, Any]]:
        jobs = await asyncio.to_thread(self._store.newest, None if client.is_admin else client.name, limit)
        return [self._live.get(job.id, job).public() for job in jobs]

    async def cancel(self, job_id: str, client: Client) -> dict[str, Any]:
        job = await self._job(job_id, client)
        if job.state in ("succeeded", "failed"):
            raise ConflictError(f"job {job.id} has {job.state}; only a queued or running job can be cancelled")
        task = self._tasks.get(job.id)
        if task is None:  # still being submitted (or already cancelled)
            if job.state not in FINAL_STATES:
                await self._end(job, "cancelled")
        else:
            if not task.cancelling():
                task.cancel()
            await asyncio.wait([task])  # the task records the end itself
        return job.public()

    async def result(self, job_id: str, client: Client, response_format: ResultFormat) -> dict[str, Any] | str:
        job = await self._job(job_id, client)
        if response_format not in FORMATS[job.task]:
            raise InvalidRequestError(
                f"response_format '{response_format}' does not fit a '{job.task}' job; use one of: "
                + ", ".join(FORMATS[job.task]),
                param="response_format",
            )
        if job.state != "succeeded":
            reason = f": {job.error['message']}" if job.error else ""
            raise ConflictError(f"job {job.id} is {job.state}{reason}; a result exists once it has succeeded")
        body = await asyncio.to_thread(_read_json, self._folder(job) / "result.json")
        return render(body, response_format, Path(job.filename).stem or job.id)

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
        counts = dict.fromkeys(["queued", "running", *sorted(FINAL_STATES)], 0)
        for job in self._live.values():
            if job.state not in FINAL_STATES:  # an ended job leaves `_live` a moment after `_end`
                counts[job.state] += 1
        for state, count in self.ended.items():
            counts[state] += count
        return counts

    # --- checks and bookkeeping ---------------------------------------------------------------------
    def _check(self, task: JobTask, options: JobOptions) -> None:
        """What can be refused before the upload is stored."""
        registry = self._gateway.registry
        counts = (options.num_speakers, options.min_speakers, options.max_speakers)
        if task != "diarize":
            asr = registry.resolve(options.model, "asr")
            # The model's languages are known once it has loaded.
            check_language(options.language, "language", asr.runtime.server)
            check_language(options.target_language, "target_language", asr.runtime.server)
        if task == "transcribe" and any(c is not None for c in counts):
            raise InvalidRequestError(
                "num_speakers, min_speakers and max_speakers apply to task 'diarize' or 'both'", param="task"
            )
        if task != "transcribe":
            try:
                registry.resolve(DIARIZATION_MODEL, "diarization")
            except ModelNotFoundError:
                raise InvalidRequestError(
                    f"task '{task}' needs the diarization model, which this server does not serve (ENABLED_MODELS)",
                    param="task",
                ) from None
            check_speaker_counts(options.diarize())

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

    async def _end(self, job: Job, state: str, error: dict[str, str] | None = None) -> None:
        job.state, job.error, job.finished_at = state, error, time.time()
        self.ended[state] += 1
        for stage in job.stages.values():
            if stage.state == "running":
                stage.state = "failed" if state == "failed" else "cancelled"
        await self._save(job)

        def discard() -> None:
            self._input(job).unlink(missing_ok=True)
            if state != "succeeded":
                (self._folder(job) / "result.json").unlink(missing_ok=True)

        await asyncio.to_thread(discard)

    # --- running a job ------------------------------------------------------------------------------
    async def _run(self, job: Job) -> None:
        # The run is accounted as its own record (the request log's `job` rows), not the submitting request's.
        record = RequestRecord(job.id, "JOB", f"job:{job.task}", kind="job", client=job.owner, time=job.created_at)
        open_record(record)
        status = 200
        try:
            async with self._slots:
                job.state, job.started_at = "running", time.time()
                record.started = time.perf_counter()
                await self._save(job)
                await self._work(job)
            await self._end(job, "succeeded")
        except asyncio.CancelledError:
            status = 499
            if self._stopping:
                raise
            await self._end(job, "cancelled")
        except JobFailure as exc:
            status = 503
            record.error_code = exc.error["code"]
            await self._end(job, "failed", exc.error)
        except GatewayError as exc:
            status, record.error_code = exc.status_code, exc.code or exc.error_type
            await self._end(job, "failed", {"code": exc.code or exc.error_type, "message": exc.message})
        except Exception:
            logger.exception("job %s failed", job.id)
            status, record.error_code = 500, "internal_error"
            # The exception's text may name server paths: it goes to the log only, as for a request's 500.
            message = f"internal error (job {job.id}); the server log has the details"
            await self._end(job, "failed", {"code": "internal_error", "message": message})
        finally:
            self._tasks.pop(job.id, None)
            if job.state in FINAL_STATES:
                self._live.pop(job.id, None)
                record.close(status)
                self._gateway.records.finished(record)

    @asynccontextmanager
    async def _stage(self, job: Job, name: str) -> AsyncIterator[None]:
        await self._progress(job, name, 0.0, "running")
        try:
            yield
        except asyncio.CancelledError:
            job.stages[name].state = "cancelled"
            raise
        except BaseException:
            job.stages[name].state = "failed"
            raise
        await self._progress(job, name, 1.0, "succeeded")

    async def _progress(self, job: Job, name: str, progress: float, state: str = "running") -> None:
        job.stages[name] = Stage(state, progress)
        await self._save(job)

    async def _work(self, job: Job) -> None:
        async with self._stage(job, "decode"):
            audio = await self._gateway.decoding.decode(self._input(job), wait_unbounded=True)
            job.duration_s = audio.duration_s
        record = current_record()
        if record is not None:
            record.consumed_audio(audio.duration_s, transcribe="asr" in job.stages, diarize="diarization" in job.stages)
        parts: list[Awaitable[Any]] = []
        if "asr" in job.stages:
            parts.append(self._transcribe(job, audio))
        if "diarization" in job.stages:
            parts.append(self._diarize(job, audio))
        outcomes = await together(*parts)
        transcribed = outcomes.pop(0) if "asr" in job.stages else None
        diarization = outcomes.pop(0) if "diarization" in job.stages else None
        async with self._stage(job, "merge"):
            body = result_body(job, audio.duration_s, transcribed, diarization)
            await asyncio.to_thread(_write_json, self._folder(job) / "result.json", body)

    async def _loaded(self, name: str, kind: str) -> BaseModelWrapper:
        """The model, once loaded. A job starts the load itself whatever LAZY_LOAD_MODELS says (no client
        waits on it, and queued jobs resumed at start must not fail before the preload reaches their model),
        and waits as long as the load takes. A model that failed, or is being unloaded, fails the job."""
        return await self._gateway.registry.loaded(name, Role(kind))

    @staticmethod
    def _hold(wrapper: BaseModelWrapper) -> AbstractAsyncContextManager[None]:
        """Hold the model for one piece of work. Between pieces an unload may take it away; no lazy
        reload then: the admin asked for the model to go."""
        if wrapper.state != ModelState.LOADED:
            raise JobFailure(f"model '{wrapper.key}' was unloaded during the job", "model_unloaded")
        return wrapper.use()

    async def _in_turn(self, wrapper: BaseModelWrapper, work: Callable[[], Awaitable[T]]) -> T:
        """`work` while holding the model. A full queue (other requests' work) is waited out, not held."""
        while True:
            async with self._hold(wrapper):
                try:
                    return await work()
                except RateLimitError as exc:
                    retry = float(exc.headers["Retry-After"])
            await asyncio.sleep(retry)

    async def _spoken_language(
        self, wrapper: BaseModelWrapper, audio: DecodedAudio, given: str | None
    ) -> SpokenLanguage:
        """The job's language if given (checked now: the model may not have been loaded at submission),
        else detected (the langid slot is loaded for it like any model a job needs), else the default."""
        languages = self._gateway.languages
        check_language(given, "language", wrapper.runtime.server)
        if given is not None:
            return SpokenLanguage(given)
        identifier = languages.identifier(wrapper)
        if identifier is None:
            return languages.default(wrapper)
        if identifier is not wrapper:
            identifier = await self._loaded(identifier.key, identifier.kind)
        return await self._in_turn(identifier, partial(languages.identify, identifier, audio, wrapper))

    async def _transcribe(self, job: Job, audio: DecodedAudio) -> Transcribed:
        settings = self.settings
        pieces = split_for_model(audio.samples, audio.sample_rate, settings.asr_window_s)
        group = min(settings.asr_batch_size, settings.asr_queue_size)  # a group must fit in the queue
        done: list[Transcript] = []
        async with self._stage(job, "asr"):
            wrapper = await self._loaded(job.options.model, "asr")
            check_language(job.options.target_language, "target_language", wrapper.runtime.server)
            spoken = await self._spoken_language(wrapper, audio, job.options.language)
            options = job.options.transcribe().options(spoken.code)
            batcher = self._gateway.transcription.batcher(wrapper)
            for start in range(0, len(pieces), group):
                chunk = [piece for _, piece in pieces[start : start + group]]
                done += await self._in_turn(wrapper, partial(batcher.submit, chunk, options))
                await self._progress(job, "asr", len(done) / len(pieces))
        transcript = join_pieces([t.shifted(offset) for (offset, _), t in zip(pieces, done, strict=True)])
        return Transcribed(transcript, options, spoken)

    async def _diarize(self, job: Job, audio: DecodedAudio) -> Diarization:
        async with self._stage(job, "diarization"):
            wrapper = await self._loaded(DIARIZATION_MODEL, "diarization")
            diarization = self._gateway.diarization
            return await self._in_turn(wrapper, partial(diarization.diarize, wrapper, audio, job.options.diarize()))


# --- results: stored as JSON, rendered on demand ------------------------------------------------------
def _timed(items: list[TimedText]) -> list[dict[str, Any]]:
    return [{"text": t.text, "start": t.start, "end": t.end} for t in items]


def _turns(turns: list[SpeakerTurn]) -> list[dict[str, Any]]:
    return [{"speaker": t.speaker, "start": t.start, "end": t.end} for t in turns]


def result_body(
    job: Job,
    duration_s: float,
    transcribed: Transcribed | None,
    diarization: Diarization | None,
) -> dict[str, Any]:
    """What `result.json` holds: the transcript with its languages (output, spoken, and whether the spoken
    one was given, detected or the default), the turns and, for `both`, the speaker segments."""
    body: dict[str, Any] = {"task": job.task, "duration": duration_s}
    transcript = None
    if transcribed is not None:
        transcript, options, spoken = transcribed.transcript, transcribed.options, transcribed.spoken
        body["language"] = options.target_lang
        body["source_language"] = spoken.code
        body["source_language_origin"] = spoken.origin
        body["translated"] = options.target_lang != options.source_lang
        body["transcript"] = {
            "text": transcript.text,
            "words": _timed(transcript.words),
            "segments": _timed(transcript.segments),
        }
    if diarization is not None:
        body["diarization"] = {
            "speakers": diarization.speakers,
            "turns": _turns(diarization.turns),
            "exclusive": _turns(diarization.exclusive),
        }
    if transcript is not None and diarization is not None:
        segments = assign_speakers(transcript, diarization.exclusive, duration_s)
        body["speaker_segments"] = [
            {"speaker": s.speaker, "start": s.start, "end": s.end, "text": s.text} for s in segments
        ]
    return body


def render(body: dict[str, Any], response_format: ResultFormat, file_id: str) -> dict[str, Any] | str:
    """A stored result in one of the formats its task allows (`FORMATS`)."""
    duration = body["duration"]
    if "transcript" not in body:  # diarization only: json or rttm
        turns = [SpeakerTurn(**t) for t in body["diarization"]["turns"]]
        if response_format == "rttm":
            return to_rttm(turns, file_id)
        return {
            "segments": [{"speaker": t.speaker, "start": round(t.start, 3), "end": round(t.end, 3)} for t in turns],
            "speakers": body["diarization"]["speakers"],
            "duration": round(duration, 3),
        }
    stored = body["transcript"]
    transcript = Transcript(
        stored["text"], [TimedText(**w) for w in stored["words"]], [TimedText(**s) for s in stored["segments"]]
    )
    speakers = [SpeakerSegment(**s) for s in body["speaker_segments"]] if "speaker_segments" in body else None
    if response_format == "json":  # with the languages used (results stored before they were kept have none)
        return {"text": transcript.text, **{k: body[k] for k in LANGUAGE_FIELDS if k in body}}
    if response_format == "text":
        return transcript.text
    if response_format == "rttm":
        return to_rttm([SpeakerTurn(**t) for t in body["diarization"]["turns"]], file_id)
    if response_format == "diarized_json":
        assert speakers is not None
        return diarized_json(speakers, transcript.text, duration)
    if response_format in ("srt", "vtt"):
        items = labelled_cues(speakers) if speakers is not None else cues(transcript, duration)
        return to_srt(items) if response_format == "srt" else to_vtt(items)
    task = "translate" if body["translated"] else "transcribe"
    verbose = verbose_json(transcript, task=task, language=body["language"], duration_s=duration, words=True)
    verbose["segments"] = verbose_segments(transcript, duration, speakers)
    return verbose
