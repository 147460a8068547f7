"""Text to speech: OpenAI's `POST /v1/audio/speech`, the audio streamed as it is made."""

from __future__ import annotations

from collections.abc import AsyncIterator, Awaitable, Callable
from typing import Annotated, Any

import anyio
from fastapi import APIRouter, Depends, Request
from starlette.responses import Response, StreamingResponse
from starlette.types import Send

from app.api.client_gone import CLIENT_GONE
from app.api.dependencies import Credentials, StateDep, require_client
from app.api.json_body import JsonBody
from app.api.schemas.errors import error_responses
from app.api.schemas.speech_synthesis import SpeechBody
from app.errors import InvalidRequestError
from app.infra.audio_encoding import CONTENT_TYPES
from app.infra.tasks import until_disconnected
from app.services.speech_synthesis import SpeechRequest, SpeechSynthesisService

router = APIRouter(
    tags=["audio"],
    dependencies=[Depends(require_client), *Credentials],
    responses=error_responses(400, 401, 404, 413, 429, 503, explicit=True),
)

AUDIO_CONTENT: dict[str, Any] = {
    media: {"schema": {"type": "string", "format": "binary"}} for media in dict.fromkeys(CONTENT_TYPES.values())
}


class AudioStreamResponse(StreamingResponse):
    """Streams the audio, then always closes its source and calls `on_close`, however the stream ended: a
    departed client stops the synthesis and FFmpeg, and the model it held is released."""

    def __init__(self, chunks: AsyncIterator[bytes], media_type: str, on_close: Callable[[], Awaitable[None]]) -> None:
        super().__init__(chunks, media_type=media_type, headers={"Cache-Control": "no-cache"})
        self._chunks = chunks
        self._on_close = on_close

    async def stream_response(self, send: Send) -> None:
        try:
            await super().stream_response(send)
        finally:
            with anyio.CancelScope(shield=True):
                try:
                    aclose = getattr(self._chunks, "aclose", None)
                    if aclose is not None:
                        await aclose()
                finally:
                    await self._on_close()


@router.post(
    "/v1/audio/speech",
    response_class=AudioStreamResponse,
    response_model=None,
    status_code=200,
    responses={200: {"description": "The audio, streamed as it is made (24 kHz mono)", "content": AUDIO_CONTENT}},
)
async def create_speech(
    body: Annotated[SpeechBody, Depends(JsonBody(SpeechBody))], request: Request, state: StateDep
) -> Response:
    """OpenAI's speech endpoint. Every refusal (model, voice, input, full queue) comes as a JSON error before
    the first byte of audio; the first sentence is synthesised before the response starts."""
    if body.stream_format == "sse":
        raise InvalidRequestError(
            "stream_format 'sse' is not supported by this server; use 'audio' (the audio itself is streamed)",
            param="stream_format",
            code="unsupported_value",
        )
    service = state.service("speech_synthesis", SpeechSynthesisService)
    asked = SpeechRequest(body.model, body.input, body.voice, body.response_format, body.speed)
    stream = await until_disconnected(request, service.open(asked))
    if stream is None:
        return Response(status_code=CLIENT_GONE)
    return AudioStreamResponse(stream.body(), stream.media_type, stream.close)
