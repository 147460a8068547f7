"""The tests not marked gpu run with the GPUs hidden, and `pytest -m gpu` sees them (tests/gpu_visibility.py)."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest
import torch

from app.infra import gpu_monitor
from tests.gpu_visibility import selects_only_gpu_tests

ROOT = Path(__file__).resolve().parent.parent

FAKE_PYNVML = '''
"""NVML as a driver with two GPUs answers it."""
from types import SimpleNamespace

NVML_TEMPERATURE_GPU = 0


def nvmlInit(): pass
def nvmlDeviceGetCount(): return 2
def nvmlDeviceGetHandleByIndex(index): return index
def nvmlDeviceGetMemoryInfo(handle): return SimpleNamespace(used=2**30, total=80 * 2**30)
def nvmlDeviceGetName(handle): return b"Fake H200"
def nvmlDeviceGetUUID(handle): return f"GPU-fake-{handle}"
def nvmlDeviceGetUtilizationRates(handle): return SimpleNamespace(gpu=10)
def nvmlDeviceGetTemperature(handle, sensor): return 40
def nvmlDeviceGetComputeRunningProcesses(handle): return []
'''


def test_this_run_hides_the_gpus() -> None:
    assert os.environ["CUDA_VISIBLE_DEVICES"] == ""
    assert torch.cuda.device_count() == 0 and not torch.cuda.is_available()
    assert gpu_monitor.visible_gpu_count() == 0 and gpu_monitor.sample_gpus() == []


@pytest.mark.parametrize(
    ("markexpr", "only_gpu"),
    [
        ("", False),
        ("gpu", True),
        (" gpu ", True),
        ("not gpu", False),
        ("vllm", False),
        ("gpu and vllm", True),
        ("gpu and not vllm", True),
        ("gpu or vllm", False),
        ("(gpu or vllm) and not vllm", True),
        ("not (not gpu)", True),
    ],
)
def test_only_a_run_of_gpu_tests_sees_the_gpus(markexpr: str, only_gpu: bool) -> None:
    assert selects_only_gpu_tests(markexpr) is only_gpu


def test_the_gateway_sees_no_gpu_through_nvml_when_they_are_hidden(tmp_path: Path) -> None:
    """A driver with two GPUs (a fake NVML): the monitor sees both, the one named, or none when the list is empty."""
    (tmp_path / "pynvml.py").write_text(FAKE_PYNVML)
    script = textwrap.dedent(
        """
        import importlib, json, os
        seen = {}
        for visible in (None, "1", ""):
            if visible is None:
                os.environ.pop("CUDA_VISIBLE_DEVICES", None)
            else:
                os.environ["CUDA_VISIBLE_DEVICES"] = visible
            from app.infra import gpu_monitor
            gpu_monitor = importlib.reload(gpu_monitor)  # it reads the variable once, on import
            seen[str(visible)] = [gpu_monitor.visible_gpu_count(), [g["uuid"] for g in gpu_monitor.sample_gpus()]]
        print(json.dumps(seen))
        """
    )
    path = os.pathsep.join([str(tmp_path), str(ROOT / "backend"), os.environ.get("PYTHONPATH", "")])
    done = subprocess.run(
        [sys.executable, "-c", script],
        env={**os.environ, "PYTHONPATH": path},
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout) == {
        "None": [2, ["GPU-fake-0", "GPU-fake-1"]],
        "1": [1, ["GPU-fake-1"]],
        "": [0, []],
    }


def test_pytest_m_gpu_keeps_the_gpus_and_other_runs_hide_them(tmp_path: Path) -> None:
    """The plugin in two fresh pytest processes, on a machine whose operator shows GPU 3 only."""
    (tmp_path / "pytest.ini").write_text("[pytest]\nmarkers =\n    gpu: a GPU test\n")
    (tmp_path / "test_seen.py").write_text(
        textwrap.dedent(
            """
            import os, pytest

            @pytest.mark.gpu
            def test_gpu():
                assert os.environ["CUDA_VISIBLE_DEVICES"] == "3"

            def test_cpu():
                assert os.environ["CUDA_VISIBLE_DEVICES"] == ""
            """
        )
    )
    env = {
        **os.environ,
        "CUDA_VISIBLE_DEVICES": "3",
        "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")]),
        "PYTEST_DISABLE_PLUGIN_AUTOLOAD": "1",
    }

    def pytest_run(*args: str) -> str:
        command = [sys.executable, "-m", "pytest", "-p", "tests.gpu_visibility", "-p", "no:cacheprovider", "-q"]
        done = subprocess.run(
            [*command, *args], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=120, check=False
        )
        assert done.returncode == 0, done.stdout + done.stderr
        return done.stdout.strip().splitlines()[-1]

    assert pytest_run("-m", "gpu").startswith("1 passed, 1 deselected")
    assert pytest_run("-m", "not gpu").startswith("1 passed, 1 deselected")
    assert pytest_run("test_seen.py::test_cpu").startswith("1 passed")
