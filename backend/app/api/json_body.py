"""JSON request bodies parsed and validated off the event loop, and off the interpreter lock.

FastAPI parses and validates a declared body on the event loop: a 4 MiB body of 140,000 tiny chat
messages takes about 0.8 s there, during which no other request moves. A worker thread does not help:
pydantic validates in one Rust call that holds the interpreter lock the whole time (measured: a 0.6 s
stall of every other thread for that body). Routes that take large JSON bodies declare them with
`JsonBody(Model)` instead: a body of at most `INLINE_MAX_BYTES` is validated inline (well under a
millisecond), a larger one in a worker process (`JsonBodyParsers`), whose validated model comes back
pickled. The request models cap the lists that would make that model large
(`services/openai_requests.py`), so taking it back costs the event loop milliseconds. The body's size
is bounded by `AccessMiddleware` (`MAX_JSON_BODY_MB`). `app/openapi.py` documents such bodies.
"""

from __future__ import annotations

import asyncio
import json
import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Generic, TypeVar

from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.api.error_handlers import invalid_request
from app.errors import InvalidRequestError, RateLimitError

if TYPE_CHECKING:
    from app.api.dependencies import AppState

M = TypeVar("M", bound=BaseModel)
INLINE_MAX_BYTES = 64 * 1024
"""Bodies up to this size validate in well under a millisecond: not worth a hop to another process."""
PARSE_WORKERS = 2
PARSE_PENDING_MAX = 32
"""Large bodies being parsed or waiting for a worker; one more is a 429 (each holds its body in memory)."""
MAX_RETURNED_VALUES = 65_536
"""What a model coming back from a worker may hold (see `_fewer_values_than`): unpickling 65,536 small
objects takes the event loop's process about 40 ms; a request within OpenAI's own limits (2,048
messages, 128 tools) holds far fewer."""


class JsonBody(Generic[M]):
    """A dependency returning the request body as a validated `model`; 400s name the parameter."""

    def __init__(self, model: type[M]) -> None:
        self.model = model

    async def __call__(self, request: Request) -> M:
        body = await request.body()
        if len(body) <= INLINE_MAX_BYTES:
            return parse_json_body(self.model, body)
        state: AppState = request.app.state.gateway
        return await state.json_parsers.parse(self.model, body)


@dataclass(frozen=True)
class _Refusal:
    """A 400 as it crosses back from a worker process (exceptions lose their keyword fields in a pickle)."""

    message: str
    param: str | None
    code: str | None


def _parse_in_worker(model: type[M], body: bytes) -> M | _Refusal:
    try:
        parsed = parse_json_body(model, body)
    except InvalidRequestError as exc:
        return _Refusal(exc.message, exc.param, exc.code)
    if not _fewer_values_than(parsed, MAX_RETURNED_VALUES):
        message = (
            f"the request body holds more than {MAX_RETURNED_VALUES} strings, arrays and objects; "
            "send fewer or shorter lists"
        )
        return _Refusal(message, None, "too_many_values")
    return parsed


def _fewer_values_than(model: BaseModel, limit: int) -> bool:
    """Whether `model` holds fewer than `limit` strings, lists, dicts and models (what unpickling the model
    in the event loop's process costs; numbers are cheap). Stops counting at the limit."""
    count = 0
    pending: list[Any] = [model]
    while pending:
        value = pending.pop()
        count += 1
        if count >= limit:
            return False
        if isinstance(value, BaseModel):
            pending.extend(value.__dict__.values())
            pending.extend((value.__pydantic_extra__ or {}).values())
        elif isinstance(value, dict):
            pending.extend(value.keys())
            pending.extend(value.values())
        elif isinstance(value, list | tuple):
            pending.extend(v for v in value if not isinstance(v, int | float))
    return True


class JsonBodyParsers:
    """Worker processes (`spawn`: safe beside CUDA and vLLM) for bodies over `INLINE_MAX_BYTES`, started
    with the first such body; at most `PARSE_PENDING_MAX` bodies in them at once."""

    def __init__(self, workers: int = PARSE_WORKERS, pending_max: int = PARSE_PENDING_MAX) -> None:
        self.workers = workers
        self.pending_max = pending_max
        self.pending = 0
        self.parsed = 0
        self._pool: ProcessPoolExecutor | None = None

    def stats(self) -> dict[str, int | bool]:
        return {
            "workers": self.workers,
            "started": self._pool is not None,
            "pending": self.pending,
            "parsed": self.parsed,
        }

    async def parse(self, model: type[M], body: bytes) -> M:
        if self.pending >= self.pending_max:
            raise RateLimitError(
                f"{self.pending} large request bodies are being parsed; retry shortly",
                retry_after_s=1,
                code="queue_full",
            )
        if self._pool is None:
            self._pool = ProcessPoolExecutor(self.workers, mp_context=multiprocessing.get_context("spawn"))
        self.pending += 1
        try:
            outcome = await asyncio.get_running_loop().run_in_executor(self._pool, _parse_in_worker, model, body)
        finally:
            self.pending -= 1
        if isinstance(outcome, _Refusal):
            raise InvalidRequestError(outcome.message, param=outcome.param, code=outcome.code)
        return outcome

    def stop(self) -> None:
        if self._pool is not None:
            self._pool.shutdown(wait=False, cancel_futures=True)
            self._pool = None


def parse_json_body(model: type[M], body: bytes) -> M:
    try:
        return model.model_validate_json(body)
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        if errors and errors[0]["type"] == "json_invalid":
            raise _unparsable(body, errors) from None
        raise invalid_request(errors) from None


def _unparsable(body: bytes, errors: list[Any]) -> InvalidRequestError:
    """pydantic's parser refuses lone UTF-16 surrogates (`"\\ud800"`), which Python's accepts and which then
    fail wherever the text is encoded (a tokenizer, a response). Name the parameter that holds one."""
    try:
        data = json.loads(body)
    except ValueError:
        return invalid_request(errors)
    where = lone_surrogate_path(data)
    if where is None:
        return invalid_request(errors)
    return InvalidRequestError(
        f"{where or 'the request body'}: the text holds a lone UTF-16 surrogate (such as \\ud800), which is not "
        "valid Unicode",
        param=where or None,
        code="invalid_value",
    )


def lone_surrogate_path(data: Any) -> str | None:
    """The dotted path (`messages.0.content`) of the first string, or key, that cannot be encoded as UTF-8;
    None when there is none. Iterative: the depth of a document cannot exhaust the stack."""
    pending: list[tuple[str, Any]] = [("", data)]
    while pending:
        path, value = pending.pop()
        if isinstance(value, str):
            if not _encodable(value):
                return path
        elif isinstance(value, dict):
            for key, item in reversed(value.items()):
                child = f"{path}.{key}" if path else str(key)
                if not _encodable(key):
                    return child.encode("utf-8", "backslashreplace").decode("ascii")
                pending.append((child, item))
        elif isinstance(value, list):
            pending.extend(
                (f"{path}.{index}" if path else str(index), item) for index, item in reversed(list(enumerate(value)))
            )
    return None


def _encodable(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True
