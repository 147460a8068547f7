"""Streaming audio encoding: float32 samples in, an encoded stream out, as the samples come.

Every format comes out at 24 kHz mono, as OpenAI's speech API sends it. `pcm` (raw 16-bit signed
little-endian samples) and `wav` (the same behind a header meant for streaming: its sizes are left
unknown, 0xFFFFFFFF) are made here (`RawEncoder`): soxr resamples the chunks as one stream, on a worker
thread. The compressed formats go through the `ffmpeg` command (`StreamingEncoder`): one process per
stream, started with asyncio (nothing waits on the event loop), fed the samples on its stdin as they are
synthesised; what it writes to stdout goes to the client as it comes. `opus` is in an Ogg container,
`aac` in ADTS frames. Either way the first sentence's audio leaves before the rest is made, and the
process is killed when the stream ends early (a client that left).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import struct
from collections.abc import AsyncGenerator, AsyncIterator
from typing import TYPE_CHECKING, Literal, Protocol

if TYPE_CHECKING:
    import numpy as np

logger = logging.getLogger("app.audio.encoding")

SpeechFormat = Literal["mp3", "opus", "aac", "flac", "wav", "pcm"]
OUTPUT_RATE = 24000
"""The rate of every encoded stream (OpenAI's speech API sends 24 kHz; `pcm` is documented so)."""
READ_BYTES = 64 * 1024
STDERR_KEPT = 4096
"""The end of FFmpeg's complaints kept for the log when it fails."""


CONTENT_TYPES: dict[SpeechFormat, str] = {
    "mp3": "audio/mpeg",
    "opus": "audio/opus",
    "aac": "audio/aac",
    "flac": "audio/flac",
    "wav": "audio/wav",
    "pcm": "audio/pcm",
}
"""The `Content-Type` OpenAI answers each response format with."""
FFMPEG_OUTPUTS: dict[SpeechFormat, tuple[str, ...]] = {
    "mp3": ("-c:a", "libmp3lame", "-b:a", "64k", "-f", "mp3"),
    "opus": ("-c:a", "libopus", "-b:a", "32k", "-page_duration", "100000", "-f", "ogg"),
    "aac": ("-c:a", "aac", "-b:a", "64k", "-f", "adts"),
    "flac": ("-c:a", "flac", "-f", "flac"),
}
"""FFmpeg's encoder and muxer for each compressed format."""


class EncodingError(RuntimeError):
    """FFmpeg failed (or is not installed)."""


class Encoder(Protocol):
    """`start()`, then `encode(chunks)` yields the encoded stream of `chunks` as they come, then `close()`
    (always: it stops whatever still runs)."""

    audio_format: SpeechFormat

    async def start(self) -> None: ...

    def encode(self, chunks: AsyncIterator[np.ndarray]) -> AsyncGenerator[bytes, None]: ...

    async def close(self) -> None: ...


def open_encoder(input_rate: int, audio_format: SpeechFormat) -> Encoder:
    """The encoder of `audio_format` for float32 mono samples at `input_rate` (not started yet)."""
    if audio_format in ("pcm", "wav"):
        return RawEncoder(input_rate, audio_format)
    return StreamingEncoder(input_rate, audio_format)


def streaming_wav_header(rate: int) -> bytes:
    """A 16-bit mono WAV header whose sizes are unknown (0xFFFFFFFF), as FFmpeg writes one to a pipe."""
    unknown = 0xFFFFFFFF
    fmt = struct.pack("<HHIIHH", 1, 1, rate, rate * 2, 2, 16)
    return (
        b"RIFF"
        + struct.pack("<I", unknown)
        + b"WAVEfmt "
        + struct.pack("<I", len(fmt))
        + fmt
        + b"data"
        + (struct.pack("<I", unknown))
    )


class RawEncoder:
    """`pcm` and `wav` without a process: each chunk resampled (one soxr stream, so no seams between chunks)
    and converted to 16-bit samples on a worker thread."""

    def __init__(self, input_rate: int, audio_format: Literal["pcm", "wav"]) -> None:
        self.input_rate = input_rate
        self.audio_format: SpeechFormat = audio_format

    async def start(self) -> None:
        return None

    async def encode(self, chunks: AsyncIterator[np.ndarray]) -> AsyncGenerator[bytes, None]:
        import numpy as np
        import soxr

        resampler = (
            soxr.ResampleStream(self.input_rate, OUTPUT_RATE, 1, dtype="float32", quality="HQ")
            if self.input_rate != OUTPUT_RATE
            else None
        )

        def convert(chunk: np.ndarray, last: bool = False) -> bytes:
            samples = np.asarray(chunk, dtype=np.float32)
            if resampler is not None:
                samples = resampler.resample_chunk(samples, last=last)
            return (np.clip(samples, -1.0, 1.0) * 32767).round().astype("<i2").tobytes()

        if self.audio_format == "wav":
            yield streaming_wav_header(OUTPUT_RATE)
        async for chunk in chunks:
            if len(chunk) and (data := await asyncio.to_thread(convert, chunk)):
                yield data
        if resampler is not None and (data := await asyncio.to_thread(convert, np.zeros(0, np.float32), True)):
            yield data

    async def close(self) -> None:
        return None


def ffmpeg_command(input_rate: int, audio_format: SpeechFormat) -> list[str]:
    return [
        "ffmpeg",
        "-hide_banner",
        "-loglevel",
        "error",
        # Raw input needs no probing: without these FFmpeg reads seconds of it before writing anything.
        "-probesize",
        "32",
        "-analyzeduration",
        "0",
        "-f",
        "f32le",
        "-ar",
        str(input_rate),
        "-ac",
        "1",
        "-i",
        "pipe:0",
        "-map_metadata",
        "-1",
        "-fflags",
        "+bitexact",
        "-flags:a",
        "+bitexact",
        "-ar",
        str(OUTPUT_RATE),
        "-ac",
        "1",
        *FFMPEG_OUTPUTS[audio_format],
        "-flush_packets",
        "1",
        "pipe:1",
    ]


class StreamingEncoder:
    """One FFmpeg process turning float32 mono samples at `input_rate` into `audio_format`.

    `start()` launches it (an `EncodingError` when FFmpeg is missing), `encode(chunks)` feeds it the chunks
    and yields its output as it comes, and `close()` kills whatever is left (always call it)."""

    def __init__(self, input_rate: int, audio_format: SpeechFormat) -> None:
        self.input_rate = input_rate
        self.audio_format = audio_format
        self._process: asyncio.subprocess.Process | None = None
        self._stderr: asyncio.Task[bytes] | None = None
        self.bytes_out = 0

    async def start(self) -> None:
        try:
            self._process = await asyncio.create_subprocess_exec(
                *ffmpeg_command(self.input_rate, self.audio_format),
                stdin=asyncio.subprocess.PIPE,
                stdout=asyncio.subprocess.PIPE,
                stderr=asyncio.subprocess.PIPE,
            )
        except FileNotFoundError as exc:
            raise EncodingError("the `ffmpeg` command is not installed (Debian's ffmpeg package)") from exc
        self._stderr = asyncio.ensure_future(_tail(self._process.stderr))

    @property
    def running(self) -> bool:
        return self._process is not None and self._process.returncode is None

    async def encode(self, chunks: AsyncIterator[np.ndarray]) -> AsyncGenerator[bytes, None]:
        """The encoded stream of `chunks`. A failure of `chunks` is raised once FFmpeg has been stopped."""
        process = self._process
        if process is None or process.stdin is None or process.stdout is None:
            raise EncodingError("the encoder was not started")
        writer = asyncio.ensure_future(self._feed(process, chunks))
        try:
            while data := await process.stdout.read(READ_BYTES):
                self.bytes_out += len(data)
                yield data
            code = await process.wait()
            if writer.done() and not writer.cancelled():
                failure = writer.exception()
                if failure is not None and not isinstance(failure, (BrokenPipeError, ConnectionResetError)):
                    raise failure  # what stopped the feed (a failed synthesis), FFmpeg killed for it
            if code != 0:
                reason = (await self._stderr).decode(errors="replace").strip() if self._stderr else ""
                raise EncodingError(f"ffmpeg exited with {code}: {reason[-500:] or 'no message'}")
            await writer
        finally:
            if not writer.done():
                writer.cancel()
                await asyncio.gather(writer, return_exceptions=True)

    async def _feed(self, process: asyncio.subprocess.Process, chunks: AsyncIterator[np.ndarray]) -> None:
        import numpy as np

        stdin = process.stdin
        assert stdin is not None
        try:
            async for chunk in chunks:
                if len(chunk):
                    stdin.write(np.ascontiguousarray(chunk, dtype="<f4").tobytes())
                    await stdin.drain()
            stdin.close()
        except BaseException:
            # Stop FFmpeg so that the reader sees the end of its output, then report the failure.
            self._kill()
            raise
        finally:
            aclose = getattr(chunks, "aclose", None)
            if aclose is not None:
                await aclose()

    def _kill(self) -> None:
        if self.running:
            assert self._process is not None
            with contextlib.suppress(ProcessLookupError):
                self._process.kill()

    async def close(self) -> None:
        """Kill FFmpeg if it still runs and wait for it (a stream that ended early)."""
        process = self._process
        if process is None:
            return
        self._kill()
        with contextlib.suppress(ProcessLookupError):
            await process.wait()
        if self._stderr is not None:
            self._stderr.cancel()
            await asyncio.gather(self._stderr, return_exceptions=True)


async def _tail(stream: asyncio.StreamReader | None) -> bytes:
    """Read `stream` to its end, keeping its last `STDERR_KEPT` bytes."""
    kept = b""
    if stream is None:
        return kept
    while data := await stream.read(READ_BYTES):
        kept = (kept + data)[-STDERR_KEPT:]
    return kept
