"""OpenAI chat/completions relayed to an upstream slot's servers (`engine: upstream`), as they answer.

The request, validated by the LLM service as for any slot, goes to a replica as OpenAI JSON with `model` set to
the upstream's name (and `stream_options.include_usage` forced on a stream, so the usage is known). The answer
comes back as the upstream wrote it, with `model` set back to the name the client asked for: a JSON document
whole, a stream event by event, each read from the upstream written to the client at once (no buffering beyond
an incomplete event). The usage chunk is passed on only to a client that asked for it. The usage goes into the
request's record, so usage, quotas and metrics count an upstream's tokens as a local engine's.

The stream's hot path works on bytes: the model name is replaced in place (`"model":"<upstream>"`, as vLLM and
this gateway write it; any other spelling is parsed and rewritten), and only the usage chunk is parsed.
"""

from __future__ import annotations

import json
from collections.abc import AsyncGenerator
from contextlib import AsyncExitStack
from typing import Any

from app.engines.upstream import MAX_EVENT_BYTES, UpstreamPool, UpstreamResponse
from app.errors import GatewayError, ModelUnavailableError
from app.infra.request_records import RequestRecord, current_record, note_error
from app.services.openai_requests import ChatCompletionRequest, CompletionRequest, StreamOptions

DONE = b"data: [DONE]\n\n"
USAGE = b'"usage"'
NULL_USAGE = b'"usage":null'


def upstream_body(body: ChatCompletionRequest | CompletionRequest, upstream_model: str) -> bytes:
    """The request as the upstream gets it: the fields the client set, the upstream's model name, the usage asked
    for on a stream; `top_p: 0` is greedy decoding here as for a local engine (vLLM refuses 0)."""
    update: dict[str, Any] = {"model": upstream_model}
    if body.stream:
        update["stream_options"] = StreamOptions(include_usage=True)
    if body.top_p == 0:
        update.update(temperature=0.0, top_p=1.0)
    return body.model_copy(update=update).model_dump_json(exclude_unset=True).encode()


def _account(record: RequestRecord | None, usage: Any, estimated_completion_tokens: int) -> None:
    """The upstream's usage in the request's record; without it (a stream that broke off or was left), the
    content chunks relayed so far count as the completion tokens (one token per chunk, as vLLM streams)."""
    if record is None:
        return
    if isinstance(usage, dict):
        record.prompt_tokens = int(usage.get("prompt_tokens") or 0)
        record.completion_tokens = int(usage.get("completion_tokens") or 0)
    else:
        record.completion_tokens = estimated_completion_tokens
    record.last_token()


