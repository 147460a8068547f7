"""Diarization throughput: pyannote's bare pipeline against the gateway's wrapper and service, same file, same device.

- (a) bare: `Pipeline.from_pretrained(folder)` (pyannote resolves the folder itself), `.to(device)`, then
  `pipeline({"waveform": (1, n) tensor, "sample_rate": 16000})`. No gateway code is involved.
- (b) gateway: `PyannoteDiarizationModel.ensure_loaded()` on the same folder and device (one replica), then
  `DiarizationService.diarize(wrapper, audio, options)` from an event loop: the bounded queue, the worker
  thread hop and the conversion of pyannote's output to speaker turns are all in the measured time.
  This is in-process, through the service the routes call: the HTTP upload and FFmpeg decoding of a real
  request are not measured (they depend on the client, the network and the codec, not on diarization).

Both sides diarize the same synthetic two-speaker recording (`--minutes` long), after one 30 s warm-up
run each (the first call pays one-off costs), in alternating rounds (`--rounds`); the best round of each
side counts (other jobs on a shared machine only ever slow a round down), the median is reported too.
Figures: seconds per hour of audio, RTF (wall / audio) and the gateway's throughput relative to the bare
pipeline's (bare seconds / gateway seconds; goal >= 0.95).

Without `--pipeline`, the tests' tiny random-weight pipeline is built; `--real-size` builds one with the real
architectures and random weights (PyanNet with segmentation-3.0's hyper-parameters, WeSpeaker ResNet34,
a 128-dimension PLDA, batch sizes 32 as community-1) for speed runs on a GPU. Random weights make the
clustering's work differ from a real model's, but the segmentation and embedding passes, which dominate
on long files, cost the same.

    .venv/bin/python bench/diarization_throughput.py [--pipeline DIR | --real-size] [--device cpu|cuda]
        [--minutes 2] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import statistics
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000
GOAL = 0.95
WARM_UP_S = 30.0

# pyannote/segmentation-3.0's hyper-parameters (its Hub config): SincNet, 4 bidirectional LSTM layers of
# 128, 2 linear layers of 128, 10 s windows, powerset over 3 speakers with at most 2 at once.
REAL_SEGMENTATION = {
    "sincnet": {"stride": 10},
    "lstm": {"hidden_size": 128, "num_layers": 4, "bidirectional": True, "monolithic": True, "dropout": 0.5},
    "linear": {"hidden_size": 128, "num_layers": 2},
}
REAL_WINDOW_S = 10.0
REAL_PLDA_DIMENSION = 128
REAL_BATCH_SIZE = 32


@dataclass
class Side:
    name: str
    audio_s: float
    walls_s: list[float] = field(default_factory=list)
    speakers: list[int] = field(default_factory=list)

    @property
    def best_s(self) -> float:
        return min(self.walls_s)

    def summary(self) -> dict[str, Any]:
        best, median = self.best_s, statistics.median(self.walls_s)
        return {
            **asdict(self),
            "rtf_best": round(best / self.audio_s, 5),
            "rtf_median": round(median / self.audio_s, 5),
            "seconds_per_audio_hour_best": round(best / self.audio_s * 3600, 1),
            "seconds_per_audio_hour_median": round(median / self.audio_s * 3600, 1),
        }


# --- the pipeline ---------------------------------------------------------------------------------
def build_pipeline(directory: Path, real_size: bool) -> Path:
    """The tests' tiny pipeline, or the real architectures with random weights (`tests` is not installed)."""
    sys.path.insert(0, str(ROOT))
    from tests.tiny_models import (
        build_tiny_pyannote,
        embedding_specifications,
        powerset_specifications,
        write_pyannote_pipeline,
    )

    if not real_size:
        return build_tiny_pyannote(directory)
    import torch
    from pyannote.audio.models.embedding import WeSpeakerResNet34
    from pyannote.audio.models.segmentation import PyanNet

    torch.manual_seed(0)
    segmentation = PyanNet(**REAL_SEGMENTATION)
    segmentation.specifications = powerset_specifications(REAL_WINDOW_S)
    segmentation.build()
    embedding = WeSpeakerResNet34()
    embedding.specifications = embedding_specifications(REAL_WINDOW_S)
    return write_pyannote_pipeline(
        directory, segmentation, embedding, plda_dimension=REAL_PLDA_DIMENSION, batch_size=REAL_BATCH_SIZE
    )


# --- the audio ------------------------------------------------------------------------------------
def conversation(seconds: float, seed: int = 0) -> np.ndarray:
    """Two 'speakers' (voiced harmonics around 120 and 220 Hz, ~4 syllables/s) taking 1-6 s turns with pauses."""
    rng = np.random.default_rng(seed)
    pieces, total, speaker = [], 0, 0
    while total < seconds * RATE:
        turn = np.arange(round(rng.uniform(1.0, 6.0) * RATE)) / RATE
        pitch = (120.0, 220.0)[speaker] * (1 + 0.15 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * turn))
        phase = 2 * np.pi * np.cumsum(pitch) / RATE
        voiced = sum(np.sin(k * phase) / k for k in range(1, 16))
        syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3, 5) * turn), 0, None)
        pieces += [0.2 * voiced * syllables, np.zeros(round(rng.uniform(0.1, 0.8) * RATE))]
        total += len(turn) + len(pieces[-1])
        speaker = 1 - speaker
    signal = np.concatenate(pieces)[: round(seconds * RATE)]
    return (signal + 0.005 * rng.standard_normal(len(signal))).astype(np.float32)


