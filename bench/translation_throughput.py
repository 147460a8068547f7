"""Translation throughput: the bare NLLB model's batched `generate` against the gateway's /v1/translate.

One checkpoint folder, one device, the same sentences for both sides, in the same run, rounds alternating:

- (a) raw: `AutoTokenizer` + `AutoModelForSeq2SeqLM.from_pretrained` in this process, then, per batch of
  `--batch-size` sentences, the tokenizer (source language set) and `generate` with the target language
  forced as the first token, greedy, `--max-new-tokens`: what the gateway's wrapper runs, without the gateway.
  The dtype is the gateway's default (float16 on a GPU, float32 on the CPU).
- (b) gateway: `inference-gateway serve` in a subprocess (translation slot only, `TRANSLATION_BATCH_SIZE=B`),
  the same folder on the same device. This process sends every text (`--sentences-per-text` sentences each,
  which the gateway splits again) to POST /v1/translate, `--concurrency` requests at a time, and reads the
  batches the gateway formed from `/api/admin/status`.

Both are loaded and warmed up on one batch, then `--rounds` timed rounds over every sentence alternate
(raw, gateway, raw, ...: on a shared machine, load that comes and goes weighs on both sides alike); the
table shows each side's fastest round and its median. The goal: gateway sentences/s >= 0.9 x raw.

Without `--model`, the tests' tiny random-weight NLLB is built (`--d-model`, `--layers` make it larger).
Random weights seldom emit end-of-sequence, so each sentence generates `--max-new-tokens` tokens on both sides.

    .venv/bin/python bench/translation_throughput.py [--model DIR] [--device cpu|cuda] [--texts 64]
        [--sentences-per-text 4] [--batch-size 32] [--concurrency 32] [--max-new-tokens 16] [--rounds 3]
        [--threads N] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

from bench_common import Rounds, report_head, serve_subprocess, wait_loaded

ROOT = Path(__file__).resolve().parents[1]
SLOT = "translation"
SRC, TGT = "fra_Latn", "moor_Latn"
GOAL = 0.9
LOAD_TIMEOUT_S = 1200.0
VOCABULARY = (
    "le la les un une des de du et ou mais donc car nous vous ils elles maison route marché eau pain "
    "enfant école travail champ pluie soleil village ville matin soir semaine année parle mange voit "
    "arrive part vient prend donne grand petit nouveau vieux bon beau rapide lent demain hier"
)


@dataclass
class Side(Rounds):
    """One side's timed rounds, each translating every sentence once."""

    name: str
    sentences: int

    @property
    def rate(self) -> float:
        return self.per_s(self.sentences)

    @property
    def rate_median(self) -> float:
        return self.median_per_s(self.sentences)

    def summary(self) -> dict[str, Any]:
        return {**asdict(self), "sentences_per_s_best": round(self.rate, 2), "median": round(self.rate_median, 2)}


def texts_of(count: int, per_text: int) -> list[list[str]]:
    """`count` texts of `per_text` French-looking sentences (6 to 14 words), the same on every run."""
    rng = random.Random(0)
    words = VOCABULARY.split()
    return [
        [" ".join(rng.choices(words, k=rng.randint(6, 14))).capitalize() + "." for _ in range(per_text)]
        for _ in range(count)
    ]


def build_tiny(folder: Path, d_model: int, layers: int) -> Path:
    """`tests.tiny_translation.build_tiny_translation` (the tests folder is not an installed package)."""
    sys.path.insert(0, str(ROOT))
    from tests.tiny_translation import build_tiny_translation

    return build_tiny_translation(folder, d_model=d_model, layers=layers)


