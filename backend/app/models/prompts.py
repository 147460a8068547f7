"""Prompts for the LLM: chat templating and tokenisation, off the event loop.

A request may carry variables for the model's own chat template (`chat_template_kwargs`, e.g. Qwen3's
`enable_thinking`), never a template of its own nor `apply_chat_template`'s options: the accepted
names are the template's undeclared variables less those the gateway and transformers set.

Rendering and encoding run on a small pool of threads owned by the loaded model. Encoding goes through
the Rust tokenizer's `encode_batch_fast`, which releases the GIL while it works (its `encode` holds it:
65 ms of a stalled event loop for a 44k-token text, measured on this project's CPU box), so even a
long prompt leaves the event loop free to stream other requests' tokens.

A request whose body is at most `INLINE_BODY_BYTES` is templated on the event loop instead: the hop to
a thread and back costs about 0.1 ms of CPU (more than doubling the gateway's own work on a short
chat request, doc/benchmarks.md), while such a small body takes at most ~0.5 ms to template and
encode (measured with Qwen's tokenizer: 1,000 characters in 0.25 ms, 25 one-line messages in 0.5 ms).
"""

from __future__ import annotations

import asyncio
import inspect
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from typing import Any, TypeVar

from app.errors import InvalidRequestError

T = TypeVar("T")

# Threads that template and tokenize prompts for one loaded model. The GIL-bound part of a prompt
# (rendering, building id lists) is short; more threads mainly let long prompts encode side by side.
PROMPT_WORKERS = 4
INLINE_BODY_BYTES = 1024
# Variables the gateway passes to every render (or transformers adds): not the client's to set.
GATEWAY_VARIABLES = frozenset({"messages", "tools", "documents", "add_generation_prompt", "continue_final_message"})


def template_variables(tokenizer: Any, template: str) -> frozenset[str]:
    """The variables of `template` that a request may set through `chat_template_kwargs`."""
    import jinja2.meta
    from transformers.utils.chat_template_utils import _compile_jinja_template

    # Parsed by the environment that renders it (its extensions, e.g. `{% generation %}`, and globals).
    environment = _compile_jinja_template(template).environment
    undeclared = jinja2.meta.find_undeclared_variables(environment.parse(template))
    reserved = set(GATEWAY_VARIABLES) | set(environment.globals)
    reserved |= set(inspect.signature(tokenizer.apply_chat_template).parameters)
    # Special tokens (`eos_token`, ...) are passed to every render too.
    reserved |= set(getattr(tokenizer, "SPECIAL_TOKENS_ATTRIBUTES", ()))
    reserved |= set(getattr(tokenizer, "special_tokens_map", {}))
    return frozenset(undeclared - reserved)


class PromptBuilder:
    """Chat templating and tokenisation for one loaded tokenizer, on threads of its own."""

    def __init__(self, tokenizer: Any, model_name: str) -> None:
        self.tokenizer = tokenizer
        self.model_name = model_name
        self.vocab_size = len(tokenizer)
        get_template = getattr(tokenizer, "get_chat_template", None)
        template = getattr(tokenizer, "chat_template", None)
        if template and get_template is not None:
            template = get_template()  # the default one when a tokenizer has several named templates
        self.chat_template: str | None = template or None
        self.variables = template_variables(tokenizer, self.chat_template) if self.chat_template else frozenset()
        self._backend = getattr(tokenizer, "backend_tokenizer", None)
        self._executor = ThreadPoolExecutor(max_workers=PROMPT_WORKERS, thread_name_prefix="llm-prompt")

    def shutdown(self) -> None:
        self._executor.shutdown(wait=False, cancel_futures=True)

    def _encode_batch(self, texts: list[str]) -> list[list[int]]:
        if self._backend is None:  # not a Rust-backed tokenizer
            return [list(self.tokenizer.encode(t, add_special_tokens=False)) for t in texts]
        return [encoding.ids for encoding in self._backend.encode_batch_fast(texts, add_special_tokens=False)]

    async def _run(self, work: Callable[[], T], body_bytes: int | None) -> T:
        """`work` on a prompt thread, or inline for a body of known size within `INLINE_BODY_BYTES`."""
        if body_bytes is not None and body_bytes <= INLINE_BODY_BYTES:
            return work()
        return await asyncio.get_running_loop().run_in_executor(self._executor, work)

    # --- chat -----------------------------------------------------------------------------------
    def check_chat(self, template_kwargs: dict[str, Any]) -> None:
        """Refuse a chat request this model cannot template, before any work is queued."""
        if self.chat_template is None:
            raise InvalidRequestError(
                f"model '{self.model_name}' has no chat template; use /v1/completions", param="messages"
            )
        unknown = sorted(set(template_kwargs) - self.variables) if template_kwargs else []
        if unknown:
            accepted = ", ".join(sorted(self.variables)) or "none"
            raise InvalidRequestError(
                f"'{unknown[0]}' is not a variable of this model's chat template; chat_template_kwargs accepts: "
                f"{accepted}",
                param=f"chat_template_kwargs.{unknown[0]}",
                code="unknown_parameter",
            )

    async def chat_ids(
        self, messages: Callable[[], list[dict[str, Any]]], template_kwargs: dict[str, Any], body_bytes: int | None
    ) -> list[int]:
        """Token ids of the rendered chat; `messages` builds the template's messages (on a prompt thread too)."""
        self.check_chat(template_kwargs)
        return await self._run(lambda: self._chat_ids(messages, template_kwargs), body_bytes)

    def _chat_ids(self, messages: Callable[[], list[dict[str, Any]]], template_kwargs: dict[str, Any]) -> list[int]:
        try:
            chat = messages()
        except ValueError as exc:
            raise InvalidRequestError(str(exc), param="messages") from exc
        try:
            text = self.tokenizer.apply_chat_template(
                chat, add_generation_prompt=True, tokenize=False, **template_kwargs
            )
        except Exception as exc:
            raise InvalidRequestError(f"the chat template rejected these messages: {exc}", param="messages") from exc
        ids = self._encode_batch([text])[0] if text else []
        if not ids:
            raise InvalidRequestError(
                "the model's chat template rendered an empty prompt for these messages", param="messages"
            )
        return ids

    # --- completions ----------------------------------------------------------------------------
    async def completion_ids(self, prompts: Sequence[str | list[int]], body_bytes: int | None) -> list[list[int]]:
        """Token ids of each prompt: texts are encoded together, id lists checked against the vocabulary."""
        return await self._run(lambda: self._completion_ids(prompts), body_bytes)

    def _completion_ids(self, prompts: Sequence[str | list[int]]) -> list[list[int]]:
        texts = [p for p in prompts if isinstance(p, str)]
        encoded = iter(self._encode_batch(texts) if texts else [])
        result = [next(encoded) if isinstance(p, str) else list(p) for p in prompts]
        vocab = self.vocab_size
        if any(not p for p in result) or any(t < 0 or t >= vocab for p in result for t in p):
            raise InvalidRequestError("prompt is empty or holds token ids outside the vocabulary", param="prompt")
        return result
