"""Bodies of the jobs routes."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.api.schemas.common import ResponseBody
from app.services.jobs import JobTask

StageState = Literal["pending", "running", "succeeded", "failed", "cancelled"]


class JobStage(ResponseBody):
    state: StageState
    progress: float = Field(description="0-1")


class JobOptions(ResponseBody):
    model: str
    language: str | None
    target_language: str | None
    num_speakers: int | None
    min_speakers: int | None
    max_speakers: int | None


class JobError(ResponseBody):
    code: str = Field(description="`unsupported_media_type`, `model_error`, `model_unloaded`, `server_restarted`, ...")
    message: str


class Job(ResponseBody):
    id: str
    object: Literal["audio.job"]
    owner: str = Field(description="The name of the key that submitted it")
    task: JobTask
    state: Literal["queued", "running", "succeeded", "failed", "cancelled"]
    options: JobOptions
    filename: str
    duration: float | None = Field(description="Seconds of audio, once decoded")
    progress: dict[str, JobStage] = Field(
        description="Per stage, in order: `decode`, then `asr` and/or `diarization`, then `merge`"
    )
    error: JobError | None
    created_at: int
    started_at: int | None
    finished_at: int | None


class JobList(ResponseBody):
    object: Literal["list"]
    data: list[Job] = Field(description="Newest first")
