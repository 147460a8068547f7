"""Audio uploads: real files of every common format decoded by FFmpeg (through torchcodec), the limits, the
memory a decode takes (measured), and the bound on decodes at once."""

from __future__ import annotations

import asyncio
import io
import json
import math
import os
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from starlette.datastructures import UploadFile

from app.config import Settings
from app.errors import InvalidRequestError, PayloadTooLargeError, RateLimitError, UnsupportedMediaTypeError
from app.infra import audio_io
from app.infra.audio_io import AudioDecoding, DecodedAudio, decode_audio, save_upload
from tests.audio_files import DURATION_S, SPECS, TONE_HZ, Spec, ffmpeg, make_audio_files, reference_signal

ROOT = Path(__file__).resolve().parents[1]

REFERENCE_RMS = float(np.sqrt(np.mean(reference_signal(16000) ** 2)))


@pytest.fixture(scope="session")
def audio_files(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    return make_audio_files(tmp_path_factory.mktemp("audio"))


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"


@pytest.fixture
def temp_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """Where the uploads' temporary files go, so a test can see what is left behind."""
    folder = tmp_path / "tmp"
    folder.mkdir()
    monkeypatch.setattr(tempfile, "tempdir", str(folder))
    return folder


def decoding(max_upload_mb: float = 1, max_audio_seconds: float = 10, **settings: Any) -> AudioDecoding:
    return AudioDecoding(
        Settings(_env_file=None, max_upload_mb=max_upload_mb, max_audio_seconds=max_audio_seconds, **settings)
    )


async def save_and_decode(service: AudioDecoding, upload: UploadFile) -> DecodedAudio:
    """What a speech request does with its upload: saved at the HTTP edge, then decoded; no file is left."""
    path = await save_upload(upload, service.max_upload_bytes)
    try:
        return await service.decode(path)
    finally:
        path.unlink(missing_ok=True)


async def read_upload(upload: UploadFile, max_upload_mb: float = 1, max_audio_seconds: float = 10) -> DecodedAudio:
    return await save_and_decode(decoding(max_upload_mb, max_audio_seconds), upload)


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def leftovers(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def upload_of(data: bytes, filename: str = "audio.wav") -> UploadFile:
    return UploadFile(io.BytesIO(data), filename=filename)


def upload_of_file(path: Path) -> UploadFile:
    return upload_of(path.read_bytes(), path.name)


def peak_frequency(samples: np.ndarray, rate: int) -> float:
    spectrum = np.abs(np.fft.rfft(samples * np.hanning(len(samples))))
    return float(np.fft.rfftfreq(len(samples), 1 / rate)[spectrum.argmax()])


def check_audio(audio: DecodedAudio, duration_s: float, tolerance_s: float, gain: float = 1.0) -> None:
    assert audio.sample_rate == 16000
    assert audio.samples.dtype == np.float32
    assert audio.samples.ndim == 1
    assert audio.duration_s == pytest.approx(len(audio.samples) / 16000)
    assert abs(audio.duration_s - duration_s) <= tolerance_s
    rms = float(np.sqrt(np.mean(audio.samples**2)))
    assert 0.8 * gain < rms / REFERENCE_RMS < 1.2 * gain
    assert np.abs(audio.samples).max() < 0.6 * gain + 0.1
    # The first second is a 440 Hz tone: a wrong rate anywhere would move it.
    assert peak_frequency(audio.samples[1600:14400], 16000) == pytest.approx(TONE_HZ, abs=3)


def test_wav_16k_mono(audio_files: dict[str, Path]) -> None:
    audio = decode_audio(audio_files["16k.wav"])
    check_audio(audio, DURATION_S, 0.0)
    assert (audio.codec, audio.source_sample_rate, audio.source_channels) == ("pcm_s16le", 16000, 1)
    np.testing.assert_allclose(audio.samples, reference_signal(16000), atol=1e-4)


@pytest.mark.parametrize("spec", SPECS, ids=[s.name for s in SPECS])
def test_common_formats_decode_to_16k_mono(audio_files: dict[str, Path], spec: Spec) -> None:
    audio = decode_audio(audio_files[spec.name])
    check_audio(audio, DURATION_S, spec.tolerance_s)
    assert (audio.codec, audio.source_sample_rate, audio.source_channels) == (spec.codec, spec.source_rate, 1)


def test_stereo_44k_is_downmixed_by_ffmpeg(audio_files: dict[str, Path]) -> None:
    audio = decode_audio(audio_files["stereo44k.wav"])
    # Left is the signal, right half of it. FFmpeg's downmix is (left + right) / sqrt(2): 1.5 / sqrt(2) of it
    # (a channel pick would give 1 or 0.5, a mean 0.75).
    gain = 1.5 / math.sqrt(2)
    check_audio(audio, DURATION_S, 0.001, gain=gain)
    assert (audio.source_sample_rate, audio.source_channels) == (44100, 2)
    error = audio.samples - gain * reference_signal(16000)
    assert np.sqrt(np.mean(error**2)) < 0.003  # the resampler rings a little at the signal's abrupt switches


def test_other_target_rate(audio_files: dict[str, Path]) -> None:
    audio = decode_audio(audio_files["mp3.mp3"], target_rate=8000)
    assert audio.sample_rate == 8000
    assert len(audio.samples) / 8000 == pytest.approx(DURATION_S, abs=0.05)


def test_truncated_mp3_decodes_what_is_there(audio_files: dict[str, Path], tmp_path: Path) -> None:
    """FFmpeg's mp3 decoder stops at the cut without an error: the audio is what the kept bytes hold."""
    data = audio_files["mp3.mp3"].read_bytes()
    cut = tmp_path / "cut.mp3"
    cut.write_bytes(data[: len(data) // 2])
    audio = decode_audio(cut)
    assert 0.35 * DURATION_S < audio.duration_s < 0.65 * DURATION_S
    assert peak_frequency(audio.samples[1600:14400], 16000) == pytest.approx(TONE_HZ, abs=3)


@pytest.mark.parametrize(
    ("content", "reason"),
    [
        (bytes(range(256)) * 40, "Invalid data found when processing input"),
        (b"just some text, not audio\n" * 10, "Invalid data found when processing input"),
    ],
    ids=["garbage", "text"],
)
def test_not_audio_is_415(tmp_path: Path, content: bytes, reason: str) -> None:
    path = tmp_path / "upload-x.wav"
    path.write_bytes(content)
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        decode_audio(path)
    assert caught.value.status_code == 415
    assert caught.value.param == "file"
    assert caught.value.message.startswith("the file could not be decoded as audio (")
    assert reason in caught.value.message
    assert str(path) not in caught.value.message
    assert ".cpp" not in caught.value.message


def test_video_without_sound_is_415(audio_files: dict[str, Path]) -> None:
    with pytest.raises(UnsupportedMediaTypeError, match=r"decoded as audio \(no audio stream found\)"):
        decode_audio(audio_files["video.mp4"])


def test_corrupt_flac_is_415(audio_files: dict[str, Path], tmp_path: Path) -> None:
    data = bytearray(audio_files["flac.flac"].read_bytes())
    data[len(data) // 3 : len(data) // 3 + 2000] = np.random.default_rng(1).integers(0, 256, 2000, np.uint8).tobytes()
    path = tmp_path / "corrupt.flac"
    path.write_bytes(data)
    with pytest.raises(UnsupportedMediaTypeError, match="Invalid data found when processing input"):
        decode_audio(path)


def test_wav_without_frames_is_400(audio_files: dict[str, Path]) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        decode_audio(audio_files["no_frames.wav"])
    assert caught.value.status_code == 400
    assert (caught.value.message, caught.value.param) == ("the audio has no samples (zero length)", "file")


def test_ffmpeg_libraries_missing_is_a_server_error(audio_files: dict[str, Path], monkeypatch) -> None:
    import torchcodec

    monkeypatch.setattr(torchcodec, "ffmpeg_major_version", None)
    with pytest.raises(RuntimeError, match="install Debian's ffmpeg"):
        decode_audio(audio_files["16k.wav"])


@pytest.mark.anyio
@pytest.mark.parametrize("name", ["16k.wav", "aac.m4a", "opus.webm", "stereo44k.wav"])
async def test_read_upload_decodes_and_leaves_no_file(audio_files: dict[str, Path], temp_dir: Path, name: str) -> None:
    audio = await read_upload(upload_of_file(audio_files[name]))
    assert audio.sample_rate == 16000
    assert audio.duration_s == pytest.approx(DURATION_S, abs=0.07)
    assert leftovers(temp_dir) == []


@pytest.mark.anyio
async def test_save_upload_streams_to_a_file_with_the_suffix(audio_files: dict[str, Path], temp_dir: Path) -> None:
    data = audio_files["flac.flac"].read_bytes()
    path = await save_upload(upload_of(data * 60, "talk.FLAC"), max_bytes=len(data) * 60)
    assert path.parent == temp_dir
    assert path.suffix == ".FLAC"
    assert path.read_bytes() == data * 60
    path.unlink()
    odd = await save_upload(upload_of(data, "evil.m p3;rm -rf"), max_bytes=len(data))
    assert odd.suffix == ""
    odd.unlink()


@pytest.mark.anyio
async def test_empty_upload_is_400(temp_dir: Path) -> None:
    with pytest.raises(InvalidRequestError) as caught:
        await read_upload(upload_of(b""))
    assert (caught.value.message, caught.value.param) == ("the uploaded file is empty", "file")
    assert leftovers(temp_dir) == []


@pytest.mark.anyio
async def test_garbage_upload_is_415(temp_dir: Path) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        await read_upload(upload_of(b"\x00\x01garbage" * 500, "x.mp3"))
    assert caught.value.status_code == 415
    assert str(temp_dir) not in caught.value.message
    assert leftovers(temp_dir) == []


@pytest.mark.anyio
async def test_oversize_upload_is_413(temp_dir: Path) -> None:
    # 2.5 MiB against 1 MiB: refused on the second chunk, the partial file removed.
    with pytest.raises(PayloadTooLargeError) as caught:
        await read_upload(upload_of(b"\x00" * (5 << 19)))
    assert caught.value.status_code == 413
    assert caught.value.message == "the upload is larger than 1 MiB, the most this server accepts (MAX_UPLOAD_MB)"
    assert leftovers(temp_dir) == []


@pytest.mark.anyio
@pytest.mark.parametrize(
    ("name", "max_seconds", "lasts"),
    [
        ("16k.wav", 2.2, "2.5 s"),  # decoded whole: the measured length
        ("mp3.mp3", 1.0, "2.6 s"),  # decoding stopped at 2 s: the header's length (mp3 frames round it up)
        ("stream.webm", 1.0, "more than 1 s"),  # stopped, and the header does not know the length
    ],
)
async def test_too_long_audio_is_413(
    audio_files: dict[str, Path], temp_dir: Path, name: str, max_seconds: float, lasts: str
) -> None:
    with pytest.raises(PayloadTooLargeError) as caught:
        await read_upload(upload_of_file(audio_files[name]), max_upload_mb=1, max_audio_seconds=max_seconds)
    assert caught.value.status_code == 413
    assert caught.value.message == (
        f"the audio lasts {lasts}; this server accepts at most {max_seconds:g} s (MAX_AUDIO_SECONDS)"
    )
    assert leftovers(temp_dir) == []


def lying_flac(source: Path, target: Path, claimed_s: float) -> Path:
    """`source` (a FLAC file) with a STREAMINFO header that declares `claimed_s` seconds (FFmpeg decodes it all)."""
    data = bytearray(source.read_bytes())
    assert data[:4] == b"fLaC" and data[4] & 0x7F == 0  # STREAMINFO comes first
    fields = int.from_bytes(data[18:26], "big")  # rate (20 bits), channels (3), bits (5), total samples (36)
    rate = fields >> 44
    fields = (fields & ~((1 << 36) - 1)) | round(claimed_s * rate)
    data[18:26] = fields.to_bytes(8, "big")
    target.write_bytes(data)
    return target


class DecodeCounter:
    """Counts the seconds of audio torchcodec's decoder is asked for, and returns."""

    def __init__(self, monkeypatch: pytest.MonkeyPatch) -> None:
        from torchcodec.decoders import AudioDecoder

        self.decoded_s = 0.0
        real_range = AudioDecoder.get_samples_played_in_range

        def counted(decoder: AudioDecoder, start_seconds: float = 0.0, stop_seconds: float | None = None) -> Any:
            samples = real_range(decoder, start_seconds, stop_seconds)
            self.decoded_s += samples.data.shape[-1] / samples.sample_rate
            return samples

        monkeypatch.setattr(AudioDecoder, "get_samples_played_in_range", counted)


def test_a_header_declaring_too_long_audio_is_refused_before_decoding(
    audio_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    counter = DecodeCounter(monkeypatch)
    with pytest.raises(PayloadTooLargeError, match=r"lasts 2\.6 s; this server accepts at most 0\.5 s"):
        decode_audio(audio_files["mp3.mp3"], max_seconds=0.5)
    assert counter.decoded_s == 0


@pytest.mark.parametrize("name", ["lying.flac", "stream.webm"])
def test_decoding_stops_past_the_limit_whatever_the_header(
    audio_files: dict[str, Path], tmp_path: Path, monkeypatch: pytest.MonkeyPatch, name: str
) -> None:
    """A header that understates the length (or a stream without one) costs memory for the limit only."""
    if name == "lying.flac":
        path = lying_flac(audio_files["flac.flac"], tmp_path / name, claimed_s=0.2)
    else:
        path = audio_files[name]  # written to a pipe: no duration in its header
    real_append = audio_io._MonoBuffer.append
    kept: list[int] = []

    def append(buffer: audio_io._MonoBuffer, chunk: np.ndarray) -> None:
        real_append(buffer, chunk)
        kept.append(buffer.size)

    monkeypatch.setattr(audio_io._MonoBuffer, "append", append)
    counter = DecodeCounter(monkeypatch)
    with pytest.raises(PayloadTooLargeError, match=r"lasts more than 0\.5 s"):
        decode_audio(path, max_seconds=0.5)
    # The limit and STOP_MARGIN_S, not a sample more (the resampler's delay may take a few ms off).
    assert 1.49 * 16000 <= kept[-1] <= 1.5 * 16000
    stopped = counter.decoded_s
    assert stopped <= 1.5
    decode_audio(path)
    assert counter.decoded_s - stopped >= 2.4  # the whole file (2.5 s) is longer: decoding stopped at the limit


def test_a_header_that_overstates_the_length_holds_no_memory_for_it(
    audio_files: dict[str, Path], tmp_path: Path
) -> None:
    """The output array is sized from the header; what the audio does not fill is not kept."""
    data = audio_files["16k.wav"].read_bytes()
    cut = tmp_path / "cut.wav"
    cut.write_bytes(data[: len(data) // 2])  # its header still says 2.5 s
    audio = decode_audio(cut)
    assert audio.duration_s == pytest.approx(DURATION_S / 2, abs=0.01)
    assert audio.samples.base is None or audio.samples.base.nbytes <= 1.25 * audio.samples.nbytes


@pytest.fixture(scope="module")
def bombs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """8-channel (7.1) FLAC silence, as in the issue's 38 KiB bomb, scaled to a 600 s limit."""
    folder = tmp_path_factory.mktemp("bombs")
    files = {}
    for seconds in (590, 620):
        files[f"{seconds}s.flac"] = folder / f"{seconds}s.flac"
        ffmpeg(
            "-f", "lavfi", "-i", "anullsrc=r=16000:cl=7.1", "-t", str(seconds), "-c:a", "flac", "-frame_size", "65535",
            files[f"{seconds}s.flac"],
        )  # fmt: skip
    files["lying.flac"] = lying_flac(files["620s.flac"], folder / "lying.flac", claimed_s=10)
    return files


def test_peak_memory_of_a_decode_is_bounded(audio_files: dict[str, Path], bombs: dict[str, Path]) -> None:
    """Peak RSS of each decode, measured in a process of its own (tests/decode_memory.py): at most twice the
    16 kHz mono float32 samples of the longest allowed audio, plus a constant; nothing before a refusal."""
    limit_s = 600
    pcm = (limit_s + 1) * 16000 * 4  # the longest audio decoded: the limit and STOP_MARGIN_S
    constant = 16 * 2**20
    names = ["590s.flac", "620s.flac", "lying.flac"]
    command = [sys.executable, "-m", "tests.decode_memory", str(audio_files["flac.flac"]), str(limit_s)]
    env = {**os.environ, "PYTHONPATH": os.pathsep.join([str(ROOT / "backend"), str(ROOT)])}
    run = subprocess.run([*command, *(str(bombs[n]) for n in names)], capture_output=True, text=True, env=env, cwd=ROOT)
    assert run.returncode == 0, run.stderr[-3000:]
    allowed, declared, lying = (json.loads(line) for line in run.stdout.splitlines())
    for report in (allowed, declared, lying):
        report["growth"] = report["peak"] - report["rss_before"]
    assert allowed["outcome"] == "decoded 590 s"
    assert allowed["growth"] <= 2 * pcm + constant, allowed
    # The header says 620 s: refused before a single packet is decoded, at almost no cost.
    assert declared["outcome"].startswith("413: the audio lasts 620.0 s; this server accepts at most 600 s")
    assert declared["decoded_s"] == 0 and declared["growth"] <= 4 * 2**20, declared
    assert declared["seconds"] < allowed["seconds"] / 2, (declared, allowed)
    # The header says 10 s: decoded up to 601 s, then refused, within the same bound.
    assert lying["outcome"].startswith("413: the audio lasts more than 600 s")
    assert lying["growth"] <= 2 * pcm + constant, lying


@pytest.mark.anyio
async def test_decodes_at_once_are_bounded_and_so_are_the_waiting(
    audio_files: dict[str, Path], temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """MAX_CONCURRENT_DECODES run, DECODE_QUEUE_SIZE wait, the next request gets 429; a job waits regardless."""
    running, most, release = 0, 0, threading.Event()
    lock = threading.Lock()
    real_decode = audio_io.decode_audio

    def held_decode(path: Path, *args: Any, **kwargs: Any) -> DecodedAudio:
        nonlocal running, most
        with lock:
            running += 1
            most = max(most, running)
        try:
            release.wait(10)
            return real_decode(path, *args, **kwargs)
        finally:
            with lock:
                running -= 1

    monkeypatch.setattr(audio_io, "decode_audio", held_decode)
    service = decoding(max_concurrent_decodes=2, decode_queue_size=1)
    wav = audio_files["16k.wav"]
    first = [asyncio.create_task(save_and_decode(service, upload_of_file(wav))) for _ in range(3)]
    await until(lambda: service.stats()["waiting"] == 1 and service.stats()["running"] == 2)
    with pytest.raises(RateLimitError) as caught:
        await save_and_decode(service, upload_of_file(wav))
    assert caught.value.status_code == 429 and caught.value.code == "queue_full"
    assert int(caught.value.headers["Retry-After"]) >= 1
    assert "MAX_CONCURRENT_DECODES" in caught.value.message and "DECODE_QUEUE_SIZE" in caught.value.message
    job_path = temp_dir / "job.wav"
    job_path.write_bytes(wav.read_bytes())
    job = asyncio.create_task(service.decode(job_path, wait_unbounded=True))  # a job: waits beyond the queue
    await until(lambda: service.stats()["waiting"] == 2)
    release.set()
    results = await asyncio.gather(*first, job)
    assert [round(a.duration_s, 3) for a in results] == [DURATION_S] * 4
    assert most == 2
    assert service.stats() == {"running": 0, "waiting": 0, "decodes": 4, "max_concurrent": 2, "queue_size": 1}


@pytest.mark.anyio
async def test_a_decode_holds_its_slot_until_ffmpeg_is_done_even_when_its_caller_left(
    audio_files: dict[str, Path], temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    real_decode = audio_io.decode_audio

    def slow_decode(path: Path, *args: Any, **kwargs: Any) -> DecodedAudio:
        started.set()
        release.wait(10)
        return real_decode(path, *args, **kwargs)

    monkeypatch.setattr(audio_io, "decode_audio", slow_decode)
    service = decoding(max_concurrent_decodes=1, decode_queue_size=0)
    gone = asyncio.create_task(save_and_decode(service, upload_of_file(audio_files["16k.wav"])))
    await asyncio.to_thread(started.wait, 10)
    gone.cancel()
    await asyncio.wait([gone], timeout=0.1)
    assert not gone.done() and service.stats()["running"] == 1  # FFmpeg still works: the slot is still taken
    with pytest.raises(RateLimitError):
        await save_and_decode(service, upload_of_file(audio_files["16k.wav"]))
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await gone
    assert service.stats()["running"] == 0 and leftovers(temp_dir) == []


@pytest.mark.anyio
async def test_cancelled_while_decoding_leaves_no_file(
    audio_files: dict[str, Path], temp_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    started, release = threading.Event(), threading.Event()
    real_decode = audio_io.decode_audio

    def slow_decode(path: Path, *args, **kwargs) -> DecodedAudio:
        started.set()
        release.wait(10)
        return real_decode(path, *args, **kwargs)

    monkeypatch.setattr(audio_io, "decode_audio", slow_decode)
    upload = upload_of_file(audio_files["16k.wav"])
    task = asyncio.create_task(read_upload(upload, max_audio_seconds=9))
    await asyncio.to_thread(started.wait, 10)
    assert len(leftovers(temp_dir)) == 1
    task.cancel()
    release.set()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(temp_dir) == []


@pytest.mark.anyio
async def test_cancelled_while_receiving_leaves_no_file(temp_dir: Path) -> None:
    stalled = asyncio.Event()

    class StalledUpload(UploadFile):
        """Sends one chunk, then nothing: a client that stopped mid-upload."""

        async def read(self, size: int = -1) -> bytes:
            if self.file.tell() == 0:
                return self.file.read(size)
            stalled.set()
            await asyncio.Event().wait()
            return b""

    upload = StalledUpload(io.BytesIO(b"x" * (3 << 20)))
    task = asyncio.create_task(read_upload(upload, max_upload_mb=10, max_audio_seconds=9))
    await stalled.wait()
    assert len(leftovers(temp_dir)) == 1
    task.cancel()
    with pytest.raises(asyncio.CancelledError):
        await task
    assert leftovers(temp_dir) == []
