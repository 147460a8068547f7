"""Speaker turns, RTTM, and "who said what": ASR words assigned to diarization speakers.

Assignment (documented in doc/backend.md): each word goes to the speaker of the exclusive
(non-overlapping) turn it overlaps most; a word in a gap, or only in overlap-free silence, goes to
the nearest turn (distance from the word's midpoint to the turn). Consecutive words of one speaker
form a segment. Without word timestamps, segments (or the whole text) are assigned the same way.
"""

from __future__ import annotations

import bisect
import string
from dataclasses import dataclass
from typing import Any

from app.models.types import SpeakerTurn, TimedText, Transcript

MAX_SPEAKERS = 100
"""The most speakers a request may ask for (`num_speakers`, `min_speakers`, `max_speakers`). pyannote keeps
cluster ids in an int8 and speaker counts in a uint8: above 127 clusters it mislabels speakers, and a count
of 256 or more fails inside the pipeline."""


@dataclass(frozen=True, slots=True)
class SpeakerSegment:
    speaker: str | None
    start: float
    end: float
    text: str


def to_rttm(turns: list[SpeakerTurn], file_id: str = "audio") -> str:
    file_id = "".join(c if c.isalnum() or c in "-_." else "_" for c in file_id) or "audio"
    return "".join(
        f"SPEAKER {file_id} 1 {t.start:.3f} {t.end - t.start:.3f} <NA> <NA> {t.speaker} <NA> <NA>\n" for t in turns
    )


def _speaker_of(item: TimedText, turns: list[SpeakerTurn], starts: list[float]) -> str | None:
    if not turns:
        return None
    best: SpeakerTurn | None = None
    best_overlap = 0.0
    # Turns that can overlap the item start at or before its end; exclusive turns are sorted and
    # disjoint, so walking back from there can stop at the first turn that ends before the item.
    index = bisect.bisect_right(starts, item.end)
    for position in range(index - 1, -1, -1):
        turn = turns[position]
        if turn.end < item.start:
            break
        overlap = min(item.end, turn.end) - max(item.start, turn.start)
        if overlap > best_overlap:
            best, best_overlap = turn, overlap
    if best is not None:
        return best.speaker
    middle = (item.start + item.end) / 2
    nearby = turns[max(0, index - 1) : index + 1]
    return min(nearby, key=lambda t: max(t.start - middle, middle - t.end, 0.0)).speaker


def assign_speakers(transcript: Transcript, exclusive: list[SpeakerTurn], duration_s: float) -> list[SpeakerSegment]:
    """Speaker-labelled segments of `transcript`, from the exclusive diarization."""
    turns = sorted(exclusive, key=lambda t: t.start)
    starts = [t.start for t in turns]
    if transcript.words:
        segments: list[SpeakerSegment] = []
        for word in transcript.words:
            speaker = _speaker_of(word, turns, starts)
            last = segments[-1] if segments else None
            if last is not None and last.speaker == speaker:
                segments[-1] = SpeakerSegment(speaker, last.start, word.end, f"{last.text} {word.text.strip()}")
            else:
                segments.append(SpeakerSegment(speaker, word.start, word.end, word.text.strip()))
        return segments
    items = transcript.segments or ([TimedText(transcript.text, 0.0, duration_s)] if transcript.text.strip() else [])
    return [SpeakerSegment(_speaker_of(s, turns, starts), s.start, s.end, s.text.strip()) for s in items]


def letter_labels(speakers: list[str | None]) -> dict[str | None, str]:
    """OpenAI's labels: speakers in order of first appearance become A, B, ..., Z, AA, AB, ..."""
    labels: dict[str | None, str] = {}
    for speaker in speakers:
        if speaker not in labels:
            number, label = len(labels), ""
            while True:
                number, rest = divmod(number, 26)
                label = string.ascii_uppercase[rest] + label
                if number == 0:
                    break
                number -= 1
            labels[speaker] = label
    return labels


def diarized_json(segments: list[SpeakerSegment], text: str, duration_s: float) -> dict[str, Any]:
    """OpenAI's `diarized_json` shape (as returned by its diarizing transcription model)."""
    labels = letter_labels([s.speaker for s in segments])
    return {
        "task": "transcribe",
        "duration": round(duration_s, 3),
        "text": text,
        "segments": [
            {
                "type": "transcript.text.segment",
                "id": f"seg_{index}",
                "start": round(s.start, 3),
                "end": round(s.end, 3),
                "text": s.text,
                "speaker": labels[s.speaker],
            }
            for index, s in enumerate(segments)
        ],
        "usage": {"type": "duration", "seconds": round(duration_s, 3)},
    }


def labelled_cues(segments: list[SpeakerSegment]) -> list[TimedText]:
    """Subtitle cues that name their speaker: `[A] text`."""
    labels = letter_labels([s.speaker for s in segments])
    return [TimedText(f"[{labels[s.speaker]}] {s.text}", s.start, s.end) for s in segments]
