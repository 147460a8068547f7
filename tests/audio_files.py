"""Real audio test files, made locally: a numpy signal written as WAV, converted by the `ffmpeg` CLI."""

from __future__ import annotations

import shutil
import subprocess
import wave
from dataclasses import dataclass
from pathlib import Path

import numpy as np

DURATION_S = 2.5
TONE_HZ = 440.0


def reference_signal(rate: int, seconds: float = DURATION_S) -> np.ndarray:
    """A 440 Hz tone (first second), a 200→3000 Hz chirp, then two tone bursts; all below 4 kHz so an
    8 kHz file keeps it whole. Peak 0.5."""
    t = np.arange(round(rate * seconds)) / rate
    tone = np.sin(2 * np.pi * TONE_HZ * t)
    chirp_t = t - 1.0
    chirp = np.sin(2 * np.pi * (200 * chirp_t + (3000 - 200) / 2 * chirp_t**2))
    burst = np.sin(2 * np.pi * 1000 * t) * (np.sin(2 * np.pi * 4 * t) > 0)
    signal = np.where(t < 1.0, tone, np.where(t < 2.0, chirp, burst))
    return (0.5 * signal).astype(np.float32)


def write_wav(path: Path, samples: np.ndarray, rate: int) -> Path:
    """16-bit PCM WAV from float samples shaped (n,) or (n, channels)."""
    frames = samples if samples.ndim == 2 else samples[:, None]
    with wave.open(str(path), "wb") as out:
        out.setnchannels(frames.shape[1])
        out.setsampwidth(2)
        out.setframerate(rate)
        out.writeframes((np.clip(frames, -1, 1) * 32767).astype("<i2").tobytes())
    return path


@dataclass(frozen=True)
class Spec:
    """One test file: how ffmpeg makes it from the 16 kHz mono WAV and what decoding must report."""

    name: str
    ffmpeg_args: tuple[str, ...]
    codec: str
    source_rate: int
    tolerance_s: float = 0.05


SPECS = [
    Spec("flac.flac", (), "flac", 16000),
    Spec("mp3.mp3", (), "mp3", 16000),
    Spec("vorbis.ogg", ("-c:a", "libvorbis"), "vorbis", 16000),
    Spec("opus.ogg", ("-c:a", "libopus"), "opus", 48000),
    # FFmpeg keeps AAC's last frame padding: up to one frame (1024 samples, 64 ms at 16 kHz) more.
    Spec("aac.m4a", ("-c:a", "aac"), "aac", 16000, tolerance_s=0.07),
    Spec("opus.webm", ("-c:a", "libopus"), "opus", 48000),
    Spec("8k.wav", ("-ar", "8000"), "pcm_s16le", 8000),
    Spec("48k.flac", ("-ar", "48000"), "flac", 48000),
]


def ffmpeg(*args: str | Path) -> None:
    subprocess.run(["ffmpeg", "-hide_banner", "-loglevel", "error", "-y", *map(str, args)], check=True)


def make_audio_files(folder: Path) -> dict[str, Path]:
    """Write every test file into `folder`; keys are file names.

    Besides `SPECS` and `16k.wav`: `stereo44k.wav` (left = signal, right = half of it), `stream.webm`
    (written to a pipe, so its header has no duration), `video.mp4` (no audio stream) and
    `no_frames.wav` (a header and no samples).
    """
    if shutil.which("ffmpeg") is None:
        raise RuntimeError("the ffmpeg CLI is missing: run scripts/setup.sh (it installs Debian's ffmpeg)")
    base = write_wav(folder / "16k.wav", reference_signal(16000), 16000)
    files = {base.name: base}
    for spec in SPECS:
        ffmpeg("-i", base, *spec.ffmpeg_args, folder / spec.name)
        files[spec.name] = folder / spec.name
    left = reference_signal(44100)
    files["stereo44k.wav"] = write_wav(folder / "stereo44k.wav", np.stack([left, 0.5 * left], axis=1), 44100)
    with (folder / "stream.webm").open("wb") as out:
        cmd = ["ffmpeg", "-hide_banner", "-loglevel", "error", "-i", str(base), "-c:a", "libopus", "-f", "webm", "-"]
        subprocess.run(cmd, stdout=out, check=True)
    files["stream.webm"] = folder / "stream.webm"
    ffmpeg("-f", "lavfi", "-i", "color=c=red:s=32x32:d=1", "-c:v", "mpeg4", folder / "video.mp4")
    files["video.mp4"] = folder / "video.mp4"
    files["no_frames.wav"] = write_wav(folder / "no_frames.wav", np.zeros(0, np.float32), 16000)
    return files
