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


class ReadinessLimits(BaseModel):
    backend: Literal["memory", "redis"] = Field(description="Where rate limits and quota counters are kept")
    reachable: bool = Field(
        description="Whether Redis answers; while it does not, REDIS_FAILURE_MODE=closed makes the gateway not ready"
    )


class Readiness(BaseModel):
    status: Literal["ready", "not_ready"]
    models: dict[str, str] = Field(description="Each slot's state")
    waiting_for: list[str] = Field(description="Slots that must be loaded and are not yet")
    failed: list[str] = Field(description="Slots in error")
    limits: ReadinessLimits


@router.get(
    "/health/ready",
    response_model=Readiness,
    responses={
        503: {
            "model": Readiness,
            "description": "Not ready: a slot is in error or still loading, or the shared limits' Redis is "
            "unreachable with REDIS_FAILURE_MODE=closed",
        }
    },
)
async def ready(state: StateDep) -> JSONResponse:
    """Ready when every model that must be resident is loaded: all of them without lazy loading; and,
    with REDIS_URL and REDIS_FAILURE_MODE=closed, when Redis answers (the gateway refuses limited
    requests otherwise)."""
    models = {w.key: w.state.value for w in state.registry.wrappers()}
    required = [] if state.settings.lazy_load_models else list(models)
    failed = [k for k, s in models.items() if s == ModelState.ERROR.value]
    waiting = [k for k in required if models[k] != ModelState.LOADED.value]
    redis = state.redis
    reachable = redis is None or await redis.check()
    limits = {"backend": "memory" if redis is None else "redis", "reachable": reachable}
    ok = not failed and not waiting and (reachable or redis is None or redis.failure_mode == "open")
    body = {
        "status": "ready" if ok else "not_ready",
        "models": models,
        "waiting_for": waiting,
        "failed": failed,
        "limits": limits,
    }
    return JSONResponse(body, status_code=200 if ok else 503)
