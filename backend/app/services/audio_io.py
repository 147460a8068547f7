"""Audio uploads: stream them to a temporary file, decode any common format with FFmpeg, check the limits.

Shared by speech to text and diarization. Decoding goes through torchcodec, which wraps the FFmpeg
libraries (Debian's `ffmpeg` package must be installed).
"""

from __future__ import annotations

import os
import re
import tempfile
from dataclasses import dataclass
from functools import partial
from pathlib import Path

import anyio
import numpy as np
from starlette.datastructures import UploadFile

from app.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError

CHUNK_BYTES = 1 << 20
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


def decode_audio(path: Path, target_rate: int = 16000, *, max_seconds: float | None = None) -> DecodedAudio:
    """Decode the best audio stream of `path` to mono float32 at `target_rate` (blocking).

    Channels are averaged. With `max_seconds`, decoding stops one second past that point, so a long file
    costs no more memory than the limit allows, and a longer audio is refused with a 413.
    """
    import torchcodec
    from torchcodec.decoders import AudioDecoder

    if torchcodec.ffmpeg_major_version is None:
        raise RuntimeError("torchcodec cannot load the FFmpeg libraries: install Debian's ffmpeg (scripts/setup.sh)")
    stop = None if max_seconds is None else max_seconds + 1.0
    try:
        decoder = AudioDecoder(path, sample_rate=target_rate)
        data = decoder.get_samples_played_in_range(0.0, stop).data
    except (RuntimeError, ValueError) as exc:
        if "No audio frames were decoded" in str(exc):
            raise InvalidRequestError("the audio has no samples (zero length)", param="file") from None
        raise UnsupportedMediaTypeError(
            f"the file could not be decoded as audio ({_ffmpeg_reason(exc, path)})", param="file"
        ) from None
    if data.shape[-1] == 0:
        raise InvalidRequestError("the audio has no samples (zero length)", param="file")
    duration = data.shape[-1] / target_rate
    metadata = decoder.metadata
    if max_seconds is not None and duration > max_seconds:
        lasts = f"{duration:.1f} s"
        if duration >= max_seconds + 0.5:  # decoding stopped early: only the header may know the full length
            header = metadata.duration_seconds
            lasts = f"{header:.1f} s" if header and header > duration else f"more than {max_seconds:g} s"
        raise PayloadTooLargeError(
            f"the audio lasts {lasts}; this server accepts at most {max_seconds:g} s (MAX_AUDIO_SECONDS)",
            param="file",
        )
    mono = data.mean(dim=0) if data.shape[0] > 1 else data[0]
    return DecodedAudio(
        samples=mono.numpy(),
        sample_rate=target_rate,
        duration_s=duration,
        source_sample_rate=metadata.sample_rate or target_rate,
        source_channels=metadata.num_channels or data.shape[0],
        codec=metadata.codec,
    )


async def read_upload(
    upload: UploadFile, *, max_upload_mb: float, max_audio_seconds: float, target_rate: int = 16000
) -> DecodedAudio:
    """Save, decode (in a worker thread) and check an uploaded audio file; the temporary file never outlives it."""
    path = await save_upload(upload, int(max_upload_mb * 2**20))
    try:
        return await anyio.to_thread.run_sync(partial(decode_audio, path, target_rate, max_seconds=max_audio_seconds))
    finally:
        _discard(path)
