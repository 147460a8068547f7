"""Text to speech on top of speech synthesis wrappers: the text cut into pieces (sentences), the pieces
batched across requests, the audio encoded and streamed as it is made.

A request is admitted whole or not at all: its pieces are counted against the model's queue
(`TTS_QUEUE_SIZE`) before anything is sent, so a full queue is a `429` with `Retry-After`, never a stream
cut short. Its first piece (the first sentence) is synthesised alone, before the response starts (so
that a failure is still a JSON error), and goes to the encoder at once; the other pieces are queued
then, each on its own, so they share batches with each other and with other requests' pieces and come
back batch by batch. The client hears the first sentence while the rest is being made.
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import re
import time
from collections import deque
from collections.abc import AsyncIterator, Callable
from contextlib import AsyncExitStack
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.errors import InvalidRequestError, RateLimitError
from app.infra.audio_encoding import CONTENT_TYPES, Encoder, SpeechFormat, open_encoder
from app.infra.request_records import RequestRecord, current_record
from app.models.roles import SpeechSynthesisWrapper
from app.models.types import SynthesisOptions
from app.services.asr_batching import DynamicBatcher
from app.slots import Role

if TYPE_CHECKING:
    import numpy as np

    from app.services.model_registry import ModelRegistry

MAX_INPUT_CHARS = 4096
"""OpenAI's limit on `input`."""
MAX_PIECE_CHARS = 250
"""Longest piece handed to the model: sentences are packed up to it, longer ones cut at a comma or a space.
Packed pieces are each longer than half of it (but the first and the last), so an input of
MAX_INPUT_CHARS makes at most 2 * 4096 / 250 + 2 = 35 pieces, which TTS_QUEUE_SIZE (at least 64) holds."""
_SENTENCE_END = re.compile(r"(?<=[.!?\u2026])\s+|(?<=[\u3002\uff01\uff1f])\s*|\s*\n\s*\n\s*")
"""Where sentences end: after . ! ? or an ellipsis and a space, after CJK full stops, at a blank line."""
_CUT_AFTER = re.compile(r"[,;:]\s|[\uff0c\u3001\uff1b\uff1a]")
"""Where a sentence too long for one piece is best cut: after a comma, a semicolon or a colon."""


def split_text(text: str, max_chars: int = MAX_PIECE_CHARS) -> list[str]:
    """The pieces `text` is synthesised in: its first sentence alone (it is heard first, so it comes first),
    then the other sentences packed into pieces of at most `max_chars` characters. Whitespace is collapsed."""
    sentences: list[str] = []
    for sentence in _SENTENCE_END.split(text):
        sentence = " ".join(sentence.split())
        while len(sentence) > max_chars:
            head = sentence[: max_chars + 1]
            cuts = [m.end() for m in _CUT_AFTER.finditer(head)] or [i + 1 for i, c in enumerate(head) if c == " "]
            cut = max(cuts, default=max_chars)
            sentences.append(sentence[:cut].strip())
            sentence = sentence[cut:].strip()
        if sentence:
            sentences.append(sentence)
    if not sentences:
        return []
    pieces = [sentences[0]]
    for sentence in sentences[1:]:
        if len(pieces) > 1 and len(pieces[-1]) + 1 + len(sentence) <= max_chars:
            pieces[-1] = f"{pieces[-1]} {sentence}"
        else:
            pieces.append(sentence)
    return pieces


@dataclass(frozen=True, slots=True)
class SpeechRequest:
    """What the route hands over, validated for its types and ranges."""

    model: str
    text: str
    voice: str
    audio_format: SpeechFormat = "mp3"
    speed: float = 1.0


