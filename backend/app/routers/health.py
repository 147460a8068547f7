"""Liveness and readiness, open to load balancers (no key)."""

from __future__ import annotations

from typing import Any

from fastapi import APIRouter
from fastapi.responses import JSONResponse

from app import __version__
from app.dependencies import StateDep
from app.models.base import ModelState

router = APIRouter(tags=["health"])


@router.get("/health")
async def health() -> dict[str, Any]:
    return {"status": "ok", "version": __version__}


@router.get("/health/ready")
async def ready(state: StateDep) -> JSONResponse:
    """Ready when every model that must be resident is loaded: all of them without lazy loading."""
    models = {w.key: w.state.value for w in state.registry.wrappers()}
    required = [] if state.settings.lazy_load_models else list(models)
    failed = [k for k, s in models.items() if s == ModelState.ERROR.value]
    waiting = [k for k in required if models[k] != ModelState.LOADED.value]
    ok = not failed and not waiting
    body = {"status": "ready" if ok else "not_ready", "models": models, "waiting_for": waiting, "failed": failed}
    return JSONResponse(body, status_code=200 if ok else 503)
