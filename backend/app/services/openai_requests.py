"""The OpenAI generation requests (chat and completions): the LLM service's input, validated as they arrive.

The routes take these bodies as they are (`api/routers/openai.py`), with no copy into other types on
the way in. Fields OpenAI defines and we cannot honour are rejected with a 400 naming them, never
ignored silently; fields nobody defines are ignored, as OpenAI does. Responses are built as plain dicts
and strings in `services/openai_service.py` (the streaming hot path avoids model serialisation).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

# The range OpenAI gives `seed`: a signed 64-bit integer.
SEED_MIN, SEED_MAX = -(2**63), 2**63 - 1
# OpenAI's own limits on the lists a body may hold (and a bound on what a large body costs to take in):
MAX_MESSAGES = 2048
MAX_TOOLS = 128
MAX_PROMPTS = 4096
"""A batch of prompts; MAX_GENERATIONS_PER_REQUEST (at most 4096) is what really bounds it."""


def _null_in_schema(schema: dict[str, Any], model: type[BaseModel]) -> None:
    """Declare `null` for every optional field (see `OpenAIBody`), keeping the field's constraints."""
    properties = schema.get("properties", {})
    for name, field in model.model_fields.items():
        prop = properties.get(field.alias or name)
        if field.is_required() or field.get_default(call_default_factory=True) is None or prop is None:
            continue
        outer = {key: prop.pop(key) for key in ("title", "description", "default") if key in prop}
        properties[field.alias or name] = {"anyOf": [prop, {"type": "null"}], **outer}


class OpenAIBody(BaseModel):
    """A request body where `null` for an optional field means its default, as in OpenAI's API (whose
    specification marks `n`, `temperature`, `top_p`, `stream`, `echo`, ... nullable)."""

    model_config = ConfigDict(json_schema_extra=_null_in_schema)

    @model_validator(mode="before")
    @classmethod
    def _null_means_default(cls, data: Any) -> Any:
        if not isinstance(data, dict) or None not in data.values():
            return data
        fields = cls.model_fields
        return {k: v for k, v in data.items() if v is not None or k not in fields or fields[k].is_required()}


class StreamOptions(OpenAIBody):
    include_usage: bool = False


class ChatMessage(BaseModel):
    model_config = ConfigDict(extra="allow")

    role: Literal["system", "developer", "user", "assistant", "tool"]
    content: str | list[dict[str, Any]] | None = None
    name: str | None = None

    def text(self) -> str:
        if self.content is None or isinstance(self.content, str):
            return self.content or ""
        parts = []
        for part in self.content:
            if part.get("type") != "text":
                raise ValueError(f"content part of type '{part.get('type')}' is not supported; send text parts")
            parts.append(str(part.get("text", "")))
        return "".join(parts)


class SamplingFields(OpenAIBody):
    model_config = ConfigDict(extra="ignore")

    model: str
    stream: bool = False
    stream_options: StreamOptions | None = None
    max_tokens: int | None = Field(None, ge=1)
    temperature: float = Field(1.0, ge=0.0, le=2.0)
    top_p: float = Field(1.0, ge=0.0, le=1.0)
    n: int = Field(1, ge=1)
    stop: str | list[str] | None = None
    seed: int | None = Field(None, ge=SEED_MIN, le=SEED_MAX)
    user: str | None = None
    # vLLM's extension, used by benchmarks: generate exactly max_tokens tokens.
    ignore_eos: bool = False
    # OpenAI fields we do not implement: accepted only at their neutral value.
    logprobs: bool | int | None = None
    presence_penalty: float | None = None
    frequency_penalty: float | None = None
    logit_bias: dict[str, float] | None = None

    @field_validator("stop")
    @classmethod
    def _stop_list(cls, value: str | list[str] | None) -> list[str]:
        stops = [value] if isinstance(value, str) else list(value or [])
        if len(stops) > 4:
            raise ValueError("at most 4 stop sequences are allowed")
        if any(not s for s in stops):
            raise ValueError("stop sequences must not be empty")
        return stops

    def stop_list(self) -> list[str]:
        return self.stop if isinstance(self.stop, list) else []

    def unsupported(self) -> list[str]:
        names = []
        if self.logprobs:
            names.append("logprobs")
        if self.presence_penalty:
            names.append("presence_penalty")
        if self.frequency_penalty:
            names.append("frequency_penalty")
        if self.logit_bias:
            names.append("logit_bias")
        return names


