"""The responses of /v1/translate and /v1/translate/languages. The request is the translation service's
input type (`services/translation.py`: `TranslationRequest`)."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.api.schemas.common import ResponseBody


class TranslationUsage(ResponseBody):
    input_tokens: int = Field(description="Tokens of the source sentences, language tokens included")
    output_tokens: int = Field(description="Tokens generated")
    total_tokens: int


class TranslationResponse(ResponseBody):
    id: str
    object: Literal["translation"]
    created: int
    model: str = Field(description="The model's served name")
    src_lang: str = Field(description="The source language, as the model's code")
    tgt_lang: str = Field(description="The target language, as the model's code")
    translations: list[str] = Field(description="One per text of the request, in order")
    usage: TranslationUsage


class TranslationLanguages(ResponseBody):
    object: Literal["translation.languages"]
    model: str
    codes: list[str] = Field(description="The model's own language codes (its tokenizer's language tokens)")
    aliases: dict[str, str] = Field(
        description="Names and ISO codes the gateway accepts for this model, each with the code it means"
    )
