"""Operator routes: status, model lifecycle, Hugging Face token. All need an admin key."""

from __future__ import annotations

import asyncio
from typing import Any

from fastapi import APIRouter, Depends
from fastapi.responses import JSONResponse

from app.dependencies import Credentials, StateDep, require_admin
from app.schemas.admin import LoadRequest, TokenRequest, UnloadRequest
from app.schemas.errors import error_responses
from app.services.dependency_inspector import inspect_dependencies

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin), *Credentials],
    responses=error_responses(401, 403),
)


def _accepted(action: str, status: dict[str, Any]) -> JSONResponse:
    return JSONResponse({"action": action, "model": status}, status_code=202)


@router.get("/status")
async def status(state: StateDep) -> dict[str, Any]:
    if "dependencies" not in state.cache:
        state.cache["dependencies"] = await asyncio.to_thread(inspect_dependencies)
    settings = state.settings
    return {
        **state.gpu_monitor.snapshot(),
        "models": state.registry.status(),
        "batching": state.transcription.stats(),
        "language_identification": state.languages.stats(),
        "decoding": state.decoding.stats(),
        "diarization_queues": state.diarization.stats(),
        "dependencies": state.cache["dependencies"],
        "huggingface_token": state.token_store.describe(),
        "settings": {
            "lazy_load_models": settings.lazy_load_models,
            "auth_enabled": state.authenticator.enabled,
            "rate_limit_rpm": settings.rate_limit_rpm,
            "model_cache_dir": str(settings.model_cache_dir),
        },
    }


@router.get("/models/{key}", responses=error_responses(404))
async def model_status(key: str, state: StateDep) -> dict[str, Any]:
    return state.registry.get(key).status()


@router.post("/models/{key}/download", status_code=202, responses=error_responses(404))
async def download(key: str, state: StateDep) -> JSONResponse:
    return _accepted("download", state.registry.start_download(key).status())


@router.post("/models/{key}/load", status_code=202, responses=error_responses(400, 404, 413))
async def load(key: str, state: StateDep, body: LoadRequest | None = None) -> JSONResponse:
    device_ids = body.gpu_device_ids if body else None
    return _accepted("load", state.registry.start_load(key, device_ids).status())


@router.post("/models/{key}/unload", status_code=202, responses=error_responses(400, 404, 409, 413))
async def unload(key: str, state: StateDep, body: UnloadRequest | None = None) -> JSONResponse:
    wait = body.wait if body else True
    return _accepted("unload", state.registry.start_unload(key, wait).status())


@router.get("/huggingface/token")
async def get_token(state: StateDep) -> dict[str, Any]:
    return state.token_store.describe()


@router.post("/huggingface/token", responses=error_responses(400, 413))
async def set_token(body: TokenRequest, state: StateDep) -> dict[str, Any]:
    await asyncio.to_thread(state.token_store.set, body.token)
    return state.token_store.describe()
