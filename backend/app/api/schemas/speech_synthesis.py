"""The body of OpenAI's `POST /v1/audio/speech`, as OpenAI defines it."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, WithJsonSchema

from app.infra.audio_encoding import SpeechFormat
from app.services.openai_requests import OpenAIBody
from app.services.speech_synthesis import MAX_INPUT_CHARS


class CustomVoice(BaseModel):
    """OpenAI's custom voice reference, `{"id": "voice_1234"}`: here, any voice name of the model."""

    id: str = Field(min_length=1, max_length=256)


def _voice_name(value: Any) -> Any:
    """`{"id": name}` is the voice `name`; anything else is validated as a name (a string)."""
    return CustomVoice.model_validate(value).id if isinstance(value, dict) else value


VoiceName = Annotated[
    str,
    BeforeValidator(_voice_name),
    WithJsonSchema({"anyOf": [{"type": "string"}, CustomVoice.model_json_schema()]}),
]


class SpeechBody(OpenAIBody):
    model_config = ConfigDict(extra="ignore")

    model: str = Field(description="The TTS model: its id, `tts`, or an alias such as `tts-1`.")
    input: str = Field(min_length=1, max_length=MAX_INPUT_CHARS, description="The text to speak.")
    voice: VoiceName = Field(
        description="A voice of the model: OpenAI's voice names (`alloy`, `ash`, ...) map to the checkpoint's "
        "speakers, `speaker_<i>` names one; a 400 lists the valid ones."
    )
    instructions: str | None = Field(
        None, max_length=MAX_INPUT_CHARS, description="Accepted for compatibility; VITS models do not use it."
    )
    response_format: SpeechFormat = Field("mp3", description="All formats are 24 kHz mono; `pcm` is raw s16le.")
    speed: float = Field(1.0, ge=0.25, le=4.0, strict=True, description="The model's speaking rate.")
    stream_format: Literal["audio", "sse"] = Field(
        "audio", description="`audio` only: the body is the audio, streamed as it is made (`sse` is not supported)."
    )
