"""The spoken language of a transcription: the one the request gives, else detected, else the default.

A request without a language has it detected when the ASR model can identify languages itself (a
wrapper with `identify_languages`; Canary cannot), or else when the optional `langid` slot is served
(`ENABLED_MODELS=...,langid`, a NeMo language identification model). Otherwise `ASR_DEFAULT_LANGUAGE`
applies. A detected or default language the ASR model does not support is a 400 naming `language` and
the supported codes. ASR models without language prompts (CTC, RNNT) take none: the default is
reported for them and nothing is detected.

Identification listens to the first `LANGID_WINDOW_S` seconds of the decoded audio. Its calls are batched
across requests like ASR pieces (`DynamicBatcher`, one call at a time per model on a worker thread, with
the `ASR_BATCH_SIZE`, `ASR_BATCH_WAIT_MS` and `ASR_QUEUE_SIZE` settings).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

from app.config import Settings
from app.errors import InvalidRequestError, ModelNotFoundError
from app.infra.audio_io import DecodedAudio
from app.models.base import BaseModelWrapper
from app.models.roles import IdentifiesLanguages
from app.services.asr_batching import DynamicBatcher
from app.slots import Role

if TYPE_CHECKING:
    import numpy as np

    from app.services.model_registry import ModelRegistry


@dataclass(frozen=True)
class Identifier:
    """What tells a request's spoken language: `wrapper` (held for the request, its key names the batches)
    and its `identify_languages`."""

    wrapper: BaseModelWrapper
    identify_languages: Callable[[list[np.ndarray]], list[str]]


@dataclass(frozen=True, slots=True)
class SpokenLanguage:
    code: str
    origin: Literal["request", "detected", "default"] = "request"


def check_language(code: str | None, param: str, server: dict[str, Any], origin: str = "request") -> None:
    """400 when the loaded model (its `server.languages`) does not know `code`; models without a list
    (CTC, RNNT) take any."""
    known = server.get("languages")
    if code is None or not known or code in known:
        return
    codes = ", ".join(known)
    if origin == "detected":
        message = f"the audio was identified as {param} '{code}', which this model does not support; send {param}"
    elif origin == "default":
        message = f"no {param} was given and the default, ASR_DEFAULT_LANGUAGE={code}, is not supported by this model"
        message += f"; send {param}"
    else:
        message = f"{param} '{code}' is not supported by this model; use an ISO 639-1 code"
    raise InvalidRequestError(f"{message} among: {codes}", param=param)


class LanguageService:
    def __init__(self, settings: Settings, registry: ModelRegistry) -> None:
        self.settings = settings
        self.registry = registry
        self._batchers: dict[str, DynamicBatcher[np.ndarray, None, str]] = {}

    @classmethod
    def for_gateway(cls, settings: Settings, registry: ModelRegistry) -> LanguageService:
        """The service of the language identification slots (`app.slots.SLOTS`)."""
        return cls(settings, registry)

    def identifier(self, asr: BaseModelWrapper) -> Identifier | None:
        """What detects the spoken language for the loaded ASR model `asr`: the model itself when it can,
        else the `langid` slot when served; None when nothing can, or when `asr` takes no language."""
        if not asr.runtime.server.get("languages"):
            return None
        if isinstance(asr, IdentifiesLanguages):  # a capability some ASR families have (Canary has not)
            return Identifier(asr, asr.identify_languages)
        try:
            langid = self.registry.resolve(
                self.registry.default_key(Role.LANGUAGE_IDENTIFICATION), Role.LANGUAGE_IDENTIFICATION
            )
        except ModelNotFoundError:
            return None
        return Identifier(langid, langid.identify_languages)

    def default(self, asr: BaseModelWrapper) -> SpokenLanguage:
        code = self.settings.asr_default_language
        check_language(code, "language", asr.runtime.server, origin="default")
        return SpokenLanguage(code, "default")

    def batcher(self, identifier: Identifier) -> DynamicBatcher[np.ndarray, None, str]:
        key = identifier.wrapper.key
        if key not in self._batchers:
            settings = self.settings
            self._batchers[key] = DynamicBatcher(
                key,
                lambda clips, _: identifier.identify_languages(clips),
                batch_size=settings.asr_batch_size,
                max_wait_s=settings.asr_batch_wait_ms / 1000,
                queue_size=settings.asr_queue_size,
            )
        return self._batchers[key]

    async def identify(self, identifier: Identifier, audio: DecodedAudio, asr: BaseModelWrapper) -> SpokenLanguage:
        """The language `identifier` hears in the first `LANGID_WINDOW_S` seconds; 400 when `asr` lacks it."""
        clip = audio.samples[: int(self.settings.langid_window_s * audio.sample_rate)]
        (code,) = await self.batcher(identifier).submit([clip], None)
        check_language(code, "language", asr.runtime.server, origin="detected")
        return SpokenLanguage(code, "detected")

    def stats(self) -> dict[str, dict[str, float | int]]:
        return {key: batcher.stats() for key, batcher in self._batchers.items()}

    async def stop(self) -> None:
        for batcher in self._batchers.values():
            await batcher.stop()
