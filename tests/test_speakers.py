"""Who said what: ASR words assigned to diarization turns, on constructed words and turns."""

from __future__ import annotations

from app.models.types import SpeakerTurn, TimedText, Transcript
from app.services.speakers import SpeakerSegment, assign_speakers, diarized_json, labelled_cues, letter_labels, to_rttm


def words(*items: tuple[str, float, float]) -> Transcript:
    timed = [TimedText(text, start, end) for text, start, end in items]
    return Transcript(" ".join(t.text for t in timed), words=timed)


TURNS = [SpeakerTurn("S1", 0.0, 2.0), SpeakerTurn("S2", 2.5, 4.0), SpeakerTurn("S1", 4.0, 6.0)]


def test_words_inside_turns_and_grouping() -> None:
    transcript = words(("hello", 0.1, 0.5), ("there", 0.6, 1.0), ("hi", 2.6, 2.9), ("again", 4.2, 4.6))
    assert assign_speakers(transcript, TURNS, 6.0) == [
        SpeakerSegment("S1", 0.1, 1.0, "hello there"),
        SpeakerSegment("S2", 2.6, 2.9, "hi"),
        SpeakerSegment("S1", 4.2, 4.6, "again"),
    ]


def test_a_word_across_a_boundary_goes_to_the_larger_overlap() -> None:
    segments = assign_speakers(words(("across", 3.8, 4.5)), TURNS, 6.0)
    assert [s.speaker for s in segments] == ["S1"]
    segments = assign_speakers(words(("across", 3.5, 4.2)), TURNS, 6.0)
    assert [s.speaker for s in segments] == ["S2"]


def test_words_in_gaps_go_to_the_nearest_turn() -> None:
    transcript = words(("early", 2.05, 2.15), ("late", 2.35, 2.45), ("after", 7.0, 7.5))
    assert [s.speaker for s in assign_speakers(transcript, TURNS, 8.0)] == ["S1", "S2", "S1"]


def test_words_before_the_first_turn() -> None:
    turns = [SpeakerTurn("S2", 1.0, 2.0)]
    assert [s.speaker for s in assign_speakers(words(("x", 0.1, 0.2)), turns, 2.0)] == ["S2"]


def test_one_speaker_and_no_speaker() -> None:
    transcript = words(("a", 0.0, 0.2), ("b", 3.0, 3.2), ("c", 5.0, 5.5))
    one = assign_speakers(transcript, [SpeakerTurn("S1", 0.0, 6.0)], 6.0)
    assert one == [SpeakerSegment("S1", 0.0, 5.5, "a b c")]
    none = assign_speakers(transcript, [], 6.0)
    assert none == [SpeakerSegment(None, 0.0, 5.5, "a b c")]


def test_without_word_timestamps_segments_or_text_are_assigned() -> None:
    segmented = Transcript("one two", segments=[TimedText("one", 0.0, 1.9), TimedText("two", 2.6, 3.9)])
    assert [s.speaker for s in assign_speakers(segmented, TURNS, 6.0)] == ["S1", "S2"]
    plain = Transcript("all of it")
    assert assign_speakers(plain, TURNS, 6.0) == [SpeakerSegment("S1", 0.0, 6.0, "all of it")]
    assert assign_speakers(Transcript(""), TURNS, 6.0) == []


def test_many_turns_stay_fast_and_correct() -> None:
    turns = [SpeakerTurn(f"S{i % 3}", i * 1.0, i * 1.0 + 0.9) for i in range(5000)]
    transcript = words(*[(f"w{i}", i + 0.1, i + 0.4) for i in range(5000)])
    segments = assign_speakers(transcript, turns, 5000.0)
    assert [s.speaker for s in segments[:4]] == ["S0", "S1", "S2", "S0"]
    assert len(segments) == 5000


def test_labels_and_formats() -> None:
    assert letter_labels(["x", "y", "x", None]) == {"x": "A", "y": "B", None: "C"}
    many = letter_labels([str(i) for i in range(28)])
    assert many["25"] == "Z" and many["26"] == "AA" and many["27"] == "AB"
    segments = [SpeakerSegment("S2", 0.0, 1.0, "hi"), SpeakerSegment("S1", 1.0, 2.5, "yo")]
    body = diarized_json(segments, "hi yo", 2.5)
    assert body["segments"][0] == {
        "type": "transcript.text.segment",
        "id": "seg_0",
        "start": 0.0,
        "end": 1.0,
        "text": "hi",
        "speaker": "A",
    }
    assert body["segments"][1]["speaker"] == "B" and body["usage"] == {"type": "duration", "seconds": 2.5}
    assert [c.text for c in labelled_cues(segments)] == ["[A] hi", "[B] yo"]
    rttm = to_rttm([SpeakerTurn("S1", 0.5, 1.75)], "my file")
    assert rttm == "SPEAKER my_file 1 0.500 1.250 <NA> <NA> S1 <NA> <NA>\n"
