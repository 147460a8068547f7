"""The pyannote wrapper and the diarization service on a real (tiny, random-weight) pyannote 4 pipeline."""

from __future__ import annotations

import asyncio
import os
import shutil
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import huggingface_hub.constants
import numpy as np
import pytest
import yaml

from app.config import Settings
from app.errors import InvalidRequestError, ModelUnavailableError, RateLimitError
from app.infra.audio_io import DecodedAudio
from app.models.pyannote_model import PYANNOTE_ALLOW_PATTERNS, PyannoteDiarizationModel
from app.models.types import Diarization, DiarizeOptions, SpeakerTurn
from app.services.diarization_service import DiarizationService
from app.slot_options import PyannoteOptions, SlotConfig
from app.slots import SLOTS
from tests.fake_hub import COMMIT, FakeHub

RATE = 16000


def two_voices(seconds: float) -> np.ndarray:
    """Two alternating 'voices' (harmonic tones at 130 and 290 Hz in syllable-like bursts) with short pauses."""
    t = np.arange(int(seconds * RATE)) / RATE
    pitch = np.where((t // 2.0) % 2 == 0, 130.0, 290.0)
    voice = sum(np.sin(2 * np.pi * k * pitch * t) / k for k in range(1, 6))
    bursts = (np.sin(2 * np.pi * 3.0 * t) > -0.3).astype(np.float64)
    pauses = ((t % 2.0) > 0.2).astype(np.float64)
    return (0.2 * voice * bursts * pauses).astype(np.float32)


def decoded(seconds: float) -> DecodedAudio:
    samples = two_voices(seconds)
    return DecodedAudio(samples, RATE, len(samples) / RATE, RATE, 1)


def make_wrapper(model_id: Path | str, cache: Path, **overrides: Any) -> PyannoteDiarizationModel:
    settings = Settings(_env_file=None, pyannote_model_id=str(model_id), model_cache_dir=cache, **overrides)
    return PyannoteDiarizationModel(settings, lambda: None)


def forbid_hub(monkeypatch: pytest.MonkeyPatch) -> list:
    """Fail (and record) any Hub request: pyannote's downloads and the gateway's."""
    import pyannote.audio.utils.hf_hub

    import app.infra.hub_download

    requests: list = []

    def no_hub(*args: Any, **kwargs: Any) -> None:
        requests.append((args, kwargs))
        raise AssertionError(f"Hub request {args} {kwargs}")

    monkeypatch.setattr(pyannote.audio.utils.hf_hub, "hf_hub_download", no_hub)
    monkeypatch.setattr(app.infra.hub_download, "download_snapshot", no_hub)
    return requests


def record_telemetry(monkeypatch: pytest.MonkeyPatch) -> list[bool]:
    """Replace pyannote's telemetry calls (nothing is sent) by a record of whether telemetry was on."""
    import pyannote.audio.core.model
    import pyannote.audio.core.pipeline
    from pyannote.audio.telemetry.metrics import is_metrics_enabled

    enabled: list[bool] = []

    def track(*args: Any, **kwargs: Any) -> None:
        enabled.append(is_metrics_enabled())

    for module, name in [
        (pyannote.audio.core.pipeline, "track_pipeline_init"),
        (pyannote.audio.core.pipeline, "track_pipeline_apply"),
        (pyannote.audio.core.model, "track_model_init"),
    ]:
        monkeypatch.setattr(module, name, track)
    return enabled


def load_module_wrapper(wrapper: PyannoteDiarizationModel, environ: str | None) -> Iterator[tuple]:
    """Load with the Hub forbidden; pyannote's telemetry stays recorded (never sent) until the module ends."""
    with pytest.MonkeyPatch.context() as monkeypatch:
        if environ is None:
            monkeypatch.delenv("PYANNOTE_METRICS_ENABLED", raising=False)
        else:
            monkeypatch.setenv("PYANNOTE_METRICS_ENABLED", environ)
        telemetry = record_telemetry(monkeypatch)
        with pytest.MonkeyPatch.context() as loading:
            hub = forbid_hub(loading)
            asyncio.run(wrapper.ensure_loaded())
        seen = {"hub": hub, "telemetry": list(telemetry), "environ": os.environ.get("PYANNOTE_METRICS_ENABLED")}
        yield wrapper, seen
        asyncio.run(wrapper.unload())


@pytest.fixture(scope="module")
def loaded(tiny_pyannote_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """One replica, default settings (telemetry off)."""
    yield from load_module_wrapper(make_wrapper(tiny_pyannote_dir, tmp_path_factory.mktemp("cache")), None)


@pytest.fixture(scope="module")
def pair(tiny_pyannote_dir: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple]:
    """Two replicas, telemetry opted in."""
    cache = tmp_path_factory.mktemp("cache")
    wrapper = make_wrapper(tiny_pyannote_dir, cache, diarization_replicas=2, pyannote_telemetry=True)
    yield from load_module_wrapper(wrapper, "0")


def spy(monkeypatch: pytest.MonkeyPatch, obj: Any, name: str, before: Callable[..., None] | None = None) -> list:
    """Record the calls of `obj.name` (arguments, thread) while still running the real method."""
    real = getattr(obj, name)
    calls: list[tuple[tuple, dict, str]] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        calls.append((args, kwargs, threading.current_thread().name))
        if before is not None:
            before(*args, **kwargs)
        return real(*args, **kwargs)

    monkeypatch.setattr(obj, name, recording)
    return calls


def check_diarization(result: Diarization, duration: float) -> None:
    assert isinstance(result, Diarization)
    for turn in result.turns + result.exclusive:
        assert isinstance(turn, SpeakerTurn)
        assert 0.0 <= turn.start < turn.end <= duration, (turn, duration)
        assert turn.speaker.startswith("SPEAKER_")
    for turns in (result.turns, result.exclusive):
        assert turns == sorted(turns, key=lambda t: (t.start, t.end, t.speaker))
    for previous, turn in zip(result.exclusive, result.exclusive[1:], strict=False):
        assert previous.end <= turn.start, (previous, turn)
    assert result.speakers == sorted({t.speaker for t in result.turns + result.exclusive})


# --- identity -------------------------------------------------------------------------------------
def test_identity_and_one_gpu_only(tmp_path: Path) -> None:
    wrapper = make_wrapper("pyannote/speaker-diarization-community-1", tmp_path)
    assert wrapper.served_names == ["pyannote/speaker-diarization-community-1", "pyannote"]
    assert wrapper.kind == "diarization" and wrapper.sample_rate == 16000
    assert wrapper.status()["state"] == "absent"
    assert wrapper.allow_patterns == PYANNOTE_ALLOW_PATTERNS
    assert set(PYANNOTE_ALLOW_PATTERNS) == {"*.bin", "*.ckpt", "*.safetensors", "*.yaml", "*.json", "*.npz"}
    # A second diarization slot (from a models file) answers to its own names only.
    spec = next(s for s in SLOTS if s.key == "pyannote")
    slot = SlotConfig("diar", spec, PyannoteOptions(model_id="org/other-pipeline", model_aliases=["x"]), "file")
    other = PyannoteDiarizationModel(Settings(_env_file=None, model_cache_dir=tmp_path), lambda: None, slot)
    assert other.served_names == ["org/other-pipeline", "x", "diar"]
    assert other.setting_name("model_id") == "`model_id` of slot 'diar' in MODELS_CONFIG"
    with pytest.raises(InvalidRequestError, match="one GPU") as caught:
        wrapper.select_devices([0, 1])
    assert caught.value.param == "gpu_device_ids"


# --- loading --------------------------------------------------------------------------------------
def test_loads_on_cpu_with_metadata_offline_and_without_telemetry(loaded: tuple, tiny_pyannote_dir: Path) -> None:
    wrapper, seen = loaded
    status = wrapper.status()
    assert status["state"] == "loaded" and status["devices"] == ["cpu"] and status["source"] == "local"
    server = status["server"]
    assert server["pipeline_class"] == "SpeakerDiarization" and server["clustering"] == "VBxClustering"
    assert server["segmentation"]["class"] == "PyanNet" and server["segmentation"]["folder"] == "segmentation"
    assert server["embedding"]["class"] == "TinyWeSpeakerResNet" and server["embedding"]["folder"] == "embedding"
    assert server["segmentation"]["parameters"] > 0 and server["embedding"]["parameters"] > 0
    assert server["sample_rate"] == 16000 and server["device"] == "cpu" and server["replicas"] == 1
    assert "CPU" in server["note"] and server["telemetry"] is False
    assert server["path"] == str(tiny_pyannote_dir.resolve()) and server["pyannote_audio"].startswith("4.")
    assert wrapper.replicas == 1
    assert seen["hub"] == []
    assert seen["environ"] == "0"  # pyannote's default (on) applies only while the variable is unset
    assert seen["telemetry"] and not any(seen["telemetry"])  # every model and pipeline init found it off


def test_diarizes_two_voices_in_memory(loaded: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper, _ = loaded
    pipeline = wrapper._pipelines[0]
    calls = spy(monkeypatch, pipeline, "apply")
    samples = two_voices(10.0)

    result = wrapper.diarize(samples, RATE, DiarizeOptions())

    check_diarization(result, 10.0)
    assert result.turns and result.exclusive and result.speakers
    [(args, kwargs, _)] = calls
    file = args[0]
    assert "audio" not in file and file["sample_rate"] == RATE  # no temporary file: the samples themselves
    assert tuple(file["waveform"].shape) == (1, len(samples)) and str(file["waveform"].dtype) == "torch.float32"
    assert np.array_equal(file["waveform"][0].numpy(), samples)
    assert (kwargs["num_speakers"], kwargs["min_speakers"], kwargs["max_speakers"]) == (None, None, None)


def test_speaker_counts_reach_pyannote(loaded: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper, _ = loaded
    calls = spy(monkeypatch, wrapper._pipelines[0], "apply")
    samples = two_voices(6.0)

    one = wrapper.diarize(samples, RATE, DiarizeOptions(num_speakers=1))
    bounded = wrapper.diarize(samples, RATE, DiarizeOptions(min_speakers=2, max_speakers=3))

    check_diarization(one, 6.0)
    check_diarization(bounded, 6.0)
    assert len(one.speakers) <= 1 and len(bounded.speakers) <= 3
    assert [(c[1]["num_speakers"], c[1]["min_speakers"], c[1]["max_speakers"]) for c in calls] == [
        (1, None, None),
        (None, 2, 3),
    ]


def test_short_and_empty_audio(loaded: tuple) -> None:
    wrapper, _ = loaded
    # pyannote pads a file shorter than its window and reports turns up to the window's end: clipped here.
    short = wrapper.diarize(two_voices(0.3), RATE, DiarizeOptions())
    check_diarization(short, 0.3)
    assert wrapper.diarize(np.zeros(0, dtype=np.float32), RATE, DiarizeOptions()) == Diarization([], [], [])


def test_two_replicas_are_independent_and_telemetry_opt_in(pair: tuple) -> None:
    wrapper, seen = pair
    first, second = wrapper._pipelines
    assert wrapper.replicas == 2 and wrapper.status()["server"]["replicas"] == 2
    assert first is not second
    assert first._segmentation.model is not second._segmentation.model
    assert first._embedding.model_ is not second._embedding.model_
    pointers = {p.data_ptr() for p in first._segmentation.model.parameters()}
    assert not pointers & {p.data_ptr() for p in second._segmentation.model.parameters()}
    assert seen["environ"] == "1" and wrapper.status()["server"]["telemetry"] is True
    assert seen["telemetry"] and all(seen["telemetry"]) and seen["hub"] == []
    check_diarization(wrapper.diarize(two_voices(3.0), RATE, DiarizeOptions(), replica=1), 3.0)
    with pytest.raises(ValueError, match="replica 2 does not exist"):
        wrapper.diarize(two_voices(1.0), RATE, DiarizeOptions(), replica=2)


def broken_folder(source: Path, target: Path, case: str) -> tuple[Path, str]:
    shutil.copytree(source, target)
    if case == "no config":
        (target / "config.yaml").unlink()
        return target, f"{target} holds no config.yaml"
    if case == "missing model":
        (target / "embedding" / "pytorch_model.bin").unlink()
        return target, f"refers to $model/embedding but {target / 'embedding' / 'pytorch_model.bin'} is missing"
    if case == "missing plda":
        (target / "plda" / "plda.npz").unlink()
        return target, f"refers to $model/plda but {target / 'plda' / 'plda.npz'} is missing"
    config = yaml.safe_load((target / "config.yaml").read_text())
    if case == "hub model":
        config["pipeline"]["params"]["segmentation"] = "pyannote/segmentation-3.0"
        message = "takes its segmentation from 'pyannote/segmentation-3.0', not from its own folder"
    else:  # left to pyannote's default, which is a Hub checkpoint
        del config["pipeline"]["params"]["embedding"]
        message = "takes its embedding from 'the Hub default'"
    (target / "config.yaml").write_text(yaml.safe_dump(config))
    return target, message


@pytest.mark.parametrize("case", ["no config", "missing model", "missing plda", "hub model", "default model"])
def test_incomplete_folder_is_a_clear_load_error_without_hub(
    case: str, tiny_pyannote_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder, message = broken_folder(tiny_pyannote_dir, tmp_path / "pipeline", case)
    wrapper = make_wrapper(folder, tmp_path / "cache")
    hub = forbid_hub(monkeypatch)
    with pytest.raises(ModelUnavailableError) as caught:
        asyncio.run(wrapper.ensure_loaded())
    assert caught.value.code == "load_failed" and str(tmp_path) not in caught.value.message  # admins see the path
    status = wrapper.status()
    assert status["state"] == "error" and message in status["error"]
    assert hub == []


def test_nonexistent_folder_is_not_taken_for_a_hub_id(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    missing = tmp_path / "no" / "such-pipeline"
    wrapper = make_wrapper(missing, tmp_path / "cache")
    hub = forbid_hub(monkeypatch)
    with pytest.raises(ModelUnavailableError) as caught:
        asyncio.run(wrapper.ensure_loaded())
    assert caught.value.code == "model_path_missing"
    assert "pipeline folder does not exist" in caught.value.message and str(tmp_path) not in caught.value.message
    assert (
        wrapper.status()["state"] == "error"
        and f"the pipeline folder {missing} does not exist" in wrapper.status()["error"]
    )
    assert hub == []


def test_hub_repo_downloads_every_artifact_and_loads(
    tiny_pyannote_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    monkeypatch.setenv("PYANNOTE_METRICS_ENABLED", "0")
    nested = {
        str(p.relative_to(tiny_pyannote_dir)): p.read_bytes()
        for p in tiny_pyannote_dir.rglob("*")
        if p.is_file() and p.parent != tiny_pyannote_dir
    }
    unwanted = {"README.md": b"# card", "media/demo.wav": b"RIFF"}
    with FakeHub("acme/tiny-pyannote", tiny_pyannote_dir, extra_files={**nested, **unwanted}) as hub:
        wrapper = make_wrapper("acme/tiny-pyannote", tmp_path, hf_endpoint=hub.url)
        asyncio.run(wrapper.ensure_loaded())
    snapshot = tmp_path / "models--acme--tiny-pyannote" / "snapshots" / COMMIT
    files = sorted(str(p.relative_to(snapshot)) for p in snapshot.rglob("*") if p.is_file())
    assert files == sorted(["config.yaml", *nested])
    assert wrapper.status()["state"] == "loaded" and wrapper.status()["server"]["path"] == str(snapshot)
    asyncio.run(wrapper.unload())


# --- the service ----------------------------------------------------------------------------------
def test_concurrent_callers_get_their_own_results(pair: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper, _ = pair
    calls = spy(monkeypatch, wrapper, "diarize")
    lengths = [1.5, 4.0, 7.0]

    async def main() -> tuple[list[Diarization], dict]:
        service = DiarizationService(wrapper.settings)
        try:
            results = await asyncio.gather(*(service.diarize(wrapper, decoded(s), DiarizeOptions()) for s in lengths))
            return list(results), service.stats()
        finally:
            await service.stop()

    results, stats = asyncio.run(main())

    for result, seconds in zip(results, lengths, strict=True):
        check_diarization(result, seconds)
    assert max(t.end for t in results[2].turns) > 4.0  # the 7 s file's turns, not a shorter file's
    assert stats == {wrapper.key: {**stats[wrapper.key], "runs": 3, "running": 0, "waiting": 0, "replicas": 2}}
    assert sorted(len(args[0]) for args, _, _ in calls) == [int(s * RATE) for s in lengths]
    assert {args[3] for args, _, _ in calls} <= {0, 1}
    assert all(thread != threading.main_thread().name for _, _, thread in calls)  # never on the event loop


@contextmanager
def held_pipeline(wrapper: PyannoteDiarizationModel, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple]:
    """Real diarize calls that wait for `release` before running; the calls are recorded."""
    release = threading.Event()
    calls = spy(monkeypatch, wrapper, "diarize", before=lambda *a, **k: release.wait(30))
    try:
        yield release, calls
    finally:
        release.set()


def stat(service: DiarizationService, name: str) -> int | float:
    return service.stats().get("pyannote", {}).get(name, 0)


async def until(condition: Callable[[], bool]) -> None:
    deadline = time.monotonic() + 10
    while not condition():
        assert time.monotonic() < deadline, "timed out"
        await asyncio.sleep(0.01)


def test_full_queue_answers_429_with_retry_after(loaded: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper, _ = loaded
    settings = wrapper.settings.model_copy(update={"diarization_queue_size": 1})

    async def main() -> RateLimitError:
        service = DiarizationService(settings)
        with held_pipeline(wrapper, monkeypatch) as (release, _):
            running = asyncio.ensure_future(service.diarize(wrapper, decoded(1.0), DiarizeOptions()))
            await until(lambda: stat(service, "running") == 1)
            waiting = asyncio.ensure_future(service.diarize(wrapper, decoded(2.0), DiarizeOptions()))
            await until(lambda: stat(service, "waiting") == 1)
            with pytest.raises(RateLimitError) as caught:
                await service.diarize(wrapper, decoded(1.0), DiarizeOptions())
            release.set()
            check_diarization(await running, 1.0)
            check_diarization(await waiting, 2.0)
        await service.stop()
        return caught.value

    error = asyncio.run(main())
    assert error.status_code == 429 and error.code == "queue_full" and "DIARIZATION_QUEUE_SIZE" in error.message
    assert int(error.headers["Retry-After"]) >= 1


def test_cancelled_caller_never_reaches_the_pipeline(loaded: tuple, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper, _ = loaded

    async def main() -> dict:
        service = DiarizationService(wrapper.settings)
        with held_pipeline(wrapper, monkeypatch) as (release, calls):
            first = asyncio.ensure_future(service.diarize(wrapper, decoded(1.0), DiarizeOptions()))
            await until(lambda: len(calls) == 1)
            gone = asyncio.ensure_future(service.diarize(wrapper, decoded(2.0), DiarizeOptions()))
            await until(lambda: stat(service, "waiting") == 1)
            gone.cancel()
            await until(gone.done)
            assert stat(service, "waiting") == 0  # it left the queue at once
            release.set()
            check_diarization(await first, 1.0)
            third = await service.diarize(wrapper, decoded(0.5), DiarizeOptions())
            check_diarization(third, 0.5)
            assert [len(args[0]) for args, _, _ in calls] == [RATE, RATE // 2]  # never the 2 s file
            assert gone.cancelled()
        stats = service.stats()["pyannote"]
        await service.stop()
        return stats

    assert asyncio.run(main())["runs"] == 2
