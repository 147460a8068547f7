"""Transcription on top of ASR wrappers: long audio split into pieces, pieces batched across requests."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.infra.audio_io import DecodedAudio
from app.models.roles import ASRWrapper
from app.models.types import TranscribeOptions, Transcript
from app.services.asr_batching import Announcement, DynamicBatcher
from app.services.audio_chunking import transcribe_in_pieces

if TYPE_CHECKING:
    from app.services.model_registry import ModelRegistry


class TranscriptionService:
    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self._batchers: dict[str, DynamicBatcher[Any, TranscribeOptions, Transcript]] = {}

    @classmethod
    def for_gateway(cls, settings: Settings, registry: ModelRegistry) -> TranscriptionService:
        """The service of the ASR slots (`app.slots.SLOTS`)."""
        return cls(settings)

    def batcher(self, wrapper: ASRWrapper) -> DynamicBatcher[Any, TranscribeOptions, Transcript]:
        if wrapper.key not in self._batchers:
            settings = self.settings
            self._batchers[wrapper.key] = DynamicBatcher(
                wrapper.key,
                wrapper.transcribe_batch,
                batch_size=settings.asr_batch_size,
                max_wait_s=settings.asr_batch_wait_ms / 1000,
                queue_size=settings.asr_queue_size,
                max_announced_wait_s=settings.asr_batch_decode_wait_ms / 1000,
            )
        return self._batchers[wrapper.key]

    def announce(self, wrapper: ASRWrapper, options: TranscribeOptions | None) -> Announcement[TranscribeOptions]:
        """A request for `wrapper` on its way (its upload is being decoded): batches with its options wait
        for it a little (`ASR_BATCH_DECODE_WAIT_MS`). `options=None` when its language is not known yet."""
        return self.batcher(wrapper).announce(options)

    def window_s(self, wrapper: ASRWrapper) -> float:
        """The longest piece `wrapper` gets: ASR_WINDOW_S, or less for a model that hears less at once."""
        return min(self.settings.asr_window_s, wrapper.max_piece_s)

    async def transcribe(
        self,
        wrapper: ASRWrapper,
        audio: DecodedAudio,
        options: TranscribeOptions,
        announcement: Announcement[TranscribeOptions] | None = None,
    ) -> Transcript:
        batcher = self.batcher(wrapper)
        return await transcribe_in_pieces(
            audio.samples,
            audio.sample_rate,
            self.window_s(wrapper),
            lambda pieces: batcher.submit(pieces, options, announcement),
        )

    def stats(self) -> dict[str, dict[str, float | int]]:
        return {key: batcher.stats() for key, batcher in self._batchers.items()}

    def batch_sizes(self) -> dict[str, list[int]]:
        """Per model slot, how many batches of each size (the index) ran."""
        return {key: list(batcher.batch_sizes) for key, batcher in self._batchers.items()}

    async def stop(self) -> None:
        for batcher in self._batchers.values():
            await batcher.stop()
