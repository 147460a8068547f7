"""LLM throughput through the gateway against the raw vLLM engine, measured in one run on one GPU.

    source /root/gpu-bundle/env.sh; .venv/bin/python bench/llm_throughput.py --out results.json

(a) raw: vLLM's `AsyncLLM` in this process, no HTTP; (b) gateway: the gateway in a subprocess (uvicorn on
loopback, vLLM engine), streaming `/v1/chat/completions` over HTTP. Both start the engine through the
gateway's own loader (`VLLMEngine.load`) with the same model and engine arguments, and the two never hold
the GPU together: the raw engine is shut down before the gateway starts.

Both sides do identical work: each request is one user message whose chat-templated prompt is exactly
`--prompt-tokens` token ids (computed here as the gateway computes them, and checked against the
`usage` the gateway reports), greedy, `ignore_eos`, `--output-tokens` tokens; the raw engine gets those
token ids and the gateway's `SamplingParams`. Words are drawn at random per request, so requests share
no prefix-cache block. Each level runs `max(4, 2 * concurrency)` requests, at most `concurrency` in
flight, after one untimed warm-up round at that concurrency (fused-MoE Triton kernels compile per
batch shape). TTFT is the time to the first text; ITL the gaps between text events.

`--dry-run-cpu` checks the client and the statistics without vLLM or a GPU: gateway side only, on the
transformers engine, with the tiny model directory given by `--model`.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import random
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Awaitable, Callable, Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

from bench_common import serve_subprocess, wait_loaded

BACKEND = Path(__file__).resolve().parents[1] / "backend"
SERVED_NAME = "bench"
ENGINE_START_S = 1200.0
T = TypeVar("T")


@dataclass(frozen=True)
class Prompt:
    text: str
    token_ids: list[int]


@dataclass
class Sample:
    """One request, timed from just before it was sent."""

    ttft_s: float | None = None
    itl_s: list[float] = field(default_factory=list)
    output_tokens: int = 0
    error: str | None = None


class TextClock:
    """Times the events that carry text: the first one (TTFT) and the gaps between them (ITL)."""

    def __init__(self) -> None:
        self.started = time.perf_counter()
        self.sample = Sample()
        self._last: float | None = None

    def text(self) -> None:
        now = time.perf_counter()
        if self._last is None:
            self.sample.ttft_s = now - self.started
        else:
            self.sample.itl_s.append(now - self._last)
        self._last = now


@dataclass(frozen=True)
class Level:
    concurrency: int
    warm: list[Prompt]
    timed: list[Prompt]


# --- prompts --------------------------------------------------------------------------------------------
def chat_prompt_ids(tokenizer: Any, text: str) -> list[int]:
    """The prompt the gateway builds for one user message (see `PromptBuilder.chat_ids`)."""
    messages = [{"role": "user", "content": text}]
    templated = tokenizer.apply_chat_template(messages, add_generation_prompt=True, tokenize=False)
    return list(tokenizer.encode(templated, add_special_tokens=False))


def single_token_words(tokenizer: Any, limit: int = 4096) -> list[str]:
    """Words (" word") that are one token each, so a text of k of them is exactly k tokens."""
    words = []
    for token_id in range(len(tokenizer)):
        word = tokenizer.decode([token_id])
        if (
            len(word) > 1
            and word[0] == " "
            and word[1:].isascii()
            and word[1:].isalpha()
            and tokenizer.encode(word, add_special_tokens=False) == [token_id]
        ):
            words.append(word)
            if len(words) == limit:
                break
    if not words:
        raise SystemExit("the tokenizer has no single-token words to build prompts from")
    return words


def make_prompts(tokenizer: Any, words: list[str], count: int, length: int, rng: random.Random) -> list[Prompt]:
    overhead = len(chat_prompt_ids(tokenizer, words[0])) - 1
    prompts = []
    for _ in range(count):
        size = length - overhead
        for _attempt in range(4):
            text = "".join(rng.choices(words, k=size))
            ids = chat_prompt_ids(tokenizer, text)
            if len(ids) == length:
                prompts.append(Prompt(text, ids))
                break
            size += length - len(ids)
        else:
            raise SystemExit(f"could not build a chat prompt of exactly {length} tokens")
    return prompts


def plan_levels(tokenizer: Any, concurrencies: list[int], length: int, seed: int) -> list[Level]:
    words = single_token_words(tokenizer)
    rng = random.Random(seed)
    return [
        Level(
            c,
            make_prompts(tokenizer, words, c, length, rng),
            make_prompts(tokenizer, words, max(4, 2 * c), length, rng),
        )
        for c in concurrencies
    ]


# --- running a level ------------------------------------------------------------------------------------
async def run_level(
    send: Callable[[Prompt, str], Awaitable[Sample]], prompts: list[Prompt], concurrency: int, tag: str
) -> tuple[list[Sample], float]:
    """Send every prompt, at most `concurrency` in flight; the samples and the wall time."""
    gate = asyncio.Semaphore(concurrency)

    async def one(index: int, prompt: Prompt) -> Sample:
        async with gate:
            try:
                return await send(prompt, f"{tag}-{index}")
            except Exception as exc:
                return Sample(error=f"{type(exc).__name__}: {exc}")

    started = time.perf_counter()
    samples = await asyncio.gather(*(one(i, p) for i, p in enumerate(prompts)))
    return list(samples), time.perf_counter() - started


def percentile(values: list[float], q: float) -> float | None:
    if not values:
        return None
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(q * (len(ordered) - 1)))]


def ms(seconds: float | None) -> float | None:
    return None if seconds is None else round(seconds * 1000, 3)


def summarize(samples: list[Sample], duration_s: float, output_tokens: int) -> dict[str, Any]:
    for sample in samples:
        if sample.error is None and sample.output_tokens != output_tokens:
            sample.error = f"generated {sample.output_tokens} tokens, expected {output_tokens}"
    ok = [s for s in samples if s.error is None]
    ttft = [s.ttft_s for s in ok if s.ttft_s is not None]
    itl = [gap for s in ok for gap in s.itl_s]
    tokens = sum(s.output_tokens for s in ok)
    errors = [s.error for s in samples if s.error is not None]
    return {
        "requests": len(samples),
        "errors": len(errors),
        "first_error": errors[0] if errors else None,
        "duration_s": round(duration_s, 3),
        "output_tokens": tokens,
        "output_tok_s": round(tokens / duration_s, 1),
        "ttft_p50_ms": ms(statistics.median(ttft) if ttft else None),
        "ttft_p90_ms": ms(percentile(ttft, 0.9)),
        "itl_p50_ms": ms(statistics.median(itl) if itl else None),
        "itl_p90_ms": ms(percentile(itl, 0.9)),
    }


async def measure(
    send: Callable[[Prompt, str], Awaitable[Sample]], levels: list[Level], output_tokens: int, side: str
) -> dict[int, dict[str, Any]]:
    results = {}
    for level in levels:
        c = level.concurrency
        await run_level(send, level.warm, c, f"{side}-c{c}-warm")
        samples, duration = await run_level(send, level.timed, c, f"{side}-c{c}")
        results[c] = summarize(samples, duration, output_tokens)
        print(
            f"{side:>7} c={c:<4} {results[c]['output_tok_s']:>9.1f} tok/s  "
            f"TTFT p50 {results[c]['ttft_p50_ms']} ms  ITL p50 {results[c]['itl_p50_ms']} ms  "
            f"errors {results[c]['errors']}",
            file=sys.stderr,
            flush=True,
        )
    return results


# --- (a) the raw engine ---------------------------------------------------------------------------------
async def measure_raw(args: argparse.Namespace, levels: list[Level]) -> tuple[dict[int, dict[str, Any]], float]:
    from vllm.inputs import TokensPrompt

    from app.engines.base import GenerationRequest
    from app.engines.vllm_engine import VLLMEngine
    from app.infra.gpu_monitor import cuda_visible_devices_for

    started = time.perf_counter()
    engine = await VLLMEngine.load(
        args.model,
        cuda_visible_devices=cuda_visible_devices_for([0]),
        tensor_parallel_size=1,
        max_model_len=args.max_model_len,
        dtype="auto",
        gpu_memory_utilization=args.gpu_memory_utilization,
        served_model_name=SERVED_NAME,
        extra_args={"load_format": args.load_format},
    )
    start_s = time.perf_counter() - started

    async def send(prompt: Prompt, request_id: str) -> Sample:
        request = GenerationRequest(
            request_id, prompt.token_ids, max_tokens=args.output_tokens, temperature=0.0, ignore_eos=True
        )
        params = engine.sampling_params(request)
        clock = TextClock()
        async for output in engine.engine.generate(TokensPrompt(prompt_token_ids=prompt.token_ids), params, request_id):
            completion = output.outputs[0]
            clock.sample.output_tokens += len(completion.token_ids)
            if completion.text:
                clock.text()
        return clock.sample

    try:
        return await measure(send, levels, args.output_tokens, "raw"), start_s
    finally:
        await engine.shutdown()


# --- (b) the gateway over HTTP --------------------------------------------------------------------------
def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@contextmanager
def gateway_process(args: argparse.Namespace, port: int) -> Iterator[subprocess.Popen[bytes]]:
    """`inference-gateway serve` on loopback, no keys, the LLM slot on `args.model`; stopped on exit."""
    with tempfile.TemporaryDirectory(prefix="llm-bench-") as workdir:
        env = {
            **os.environ,
            "PYTHONPATH": os.pathsep.join(p for p in (str(BACKEND), os.environ.get("PYTHONPATH")) if p),
            "API_HOST": "127.0.0.1",
            "API_PORT": str(port),
            "LOG_LEVEL": "warning",
            "MODEL_CACHE_DIR": workdir,
            "LAZY_LOAD_MODELS": "false",
            "OPENAI_API_KEYS": "",
            "ADMIN_API_KEYS": "",
            "RATE_LIMIT_RPM": "0",
            "QWEN_MODEL_ID": str(args.model),
            "QWEN_SERVED_MODEL_NAME": SERVED_NAME,
            "QWEN_MAX_MODEL_LEN": str(args.max_model_len),
        }
        if args.dry_run_cpu:
            env |= {"QWEN_ENGINE": "transformers", "QWEN_CPU_MAX_CONCURRENCY": str(min(64, max(args.concurrency)))}
        else:
            env |= {
                "QWEN_ENGINE": "vllm",
                "QWEN_ENGINE_ARGS": json.dumps({"load_format": args.load_format}),
                "QWEN_GPU_MEMORY_UTILIZATION": str(args.gpu_memory_utilization),
            }
        with serve_subprocess(env, Path(workdir)) as process:
            yield process


async def read_chat_stream(response: Any, clock: TextClock, prompt_tokens: int) -> Sample:
    """Parse the SSE stream of one chat completion into `clock`'s sample."""
    usage = None
    async for line in response.content:
        if not line.startswith(b"data: "):
            continue
        data = line[6:].strip()
        if data == b"[DONE]":
            break
        event = json.loads(data)
        if "error" in event:
            clock.sample.error = event["error"]["message"]
            return clock.sample
        if event["choices"]:
            if event["choices"][0]["delta"].get("content"):
                clock.text()
        elif event.get("usage"):
            usage = event["usage"]
    if usage is None:
        clock.sample.error = "the stream ended without a usage chunk"
    elif usage["prompt_tokens"] != prompt_tokens:
        clock.sample.error = f"the gateway counted {usage['prompt_tokens']} prompt tokens, not {prompt_tokens}"
    else:
        clock.sample.output_tokens = usage["completion_tokens"]
    return clock.sample


