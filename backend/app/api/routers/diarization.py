"""Speaker diarization: who spoke when."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import Response

from app.api.dependencies import Credentials, StateDep, require_client
from app.api.schemas.audio import Diarization
from app.api.schemas.errors import error_responses
from app.api.speech import response_of, run_speech
from app.models.types import DiarizeOptions
from app.services.speakers import MAX_SPEAKERS
from app.services.speech import SpeechTask
from app.services.speech_formats import RenderOptions, render

router = APIRouter(
    tags=["diarization"],
    dependencies=[Depends(require_client), *Credentials],
    responses=error_responses(400, 401, 404, 413, 415, 429, 503),
)

Speakers = Annotated[int | None, Form(ge=1, le=MAX_SPEAKERS)]


@router.post(
    "/api/diarization/process",
    response_model=Diarization,
    responses={200: {"content": {"text/plain": {"schema": {"type": "string"}}}, "description": "JSON, or RTTM"}},
)
async def process(
    request: Request,
    state: StateDep,
    file: Annotated[UploadFile, File()],
    num_speakers: Speakers = None,
    min_speakers: Speakers = None,
    max_speakers: Speakers = None,
    exclusive: Annotated[bool, Form(description="Non-overlapping turns (one speaker at a time)")] = False,
    response_format: Annotated[Literal["json", "rttm"], Form()] = "json",
) -> Response:
    """Who spoke when: JSON (the model documents it; built here, not validated again), or RTTM as text."""
    task = SpeechTask(diarize=DiarizeOptions(num_speakers, min_speakers, max_speakers))
    options = RenderOptions(exclusive=exclusive, file_id=Path(file.filename or "audio").stem)
    return await run_speech(
        request, state, file, task, lambda result: response_of(render(result, response_format, options))
    )
