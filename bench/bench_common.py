"""Pieces the benchmarks share: the machine's description, a gateway subprocess, waiting for its model."""

from __future__ import annotations

import argparse
import asyncio
import os
import platform
import signal
import statistics
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import date
from pathlib import Path
from typing import IO, Any


def cpu_model() -> str:
    """`lscpu`'s model name (what doc/benchmarks.md records), else the platform's processor string."""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor()


def machine(device: str) -> dict[str, Any]:
    """What a throughput benchmark's JSON report records of the machine it ran on."""
    import torch

    return {
        "cpu": cpu_model(),
        "logical_cpus": os.cpu_count(),
        "gpu": torch.cuda.get_device_name(0) if device == "cuda" else None,
        "python": platform.python_version(),
        "torch": torch.__version__,
    }


def report_head(args: argparse.Namespace) -> dict[str, Any]:
    """What opens a throughput benchmark's JSON report: the date, the machine, the arguments it ran with."""
    return {
        "date": date.today().isoformat(),
        "machine": machine(args.device),
        "args": {k: str(v) if isinstance(v, Path) else v for k, v in vars(args).items()},
    }


@dataclass
class Rounds:
    """One side's timed rounds of the same work: each round's wall time, and how many batches the model ran."""

    walls_s: list[float] = field(default_factory=list, kw_only=True)
    batches: list[int] = field(default_factory=list, kw_only=True)

    @property
    def best(self) -> int:
        """The fastest round: other jobs on a shared machine only ever slow a round down."""
        return self.walls_s.index(min(self.walls_s))

    def per_s(self, amount: float) -> float:
        """`amount` of work (seconds of audio, sentences) per second of the best round."""
        return amount / self.walls_s[self.best]

    def median_per_s(self, amount: float) -> float:
        return amount / statistics.median(self.walls_s)


async def wait_loaded(
    session: Any, base_url: str, key: str, process: subprocess.Popen[bytes], timeout_s: float, poll_s: float = 0.5
) -> dict[str, Any]:
    """The slot's admin status once loaded (aiohttp session); exits if the gateway stops or the load fails."""
    deadline = time.monotonic() + timeout_s
    while True:
        if process.poll() is not None:
            raise SystemExit(f"the gateway exited with status {process.returncode}")
        try:
            async with session.get(f"{base_url}/api/admin/models/{key}") as response:
                status = await response.json()
        except OSError:
            status = {"state": "starting"}
        if status["state"] == "loaded":
            return status
        if status["state"] == "error" or time.monotonic() > deadline:
            raise SystemExit(f"'{key}' did not load in the gateway: {status.get('error') or status['state']}")
        await asyncio.sleep(poll_s)


@contextmanager
def serve_subprocess(
    env: dict[str, str], workdir: Path, output: IO[bytes] | None = None
) -> Iterator[subprocess.Popen[bytes]]:
    """`app.cli serve` as a subprocess, run from `workdir` (an empty folder: no stray .env is read);
    stopped with SIGINT, then killed if it does not stop within 120 s."""
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"], env=env, cwd=workdir, stdout=output, stderr=output
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGINT)
        try:
            process.wait(timeout=120)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