async def measure_gateway(args: argparse.Namespace, levels: list[Level]) -> tuple[dict[int, dict[str, Any]], float]:
    import aiohttp

    port = free_port()
    base_url = f"http://127.0.0.1:{port}"
    started = time.perf_counter()
    connector = aiohttp.TCPConnector(limit=0)
    timeout = aiohttp.ClientTimeout(total=None, sock_read=600)
    with gateway_process(args, port) as process:
        async with aiohttp.ClientSession(connector=connector, timeout=timeout) as client:
            await wait_loaded(client, base_url, "qwen", process, ENGINE_START_S, poll_s=1)
            start_s = time.perf_counter() - started

            async def send(prompt: Prompt, request_id: str) -> Sample:
                body = {
                    "model": SERVED_NAME,
                    "messages": [{"role": "user", "content": prompt.text}],
                    "max_tokens": args.output_tokens,
                    "temperature": 0,
                    "ignore_eos": True,
                    "stream": True,
                    "stream_options": {"include_usage": True},
                }
                clock = TextClock()
                async with client.post(f"{base_url}/v1/chat/completions", json=body) as response:
                    if response.status != 200:
                        return Sample(error=f"HTTP {response.status}: {await response.text()}")
                    return await read_chat_stream(response, clock, len(prompt.token_ids))

            return await measure(send, levels, args.output_tokens, "gateway"), start_s


