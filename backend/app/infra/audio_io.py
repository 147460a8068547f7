"""Audio uploads: stream them to a temporary file, decode any common format with FFmpeg, check the limits.

Shared by speech to text, diarization and jobs (`AudioDecoding`, in the app state, bounds the decodes
running at once). Decoding goes through torchcodec, which wraps the FFmpeg libraries (Debian's `ffmpeg`
package must be installed).
"""

from __future__ import annotations

import asyncio
import contextlib
import math
import os
import re
import tempfile
import time
from collections import deque
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import anyio
import numpy as np
from starlette.datastructures import UploadFile

from app.config import Settings
from app.errors import InvalidRequestError, PayloadTooLargeError, RateLimitError, UnsupportedMediaTypeError

CHUNK_BYTES = 1 << 20
STOP_MARGIN_S = 1.0
"""Decoding stops this far past MAX_AUDIO_SECONDS; a header declaring more is refused before decoding."""
RECENT_DECODES = 20
WINDOW_S = 60.0
"""Audio decoded per call: about 4 MB of extra samples at 16 kHz, and few enough calls to cost nothing."""
NO_FRAMES = "No audio frames were decoded"
WAV_INTEGER_FORMATS = frozenset({"u8", "s16", "s32"})
"""Sample formats torchcodec 0.17's WavDecoder reads exactly (24-bit shows as s32); it misreads float WAV."""
UNKNOWN_LENGTH_S = 60.0
"""First size of the output array when the header does not say how long the audio is (it grows)."""
_SAFE_SUFFIX = re.compile(r"\.[A-Za-z0-9]{1,10}")
# torchcodec prefixes its errors with the C++ function and source line: "fn, /path/File.cpp:41, message".
_SOURCE_PREFIX = re.compile(r"^\w+, \S+:\d+, ")


@dataclass
class DecodedAudio:
    samples: np.ndarray
    """Mono float32 samples, shape (n,), at `sample_rate`."""
    sample_rate: int
    duration_s: float
    source_sample_rate: int
    source_channels: int
    codec: str | None = None
    """FFmpeg's codec name (`mp3`, `aac`, `opus`, `pcm_s16le`, ...)."""


def _discard(path: Path) -> None:
    """Remove a temporary file synchronously: cleanup runs also in a cancelled task, which cannot await."""
    path.unlink(missing_ok=True)


async def save_upload(upload: UploadFile, max_bytes: int) -> Path:
    """Copy the upload to a temporary file chunk by chunk, keeping its suffix (a hint for FFmpeg's probe).

    The caller owns the returned file and must remove it.
    """
    suffix = Path(upload.filename or "").suffix
    fd, name = tempfile.mkstemp(prefix="upload-", suffix=suffix if _SAFE_SUFFIX.fullmatch(suffix) else "")
    path = Path(name)
    try:
        with os.fdopen(fd, "wb") as out:
            size = 0
            while chunk := await upload.read(CHUNK_BYTES):
                size += len(chunk)
                if size > max_bytes:
                    raise PayloadTooLargeError(
                        f"the upload is larger than {max_bytes / 2**20:.4g} MiB, the most this server accepts "
                        "(MAX_UPLOAD_MB)",
                        param="file",
                    )
                await anyio.to_thread.run_sync(out.write, chunk)
        if size == 0:
            raise InvalidRequestError("the uploaded file is empty", param="file")
    except BaseException:
        _discard(path)
        raise
    return path


def _ffmpeg_reason(exc: Exception, path: Path) -> str:
    """FFmpeg's short reason from a torchcodec error, without source locations or the server's temp path."""
    if isinstance(exc, ValueError) and "audio stream" in str(exc):
        return "no audio stream found"
    lines = str(exc).strip().splitlines() or [type(exc).__name__]
    reason = _SOURCE_PREFIX.sub("", lines[0]).replace(str(path), "")
    return " ".join(reason.split())[:200]


def _undecodable(exc: Exception, path: Path) -> UnsupportedMediaTypeError:
    return UnsupportedMediaTypeError(
        f"the file could not be decoded as audio ({_ffmpeg_reason(exc, path)})", param="file"
    )


def _too_long(lasts: str, max_seconds: float) -> PayloadTooLargeError:
    return PayloadTooLargeError(
        f"the audio lasts {lasts}; this server accepts at most {max_seconds:g} s (MAX_AUDIO_SECONDS)", param="file"
    )


