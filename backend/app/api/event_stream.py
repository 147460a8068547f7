"""The response that streams a generation's server-sent events, and lets go of its model afterwards."""

from __future__ import annotations

from collections.abc import AsyncGenerator, Awaitable, Callable

import anyio
from starlette.responses import StreamingResponse
from starlette.types import Send


class EventStreamResponse(StreamingResponse):
    """SSE response that always closes its events and then calls `on_close`, however the stream ended:
    a departed client aborts the generation (closing its generator cancels the engine's work) and the
    model it held is released."""

    media_type = "text/event-stream"

    def __init__(
        self, events: AsyncGenerator[str, None] | AsyncGenerator[bytes, None], on_close: Callable[[], Awaitable[None]]
    ) -> None:
        super().__init__(events, headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})
        self._events = events
        self._on_close = on_close

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    await self._events.aclose()
                finally:
                    await self._on_close()
