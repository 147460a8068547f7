"""The Whisper slot: OpenAI's Whisper, or any fine-tune of it, through transformers.

A Hub id or a local folder in transformers' layout (`config.json`, `generation_config.json`, weights,
tokenizer, `preprocessor_config.json`), such as openai/whisper-large-v3-turbo. float16 on a GPU, float32 on
the CPU. Whisper hears at most 30 s at once (`max_piece_s`): the transcription service cuts longer audio
into pieces of at most that, and `transcribe_batch` runs one `generate` over a batch of pieces.

Unlike Canary, Whisper tells the spoken language itself (`identify_languages`, its language token on the
first 30 s): the speech pipeline asks it once per request, then every piece of the request is transcribed
with that language forced, so the language is one of the batch's options. It translates into English
only (task `translate`). Segment times come from its timestamp tokens; word times from the cross-attention
of the alignment heads named in the generation config (`alignment_heads`), when the checkpoint has them.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any, ClassVar

from app.config import Settings
from app.errors import InvalidRequestError
from app.models.base import describe_error
from app.models.roles import ASRWrapper
from app.models.types import TimedText, TranscribeOptions, Transcript

if TYPE_CHECKING:
    import numpy as np

WHISPER_ALLOW_PATTERNS = ["*.json", "*.txt", "*.safetensors"]
"""Config, generation config, tokenizer (tokenizer.json, vocab.json, merges.txt), feature extractor, weights."""
SAMPLE_RATE = 16000
WINDOW_S = 30.0
"""Whisper's encoder takes 30 s of audio (3000 mel frames) at once."""
TRANSLATION_TARGET = "en"
"""The one language Whisper translates into."""


