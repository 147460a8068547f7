"""The gateway's one exception hierarchy; `app.api.error_handlers` maps it to OpenAI's error envelope.

Every error a client sees has the shape `{"error": {"message", "type", "param", "code"}}`.
"""

from __future__ import annotations

from typing import Any


class GatewayError(Exception):
    status_code = 500
    error_type = "server_error"
    code: str | None = None

    def __init__(
        self,
        message: str,
        *,
        param: str | None = None,
        code: str | None = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message)
        self.message = message
        self.param = param
        if code is not None:
            self.code = code
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        return error_body(self.message, self.error_type, self.param, self.code)


class InvalidRequestError(GatewayError):
    status_code = 400
    error_type = "invalid_request_error"


class AuthenticationError(GatewayError):
    status_code = 401
    error_type = "authentication_error"
    code = "invalid_api_key"


class PermissionDeniedError(GatewayError):
    status_code = 403
    error_type = "permission_error"
    code = "insufficient_permissions"


class NotFoundError(GatewayError):
    status_code = 404
    error_type = "invalid_request_error"
    code = "not_found"


class ModelNotFoundError(NotFoundError):
    code = "model_not_found"


class ConflictError(GatewayError):
    status_code = 409
    error_type = "conflict_error"
    code = "conflict"


class PayloadTooLargeError(GatewayError):
    status_code = 413
    error_type = "invalid_request_error"
    code = "payload_too_large"


class UnsupportedMediaTypeError(GatewayError):
    status_code = 415
    error_type = "invalid_request_error"
    code = "unsupported_media_type"


class RateLimitError(GatewayError):
    status_code = 429
    error_type = "rate_limit_error"
    code = "rate_limit_exceeded"

    def __init__(self, message: str, *, retry_after_s: int, code: str | None = None) -> None:
        super().__init__(message, code=code, headers={"Retry-After": str(max(1, retry_after_s))})


class QuotaExceededError(GatewayError):
    """A client's daily quota (QUOTAS) is used up: OpenAI's `insufficient_quota`, retried after UTC midnight."""

    status_code = 429
    error_type = "insufficient_quota"
    code = "insufficient_quota"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_s))})


class UpstreamRequestError(GatewayError):
    """An upstream server (an `engine: upstream` slot's replica) refused the request as the client's fault: its
    4xx status and its message, in our envelope."""

    error_type = "invalid_request_error"

    def __init__(self, message: str, *, status_code: int) -> None:
        super().__init__(message)
        self.status_code = status_code


class ModelUnavailableError(GatewayError):
    """The model exists but cannot serve now (absent, loading, unloading, failed)."""

    status_code = 503
    error_type = "service_unavailable_error"
    code = "model_not_loaded"

    def __init__(self, message: str, *, code: str | None = None, retry_after_s: int | None = None) -> None:
        headers = {"Retry-After": str(retry_after_s)} if retry_after_s else None
        super().__init__(message, code=code, headers=headers)


class LimitsUnavailableError(GatewayError):
    """The Redis that holds the shared rate limits and quota counters cannot be reached, and
    REDIS_FAILURE_MODE=closed: requests a limit applies to are refused until it answers again."""

    status_code = 503
    error_type = "service_unavailable_error"
    code = "limits_unavailable"

    def __init__(self, message: str, *, retry_after_s: int) -> None:
        super().__init__(message, headers={"Retry-After": str(max(1, retry_after_s))})


def error_body(
    message: str, error_type: str, param: str | None = None, code: str | None = None
) -> dict[str, dict[str, str | None]]:
    return {"error": {"message": message, "type": error_type, "param": param, "code": code}}
