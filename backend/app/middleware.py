"""ASGI middleware that must act before a route reads its body."""

from __future__ import annotations

from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from app.errors import PayloadTooLargeError


class UploadLimitMiddleware:
    """Answer 413 to a multipart upload whose declared length is over MAX_UPLOAD_MB, before any byte
    of it is read (a route's form parsing would otherwise spool the whole body first). Uploads
    without a Content-Length are still cut at the limit while they are copied."""

    def __init__(self, app: ASGIApp, max_upload_mb: float) -> None:
        self.app = app
        self.max_upload_mb = max_upload_mb
        # Room for the multipart envelope and the other form fields.
        self.max_bytes = int(max_upload_mb * 2**20) + 64 * 1024

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            headers = dict(scope["headers"])
            declared = headers.get(b"content-length", b"")
            multipart = headers.get(b"content-type", b"").startswith(b"multipart/")
            if multipart and declared.isdigit() and int(declared) > self.max_bytes:
                error = PayloadTooLargeError(
                    f"the request body is {int(declared) / 2**20:.1f} MiB; this server accepts uploads of at "
                    f"most {self.max_upload_mb:g} MiB (MAX_UPLOAD_MB)",
                    param="file",
                )
                response = JSONResponse(error.to_dict(), status_code=413, headers={"Connection": "close"})
                await response(scope, receive, send)
                return
        await self.app(scope, receive, send)
