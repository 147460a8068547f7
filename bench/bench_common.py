"""Pieces the benchmarks share: the machine's description, a gateway subprocess, waiting for its model."""

from __future__ import annotations

import asyncio
import os
import platform
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
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
