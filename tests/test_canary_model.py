"""The NeMo ASR wrapper on real (tiny, random-weight) `.nemo` models, and the splitting of long audio."""

from __future__ import annotations

import asyncio
import gc
import importlib.util
import shutil
import weakref
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import huggingface_hub.constants
import numpy as np
import pytest

from app.config import Settings
from app.errors import InvalidRequestError, ModelUnavailableError
from app.models.canary import CanaryASRModel
from app.models.types import TimedText, TranscribeOptions, Transcript
from app.services.audio_chunking import split_for_model
from tests.fake_hub import COMMIT, FakeHub
from tests.tiny_models import build_tiny_canary

needs_nemo = pytest.mark.skipif(importlib.util.find_spec("nemo") is None, reason="needs NeMo (the asr extra)")
RATE = 16000
LENGTHS_S = (0.5, 2.0, 3.3)


def make_wrapper(model_id: Path | str, tmp_path: Path, **overrides: Any) -> CanaryASRModel:
    settings = Settings(_env_file=None, canary_model_id=str(model_id), model_cache_dir=tmp_path / "cache", **overrides)
    return CanaryASRModel(settings, lambda: None)


def noise(seconds: float, seed: int = 0) -> np.ndarray:
    return (np.random.default_rng(seed).standard_normal(int(seconds * RATE)) * 0.1).astype(np.float32)


def pieces() -> list[np.ndarray]:
    return [noise(s, seed=i) for i, s in enumerate(LENGTHS_S)]


def spy(monkeypatch: pytest.MonkeyPatch, obj: Any, name: str) -> list[tuple[tuple, dict, Any]]:
    """Record the calls of `obj.name` (arguments and result) while still running the real method."""
    real = getattr(obj, name)
    calls: list[tuple[tuple, dict, Any]] = []

    def recording(*args: Any, **kwargs: Any) -> Any:
        result = real(*args, **kwargs)
        calls.append((args, kwargs, result))
        return result

    monkeypatch.setattr(obj, name, recording)
    return calls


def assert_within(items: list[TimedText], duration_s: float) -> None:
    for item in items:
        assert isinstance(item, TimedText) and isinstance(item.text, str)
        assert 0.0 <= item.start <= item.end <= duration_s + 1e-6, (item, duration_s)


# --- splitting long audio -------------------------------------------------------------------------
def test_short_audio_is_one_piece() -> None:
    audio = noise(12.0)
    [(offset, piece)] = split_for_model(audio, RATE, 40.0)
    assert offset == 0.0 and piece is audio
    [(offset, piece)] = split_for_model(noise(40.0), RATE, 40.0)
    assert offset == 0.0 and len(piece) == 40 * RATE


def test_long_audio_is_cut_in_its_silences() -> None:
    audio = np.random.default_rng(1).uniform(-0.5, 0.5, 100 * RATE).astype(np.float32)
    silences = [(34.0, 34.6), (70.2, 70.7)]
    for start, end in silences:
        audio[int(start * RATE) : int(end * RATE)] = 0.0
    result = split_for_model(audio, RATE, 40.0)

    assert len(result) == 3
    cuts = [offset for offset, _ in result[1:]]
    for cut, (start, end) in zip(cuts, silences, strict=True):
        assert start <= cut <= end, (cut, start, end)
    assert_pieces_cover(audio, result, 40.0)


@pytest.mark.parametrize("seconds", [40.001, 41.0, 79.9, 200.0])
def test_pieces_fit_the_window_and_cover_the_audio(seconds: float) -> None:
    audio = noise(seconds, seed=3)
    result = split_for_model(audio, RATE, 40.0)
    assert len(result) >= 2
    assert_pieces_cover(audio, result, 40.0)
    # Without silences a cut still stays in the last 20% of its window.
    for _, piece in result[:-1]:
        assert 0.8 * 40 * RATE <= len(piece) <= 40 * RATE


def assert_pieces_cover(audio: np.ndarray, result: list[tuple[float, np.ndarray]], window_s: float) -> None:
    position = 0
    for offset, piece in result:
        assert offset == pytest.approx(position / RATE)
        assert 0 < len(piece) <= window_s * RATE
        position += len(piece)
    assert position == len(audio)
    assert np.array_equal(np.concatenate([piece for _, piece in result]), audio)


# --- identity -------------------------------------------------------------------------------------
def test_served_names_and_one_gpu_only(tmp_path: Path) -> None:
    wrapper = make_wrapper("nvidia/canary-1b-v2", tmp_path, canary_model_aliases="whisper-1,canary")
    assert wrapper.served_names == ["nvidia/canary-1b-v2", "whisper-1", "canary"]
    assert wrapper.kind == "asr" and wrapper.allow_patterns == ["*.nemo"]
    assert wrapper.sample_rate == 16000 and wrapper.window_s == 40.0
    assert wrapper.status()["state"] == "absent"
    with pytest.raises(InvalidRequestError, match="one GPU"):
        wrapper.select_devices([0, 1])


