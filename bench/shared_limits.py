"""What keeping the limits in Redis (REDIS_URL) adds per request: requests/s and latency, with and without it.

Three gateways run side by side: each serves the instant LLM slot of bench/gateway_overhead.py (no model
work), with a client key and a rate limit high enough never to refuse. The first keeps its limits in
process, the second in Redis, both with a token quota (never reached), so that every
`POST /v1/completions` (`max_tokens=1`) goes through both checks: in-process, or one Redis round trip
each (the moving window's script, then the quota counters' HMGET) plus the counters' write every 50 ms.
The third uses Redis without a quota (the rate limit's round trip only). A local `redis-server`
(Debian's) is started on a free loopback port. Rounds alternate between the gateways; requests go over
keep-alive connections with a minimal HTTP/1.1 client.

    PYTHONPATH=backend:bench .venv/bin/python bench/shared_limits.py [--requests 2000] [--concurrency 1 16] [--rounds 3]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import psutil

from app.config import Settings
from bench_common import cpu_model
from gateway_overhead import MODEL, InstantQwen, free_port, new_event_loop, wait_ready

KEY = "bench-key-0123456789"
BODY = json.dumps({"model": MODEL, "prompt": "Hi", "max_tokens": 1}).encode()
REQUEST = (
    b"POST /v1/completions HTTP/1.1\r\nhost: bench\r\ncontent-type: application/json\r\n"
    b"authorization: Bearer %s\r\ncontent-length: %d\r\n\r\n%s" % (KEY.encode(), len(BODY), BODY)
)


def serve(port: int, workdir: Path, redis_url: str | None, quota: bool) -> None:
    """The gateway of this benchmark on 127.0.0.1:`port`: a key, a rate limit and a quota, both never hit."""
    import uvicorn

    from app.main import create_app

    (workdir / "model").mkdir(exist_ok=True)
    settings = Settings(
        _env_file=None,
        model_cache_dir=workdir / "cache",
        qwen_model_id=str(workdir / "model"),
        qwen_served_model_name=MODEL,
        openai_api_keys=f"bench:{KEY}",
        admin_api_keys=[],
        rate_limit_rpm=1_000_000,
        quotas="bench:tokens_per_day=1000000000000" if quota else "",
        redis_url=redis_url,
        lazy_load_models=False,
        log_level="warning",
    )
    app = create_app(settings, wrapper_factories={"qwen": InstantQwen}, with_defaults=False)
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


async def one_round(port: int, concurrency: int, requests: int) -> tuple[float, list[float]]:
    """`requests` completions over `concurrency` keep-alive connections: wall seconds and each latency."""
    connections = [await asyncio.open_connection("127.0.0.1", port) for _ in range(concurrency)]
    latencies: list[float] = []
    left = requests

    async def complete(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> float:
        started = time.perf_counter()
        writer.write(REQUEST)
        head = await reader.readuntil(b"\r\n\r\n")
        if not head.startswith(b"HTTP/1.1 200 "):
            raise RuntimeError(f"unexpected response: {head!r}")
        length = next(
            int(line.split(b":")[1]) for line in head.lower().split(b"\r\n") if line.startswith(b"content-length")
        )
        await reader.readexactly(length)
        return time.perf_counter() - started

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal left
        await complete(reader, writer)  # a connection's first request is not counted
        while left > 0:
            left -= 1
            latencies.append(await complete(reader, writer))

    started = time.perf_counter()
    await asyncio.gather(*(worker(r, w) for r, w in connections))
    wall = time.perf_counter() - started
    for _, writer in connections:
        writer.close()
    return wall, latencies


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000, help="requests per row and round")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16])
    parser.add_argument("--rounds", type=int, default=3, help="repetitions; the table shows medians")
    parser.add_argument("--serve", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--redis-url", help=argparse.SUPPRESS)
    parser.add_argument("--no-quota", action="store_true", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve is not None:
        serve(args.serve, args.workdir, args.redis_url, not args.no_quota)
        return
    if shutil.which("redis-server") is None:
        raise SystemExit("needs redis-server (Debian's package; scripts/setup.sh installs it with the test extra)")

    with tempfile.TemporaryDirectory() as workdir:
        redis_port = free_port()
        redis = subprocess.Popen(
            ["redis-server", "--port", str(redis_port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"],
            stdout=subprocess.DEVNULL,
        )
        gateways: dict[str, tuple[int, subprocess.Popen[bytes]]] = {}
        try:
            url = f"redis://127.0.0.1:{redis_port}/0"
            variants = {
                "in-process, rate limit + quota": [],
                "Redis, rate limit + quota": ["--redis-url", url],
                "Redis, rate limit only": ["--redis-url", url, "--no-quota"],
            }
            for index, (label, options) in enumerate(variants.items()):
                port = free_port()
                folder = Path(workdir) / str(index)
                folder.mkdir()
                command = [sys.executable, __file__, "--serve", str(port), "--workdir", str(folder), *options]
                gateways[label] = port, subprocess.Popen(command)
            for port, process in gateways.values():
                wait_ready(port, process)
            figures: dict[tuple[str, int], list[tuple[float, list[float], float]]] = {}
            with asyncio.Runner(loop_factory=new_event_loop()) as runner:
                for _ in range(args.rounds):
                    for concurrency in args.concurrency:
                        for label, (port, process) in gateways.items():
                            cpu = psutil.Process(process.pid)
                            before = sum(cpu.cpu_times()[:2])
                            wall, latencies = runner.run(one_round(port, concurrency, args.requests))
                            used = sum(cpu.cpu_times()[:2]) - before
                            figures.setdefault((label, concurrency), []).append((wall, latencies, used))
        finally:
            for _, process in gateways.values():
                process.terminate()
                process.wait(30)
            redis.terminate()
            redis.wait(30)

    print(
        f"{cpu_model()}, {psutil.cpu_count()} CPUs; {args.requests} requests per row, medians of {args.rounds} rounds\n"
    )
    print("| limits | concurrency | requests/s | p50 ms | p90 ms | gateway CPU µs/request |")
    print("|---|---|---|---|---|---|")
    for (label, concurrency), rounds in figures.items():
        rate = statistics.median(args.requests / wall for wall, _, _ in rounds)
        p50 = statistics.median(statistics.median(lat) for _, lat, _ in rounds) * 1e3
        p90 = statistics.median(statistics.quantiles(lat, n=10)[-1] for _, lat, _ in rounds) * 1e3
        cpu_us = statistics.median(used / args.requests for _, _, used in rounds) * 1e6
        print(f"| {label} | {concurrency} | {rate:,.0f} | {p50:.2f} | {p90:.2f} | {cpu_us:.0f} |")


if __name__ == "__main__":
    main()
