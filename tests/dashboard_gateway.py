"""A live gateway for the dashboard's end-to-end tests: the tests' tiny random-weight models, two keys, the
built dashboard, nothing loaded at start. Started by Playwright (frontend/playwright.config.ts):

    PYTHONPATH=backend:. .venv/bin/python -m tests.dashboard_gateway --port 8321 --folder /tmp/e2e
        [--dist frontend/dist]

It builds the models into FOLDER (once: they are reused on the next run): tiny Qwen, Canary, pyannote, NLLB
(`translation`), VITS (`tts`, two speakers) and Whisper (`whisper`), all enabled, writes the audio files the tests
upload (FOLDER/audio/speech.wav: two alternating voices), and serves until it is interrupted.
"""

from __future__ import annotations

import argparse
import os
import shutil
from collections.abc import Callable
from pathlib import Path

import numpy as np

ADMIN_KEY = "e2e-admin-key-0123456789"
CLIENT_KEY = "e2e-client-key-0123456789"
ROOT = Path(__file__).resolve().parents[1]


def two_voices(rate: int = 16000, turns: int = 6, turn_s: float = 2.0) -> np.ndarray:
    """Alternating low and high harmonic tones, with short pauses: something to transcribe and diarize."""
    t = np.arange(int(rate * turn_s)) / rate
    pieces = []
    for turn in range(turns):
        pitch = 110.0 if turn % 2 == 0 else 240.0
        voice = sum(np.sin(2 * np.pi * pitch * k * t) / k for k in range(1, 6))
        envelope = 0.5 + 0.5 * np.sin(2 * np.pi * 3.0 * t)  # syllable-like
        pieces += [0.2 * voice * envelope, np.zeros(rate // 4)]
    return np.concatenate(pieces).astype(np.float32)


def build_once(path: Path, build: Callable[[Path], object]) -> Path:
    """`build(path)` unless an earlier run finished it: built beside it, then renamed (a run stopped halfway
    leaves no half-built model behind)."""
    if not path.is_dir():
        partial = path.with_name(path.name + ".partial")
        shutil.rmtree(partial, ignore_errors=True)
        build(partial)
        partial.rename(path)
    return path


def build_models(folder: Path) -> dict[str, Path]:
    from tests.tiny_models import build_tiny_canary, build_tiny_pyannote, build_tiny_qwen
    from tests.tiny_translation import build_tiny_translation
    from tests.tiny_tts import build_tiny_vits
    from tests.tiny_whisper import build_tiny_whisper

    models = folder / "models"
    paths = {"qwen": models / "tiny-qwen", "canary": models / "tiny-canary", "pyannote": models / "tiny-pyannote"}
    if not (paths["qwen"] / "config.json").is_file():
        build_tiny_qwen(paths["qwen"])
    canary = paths["canary"] / "tiny-canary.nemo"
    if not canary.is_file():
        paths["canary"].mkdir(parents=True, exist_ok=True)
        canary = build_tiny_canary(paths["canary"])
    if not (paths["pyannote"] / "config.yaml").is_file():
        build_tiny_pyannote(paths["pyannote"])
    return {
        **paths,
        "canary": canary,
        "translation": build_once(models / "tiny-nllb", build_tiny_translation),
        # Two speakers: the voices are OpenAI's names and `speaker_<i>`.
        "tts": build_once(models / "tiny-vits", lambda path: build_tiny_vits(path, num_speakers=2)),
        "whisper": build_once(models / "tiny-whisper", build_tiny_whisper),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--port", type=int, default=8321)
    parser.add_argument("--folder", type=Path, required=True, help="models, audio, cache and jobs live here")
    parser.add_argument("--dist", type=Path, default=ROOT / "frontend" / "dist")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")  # the tests never reach the Hub
    # The tests expect a machine without a GPU ("CPU mode"): a GPU server's GPUs are hidden, before `app` reads
    # the variable (as for the tests not marked gpu: tests/gpu_visibility.py).
    os.environ["CUDA_VISIBLE_DEVICES"] = ""

    import uvicorn

    from app.cli import server_config
    from app.config import load_settings
    from app.main import create_app
    from tests.audio_files import write_wav

    folder = args.folder.resolve()
    models = build_models(folder)
    (folder / "audio").mkdir(parents=True, exist_ok=True)
    write_wav(folder / "audio" / "speech.wav", two_voices(), 16000)
    settings = load_settings(
        _env_file=None,
        api_port=args.port,
        model_cache_dir=folder / "cache",
        data_dir=folder / "jobs",
        qwen_model_id=str(models["qwen"]),
        canary_model_id=str(models["canary"]),
        pyannote_model_id=str(models["pyannote"]),
        translation_model_id=str(models["translation"]),
        tts_model_id=str(models["tts"]),
        whisper_model_id=str(models["whisper"]),
        enabled_models=["qwen", "canary", "pyannote", "translation", "tts", "whisper"],
        openai_api_keys=f"e2e-client:{CLIENT_KEY}",
        admin_api_keys=f"e2e-admin:{ADMIN_KEY}",
        # A quota the client never reaches: the Usage pages have bars to show.
        quotas="e2e-client:tokens_per_day=100000000,audio_seconds_per_day=360000",
        frontend_dist=args.dist.resolve(),
        asr_window_s=5.0,
        max_audio_seconds=1800.0,  # a job long enough to be watched and cancelled (tiny models: ~1 % of real time)
        asr_queue_size=1024,
        log_level="info",
    )
    uvicorn.Server(server_config(create_app(settings), settings)).run()


if __name__ == "__main__":
    main()