# --- (a) the bare model -----------------------------------------------------------------------------
class BareModel:
    """The checkpoint loaded in this process, translating a list of sentences batch by batch."""

    def __init__(self, model_dir: Path, device: str, args: argparse.Namespace) -> None:
        import torch
        from transformers import AutoModelForSeq2SeqLM, AutoTokenizer

        if args.threads:
            torch.set_num_threads(args.threads)
        self.torch, self.device, self.args = torch, device, args
        dtype = torch.float16 if device.startswith("cuda") else torch.float32
        self.tokenizer = AutoTokenizer.from_pretrained(model_dir)
        self.model = AutoModelForSeq2SeqLM.from_pretrained(model_dir, dtype=dtype).to(device).eval()
        self.forced = self.tokenizer.convert_tokens_to_ids(TGT)
        self.parameters = sum(p.numel() for p in self.model.parameters())

    def batch(self, sentences: list[str]) -> list[str]:
        self.tokenizer.src_lang = SRC
        inputs = self.tokenizer(sentences, return_tensors="pt", padding=True, truncation=True).to(self.device)
        with self.torch.inference_mode():
            out = self.model.generate(
                **inputs,
                forced_bos_token_id=self.forced,
                num_beams=1,
                do_sample=False,
                max_new_tokens=self.args.max_new_tokens,
            )
        return [text.strip() for text in self.tokenizer.batch_decode(out, skip_special_tokens=True)]

    def round(self, sentences: list[str], side: Side) -> list[str]:
        """One timed round over every sentence, `--batch-size` at a time."""
        size = self.args.batch_size
        cuda = self.device.startswith("cuda")
        if cuda:
            self.torch.cuda.synchronize()
        started = time.perf_counter()
        texts = [t for i in range(0, len(sentences), size) for t in self.batch(sentences[i : i + size])]
        if cuda:
            self.torch.cuda.synchronize()
        side.walls_s.append(time.perf_counter() - started)
        side.batches.append(-(-len(sentences) // size))
        return texts


# --- (b) the gateway --------------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gateway_process(
    args: argparse.Namespace, model_dir: Path, port: int, log: Path
) -> Iterator[subprocess.Popen[bytes]]:
    """`inference-gateway serve` on loopback, no keys, only the translation slot, preloading; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="translation-bench-") as workdir:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(ROOT / "backend"), os.environ.get("PYTHONPATH")) if p),
            "HF_HUB_OFFLINE": "1",
            "API_HOST": "127.0.0.1",
            "API_PORT": str(port),
            "LOG_LEVEL": "warning",
            "MODEL_CACHE_DIR": workdir,
            "ENABLED_MODELS": SLOT,
            "TRANSLATION_MODEL_ID": str(model_dir),
            "LAZY_LOAD_MODELS": "false",
            "OPENAI_API_KEYS": "",
            "ADMIN_API_KEYS": "",
            "RATE_LIMIT_RPM": "0",
            "TRANSLATION_BATCH_SIZE": str(args.batch_size),
            "TRANSLATION_MAX_NEW_TOKENS": str(args.max_new_tokens),
        }
        if args.batch_wait_ms is not None:
            env["TRANSLATION_BATCH_WAIT_MS"] = str(args.batch_wait_ms)
        if args.threads:
            env |= {"OMP_NUM_THREADS": str(args.threads), "MKL_NUM_THREADS": str(args.threads)}
        if args.device == "cpu":
            env["CUDA_VISIBLE_DEVICES"] = ""  # the gateway would otherwise load onto cuda:0
        with log.open("wb") as out, serve_subprocess(env, Path(workdir), out) as process:
            yield process


def tail(log: Path, lines: int = 30) -> str:
    return "\n".join(log.read_text(errors="replace").splitlines()[-lines:])


async def translate_all(session: Any, base_url: str, texts: list[str], concurrency: int) -> list[str]:
    """Translate every text over HTTP, `concurrency` requests at a time; the translations in order."""
    gate = asyncio.Semaphore(concurrency)

    async def one(text: str) -> str:
        body = {"text": text, "src_lang": SRC, "tgt_lang": TGT, "model": SLOT}
        async with gate, session.post(f"{base_url}/v1/translate", json=body) as response:
            answer = await response.text()
            if response.status != 200:
                raise RuntimeError(f"HTTP {response.status}: {answer[:500]}")
            translations: list[str] = json.loads(answer)["translations"]
            return translations[0]

    return list(await asyncio.gather(*(one(text) for text in texts)))


async def batches_run(session: Any, base_url: str) -> int:
    async with session.get(f"{base_url}/api/admin/status") as response:
        return int((await response.json())["translation_batching"][SLOT]["batches_run"])


async def measure(
    args: argparse.Namespace, model_dir: Path, texts: list[list[str]], device: str, log: Path
) -> tuple[Side, Side, list[str], list[str], int]:
    """Start the gateway, load the bare model here, warm both up, then alternate their timed rounds (on a
    shared machine, load that comes and goes then weighs on both sides alike)."""
    import aiohttp

    sentences = [s for text in texts for s in text]
    requests = [" ".join(text) for text in texts]
    raw = Side("bare model, batched generate", len(sentences))
    gateway = Side(f"gateway, {args.concurrency} concurrent requests", len(sentences))
    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    timeout = aiohttp.ClientTimeout(total=None, sock_read=1800)
    raw_texts: list[str] = []
    translated: list[str] = []
    with gateway_process(args, model_dir, port, log) as process:
        async with aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0), timeout=timeout) as session:
            try:
                status = await wait_loaded(session, base_url, SLOT, process, LOAD_TIMEOUT_S)
            except SystemExit as exc:
                raise SystemExit(f"{exc}\nthe gateway's log ends:\n{tail(log)}") from None
            expected = "cpu" if args.device == "cpu" else "cuda:0"
            if status["devices"] != [expected]:
                raise SystemExit(f"the gateway loaded the model on {status['devices']}, not {expected}")
            bare = BareModel(model_dir, device, args)
            bare.batch(sentences[: args.batch_size])
            try:
                warm_up = requests[: max(1, args.batch_size // args.sentences_per_text)]
                await translate_all(session, base_url, warm_up, args.concurrency)
            except RuntimeError as exc:
                raise SystemExit(f"the warm-up failed: {exc}\nthe gateway's log ends:\n{tail(log)}") from None
            for _ in range(args.rounds):
                raw_texts = bare.round(sentences, raw)
                before = await batches_run(session, base_url)
                started = time.perf_counter()
                translated = await translate_all(session, base_url, requests, args.concurrency)
                gateway.walls_s.append(time.perf_counter() - started)
                gateway.batches.append(await batches_run(session, base_url) - before)
    return raw, gateway, raw_texts, translated, bare.parameters


# --- report -----------------------------------------------------------------------------------------
def markdown(raw: Side, gateway: Side, device: str) -> str:
    lines = [
        "| side | device | sentences | wall s (best) | sentences/s (best) | sentences/s (median) | batches "
        "| sentences/batch |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for side in (raw, gateway):
        batches = side.batches[side.best]
        lines.append(
            f"| {side.name} | {device} | {side.sentences} | {side.walls_s[side.best]:.2f} | {side.rate:,.1f} "
            f"| {side.rate_median:,.1f} | {batches} | {side.sentences / batches:.1f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", type=Path, help="an NLLB checkpoint folder (default: build the tests' tiny NLLB)")
    parser.add_argument("--d-model", type=int, default=16, help="the built model's width")
    parser.add_argument("--layers", type=int, default=1, help="the built model's encoder and decoder layers")
    parser.add_argument("--device", choices=["cpu", "cuda"], help="default: cuda when torch sees one")
    parser.add_argument("--texts", type=int, default=64, help="requests per round (one text each)")
    parser.add_argument("--sentences-per-text", type=int, default=4)
    parser.add_argument("--batch-size", type=int, default=32, help="raw batch size and TRANSLATION_BATCH_SIZE")
    parser.add_argument("--batch-wait-ms", type=float, help="TRANSLATION_BATCH_WAIT_MS (default: the gateway's)")
    parser.add_argument("--concurrency", type=int, default=32, help="requests in flight")
    parser.add_argument("--max-new-tokens", type=int, default=16, help="tokens generated per sentence")
    parser.add_argument("--rounds", type=int, default=3, help="timed rounds per side; the table shows the best")
    parser.add_argument("--threads", type=int, help="torch CPU threads per side (default: 1 on the CPU)")
    parser.add_argument("--json", type=Path, help="write the figures here")
    args = parser.parse_args()
    os.environ.setdefault("HF_HUB_OFFLINE", "1")

    import torch

    args.device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    if args.device == "cuda" and not torch.cuda.is_available():
        raise SystemExit("--device cuda: torch sees no CUDA device")
    if args.threads is None and args.device == "cpu":
        args.threads = 1  # two sides' OpenMP threads on a shared few-core machine make rounds erratic
    device = "cuda:0" if args.device == "cuda" else "cpu"
    texts = texts_of(args.texts, args.sentences_per_text)

    with tempfile.TemporaryDirectory(prefix="translation-bench-") as scratch:
        folder = Path(scratch)
        model_dir = args.model.resolve() if args.model else build_tiny(folder / "tiny-nllb", args.d_model, args.layers)
        raw, gateway, raw_texts, translated, parameters = asyncio.run(
            measure(args, model_dir, texts, device, folder / "gateway.log")
        )

    ratio = gateway.rate / raw.rate
    rebuilt = [
        " ".join(raw_texts[i : i + args.sentences_per_text]) for i in range(0, len(raw_texts), args.sentences_per_text)
    ]
    same = sum(a == b for a, b in zip(rebuilt, translated, strict=True))
    print(markdown(raw, gateway, device))
    print(
        f"\ngateway/raw sentences/s: {ratio:.3f} best, {gateway.rate_median / raw.rate_median:.3f} median "
        f"(goal >= {GOAL}: {'met' if ratio >= GOAL else 'NOT met'}); same translation on both sides for {same} "
        f"of {len(translated)} texts; {parameters:,} parameters, {args.threads or 'torch default'} torch threads"
    )
    if args.json:
        report = {
            **report_head(args),
            "parameters": parameters,
            "raw": raw.summary(),
            "gateway": gateway.summary(),
            "gateway_raw_ratio": round(ratio, 4),
            "gateway_raw_ratio_median": round(gateway.rate_median / raw.rate_median, 4),
            "goal": GOAL,
            "same_translation_texts": same,
        }
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