# --- real NeMo models -----------------------------------------------------------------------------
@pytest.fixture(scope="module")
def canary(tiny_canary_nemo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryASRModel]:
    wrapper = make_wrapper(tiny_canary_nemo, tmp_path_factory.mktemp("canary"))
    asyncio.run(wrapper.ensure_loaded())
    yield wrapper
    asyncio.run(wrapper.unload())


@pytest.fixture(scope="module")
def ctc(tiny_ctc_nemo: Path, tmp_path_factory: pytest.TempPathFactory) -> Iterator[CanaryASRModel]:
    wrapper = make_wrapper(tiny_ctc_nemo, tmp_path_factory.mktemp("ctc"))
    asyncio.run(wrapper.ensure_loaded())
    yield wrapper
    asyncio.run(wrapper.unload())


@needs_nemo
def test_canary_loads_on_cpu_with_metadata(canary: CanaryASRModel, tiny_canary_nemo: Path) -> None:
    status = canary.status()
    assert status["state"] == "loaded" and status["devices"] == ["cpu"] and status["source"] == "local"
    server = status["server"]
    assert server["model_class"] == "EncDecMultiTaskModel" and server["multitask"] is True
    assert server["prompt_format"] == "canary2" and server["timestamp_aligner"] is False
    assert server["languages"] == ["de", "en", "es", "fr"]
    assert server["sample_rate"] == 16000 and server["device"] == "cpu" and server["dtype"] == "float32"
    assert server["path"] == str(tiny_canary_nemo) and server["load_seconds"] >= 0


@needs_nemo
def test_canary_transcribes_a_batch(canary: CanaryASRModel) -> None:
    results = canary.transcribe_batch(pieces(), TranscribeOptions())
    assert len(results) == len(LENGTHS_S)
    for result in results:
        assert isinstance(result, Transcript) and isinstance(result.text, str)
        assert result.words == [] and result.segments == []


@needs_nemo
def test_canary_options_reach_the_prompt(canary: CanaryASRModel, monkeypatch: pytest.MonkeyPatch) -> None:
    model = canary.model
    transcribe_calls = spy(monkeypatch, model, "transcribe")
    prompt_calls = spy(monkeypatch, model.prompt, "encode_dialog")
    options = TranscribeOptions(source_lang="de", target_lang="fr", punctuation=False, timestamps=True)

    results = canary.transcribe_batch(pieces(), options)

    [(args, kwargs, _)] = transcribe_calls
    assert len(args[0]) == 3 and all(a.dtype == np.float32 for a in args[0])
    assert kwargs["batch_size"] == 3 and kwargs["timestamps"] is True and kwargs["return_hypotheses"] is True
    assert (kwargs["source_lang"], kwargs["target_lang"], kwargs["pnc"]) == ("de", "fr", "no")
    # What NeMo put in the decoder prompt, read back from the token ids.
    [(_, prompt_kwargs, encoded)] = prompt_calls
    slots = prompt_kwargs["turns"][0]["slots"]
    assert (slots["source_lang"], slots["target_lang"], slots["pnc"], slots["timestamp"]) == ("de", "fr", "no", "yes")
    decoded = model.tokenizer.ids_to_text(encoded["context_ids"].tolist())
    assert "<|de|><|fr|><|nopnc|><|noitn|><|timestamp|>" in decoded
    # Random weights emit no timestamp tokens: the transcripts come back, with whatever times NeMo found.
    for result, seconds in zip(results, LENGTHS_S, strict=True):
        assert_within(result.words + result.segments, seconds)


@needs_nemo
def test_canary_defaults_and_unknown_languages(canary: CanaryASRModel, monkeypatch: pytest.MonkeyPatch) -> None:
    prompt_calls = spy(monkeypatch, canary.model.prompt, "encode_dialog")
    canary.transcribe_batch(pieces()[:1], TranscribeOptions())
    slots = prompt_calls[0][1]["turns"][0]["slots"]
    assert (slots["source_lang"], slots["target_lang"], slots["pnc"], slots["timestamp"]) == ("en", "en", "yes", "no")
    with pytest.raises(InvalidRequestError, match="'ja' is not supported") as caught:
        canary.transcribe_batch(pieces(), TranscribeOptions(source_lang="ja"))
    assert caught.value.param == "language"


