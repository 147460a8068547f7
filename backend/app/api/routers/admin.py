"""Operator routes: status, model lifecycle, Hugging Face token, GPU history, logs. All need an admin key."""

from __future__ import annotations

import asyncio
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query

from app.api.dependencies import Credentials, StateDep, require_admin
from app.api.schemas.admin import (
    AdminStatus,
    LoadRequest,
    LogPage,
    ModelAction,
    ModelStatus,
    MonitorHistory,
    ReplicaRequest,
    TokenRequest,
    TokenStatus,
    UnloadRequest,
)
from app.api.schemas.errors import error_responses
from app.infra import gpu_monitor
from app.infra.dependency_inspector import inspect_dependencies
from app.infra.gpu_monitor import HistoryRange
from app.infra.log_buffer import LogLevel
from app.infra.shared_limits import describe_limits
from app.services.slot_bindings import status_sections

router = APIRouter(
    prefix="/api/admin",
    tags=["admin"],
    dependencies=[Depends(require_admin), *Credentials],
    responses=error_responses(401, 403),
)


def _accepted(action: str, status: dict[str, Any]) -> dict[str, Any]:
    return {"action": action, "model": status}


@router.get("/status", response_model=AdminStatus)
async def status(state: StateDep) -> dict[str, Any]:
    """Everything the dashboard polls. Cheap: the GPU sample is the monitor's latest, the dependency report
    is made once, and nothing walks the model cache."""
    if "dependencies" not in state.cache:
        state.cache["dependencies"] = await asyncio.to_thread(inspect_dependencies)
    settings = state.settings
    if state.redis is not None:
        await state.redis.check()
    snapshot = state.gpu_monitor.snapshot()
    return {
        **snapshot,
        "models": state.registry.status(),
        "gpu_budget": state.registry.gpu_budget(snapshot["gpus"]),
        **status_sections(state.services),  # batching, language_identification, diarization_queues
        "decoding": state.decoding.stats(),
        "dependencies": state.cache["dependencies"],
        "huggingface_token": state.token_store.describe(),
        "settings": {
            "lazy_load_models": settings.lazy_load_models,
            "auth_enabled": state.authenticator.enabled,
            "rate_limit_rpm": settings.rate_limit_rpm,
            "model_cache_dir": str(settings.model_cache_dir),
        },
        "limits": describe_limits(state.redis, state.usage.shared),
    }


@router.get("/monitor/history", response_model=MonitorHistory, responses=error_responses(400))
async def monitor_history(
    state: StateDep, span: Annotated[HistoryRange, Query(alias="range")] = "1h"
) -> gpu_monitor.MonitorHistory:
    """GPU and system samples of the last hour (5 s steps), 6 hours (1 min averages) or 24 hours (4 min)."""
    return state.gpu_monitor.history(span)


@router.get("/logs", response_model=LogPage, responses=error_responses(400))
async def logs(
    state: StateDep,
    after: Annotated[int | None, Query(ge=0, description="Only lines after this id (follow with `last_id`)")] = None,
    level: Annotated[LogLevel | None, Query(description="This level and above")] = None,
    q: Annotated[str | None, Query(max_length=200, description="Lines containing this (case-insensitive)")] = None,
    limit: Annotated[int, Query(ge=1, le=1000)] = 200,
) -> dict[str, Any]:
    """The gateway's recent log lines, oldest first: the newest `limit` ones, or with `after` the first
    `limit` ones after that id."""
    return state.logs.read(after, level, q, limit).public()


@router.get("/models/{key}", response_model=ModelStatus, responses=error_responses(404))
async def model_status(key: str, state: StateDep) -> dict[str, Any]:
    return state.registry.get(key).status()


@router.post("/models/{key}/download", status_code=202, response_model=ModelAction, responses=error_responses(404))
async def download(key: str, state: StateDep) -> dict[str, Any]:
    return _accepted("download", state.registry.start_download(key).status())


@router.post(
    "/models/{key}/load", status_code=202, response_model=ModelAction, responses=error_responses(400, 404, 413)
)
async def load(key: str, state: StateDep, body: LoadRequest | None = None) -> dict[str, Any]:
    device_ids = body.gpu_device_ids if body else None
    return _accepted("load", state.registry.start_load(key, device_ids).status())


@router.post(
    "/models/{key}/unload",
    status_code=202,
    response_model=ModelAction,
    responses=error_responses(400, 404, 409, 413),
)
async def unload(key: str, state: StateDep, body: UnloadRequest | None = None) -> dict[str, Any]:
    wait = body.wait if body else True
    return _accepted("unload", state.registry.start_unload(key, wait).status())


@router.post("/models/{key}/replicas/drain", response_model=ModelStatus, responses=error_responses(400, 404, 413))
async def drain_replica(key: str, body: ReplicaRequest, state: StateDep) -> dict[str, Any]:
    """Send one replica of an upstream slot (`engine: upstream`) no new requests; those in flight end normally.
    The replica stays out until `undrain`, whatever its health checks say."""
    return state.registry.drain_replica(key, body.url, True).status()


@router.post("/models/{key}/replicas/undrain", response_model=ModelStatus, responses=error_responses(400, 404, 413))
async def undrain_replica(key: str, body: ReplicaRequest, state: StateDep) -> dict[str, Any]:
    """Put a drained replica of an upstream slot back in the rotation (once its health checks pass)."""
    return state.registry.drain_replica(key, body.url, False).status()


@router.get("/huggingface/token", response_model=TokenStatus)
async def get_token(state: StateDep) -> dict[str, Any]:
    return state.token_store.describe()


@router.post("/huggingface/token", response_model=TokenStatus, responses=error_responses(400, 413))
async def set_token(body: TokenRequest, state: StateDep) -> dict[str, Any]:
    await asyncio.to_thread(state.token_store.set, body.token)
    return state.token_store.describe()
