"""The ASR slot on a GPU: the tiny Canary `.nemo` loaded on cuda:0 through the admin API, used, unloaded.

The wrapper's real restore path runs on CUDA. The GPU test machine has no FFmpeg, which the gateway
needs to decode uploads: there `transcribe_batch` is checked with in-memory arrays, and the upload
route only where `ffmpeg` is installed. Text is noise (random weights), so types and counts are checked.
"""

from __future__ import annotations

import gc
import importlib.util
import shutil
import time
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any, cast

import numpy as np
import pytest

from app.config import Settings
from app.models.canary import CanaryASRModel
from app.models.types import TranscribeOptions, Transcript
from tests.audio_files import reference_signal, write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server

pytestmark = [
    pytest.mark.gpu,
    pytest.mark.skipif(importlib.util.find_spec("nemo") is None, reason="needs NeMo (the asr extra)"),
]

LOAD_S = 300  # NeMo's first import took 23 s on the GPU test machine


@pytest.fixture(scope="module")
def gpu_asr(tmp_path_factory: pytest.TempPathFactory, tiny_canary_nemo: Path) -> Iterator[LiveServer]:
    """A gateway with only the canary slot, nothing loaded until the admin API asks."""
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path_factory.mktemp("model_cache"),
        canary_model_id=str(tiny_canary_nemo),
        enabled_models=["canary"],
        openai_api_keys=f"clientA:{CLIENT_KEY}",
        admin_api_keys=f"ops:{ADMIN_KEY}",
        log_level="warning",
    )
    with live_server(settings) as server:
        yield server


@pytest.fixture(scope="module")
def loaded(gpu_asr: LiveServer) -> dict[str, Any]:
    """The canary slot's status after `POST /api/admin/models/canary/load` with GPU 0."""
    with gpu_asr.client(ADMIN_KEY) as http:
        response = http.post("/api/admin/models/canary/load", json={"gpu_device_ids": [0]})
    assert response.status_code == 202, response.text
    return gpu_asr.wait_for_state("canary", "loaded", timeout=LOAD_S)


def wrapper(server: LiveServer) -> CanaryASRModel:
    return cast(CanaryASRModel, server.state.registry.get("canary"))


def noise(seconds: float, seed: int) -> np.ndarray:
    return (0.1 * np.random.default_rng(seed).standard_normal(int(seconds * 16000))).astype(np.float32)


def test_load_on_cuda_through_the_admin_api(gpu_asr: LiveServer, loaded: dict[str, Any]) -> None:
    import torch

    assert loaded["devices"] == ["cuda:0"]
    server = loaded["server"]
    assert server["device"] == "cuda:0" and server["model_class"] == "EncDecMultiTaskModel"
    assert server["multitask"] is True and server["sample_rate"] == 16000
    assert server["languages"] == ["de", "en", "es", "fr"]
    assert server["prompt_format"] == "canary2" and server["timestamp_aligner"] is False
    bf16 = torch.cuda.is_bf16_supported()
    assert server["dtype"] == ("bfloat16 (autocast, float32 weights)" if bf16 else "float32")
    assert server["load_seconds"] > 0
    with gpu_asr.client(ADMIN_KEY) as http:
        budget = http.get("/api/admin/status").json()["gpu_budget"][0]
    held = server["gpu_memory_held_mib"]["cuda:0"]
    assert budget["models"] == [{"key": "canary", "kind": "asr", "mib": held, "basis": "measured"}]
    parameters = list(wrapper(gpu_asr).model.parameters())
    assert parameters and all(p.device == torch.device("cuda", 0) for p in parameters)
    assert all(p.dtype == torch.float32 for p in parameters)


def test_transcribe_batch_on_cuda(gpu_asr: LiveServer, loaded: dict[str, Any]) -> None:
    audios = [noise(seconds, seed) for seed, seconds in enumerate((0.5, 2.0, 5.0, 3.3))]
    model = wrapper(gpu_asr)
    plain = model.transcribe_batch(audios, TranscribeOptions(source_lang="en"))
    assert len(plain) == len(audios) and all(isinstance(t, Transcript) and isinstance(t.text, str) for t in plain)
    translated = model.transcribe_batch(audios[:2], TranscribeOptions(source_lang="en", target_lang="de"))
    assert len(translated) == 2 and all(isinstance(t.text, str) for t in translated)
    # This Canary has no timestamp aligner: asking for timestamps gives transcripts without them.
    timed = model.transcribe_batch(audios[:1], TranscribeOptions(source_lang="fr", timestamps=True))
    assert len(timed) == 1 and all(0 <= w.start <= w.end <= 0.5 + 1e-6 for w in timed[0].words)


@pytest.mark.skipif(shutil.which("ffmpeg") is None, reason="decoding uploads needs FFmpeg")
def test_upload_is_transcribed_on_cuda(gpu_asr: LiveServer, loaded: dict[str, Any], tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "speech.wav", reference_signal(16000), 16000)
    with gpu_asr.client(CLIENT_KEY) as http:
        for route, fields in (
            ("/v1/audio/transcriptions", {"model": "whisper-1", "response_format": "json"}),
            ("/api/audio/transcribe", {"model": "canary", "language": "de"}),
        ):
            with wav.open("rb") as handle:
                response = http.post(route, data=fields, files={"file": (wav.name, handle, "audio/wav")})
            assert response.status_code == 200, response.text
            assert isinstance(response.json()["text"], str)
        batching = http.get("/api/admin/status", headers={"Authorization": f"Bearer {ADMIN_KEY}"}).json()["batching"]
    assert batching["canary"]["items_run"] >= 2


def test_unload_returns_gpu_memory(gpu_asr: LiveServer, loaded: dict[str, Any]) -> None:
    """Runs last in this module: the slot stays unloaded."""
    import torch

    model = wrapper(gpu_asr)
    nemo_model = weakref.ref(model.model)
    weights = sum(p.numel() * p.element_size() for p in model.model.parameters())
    # Fill the caching allocator (as serving does), so that unloading has memory to give back to the driver.
    model.transcribe_batch([noise(20.0, seed) for seed in range(16)], TranscribeOptions(source_lang="en"))
    allocated_loaded = torch.cuda.memory_allocated(0)
    with gpu_asr.client(ADMIN_KEY) as http:
        assert http.post("/api/admin/models/canary/unload").status_code == 202
        deadline = time.monotonic() + 60
        while (status := http.get("/api/admin/models/canary").json())["state"] in ("loaded", "unloading"):
            assert time.monotonic() < deadline, status
            time.sleep(0.1)
    assert status["state"] == "downloaded" and status["devices"] == [], status
    before = status["server"]["gpu_memory_used_mib_before_unload"]
    after = status["server"]["gpu_memory_used_mib_after_unload"]
    assert set(before) == set(after) == {"cuda:0"}
    assert after["cuda:0"] < before["cuda:0"], status["server"]
    assert status["memory_leak_suspected"] is False, status["server"]
    # The model itself is gone, not only the allocator's cache.
    gc.collect()
    assert model.model is None and nemo_model() is None
    allocated_after = torch.cuda.memory_allocated(0)
    assert allocated_after <= allocated_loaded - weights, (allocated_loaded, allocated_after, weights)
