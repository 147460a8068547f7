"""OpenAI chat/completions on top of an LLM engine: validation, fan-out of `n`, response shapes.

Free of HTTP types: `prepare` holds the model and turns a request into a `Generation`, which runs to
a dict (`complete`) or to server-sent events as strings (`stream`), and is released when that ends.
A slot served by upstream servers (`engine: upstream`) is validated the same way, then relayed
(`services/openai_upstream.py`).
The routes build the HTTP responses (`api/routers/openai.py`, `api/event_stream.py`).

Streaming chunks are assembled as strings around the JSON-escaped text, with no dict or model per
token: formatting costs about 1.3 µs per token; the whole per-token cost of the gateway is measured
by bench/gateway_overhead.py (doc/benchmarks.md).
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from collections.abc import AsyncGenerator, Awaitable, Callable
from contextlib import AsyncExitStack, aclosing
from dataclasses import dataclass
from functools import partial
from json.encoder import encode_basestring_ascii
from typing import Any, Literal

from app.config import Settings
from app.engines.base import GenerationDelta, GenerationRequest, LLMEngine
from app.engines.upstream import UpstreamPool
from app.errors import GatewayError, InvalidRequestError, error_body
from app.infra.request_records import RequestRecord, current_record, note_error
from app.models.roles import LLMWrapper
from app.services.model_registry import ModelRegistry
from app.services.openai_requests import SEED_MIN, ChatCompletionRequest, CompletionRequest, SamplingFields
from app.services.openai_upstream import UpstreamRelay
from app.slots import Role

logger = logging.getLogger("app.openai")
Kind = Literal["chat", "completion"]


@dataclass
class PreparedGeneration:
    """A validated request: one engine request per choice, ready to run."""

    kind: Kind
    response_id: str
    created: int
    model: str
    engine: LLMEngine
    choices: list[GenerationRequest]
    prompt_tokens: int
    include_usage: bool
    system_fingerprint: str


def _check_supported(body: SamplingFields, settings: Settings) -> None:
    unsupported = body.unsupported()
    if unsupported:
        raise InvalidRequestError(
            f"{unsupported[0]} is not supported by this server", param=unsupported[0], code="unsupported_parameter"
        )
    if body.stream_options is not None and not body.stream:
        raise InvalidRequestError("stream_options is only allowed when stream is true", param="stream_options")
    if body.n > settings.max_n:
        raise InvalidRequestError(f"n must be at most {settings.max_n} on this server", param="n")


def _check_chat(body: ChatCompletionRequest, settings: Settings) -> None:
    _check_supported(body, settings)
    misplaced = body.misplaced()
    if misplaced is not None:
        raise InvalidRequestError(misplaced[1], param=misplaced[0])


def _check_completion(body: CompletionRequest, settings: Settings) -> list[str | list[int]]:
    """The request's prompts, once the request is known to be within this server's limits."""
    _check_supported(body, settings)
    try:
        prompts = body.prompts()
    except ValueError as exc:
        raise InvalidRequestError(str(exc), param="prompt") from exc
    _check_generations(len(prompts), body.n, settings)
    return prompts


def _check_generations(prompts: int, n: int, settings: Settings) -> None:
    """Bound the work of one request (prompts times n generations), before any prompt is tokenized."""
    limit = settings.max_generations_per_request
    if prompts * n > limit:
        raise InvalidRequestError(
            f"this request asks for {prompts * n} generations ({prompts} prompt(s), n={n}); "
            f"this server runs at most {limit} per request",
            param="prompt" if prompts > limit or n == 1 else "n",
        )


def _max_tokens(requested: int | None, prompt_len: int, max_model_len: int, param: str) -> int:
    room = max_model_len - prompt_len
    if room <= 0 or (requested is not None and requested > room):
        if requested is None:
            asked = f"{prompt_len} tokens in the prompt alone"
        else:
            asked = f"{prompt_len + requested} tokens ({prompt_len} in the prompt, {requested} in the completion)"
        raise InvalidRequestError(
            f"This model's maximum context length is {max_model_len} tokens. However, you requested {asked}. "
            "Please reduce the length of the prompt or of the completion.",
            param=param if requested is not None and room > 0 else "messages",
            code="context_length_exceeded",
        )
    return requested if requested is not None else room


def choice_seed(seed: int, sample: int) -> int:
    """Choice `sample`'s seed, `seed + sample` wrapped into the signed 64-bit range both engines take
    (vLLM keeps seeds in int64 arrays), so n > 1 near the top of the range neither overflows nor repeats."""
    return (seed + sample - SEED_MIN) % 2**64 + SEED_MIN


def _choice_requests(
    response_id: str, prompts: list[list[int]], body: SamplingFields, limit: int | None, max_len: int, param: str
) -> list[GenerationRequest]:
    # top_p = 0 keeps only the most likely token: greedy (vLLM refuses top_p = 0 itself).
    temperature, top_p = (0.0, 1.0) if body.top_p == 0 else (body.temperature, body.top_p)
    requests = []
    for prompt_index, prompt in enumerate(prompts):
        max_tokens = _max_tokens(limit, len(prompt), max_len, param)
        for sample in range(body.n):
            index = prompt_index * body.n + sample
            requests.append(
                GenerationRequest(
                    request_id=f"{response_id}-{index}",
                    prompt_token_ids=prompt,
                    max_tokens=max_tokens,
                    temperature=temperature,
                    top_p=top_p,
                    seed=None if body.seed is None else choice_seed(body.seed, sample),
                    stop=body.stop_list(),
                    ignore_eos=body.ignore_eos,
                )
            )
    return requests


async def prepare_chat(
    body: ChatCompletionRequest, model: LLMWrapper, settings: Settings, body_bytes: int | None
) -> PreparedGeneration:
    """Validate, template and tokenize a chat request; `body_bytes` (the body's size, when known) lets a
    small request be templated without a hop to a prompt thread."""
    _check_chat(body, settings)
    engine, prompts = model.loaded()

    def messages() -> list[dict[str, Any]]:
        return [{**m.model_dump(exclude_none=True), "content": m.text()} for m in body.messages]

    prompt = await prompts.chat_ids(messages, body.chat_template_kwargs, body_bytes)
    response_id = f"chatcmpl-{uuid.uuid4().hex}"
    param = "max_completion_tokens" if body.max_completion_tokens else "max_tokens"
    choices = _choice_requests(response_id, [prompt], body, body.token_limit(), engine.max_model_len, param)
    return PreparedGeneration(
        "chat",
        response_id,
        int(time.time()),
        body.model,
        engine,
        choices,
        len(prompt),
        bool(body.stream_options and body.stream_options.include_usage),
        model.system_fingerprint,
    )


async def prepare_completion(
    body: CompletionRequest, model: LLMWrapper, settings: Settings, body_bytes: int | None
) -> PreparedGeneration:
    raw_prompts = _check_completion(body, settings)
    engine, builder = model.loaded()
    prompts = await builder.completion_ids(raw_prompts, body_bytes)
    response_id = f"cmpl-{uuid.uuid4().hex}"
    choices = _choice_requests(response_id, prompts, body, body.max_tokens, engine.max_model_len, "max_tokens")
    return PreparedGeneration(
        "completion",
        response_id,
        int(time.time()),
        body.model,
        engine,
        choices,
        sum(map(len, prompts)),
        bool(body.stream_options and body.stream_options.include_usage),
        model.system_fingerprint,
    )


# --- running ------------------------------------------------------------------------------------
async def _merged(
    engine: LLMEngine, requests: list[GenerationRequest]
) -> AsyncGenerator[tuple[int, GenerationDelta], None]:
    """Deltas of every choice as they come; a single choice is iterated directly."""
    if len(requests) == 1:
        async with aclosing(engine.generate(requests[0])) as deltas:
            async for delta in deltas:
                yield 0, delta
        return
    queue: asyncio.Queue[tuple[int, GenerationDelta] | BaseException] = asyncio.Queue()

    async def pump(index: int, request: GenerationRequest) -> None:
        try:
            async with aclosing(engine.generate(request)) as deltas:
                async for delta in deltas:
                    queue.put_nowait((index, delta))
        except Exception as exc:
            queue.put_nowait(exc)

    tasks = [asyncio.create_task(pump(i, r)) for i, r in enumerate(requests)]
    remaining = len(requests)
    try:
        while remaining:
            item = await queue.get()
            if isinstance(item, BaseException):
                raise item
            if item[1].finish_reason is not None:
                remaining -= 1
            yield item
    finally:
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)


def _account(record: RequestRecord | None, prepared: PreparedGeneration, completion_tokens: int) -> None:
    """What the generation consumed, in the request's record (also when it ended early)."""
    if record is not None:
        record.prompt_tokens = prepared.prompt_tokens
        record.completion_tokens = completion_tokens
        record.last_token()


def _usage(prompt_tokens: int, completion_tokens: int) -> dict[str, int]:
    return {
        "prompt_tokens": prompt_tokens,
        "completion_tokens": completion_tokens,
        "total_tokens": prompt_tokens + completion_tokens,
    }


async def complete(prepared: PreparedGeneration) -> dict[str, Any]:
    """Run every choice to the end and build the non-streaming response."""
    texts: list[list[str]] = [[] for _ in prepared.choices]
    finish: list[str | None] = [None] * len(prepared.choices)
    completion_tokens = 0
    record = current_record()
    try:
        async with aclosing(_merged(prepared.engine, prepared.choices)) as deltas:
            async for index, delta in deltas:
                if record is not None and not completion_tokens:
                    record.first_token()
                texts[index].append(delta.text)
                completion_tokens += delta.num_new_tokens
                if delta.finish_reason:
                    finish[index] = delta.finish_reason
    finally:
        _account(record, prepared, completion_tokens)
    choices: list[dict[str, Any]] = []
    for index, parts in enumerate(texts):
        if prepared.kind == "chat":
            message = {"role": "assistant", "content": "".join(parts), "refusal": None}
            choices.append({"index": index, "message": message, "logprobs": None, "finish_reason": finish[index]})
        else:
            choices.append({"index": index, "text": "".join(parts), "logprobs": None, "finish_reason": finish[index]})
    return {
        "id": prepared.response_id,
        "object": "chat.completion" if prepared.kind == "chat" else "text_completion",
        "created": prepared.created,
        "model": prepared.model,
        "system_fingerprint": prepared.system_fingerprint,
        "choices": choices,
        "usage": _usage(prepared.prompt_tokens, completion_tokens),
    }


async def stream(prepared: PreparedGeneration) -> AsyncGenerator[str, None]:
    """Server-sent events in OpenAI's exact chunk format, ending with `data: [DONE]`.

    A content chunk is a per-choice prefix, the JSON-escaped text and a constant suffix. Chunks that
    are ready together leave as one string (one write): the role chunks, a delta's text and finish
    chunks, and the last finish chunk with the usage chunk and `[DONE]`.
    """
    chat = prepared.kind == "chat"
    obj = "chat.completion.chunk" if chat else "text_completion"
    head = (
        f'data: {{"id":"{prepared.response_id}","object":"{obj}","created":{prepared.created},'
        f'"model":{json.dumps(prepared.model)},"system_fingerprint":{json.dumps(prepared.system_fingerprint)},'
        '"choices":['
    )
    tail = '],"usage":null}\n\n' if prepared.include_usage else "]}\n\n"
    indices = range(len(prepared.choices))
    opening = [f'{head}{{"index":{index},' + ('"delta":{"content":' if chat else '"text":') for index in indices]
    closing = ("}" if chat else "") + ',"logprobs":null,"finish_reason":null}' + tail
    empty = '"delta":{}' if chat else '"text":""'
    running = len(prepared.choices)
    completion_tokens = 0
    ending = ""
    record = current_record()
    try:
        if chat:
            yield "".join(
                f'{head}{{"index":{index},"delta":{{"role":"assistant","content":""}},'
                f'"logprobs":null,"finish_reason":null}}{tail}'
                for index in indices
            )
        async with aclosing(_merged(prepared.engine, prepared.choices)) as deltas:
            async for index, delta in deltas:
                if not completion_tokens and record is not None:
                    record.first_token()
                completion_tokens += delta.num_new_tokens
                # encode_basestring_ascii is what json.dumps does for a str, minus its call overhead.
                chunk = (opening[index] + encode_basestring_ascii(delta.text) + closing) if delta.text else ""
                if delta.finish_reason is None:
                    if chunk:
                        yield chunk
                    continue
                finish = delta.finish_reason
                chunk += f'{head}{{"index":{index},{empty},"logprobs":null,"finish_reason":"{finish}"}}{tail}'
                running -= 1
                if running:
                    yield chunk
                else:
                    ending = chunk
        if prepared.include_usage:
            usage = json.dumps(_usage(prepared.prompt_tokens, completion_tokens), separators=(",", ":"))
            ending += f'{head}],"usage":{usage}}}\n\n'
    except GatewayError as exc:
        note_error(exc.code)
        ending += f"data: {json.dumps(exc.to_dict())}\n\n"
    except Exception:
        logger.exception("generation %s failed mid-stream", prepared.response_id)
        note_error("internal_error")
        message = f"generation failed (response {prepared.response_id}); the server log has the details"
        ending += f"data: {json.dumps(error_body(message, 'server_error', None, 'internal_error'))}\n\n"
    finally:
        _account(record, prepared, completion_tokens)
    yield ending + "data: [DONE]\n\n"


# --- holding the model -----------------------------------------------------------------------------
@dataclass
class Generation:
    """A prepared request and the model it holds: run it once (`complete` or `stream`), then `release`."""

    complete: Callable[[], Awaitable[dict[str, Any]]]
    stream: Callable[[], AsyncGenerator[str, None] | AsyncGenerator[bytes, None]]
    release: Callable[[], Awaitable[None]]
    """Lets go of the model (and of an upstream's answer); call it when the run has ended, however it ended
    (also after `stream`)."""


async def prepare(
    body: ChatCompletionRequest | CompletionRequest, registry: ModelRegistry, settings: Settings, body_bytes: int | None
) -> Generation:
    """Acquire the model (held until the `Generation` is released), then validate, template and tokenize.

    Nothing stays held when this raises. `body_bytes` (the body's size, when known) lets a small
    request be templated without a hop to a prompt thread."""
    stack = AsyncExitStack()
    try:
        model = await stack.enter_async_context(registry.acquire(body.model, Role.LLM))
        pool = model.upstream()
        if pool is not None:
            return await _prepare_relay(body, pool, settings, stack)
        if isinstance(body, ChatCompletionRequest):
            prepared = await prepare_chat(body, model, settings, body_bytes)
        else:
            prepared = await prepare_completion(body, model, settings, body_bytes)
    except BaseException:
        await stack.aclose()
        raise
    return Generation(partial(complete, prepared), partial(stream, prepared), stack.aclose)


async def _prepare_relay(
    body: ChatCompletionRequest | CompletionRequest, pool: UpstreamPool, settings: Settings, stack: AsyncExitStack
) -> Generation:
    """A request to an upstream slot, within the same limits as any other; a stream is sent now, so that an
    upstream's refusal (a 4xx, all replicas down) is the response's status, not an event after a 200."""
    if isinstance(body, ChatCompletionRequest):
        _check_chat(body, settings)
    else:
        _check_completion(body, settings)
    relay = UpstreamRelay(pool, body)
    if body.stream:
        await relay.open(stack)
    return Generation(relay.complete, relay.stream, stack.aclose)
