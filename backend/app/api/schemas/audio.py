"""JSON bodies of `/api/audio/transcribe` and `/api/diarization/process`. Keys a body leaves out are left out
of the schema's required ones."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.api.schemas.common import ResponseBody


class Word(ResponseBody):
    start: float
    end: float
    word: str


class TranscriptSegment(ResponseBody):
    start: float
    end: float
    text: str
    speaker: str | None = Field(None, description="With `diarize=true`")


class Transcription(ResponseBody):
    text: str
    sampling_rate: int
    duration: float = Field(description="Seconds of audio")
    language: str = Field(description="The language of `text` (the target language when translating)")
    source_language: str = Field(description="The spoken language")
    source_language_origin: Literal["request", "detected", "default"]
    speakers: list[str] | None = Field(None, description="With `diarize=true`")
    segments: list[TranscriptSegment] | None = Field(None, description="With `timestamps=true` or `diarize=true`")
    words: list[Word] | None = Field(None, description="With `timestamps=true` or `diarize=true`")


class SpeakerTurn(ResponseBody):
    speaker: str
    start: float
    end: float


class Diarization(ResponseBody):
    segments: list[SpeakerTurn]
    speakers: list[str]
    duration: float = Field(description="Seconds of audio")
