"""What the model wrappers take and return: transcription and diarization options and results.

They live with the wrappers (the model layer) so that a wrapper imports nothing from `services`;
the services that render them (`services.transcripts`, `services.speakers`) import them from here.
"""

from __future__ import annotations

from dataclasses import dataclass, field


@dataclass(frozen=True, slots=True)
class TranscribeOptions:
    """What one transcription asks of the model; requests with equal options share a batch."""

    source_lang: str | None = None
    target_lang: str | None = None
    punctuation: bool = True
    timestamps: bool = False


@dataclass(frozen=True, slots=True)
class TimedText:
    """A word or a segment, times in seconds from the start of the audio."""

    text: str
    start: float
    end: float


@dataclass(slots=True)
class Transcript:
    text: str
    words: list[TimedText] = field(default_factory=list)
    segments: list[TimedText] = field(default_factory=list)

    def shifted(self, offset_s: float) -> Transcript:
        """The same transcript for a piece that starts `offset_s` seconds into the audio."""
        return Transcript(
            self.text,
            [TimedText(w.text, w.start + offset_s, w.end + offset_s) for w in self.words],
            [TimedText(s.text, s.start + offset_s, s.end + offset_s) for s in self.segments],
        )


@dataclass(frozen=True, slots=True)
class DiarizeOptions:
    num_speakers: int | None = None
    min_speakers: int | None = None
    max_speakers: int | None = None


@dataclass(frozen=True, slots=True)
class SpeakerTurn:
    speaker: str
    start: float
    end: float


@dataclass(slots=True)
class Diarization:
    """`turns` may overlap (two people at once); `exclusive` never does (one speaker at a time)."""

    turns: list[SpeakerTurn]
    exclusive: list[SpeakerTurn]
    speakers: list[str] = field(default_factory=list)


@dataclass(frozen=True, slots=True)
class TranslateOptions:
    """What one translation asks of the model; requests with equal options share a batch. Languages are the
    model's own codes (`fra_Latn`), already resolved from aliases."""

    src_lang: str
    tgt_lang: str
    beam_size: int = 1
    max_new_tokens: int | None = None


@dataclass(frozen=True, slots=True)
class Translation:
    text: str
    input_tokens: int
    output_tokens: int


@dataclass(frozen=True, slots=True)
class SynthesisOptions:
    """What one speech synthesis asks of the model; requests with equal options share a batch."""

    voice: str
    speed: float = 1.0
