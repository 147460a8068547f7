"""ASR throughput: NeMo's offline `transcribe` against the gateway's /v1/audio/transcriptions.

One model (`.nemo`), one device, the same WAV files for both sides, measured one after the other:

- (a) raw: `ASRModel.restore_from` in this process, then `model.transcribe(arrays, batch_size=B)` over
  every file (float32 arrays read from the WAV files beforehand), in the precision the gateway uses:
  bfloat16 autocast on a GPU that supports it, float32 otherwise. No gateway code is involved.
- (b) gateway: `inference-gateway serve` in a subprocess (canary slot only, `ASR_BATCH_SIZE=B`), the same
  `.nemo` on the same device. This process uploads every file (`response_format=json`), `--concurrency` at
  a time, and reads the batches the gateway formed from `/api/admin/status`.

Each side is warmed up on one batch's worth of files (the first `transcribe` call is slow), then runs
`--rounds` timed rounds over every file; the table shows the fastest round and the median.
RTFx = seconds of audio / wall seconds; the goal is gateway RTFx >= 0.8 x raw RTFx.

Without `--nemo`, the tests' tiny random-weight Canary is built; `--real-size` builds one with
canary-1b-v2's dimensions (random weights, about 1 B parameters) for speed runs on a GPU. Random weights
seldom emit end-of-sequence, so each file decodes up to the decoder's length cap (see `--real-size`).
The gateway decodes uploads with FFmpeg (torchcodec): the machine needs FFmpeg's libraries.

    .venv/bin/python bench/asr_throughput.py [--nemo x.nemo | --real-size] [--device cpu|cuda] [--files 64]
        [--seconds 10] [--batch-size 32] [--concurrency 32] [--rounds 3] [--threads N] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import random
import socket
import string
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np

from bench_common import Rounds, report_head, serve_subprocess, wait_loaded

ROOT = Path(__file__).resolve().parents[1]
RATE = 16000
MODEL = "canary"
GOAL = 0.8
LOAD_TIMEOUT_S = 1200.0

# canary-1b-v2's dimensions: NVIDIA's model card (FastConformer encoder, Transformer decoder, 978 M
# parameters) and the defaults transformers 5.23 gives its CanaryConfig for the nvidia/canary-1b-v2
# checkpoint (encoder: ParakeetEncoderConfig with 32 layers and 128 mel bins). Not checked against the
# released .nemo file (no Hub access here): options such as xscaling or the subsampling's exact layout
# may differ; the sizes below set the compute.
REAL_ENCODER = {
    "feat_in": 128,
    "n_layers": 32,
    "d_model": 1024,
    "n_heads": 8,
    "ff_expansion_factor": 4,
    "conv_kernel_size": 9,
    "subsampling": "dw_striding",
    "subsampling_factor": 8,
    "subsampling_conv_channels": 256,
    "xscaling": False,
}
REAL_DECODER = {"hidden_size": 1024, "inner_size": 4096, "num_layers": 8, "num_attention_heads": 8}
REAL_VOCAB = 16384
PROMPT_TOKENS = 9
"""Decoder positions the canary2 prompt takes (the tiny model decodes 119 tokens under a 128 cap)."""
TEXT_TOKENS_PER_S = 4
"""About what speech yields (150 words a minute, ~1.5 tokens a word): the real-size decode length."""


@dataclass
class Side(Rounds):
    """One side's timed rounds, each transcribing every file once."""

    name: str
    files: int
    audio_s: float
    tokens_per_file: float | None = None

    @property
    def rtfx(self) -> float:
        return self.per_s(self.audio_s)

    @property
    def rtfx_median(self) -> float:
        return self.median_per_s(self.audio_s)

    def summary(self) -> dict[str, Any]:
        return {**asdict(self), "rtfx_best": round(self.rtfx, 2), "rtfx_median": round(self.rtfx_median, 2)}


