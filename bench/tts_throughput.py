"""Text to speech: the bare VITS model (transformers) against the gateway's POST /v1/audio/speech.

One checkpoint, one device, the same texts on both sides, measured their rounds alternating:

- (a) bare: `VitsModel` + its tokenizer in this process. Throughput: every text whole, `--batch-size` texts
  per forward pass. Latency: one text at a time; the bare model has no audio before its forward pass ends.
- (b) gateway: `inference-gateway serve` in a subprocess (tts slot only, `TTS_BATCH_SIZE=--batch-size`),
  the same checkpoint on the same device. Throughput: every text as a request (`--format`, default `pcm`),
  `--concurrency` at a time; the gateway cuts each into sentences, batches them across requests, resamples
  to 24 kHz and streams through FFmpeg. Latency: one request at a time, time to the first audio byte and to
  the last.

RTFx = seconds of audio made / wall seconds (the bare side's from the model's output lengths, the gateway's
from `/api/admin/status`, `speech_batching`); a VITS model draws its durations at random, so both sides'
audio lengths are counted rather than assumed. Each side is warmed up once, then the sides' rounds alternate (`--rounds`
each; the best is shown), as do their latency runs, so that both meet the same load on a shared machine.
The goal is gateway RTFx >= 0.9 x bare RTFx.

Without `--model`, the tests' tiny random-weight VITS is built, or with `--real-size` one with MMS-TTS's
dimensions (their speech is noise; their speed is what counts).

    .venv/bin/python bench/tts_throughput.py [--model DIR_OR_HUB_ID | --real-size] [--device cpu|cuda] [--texts 16]
        [--batch-size 8] [--concurrency 8] [--rounds 3] [--format pcm|mp3|...] [--threads N] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import platform
import random
import socket
import statistics
import sys
import tempfile
import time
from contextlib import contextmanager
from dataclasses import asdict, dataclass, field
from datetime import date
from pathlib import Path
from typing import Any

from bench_common import cpu_model, serve_subprocess, wait_loaded

ROOT = Path(__file__).resolve().parents[1]
KEY = "tts"
GOAL = 0.9
WORDS = [
    "the",
    "a",
    "gateway",
    "model",
    "speech",
    "voice",
    "batch",
    "stream",
    "audio",
    "sentence",
    "quickly",
    "slowly",
    "every",
    "small",
    "large",
]


def make_texts(count: int, sentences: int, rng: random.Random) -> list[str]:
    """`count` paragraphs of `sentences` sentences of 6 to 12 words each, deterministic."""

    def sentence() -> str:
        words = [rng.choice(WORDS) for _ in range(rng.randint(6, 12))]
        return " ".join(words).capitalize() + rng.choice([".", ".", "!", "?"])

    return [" ".join(sentence() for _ in range(sentences)) for _ in range(count)]


@dataclass
class Side:
    name: str
    walls_s: list[float] = field(default_factory=list)
    audio_s: list[float] = field(default_factory=list)
    first_audio_s: list[float] = field(default_factory=list)
    """Latency runs: seconds to the first audio (bare: the whole text's)."""
    total_s: list[float] = field(default_factory=list)
    batches: list[int] = field(default_factory=list)

    @property
    def rtfx(self) -> float:
        return max(a / w for a, w in zip(self.audio_s, self.walls_s, strict=True))

    def summary(self) -> dict[str, Any]:
        return {
            **asdict(self),
            "rtfx_best": round(self.rtfx, 2),
            "first_audio_median_s": round(statistics.median(self.first_audio_s), 4),
            "total_median_s": round(statistics.median(self.total_s), 4),
        }


def build_model(directory: Path, real_size: bool) -> Path:
    """The tests' tiny VITS; with `real_size`, the same tokenizer with MMS-TTS's dimensions (transformers'
    `VitsConfig` defaults: 6 text-encoder layers of 192, a 512-channel HiFi-GAN upsampling 256 times;
    about 36 M parameters), random weights."""
    sys.path.insert(0, str(ROOT))
    from tests.tiny_tts import build_tiny_vits

    path = build_tiny_vits(directory)
    if real_size:
        import torch
        from transformers import VitsConfig, VitsModel

        torch.manual_seed(0)
        tiny = VitsConfig.from_pretrained(path)
        VitsModel(VitsConfig(vocab_size=tiny.vocab_size, sampling_rate=tiny.sampling_rate)).save_pretrained(path)
    return path


class Bare:
    """The checkpoint in this process: `VitsModel` and its tokenizer, no gateway code."""

    def __init__(self, model_id: str, device: str, args: argparse.Namespace) -> None:
        import torch
        from transformers import AutoTokenizer, VitsModel

        if args.threads:
            torch.set_num_threads(args.threads)
        self.torch, self.device, self.args = torch, device, args
        self.model = VitsModel.from_pretrained(model_id).eval()
        self.model.to(torch.device(device))
        self.tokenizer = AutoTokenizer.from_pretrained(model_id)
        self.rate = self.model.config.sampling_rate
        self.side = Side("bare VitsModel")
        self.info = {
            "parameters": sum(p.numel() for p in self.model.parameters()),
            "sample_rate": self.rate,
            "torch_threads": torch.get_num_threads(),
        }

    def synthesize(self, batch: list[str]) -> float:
        """Seconds of audio made for `batch`, in one forward pass."""
        inputs = self.tokenizer(batch, padding=True, return_tensors="pt").to(self.device)
        with self.torch.inference_mode():
            output = self.model(**inputs)
        if self.device.startswith("cuda"):
            self.torch.cuda.synchronize()
        return float(output.sequence_lengths.sum()) / self.rate

    def round(self, texts: list[str]) -> None:
        size = self.args.batch_size
        started, audio = time.perf_counter(), 0.0
        for index in range(0, len(texts), size):
            audio += self.synthesize(texts[index : index + size])
        self.side.walls_s.append(time.perf_counter() - started)
        self.side.audio_s.append(audio)
        self.side.batches.append(-(-len(texts) // size))

    def latency(self, text: str) -> None:
        """The bare model has no audio before its forward pass over the whole text ends."""
        started = time.perf_counter()
        self.synthesize([text])
        self.side.total_s.append(time.perf_counter() - started)
        self.side.first_audio_s.append(self.side.total_s[-1])


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def gateway_process(args: argparse.Namespace, model_id: str, port: int, log: Path) -> Any:
    with tempfile.TemporaryDirectory(prefix="tts-bench-") as workdir:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "backend"), os.environ.get("PYTHONPATH")) if p),
            "HF_HUB_OFFLINE": os.environ.get("HF_HUB_OFFLINE", "1"),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(port),
            "LOG_LEVEL": "warning",
            "MODEL_CACHE_DIR": os.environ.get("MODEL_CACHE_DIR", workdir),
            "ENABLED_MODELS": KEY,
            "TTS_MODEL_ID": model_id,
            "LAZY_LOAD_MODELS": "false",
            "OPENAI_API_KEYS": "",
            "ADMIN_API_KEYS": "",
            "RATE_LIMIT_RPM": "0",
            "TTS_BATCH_SIZE": str(args.batch_size),
        }
        if args.threads:
            env |= {"OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
        if args.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""
        with log.open("wb") as out, serve_subprocess(env, Path(workdir), out) as process:
            yield process


async def speak(session: Any, base_url: str, text: str, audio_format: str = "pcm") -> tuple[float, float, int]:
    """One request: seconds to the first audio byte, to the last, and the bytes received."""
    body = {"model": KEY, "input": text, "voice": "alloy", "response_format": audio_format}
    started = time.perf_counter()
    first: float | None = None
    size = 0
    async with session.post(f"{base_url}/v1/audio/speech", json=body) as response:
        if response.status != 200:
            raise SystemExit(f"the gateway answered {response.status}: {await response.text()}")
        async for chunk in response.content.iter_any():
            if first is None and chunk:
                first = time.perf_counter() - started
            size += len(chunk)
    return first or 0.0, time.perf_counter() - started, size


async def measure(
    args: argparse.Namespace, model_id: str, device: str, texts: list[str], log: Path
) -> tuple[Side, Bare]:
    """Both sides alive at once, their rounds alternating (bare, gateway, bare, ...): on a shared machine
    both meet the same load."""
    import aiohttp

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    side = Side(f"gateway, {args.concurrency} concurrent requests")
    with gateway_process(args, model_id, port, log) as process:
        async with aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=None)) as session:
            await wait_loaded(session, base_url, KEY, process, 600)
            bare = Bare(model_id, device, args)

            async def served() -> tuple[int, float]:
                """Batches run and seconds of audio made so far, once every stream has been closed."""
                while True:
                    async with session.get(f"{base_url}/api/admin/status") as response:
                        section = (await response.json())["speech_batching"].get(KEY)
                    if section is None:
                        return 0, 0.0
                    if section["streaming"] == 0:
                        return int(section["batches_run"]), float(section["audio_seconds"])
                    await asyncio.sleep(0.05)

            async def all_texts() -> None:
                gate = asyncio.Semaphore(args.concurrency)

                async def one(text: str) -> None:
                    async with gate:
                        await speak(session, base_url, text, args.format)

                await asyncio.gather(*(one(t) for t in texts))

            bare.synthesize(texts[: args.batch_size])  # warm-ups
            await all_texts()
            for _ in range(args.rounds):
                bare.round(texts)
                batches, audio = await served()
                started = time.perf_counter()
                await all_texts()
                side.walls_s.append(time.perf_counter() - started)
                batches_after, audio_after = await served()
                side.audio_s.append(audio_after - audio)
                side.batches.append(batches_after - batches)
            for text in texts[: args.latency_texts]:
                bare.latency(text)
                first, total, _ = await speak(session, base_url, text, args.format)
                side.first_audio_s.append(first)
                side.total_s.append(total)
    return side, bare


