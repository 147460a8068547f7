"""ASGI middleware that decides about a request before any of its body is read: who is calling (key,
admin or not, rate limit, daily quota) and how many body bytes it may send."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from app.api.error_handlers import error_response
from app.errors import (
    AuthenticationError,
    GatewayError,
    PayloadTooLargeError,
    PermissionDeniedError,
    RateLimitError,
)
from app.infra.auth import ANONYMOUS, Authenticator, Client, presented_key
from app.infra.rate_limit import ClientRateLimiter, RateLimiter
from app.infra.request_records import current_record
from app.services.usage import QuotaResource, UsageService

Access = Literal["public", "client", "admin"]
CLIENT_STATE_KEY = "client"
"""Where the caller is left for the routes: `scope["state"]["client"]` (`request.state.client`)."""


def access_for(path: str) -> Access:
    """Everything under `/v1` and `/api` needs a key; `/api/admin` and `/metrics` an admin key. The rest
    (health, the API documents, the dashboard's static files) is public."""
    if path in ("/api/admin", "/metrics") or path.startswith("/api/admin/"):
        return "admin"
    if path in ("/v1", "/api") or path.startswith(("/v1/", "/api/")):
        return "client"
    return "public"


def quota_resource(method: str, path: str) -> QuotaResource | None:
    """The daily quota a request draws on: tokens for the LLM's generations and for translations, audio
    seconds for transcription, diarization and job submissions; None for everything else."""
    if method != "POST":
        return None
    if path in ("/v1/chat/completions", "/v1/chat", "/v1/completions", "/v1/translate"):
        return "tokens"
    if path == "/api/jobs" or path.startswith(("/v1/audio/", "/api/audio/", "/api/diarization/")):
        return "audio"
    return None


@dataclass(frozen=True)
class BodyLimit:
    max_bytes: int
    max_mb: float
    variable: str
    param: str | None

    def error(self, size: int | None) -> PayloadTooLargeError:
        measured = f"is {size / 2**20:.1f} MiB" if size is not None else "goes on past the limit"
        kind = "uploads" if self.param else "request bodies"
        return PayloadTooLargeError(
            f"the request body {measured}; this server accepts {kind} of at most {self.max_mb:g} MiB ({self.variable})",
            param=self.param,
        )


class _BodyTooLarge(Exception):
    """Raised into the application from `receive` when the body goes over its limit."""


class AccessMiddleware:
    """Authenticates, authorises and rate-limits a request from its headers alone, then bounds its body.

    - A missing or unknown key is a `401`, a client key on an admin route a `403`, a client over its
      rate limit a `429`, a client whose daily quota of what the route uses is spent a `429`
      `insufficient_quota`: all answered before any body byte is read, so an anonymous client cannot make
      the gateway spool or parse anything. With REDIS_URL and Redis away under REDIS_FAILURE_MODE=closed,
      a request a limit applies to is a `503` `limits_unavailable`.
    - A body declared (`Content-Length`) over its limit is a `413` at once. A body sent without a length
      (chunked) is counted as the application reads it; the read that goes over the limit ends the
      request with a `413`, whatever the application was doing with it. Multipart bodies (uploads) are
      bounded by `MAX_UPLOAD_MB`, every other body by `MAX_JSON_BODY_MB`.
    """

    def __init__(
        self,
        app: ASGIApp,
        *,
        authenticator: Authenticator,
        rate_limiter: ClientRateLimiter,
        max_upload_mb: float,
        max_upload_bytes: int,
        max_json_body_mb: float,
        max_json_body_bytes: int,
        usage: UsageService | None = None,
    ) -> None:
        self.app = app
        self.usage = usage
        self.authenticator = authenticator
        self.rate_limiter = rate_limiter
        self.max_upload_mb = max_upload_mb
        self.max_upload_bytes = max_upload_bytes
        self.max_json_body_mb = max_json_body_mb
        self.max_json_body_bytes = max_json_body_bytes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        try:
            access = access_for(scope["path"])
            if access != "public":
                client = await self._authorise(scope, headers, access)
                scope.setdefault("state", {})[CLIENT_STATE_KEY] = client
            limit = self._body_limit(headers)
            declared = headers.get(b"content-length", b"")
            if declared.isdigit() and int(declared) > limit.max_bytes:
                raise limit.error(int(declared))
        except GatewayError as error:
            await self._refuse(error, scope, receive, send)
            return
        await self._bounded(scope, receive, send, limit)

    # --- who is calling -------------------------------------------------------------------------------
    async def _authorise(self, scope: Scope, headers: dict[bytes, bytes], access: Access) -> Client:
        if not self.authenticator.enabled:
            client = ANONYMOUS
            bucket = scope["client"][0] if scope.get("client") else "-"
        else:
            client = self._identify(headers)
            bucket = client.name
        record = current_record()
        if record is not None:
            record.client = client.name  # refusals below are logged under the client's name
        if access == "admin":
            if not client.is_admin:
                hint = "" if self.authenticator.has_admin_keys else " (no ADMIN_API_KEYS are configured)"
                raise PermissionDeniedError(f"This route needs an admin API key{hint}.")
            return client
        # With REDIS_URL both checks below are awaited Redis round trips (app/infra/shared_limits.py).
        wait = await self.rate_limiter.acquire(bucket) if self.rate_limiter.rpm > 0 else None
        if wait is not None:
            retry = RateLimiter.retry_after_header(wait)
            raise RateLimitError(
                f"Rate limit reached for '{bucket}': {self.rate_limiter.rpm} requests per minute. Retry in {retry} s.",
                retry_after_s=retry,
            )
        resource = quota_resource(scope["method"], scope["path"])
        if resource is not None and self.usage is not None:
            await self.usage.check_quota(client.name, resource)
        return client

    def _identify(self, headers: dict[bytes, bytes]) -> Client:
        authorization = headers.get(b"authorization")
        x_api_key = headers.get(b"x-api-key")
        key = presented_key(
            authorization.decode("latin-1") if authorization is not None else None,
            x_api_key.decode("latin-1") if x_api_key is not None else None,
        )
        if key is None:
            raise AuthenticationError(
                "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
            )
        client = self.authenticator.identify(key)
        if client is None:
            raise AuthenticationError("Incorrect API key provided.")
        return client

    # --- how much body ----------------------------------------------------------------------------------
    def _body_limit(self, headers: dict[bytes, bytes]) -> BodyLimit:
        if headers.get(b"content-type", b"").lower().startswith(b"multipart/"):
            return BodyLimit(self.max_upload_bytes, self.max_upload_mb, "MAX_UPLOAD_MB", "file")
        return BodyLimit(self.max_json_body_bytes, self.max_json_body_mb, "MAX_JSON_BODY_MB", None)

    async def _bounded(self, scope: Scope, receive: Receive, send: Send, limit: BodyLimit) -> None:
        received = 0
        exceeded = False
        response_started = False

        async def counted_receive() -> Message:
            nonlocal received, exceeded
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit.max_bytes:
                    exceeded = True
                    raise _BodyTooLarge
            return message

        async def guarded_send(message: Message) -> None:
            nonlocal response_started
            if exceeded and not response_started:
                return  # the application's answer to the interrupted read; the 413 replaces it
            response_started = response_started or message["type"] == "http.response.start"
            await send(message)

        try:
            await self.app(scope, counted_receive, guarded_send)
        except Exception:
            if not exceeded or response_started:
                raise
        if exceeded and not response_started:
            await self._refuse(limit.error(None), scope, receive, send)

    @staticmethod
    async def _refuse(error: GatewayError, scope: Scope, receive: Receive, send: Send) -> None:
        response = error_response(error)
        if isinstance(error, PayloadTooLargeError):
            response.headers["Connection"] = "close"  # the rest of the body is not read
        await response(scope, receive, send)
