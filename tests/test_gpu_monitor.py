"""The GPU monitor on a machine without GPU, and on a real GPU when there is one."""

from __future__ import annotations

import pytest

from app.services import gpu_monitor
from app.services.gpu_monitor import GPUMonitor


def test_without_gpu_it_degrades_to_no_gpu() -> None:
    if gpu_monitor.visible_gpu_count():
        pytest.skip("this machine has a GPU")
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
