"""The contract between the OpenAI service and an LLM engine.

An engine generates one sequence per request. Closing the async iterator returned by `generate`
(the client went away, or the caller was cancelled) aborts the request inside the engine.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import AsyncGenerator
from dataclasses import dataclass, field
from typing import Any, Literal

FinishReason = Literal["stop", "length"]


@dataclass(frozen=True, slots=True)
class GenerationRequest:
    request_id: str
    prompt_token_ids: list[int]
    max_tokens: int
    temperature: float = 1.0
    top_p: float = 1.0
    seed: int | None = None
    stop: list[str] = field(default_factory=list)
    ignore_eos: bool = False


@dataclass(slots=True)
class GenerationDelta:
    """New text since the previous delta; `finish_reason` is set on the last one only."""

    text: str
    num_new_tokens: int
    finish_reason: FinishReason | None = None


class LLMEngine(ABC):
    name: str
    max_model_len: int
    tokenizer: Any

    @abstractmethod
    def generate(self, request: GenerationRequest) -> AsyncGenerator[GenerationDelta, None]:
        """Yield deltas until the sequence finishes."""

    @abstractmethod
    async def shutdown(self) -> None:
        """Release the engine's memory and processes."""

    def describe(self) -> dict[str, Any]:
        return {"engine": self.name, "max_model_len": self.max_model_len}
