"""The error envelope as a schema, for the API documents: every 4xx/5xx body has this shape."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel, Field


class ErrorDetail(BaseModel):
    message: str = Field(description="What went wrong, for a person to read.")
    type: str = Field(description="`invalid_request_error`, `authentication_error`, `rate_limit_error`, ...")
    param: str | None = Field(description="The request parameter at fault (`messages.0.content`, `file`), if any.")
    code: str | None = Field(description="A stable code for programs (`model_not_found`, `queue_full`, ...).")


class ErrorResponse(BaseModel):
    """OpenAI's error envelope."""

    error: ErrorDetail


STATUS_DESCRIPTIONS = {
    400: "Invalid request: a parameter is missing, malformed or not supported (`param` names it).",
    401: "No API key, or an unknown one.",
    403: "A client key on an admin route.",
    404: "No such model, job or model slot.",
    409: "The action conflicts with the current state (a busy model, a job not finished).",
    413: "The body or the audio is over a limit (MAX_JSON_BODY_MB, MAX_UPLOAD_MB, MAX_AUDIO_SECONDS).",
    415: "The upload is not audio the server can decode.",
    429: "Over the rate limit, or a queue is full; `Retry-After` says when to retry.",
    503: "The model cannot serve now (loading, unloading, failed), or the limits store is unreachable "
    "(REDIS_FAILURE_MODE=closed); `Retry-After` when it is loading or for the limits store.",
}


def error_responses(*statuses: int, explicit: bool = False) -> dict[int | str, dict[str, Any]]:
    """`responses=` for a route or router: these statuses, each with the envelope's schema. `explicit`:
    declared as `application/json` whatever the route's own media type (a stream's errors are JSON)."""
    if explicit:
        schema = {"$ref": "#/components/schemas/ErrorResponse"}
        return {
            status: {"description": STATUS_DESCRIPTIONS[status], "content": {"application/json": {"schema": schema}}}
            for status in statuses
        }
    return {status: {"model": ErrorResponse, "description": STATUS_DESCRIPTIONS[status]} for status in statuses}
