"""The one place a client that left gets its `499`: the routes of the LLM and the speech requests use it."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import TypeVar

from fastapi import Request
from fastapi.responses import Response

from app.infra.tasks import until_disconnected

T = TypeVar("T")
CLIENT_GONE = 499
"""nginx's "client closed request": the status recorded for a request whose client left before the answer."""


async def unless_gone(request: Request, work: Awaitable[T], respond: Callable[[T], Response]) -> Response:
    """`respond(await work)`, or `499` (and `work` cancelled) when the client disconnects first."""
    result = await until_disconnected(request, work)
    return Response(status_code=CLIENT_GONE) if result is None else respond(result)
