"""The model list's responses (`/v1/models`). The generation requests are the LLM service's input
types, in `services/openai_requests.py`; its responses are plain dicts built there."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.api.schemas.common import ResponseBody


class ModelObject(ResponseBody):
    """OpenAI's model object."""

    id: str
    object: Literal["model"]
    created: int
    owned_by: str
    root: str = Field(description="The model's first name, for an alias")
    parent: str | None


class ModelList(ResponseBody):
    object: Literal["list"]
    data: list[ModelObject]
