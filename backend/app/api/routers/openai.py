"""OpenAI-compatible routes: /v1/models, /v1/models/{model}, /v1/chat/completions (also as /v1/chat),
/v1/completions."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request
from starlette.responses import JSONResponse, Response

from app.api.client_gone import unless_gone
from app.api.dependencies import AppState, Credentials, StateDep, require_client
from app.api.event_stream import EventStreamResponse
from app.api.json_body import JsonBody
from app.api.schemas.errors import error_responses
from app.api.schemas.openai import ModelList, ModelObject
from app.errors import ModelNotFoundError
from app.models.base import BaseModelWrapper
from app.services import openai_service
from app.services.openai_requests import ChatCompletionRequest, CompletionRequest

router = APIRouter(
    prefix="/v1",
    tags=["openai"],
    dependencies=[Depends(require_client), *Credentials],
    responses=error_responses(401, 429, 503),
)
GENERATION_ERRORS = error_responses(400, 404, 413, 503)


def _model_object(name: str, wrapper: BaseModelWrapper) -> dict[str, Any]:
    """OpenAI's model object. `root` is the model behind an alias; nothing in it names a server path."""
    return {
        "id": name,
        "object": "model",
        "created": 0,
        "owned_by": "inference-gateway",
        "root": wrapper.served_names[0],
        "parent": None,
    }


@router.get("/models", response_model=ModelList)
async def list_models(state: StateDep) -> dict[str, Any]:
    """Every name a client may use: each model's id, then its aliases (`qwen`, `canary`, `whisper-1`, ...)."""
    data = [_model_object(name, w) for w in state.registry.wrappers() if w.listed for name in w.served_names]
    return {"object": "list", "data": data}


@router.get("/models/{model:path}", response_model=ModelObject, responses=error_responses(404))
async def retrieve_model(model: str, state: StateDep) -> dict[str, Any]:
    wrapper = state.registry.find(model)
    if wrapper is None or not wrapper.listed:
        raise ModelNotFoundError(f"The model '{model}' does not exist", param="model")
    return _model_object(model, wrapper)


@router.post("/chat/completions", response_model=None, responses=GENERATION_ERRORS)
@router.post(
    "/chat",
    response_model=None,
    responses=GENERATION_ERRORS,
    operation_id="chat",
    summary="Chat (alias of /v1/chat/completions)",
    description="The same request and answer as `POST /v1/chat/completions`, for clients written against "
    "gateways that expose chat as `/v1/chat`.",
)
async def chat_completions(
    body: Annotated[ChatCompletionRequest, Depends(JsonBody(ChatCompletionRequest))], request: Request, state: StateDep
) -> Response:
    return await _generate(body, request, state)


@router.post("/completions", response_model=None, responses=GENERATION_ERRORS)
async def completions(
    body: Annotated[CompletionRequest, Depends(JsonBody(CompletionRequest))], request: Request, state: StateDep
) -> Response:
    return await _generate(body, request, state)


async def _generate(body: ChatCompletionRequest | CompletionRequest, request: Request, state: AppState) -> Response:
    """Hold the model for the whole request (a stream included) and answer it; 499 when the client of a
    non-streaming request has gone (its generation is cancelled)."""
    body_bytes = len(await request.body())  # already read (and cached) by the route's JsonBody
    generation = await openai_service.prepare(body, state.registry, state.settings, body_bytes)
    if body.stream:
        return EventStreamResponse(generation.stream(), on_close=generation.release)
    try:
        return await unless_gone(request, generation.complete(), JSONResponse)
    finally:
        await generation.release()