# --- the model ----------------------------------------------------------------------------------
def build_real_size_canary(directory: Path, seconds: float) -> Path:
    """The tiny Canary's configuration scaled to canary-1b-v2's dimensions, random weights.

    The English tokenizer is retrained on pseudo-words so the vocabulary (hence the output layer) has
    canary-1b-v2's 16,384 entries. The decoder's position limit is the prompt plus `TEXT_TOKENS_PER_S`
    tokens per second of audio: random weights decode up to that limit, as long as real speech would
    (canary-1b-v2 allows 1,024 positions; the sinusoidal position table has no weights, so only the
    limit changes).
    """
    import sentencepiece
    import torch
    from nemo.collections.asr.models import ASRModel, EncDecMultiTaskModel
    from nemo.collections.common.tokenizers.sentencepiece_tokenizer import create_spt_model
    from nemo.utils.app_state import AppState

    tiny = build_tiny_canary(directory / "tiny")
    cfg = ASRModel.restore_from(str(tiny), map_location=torch.device("cpu"), return_config=True)
    langs = cfg.tokenizer.langs
    for lang in langs.values():
        for key in ("model_path", "vocab_path", "spe_tokenizer_vocab"):  # archive paths: use each `dir` instead
            lang.pop(key, None)
    sizes = {
        name: sentencepiece.SentencePieceProcessor(model_file=str(Path(lang.dir) / "tokenizer.model")).get_piece_size()
        for name, lang in langs.items()
    }
    rng = random.Random(0)
    corpus = directory / "pseudo-words.txt"
    words = ("".join(rng.choices(string.ascii_lowercase, k=rng.randint(3, 9))) for _ in range(80_000))
    corpus.write_text("\n".join(words) + "\n", encoding="utf-8")
    english = REAL_VOCAB - sum(size for name, size in sizes.items() if name != "en")
    create_spt_model(
        str(corpus),
        vocab_size=english,
        sample_size=-1,
        do_lower_case=False,
        tokenizer_type="bpe",
        output_dir=str(directory / "bpe_en"),
    )
    langs.en.dir = str(directory / "bpe_en")

    cfg.preprocessor.features = REAL_ENCODER["feat_in"]
    cfg.encoder.update(REAL_ENCODER)
    hidden = REAL_DECODER["hidden_size"]
    cfg.model_defaults.update({"asr_enc_hidden": hidden, "lm_enc_hidden": hidden, "lm_dec_hidden": hidden})
    positions = PROMPT_TOKENS + math.ceil(TEXT_TOKENS_PER_S * seconds)
    cfg.transf_decoder.config_dict.update({**REAL_DECODER, "max_sequence_length": positions, "vocab_size": None})
    cfg.head.update({"hidden_size": hidden, "num_classes": None})
    torch.manual_seed(0)
    AppState().model_restore_path = None  # else NeMo looks for a timestamp aligner in the tiny .nemo
    model = EncDecMultiTaskModel(cfg=cfg)
    path = directory / "canary-1b-v2-size.nemo"
    model.save_to(str(path))
    del model
    gc.collect()  # the measured sides restore their own copies
    return path


def build_tiny_canary(directory: Path) -> Path:
    """`tests.tiny_models.build_tiny_canary` (the tests folder is not an installed package)."""
    sys.path.insert(0, str(ROOT))
    from tests.tiny_models import build_tiny_canary as build

    return build(directory)


# --- the audio ----------------------------------------------------------------------------------
def speech_like(seconds: float, rng: np.random.Generator) -> np.ndarray:
    """A voiced signal: 20 harmonics of a wandering 90-210 Hz pitch, ~4 syllables/s, a little noise."""
    t = np.arange(round(seconds * RATE)) / RATE
    pitch = 150 + 60 * np.sin(2 * np.pi * rng.uniform(0.2, 0.5) * t + rng.uniform(0, 2 * np.pi))
    phase = 2 * np.pi * np.cumsum(pitch) / RATE
    voiced = sum(np.sin(k * phase) / k for k in range(1, 21))
    syllables = np.clip(np.sin(2 * np.pi * rng.uniform(3, 5) * t + rng.uniform(0, 2 * np.pi)), 0, None)
    signal = 0.25 * voiced / np.abs(voiced).max() * syllables + 0.01 * rng.standard_normal(len(t))
    return signal.astype(np.float32)


def write_files(folder: Path, count: int, seconds: float) -> list[Path]:
    """`count` 16-bit 16 kHz mono WAV files of `seconds` each, different signals."""
    import soundfile

    paths = []
    for index in range(count):
        path = folder / f"speech-{index:03d}.wav"
        soundfile.write(path, speech_like(seconds, np.random.default_rng(index)), RATE, subtype="PCM_16")
        paths.append(path)
    return paths