def markdown(bare: Side, gateway: Side, texts: int) -> str:
    rows = [
        "| side | texts | RTFx (best round) | batches per round | first audio, median s | whole text, median s |",
        "|---|---|---|---|---|---|",
    ]
    for side in (bare, gateway):
        s = side.summary()
        rows.append(
            f"| {side.name} | {texts} | {s['rtfx_best']:,.1f} | {', '.join(map(str, side.batches))} | "
            f"{s['first_audio_median_s']:.3f} | {s['total_median_s']:.3f} |"
        )
    return "\n".join(rows)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    model = parser.add_mutually_exclusive_group()
    model.add_argument("--model", help="a VITS folder or Hub id (default: build the tests' tiny VITS)")
    model.add_argument("--real-size", action="store_true", help="build one with MMS-TTS's dimensions, random weights")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when torch sees one")
    parser.add_argument("--texts", type=int, default=16, help="paragraphs, each synthesised once per round")
    parser.add_argument("--sentences", type=int, default=4, help="sentences per paragraph")
    parser.add_argument("--batch-size", type=int, default=8, help="bare texts per forward; TTS_BATCH_SIZE")
    parser.add_argument("--concurrency", type=int, default=8, help="gateway requests in flight")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--format", default="pcm", help="the gateway's response_format (mp3 etc. go through FFmpeg)")
    parser.add_argument("--latency-texts", type=int, default=5, help="texts timed one at a time")
    parser.add_argument("--threads", type=int, help="torch CPU threads per side (default: 1 on the CPU)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.threads is None and args.device == "cpu":
        args.threads = 1
    device = "cuda:0" if args.device == "cuda" else "cpu"
    texts = make_texts(args.texts, args.sentences, random.Random(0))
    with tempfile.TemporaryDirectory(prefix="tts-bench-") as scratch:
        model_id = args.model or str(build_model(Path(scratch) / "vits", args.real_size))
        log = Path(scratch) / "gateway.log"
        try:
            gateway, measured = asyncio.run(measure(args, model_id, device, texts, log))
        except Exception:
            print("the gateway's log ends with:\n" + "\n".join(log.read_text(errors="replace").splitlines()[-40:]))
            raise
    bare, info = measured.side, measured.info
    ratio = gateway.rtfx / bare.rtfx
    print(markdown(bare, gateway, len(texts)))
    print(
        f"\ngateway/bare RTFx: {ratio:.3f} (goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}); "
        f"{info['parameters']:,} parameters, {info['torch_threads']} torch threads, {device}"
    )
    if args.json:
        report = {
            "date": date.today().isoformat(),
            "machine": {"cpu": cpu_model(), "platform": platform.platform(), "device": device},
            "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
            "model": {
                "id": args.model or f"random-weight VITS ({'MMS-TTS size' if args.real_size else 'tiny'})",
                **info,
            },
            "bare": bare.summary(),
            "gateway": gateway.summary(),
            "gateway_bare_rtfx_ratio": round(ratio, 4),
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
