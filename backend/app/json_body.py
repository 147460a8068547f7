"""JSON request bodies parsed and validated off the event loop.

FastAPI parses and validates a declared body on the event loop: a 4 MiB body of 140,000 tiny chat
messages takes about 0.8 s there, during which no other request moves. Routes that take large JSON
bodies declare them with `JsonBody(Model)` instead: a small body is validated inline (cheaper than a
thread hop), a larger one on a worker thread, with pydantic's own JSON parser. The body's size is
already bounded by `AccessMiddleware` (`MAX_JSON_BODY_MB`). `app/openapi.py` documents such bodies.
"""

from __future__ import annotations

import json
from typing import Any, Generic, TypeVar

import anyio
from fastapi import Request
from pydantic import BaseModel, ValidationError

from app.errors import InvalidRequestError, invalid_request

M = TypeVar("M", bound=BaseModel)
INLINE_MAX_BYTES = 64 * 1024
"""Bodies up to this size validate in well under a millisecond: not worth a thread."""


class JsonBody(Generic[M]):
    """A dependency returning the request body as a validated `model`; 400s name the parameter."""

    def __init__(self, model: type[M]) -> None:
        self.model = model

    async def __call__(self, request: Request) -> M:
        body = await request.body()
        if len(body) <= INLINE_MAX_BYTES:
            return parse_json_body(self.model, body)
        return await anyio.to_thread.run_sync(parse_json_body, self.model, body)


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
