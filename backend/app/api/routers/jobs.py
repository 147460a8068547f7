"""Long audio as background jobs: submit, follow (poll or server-sent events), cancel, fetch the result.

A job is visible to the client that submitted it, and to admin keys; anyone else gets 404.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, File, Form, Query, Response, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, StreamingResponse

from app.api.dependencies import ClientDep, Credentials, StateDep
from app.api.schemas.errors import error_responses
from app.api.schemas.jobs import Job, JobList
from app.services.jobs import JobOptions, JobTask, ResultFormat
from app.services.speakers import MAX_SPEAKERS

router = APIRouter(prefix="/api/jobs", tags=["jobs"], dependencies=Credentials, responses=error_responses(401, 429))

Speakers = Annotated[int | None, Form(ge=1, le=MAX_SPEAKERS)]


EVENTS_CONTENT = {
    200: {
        "description": "Server-sent events: `data: <job>` (the `Job` schema) on every change",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}
RESULT_CONTENT = {
    200: {
        "description": "The result: a JSON object for `json`, `verbose_json`, `diarized_json`; text otherwise",
        "content": {"application/json": {"schema": {"type": "object"}}, "text/plain": {"schema": {"type": "string"}}},
    }
}


@router.post("", status_code=202, response_model=Job, responses=error_responses(400, 404, 413))
async def submit(
    state: StateDep,
    client: ClientDep,
    response: Response,
    file: Annotated[UploadFile, File(description="The audio file (wav, flac, mp3, ogg, m4a, webm, ...)")],
    task: Annotated[JobTask, Form()],
    model: Annotated[str, Form(description="ASR model (transcribe, both)")] = "canary",
    language: Annotated[
        str | None, Form(description="Spoken language, ISO 639-1 (default: detected, or ASR_DEFAULT_LANGUAGE)")
    ] = None,
    target_language: Annotated[str | None, Form(description="Translate into this language")] = None,
    num_speakers: Speakers = None,
    min_speakers: Speakers = None,
    max_speakers: Speakers = None,
) -> dict[str, Any]:
    """Store the upload and queue the job; answers at once with `202` and the job."""
    options = JobOptions(model, language or None, target_language or None, num_speakers, min_speakers, max_speakers)
    job = await state.jobs.submit(client, task, options, file)
    response.headers["Location"] = f"/api/jobs/{job['id']}"
    return job


@router.get("", response_model=JobList, responses=error_responses(400))
async def list_jobs(
    state: StateDep, client: ClientDep, limit: Annotated[int, Query(ge=1, le=1000)] = 100
) -> dict[str, Any]:
    """The caller's jobs, newest first (every client's for an admin key)."""
    return {"object": "list", "data": await state.jobs.newest(client, limit)}


@router.get("/{job_id}", response_model=Job, responses=error_responses(404))
async def get_job(job_id: str, state: StateDep, client: ClientDep) -> dict[str, Any]:
    return await state.jobs.get(job_id, client)


@router.get("/{job_id}/events", response_model=None, responses={**EVENTS_CONTENT, **error_responses(404)})
async def job_events(job_id: str, state: StateDep, client: ClientDep) -> StreamingResponse:
    """Server-sent events: `data: <job>` on every change, a comment line while nothing changes; the
    stream ends after a final state."""
    updates = await state.jobs.watch(job_id, client)

    async def stream() -> AsyncIterator[str]:
        async for job in updates:
            yield ": keep-alive\n\n" if job is None else f"data: {json.dumps(job)}\n\n"

    headers = {"Cache-Control": "no-cache", "X-Accel-Buffering": "no"}
    return StreamingResponse(stream(), media_type="text/event-stream", headers=headers)


@router.delete("/{job_id}", response_model=Job, responses=error_responses(404, 409))
async def cancel_job(job_id: str, state: StateDep, client: ClientDep) -> dict[str, Any]:
    """Cancel a queued or running job; the answer is the job in its final state (`cancelled`)."""
    return await state.jobs.cancel(job_id, client)


@router.get("/{job_id}/result", response_model=None, responses={**RESULT_CONTENT, **error_responses(400, 404, 409)})
async def job_result(
    job_id: str, state: StateDep, client: ClientDep, response_format: ResultFormat = "json"
) -> Response:
    """The result once the job has succeeded (409 before), in a format that fits its task."""
    body = await state.jobs.result(job_id, client, response_format)
    return PlainTextResponse(body) if isinstance(body, str) else JSONResponse(body)
