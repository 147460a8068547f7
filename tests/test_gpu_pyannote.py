"""The diarization slot on a GPU: the tiny pyannote pipeline loaded on cuda:0 through the wrapper, used, unloaded.

The GPU test machine has no FFmpeg: audio goes in as in-memory arrays, as the gateway hands it to pyannote
anyway. Turns are noise (random weights), so their form is checked, not their content.
"""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import weakref
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.config import Settings
from app.models.pyannote_model import PyannoteDiarizationModel
from app.models.types import DiarizeOptions
from app.services.diarization_service import DiarizationService
from tests.test_pyannote_model import RATE, check_diarization, decoded, two_voices


def has_pyannote() -> bool:
    try:
        return importlib.util.find_spec("pyannote.audio") is not None
    except ModuleNotFoundError:
        return False


pytestmark = [pytest.mark.gpu, pytest.mark.skipif(not has_pyannote(), reason="needs pyannote.audio 4")]


@pytest.fixture(scope="module")
def on_gpu(tiny_pyannote_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[PyannoteDiarizationModel]:
    settings = Settings(
        _env_file=None,
        pyannote_model_id=str(tiny_pyannote_dir),
        model_cache_dir=tmp_path_factory.mktemp("cache"),
        diarization_replicas=2,
    )
    wrapper = PyannoteDiarizationModel(settings, lambda: None)
    asyncio.run(wrapper.ensure_loaded([0]))
    yield wrapper
    asyncio.run(wrapper.unload())


def test_loads_on_cuda(on_gpu: PyannoteDiarizationModel) -> None:
    import torch

    status = on_gpu.status()
    assert status["state"] == "loaded" and status["devices"] == ["cuda:0"]
    server = status["server"]
    assert server["device"] == "cuda:0" and server["replicas"] == 2 and "note" not in server
    for pipeline in on_gpu._pipelines:
        assert pipeline.device == torch.device("cuda:0")
        for model in (pipeline._segmentation.model, pipeline._embedding.model_):
            assert all(p.device == torch.device("cuda", 0) for p in model.parameters())


def test_diarize_on_cuda(on_gpu: PyannoteDiarizationModel) -> None:
    check_diarization(on_gpu.diarize(two_voices(30.0), RATE, DiarizeOptions()), 30.0)
    check_diarization(on_gpu.diarize(two_voices(10.0), RATE, DiarizeOptions(num_speakers=2), replica=1), 10.0)
    lengths = [3.0, 12.0, 25.0, 7.0]

    async def main() -> list:
        service = DiarizationService(on_gpu.settings)
        try:
            return list(await asyncio.gather(*(service.diarize(on_gpu, decoded(s), DiarizeOptions()) for s in lengths)))
        finally:
            await service.stop()

    for result, seconds in zip(asyncio.run(main()), lengths, strict=True):
        check_diarization(result, seconds)


def test_unload_returns_gpu_memory(on_gpu: PyannoteDiarizationModel) -> None:
    """Runs last in this module: the slot stays unloaded."""
    import torch

    # Fill the caching allocator (as serving does), so that unloading has memory to give back to the driver.
    on_gpu.diarize(two_voices(180.0), RATE, DiarizeOptions())
    pipelines = [weakref.ref(p) for p in on_gpu._pipelines]
    reserved = torch.cuda.memory_reserved(0)
    asyncio.run(on_gpu.unload())
    status = on_gpu.status()
    assert status["state"] == "downloaded" and status["devices"] == []
    before = status["server"]["gpu_memory_used_mib_before_unload"]
    after = status["server"]["gpu_memory_used_mib_after_unload"]
    assert set(before) == set(after) == {"cuda:0"}
    assert after["cuda:0"] < before["cuda:0"], status["server"]
    given_back = status["server"]["gpu_memory_given_back_mib"]["cuda:0"]
    assert given_back >= status["server"]["gpu_memory_held_mib"]["cuda:0"] and not status["memory_leak_suspected"]
    gc.collect()
    assert on_gpu._pipelines == [] and all(ref() is None for ref in pipelines)
    assert torch.cuda.memory_reserved(0) < reserved
