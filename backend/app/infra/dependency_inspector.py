"""What the inference stack is made of, and what is wrong with it, in plain words."""

from __future__ import annotations

import importlib
import importlib.metadata
from typing import Any

OPTIONAL_PACKAGES = {
    "vllm": "vllm",
    "transformers": "transformers",
    "nemo": "nemo_toolkit",
    "pyannote.audio": "pyannote.audio",
}


def _version(distribution: str) -> str | None:
    try:
        return importlib.metadata.version(distribution)
    except importlib.metadata.PackageNotFoundError:
        return None


def inspect_dependencies() -> dict[str, Any]:
    """Versions and CUDA builds of torch & co. Imports torch (cheap once loaded; call off the loop)."""
    report: dict[str, Any] = {"packages": {}, "problems": []}
    problems: list[str] = report["problems"]
    try:
        torch = importlib.import_module("torch")
    except ImportError:
        report["torch"] = None
        problems.append("torch is not installed: no model can load (install the 'cpu' or 'gpu' extra)")
        torch = None
    if torch is not None:
        cuda_built = torch.version.cuda
        cuda_available = torch.cuda.is_available()
        report["torch"] = {
            "version": torch.__version__,
            "cuda_build": cuda_built,
            "cuda_available": cuda_available,
            "device_count": torch.cuda.device_count() if cuda_available else 0,
        }
        if cuda_built is None:
            problems.append("torch is a CPU-only build: models run on the CPU only")
        elif not cuda_available:
            problems.append(f"torch is built for CUDA {cuda_built} but no GPU/driver is usable: CPU only")
    for name in ("torchvision", "torchaudio"):
        version = _version(name)
        report["packages"][name] = version
        if torch is not None and version is not None:
            torch_cuda = "+cpu" not in torch.__version__
            if torch_cuda and "+cpu" in version:
                problems.append(f"{name} {version} is a CPU build while torch {torch.__version__} is not")
    for label, distribution in OPTIONAL_PACKAGES.items():
        report["packages"][label] = _version(distribution)
    if report["packages"]["vllm"] is None and report.get("torch") and report["torch"]["cuda_available"]:
        problems.append("vllm is not installed: the LLM runs on transformers (install the 'gpu' extra)")
    return report