# --- (a) NeMo offline -----------------------------------------------------------------------------
def measure_raw(
    nemo: Path, device: str, paths: list[Path], args: argparse.Namespace
) -> tuple[Side, list[str], dict[str, Any]]:
    """Restore, warm up on one batch, then time `--rounds` calls of `transcribe` over every file; free the model."""
    import soundfile
    import torch
    from nemo.collections.asr.models import ASRModel, EncDecMultiTaskModel

    if args.threads:
        torch.set_num_threads(args.threads)
    batch_size = args.batch_size
    arrays = [soundfile.read(path, dtype="float32")[0] for path in paths]
    if device.startswith("cuda"):
        torch.cuda.set_device(torch.device(device))
    model = ASRModel.restore_from(str(nemo), map_location=torch.device(device))
    model.eval()
    prompt: dict[str, str] = {}
    if isinstance(model, EncDecMultiTaskModel):
        langs = [name for name in model.tokenizer.langs if name.split("-")[0].lower() == "en"]
        prompt = {"source_lang": langs[0], "target_lang": langs[0], "pnc": "yes"}
        if "task" in model.prompt.get_slots("user"):
            prompt["task"] = "asr"
    bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
    info = {
        "model_class": type(model).__name__,
        "parameters": sum(p.numel() for p in model.parameters()),
        "precision": "bfloat16 autocast" if bf16 else "float32",
        "torch_threads": torch.get_num_threads(),
    }

    side = Side("NeMo offline transcribe", len(paths), sum(len(a) for a in arrays) / RATE)
    with torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
        model.transcribe(arrays[:batch_size], batch_size=batch_size, verbose=False, **prompt)
        for _ in range(args.rounds):
            started = time.perf_counter()
            hypotheses = model.transcribe(arrays, batch_size=batch_size, verbose=False, **prompt)
            side.walls_s.append(time.perf_counter() - started)
            side.batches.append(math.ceil(len(paths) / batch_size))
    texts = [h.text.strip() for h in hypotheses]
    tokens = [len(h.y_sequence) for h in hypotheses if getattr(h, "y_sequence", None) is not None]
    side.tokens_per_file = sum(tokens) / len(tokens) if tokens else None
    del model, hypotheses
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return side, texts, info


# --- (b) the gateway ----------------------------------------------------------------------------
def check_ffmpeg() -> None:
    """Stop before any work where the gateway could not decode the uploads (it needs FFmpeg's libraries)."""
    try:
        import torchcodec

        version = torchcodec.ffmpeg_major_version
    except ImportError:  # torchcodec itself sets None where it finds no FFmpeg
        version = None
    if version is None:
        raise SystemExit(
            "torchcodec finds no FFmpeg libraries here, so the gateway cannot decode uploads: install FFmpeg "
            "(Debian: apt-get install ffmpeg)"
        )


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gateway_process(args: argparse.Namespace, nemo: Path, port: int, log: Path) -> Iterator[subprocess.Popen[bytes]]:
    """`inference-gateway serve` on loopback, no keys, only the canary slot, preloading; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="asr-bench-") as workdir:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "backend"), os.environ.get("PYTHONPATH")) if p),
            "HF_HUB_OFFLINE": "1",
            "API_HOST": "127.0.0.1",
            "API_PORT": str(port),
            "LOG_LEVEL": "warning",
            "MODEL_CACHE_DIR": workdir,
            "ENABLED_MODELS": "canary",
            "CANARY_MODEL_ID": str(nemo),
            "LAZY_LOAD_MODELS": "false",
            "OPENAI_API_KEYS": "",
            "ADMIN_API_KEYS": "",
            "RATE_LIMIT_RPM": "0",
            "ASR_BATCH_SIZE": str(args.batch_size),
        }
        if args.batch_wait_ms is not None:
            env["ASR_BATCH_WAIT_MS"] = str(args.batch_wait_ms)
        if args.threads:
            env |= {"OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
        if args.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""  # the gateway would otherwise load onto cuda:0
        with log.open("wb") as out, serve_subprocess(env, Path(workdir), out) as process:
            yield process


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


async def upload_all(session: Any, base_url: str, files: list[tuple[str, bytes]], concurrency: int) -> list[str]:
    """Transcribe every file over HTTP, `concurrency` at a time; the texts in file order."""
    import aiohttp

    gate = asyncio.Semaphore(concurrency)

    async def one(name: str, data: bytes) -> str:
        form = aiohttp.FormData()
        form.add_field("model", MODEL)
        form.add_field("response_format", "json")
        form.add_field("file", data, filename=name, content_type="audio/wav")
        async with gate, session.post(f"{base_url}/v1/audio/transcriptions", data=form) as response:
            body = await response.text()
            if response.status != 200:
                raise RuntimeError(f"{name}: HTTP {response.status}: {body[:500]}")
            return json.loads(body)["text"]

    return list(await asyncio.gather(*(one(name, data) for name, data in files)))


async def batches_run(session: Any, base_url: str) -> int:
    async with session.get(f"{base_url}/api/admin/status") as response:
        return (await response.json())["batching"][MODEL]["batches_run"]


async def measure_gateway(args: argparse.Namespace, nemo: Path, paths: list[Path], log: Path) -> tuple[Side, list[str]]:
    """Start the gateway, warm it up on one batch's worth of uploads, then time `--rounds` uploads of every file."""
    import aiohttp
    import soundfile as sf

    files = [(path.name, path.read_bytes()) for path in paths]
    side = Side(f"gateway, {args.concurrency} concurrent uploads", len(paths), sum(sf.info(p).duration for p in paths))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    timeout = aiohttp.ClientTimeout(total=None, sock_read=1800)
    with gateway_process(args, nemo, port, log) as process:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
            try:
                status = await wait_loaded(session, base_url, MODEL, process, LOAD_TIMEOUT_S)
            except SystemExit as exc:
                raise SystemExit(f"{exc}\nthe gateway's log ends:\n{tail(log)}") from None
            expected = "cpu" if args.device == "cpu" else "cuda:0"
            if status["devices"] != [expected]:
                raise SystemExit(f"the gateway loaded the model on {status['devices']}, not {expected}")
            try:
                await upload_all(session, base_url, files[: args.batch_size], args.concurrency)
            except RuntimeError as exc:
                raise SystemExit(f"the warm-up upload failed: {exc}\nthe gateway's log ends:\n{tail(log)}") from None
            for _ in range(args.rounds):
                before = await batches_run(session, base_url)
                started = time.perf_counter()
                texts = await upload_all(session, base_url, files, args.concurrency)
                side.walls_s.append(time.perf_counter() - started)
                side.batches.append(await batches_run(session, base_url) - before)
    return side, texts