class ChatCompletionRequest(SamplingFields):
    messages: list[ChatMessage] = Field(min_length=1, max_length=MAX_MESSAGES)
    max_completion_tokens: int | None = Field(None, ge=1)
    top_logprobs: int | None = Field(None, ge=0, le=20)
    tools: list[dict[str, Any]] | None = Field(None, max_length=MAX_TOOLS)
    tool_choice: str | dict[str, Any] | None = None
    parallel_tool_calls: bool | None = None
    functions: list[dict[str, Any]] | None = Field(None, max_length=MAX_TOOLS)
    function_call: str | dict[str, Any] | None = None
    response_format: dict[str, Any] | None = None
    chat_template_kwargs: dict[str, Any] = Field(default_factory=dict)

    def unsupported(self) -> list[str]:
        names = super().unsupported()
        if self.tools:
            names.append("tools")
        if self.functions:
            names.append("functions")
        if self.response_format and self.response_format.get("type") not in (None, "text"):
            names.append("response_format")
        return names

    def misplaced(self) -> tuple[str, str] | None:
        """A field that needs another one which is absent, as (field, message); OpenAI refuses these."""
        if self.top_logprobs is not None and not self.logprobs:
            return "top_logprobs", "top_logprobs is only allowed when logprobs is true"
        if not self.tools:
            if self.tool_choice not in (None, "none"):
                return "tool_choice", "tool_choice is only allowed when tools are specified"
            if self.parallel_tool_calls is not None:
                return "parallel_tool_calls", "parallel_tool_calls is only allowed when tools are specified"
        if not self.functions and self.function_call not in (None, "none"):
            return "function_call", "function_call is only allowed when functions are specified"
        return None

    def token_limit(self) -> int | None:
        return self.max_completion_tokens or self.max_tokens


# The first kind that fits, each list giving up at its first wrong item: pydantic's default ("smart")
# union validates every item against every kind, 19 ms for 64 KiB of short token lists against 3.4.
Prompt = Annotated[
    str
    | Annotated[list[str], Field(fail_fast=True)]
    | Annotated[list[int], Field(fail_fast=True)]
    | Annotated[list[list[int]], Field(fail_fast=True)],
    Field(union_mode="left_to_right"),
]


class CompletionRequest(SamplingFields):
    prompt: Prompt
    echo: bool = False
    suffix: str | None = None
    best_of: int | None = None

    @field_validator("prompt")
    @classmethod
    def _batch_size(cls, prompt: str | list[str] | list[int] | list[list[int]]) -> Any:
        if isinstance(prompt, list) and len(prompt) > MAX_PROMPTS and not isinstance(prompt[0], int):
            raise ValueError(f"a batch holds at most {MAX_PROMPTS} prompts")
        return prompt

    def unsupported(self) -> list[str]:
        names = super().unsupported()
        if self.echo:
            names.append("echo")
        if self.suffix:
            names.append("suffix")
        if self.best_of not in (None, 1, self.n):
            names.append("best_of")
        return names

    def prompts(self) -> list[str | list[int]]:
        """The prompt as a list of prompts (OpenAI accepts one or a batch, as text or token ids)."""
        prompt = self.prompt
        if isinstance(prompt, str):
            return [prompt]
        if not prompt:
            raise ValueError("prompt must not be empty")
        if all(isinstance(p, int) for p in prompt):
            return [list(prompt)]  # type: ignore[arg-type]
        return list(prompt)  # type: ignore[arg-type]
