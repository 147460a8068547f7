"""Every response format of a `SpeechResult`, for the audio and diarization routes and for job results.

`render` returns a JSON object (a dict) or text; the routers turn it into the HTTP response. The OpenAI
formats keep OpenAI's shapes: `json` is `{"text"}` (jobs add the languages used), `verbose_json` names
the output language and, beyond the spec, the spoken language the model was given (`source_language`, an
ISO 639-1 code) and where it came from (`source_language_origin`: `request`, `detected` or `default`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Literal

from app.models.types import TimedText, Transcript
from app.services.speakers import SpeakerSegment, diarized_json, labelled_cues, letter_labels, to_rttm
from app.services.speech import SpeechResult
from app.services.transcripts import cues, to_srt, to_vtt, verbose_json

SpeechFormat = Literal["json", "text", "srt", "vtt", "verbose_json", "diarized_json", "rttm", "transcription"]
"""`transcription` is the gateway's own body (`/api/audio/transcribe`); the rest are the OpenAI formats,
`rttm`, and the diarization JSON (`json` of a result without a transcript)."""
Rendered = dict[str, Any] | str


@dataclass(frozen=True, slots=True)
class RenderOptions:
    task: Literal["transcribe", "translate"] | None = None
    """`verbose_json`'s task; None: `translate` when the output language is not the spoken one."""
    words: bool = True
    """`verbose_json` with `words` (`timestamp_granularities[]=word`)."""
    segments: bool = True
    """`verbose_json` with `segments` (`timestamp_granularities[]=segment`)."""
    json_languages: bool = False
    """`json` with the languages used (job results), not OpenAI's bare `{"text"}`."""
    exclusive: bool = False
    """Diarization `json` and `rttm` from the exclusive (non-overlapping) turns."""
    file_id: str = "audio"
    """The file name in RTTM lines."""


def render(result: SpeechResult, response_format: SpeechFormat, options: RenderOptions | None = None) -> Rendered:
    """`result` in `response_format`. The caller has checked that the format fits what the result holds
    (a transcript for the text formats, speakers for `diarized_json`, a diarization for `rttm`)."""
    options = options or RenderOptions()
    if response_format == "rttm":
        assert result.diarization is not None
        diarization = result.diarization
        return to_rttm(diarization.exclusive if options.exclusive else diarization.turns, options.file_id)
    if result.transcript is None:  # diarization only: json
        assert result.diarization is not None
        turns = result.diarization.exclusive if options.exclusive else result.diarization.turns
        return {
            "segments": [{"speaker": t.speaker, "start": round(t.start, 3), "end": round(t.end, 3)} for t in turns],
            "speakers": result.diarization.speakers,
            "duration": round(result.duration_s, 3),
        }
    transcript, duration, speakers = result.transcript, result.duration_s, result.speakers
    if response_format == "json":
        return {"text": transcript.text, **(_languages(result) if options.json_languages else {})}
    if response_format == "text":
        return transcript.text
    if response_format == "diarized_json":
        assert speakers is not None
        return diarized_json(speakers, transcript.text, duration)
    if response_format in ("srt", "vtt"):
        items = labelled_cues(speakers) if speakers is not None else cues(transcript, duration)
        return to_srt(items) if response_format == "srt" else to_vtt(items)
    if response_format == "transcription":
        return _transcription(result)
    assert result.options is not None and result.options.target_lang is not None
    task = options.task or ("translate" if result.translated else "transcribe")
    body = verbose_json(
        transcript, task=task, language=result.options.target_lang, duration_s=duration, words=options.words
    )
    if options.segments:
        body["segments"] = verbose_segments(transcript, duration, speakers)
    if result.spoken is not None:
        body["source_language"] = result.spoken.code
        body["source_language_origin"] = result.spoken.origin
    return body


def _languages(result: SpeechResult) -> dict[str, Any]:
    languages: dict[str, Any] = {}
    if result.options is not None:
        languages["language"] = result.options.target_lang
    if result.spoken is not None:
        languages["source_language"] = result.spoken.code
        languages["source_language_origin"] = result.spoken.origin
    return languages


def _transcription(result: SpeechResult) -> dict[str, Any]:
    """`/api/audio/transcribe`'s body: the transcript with the languages used; `segments` and `words` with
    timestamps, `speakers` and a `speaker` per segment with a diarization."""
    transcript, options, spoken = result.transcript, result.options, result.spoken
    assert transcript is not None and options is not None and spoken is not None
    body: dict[str, Any] = {
        "text": transcript.text,
        "sampling_rate": result.sample_rate,
        "duration": round(result.duration_s, 3),
        "language": options.target_lang,
        "source_language": spoken.code,
        "source_language_origin": spoken.origin,
    }
    if result.diarization is not None and result.speakers is not None:
        body["speakers"] = result.diarization.speakers
        body["segments"] = [
            {"start": s.start, "end": s.end, "text": s.text, "speaker": s.speaker} for s in result.speakers
        ]
    elif options.timestamps:
        body["segments"] = [
            {"start": s.start, "end": s.end, "text": s.text} for s in cues(transcript, result.duration_s)
        ]
    if options.timestamps:
        body["words"] = [{"start": w.start, "end": w.end, "word": w.text} for w in transcript.words]
    return body


def verbose_segments(
    transcript: Transcript, duration_s: float, speakers: list[SpeakerSegment] | None
) -> list[dict[str, Any]]:
    """`verbose_json` segments (Whisper-only fields neutral); with diarization, one per speaker turn and a
    `speaker` field lettered as in `diarized_json`."""
    items: list[tuple[TimedText, str | None]] = (
        [(TimedText(s.text, s.start, s.end), s.speaker) for s in speakers]
        if speakers is not None
        else [(c, None) for c in cues(transcript, duration_s)]
    )
    labels = letter_labels([speaker for _, speaker in items])
    segments = []
    for index, (item, speaker) in enumerate(items):
        segment: dict[str, Any] = {
            "id": index, "seek": 0, "start": round(item.start, 3), "end": round(item.end, 3), "text": item.text,
            "tokens": [], "temperature": 0.0, "avg_logprob": 0.0, "compression_ratio": 0.0, "no_speech_prob": 0.0,
        }  # fmt: skip
        if speakers is not None:
            segment["speaker"] = labels[speaker]
        segments.append(segment)
    return segments
