"""Transcripts as the ASR models produce them, and the text formats clients ask for (SRT, WebVTT)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from app.models.types import TimedText, TranscribeOptions, Transcript


@dataclass(frozen=True, slots=True)
class TranscribeRequest:
    """What a client asks before the spoken language is settled (it may be detected from the audio)."""

    language: str | None = None
    """The spoken language; None: detect it, or assume ASR_DEFAULT_LANGUAGE (`services.languages`)."""
    target_language: str | None = None
    """The output language; None: the spoken one (no translation)."""
    punctuation: bool = True
    timestamps: bool = False

    def options(self, spoken: str) -> TranscribeOptions:
        return TranscribeOptions(spoken, self.target_language or spoken, self.punctuation, self.timestamps)


def join_pieces(pieces: list[Transcript]) -> Transcript:
    """One transcript from consecutive pieces already shifted to their place in the audio."""
    return Transcript(
        " ".join(p.text.strip() for p in pieces if p.text.strip()),
        [w for p in pieces for w in p.words],
        [s for p in pieces for s in p.segments],
    )


def _clock(seconds: float, decimal: str) -> str:
    millis = max(0, round(seconds * 1000))
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{decimal}{millis:03d}"


def cues(transcript: Transcript, duration_s: float) -> list[TimedText]:
    """Subtitle cues: the segments, or the whole text as one cue when the model gave none."""
    if transcript.segments:
        return transcript.segments
    return [TimedText(transcript.text.strip(), 0.0, duration_s)] if transcript.text.strip() else []


def to_srt(items: list[TimedText]) -> str:
    blocks = [
        f"{i}\n{_clock(c.start, ',')} --> {_clock(c.end, ',')}\n{c.text.strip()}\n"
        for i, c in enumerate(items, start=1)
    ]
    return "\n".join(blocks)


def to_vtt(items: list[TimedText]) -> str:
    blocks = [f"{_clock(c.start, '.')} --> {_clock(c.end, '.')}\n{c.text.strip()}\n" for c in items]
    return "WEBVTT\n\n" + "\n".join(blocks)


# The names OpenAI's verbose_json gives languages: Whisper's table (its codes, ISO 639-1 but for `haw`, `jw` and
# `yue`), which holds Canary-1b-v2's 25 European languages too.
LANGUAGE_NAMES = {
    "en": "english", "zh": "chinese", "de": "german", "es": "spanish", "ru": "russian", "ko": "korean",
    "fr": "french", "ja": "japanese", "pt": "portuguese", "tr": "turkish", "pl": "polish", "ca": "catalan",
    "nl": "dutch", "ar": "arabic", "sv": "swedish", "it": "italian", "id": "indonesian", "hi": "hindi",
    "fi": "finnish", "vi": "vietnamese", "he": "hebrew", "uk": "ukrainian", "el": "greek", "ms": "malay",
    "cs": "czech", "ro": "romanian", "da": "danish", "hu": "hungarian", "ta": "tamil", "no": "norwegian",
    "th": "thai", "ur": "urdu", "hr": "croatian", "bg": "bulgarian", "lt": "lithuanian", "la": "latin",
    "mi": "maori", "ml": "malayalam", "cy": "welsh", "sk": "slovak", "te": "telugu", "fa": "persian",
    "lv": "latvian", "bn": "bengali", "sr": "serbian", "az": "azerbaijani", "sl": "slovenian", "kn": "kannada",
    "et": "estonian", "mk": "macedonian", "br": "breton", "eu": "basque", "is": "icelandic", "hy": "armenian",
    "ne": "nepali", "mn": "mongolian", "bs": "bosnian", "kk": "kazakh", "sq": "albanian", "sw": "swahili",
    "gl": "galician", "mr": "marathi", "pa": "punjabi", "si": "sinhala", "km": "khmer", "sn": "shona",
    "yo": "yoruba", "so": "somali", "af": "afrikaans", "oc": "occitan", "ka": "georgian", "be": "belarusian",
    "tg": "tajik", "sd": "sindhi", "gu": "gujarati", "am": "amharic", "yi": "yiddish", "lo": "lao",
    "uz": "uzbek", "fo": "faroese", "ht": "haitian creole", "ps": "pashto", "tk": "turkmen", "nn": "nynorsk",
    "mt": "maltese", "sa": "sanskrit", "lb": "luxembourgish", "my": "myanmar", "bo": "tibetan", "tl": "tagalog",
    "mg": "malagasy", "as": "assamese", "tt": "tatar", "haw": "hawaiian", "ln": "lingala", "ha": "hausa",
    "ba": "bashkir", "jw": "javanese", "su": "sundanese", "yue": "cantonese",
}  # fmt: skip


def verbose_json(transcript: Transcript, *, task: str, language: str, duration_s: float, words: bool) -> dict[str, Any]:
    """OpenAI's `verbose_json` body without its segments (the caller adds them)."""
    body: dict[str, Any] = {
        "task": task,
        "language": LANGUAGE_NAMES.get(language, language),
        "duration": round(duration_s, 3),
        "text": transcript.text,
    }
    if words:
        body["words"] = [{"word": w.text, "start": round(w.start, 3), "end": round(w.end, 3)} for w in transcript.words]
    return body