class WhisperASRModel(ASRWrapper):
    one_gpu = "an ASR model"
    settings_prefix = "WHISPER"
    device_setting = "WHISPER_GPU_DEVICE_ID"
    sample_rate = SAMPLE_RATE
    max_piece_s: ClassVar[float] = WINDOW_S

    def __init__(self, settings: Settings, token_provider: Callable[[], str | None], key: str = "whisper") -> None:
        super().__init__(
            key=key,
            model_id=settings.whisper_model_id,
            cache_dir=settings.model_cache_dir,
            token_provider=token_provider,
            revision=settings.whisper_revision,
            allow_patterns=WHISPER_ALLOW_PATTERNS,
            hub_endpoint=settings.hf_endpoint,
        )
        self.settings = settings
        self.model: Any = None
        self.processor: Any = None
        self._device = "cpu"
        self._dtype: Any = None
        self._multilingual = True
        self._language_ids: dict[str, int] = {}
        """Language code -> its token id (`en` -> 50259)."""
        self._codes: dict[int, str] = {}
        self._word_times = False
        self._lock = threading.Lock()
        """One model call at a time: language identification and transcription run on different threads."""

    @property
    def served_names(self) -> list[str]:
        return list(dict.fromkeys([self.public_model_id, *self.settings.whisper_model_aliases, self.key]))

    @property
    def window_s(self) -> float:
        """Longest piece handed to the model at once."""
        return min(self.settings.asr_window_s, WINDOW_S)

    def default_devices(self, gpu_count: int) -> list[str]:
        return self.select_devices([self.settings.whisper_gpu_device_id]) if gpu_count else ["cpu"]

    # --- lifecycle --------------------------------------------------------------------------------
    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        return await asyncio.to_thread(self._restore, path, devices[0])

    def _restore(self, path: Path, device: str) -> dict[str, Any]:
        import torch
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        try:
            processor = WhisperProcessor.from_pretrained(str(path))
            model = WhisperForConditionalGeneration.from_pretrained(str(path), dtype=dtype)
        except Exception as exc:
            raise RuntimeError(f"transformers could not load a Whisper model from it: {describe_error(exc)}") from exc
        rate = int(processor.feature_extractor.sampling_rate)
        if rate != SAMPLE_RATE:
            raise ValueError(f"the model expects {rate} Hz audio; the gateway feeds models {SAMPLE_RATE} Hz")
        if processor.feature_extractor.feature_size != model.config.num_mel_bins:
            raise ValueError(
                f"the feature extractor makes {processor.feature_extractor.feature_size} mel bins, the model takes "
                f"{model.config.num_mel_bins}"
            )
        model.to(device)  # type: ignore[arg-type]  # transformers wraps `to` in a decorator mypy misreads
        model.eval()
        generation = model.generation_config
        lang_to_id: dict[str, int] = getattr(generation, "lang_to_id", None) or {}
        multilingual = bool(getattr(generation, "is_multilingual", False) and lang_to_id)
        language_ids = {token.strip("<|>"): int(i) for token, i in lang_to_id.items()} if multilingual else {}
        word_times = bool(getattr(generation, "alignment_heads", None))
        self.model, self.processor, self._device, self._dtype = model, processor, device, dtype
        self._multilingual, self._language_ids, self._word_times = multilingual, language_ids, word_times
        self._codes = {i: code for code, i in language_ids.items()}
        return {
            "path": str(path),
            "model_class": type(model).__name__,
            "multilingual": multilingual,
            "languages": sorted(language_ids) if multilingual else [TRANSLATION_TARGET],
            "translates_to": [TRANSLATION_TARGET] if multilingual else [],
            "detects_language": multilingual,
            "word_timestamps": word_times,
            "sample_rate": rate,
            "device": device,
            "dtype": str(dtype).removeprefix("torch."),
            "window_s": self.window_s,
        }

    async def _unload(self) -> None:
        # The base class collects garbage and empties the CUDA cache afterwards.
        self.model = self.processor = None

    # --- inference --------------------------------------------------------------------------------
    def check_options(self, options: TranscribeOptions) -> None:
        """Whisper translates into English only, and an English-only checkpoint not at all."""
        source, target = options.source_lang, options.target_lang
        if target is None or source is None or target == source or (self._multilingual and target == "en"):
            return
        if self._multilingual:
            message = f"target_language '{target}': {self.public_model_id} translates only into English; send 'en'"
        else:
            message = f"{self.public_model_id} is an English-only model: it cannot translate"
        raise InvalidRequestError(message, param="target_language")

    def _features(self, audios: list[np.ndarray]) -> tuple[Any, Any]:
        """Log-mel features of up to 30 s each, padded to 30 s, and the mask of the real frames."""
        extracted = self.processor.feature_extractor(
            audios,
            sampling_rate=SAMPLE_RATE,
            return_tensors="pt",
            return_attention_mask=True,
            device=self._device,
        )
        features = extracted.input_features.to(self._device, dtype=self._dtype)
        return features, extracted.attention_mask.to(self._device)

    def identify_languages(self, audios: list[np.ndarray]) -> list[str]:
        """The language Whisper hears in each mono float32 16 kHz clip (its first 30 s), as Whisper's code
        (ISO 639-1 mostly: `en`, `fr`; `haw`, `yue`). An English-only checkpoint hears English."""
        import torch

        if self.model is None:
            raise self.unavailable_error()
        if not self._multilingual or not audios:
            return [TRANSLATION_TARGET] * len(audios)
        with self._lock, torch.inference_mode():
            features, _ = self._features(audios)
            ids = self.model.detect_language(input_features=features).tolist()
        return [self._codes[int(i)] for i in ids]

    def transcribe_batch(self, audios: list[np.ndarray], options: TranscribeOptions) -> list[Transcript]:
        """Transcribe (or translate into English) mono float32 16 kHz pieces of at most 30 s in one `generate`
        call (blocking: run it on a thread). Without `source_lang`, Whisper detects each piece's language."""
        import torch

        model = self.model
        if model is None:
            raise self.unavailable_error()
        if not audios:
            return []
        self.check_options(options)
        kwargs: dict[str, Any] = {}
        if self._multilingual:
            source = options.source_lang
            if source is not None and source not in self._language_ids:
                known = ", ".join(sorted(self._language_ids))
                raise InvalidRequestError(
                    f"language '{source}' is not supported by {self.public_model_id}; use one of {known}",
                    param="language",
                )
            translate = options.target_lang is not None and options.target_lang != source
            kwargs = {"language": source, "task": "translate" if translate else "transcribe"}
        words = options.timestamps and self._word_times
        with self._lock, torch.inference_mode(), self._eager_attention(words):
            features, mask = self._features(audios)
            if options.timestamps:
                kwargs |= {"return_timestamps": True, "return_segments": True, "return_token_timestamps": words}
            output = model.generate(features, attention_mask=mask, **kwargs)
        durations = [len(audio) / SAMPLE_RATE for audio in audios]
        if not options.timestamps:
            texts = self.processor.tokenizer.batch_decode(output, skip_special_tokens=True)
            return [Transcript(text.strip()) for text in texts]
        languages = [options.source_lang] * len(audios)
        return [
            self._timed_transcript(segments, duration, words, language)
            for segments, duration, language in zip(output["segments"], durations, languages, strict=True)
        ]

    @contextlib.contextmanager
    def _eager_attention(self, needed: bool) -> Any:
        """Word times need the attention weights, which `generate` gets by switching the model to eager
        attention for good; the switch is undone after the call so later batches keep the faster kernels."""
        config = self.model.config
        before = config._attn_implementation
        try:
            yield
        finally:
            if needed and config._attn_implementation != before:
                config._attn_implementation = before

    def _timed_transcript(
        self, segments: list[dict[str, Any]], duration_s: float, words: bool, language: str | None
    ) -> Transcript:
        """A piece's transcript from `generate`'s segments, times clipped to the piece."""
        tokenizer = self.processor.tokenizer
        first_special = tokenizer.convert_tokens_to_ids("<|endoftext|>")
        timed_segments: list[TimedText] = []
        timed_words: list[TimedText] = []

        def clip(start: float, end: float) -> tuple[float, float]:
            start = min(max(start, 0.0), duration_s)
            return start, min(max(end, start), duration_s)

        for segment in segments:
            tokens = [int(t) for t in segment["tokens"].tolist()]
            text = tokenizer.decode(tokens, skip_special_tokens=True).strip()
            start, end = clip(float(segment["start"]), float(segment["end"]))
            if text:
                timed_segments.append(TimedText(text, start, end))
            if words and "token_timestamps" in segment:
                times = [float(t) for t in segment["token_timestamps"].tolist()]
                timed_words += self._words(tokens, times, first_special, end, language, clip)
        text = " ".join(s.text for s in timed_segments)
        return Transcript(text, timed_words, timed_segments)

    def _words(
        self,
        tokens: list[int],
        times: list[float],
        first_special: int,
        segment_end: float,
        language: str | None,
        clip: Callable[[float, float], tuple[float, float]],
    ) -> list[TimedText]:
        """Words from text tokens and the time each token starts (cross-attention alignment): a word runs
        from its first token's time to the next token's."""
        from transformers.models.whisper.tokenization_whisper import LANGUAGES, _combine_tokens_into_words

        kept = [(token, time) for token, time in zip(tokens, times, strict=False) if token < first_special]
        if not kept:
            return []
        text_tokens, starts = [t for t, _ in kept], [s for _, s in kept]
        name = LANGUAGES.get(language or "", "english")
        found, _, indices = _combine_tokens_into_words(self.processor.tokenizer, text_tokens, name)
        timed = []
        for word, where in zip(found, indices, strict=True):
            if not word.strip() or not where:
                continue
            after = where[-1] + 1
            start, end = clip(starts[where[0]], starts[after] if after < len(starts) else segment_end)
            timed.append(TimedText(word.strip(), start, end))
        return timed
