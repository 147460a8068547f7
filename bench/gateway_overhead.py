"""The gateway's CPU cost per streamed token and its time to first token, with an instant fake engine.

The real gateway (uvicorn; uvloop and httptools when installed) runs in a subprocess whose LLM slot
serves `InstantEngine`: deltas of one token each, every one in its own event-loop turn (as from vLLM's
per-request output queue), without any real work. This process streams `/v1/chat/completions` over
a minimal HTTP/1.1 client and divides the server process's CPU time (user + system) by the tokens
it streamed; TTFT is the client's time from sending a request to reading its first content token.
Two rows consume the same engine in this process without HTTP (the engine alone, then through
`openai_service.stream`), so the remainder is clearly the gateway's HTTP path.

    .venv/bin/python bench/gateway_overhead.py [--tokens 256] [--concurrency 1 16 64] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import platform
import resource
import socket
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import asdict, dataclass, field
from importlib.util import find_spec
from pathlib import Path
from typing import Any, TypeVar

import psutil

from app.config import Settings
from app.engines.base import GenerationDelta, GenerationRequest, LLMEngine
from app.models.qwen import QwenModel
from app.services.openai_service import PreparedGeneration, stream
from bench_common import cpu_model

MODEL = "instant"
MESSAGES = [{"role": "user", "content": "Say hello in one short sentence, please."}]
TOKEN_MARK = b'"content":" tok"'
DONE_MARK = b"data: [DONE]\n\n"
T = TypeVar("T")


# --- the server side ------------------------------------------------------------------------------
class MinimalTokenizer:
    """What the gateway asks of a tokenizer for chat: a Qwen-style template, then bytes as ids."""

    chat_template = "qwen-style"

    def apply_chat_template(self, messages: list[dict[str, Any]], add_generation_prompt: bool, **_: Any) -> str:
        turns = "".join(f"<|im_start|>{m['role']}\n{m['content']}<|im_end|>\n" for m in messages)
        return turns + ("<|im_start|>assistant\n" if add_generation_prompt else "")

    def encode(self, text: str, add_special_tokens: bool = False) -> list[int]:
        return list(text.encode())

    def __len__(self) -> int:
        return 256


class InstantEngine(LLMEngine):
    """`max_tokens` deltas of " tok", one per event-loop turn, then the finish delta."""

    name = "instant"
    max_model_len = 1 << 20

    def __init__(self) -> None:
        self.tokenizer = MinimalTokenizer()

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationDelta]:
        for _ in range(request.max_tokens):
            await asyncio.sleep(0)
            yield GenerationDelta(" tok", 1)
        yield GenerationDelta("", 0, "length")

    async def shutdown(self) -> None:
        """Nothing to release."""


class InstantQwen(QwenModel):
    """The LLM slot, loading `InstantEngine` instead of a model."""

    async def _start_engine(self, path: Path, devices: list[str]) -> LLMEngine:
        return InstantEngine()


def open_settings(workdir: Path) -> Settings:
    """The gateway of the benchmarks: open and unlimited (keys or a rate limit in the environment must not
    apply), the LLM slot on an empty folder in `workdir`, loaded at start."""
    (workdir / "model").mkdir(exist_ok=True)
    return Settings(
        _env_file=None,
        model_cache_dir=workdir / "cache",
        qwen_model_id=str(workdir / "model"),
        qwen_served_model_name=MODEL,
        openai_api_keys=[],
        admin_api_keys=[],
        rate_limit_rpm=0,
        lazy_load_models=False,
        log_level="warning",
    )


def serve(port: int, workdir: Path) -> None:
    """Run the gateway with the instant LLM slot on 127.0.0.1:`port` until terminated."""
    import uvicorn

    from app.main import create_app

    settings = open_settings(workdir)
    app = create_app(settings, wrapper_factories={"qwen": InstantQwen}, with_defaults=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


# --- the client side ------------------------------------------------------------------------------
@dataclass
class Measurement:
    """One scenario in one round."""

    scenario: str
    concurrency: int
    requests: int
    tokens: int
    cpu_s: float
    kernel_s: float
    wall_s: float
    ttfts: list[float] = field(default_factory=list)


@dataclass
class Row:
    """One scenario over every round: medians of the CPU figures, percentiles of the pooled TTFTs."""

    scenario: str
    concurrency: int
    requests: int
    tokens: int
    rounds: int
    cpu_us_per_token: float
    kernel_us_per_token: float
    cpu_us_per_request: float
    tokens_per_s: float
    ttft_p50_ms: float | None
    ttft_p90_ms: float | None


def summarise(rounds: list[Measurement]) -> Row:
    """Fold one scenario's rounds into its row."""
    first = rounds[0]
    ttfts = [t for m in rounds for t in m.ttfts]

    def median(value: Callable[[Measurement], float]) -> float:
        return statistics.median(value(m) for m in rounds)

    def percentile(q: int) -> float | None:
        return statistics.quantiles(ttfts, n=100, method="inclusive")[q - 1] * 1e3 if len(ttfts) > 1 else None

    return Row(
        first.scenario,
        first.concurrency,
        first.requests,
        first.tokens,
        len(rounds),
        median(lambda m: m.cpu_s / m.tokens * 1e6),
        median(lambda m: m.kernel_s / m.tokens * 1e6),
        median(lambda m: m.cpu_s / m.requests * 1e6),
        median(lambda m: m.tokens / m.wall_s),
        percentile(50),
        percentile(90),
    )


