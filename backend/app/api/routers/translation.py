"""Text translation: POST /v1/translate (the BurkimbIA request shape) and GET /v1/translate/languages."""

from __future__ import annotations

import time
import uuid
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Query, Request
from starlette.responses import JSONResponse, Response

from app.api.client_gone import unless_gone
from app.api.dependencies import AppState, Credentials, StateDep, require_client
from app.api.json_body import JsonBody
from app.api.schemas.errors import error_responses
from app.api.schemas.translation import TranslationLanguages, TranslationResponse
from app.services.translation import TranslationRequest, TranslationResult, TranslationService

router = APIRouter(
    prefix="/v1/translate",
    tags=["translation"],
    dependencies=[Depends(require_client), *Credentials],
    responses=error_responses(400, 401, 404, 429, 503),
)


def _service(state: AppState) -> TranslationService:
    return state.service("translation", TranslationService)


def _body(result: TranslationResult) -> dict[str, Any]:
    return {
        "id": f"trans-{uuid.uuid4().hex}",
        "object": "translation",
        "created": int(time.time()),
        "model": result.model,
        "src_lang": result.src_lang,
        "tgt_lang": result.tgt_lang,
        "translations": result.translations,
        "usage": {
            "input_tokens": result.input_tokens,
            "output_tokens": result.output_tokens,
            "total_tokens": result.input_tokens + result.output_tokens,
        },
    }


@router.post("", response_model=TranslationResponse, responses=error_responses(413))
async def translate(
    body: Annotated[TranslationRequest, Depends(JsonBody(TranslationRequest))], request: Request, state: StateDep
) -> Response:
    """Translate `text` (a string, or a list of strings answered in order) from `src_lang` to `tgt_lang`.
    Long texts are split into sentences, translated in batches shared with other requests, and joined."""
    work = _service(state).translate(body)
    return await unless_gone(request, work, lambda result: JSONResponse(_body(result)))


@router.get("/languages", response_model=TranslationLanguages)
async def languages(
    state: StateDep,
    model: Annotated[str | None, Query(description="The translation model; default: the first one served")] = None,
) -> dict[str, Any]:
    """The model's language codes and the names the gateway maps to them (the model loads if it is not yet)."""
    name, codes, aliases = await _service(state).languages_of(model)
    return {"object": "translation.languages", "model": name, "codes": codes, "aliases": aliases}
