"""OpenAI-compatible routes: /v1/models, /v1/chat/completions, /v1/completions."""

from __future__ import annotations

from fastapi import APIRouter, Depends, Request
from starlette.responses import Response

from app.dependencies import StateDep, require_client
from app.schemas.openai import ChatCompletionRequest, CompletionRequest
from app.services import openai_service

router = APIRouter(prefix="/v1", tags=["openai"], dependencies=[Depends(require_client)])


@router.get("/models")
async def list_models(state: StateDep) -> dict:
    data = []
    for wrapper in state.registry.wrappers():
        for name in wrapper.served_names[:1]:
            data.append(
                {
                    "id": name,
                    "object": "model",
                    "created": 0,
                    "owned_by": "inference-gateway",
                    "root": wrapper.model_id,
                    "parent": None,
                }
            )
    return {"object": "list", "data": data}


@router.post("/chat/completions", response_model=None)
async def chat_completions(body: ChatCompletionRequest, request: Request, state: StateDep) -> Response:
    return await openai_service.respond(body, request, state.registry, state.settings)


@router.post("/completions", response_model=None)
async def completions(body: CompletionRequest, request: Request, state: StateDep) -> Response:
    return await openai_service.respond(body, request, state.registry, state.settings)
