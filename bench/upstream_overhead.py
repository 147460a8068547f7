"""The upstream proxy's cost: tokens streamed through a front gateway vs directly from its upstream, same run.

The upstream is the gateway of bench/gateway_overhead.py with its instant fake engine (one token per event-loop
turn, no real work), in a subprocess. The front gateway, in another subprocess, serves one LLM slot with
`QWEN_ENGINE=upstream` pointing at it. The same minimal HTTP/1.1 client streams `/v1/chat/completions` from the
upstream directly, then through the front; the front process's CPU time (user + system) divided by the tokens it
relayed is the proxy's cost per token. The time the proxy adds to the first token is the difference of the TTFT
p50s of one-token requests, one at a time: while a long stream runs, the instant engine and the proxy keep a core
each busy, and on a small machine the TTFT of the rows that stream measures who waits for a core.

    .venv/bin/python bench/upstream_overhead.py [--tokens 256] [--concurrency 1 16 64] [--rounds 3] [--json out.json]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
import tempfile
from dataclasses import asdict
from pathlib import Path
from typing import Any

import psutil

from app.config import Settings
from gateway_overhead import (
    MODEL,
    CpuClock,
    Measurement,
    Row,
    free_port,
    machine,
    new_event_loop,
    over_http,
    server_cpu,
    summarise,
    wait_ready,
)

UPSTREAM = Path(__file__).with_name("gateway_overhead.py")


def front_settings(workdir: Path, upstream_port: int) -> Settings:
    """The front gateway: open and unlimited, its LLM slot the upstream, loaded (health-checked) at start."""
    return Settings(
        _env_file=None,
        model_cache_dir=workdir / "front-cache",
        enabled_models=["qwen"],
        qwen_engine="upstream",
        qwen_model_id=MODEL,
        qwen_upstream_urls=[f"http://127.0.0.1:{upstream_port}/v1"],
        openai_api_keys=[],
        admin_api_keys=[],
        rate_limit_rpm=0,
        lazy_load_models=False,
        log_level="warning",
    )


def serve_front(port: int, workdir: Path, upstream_port: int) -> None:
    import uvicorn

    from app.main import create_app

    app = create_app(front_settings(workdir, upstream_port))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning")


SCENARIOS = {"upstream": "upstream, directly", "front": "through the front gateway"}


async def one_round(args: argparse.Namespace, ports: dict[str, int], cpus: dict[str, CpuClock]) -> list[Measurement]:
    """Streamed rows (direct, then through the front) per concurrency, then the one-token rows."""
    measurements = []
    for concurrency in args.concurrency:
        requests = max(64, 4 * concurrency)
        for name, scenario in SCENARIOS.items():
            measurements.append(await over_http(ports[name], cpus[name], scenario, concurrency, requests, args.tokens))
    for name, scenario in SCENARIOS.items():
        measurements.append(await over_http(ports[name], cpus[name], f"{scenario}, max_tokens=1", 1, args.short, 1))
    return measurements


def measure(args: argparse.Namespace) -> list[Row]:
    with tempfile.TemporaryDirectory() as workdir:
        ports = {"upstream": free_port(), "front": free_port()}
        upstream = subprocess.Popen(
            [sys.executable, str(UPSTREAM), "--serve", str(ports["upstream"]), "--workdir", workdir]
        )
        front = None
        try:
            wait_ready(ports["upstream"], upstream)
            command = [sys.executable, __file__, "--serve-front", str(ports["front"])]
            front = subprocess.Popen([*command, "--upstream-port", str(ports["upstream"]), "--workdir", workdir])
            wait_ready(ports["front"], front)
            cpus = {
                "upstream": server_cpu(psutil.Process(upstream.pid)),
                "front": server_cpu(psutil.Process(front.pid)),
            }
            with asyncio.Runner(loop_factory=new_event_loop()) as runner:
                rounds = [runner.run(one_round(args, ports, cpus)) for _ in range(args.rounds)]
        finally:
            for process in (front, upstream):
                if process is not None:
                    process.terminate()
                    process.wait(timeout=30)
    return [summarise(list(scenario)) for scenario in zip(*rounds, strict=True)]


def added_ttft_ms(direct: Row, front: Row, percentile: str) -> float:
    return float(getattr(front, percentile) or 0) - float(getattr(direct, percentile) or 0)


def table(rows: list[Row]) -> str:
    lines = [
        "| concurrency | max_tokens | CPU µs/token, upstream | CPU µs/token, front (the proxy) | TTFT p50 ms, direct "
        "| TTFT p50 ms, through the front | added TTFT p50 ms | added TTFT p90 ms | tokens/s through the front |",
        "|---|---|---|---|---|---|---|---|---|",
    ]
    for direct, front in zip(rows[::2], rows[1::2], strict=True):
        lines.append(
            f"| {front.concurrency} | {front.tokens // front.requests} | {direct.cpu_us_per_token:.1f} "
            f"| {front.cpu_us_per_token:.1f} | {direct.ttft_p50_ms or 0:.2f} | {front.ttft_p50_ms or 0:.2f} "
            f"| {added_ttft_ms(direct, front, 'ttft_p50_ms'):.2f} | {added_ttft_ms(direct, front, 'ttft_p90_ms'):.2f} "
            f"| {front.tokens_per_s:,.0f} |"
        )
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tokens", type=int, default=256, help="tokens per streamed request")
    parser.add_argument("--concurrency", type=int, nargs="+", default=[1, 16, 64])
    parser.add_argument("--short", type=int, default=400, help="requests per max_tokens=1 row and round")
    parser.add_argument("--rounds", type=int, default=3, help="repetitions; the table shows medians")
    parser.add_argument("--json", type=Path, help="also write the figures here")
    parser.add_argument("--serve-front", type=int, metavar="PORT", help=argparse.SUPPRESS)
    parser.add_argument("--upstream-port", type=int, help=argparse.SUPPRESS)
    parser.add_argument("--workdir", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve_front is not None:
        serve_front(args.serve_front, args.workdir, args.upstream_port)
        return
    rows = measure(args)
    info = machine()
    print(
        f"{info['cpu']}, {info['logical_cpus']} CPUs, Python {info['python']}, {info['event_loop']} + "
        f"{info['http_parser']}; {args.tokens} tokens per streamed request; medians of {args.rounds} rounds\n"
    )
    print(table(rows))
    print(
        "\nGoals: <= 10 µs of front-gateway CPU per streamed token; <= 1 ms added to the TTFT p50 "
        "(the max_tokens=1 rows)."
    )
    if args.json:
        report: dict[str, Any] = {"machine": info, "tokens_per_request": args.tokens, "rows": [asdict(r) for r in rows]}
        report["added_ttft_p50_ms"] = added_ttft_ms(rows[-2], rows[-1], "ttft_p50_ms")
        args.json.write_text(json.dumps(report, indent=2))


if __name__ == "__main__":
    main()
