"""Long audio as background jobs: submit, follow (poll or server-sent events), cancel, fetch the result,
delete.

A job is visible to the client that submitted it, and to admin keys; anyone else gets 404.
"""

from __future__ import annotations

import json
from collections.abc import AsyncIterator
from typing import Annotated, Any

from fastapi import APIRouter, Depends, File, Form, Query, Response, UploadFile
from fastapi.responses import JSONResponse
from fastapi.sse import EventSourceResponse, ServerSentEvent

from app.api.dependencies import ClientDep, Credentials, StateDep
from app.api.schemas.errors import error_responses
from app.api.schemas.jobs import Job, JobList
from app.api.speech import response_of, saved_upload
from app.services.jobs import JobOptions, JobTask, ResultFormat
from app.services.speakers import MAX_SPEAKERS

router = APIRouter(
    prefix="/api/jobs", tags=["jobs"], dependencies=Credentials, responses=error_responses(401, 429, 503)
)

Speakers = Annotated[int | None, Form(ge=1, le=MAX_SPEAKERS)]


EVENTS_CONTENT: dict[int | str, dict[str, Any]] = {
    200: {
        "description": "Server-sent events: `data: <job>` (the `Job` schema) on every change",
        "content": {"text/event-stream": {"schema": {"type": "string"}}},
    }
}
RESULT_CONTENT: dict[int | str, dict[str, Any]] = {
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
    """Store the upload and queue the job; answers at once with `202` and the job. `429 too_many_jobs` when
    `JOBS_MAX_QUEUED` jobs are queued or running."""
    options = JobOptions(model, language or None, target_language or None, num_speakers, min_speakers, max_speakers)
    state.jobs.admit(task, options)  # refused before the upload is stored
    async with saved_upload(file, state.decoding.max_upload_bytes) as upload:
        job = await state.jobs.submit(client, task, options, upload, file.filename)
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


async def job_updates(job_id: str, state: StateDep, client: ClientDep) -> AsyncIterator[dict[str, Any] | None]:
    """The job's updates; a `404` here, before the stream starts."""
    return await state.jobs.watch(job_id, client)


@router.get(
    "/{job_id}/events",
    response_class=EventSourceResponse,
    responses={**EVENTS_CONTENT, **error_responses(401, 404, 429, explicit=True)},
)
async def job_events(
    updates: Annotated[AsyncIterator[dict[str, Any] | None], Depends(job_updates)],
) -> AsyncIterator[ServerSentEvent]:
    """Server-sent events: `data: <job>` on every change, a comment line while nothing changes; the
    stream ends after a final state."""
    async for job in updates:
        yield ServerSentEvent(comment="keep-alive") if job is None else ServerSentEvent(raw_data=json.dumps(job))


@router.post("/{job_id}/cancel", response_model=Job, responses=error_responses(404, 409))
async def cancel_job(job_id: str, state: StateDep, client: ClientDep) -> dict[str, Any]:
    """Cancel a queued or running job; the answer is the job in its final state (`cancelled`). `409` once
    it has succeeded or failed."""
    return await state.jobs.cancel(job_id, client)


@router.delete(
    "/{job_id}",
    response_model=None,
    responses={
        200: {"model": Job, "description": "The job was queued or running: it is cancelled (as `POST .../cancel`)"},
        204: {"description": "The job had finished: it is removed with its upload and result"},
        **error_responses(404, 409),
    },
)
async def delete_job(job_id: str, state: StateDep, client: ClientDep) -> Response:
    """Delete a job: a finished one (succeeded, failed or cancelled) is removed with its upload and result
    (`204`); a queued or running one is cancelled (`200`, the job in its final state), as before deletion
    existed, so a second `DELETE` removes it."""
    cancelled = await state.jobs.delete(job_id, client)
    return Response(status_code=204) if cancelled is None else JSONResponse(cancelled)


@router.get("/{job_id}/result", response_model=None, responses={**RESULT_CONTENT, **error_responses(400, 404, 409)})
async def job_result(
    job_id: str, state: StateDep, client: ClientDep, response_format: ResultFormat = "json"
) -> Response:
    """The result once the job has succeeded (409 before), in a format that fits its task."""
    return response_of(await state.jobs.result(job_id, client, response_format))