class _MonoBuffer:
    """Mono float32 samples gathered in one array as they are decoded, never more than `limit`.

    Sized from the header's duration (plus a second), and doubled (up to `limit`) when the audio turns out
    longer: the peak is the audio once when the header is right, at most twice the limit when it is
    missing or lies.
    """

    def __init__(self, expected: int, limit: int | None) -> None:
        self.limit = limit
        self.array = np.empty(expected if limit is None else min(expected, limit), np.float32)
        self.size = 0

    @property
    def full(self) -> bool:
        return self.limit is not None and self.size >= self.limit

    def append(self, chunk: np.ndarray) -> None:
        if self.limit is not None:
            chunk = chunk[: self.limit - self.size]
        end = self.size + len(chunk)
        if end > len(self.array):
            capacity = max(2 * len(self.array), end)
            grown = np.empty(capacity if self.limit is None else min(capacity, self.limit), np.float32)
            grown[: self.size] = self.array[: self.size]
            self.array = grown
        self.array[self.size : end] = chunk
        self.size = end

    def samples(self) -> np.ndarray:
        """A view of the array, or a copy when a quarter of it or more would be held for nothing (a header
        that overstated the length): the samples outlive the decode, until the transcription ends."""
        samples = self.array[: self.size]
        return samples.copy() if len(self.array) - self.size > self.size // 4 else samples


def _decode_to_mono(path: Path, target_rate: int, max_seconds: float | None) -> tuple[np.ndarray, Any, float | None]:
    """The samples (stopping `STOP_MARGIN_S` past `max_seconds`), the stream's header, and the duration
    it declares. FFmpeg downmixes and resamples while it decodes; the audio is taken `WINDOW_S` at a time
    and copied into the output array, so no more than one window of extra samples ever exists
    (`get_all_samples` would keep every frame until one final concatenation: twice the audio)."""
    from torchcodec.decoders import AudioDecoder

    decoder = AudioDecoder(path, sample_rate=target_rate, num_channels=1)
    header = decoder.metadata
    declared = header.duration_seconds_from_header
    if max_seconds is not None and declared is not None and declared > max_seconds + STOP_MARGIN_S:
        raise _too_long(f"{declared:.1f} s", max_seconds)
    end_s = None if max_seconds is None else max_seconds + STOP_MARGIN_S
    limit = None if end_s is None else round(end_s * target_rate)
    buffer = _MonoBuffer(round(((declared or UNKNOWN_LENGTH_S) + 1.0) * target_rate), limit)
    start = 0.0
    while not buffer.full and (end_s is None or start < end_s):
        stop = start + WINDOW_S if end_s is None else min(start + WINDOW_S, end_s)
        try:
            window = decoder.get_samples_played_in_range(start, stop)
        except RuntimeError as exc:
            if NO_FRAMES in str(exc):
                break  # past the last frame: the end of the audio (or a file with none)
            raise
        buffer.append(window.data[0].numpy())
        start = stop
    return buffer.samples(), header, declared


def _read_pcm_wav(path: Path, target_rate: int, max_seconds: float | None) -> DecodedAudio | None:
    """A mono integer-PCM WAV already at `target_rate`, the usual speech upload, read without FFmpeg
    (torchcodec's WavDecoder: about 0.1 ms for 10 s, where opening the file with FFmpeg alone takes about
    5 ms). None for anything else, and for a header that is not plainly within the limit: FFmpeg then
    decodes it, or refuses it, with its checks and messages."""
    from torchcodec.decoders import WavDecoder

    try:
        decoder = WavDecoder(path)
        header = decoder.metadata
        declared = header.duration_seconds_from_header
        if (
            (header.sample_rate, header.num_channels) != (target_rate, 1)
            or header.sample_format not in WAV_INTEGER_FORMATS
            or declared is None
            or (max_seconds is not None and declared > max_seconds)
        ):
            return None
        samples = decoder.get_samples_played_in_range(0.0, None).data[0].numpy()
    except RuntimeError:  # not a RIFF/WAVE PCM file, or truncated
        return None
    return DecodedAudio(samples, target_rate, len(samples) / target_rate, target_rate, 1, header.codec)


