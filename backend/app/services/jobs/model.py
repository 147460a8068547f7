"""What a job is: its states, its stages, its options, and the row it is stored as."""

from __future__ import annotations

import json
import sqlite3
import time
from dataclasses import asdict, dataclass, field
from enum import StrEnum
from typing import Any, Literal, get_args

from app.models.types import DiarizeOptions
from app.services.speech import SpeechTask
from app.services.transcripts import TranscribeRequest

JobTask = Literal["transcribe", "diarize", "both"]
ResultFormat = Literal["json", "text", "srt", "vtt", "verbose_json", "diarized_json", "rttm"]


class JobState(StrEnum):
    QUEUED = "queued"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"

    @property
    def final(self) -> bool:
        return self in FINAL_STATES


class StageState(StrEnum):
    PENDING = "pending"
    RUNNING = "running"
    SUCCEEDED = "succeeded"
    FAILED = "failed"
    CANCELLED = "cancelled"


FINAL_STATES = frozenset({JobState.SUCCEEDED, JobState.FAILED, JobState.CANCELLED})
LIVE_STATES = frozenset({JobState.QUEUED, JobState.RUNNING})
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

    def speech_task(self, task: JobTask) -> SpeechTask:
        transcribe = task != "diarize"
        return SpeechTask(
            self.model if transcribe else None,
            self.transcribe() if transcribe else None,
            self.diarize() if task != "transcribe" else None,
        )


@dataclass(slots=True)
class Stage:
    state: StageState = StageState.PENDING
    progress: float = 0.0


@dataclass(slots=True)
class Job:
    id: str
    owner: str
    task: JobTask
    options: JobOptions
    filename: str
    input_file: str
    state: JobState = JobState.QUEUED
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
            "state": self.state.value,
            "options": asdict(self.options),
            "filename": self.filename,
            "duration": None if self.duration_s is None else round(self.duration_s, 3),
            "progress": {
                name: {"state": s.state.value, "progress": round(s.progress, 4)} for name, s in self.stages.items()
            },
            "error": self.error,
            "created_at": seconds(self.created_at),
            "started_at": seconds(self.started_at),
            "finished_at": seconds(self.finished_at),
        }

    def row(self) -> tuple[Any, ...]:
        stages = {name: {"state": s.state.value, "progress": s.progress} for name, s in self.stages.items()}
        return (
            self.id, self.owner, self.task, json.dumps(asdict(self.options)), self.filename, self.input_file,
            self.state.value, json.dumps(stages), json.dumps(self.error) if self.error else None, self.duration_s,
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
            state=JobState(row["state"]),
            stages={
                name: Stage(StageState(s["state"]), s["progress"]) for name, s in json.loads(row["stages"]).items()
            },
            error=json.loads(row["error"]) if row["error"] else None,
            duration_s=row["duration"],
            created_at=row["created_at"],
            started_at=row["started_at"],
            finished_at=row["finished_at"],
            version=row["version"],
        )
