"""`GET /metrics`: Prometheus's text format, for a scraper holding an admin key."""

from __future__ import annotations

import asyncio

from fastapi import APIRouter, Depends
from fastapi.responses import Response

from app.api.dependencies import Credentials, StateDep, require_admin
from app.api.schemas.errors import error_responses
from app.services.metrics import CONTENT_TYPE

router = APIRouter(tags=["metrics"], dependencies=[Depends(require_admin), *Credentials])


@router.get(
    "/metrics",
    response_class=Response,
    responses={
        200: {
            "description": "The metrics in Prometheus's text exposition format (version 0.0.4)",
            "content": {"text/plain": {"schema": {"type": "string"}}},
        },
        **error_responses(401, 403),
    },
)
async def metrics(state: StateDep) -> Response:
    """Requests, latencies, LLM tokens and timings, audio seconds, queues, jobs, model slots and GPUs.
    Needs an admin key (`Authorization: Bearer <admin key>`), like the admin routes."""
    families = state.metrics.snapshot()  # the services' state, read where it lives: on the event loop
    body = await asyncio.to_thread(state.metrics.render, families)
    return Response(body, media_type=CONTENT_TYPE)