async def run_concurrently(concurrency: int, requests: int, one: Callable[[], Awaitable[T]]) -> list[T]:
    """`requests` calls of `one`, `concurrency` at a time."""
    left = requests
    results: list[T] = []

    async def worker() -> None:
        nonlocal left
        while left > 0:
            left -= 1
            results.append(await one())

    await asyncio.gather(*(worker() for _ in range(concurrency)))
    return results


CpuClock = Callable[[], tuple[float, float]]


def own_cpu() -> tuple[float, float]:
    """This process's user and system CPU seconds (microsecond resolution)."""
    usage = resource.getrusage(resource.RUSAGE_SELF)
    return usage.ru_utime, usage.ru_stime


def server_cpu(server: psutil.Process) -> CpuClock:
    """The server process's user and system CPU seconds (clock-tick resolution)."""

    def read() -> tuple[float, float]:
        times = server.cpu_times()
        return times.user, times.system

    return read


async def timed(
    cpu: CpuClock,
    scenario: str,
    concurrency: int,
    requests: int,
    tokens: int,
    one: Callable[[], Awaitable[T]],
) -> tuple[Measurement, list[T]]:
    """Run `requests` calls of `one` and charge the CPU time `cpu` reads to them."""
    user_before, kernel_before = cpu()
    started = time.perf_counter()
    results = await run_concurrently(concurrency, requests, one)
    wall = time.perf_counter() - started
    user_after, kernel_after = cpu()
    user, kernel = user_after - user_before, kernel_after - kernel_before
    return Measurement(scenario, concurrency, requests, requests * tokens, user + kernel, kernel, wall), results


