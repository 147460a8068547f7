"""Who the presented key is: the dashboard shows it and decides which pages to offer."""

from __future__ import annotations

from fastapi import APIRouter

from app.api.dependencies import ClientDep, Credentials, StateDep
from app.api.schemas.auth import Caller
from app.api.schemas.errors import error_responses

router = APIRouter(
    prefix="/api/auth", tags=["auth"], dependencies=Credentials, responses=error_responses(401, 429, 503)
)


@router.get("/me", response_model=Caller)
async def me(client: ClientDep, state: StateDep) -> Caller:
    """Any valid key (anyone in open mode); counts against the client's rate limit like every `/api` route."""
    return Caller(
        name=client.name, role="admin" if client.is_admin else "client", open_mode=not state.authenticator.enabled
    )
