"""What the services call on a wrapper of each role: one abstract base per `Role`.

A wrapper subclasses the contract of its role (`CanaryASRModel(ASRWrapper)`), and
`ModelRegistry.acquire(name, Role.ASR)` returns that contract, so a caller needs no narrowing. A new
role (translation, speech synthesis) adds a member to `app.slots.Role`, a contract here and its entry
in `ROLE_CONTRACTS`.
"""

from __future__ import annotations

import math
from abc import abstractmethod
from typing import TYPE_CHECKING, ClassVar, Protocol, runtime_checkable

from app.models.base import BaseModelWrapper
from app.models.types import (
    Diarization,
    DiarizeOptions,
    SynthesisOptions,
    TranscribeOptions,
    Transcript,
    TranslateOptions,
    Translation,
)
from app.slots import Role

if TYPE_CHECKING:
    import numpy as np

    from app.engines.base import LLMEngine
    from app.engines.upstream import UpstreamPool
    from app.models.prompts import PromptBuilder


class LLMWrapper(BaseModelWrapper):
    """A language model for /v1/chat/completions and /v1/completions (`services.openai_service`)."""

    role: ClassVar[Role] = Role.LLM
    system_fingerprint: str
    """The `system_fingerprint` of its responses; set by the load."""

    @abstractmethod
    def loaded(self) -> tuple[LLMEngine, PromptBuilder]:
        """The engine and the prompt builder of the loaded model (503 when not loaded)."""

    def upstream(self) -> UpstreamPool | None:
        """The servers a pass-through slot (`engine: upstream`) relays its requests to, instead of `loaded()`'s
        engine; None for a model that runs in this process."""
        return None


class ASRWrapper(BaseModelWrapper):
    """A speech-to-text model (`services.asr_service` batches its pieces across requests). One that can tell
    the spoken language also has `identify_languages` (`IdentifiesLanguages`): the speech pipeline then asks
    it when a request gives no language."""

    role: ClassVar[Role] = Role.ASR
    max_piece_s: ClassVar[float] = math.inf
    """The longest audio the model takes at once (Whisper: 30 s); pieces are at most this and ASR_WINDOW_S."""

    def check_options(self, options: TranscribeOptions) -> None:
        """400 when the loaded model cannot do what `options` ask (a translation it does not make), checked
        once the spoken language is settled; by default, anything goes."""

    @abstractmethod
    def transcribe_batch(self, audios: list[np.ndarray], options: TranscribeOptions) -> list[Transcript]:
        """One transcript per mono float32 16 kHz piece, all with `options` (blocking: run on a thread)."""


@runtime_checkable
class IdentifiesLanguages(Protocol):
    """What can tell the spoken language: a language identification wrapper, or an ASR wrapper that can."""

    key: str

    def identify_languages(self, audios: list[np.ndarray]) -> list[str]:
        """ISO 639 codes, one per mono float32 16 kHz clip (blocking)."""
        ...


class LanguageIdWrapper(BaseModelWrapper):
    """A spoken-language identification model (`services.languages` batches its clips)."""

    role: ClassVar[Role] = Role.LANGUAGE_IDENTIFICATION

    @abstractmethod
    def identify_languages(self, audios: list[np.ndarray]) -> list[str]:
        """ISO 639 codes, one per mono float32 16 kHz clip (blocking)."""


class DiarizationWrapper(BaseModelWrapper):
    """A speaker diarization model (`services.diarization_service` queues its files)."""

    role: ClassVar[Role] = Role.DIARIZATION

    @property
    @abstractmethod
    def replicas(self) -> int:
        """Copies of the pipeline a load makes: `diarize` may run on that many threads at once."""

    @abstractmethod
    def diarize(self, samples: np.ndarray, sample_rate: int, options: DiarizeOptions, replica: int = 0) -> Diarization:
        """Who spoke when (blocking; one thread per `replica` below `replicas` at once)."""


class TranslationWrapper(BaseModelWrapper):
    """A text translation model (`services.translation` batches its sentences across requests)."""

    role: ClassVar[Role] = Role.TRANSLATION

    @abstractmethod
    def language_codes(self) -> list[str]:
        """The languages the loaded model knows, as its own codes (`fra_Latn`)."""

    @abstractmethod
    def translate_batch(self, texts: list[str], options: TranslateOptions) -> list[Translation]:
        """One translation per text, all with `options` (blocking: run on a thread)."""


class SpeechSynthesisWrapper(BaseModelWrapper):
    """A text-to-speech model (`services.speech_synthesis` batches its sentences across requests)."""

    role: ClassVar[Role] = Role.SPEECH_SYNTHESIS

    @property
    @abstractmethod
    def sample_rate(self) -> int:
        """The rate of the audio `synthesize` returns."""

    @abstractmethod
    def voices(self) -> list[str]:
        """The voices a request may name (speakers of the checkpoint)."""

    @abstractmethod
    def synthesize(self, texts: list[str], options: SynthesisOptions) -> list[np.ndarray]:
        """Mono float32 audio at `sample_rate`, one per text, all with `options` (blocking)."""


ROLE_CONTRACTS: dict[Role, type[BaseModelWrapper]] = {
    contract.role: contract
    for contract in (
        LLMWrapper,
        ASRWrapper,
        LanguageIdWrapper,
        DiarizationWrapper,
        TranslationWrapper,
        SpeechSynthesisWrapper,
    )
}
"""The contract a wrapper of each role subclasses (checked when a slot is registered)."""
