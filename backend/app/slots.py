"""The model slots the gateway knows: one table, and the roles a slot can play.

Everything per slot is derived from `SLOTS`: the names `ENABLED_MODELS` accepts and its default
(`config.MODEL_SLOTS`, `config.DEFAULT_SLOTS`), the registry's default wrappers, the services in the
application state (built, and stopped, by the lifespan) and the sections of the admin status. Adding a
model family is one wrapper module in `app/models/` and one entry here (plus a router when it brings a
new API); doc/backend.md walks through it.

The table sits in the bottom layer, beside the settings that read it, so it names the wrapper class and
the service factory as `module:attribute` (as packaging's entry points do) instead of importing them;
`app.services.slot_bindings` imports them when the registry and the lifespan build the slots, and
tests/test_slots.py checks that each resolves, lives in its layer and implements its role's contract.
"""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum


class Role(StrEnum):
    """What a slot does for the routes; `status()["kind"]` shows the value. A new role (translation,
    speech synthesis) is a member here, a contract in `app/models/roles.py` and a line in `ROLE_DESCRIPTIONS`."""

    LLM = "llm"
    ASR = "asr"
    LANGUAGE_IDENTIFICATION = "langid"
    DIARIZATION = "diarization"
    TRANSLATION = "translation"
    SPEECH_SYNTHESIS = "tts"


ROLE_DESCRIPTIONS: dict[Role, str] = {
    Role.LLM: "a language model, served by /v1/chat/completions and /v1/completions",
    Role.ASR: "a speech-to-text model, served by /v1/audio/transcriptions, /v1/audio/translations and "
    "/api/audio/transcribe",
    Role.DIARIZATION: "a speaker diarization model, served by /api/diarization/process and diarize=true",
    Role.LANGUAGE_IDENTIFICATION: "a spoken-language identification model, which the speech routes use when a "
    "request gives no language",
    Role.TRANSLATION: "a text translation model, served by /v1/translate",
    Role.SPEECH_SYNTHESIS: "a text-to-speech model, served by /v1/audio/speech",
}
"""How a 404 `wrong_model_kind` describes a model of each role."""


@dataclass(frozen=True, slots=True)
class SlotSpec:
    key: str
    """The slot's name: in ENABLED_MODELS, the admin routes (`/api/admin/models/{key}`) and a served name."""
    role: Role
    wrapper: str
    """`module:Class` of the wrapper, built as `Class(settings, token_provider)`; a subclass of the role's
    contract (`app.models.roles.ROLE_CONTRACTS`)."""
    settings_prefix: str
    """The prefix of the slot's settings (`QWEN` for QWEN_MODEL_ID)."""
    service: str | None = None
    """`module:factory` of the service that batches or queues the role's work, built once as
    `factory(settings, registry)` and shared by every slot that names it; None: the routes call the wrapper."""
    state_field: str | None = None
    """The name of that service in the application state (`state.services[...]`)."""
    status_section: str | None = None
    """The key of the service's `stats()` in GET /api/admin/status."""
    enabled_by_default: bool = True
    """In the default ENABLED_MODELS."""


SLOTS: tuple[SlotSpec, ...] = (
    SlotSpec("qwen", Role.LLM, "app.models.qwen:QwenModel", "QWEN"),
    SlotSpec(
        "canary",
        Role.ASR,
        "app.models.canary:CanaryASRModel",
        "CANARY",
        service="app.services.asr_service:TranscriptionService.for_gateway",
        state_field="transcription",
        status_section="batching",
    ),
    SlotSpec(
        "pyannote",
        Role.DIARIZATION,
        "app.models.pyannote_model:PyannoteDiarizationModel",
        "PYANNOTE",
        service="app.services.diarization_service:DiarizationService.for_gateway",
        state_field="diarization",
        status_section="diarization_queues",
    ),
    SlotSpec(
        "langid",
        Role.LANGUAGE_IDENTIFICATION,
        "app.models.langid:LanguageIdModel",
        "LANGID",
        service="app.services.languages:LanguageService.for_gateway",
        state_field="languages",
        status_section="language_identification",
        enabled_by_default=False,  # optional: served only when ENABLED_MODELS names it
    ),
    SlotSpec(
        "translation",
        Role.TRANSLATION,
        "app.models.nllb:NllbTranslationModel",
        "TRANSLATION",
        service="app.services.translation:TranslationService.for_gateway",
        state_field="translation",
        status_section="translation_batching",
        enabled_by_default=False,
    ),
    SlotSpec(
        "tts",
        Role.SPEECH_SYNTHESIS,
        "app.models.vits:VitsSpeechModel",
        "TTS",
        service="app.services.speech_synthesis:SpeechSynthesisService.for_gateway",
        state_field="speech_synthesis",
        status_section="speech_batching",
        enabled_by_default=False,  # optional: served only when ENABLED_MODELS names it
    ),
    SlotSpec(
        "whisper",
        Role.ASR,
        "app.models.whisper:WhisperASRModel",
        "WHISPER",
        service="app.services.asr_service:TranscriptionService.for_gateway",
        state_field="transcription",
        status_section="batching",
        enabled_by_default=False,  # optional: a second ASR family beside Canary
    ),
)


def slot(key: str) -> SlotSpec | None:
    return next((s for s in SLOTS if s.key == key), None)