def decode_audio(path: Path, target_rate: int = 16000, *, max_seconds: float | None = None) -> DecodedAudio:
    """Decode the best audio stream of `path` to mono float32 at `target_rate` (blocking).

    A mono integer-PCM WAV at `target_rate` is read directly; anything else goes through FFmpeg, which
    downmixes and resamples while it decodes, so no multi-channel buffer ever exists. With
    `max_seconds`, a container header that declares longer audio is refused (413) before anything is
    decoded, and decoding stops `STOP_MARGIN_S` past the limit whatever the header says (a missing or
    lying one), so a file never costs more memory than the limit allows.
    """
    import torchcodec

    if torchcodec.ffmpeg_major_version is None:
        raise RuntimeError("torchcodec cannot load the FFmpeg libraries: install Debian's ffmpeg (scripts/setup.sh)")
    wav = _read_pcm_wav(path, target_rate, max_seconds)
    if wav is not None and len(wav.samples) > 0:
        return wav
    try:
        samples, header, declared = _decode_to_mono(path, target_rate, max_seconds)
    except (RuntimeError, ValueError) as exc:
        raise _undecodable(exc, path) from None
    if len(samples) == 0:
        raise InvalidRequestError("the audio has no samples (zero length)", param="file")
    duration = len(samples) / target_rate
    if max_seconds is not None and duration > max_seconds:
        lasts = f"{duration:.1f} s"
        if duration >= max_seconds + STOP_MARGIN_S / 2:  # decoding stopped early: only the header may know more
            lasts = f"{declared:.1f} s" if declared and declared > duration else f"more than {max_seconds:g} s"
        raise _too_long(lasts, max_seconds)
    return DecodedAudio(
        samples=samples,
        sample_rate=target_rate,
        duration_s=duration,
        source_sample_rate=header.sample_rate or target_rate,
        source_channels=header.num_channels or 1,
        codec=header.codec,
    )


class AudioDecoding:
    """Uploads saved and decoded for requests and jobs, at most `MAX_CONCURRENT_DECODES` at once.

    A decode's memory is bounded by `MAX_AUDIO_SECONDS` (about twice its 16 kHz mono float32 samples
    at the peak), so this bounds the memory all decodes take together. Requests beyond the running
    ones wait, at most `DECODE_QUEUE_SIZE` of them: more get `429 queue_full` with a Retry-After.
    Jobs wait their turn without that bound (at most `JOBS_CONCURRENCY` of them run). A slot is held
    until FFmpeg has finished, also when the caller went away meanwhile (a worker thread cannot be stopped).
    """

    def __init__(self, settings: Settings) -> None:
        self.max_upload_bytes = int(settings.max_upload_mb * 2**20)
        self.max_audio_seconds = settings.max_audio_seconds
        self.slots = settings.max_concurrent_decodes
        self.queue_size = settings.decode_queue_size
        self._free = asyncio.Semaphore(self.slots)
        self.running = 0
        self.waiting = 0
        self.decodes = 0
        self._recent: deque[float] = deque(maxlen=RECENT_DECODES)
        """Wall seconds of the latest decodes, for Retry-After."""

    def stats(self) -> dict[str, int]:
        return {
            "running": self.running,
            "waiting": self.waiting,
            "decodes": self.decodes,
            "max_concurrent": self.slots,
            "queue_size": self.queue_size,
        }

    def _retry_after(self) -> int:
        pace = sum(self._recent) / len(self._recent) if self._recent else 1.0
        return max(1, math.ceil(pace * (self.waiting + 1) / self.slots))

    async def decode(self, path: Path, *, wait_unbounded: bool = False) -> DecodedAudio:
        """`decode_audio` on a worker thread once a slot is free (`wait_unbounded`: never a 429)."""
        if not wait_unbounded and self._free.locked() and self.waiting >= self.queue_size:
            raise RateLimitError(
                f"{self.running} audio files are being decoded and {self.waiting} wait (MAX_CONCURRENT_DECODES, "
                "DECODE_QUEUE_SIZE); retry shortly",
                retry_after_s=self._retry_after(),
                code="queue_full",
            )
        self.waiting += 1
        try:
            await self._free.acquire()
        finally:
            self.waiting -= 1
        self.running += 1
        started = time.monotonic()
        work = asyncio.ensure_future(asyncio.to_thread(decode_audio, path, max_seconds=self.max_audio_seconds))
        try:
            return await asyncio.shield(work)
        finally:
            await _until_done(work)  # a caller that left keeps the slot until FFmpeg has finished
            self.running -= 1
            self.decodes += 1
            self._recent.append(time.monotonic() - started)
            self._free.release()


async def _until_done(work: asyncio.Future[Any]) -> None:
    """Wait for `work` to end, through cancellations too (a worker thread cannot be stopped)."""
    while not work.done():
        with contextlib.suppress(asyncio.CancelledError):
            await asyncio.wait([work])
