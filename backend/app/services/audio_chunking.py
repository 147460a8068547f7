"""Split long audio into pieces an ASR model takes at once, cutting where it is quietest, and join their
transcripts again."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

import numpy as np

from app.models.types import Transcript
from app.services.transcripts import join_pieces

FRAME_S = 0.02
"""Short-time energy is measured over 20 ms frames."""
SEARCH_FRACTION = 0.2
"""A cut is searched for in the last 20% of each window."""


def split_for_model(samples: np.ndarray, sample_rate: int, window_s: float) -> list[tuple[float, np.ndarray]]:
    """`(offset_s, piece)` pairs covering `samples` in order, each piece at most `window_s` long.

    Each cut lands in the middle of the quietest 20 ms frame within the last 20% of its window, so a
    cut falls between words where there is a pause. The pieces are views of `samples`; concatenated,
    they are `samples` again.
    """
    window = max(1, int(window_s * sample_rate))
    if len(samples) <= window:
        return [(0.0, samples)]
    frame = max(1, int(FRAME_S * sample_rate))
    search = int(window * SEARCH_FRACTION)
    pieces: list[tuple[float, np.ndarray]] = []
    start = 0
    while len(samples) - start > window:
        end = start + window
        cut = end
        frames = search // frame
        if frames:
            region = samples[end - frames * frame : end].astype(np.float64).reshape(frames, frame)
            quietest = int(np.argmin(np.mean(region**2, axis=1)))
            cut = end - frames * frame + quietest * frame + frame // 2
        pieces.append((start / sample_rate, samples[start:cut]))
        start = cut
    pieces.append((start / sample_rate, samples[start:]))
    return pieces


async def transcribe_in_pieces(
    samples: np.ndarray,
    sample_rate: int,
    window_s: float,
    run: Callable[[list[np.ndarray]], Awaitable[list[Transcript]]],
    *,
    group: int | None = None,
    progress: Callable[[float], Awaitable[None]] | None = None,
) -> Transcript:
    """Split → batch → join: the pieces of `samples` (`split_for_model`) go to `run` `group` at a time (all
    at once by default), and their transcripts are joined, shifted to their place in the audio. `progress`
    hears the fraction done after each group."""
    pieces = split_for_model(samples, sample_rate, window_s)
    size = group or len(pieces)
    done: list[Transcript] = []
    for start in range(0, len(pieces), size):
        done += await run([piece for _, piece in pieces[start : start + size]])
        if progress is not None:
            await progress(len(done) / len(pieces))
    return join_pieces([result.shifted(offset) for (offset, _), result in zip(pieces, done, strict=True)])
