"""The HTTP edge of the speech pipeline: an upload becomes the pipeline's input (a temporary audio file),
a rendered result becomes a response, and a client that left gets its `499` (`api/client_gone.py`)."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from fastapi import Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response

from app.api.client_gone import unless_gone
from app.api.dependencies import AppState
from app.infra.audio_io import save_upload
from app.services.speech import SpeechResult, SpeechTask
from app.services.speech_formats import Rendered


@asynccontextmanager
async def saved_upload(upload: UploadFile, max_bytes: int) -> AsyncIterator[Path]:
    """The upload as a temporary file that never outlives the block (`413` above `max_bytes`, `400` empty)."""
    path = await save_upload(upload, max_bytes)
    try:
        yield path
    finally:
        path.unlink(missing_ok=True)


def response_of(body: Rendered) -> Response:
    """A JSON object as JSON, text as `text/plain`."""
    return PlainTextResponse(body) if isinstance(body, str) else JSONResponse(body)


async def run_speech(
    request: Request, state: AppState, upload: UploadFile, task: SpeechTask, respond: Callable[[SpeechResult], Response]
) -> Response:
    """Run the speech pipeline on one upload for a synchronous request."""

    async def work() -> SpeechResult:
        async with saved_upload(upload, state.decoding.max_upload_bytes) as path:
            return await state.speech.run(path, task)

    return await unless_gone(request, work(), respond)
