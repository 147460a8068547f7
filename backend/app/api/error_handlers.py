"""OpenAI's error envelope for every error a client sees: the exception hierarchy (`app.errors`), FastAPI's
validation errors and Starlette's HTTP errors; and the outermost middleware (request ids, unexpected errors,
the request's record)."""

from __future__ import annotations

import json
import logging
import uuid
from collections.abc import Callable, Sequence
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.errors import (
    AuthenticationError,
    ConflictError,
    GatewayError,
    InvalidRequestError,
    NotFoundError,
    PayloadTooLargeError,
    PermissionDeniedError,
    UnsupportedMediaTypeError,
    error_body,
)
from app.infra.request_records import RecordObserver, RequestRecord, note_error, open_record, reset_record

logger = logging.getLogger("app.errors")


class EnvelopeResponse(JSONResponse):
    """An error envelope as ASCII JSON: whatever a message quotes from the request (a model name with a
    lone surrogate, say) is escaped, so rendering an error can never fail."""

    def render(self, content: Any) -> bytes:
        return json.dumps(content, ensure_ascii=True, separators=(",", ":")).encode("ascii")


def error_response(error: GatewayError) -> EnvelopeResponse:
    note_error(error.code)
    return EnvelopeResponse(error.to_dict(), status_code=error.status_code, headers=error.headers)


def invalid_request(errors: Sequence[Any]) -> InvalidRequestError:
    """Pydantic's first validation error as a 400 naming the parameter (`messages.0.content`); a body that
    is not JSON at all names none (the parser's position is in the message)."""
    first = errors[0] if errors else {}
    if first.get("type") == "json_invalid":
        detail = (first.get("ctx") or {}).get("error") or first.get("msg", "")
        return InvalidRequestError(f"the request body is not valid JSON ({detail})", code="invalid_json")
    location = [str(p) for p in first.get("loc", ()) if p not in ("body", "query", "path", "header")]
    param = ".".join(location) or None
    message = first.get("msg", "invalid request")
    return InvalidRequestError(f"{param}: {message}" if param else message, param=param, code="invalid_value")


_HTTP_TYPES = {
    400: InvalidRequestError,
    401: AuthenticationError,
    403: PermissionDeniedError,
    404: NotFoundError,
    409: ConflictError,
    413: PayloadTooLargeError,
    415: UnsupportedMediaTypeError,
}


def install_error_handlers(app: FastAPI) -> None:
    @app.exception_handler(GatewayError)
    async def _gateway_error(request: Request, exc: GatewayError) -> JSONResponse:
        return error_response(exc)

    @app.exception_handler(RequestValidationError)
    async def _validation_error(request: Request, exc: RequestValidationError) -> JSONResponse:
        return error_response(invalid_request(exc.errors()))

    @app.exception_handler(StarletteHTTPException)
    async def _http_error(request: Request, exc: StarletteHTTPException) -> JSONResponse:
        cls = _HTTP_TYPES.get(exc.status_code, InvalidRequestError if exc.status_code < 500 else GatewayError)
        error = cls(str(exc.detail))
        note_error(error.code)
        body = error_body(error.message, error.error_type, None, error.code)
        return EnvelopeResponse(body, status_code=exc.status_code, headers=getattr(exc, "headers", None))


class RequestContextMiddleware:
    """Gives every request an id (the caller's `X-Request-ID` or a new one), echoed in the response,
    and turns anything unexpected into a logged 500 envelope that names that id.

    It also opens the request's `RequestRecord` (see `app.infra.request_records`) and, once the response has
    been sent (a stream included), closes it with the status and hands it to `on_finished`.

    Catching here rather than in Starlette's outermost handler keeps the connection usable: that
    handler re-raises to the server, which then drops the keep-alive connection.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        route_of: Callable[[Scope], str] | None = None,
        on_finished: RecordObserver | None = None,
    ) -> None:
        self.app = app
        self.route_of = route_of or (lambda scope: "")
        self.on_finished = on_finished

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        request_id = next((v.decode("latin-1") for k, v in scope["headers"] if k == b"x-request-id"), "")
        request_id = request_id[:64] or uuid.uuid4().hex
        scope["request_id"] = request_id
        header = (b"x-request-id", request_id.encode("latin-1"))
        record = RequestRecord(request_id, scope["method"], "", route_resolver=lambda: self.route_of(scope))
        token = open_record(record)
        status = 0

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), header]
            await send(message)

        try:
            await self.app(scope, receive, send_with_id)
        except Exception:
            logger.exception("unhandled error in %s %s [request_id=%s]", scope["method"], scope["path"], request_id)
            if status:
                status = 500  # the response had begun: the client got a broken one
                raise
            record.error_code = "internal_error"
            body = error_body(
                f"internal error (request id {request_id}); the server log has the details",
                "server_error",
                None,
                "internal_error",
            )
            await EnvelopeResponse(body, status_code=500)(scope, receive, send_with_id)
        finally:
            reset_record(token)
            record.route, record.route_resolver = self.route_of(scope), None
            record.close(status or 499)
            if self.on_finished is not None:
                self.on_finished(record)
