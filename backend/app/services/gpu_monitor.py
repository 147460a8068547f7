"""GPU and system sampling through NVML (nvidia-ml-py) and psutil.

NVML rather than GPUtil: GPUtil is unmaintained since 2018 and runs nvidia-smi on every poll.
Without a driver or a GPU everything here degrades to "no GPU" with the reason recorded.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import Any

import psutil

logger = logging.getLogger("app.gpu")

_nvml_lock = threading.Lock()
_nvml_state: dict[str, Any] = {"ready": None, "error": None}
# The operator's choice, read once: engines later narrow CUDA_VISIBLE_DEVICES for their own processes.
_OPERATOR_VISIBLE = os.environ.get("CUDA_VISIBLE_DEVICES")


def _nvml() -> Any | None:
    """The initialised pynvml module, or None (the reason is kept for the status)."""
    with _nvml_lock:
        if _nvml_state["ready"] is None:
            try:
                import pynvml

                pynvml.nvmlInit()
                _nvml_state["ready"] = True
            except Exception as exc:
                _nvml_state["ready"] = False
                _nvml_state["error"] = f"NVML unavailable: {exc}"
        if not _nvml_state["ready"]:
            return None
        import pynvml

        return pynvml


def nvml_error() -> str | None:
    _nvml()
    return _nvml_state["error"]


def _visible_indices(count: int) -> list[int]:
    """Physical GPU indices this process may use, honouring CUDA_VISIBLE_DEVICES (numeric form)."""
    visible = _OPERATOR_VISIBLE
    if visible is None:
        return list(range(count))
    indices = []
    for item in visible.split(","):
        item = item.strip()
        if item.isdigit() and int(item) < count:
            indices.append(int(item))
        elif item:
            break
    return indices


def visible_gpu_count() -> int:
    nvml = _nvml()
    if nvml is None:
        return 0
    try:
        return len(_visible_indices(nvml.nvmlDeviceGetCount()))
    except Exception:
        return 0


def cuda_visible_devices_for(indices: list[int]) -> str:
    """CUDA_VISIBLE_DEVICES for an engine process using the gateway's devices `indices`."""
    tokens = [t.strip() for t in _OPERATOR_VISIBLE.split(",")] if _OPERATOR_VISIBLE else None
    return ",".join(tokens[i] if tokens else str(i) for i in indices)


def _decode(value: Any) -> str:
    return value.decode() if isinstance(value, bytes) else str(value)


def sample_gpus() -> list[dict[str, Any]]:
    nvml = _nvml()
    if nvml is None:
        return []
    gpus = []
    try:
        indices = _visible_indices(nvml.nvmlDeviceGetCount())
    except Exception as exc:
        logger.warning("NVML device count failed: %s", exc)
        return []
    for visible_index, physical in enumerate(indices):
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(physical)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            gpu: dict[str, Any] = {
                "index": visible_index,
                "physical_index": physical,
                "name": _decode(nvml.nvmlDeviceGetName(handle)),
                "uuid": _decode(nvml.nvmlDeviceGetUUID(handle)),
                "memory_used_mib": memory.used // 2**20,
                "memory_total_mib": memory.total // 2**20,
                "utilization_percent": None,
                "temperature_c": None,
                "processes": [],
            }
            try:
                gpu["utilization_percent"] = nvml.nvmlDeviceGetUtilizationRates(handle).gpu
                gpu["temperature_c"] = nvml.nvmlDeviceGetTemperature(handle, nvml.NVML_TEMPERATURE_GPU)
                gpu["processes"] = [
                    {"pid": p.pid, "memory_used_mib": (p.usedGpuMemory or 0) // 2**20}
                    for p in nvml.nvmlDeviceGetComputeRunningProcesses(handle)
                ]
            except Exception as exc:
                logger.debug("partial NVML reading for GPU %s: %s", physical, exc)
            gpus.append(gpu)
        except Exception as exc:
            logger.warning("NVML reading for GPU %s failed: %s", physical, exc)
    return gpus


def memory_used_mib(devices: list[str]) -> dict[str, int]:
    """Used memory of the given `cuda:N` devices right now (empty without NVML)."""
    wanted = {int(d.split(":")[1]) for d in devices if d.startswith("cuda:")}
    if not wanted:
        return {}
    return {f"cuda:{g['index']}": g["memory_used_mib"] for g in sample_gpus() if g["index"] in wanted}


def sample_system() -> dict[str, Any]:
    memory = psutil.virtual_memory()
    return {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "cpu_count": psutil.cpu_count(),
        "memory_used_mib": (memory.total - memory.available) // 2**20,
        "memory_total_mib": memory.total // 2**20,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
    }


class GPUMonitor:
    """Samples GPUs and the system on a background thread; readers get the latest snapshot."""

    def __init__(self, interval_s: float = 5.0) -> None:
        self.interval_s = interval_s
        self._snapshot: dict[str, Any] = {}
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None
        self._lock = threading.Lock()

    def start(self) -> None:
        self.sample()
        self._thread = threading.Thread(target=self._run, name="gpu-monitor", daemon=True)
        self._thread.start()

    def stop(self) -> None:
        self._stop.set()
        if self._thread is not None:
            self._thread.join(timeout=self.interval_s + 1)

    def _run(self) -> None:
        while not self._stop.wait(self.interval_s):
            try:
                self.sample()
            except Exception:
                logger.exception("GPU sampling failed")

    def sample(self) -> dict[str, Any]:
        gpus = sample_gpus()
        snapshot = {
            "sampled_at": time.time(),
            "gpus": gpus,
            "gpu_available": bool(gpus),
            "gpu_error": None if gpus else (nvml_error() or "no NVIDIA GPU visible"),
            "system": sample_system(),
        }
        with self._lock:
            self._snapshot = snapshot
        return snapshot

    def snapshot(self) -> dict[str, Any]:
        with self._lock:
            snapshot = dict(self._snapshot)
        return snapshot or self.sample()
