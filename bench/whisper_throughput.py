"""Whisper throughput: transformers' `generate` on the bare model against the gateway's /v1/audio/transcriptions.

One Whisper folder, one device, the same WAV files for both sides, measured one after the other (the
structure of bench/asr_throughput.py, whose audio, report and helpers this script reuses):

- (a) raw: `WhisperForConditionalGeneration.from_pretrained` in this process, then, per batch of
  `--batch-size` files, the feature extractor and one `generate(language="en", task="transcribe")` over
  the batch (float32 arrays read from the WAV files beforehand), float16 on a GPU, float32 on the CPU.
- (b) gateway: `inference-gateway serve` in a subprocess (whisper slot only, `ASR_BATCH_SIZE=B`), the same
  folder on the same device; this process uploads every file (`language=en`, `response_format=json`),
  `--concurrency` at a time, and reads the batches the gateway formed from `/api/admin/status`.

Files are at most 30 s (one piece each). RTFx = seconds of audio / wall seconds; goal: gateway >= 0.9 x raw.
Without `--model`, the tests' tiny random-weight Whisper is built (tests/tiny_whisper.py: Whisper's real
tokenizer, 1 layer, d_model 32, decoding capped at 24 positions): the figures then measure the gateway's
own costs around a cheap model, not Whisper's speed.

    .venv/bin/python bench/whisper_throughput.py [--model folder] [--device cpu|cuda] [--files 32]
        [--seconds 10] [--batch-size 16] [--concurrency 16] [--rounds 3] [--threads N] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import math
import os
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from asr_throughput import (
    ROOT,
    Side,
    check_ffmpeg,
    free_port,
    markdown,
    resolve_device,
    tail,
    write_files,
)
from bench_common import report_head, serve_subprocess, wait_loaded

MODEL = "whisper"
GOAL = 0.9
LOAD_TIMEOUT_S = 1200.0


def build_tiny_whisper(directory: Path) -> Path:
    """`tests.tiny_whisper.build_tiny_whisper` (the tests folder is not an installed package)."""
    sys.path.insert(0, str(ROOT))
    from tests.tiny_whisper import build_tiny_whisper as build

    return build(directory)


# --- (a) transformers, bare -----------------------------------------------------------------------
def measure_raw(
    model_dir: Path, device: str, paths: list[Path], args: argparse.Namespace
) -> tuple[Side, dict[str, Any]]:
    """Load, warm up on one batch, then time `--rounds` passes over every file in batches; free the model."""
    import soundfile
    import torch
    from transformers import WhisperForConditionalGeneration, WhisperProcessor

    if args.threads:
        torch.set_num_threads(args.threads)
    dtype = torch.float16 if device.startswith("cuda") else torch.float32
    arrays = [soundfile.read(path, dtype="float32")[0] for path in paths]
    processor = WhisperProcessor.from_pretrained(str(model_dir))
    model = WhisperForConditionalGeneration.from_pretrained(str(model_dir), dtype=dtype)
    model.to(device)
    model.eval()
    info = {
        "parameters": sum(p.numel() for p in model.parameters()),
        "precision": str(dtype).removeprefix("torch."),
        "torch_threads": torch.get_num_threads(),
    }

    def transcribe(batch: list[Any]) -> list[str]:
        features = processor.feature_extractor(
            batch, sampling_rate=16000, return_tensors="pt", return_attention_mask=True, device=device
        )
        with torch.inference_mode():
            out = model.generate(
                features.input_features.to(device, dtype=dtype),
                attention_mask=features.attention_mask.to(device),
                language="en",
                task="transcribe",
            )
        return [text.strip() for text in processor.tokenizer.batch_decode(out, skip_special_tokens=True)]

    side = Side("transformers generate", len(paths), sum(len(a) for a in arrays) / 16000)
    transcribe(arrays[: args.batch_size])
    for _ in range(args.rounds):
        started = time.perf_counter()
        for start in range(0, len(arrays), args.batch_size):
            transcribe(arrays[start : start + args.batch_size])
        side.walls_s.append(time.perf_counter() - started)
        side.batches.append(math.ceil(len(arrays) / args.batch_size))
    model.to("cpu")  # the gateway loads its own copy next
    gc.collect()
    if torch.cuda.is_available():
        torch.cuda.empty_cache()
    return side, info


# --- (b) the gateway ----------------------------------------------------------------------------
@contextmanager
def gateway_process(args: argparse.Namespace, model_dir: Path, port: int, log: Path) -> Iterator[Any]:
    """`inference-gateway serve` on loopback, no keys, only the whisper slot, preloading; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="whisper-bench-") as workdir:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "backend"), os.environ.get("PYTHONPATH")) if p),
            "HF_HUB_OFFLINE": "1",
            "API_HOST": "127.0.0.1",
            "API_PORT": str(port),
            "LOG_LEVEL": "warning",
            "MODEL_CACHE_DIR": workdir,
            "ENABLED_MODELS": "whisper",
            "WHISPER_MODEL_ID": str(model_dir),
            "LAZY_LOAD_MODELS": "false",
            "OPENAI_API_KEYS": "",
            "ADMIN_API_KEYS": "",
            "RATE_LIMIT_RPM": "0",
            "ASR_BATCH_SIZE": str(args.batch_size),
        }
        if args.threads:
            env |= {"OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
        if args.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
        with log.open("wb") as out, serve_subprocess(env, Path(workdir), out) as process:
            yield process


async def upload_all(session: Any, base_url: str, files: list[tuple[str, bytes]], concurrency: int) -> None:
    import aiohttp

    gate = asyncio.Semaphore(concurrency)

    async def one(name: str, data: bytes) -> None:
        form = aiohttp.FormData()
        for field, value in (("model", MODEL), ("language", "en"), ("response_format", "json")):
            form.add_field(field, value)
        form.add_field("file", data, filename=name, content_type="audio/wav")
        async with gate, session.post(f"{base_url}/v1/audio/transcriptions", data=form) as response:
            body = await response.text()
            if response.status != 200:
                raise RuntimeError(f"{name}: HTTP {response.status}: {body[:500]}")

    await asyncio.gather(*(one(name, data) for name, data in files))


async def batches_run(session: Any, base_url: str) -> int:
    async with session.get(f"{base_url}/api/admin/status") as response:
        return int((await response.json())["batching"][MODEL]["batches_run"])


async def measure_gateway(args: argparse.Namespace, model_dir: Path, paths: list[Path], log: Path) -> Side:
    import aiohttp
    import soundfile as sf

    files = [(path.name, path.read_bytes()) for path in paths]
    side = Side(f"gateway, {args.concurrency} concurrent uploads", len(paths), sum(sf.info(p).duration for p in paths))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    timeout = aiohttp.ClientTimeout(total=None, sock_read=1800)
    with gateway_process(args, model_dir, port, log) as process:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
            try:
                await wait_loaded(session, base_url, MODEL, process, LOAD_TIMEOUT_S)
                await upload_all(session, base_url, files[: args.batch_size], args.concurrency)
            except (SystemExit, RuntimeError) as exc:
                raise SystemExit(f"{exc}\nthe gateway's log ends:\n{tail(log)}") from None
            for _ in range(args.rounds):
                before = await batches_run(session, base_url)
                started = time.perf_counter()
                await upload_all(session, base_url, files, args.concurrency)
                side.walls_s.append(time.perf_counter() - started)
                side.batches.append(await batches_run(session, base_url) - before)
    return side


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="a Whisper folder (default: build the tests' tiny Whisper)")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when torch sees one")
    parser.add_argument("--files", type=int, default=32, help="WAV files, each transcribed once per side")
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each file (at most 30)")
    parser.add_argument("--batch-size", type=int, default=16, help="the raw batch and the gateway's ASR_BATCH_SIZE")
    parser.add_argument("--concurrency", type=int, default=16, help="uploads in flight")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per side; the table shows the best")
    parser.add_argument("--threads", type=int, help="torch CPU threads on both sides (default: 1 with --device cpu)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    if args.seconds > 30:
        parser.error("--seconds: at most 30 (one piece per file on both sides)")
    os.environ.setdefault("HF_HUB_OFFLINE", "1")
    check_ffmpeg()
    args.device = resolve_device(args.device)
    if args.threads is None and args.device == "cpu":
        args.threads = 1  # two sides' OpenMP threads on a shared few-core machine are erratic
    device = "cuda:0" if args.device == "cuda" else "cpu"

    with tempfile.TemporaryDirectory(prefix="whisper-bench-") as scratch:
        folder = Path(scratch)
        model_dir = args.model.resolve() if args.model else build_tiny_whisper(folder / "model")
        paths = write_files(folder, args.files, args.seconds)
        raw, info = measure_raw(model_dir, device, paths, args)
        print(f"raw: RTFx {raw.rtfx:,.1f} (walls {raw.walls_s})", file=sys.stderr, flush=True)
        gateway = asyncio.run(measure_gateway(args, model_dir, paths, folder / "gateway.log"))

    ratio = gateway.rtfx / raw.rtfx
    print(markdown(raw, gateway, device))
    print(
        f"\ngateway/raw RTFx: {ratio:.3f} best, {gateway.rtfx_median / raw.rtfx_median:.3f} median "
        f"(goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}); model: {info['parameters']:,} parameters, "
        f"{info['precision']}, {info['torch_threads']} torch threads"
    )
    if args.json:
        report = {
            **report_head(args),
            "model": {"folder": str(args.model) if args.model else None, **info},
            "raw": raw.summary(),
            "gateway": gateway.summary(),
            "gateway_raw_rtfx_ratio": round(ratio, 4),
            "goal": GOAL,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
