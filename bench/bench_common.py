"""Pieces the benchmarks share: the machine's description and waiting for a gateway's model."""

from __future__ import annotations

import asyncio
import platform
import subprocess
import time
from typing import Any


def cpu_model() -> str:
    """`lscpu`'s model name (what doc/benchmarks.md records), else the platform's processor string."""
    try:
        for line in subprocess.run(["lscpu"], capture_output=True, text=True, check=True).stdout.splitlines():
            if line.startswith("Model name:"):
                return line.split(":", 1)[1].strip()
    except (OSError, subprocess.CalledProcessError):
        pass
    return platform.processor()


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