class Connection:
    """A minimal HTTP/1.1 keep-alive client, so the client's own cost stays out of the TTFT."""

    def __init__(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        self.reader = reader
        self.writer = writer

    @classmethod
    async def open(cls, port: int) -> Connection:
        return cls(*await asyncio.open_connection("127.0.0.1", port))

    async def close(self) -> None:
        self.writer.close()
        await self.writer.wait_closed()

    async def stream_chat(self, max_tokens: int) -> float:
        """Stream one chat completion, checking every chunk; return the time to its first content token."""
        body = json.dumps(
            {"model": MODEL, "messages": MESSAGES, "max_tokens": max_tokens, "stream": True, "ignore_eos": True}
        ).encode()
        head = b"POST /v1/chat/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
        started = time.perf_counter()
        self.writer.write(head + b"content-length: %d\r\n\r\n%s" % (len(body), body))
        response = await self.reader.readuntil(b"\r\n\r\n")
        if not response.startswith(b"HTTP/1.1 200 ") or b"transfer-encoding: chunked" not in response.lower():
            raise RuntimeError(f"unexpected response: {response!r}")
        ttft = None
        tokens = 0
        last = b""
        while size := int(await self.reader.readuntil(b"\r\n"), 16):
            chunk = await self.reader.readexactly(size + 2)
            if TOKEN_MARK in chunk:
                ttft = ttft or time.perf_counter() - started
                tokens += chunk.count(TOKEN_MARK)
            last = chunk
        await self.reader.readexactly(2)
        if ttft is None or tokens != max_tokens or not last.endswith(DONE_MARK + b"\r\n"):
            raise RuntimeError(f"unexpected stream: {tokens} tokens, ending {last[-200:]!r}")
        return ttft


async def over_http(
    port: int, server: CpuClock, scenario: str, concurrency: int, requests: int, tokens: int
) -> Measurement:
    """Server CPU and client-side TTFTs of `requests` streams over `concurrency` keep-alive connections."""
    connections = [await Connection.open(port) for _ in range(concurrency)]
    idle = asyncio.Queue[Connection]()
    for connection in connections:
        await connection.stream_chat(tokens)  # the first request of a connection is not timed
        idle.put_nowait(connection)

    async def one() -> float:
        connection = await idle.get()
        try:
            return await connection.stream_chat(tokens)
        finally:
            idle.put_nowait(connection)

    measurement, ttfts = await timed(server, scenario, concurrency, requests, tokens, one)
    measurement.ttfts = ttfts
    for connection in connections:
        await connection.close()
    return measurement


async def in_process(scenario: str, concurrency: int, requests: int, tokens: int, via_stream: bool) -> Measurement:
    """The instant engine consumed in this process: alone, or through the gateway's SSE formatting."""
    engine = InstantEngine()

    async def one() -> None:
        request = GenerationRequest("bench", [1, 2, 3], tokens)
        if via_stream:
            prepared = PreparedGeneration("chat", "chatcmpl-bench", 0, MODEL, engine, [request], 3, False, "fp_bench")
            async for chunk in stream(prepared):
                chunk.encode()
        else:
            async for _ in engine.generate(request):
                pass

    measurement, _ = await timed(own_cpu, scenario, concurrency, requests, tokens, one)
    return measurement


async def one_round(args: argparse.Namespace, port: int, server: CpuClock) -> list[Measurement]:
    streams = max(args.concurrency)
    measurements = [
        await in_process("engine only, in-process", streams, 4 * streams, args.tokens, via_stream=False),
        await in_process("engine + SSE formatting, in-process", streams, 4 * streams, args.tokens, via_stream=True),
    ]
    for c in args.concurrency:
        measurements.append(await over_http(port, server, "gateway, streamed", c, max(64, 4 * c), args.tokens))
    for c in (1, 16):
        measurements.append(await over_http(port, server, "gateway, max_tokens=1", c, args.short_requests, 1))
    return measurements


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_ready(port: int, server: subprocess.Popen[bytes]) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the gateway exited with code {server.returncode}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/health/ready", timeout=5):
                return
        except OSError:
            time.sleep(0.1)
    raise RuntimeError("the gateway did not become ready in 60 s")


def new_event_loop() -> Callable[[], asyncio.AbstractEventLoop] | None:
    """uvloop's loop when installed, as uvicorn picks it: the in-process rows compare like with like."""
    if find_spec("uvloop") is None:
        return None
    import uvloop

    return uvloop.new_event_loop


def measure(args: argparse.Namespace) -> list[Row]:
    """Start the gateway, run every round against it, stop it; one row per scenario."""
    with tempfile.TemporaryDirectory() as workdir:
        port = free_port()
        server = subprocess.Popen([sys.executable, __file__, "--serve", str(port), "--workdir", workdir])
        try:
            wait_ready(port, server)
            cpu = server_cpu(psutil.Process(server.pid))
            with asyncio.Runner(loop_factory=new_event_loop()) as runner:
                rounds = [runner.run(one_round(args, port, cpu)) for _ in range(args.rounds)]
        finally:
            server.terminate()
            server.wait(timeout=30)
    return [summarise(list(scenario)) for scenario in zip(*rounds, strict=True)]


def machine() -> dict[str, Any]:
    return {
        "cpu": cpu_model(),
        "logical_cpus": psutil.cpu_count(),
        "python": platform.python_version(),
        "event_loop": "uvloop" if find_spec("uvloop") else "asyncio",
        "http_parser": "httptools" if find_spec("httptools") else "h11",
    }


def table(rows: list[Row]) -> str:
    def ms(value: float | None) -> str:
        return "-" if value is None else f"{value:.2f}"

    lines = [
        "| scenario | concurrency | requests | CPU µs/token | of which kernel | CPU µs/request | tokens/s "
        "| TTFT p50 ms | TTFT p90 ms |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for r in rows:
        lines.append(
            f"| {r.scenario} | {r.concurrency} | {r.requests} | {r.cpu_us_per_token:.1f} "
            f"| {r.kernel_us_per_token:.1f} | {r.cpu_us_per_request:.0f} | {r.tokens_per_s:,.0f} "
            f"| {ms(r.ttft_p50_ms)} | {ms(r.ttft_p90_ms)} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=256, help="tokens per streamed request")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--short-requests", type=int, default=400, help="requests per max_tokens=1 row and round")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions; the table shows medians")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.workdir)
        return
    rows = measure(args)
    info = machine()
    print(
        f"{info['cpu']}, {info['logical_cpus']} CPUs, Python {info['python']}, {info['event_loop']} + "
        f"{info['http_parser']}; {args.tokens} tokens per streamed request; medians of {args.rounds} rounds\n"
    )
    print(table(rows))
    print("\nGoals: <= 20 µs CPU per streamed token; TTFT overhead <= 3 ms p50 (concurrency 1).")
    if args.json:
        report = {"machine": info, "tokens_per_request": args.tokens, "rows": [asdict(r) for r in rows]}
        args.json.write_text(json.dumps(report, indent=2) + "\n")


if __name__ == "__main__":
    main()
