"""Liveness and readiness, open to load balancers (no key)."""

from __future__ import annotations

from typing import Any, Literal

from fastapi import APIRouter
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field

from app import __version__
from app.api.dependencies import StateDep
from app.models.base import ModelState

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"]
    version: str


@router.get("/health", response_model=Health)
async def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    models: dict[str, str] = Field(description="Each slot's state")
    waiting_for: list[str] = Field(description="Slots that must be loaded and are not yet")
    failed: list[str] = Field(description="Slots in error")


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses={503: {"model": Readiness, "description": "Not ready: a slot is in error or still loading"}},
)
async def ready(state: StateDep) -> JSONResponse:
    """Ready when every model that must be resident is loaded: all of them without lazy loading."""
    models = {w.key: w.state.value for w in state.registry.wrappers()}
    required = [] if state.settings.lazy_load_models else list(models)
    failed = [k for k, s in models.items() if s == ModelState.ERROR.value]
    waiting = [k for k in required if models[k] != ModelState.LOADED.value]
    ok = not failed and not waiting
    body = {"status": "ready" if ok else "not_ready", "models": models, "waiting_for": waiting, "failed": failed}
    return JSONResponse(body, status_code=200 if ok else 503)