class UpstreamRelay:
    """One request to an upstream slot: opened by `open` (a stream, before its response starts, so that a refusal
    is still an HTTP error), then run once by `complete` or `stream`."""

    def __init__(self, pool: UpstreamPool, body: ChatCompletionRequest | CompletionRequest) -> None:
        self.pool = pool
        self.path = "/chat/completions" if isinstance(body, ChatCompletionRequest) else "/completions"
        self.client_model = body.model
        self.upstream_model = pool.model
        self.include_usage = bool(body.stream_options and body.stream_options.include_usage)
        self.payload = upstream_body(body, pool.model)
        record = current_record()
        self.request_id = record.request_id if record is not None else None
        self._response: UpstreamResponse | None = None

    async def open(self, stack: AsyncExitStack) -> None:
        """Send a streaming request and wait for the head of its answer; `stack` closes it."""
        opened = self.pool.open(self.path, self.payload, stream=True, request_id=self.request_id)
        self._response = await stack.enter_async_context(opened)

    async def complete(self) -> dict[str, Any]:
        record = current_record()
        usage: Any = None
        try:
            async with self.pool.open(self.path, self.payload, stream=False, request_id=self.request_id) as upstream:
                answer = await upstream.json()
                if not isinstance(answer, dict) or not isinstance(answer.get("choices"), list):
                    raise self.pool.wrong_answer(upstream.replica, "JSON that is not a completion")
            usage = answer.get("usage")
        finally:
            _account(record, usage, 0)
        answer["model"] = self.client_model
        return answer

    async def stream(self) -> AsyncGenerator[bytes, None]:
        """The upstream's events as they come; a stream that breaks off ends with an error event, then `[DONE]`."""
        upstream = self._response
        if upstream is None:
            raise RuntimeError("the upstream request was not opened")
        record = current_record()
        needle = b'"model":' + json.dumps(self.upstream_model).encode()
        replacement = b'"model":' + json.dumps(self.client_model).encode()
        include_usage = self.include_usage
        pending = b""
        usage: Any = None
        contents = 0
        done = False
        try:
            async for chunk in upstream.chunks():
                pending += chunk
                if b"\r" in pending:
                    pending = pending.replace(b"\r\n", b"\n")
                end = pending.rfind(b"\n\n")
                if end < 0:
                    if len(pending) > MAX_EVENT_BYTES:
                        raise self.pool.wrong_answer(
                            upstream.replica, f"a stream event larger than {MAX_EVENT_BYTES // 2**20} MiB"
                        )
                    continue
                events, pending = pending[: end + 2], pending[end + 2 :]
                if not include_usage:
                    events = events.replace(b',"usage":null', b"")
                if events.count(USAGE) != events.count(NULL_USAGE):
                    events, usage = self._with_usage(events, usage)
                if needle in events:
                    events = events.replace(needle, replacement)
                elif b'"model"' in events:
                    events = self._renamed(events)
                if record is not None and not contents:
                    record.first_token()
                contents += (
                    events.count(b'"content":"')
                    + events.count(b'"text":"')
                    - events.count(b'"content":""')
                    - events.count(b'"text":""')
                )
                if events.endswith(DONE):
                    done = True
                if events:
                    yield events
            # After [DONE], the loop has read the body to its end: the connection goes back to the pool.
            if not done:
                raise self.pool.wrong_answer(upstream.replica, "a stream that ended without [DONE]")
        except GatewayError as exc:
            note_error(exc.code)
            yield b"data: " + json.dumps(exc.to_dict()).encode() + b"\n\n" + DONE
        finally:
            _account(record, usage, contents)

    def _with_usage(self, events: bytes, usage: Any) -> tuple[bytes, Any]:
        """The events with the usage taken out of them (kept only for a client that asked), and that usage."""
        kept = []
        for event in events.split(b"\n\n")[:-1]:
            data = event.removeprefix(b"data: ")
            if USAGE not in data or NULL_USAGE in data:
                kept.append(event + b"\n\n")
                continue
            try:
                chunk = json.loads(data)
            except ValueError:
                raise ModelUnavailableError(
                    f"the upstream server of model '{self.pool.name}' sent an event that is not JSON",
                    code="upstream_error",
                ) from None
            usage = chunk.get("usage") if isinstance(chunk, dict) else None
            if not self.include_usage:
                if not chunk.get("choices"):
                    continue  # the usage-only chunk the client did not ask for
                chunk.pop("usage", None)
            chunk["model"] = self.client_model
            kept.append(b"data: " + json.dumps(chunk, separators=(",", ":")).encode() + b"\n\n")
        return b"".join(kept), usage

    def _renamed(self, events: bytes) -> bytes:
        """Events whose model is not spelled as expected: each parsed and written back with the client's name."""
        renamed = []
        for event in events.split(b"\n\n")[:-1]:
            data = event.removeprefix(b"data: ")
            if b'"model"' in data:
                try:
                    chunk = json.loads(data)
                except ValueError:
                    chunk = None
                if isinstance(chunk, dict) and "model" in chunk:
                    chunk["model"] = self.client_model
                    event = b"data: " + json.dumps(chunk, separators=(",", ":")).encode()
            renamed.append(event + b"\n\n")
        return b"".join(renamed)
