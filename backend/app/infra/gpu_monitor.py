"""GPU and system sampling through NVML (nvidia-ml-py) and psutil, and a bounded 24 h history of it.

NVML rather than GPUtil: GPUtil is unmaintained since 2018 and runs nvidia-smi on every poll.
Without a driver or a GPU everything here degrades to "no GPU" with the reason recorded.
"""

from __future__ import annotations

import logging
import os
import shutil
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypedDict

import psutil

logger = logging.getLogger("app.gpu")


class GpuProcess(TypedDict):
    pid: int
    memory_used_mib: int


class GpuSample(TypedDict):
    """One GPU as NVML reads it; `index` is its index among the devices this process sees."""

    index: int
    physical_index: int
    name: str
    uuid: str
    memory_used_mib: int
    memory_total_mib: int
    utilization_percent: int | None
    temperature_c: int | None
    processes: list[GpuProcess]


class DiskSample(TypedDict):
    path: str
    total_bytes: int
    free_bytes: int


class SystemSample(TypedDict):
    cpu_percent: float
    cpu_count: int | None
    memory_used_mib: int
    memory_total_mib: int
    load_average: list[float] | None
    disk: DiskSample | None


class MonitorSnapshot(TypedDict):
    sampled_at: float
    gpus: list[GpuSample]
    gpu_available: bool
    gpu_error: str | None
    system: SystemSample


HistoryPoint = dict[str, float | None]
"""A bucket's time `t` and the average of each field of its series (None without samples)."""


class GpuHistory(TypedDict):
    index: int
    name: str
    points: list[HistoryPoint]


class MonitorHistory(TypedDict):
    range: HistoryRange
    step_s: int
    gpus: list[GpuHistory]
    system: list[HistoryPoint]


@dataclass
class _NvmlState:
    ready: bool | None = None
    """None until the first attempt to initialise NVML."""
    error: str | None = None


_nvml_lock = threading.Lock()
_nvml_state = _NvmlState()
# The operator's choice, read once: engines later narrow CUDA_VISIBLE_DEVICES for their own processes.
_OPERATOR_VISIBLE = os.environ.get("CUDA_VISIBLE_DEVICES")

HistoryRange = Literal["1h", "6h", "24h"]


def _nvml() -> Any | None:
    """The initialised pynvml module, or None (the reason is kept for the status)."""
    with _nvml_lock:
        if _nvml_state.ready is None:
            try:
                import pynvml

                pynvml.nvmlInit()
                _nvml_state.ready = True
            except Exception as exc:
                _nvml_state.ready = False
                _nvml_state.error = f"NVML unavailable: {exc}"
        if not _nvml_state.ready:
            return None
        import pynvml

        return pynvml


def nvml_error() -> str | None:
    _nvml()
    return _nvml_state.error


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