# --- report -------------------------------------------------------------------------------------
def markdown(raw: Side, gateway: Side, device: str) -> str:
    lines = [
        "| side | device | files | audio s | wall s (best) | RTFx (best) | RTFx (median) | batches | files/batch "
        "| tokens/file |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for side in (raw, gateway):
        tokens = "-" if side.tokens_per_file is None else f"{side.tokens_per_file:.0f}"
        batches = side.batches[side.best]
        lines.append(
            f"| {side.name} | {device} | {side.files} | {side.audio_s:,.0f} | {side.walls_s[side.best]:.2f} "
            f"| {side.rtfx:,.1f} | {side.rtfx_median:,.1f} | {batches} | {side.files / batches:.1f} | {tokens} |"
        )
    return "\n".join(lines)


def resolve_device(requested: str | None) -> str:
    import torch

    device = requested or ("cuda" if torch.cuda.is_available() else "cpu")
    if device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device")
    return device


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--nemo", type=Path, help="a .nemo file (default: build the tests' tiny Canary)")
    model.add_argument("--real-size", action="store_true", help="build canary-1b-v2's dimensions, random weights")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when torch sees one")
    parser.add_argument("--files", type=int, default=64, help="WAV files, each transcribed once per side")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each file")
    parser.add_argument("--batch-size", type=int, default=32, help="NeMo's batch_size and the gateway's ASR_BATCH_SIZE")
    parser.add_argument("--batch-wait-ms", type=float, help="the gateway's ASR_BATCH_WAIT_MS (default: its own)")
    parser.add_argument("--concurrency", type=int, default=32, help="uploads in flight")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per side; the table shows the best")
    parser.add_argument(
        "--threads", type=int, help="torch CPU threads on both sides (default: 1 with --device cpu, else torch's own)"
    )
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if args.nemo is not None and not args.nemo.is_file():
        parser.error(f"--nemo {args.nemo}: no such file")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    check_ffmpeg()
    args.device = resolve_device(args.device)
    if args.threads is None and args.device == "cpu":
        # Two sides' OpenMP threads on a shared few-core machine made CPU rounds 3-8x slower, and erratic.
        args.threads = 1
    device = "cuda:0" if args.device == "cuda" else "cpu"

    with tempfile.TemporaryDirectory(prefix="asr-bench-") as scratch:
        folder = Path(scratch)
        if args.nemo is not None:
            nemo = args.nemo.resolve()
        elif args.real_size:
            nemo = build_real_size_canary(folder / "model", args.seconds)
        else:
            nemo = build_tiny_canary(folder / "model")
        paths = write_files(folder, args.files, args.seconds)
        raw, raw_texts, info = measure_raw(nemo, device, paths, args)
        print(f"raw: RTFx {raw.rtfx:,.1f} (walls {raw.walls_s})", file=sys.stderr, flush=True)
        log = folder / "gateway.log"
        gateway, texts = asyncio.run(measure_gateway(args, nemo, paths, log))

    ratio = gateway.rtfx / raw.rtfx
    same = sum(a == b for a, b in zip(raw_texts, texts, strict=True))
    print(markdown(raw, gateway, device))
    print(
        f"\ngateway/raw RTFx: {ratio:.3f} best, {gateway.rtfx_median / raw.rtfx_median:.3f} median "
        f"(goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}); "
        f"same text on both sides for {same} of {len(texts)} files; model: {info['model_class']}, "
        f"{info['parameters']:,} parameters, {info['precision']}, {info['torch_threads']} torch threads"
    )
    if args.json:
        report = {
            **report_head(args),
            "model": {"nemo": str(args.nemo) if args.nemo else None, **info},
            "raw": raw.summary(),
            "gateway": gateway.summary(),
            "gateway_raw_rtfx_ratio": round(ratio, 4),
            "gateway_raw_rtfx_ratio_median": round(gateway.rtfx_median / raw.rtfx_median, 4),
            "goal": GOAL,
            "same_text_files": same,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
