"""Usage and the request log: every client's for admins, its own for a client key."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from app.api.dependencies import ClientDep, Credentials, StateDep, require_admin
from app.api.schemas.errors import error_responses
from app.api.schemas.usage import ClientUsage, QuotaList, RequestLogPage, UsageReport
from app.services.usage import UsageGranularity

Start = Annotated[
    datetime | None,
    Query(description="ISO 8601 or Unix time; default: 7 days before `end` (by day), 24 hours (by hour)"),
]
End = Annotated[datetime | None, Query(description="ISO 8601 or Unix time, excluded; default: now")]
Granularity = Annotated[UsageGranularity, Query()]
Name = Annotated[str | None, Query(max_length=200)]

admin_router = APIRouter(
    prefix="/api/admin",
    tags=["usage"],
    dependencies=[Depends(require_admin), *Credentials],
    responses=error_responses(401, 403),
)
client_router = APIRouter(
    prefix="/api", tags=["usage"], dependencies=Credentials, responses=error_responses(401, 429, 503)
)


@admin_router.get("/usage", response_model=UsageReport, responses=error_responses(400))
async def usage(
    state: StateDep,
    start: Start = None,
    end: End = None,
    granularity: Granularity = "day",
    client: Name = None,
    model: Name = None,
) -> dict[str, Any]:
    """Totals per client and model by hour or UTC day (at most 31 days by hour, 400 days by day)."""
    return await state.usage.report(start, end, granularity, client, model)


@admin_router.get("/requests", response_model=RequestLogPage, responses=error_responses(400))
async def requests(
    state: StateDep,
    client: Name = None,
    model: Name = None,
    route: Annotated[str | None, Query(max_length=200, description="A route template, or `job:<task>`")] = None,
    status: Annotated[
        str | None, Query(pattern=r"^[1-5]([0-9]{2}|xx)$", description="A status (`429`) or a class (`4xx`)")
    ] = None,
    limit: Annotated[int, Query(ge=1, le=500)] = 50,
    offset: Annotated[int, Query(ge=0, le=1_000_000)] = 0,
) -> dict[str, Any]:
    """The request log, newest first."""
    return await state.usage.requests(client, model, route, status, limit, offset)


@admin_router.get("/quotas", response_model=QuotaList)
async def quotas(state: StateDep) -> dict[str, Any]:
    """Each client's quotas and today's use of them."""
    return await state.usage.quotas()


@client_router.get("/usage", response_model=ClientUsage, responses=error_responses(400))
async def own_usage(
    state: StateDep, caller: ClientDep, start: Start = None, end: End = None, granularity: Granularity = "day"
) -> dict[str, Any]:
    """The caller's own usage (per model) and quota; any key."""
    return {
        "usage": await state.usage.report(start, end, granularity, caller.name, None),
        "quota": await state.usage.quota(caller.name),
    }
