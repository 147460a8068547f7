"""The GPU monitor on a machine without GPU, and on a real GPU when there is one; its 24 h history."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from app.infra import gpu_monitor
from app.infra.gpu_monitor import TIERS, GPUMonitor, MetricsHistory
from tests.conftest import ADMIN_KEY

T0 = 1_800_000_000 - 1_800_000_000 % 240
"""A time aligned on every step (5 s, 60 s, 240 s), so that buckets start with the samples."""


class Clock:
    def __init__(self, now: float) -> None:
        self.now = now

    def __call__(self) -> float:
        return self.now


def gpu(index: int, used: int, utilization: int | None = 50, temperature: int | None = 40) -> dict:
    return {
        "index": index,
        "name": f"GPU {index}",
        "memory_used_mib": used,
        "memory_total_mib": 80_000,
        "utilization_percent": utilization,
        "temperature_c": temperature,
    }


def test_without_gpu_it_degrades_to_no_gpu() -> None:
    """No GPU, or none visible: GPUs are hidden from the tests not marked gpu (tests/gpu_visibility.py)."""
    assert gpu_monitor.visible_gpu_count() == 0
    monitor = GPUMonitor(interval_s=0.05)
    monitor.start()
    try:
        first = monitor.snapshot()
        assert first["gpus"] == [] and first["gpu_available"] is False
        assert "NVML" in first["gpu_error"] or "no NVIDIA GPU" in first["gpu_error"]
        assert first["system"]["memory_total_mib"] > 0
        assert 0 <= first["system"]["cpu_percent"] <= 100 * first["system"]["cpu_count"]
        assert gpu_monitor.memory_used_mib(["cuda:0"]) == {}
        assert gpu_monitor.memory_used_mib(["cpu"]) == {}
    finally:
        monitor.stop()
    assert not monitor._thread.is_alive()


def test_device_mapping_follows_the_operators_visibility(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(gpu_monitor, "_OPERATOR_VISIBLE", "4,5,GPU-abc")
    assert gpu_monitor.cuda_visible_devices_for([1, 0]) == "5,4"
    assert gpu_monitor._visible_indices(8) == [4, 5]
    monkeypatch.setattr(gpu_monitor, "_OPERATOR_VISIBLE", None)
    assert gpu_monitor.cuda_visible_devices_for([2, 3]) == "2,3"
    assert gpu_monitor._visible_indices(2) == [0, 1]


@pytest.mark.gpu
def test_real_gpu_sampling() -> None:
    snapshot = GPUMonitor().sample()
    assert snapshot["gpu_available"] is True
    gpu = snapshot["gpus"][0]
    assert gpu["name"] and 0 < gpu["memory_used_mib"] <= gpu["memory_total_mib"]
    assert gpu["utilization_percent"] is not None and gpu["temperature_c"] is not None
    assert gpu_monitor.memory_used_mib(["cuda:0"])["cuda:0"] > 0


def test_history_averages_each_range_over_its_step() -> None:
    history = MetricsHistory()
    for i in range(120):  # ten minutes of 5 s samples: cpu_percent and the GPU's memory count up
        history.add(T0 + 5 * i, [gpu(0, 1000 + 2 * i, temperature=None if i % 2 else 40)], {"cpu_percent": i})
    now = T0 + 5 * 119
    hour = history.read("1h", now)
    assert hour["range"] == "1h" and hour["step_s"] == 5
    assert [p["cpu_percent"] for p in hour["system"]] == list(range(120))
    assert [p["t"] for p in hour["system"]] == [T0 + 5 * i for i in range(120)]
    assert hour["system"][0]["memory_used_mib"] is None  # not in these samples
    six = history.read("6h", now)
    assert six["step_s"] == 60
    # 12 samples per minute: the mean of 12k .. 12k + 11; the last minute is the bucket still filling.
    assert [p["cpu_percent"] for p in six["system"]] == [12 * k + 5.5 for k in range(10)]
    (card,) = six["gpus"]
    assert card["index"] == 0 and card["name"] == "GPU 0"
    assert [p["memory_used_mib"] for p in card["points"]] == [1000 + 24 * k + 11 for k in range(10)]
    assert {p["temperature_c"] for p in card["points"]} == {40.0}  # missing readings are left out
    day = history.read("24h", now)
    assert day["step_s"] == 240
    assert [p["cpu_percent"] for p in day["system"]] == [23.5, 71.5, 107.5]  # 48, 48 and 24 samples
    assert [p["t"] for p in day["system"]] == [T0, T0 + 240, T0 + 480]
    assert history.read("1h", now + 3605)["system"] == []  # older than the range


def test_history_stays_bounded() -> None:
    history = MetricsHistory()
    for i in range(30 * 3600):  # 30 h of samples every second, on two GPUs
        history.add(T0 + i, [gpu(0, i % 1000), gpu(1, 7)], {"cpu_percent": 1.0, "memory_used_mib": 100})
    now = T0 + 30 * 3600 - 1
    per_series = sum(tier.size + 1 for tier in TIERS.values())
    assert per_series == 1443
    assert len(history) <= 3 * per_series
    for name, tier in TIERS.items():
        read = history.read(name, now)
        assert tier.size <= len(read["system"]) <= tier.size + 1  # the whole range, plus the step filling
        assert all(len(g["points"]) == len(read["system"]) for g in read["gpus"])
        assert read["system"][0]["t"] >= now - tier.span_s


def test_monitor_history_on_a_machine_without_gpu(tmp_path: Path) -> None:
    if gpu_monitor.visible_gpu_count():
        pytest.skip("this machine has a GPU")
    clock = Clock(T0)
    monitor = GPUMonitor(disk_path=tmp_path, clock=clock)
    for _ in range(3):
        snapshot = monitor.sample()
        clock.now += 5
    assert snapshot["sampled_at"] == T0 + 10
    assert snapshot["system"]["disk"] == {
        "path": str(tmp_path),
        "total_bytes": shutil.disk_usage(tmp_path).total,
        "free_bytes": snapshot["system"]["disk"]["free_bytes"],
    }
    history = monitor.history("1h")
    assert history["gpus"] == []
    assert [p["t"] for p in history["system"]] == [T0, T0 + 5, T0 + 10]
    assert all(p["memory_used_mib"] > 0 for p in history["system"])
    assert GPUMonitor(disk_path=tmp_path / "missing").sample()["system"]["disk"] is None


def test_history_route(serve) -> None:
    server = serve(admin_api_keys=f"ops:{ADMIN_KEY}")
    with server.client(ADMIN_KEY) as http:
        hour = http.get("/api/admin/monitor/history").json()
        assert hour["range"] == "1h" and hour["step_s"] == 5
        assert len(hour["system"]) >= 1  # the monitor samples once at start
        assert hour["gpus"] == []  # GPUs are hidden from this test
        assert http.get("/api/admin/monitor/history", params={"range": "24h"}).json()["step_s"] == 240
        wrong = http.get("/api/admin/monitor/history", params={"range": "2h"})
        assert wrong.status_code == 400 and wrong.json()["error"]["param"] == "range"