# --- the two sides --------------------------------------------------------------------------------
def bare_side(folder: Path, device: str) -> Callable[[np.ndarray], int]:
    import torch
    from pyannote.audio import Pipeline

    pipeline = Pipeline.from_pretrained(folder).to(torch.device(device))

    def run(samples: np.ndarray) -> int:
        output = pipeline({"waveform": torch.from_numpy(samples).unsqueeze(0), "sample_rate": RATE})
        return len(output.speaker_diarization.labels())

    return run


def gateway_side(
    folder: Path, device: str, loop: asyncio.AbstractEventLoop
) -> tuple[Callable[[np.ndarray], int], Callable[[], None]]:
    """The run function and the service's stop."""
    sys.path.insert(0, str(ROOT / "backend"))
    from app.config import Settings
    from app.infra.audio_io import DecodedAudio
    from app.models.pyannote_model import PyannoteDiarizationModel
    from app.models.types import DiarizeOptions
    from app.services.diarization_service import DiarizationService

    settings = Settings(
        _env_file=None, pyannote_model_id=str(folder), model_cache_dir=folder.parent / "cache", diarization_replicas=1
    )
    wrapper = PyannoteDiarizationModel(settings, lambda: None)
    loop.run_until_complete(wrapper.ensure_loaded([int(device.split(":")[1])] if device.startswith("cuda") else None))
    service = DiarizationService(settings)

    def run(samples: np.ndarray) -> int:
        audio = DecodedAudio(samples, RATE, len(samples) / RATE, RATE, 1)
        return len(loop.run_until_complete(service.diarize(wrapper, audio, DiarizeOptions())).speakers)

    return run, lambda: loop.run_until_complete(service.stop())


def timed(side: Side, run: Callable[[np.ndarray], int], samples: np.ndarray) -> None:
    started = time.perf_counter()
    speakers = run(samples)
    side.walls_s.append(round(time.perf_counter() - started, 3))
    side.speakers.append(speakers)
    print(f"  {side.name:8s} {side.walls_s[-1]:8.2f} s  ({speakers} speakers)", flush=True)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    source = parser.add_mutually_exclusive_group()
    source.add_argument("--pipeline", type=Path, help="a pyannote pipeline folder (config.yaml)")
    source.add_argument("--real-size", action="store_true", help="real architectures, random weights")
    parser.add_argument("--device", default="cpu", help="cpu, cuda or cuda:N")
    parser.add_argument("--minutes", type=float, default=2.0, help="length of the diarized recording")
    parser.add_argument("--rounds", type=int, default=3, help="timed runs per side, alternating")
    parser.add_argument("--json", type=Path, help="write the results here")
    args = parser.parse_args()
    device = "cuda:0" if args.device == "cuda" else args.device
    os.environ["PYANNOTE_METRICS_ENABLED"] = "0"  # the gateway's default; the bare side sends nothing either
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    with tempfile.TemporaryDirectory(prefix="diarization-bench-") as tmp:
        started = time.perf_counter()
        folder = args.pipeline.resolve() if args.pipeline else build_pipeline(Path(tmp) / "pipeline", args.real_size)
        print(f"pipeline: {folder} ({time.perf_counter() - started:.1f} s to build)", flush=True)
        samples = conversation(args.minutes * 60)
        warm_up = samples[: int(WARM_UP_S * RATE)]
        loop = asyncio.new_event_loop()
        gateway_run, stop_gateway = gateway_side(folder, device, loop)
        runs = {"bare": bare_side(folder, device), "gateway": gateway_run}
        sides = {name: Side(name, len(samples) / RATE) for name in runs}
        for run in runs.values():
            run(warm_up)
        for _ in range(args.rounds):
            for name, run in runs.items():
                timed(sides[name], run, samples)
        stop_gateway()
        loop.close()

    bare, gateway = sides["bare"], sides["gateway"]
    ratio = bare.best_s / gateway.best_s
    ratio_median = statistics.median(bare.walls_s) / statistics.median(gateway.walls_s)
    report = {
        "date": date.today().isoformat(),
        "machine": {
            "platform": platform.platform(),
            "cpus": os.cpu_count(),
            "device": torch.cuda.get_device_name(device) if device.startswith("cuda") else "cpu",
            "torch": torch.__version__,
            "torch_threads": torch.get_num_threads(),
        },
        "pipeline": str(args.pipeline)
        if args.pipeline
        else ("real-size, random weights" if args.real_size else "tiny"),
        "audio_minutes": args.minutes,
        "rounds": args.rounds,
        "path": "in-process: DiarizationService + PyannoteDiarizationModel (no HTTP, no decoding)",
        "bare": bare.summary(),
        "gateway": gateway.summary(),
        "throughput_ratio_best": round(ratio, 3),
        "throughput_ratio_median": round(ratio_median, 3),
        "goal": GOAL,
        "meets_goal": ratio >= GOAL,
    }
    print(f"\n{'side':8s} {'best s':>8s} {'median s':>9s} {'s / audio h':>12s} {'RTF':>8s}")
    for side in (bare, gateway):
        summary = side.summary()
        print(
            f"{side.name:8s} {side.best_s:8.2f} {statistics.median(side.walls_s):9.2f} "
            f"{summary['seconds_per_audio_hour_best']:12.1f} {summary['rtf_best']:8.4f}"
        )
    print(f"throughput ratio gateway/bare: {ratio:.3f} best, {ratio_median:.3f} median (goal >= {GOAL})")
    if args.json:
        args.json.write_text(json.dumps(report, indent=2) + "\n", encoding="utf-8")


if __name__ == "__main__":
    main()