# --- report ---------------------------------------------------------------------------------------------
def compare(raw: dict[str, Any] | None, gateway: dict[str, Any]) -> dict[str, Any]:
    if raw is None:
        return {"gateway_raw_tok_s_ratio": None, "ttft_p50_overhead_ms": None}
    ratio = gateway["output_tok_s"] / raw["output_tok_s"] if raw["output_tok_s"] else None
    overhead = None
    if gateway["ttft_p50_ms"] is not None and raw["ttft_p50_ms"] is not None:
        overhead = round(gateway["ttft_p50_ms"] - raw["ttft_p50_ms"], 3)
    return {"gateway_raw_tok_s_ratio": None if ratio is None else round(ratio, 4), "ttft_p50_overhead_ms": overhead}


def markdown(levels: list[dict[str, Any]]) -> str:
    def cell(value: Any, unit: str = "") -> str:
        return "n/a" if value is None else f"{value:,}{unit}" if isinstance(value, int) else f"{value:,.1f}{unit}"

    lines = [
        "| concurrency | requests | raw tok/s | gateway tok/s | gateway/raw | raw TTFT p50 | gateway TTFT p50 "
        "| TTFT overhead | raw ITL p50 | gateway ITL p50 |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for level in levels:
        raw = level["raw"] or {}
        gateway = level["gateway"]
        ratio = level["gateway_raw_tok_s_ratio"]
        lines.append(
            f"| {level['concurrency']} | {gateway['requests']} | {cell(raw.get('output_tok_s'))} "
            f"| {cell(gateway['output_tok_s'])} | {'n/a' if ratio is None else f'{ratio:.3f}'} "
            f"| {cell(raw.get('ttft_p50_ms'), ' ms')} | {cell(gateway['ttft_p50_ms'], ' ms')} "
            f"| {cell(level['ttft_p50_overhead_ms'], ' ms')} "
            f"| {cell(raw.get('itl_p50_ms'), ' ms')} | {cell(gateway['itl_p50_ms'], ' ms')} |"
        )
    return "\n".join(lines)


def versions() -> dict[str, str | None]:
    from importlib.metadata import PackageNotFoundError, version

    found: dict[str, str | None] = {}
    for name in ("vllm", "torch", "transformers", "uvicorn", "aiohttp"):
        try:
            found[name] = version(name)
        except PackageNotFoundError:
            found[name] = None
    return found


def run(coro: Coroutine[Any, Any, T]) -> T:
    """Run on uvloop when installed, as vLLM's and the gateway's servers do."""
    try:
        import uvloop
    except ImportError:
        return asyncio.run(coro)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(coro)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    bundle = os.environ.get("GPU_BUNDLE_MODELS")
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument(
        "--model",
        type=Path,
        default=Path(bundle) / "qwen3-30b-a3b" if bundle else None,
        help="model directory (default: $GPU_BUNDLE_MODELS/qwen3-30b-a3b)",
    )
    parser.add_argument("--load-format", default="dummy", help="vLLM load_format (dummy: random weights)")
    parser.add_argument("--max-model-len", type=int, default=4096)
    parser.add_argument("--gpu-memory-utilization", type=float, default=0.9)
    parser.add_argument("--concurrency", default="1,16,64,256", help="comma-separated concurrency levels")
    parser.add_argument("--prompt-tokens", type=int, default=512)
    parser.add_argument("--output-tokens", type=int, default=256)
    parser.add_argument("--seed", type=int, default=0, help="seed of the random prompts")
    parser.add_argument("--out", type=Path, default=Path("results.json"))
    parser.add_argument(
        "--dry-run-cpu",
        action="store_true",
        help="gateway side only, transformers engine on the CPU (checks client and statistics)",
    )
    args = parser.parse_args(argv)
    if args.model is None:
        parser.error("--model is required when GPU_BUNDLE_MODELS is not set")
    args.model = args.model.resolve()
    args.concurrency = [int(c) for c in args.concurrency.split(",") if c.strip()]
    if not args.concurrency or min(args.concurrency) < 1:
        parser.error("--concurrency needs positive integers")
    if args.prompt_tokens + args.output_tokens > args.max_model_len:
        parser.error("--prompt-tokens + --output-tokens exceed --max-model-len")
    return args


def main(argv: list[str] | None = None) -> int:
    args = parse_args(argv)
    sys.path.insert(0, str(BACKEND))
    from transformers import AutoTokenizer

    from app.infra.gpu_monitor import sample_gpus

    tokenizer = AutoTokenizer.from_pretrained(args.model)
    levels = plan_levels(tokenizer, args.concurrency, args.prompt_tokens, args.seed)
    raw: dict[int, dict[str, Any]] = {}
    raw_start_s = None
    if not args.dry_run_cpu:
        raw, raw_start_s = run(measure_raw(args, levels))
    gateway, gateway_start_s = run(measure_gateway(args, levels))
    rows = [
        {"concurrency": c, "raw": raw.get(c), "gateway": gateway[c], **compare(raw.get(c), gateway[c])}
        for c in args.concurrency
    ]
    report = {
        "model": str(args.model),
        "engine": "transformers (dry run on CPU)" if args.dry_run_cpu else "vllm",
        "load_format": args.load_format,
        "max_model_len": args.max_model_len,
        "gpu_memory_utilization": args.gpu_memory_utilization,
        "prompt_tokens": args.prompt_tokens,
        "output_tokens": args.output_tokens,
        "raw_engine_start_s": None if raw_start_s is None else round(raw_start_s, 1),
        "gateway_engine_start_s": round(gateway_start_s, 1),
        "gpus": [{"name": g["name"], "memory_total_mib": g["memory_total_mib"]} for g in sample_gpus()],
        "versions": versions(),
        "levels": rows,
    }
    args.out.write_text(json.dumps(report, indent=2) + "\n")
    print(markdown(rows))
    print(f"\nwritten to {args.out}")
    return 1 if any(r["gateway"]["errors"] or (r["raw"] or {}).get("errors") for r in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