def sample_gpus() -> list[GpuSample]:
    nvml = _nvml()
    if nvml is None:
        return []
    gpus: list[GpuSample] = []
    try:
        indices = _visible_indices(nvml.nvmlDeviceGetCount())
    except Exception as exc:
        logger.warning("NVML device count failed: %s", exc)
        return []
    for visible_index, physical in enumerate(indices):
        try:
            handle = nvml.nvmlDeviceGetHandleByIndex(physical)
            memory = nvml.nvmlDeviceGetMemoryInfo(handle)
            gpu: GpuSample = {
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


def sample_disk(path: Path) -> DiskSample | None:
    """Size and free space of the file system holding `path` (None when it cannot be read)."""
    try:
        usage = shutil.disk_usage(path)
    except OSError as exc:
        logger.debug("disk usage of %s unavailable: %s", path, exc)
        return None
    return {"path": str(path), "total_bytes": usage.total, "free_bytes": usage.free}


def sample_system(disk_path: Path | None = None) -> SystemSample:
    memory = psutil.virtual_memory()
    return {
        "cpu_percent": psutil.cpu_percent(interval=None),
        "cpu_count": psutil.cpu_count(),
        "memory_used_mib": (memory.total - memory.available) // 2**20,
        "memory_total_mib": memory.total // 2**20,
        "load_average": list(os.getloadavg()) if hasattr(os, "getloadavg") else None,
        "disk": sample_disk(disk_path) if disk_path is not None else None,
    }


# --- history -------------------------------------------------------------------------------------------
GPU_FIELDS = ("memory_used_mib", "memory_total_mib", "utilization_percent", "temperature_c")
SYSTEM_FIELDS = ("cpu_percent", "memory_used_mib")
"""The fields of a GPU's and of the system's series: the keys of their `HistoryPoint`s."""
INTEGER_FIELDS = {"memory_used_mib", "memory_total_mib"}


@dataclass(frozen=True)
class Tier:
    step_s: int
    span_s: int

    @property
    def size(self) -> int:
        return self.span_s // self.step_s


TIERS: dict[HistoryRange, Tier] = {"1h": Tier(5, 3600), "6h": Tier(60, 6 * 3600), "24h": Tier(240, 24 * 3600)}
"""Each range keeps averages over steps of its own: 720 + 360 + 360 points per series at most."""

Values = tuple[float | None, ...]


class DownsampledSeries:
    """Averages of the samples over consecutive `step_s` buckets (aligned on multiples of `step_s`), the
    last `span_s` of them; the bucket still filling is read as the average so far. A value that is None
    in a sample (a GPU without temperature sensor) is left out of its bucket's average."""

    def __init__(self, tier: Tier, fields: tuple[str, ...]) -> None:
        self.tier = tier
        self.fields = fields
        self.points: deque[tuple[float, Values]] = deque(maxlen=tier.size)
        self._start: float | None = None
        self._sums = [0.0] * len(fields)
        self._counts = [0] * len(fields)

    def add(self, t: float, values: Values) -> None:
        start = t - t % self.tier.step_s
        if self._start != start:
            if self._start is not None:
                self.points.append((self._start, self._average()))
            self._start, self._sums, self._counts = start, [0.0] * len(self.fields), [0] * len(self.fields)
        for i, value in enumerate(values):
            if value is not None:
                self._sums[i] += value
                self._counts[i] += 1

    def __len__(self) -> int:
        """Points held: the closed ones and the one filling."""
        return len(self.points) + (self._start is not None)

    def _average(self) -> Values:
        return tuple(total / count if count else None for total, count in zip(self._sums, self._counts, strict=True))

    def read(self, since: float) -> list[HistoryPoint]:
        points = [p for p in self.points if p[0] >= since]
        if self._start is not None and self._start >= since:
            points.append((self._start, self._average()))
        return [self._public(t, values) for t, values in points]

    def _public(self, t: float, values: Values) -> HistoryPoint:
        point: HistoryPoint = {"t": t}
        for name, value in zip(self.fields, values, strict=True):
            if value is None:
                point[name] = None
            else:
                point[name] = round(value) if name in INTEGER_FIELDS else round(value, 1)
        return point


class MetricsHistory:
    """GPU and system samples kept for 24 h, downsampled per range (see `TIERS`); bounded whatever the
    sampling interval and however long the gateway runs. Not thread-safe: `GPUMonitor` guards it."""

    def __init__(self) -> None:
        self._system = {name: DownsampledSeries(tier, SYSTEM_FIELDS) for name, tier in TIERS.items()}
        self._gpus: dict[int, tuple[str, dict[HistoryRange, DownsampledSeries]]] = {}

    def add(self, t: float, gpus: list[GpuSample], system: SystemSample) -> None:
        for series in self._system.values():
            series.add(t, (system.get("cpu_percent"), system.get("memory_used_mib")))
        for gpu in gpus:
            if gpu["index"] not in self._gpus:
                by_range = {name: DownsampledSeries(tier, GPU_FIELDS) for name, tier in TIERS.items()}
                self._gpus[gpu["index"]] = (gpu["name"], by_range)
            for series in self._gpus[gpu["index"]][1].values():
                series.add(
                    t,
                    (
                        gpu.get("memory_used_mib"),
                        gpu.get("memory_total_mib"),
                        gpu.get("utilization_percent"),
                        gpu.get("temperature_c"),
                    ),
                )

    def read(self, range_: HistoryRange, now: float) -> MonitorHistory:
        tier = TIERS[range_]
        since = now - tier.span_s
        gpus: list[GpuHistory] = []
        for index, (name, series) in sorted(self._gpus.items()):
            points = series[range_].read(since)
            if points:
                gpus.append({"index": index, "name": name, "points": points})
        return {"range": range_, "step_s": tier.step_s, "gpus": gpus, "system": self._system[range_].read(since)}

    def __len__(self) -> int:
        """Points held, closed and filling, over every series and range."""
        series = [*self._system.values(), *(s for _, by_range in self._gpus.values() for s in by_range.values())]
        return sum(len(s) for s in series)


class GPUMonitor:
    """Samples GPUs and the system on a background thread; readers get the latest snapshot, and the
    history of the last 24 h. `disk_path` is the folder whose file system `system.disk` describes;
    `clock` gives the samples' times (tests drive it)."""

    def __init__(
        self, interval_s: float = 5.0, disk_path: Path | None = None, clock: Callable[[], float] = time.time
    ) -> None:
        self.interval_s = interval_s
        self.disk_path = disk_path
        self.clock = clock
        self._snapshot: MonitorSnapshot | None = None
        self._history = MetricsHistory()
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

    def sample(self) -> MonitorSnapshot:
        gpus = sample_gpus()
        now = self.clock()
        snapshot: MonitorSnapshot = {
            "sampled_at": now,
            "gpus": gpus,
            "gpu_available": bool(gpus),
            "gpu_error": None if gpus else (nvml_error() or "no NVIDIA GPU visible"),
            "system": sample_system(self.disk_path),
        }
        with self._lock:
            self._snapshot = snapshot
            self._history.add(now, gpus, snapshot["system"])
        return snapshot

    def history(self, range_: HistoryRange) -> MonitorHistory:
        with self._lock:
            return self._history.read(range_, self.clock())

    def snapshot(self) -> MonitorSnapshot:
        with self._lock:
            snapshot = self._snapshot
        return snapshot.copy() if snapshot is not None else self.sample()
