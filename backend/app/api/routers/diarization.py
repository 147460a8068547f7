"""Speaker diarization: who spoke when."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Literal

from fastapi import APIRouter, Depends, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from app.api.dependencies import Credentials, StateDep, require_client
from app.api.schemas.audio import Diarization
from app.api.schemas.errors import error_responses
from app.models.types import DiarizeOptions
from app.services import speech_requests
from app.services.speakers import MAX_SPEAKERS, to_rttm

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
    options = DiarizeOptions(num_speakers, min_speakers, max_speakers)
    result = await speech_requests.run(request, state, file, None, None, options)
    if result is None:
        return Response(status_code=499)
    assert result.diarization is not None
    turns = result.diarization.exclusive if exclusive else result.diarization.turns
    if response_format == "rttm":
        return PlainTextResponse(to_rttm(turns, Path(file.filename or "audio").stem))
    return JSONResponse(
        {
            "segments": [{"speaker": t.speaker, "start": round(t.start, 3), "end": round(t.end, 3)} for t in turns],
            "speakers": result.diarization.speakers,
            "duration": round(result.audio.duration_s, 3),
        }
    )