@needs_nemo
def test_canary_without_prompt_defaults_still_transcribes(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    wrapper = make_wrapper(build_tiny_canary(tmp_path / "model", with_prompt_defaults=False), tmp_path)
    asyncio.run(wrapper.ensure_loaded())
    prompt_calls = spy(monkeypatch, wrapper.model.prompt, "encode_dialog")

    results = wrapper.transcribe_batch(pieces(), TranscribeOptions(source_lang="es", timestamps=True))

    assert len(results) == 3
    slots = prompt_calls[0][1]["turns"][0]["slots"]
    assert slots == {
        "decodercontext": "",
        "emotion": "<|emo:undefined|>",
        "source_lang": "es",
        "target_lang": "es",
        "pnc": "yes",
        "itn": "no",
        "timestamp": "yes",
        "diarize": "no",
    }
    asyncio.run(wrapper.unload())


@needs_nemo
def test_ctc_model_ignores_canary_options(ctc: CanaryASRModel, monkeypatch: pytest.MonkeyPatch) -> None:
    server = ctc.status()["server"]
    assert server["model_class"] == "EncDecCTCModelBPE" and server["multitask"] is False
    assert server["languages"] is None and "prompt_format" not in server
    calls = spy(monkeypatch, ctc.model, "transcribe")

    results = ctc.transcribe_batch(pieces(), TranscribeOptions(source_lang="de", target_lang="fr", punctuation=False))

    assert len(results) == 3 and all(isinstance(r, Transcript) and isinstance(r.text, str) for r in results)
    [(_, kwargs, _)] = calls
    assert not {"source_lang", "target_lang", "pnc", "task"} & set(kwargs)


@needs_nemo
def test_ctc_word_and_segment_timestamps(ctc: CanaryASRModel) -> None:
    results = ctc.transcribe_batch(pieces(), TranscribeOptions(timestamps=True))
    assert len(results) == 3
    assert any(r.words for r in results) and any(r.segments for r in results)
    for result, seconds in zip(results, LENGTHS_S, strict=True):
        assert_within(result.words, seconds)
        assert_within(result.segments, seconds)
    # Pieces shorter than NeMo's 1 s minimum are padded at the end, so their times still start at 0.
    assert results[0].words[0].start == 0.0


@needs_nemo
def test_folder_holding_one_nemo_loads(tiny_ctc_nemo: Path, tmp_path: Path) -> None:
    folder = tiny_ctc_nemo.parent  # also holds the tokenizer folder the build left there
    wrapper = make_wrapper(folder, tmp_path)
    assert wrapper.status()["state"] == "downloaded"
    asyncio.run(wrapper.ensure_loaded())
    assert wrapper.status()["server"]["path"] == str(tiny_ctc_nemo)
    asyncio.run(wrapper.unload())


@needs_nemo
def test_hub_repo_downloads_only_the_nemo_and_loads(
    tiny_ctc_nemo: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)
    extra = {"README.md": b"# tiny", "model_weights.ckpt": b"not wanted"}
    with FakeHub("acme/tiny-ctc", tiny_ctc_nemo.parent, extra_files=extra) as hub:
        wrapper = make_wrapper("acme/tiny-ctc", tmp_path, hf_endpoint=hub.url)
        assert wrapper.status()["state"] == "absent"
        asyncio.run(wrapper.ensure_loaded())
    snapshot = tmp_path / "cache" / "models--acme--tiny-ctc" / "snapshots" / COMMIT
    assert sorted(p.name for p in snapshot.iterdir()) == ["tiny-ctc.nemo"]
    assert wrapper.status()["server"]["path"] == str(snapshot / "tiny-ctc.nemo")
    asyncio.run(wrapper.unload())
    assert wrapper.status()["state"] == "downloaded"


def load_error(wrapper: CanaryASRModel) -> str:
    with pytest.raises(ModelUnavailableError):
        asyncio.run(wrapper.ensure_loaded())
    status = wrapper.status()
    assert status["state"] == "error" and status["message"] == "load failed"
    assert wrapper.model is None
    return status["error"]


def test_folder_without_a_nemo_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    (folder / "README.md").write_text("weights elsewhere")
    error = load_error(make_wrapper(folder, tmp_path))
    assert "no .nemo file in" in error and "(it holds README.md)" in error


def test_folder_with_two_nemo_files_is_a_clear_error(tmp_path: Path) -> None:
    folder = tmp_path / "model"
    folder.mkdir()
    for name in ("a.nemo", "b.nemo"):
        (folder / name).write_bytes(b"")
    error = load_error(make_wrapper(folder, tmp_path))
    assert "2 .nemo files (a.nemo, b.nemo)" in error


@needs_nemo
def test_corrupt_nemo_is_a_clear_error(tmp_path: Path) -> None:
    broken = tmp_path / "broken.nemo"
    broken.write_bytes(b"this is not a tar archive" * 100)
    assert "NeMo could not restore broken.nemo" in load_error(make_wrapper(broken, tmp_path))


@needs_nemo
def test_unload_frees_the_model(tiny_ctc_nemo: Path, tmp_path: Path) -> None:
    copy = tmp_path / "ctc.nemo"
    shutil.copy(tiny_ctc_nemo, copy)
    wrapper = make_wrapper(copy, tmp_path)
    asyncio.run(wrapper.ensure_loaded())
    model = weakref.ref(wrapper.model)
    assert wrapper.transcribe_batch(pieces()[:1], TranscribeOptions())[0].text is not None

    asyncio.run(wrapper.unload())

    gc.collect()
    assert wrapper.model is None and model() is None
    assert wrapper.status()["state"] == "downloaded" and wrapper.status()["devices"] == []
    with pytest.raises(ModelUnavailableError, match="not loaded"):
        wrapper.transcribe_batch(pieces(), TranscribeOptions())