class _ModelQueue:
    """A model's batcher, and the pieces admitted requests have not queued yet (`reserved`)."""

    def __init__(self, wrapper: SpeechSynthesisWrapper, settings: Settings) -> None:
        self.seconds_per_piece = 1.0
        self.batcher: DynamicBatcher[str, SynthesisOptions, np.ndarray] = DynamicBatcher(
            wrapper.key,
            self._timed(wrapper.synthesize),
            batch_size=settings.tts_batch_size,
            max_wait_s=settings.tts_batch_wait_ms / 1000,
            queue_size=settings.tts_queue_size,
        )
        self.reserved = 0
        self.requests = 0
        self.completed = 0
        self.streaming = 0
        self.audio_seconds = 0.0
        self._first_audio_s: deque[float] = deque(maxlen=100)

    def _timed(
        self, synthesize: Callable[[list[str], SynthesisOptions], list[np.ndarray]]
    ) -> Callable[[list[str], SynthesisOptions], list[np.ndarray]]:
        def run(texts: list[str], options: SynthesisOptions) -> list[np.ndarray]:
            started = time.perf_counter()
            audios = synthesize(texts, options)
            self.seconds_per_piece = max(0.01, (time.perf_counter() - started) / max(1, len(texts)))
            return audios

        return run

    def admit(self, pieces: int) -> None:
        """Reserve room for `pieces`, or refuse the request (429) when the queue cannot hold them."""
        batcher = self.batcher
        taken = batcher.waiting + self.reserved
        if taken + pieces > batcher.queue_size:
            raise RateLimitError(
                f"'{batcher.name}' has {taken} text pieces waiting and no room for {pieces} more (TTS_QUEUE_SIZE); "
                "retry shortly",
                retry_after_s=max(1, math.ceil(self.seconds_per_piece * (taken + pieces))),
                code="queue_full",
            )
        self.reserved += pieces

    def opened(self) -> None:
        self.requests += 1
        self.streaming += 1

    def finished(self, stream: SpeechStream) -> None:
        self.streaming -= 1
        self.audio_seconds += stream.audio_seconds
        if stream.completed:
            self.completed += 1
        if stream.time_to_first_audio_s is not None:
            self._first_audio_s.append(stream.time_to_first_audio_s)

    def stats(self) -> dict[str, Any]:
        first = sorted(self._first_audio_s)
        return {
            **self.batcher.stats(),
            "reserved": self.reserved,
            "requests": self.requests,
            "completed": self.completed,
            "streaming": self.streaming,
            "audio_seconds": round(self.audio_seconds, 3),
            "time_to_first_audio_s": round(first[len(first) // 2], 4) if first else None,
        }

    async def synthesize(self, text: str, options: SynthesisOptions) -> np.ndarray:
        """One reserved piece, queued now."""
        self.reserved -= 1
        return (await self.batcher.submit([text], options))[0]


class SpeechStream:
    """One admitted request: its model held, its first piece's audio made, FFmpeg started. `body()` is the
    encoded audio; `close()` lets go of everything, however the stream ended (call it once)."""

    def __init__(
        self,
        queue: _ModelQueue,
        pieces: list[str],
        options: SynthesisOptions,
        sample_rate: int,
        encoder: Encoder,
        holder: AsyncExitStack,
    ) -> None:
        self._queue = queue
        self._pieces = pieces
        self._unqueued = len(pieces)
        self.options = options
        self.sample_rate = sample_rate
        self.encoder = encoder
        self._holder = holder
        self._first: np.ndarray | None = None
        self._started = time.perf_counter()
        self.record: RequestRecord | None = current_record()
        self.samples = 0
        self.time_to_first_audio_s: float | None = None
        self.completed = False
        self._closed = False

    @property
    def media_type(self) -> str:
        return CONTENT_TYPES[self.encoder.audio_format]

    async def synthesize_first(self) -> None:
        self._unqueued -= 1
        self._first = await self._queue.synthesize(self._pieces[0], self.options)

    async def _audio(self) -> AsyncIterator[np.ndarray]:
        """The pieces' audio in order: the first one (already made), then the others as their batches end."""
        assert self._first is not None
        first, self._first = self._first, None
        yield self._count(first)
        rest = self._pieces[1:]
        self._unqueued -= len(rest)
        tasks = [asyncio.ensure_future(self._queue.synthesize(piece, self.options)) for piece in rest]
        try:
            for task in tasks:
                yield self._count(await task)
        finally:
            for task in tasks:
                task.cancel()
            await asyncio.gather(*tasks, return_exceptions=True)

    def _count(self, audio: np.ndarray) -> np.ndarray:
        self.samples += len(audio)
        if self.record is not None:
            self.record.produced_audio(self.samples / self.sample_rate)
        return audio

    async def body(self) -> AsyncIterator[bytes]:
        # aclosing: a stream closed early (a client that left) stops the encoder's feed and the synthesis now.
        async with contextlib.aclosing(self.encoder.encode(self._audio())) as encoded:
            async for data in encoded:
                if self.time_to_first_audio_s is None:
                    self.time_to_first_audio_s = time.perf_counter() - self._started
                yield data
        self.completed = True

    @property
    def audio_seconds(self) -> float:
        return self.samples / self.sample_rate if self.sample_rate else 0.0

    async def close(self) -> None:
        if self._closed:
            return
        self._closed = True
        self._queue.reserved -= self._unqueued  # the pieces never queued (a request that ended early)
        self._unqueued = 0
        try:
            await self.encoder.close()
        finally:
            await self._holder.aclose()
            self._queue.finished(self)


class SpeechSynthesisService:
    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self._queues: dict[str, _ModelQueue] = {}

    @classmethod
    def for_gateway(cls, settings: Settings, registry: ModelRegistry) -> SpeechSynthesisService:
        """The service of the speech synthesis slots (`app.slots.SLOTS`)."""
        return cls(settings, registry)

    def queue(self, wrapper: SpeechSynthesisWrapper) -> _ModelQueue:
        if wrapper.key not in self._queues:
            self._queues[wrapper.key] = _ModelQueue(wrapper, self.settings)
        return self._queues[wrapper.key]

    async def open(self, request: SpeechRequest) -> SpeechStream:
        """Resolve the model (404), check the text (400) and hold the model (lazily loaded), check the voice
        (400), admit the pieces (429), start FFmpeg and synthesise the first piece: every refusal comes
        before the response starts."""
        self.registry.resolve(request.model, Role.SPEECH_SYNTHESIS)
        if len(request.text) > MAX_INPUT_CHARS:
            raise InvalidRequestError(
                f"input is {len(request.text)} characters long; the limit is {MAX_INPUT_CHARS}", param="input"
            )
        pieces = split_text(request.text)
        if not pieces:
            raise InvalidRequestError("input holds no text to speak", param="input")
        holder = AsyncExitStack()
        try:
            wrapper = await holder.enter_async_context(self.registry.acquire(request.model, Role.SPEECH_SYNTHESIS))
            voices = wrapper.voices()
            if request.voice not in voices:
                raise InvalidRequestError(
                    f"voice '{request.voice}' is not available for {wrapper.public_model_id}; "
                    f"use one of {', '.join(voices)}",
                    param="voice",
                )
            queue = self.queue(wrapper)
            queue.admit(len(pieces))
        except BaseException:
            await holder.aclose()
            raise
        encoder = open_encoder(wrapper.sample_rate, request.audio_format)
        stream = SpeechStream(
            queue,
            pieces,
            SynthesisOptions(request.voice, request.speed),
            wrapper.sample_rate,
            encoder,
            holder,
        )
        queue.opened()
        try:
            await encoder.start()
            await stream.synthesize_first()
        except BaseException:
            await stream.close()
            raise
        return stream

    def stats(self) -> dict[str, dict[str, Any]]:
        """GET /api/admin/status's `speech_batching`, per model slot that has served a request: its batcher
        (`waiting` pieces queued, `reserved` for admitted requests), its requests (`streaming` now) and the
        median time to the first audio byte of its last 100 requests."""
        return {key: queue.stats() for key, queue in self._queues.items()}

    def batch_sizes(self) -> dict[str, list[int]]:
        """Per model slot, how many batches of each size (the index) ran."""
        return {key: list(queue.batcher.batch_sizes) for key, queue in self._queues.items()}

    async def stop(self) -> None:
        for queue in self._queues.values():
            await queue.batcher.stop()
