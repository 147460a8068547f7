"""Audio uploads: real files of every common format decoded by FFmpeg (through torchcodec), and the limits."""

from __future__ import annotations

import asyncio
import io
import tempfile
import threading
from pathlib import Path

import numpy as np
import pytest
from starlette.datastructures import UploadFile

from app.errors import InvalidRequestError, PayloadTooLargeError, UnsupportedMediaTypeError
from app.services import audio_io
from app.services.audio_io import DecodedAudio, decode_audio, read_upload, save_upload
from tests.audio_files import DURATION_S, SPECS, TONE_HZ, Spec, make_audio_files, reference_signal

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


def test_stereo_44k_is_averaged_to_mono(audio_files: dict[str, Path]) -> None:
    audio = decode_audio(audio_files["stereo44k.wav"])
    # Left is the signal, right half of it: their mean is 0.75 of it (a channel pick would give 1 or 0.5).
    check_audio(audio, DURATION_S, 0.001, gain=0.75)
    assert (audio.source_sample_rate, audio.source_channels) == (44100, 2)
    error = audio.samples - 0.75 * reference_signal(16000)
    assert np.sqrt(np.mean(error**2)) < 0.002  # the resampler rings a little at the signal's abrupt switches


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
    audio = await read_upload(upload_of_file(audio_files[name]), max_upload_mb=1, max_audio_seconds=10)
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
        await read_upload(upload_of(b""), max_upload_mb=1, max_audio_seconds=10)
    assert (caught.value.message, caught.value.param) == ("the uploaded file is empty", "file")
    assert leftovers(temp_dir) == []


@pytest.mark.anyio
async def test_garbage_upload_is_415(temp_dir: Path) -> None:
    with pytest.raises(UnsupportedMediaTypeError) as caught:
        await read_upload(upload_of(b"\x00\x01garbage" * 500, "x.mp3"), max_upload_mb=1, max_audio_seconds=10)
    assert caught.value.status_code == 415
    assert str(temp_dir) not in caught.value.message
    assert leftovers(temp_dir) == []


@pytest.mark.anyio
async def test_oversize_upload_is_413(temp_dir: Path) -> None:
    # 2.5 MiB against 1 MiB: refused on the second chunk, the partial file removed.
    with pytest.raises(PayloadTooLargeError) as caught:
        await read_upload(upload_of(b"\x00" * (5 << 19)), max_upload_mb=1, max_audio_seconds=10)
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


def test_decoding_stops_past_the_limit(audio_files: dict[str, Path], monkeypatch: pytest.MonkeyPatch) -> None:
    """A long file costs memory for the limit only: decoding stops one second past it."""
    from torchcodec.decoders import AudioDecoder

    decoded: list[int] = []
    real_range = AudioDecoder.get_samples_played_in_range

    def spy(self: AudioDecoder, *args: float | None):
        samples = real_range(self, *args)
        decoded.append(samples.data.shape[-1])
        return samples

    monkeypatch.setattr(AudioDecoder, "get_samples_played_in_range", spy)
    with pytest.raises(PayloadTooLargeError, match=r"lasts 2\.6 s;"):
        decode_audio(audio_files["mp3.mp3"], max_seconds=0.5)
    assert decoded == [pytest.approx(1.5 * 16000, abs=0.1 * 16000)]


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
    task = asyncio.create_task(read_upload(upload, max_upload_mb=1, max_audio_seconds=9))
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
