"""The whisper slot through the live gateway: the tiny random-weight Whisper (tests/tiny_whisper.py, Whisper's
real tokenizer) beside the tiny Canary and the tiny pyannote, real uploads, the official `openai` SDK.
Random weights transcribe noise: the tests check shapes, types and flows, never words."""

from __future__ import annotations

import threading
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from app.config import Settings
from app.services.transcripts import LANGUAGE_NAMES
from tests.audio_files import reference_signal, write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server
from tests.tiny_whisper import build_tiny_whisper

SECONDS = 2.5


@pytest.fixture(scope="session")
def tiny_whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_whisper(tmp_path_factory.mktemp("tiny-whisper"))


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("whisper-audio")
    rng = np.random.default_rng(0)
    files = {"speech.wav": write_wav(folder / "speech.wav", reference_signal(16000, SECONDS), 16000)}
    for seed in range(4):
        noise = (0.1 * rng.standard_normal(32000)).astype(np.float32)
        files[f"noise{seed}.wav"] = write_wav(folder / f"noise{seed}.wav", noise, 16000)
    long = np.concatenate([reference_signal(16000, 4.0), np.zeros(8000, np.float32)] * 14)  # 63 s
    files["long.wav"] = write_wav(folder / "long.wav", long, 16000)
    files["empty.wav"] = folder / "empty.wav"
    files["empty.wav"].write_bytes(b"")
    return files


@pytest.fixture(scope="module")
def server(
    tmp_path_factory: pytest.TempPathFactory, tiny_whisper_dir: Path, tiny_canary_nemo: Path, tiny_pyannote_dir: Path
) -> Iterator[LiveServer]:
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path_factory.mktemp("cache"),
        whisper_model_id=str(tiny_whisper_dir),
        canary_model_id=str(tiny_canary_nemo),
        pyannote_model_id=str(tiny_pyannote_dir),
        enabled_models=["whisper", "canary", "pyannote"],
        openai_api_keys=f"clientA:{CLIENT_KEY}",
        admin_api_keys=f"ops:{ADMIN_KEY}",
        asr_batch_wait_ms=50.0,
        max_audio_seconds=120.0,
        log_level="warning",
    )
    with live_server(settings) as live:
        yield live


@pytest.fixture(scope="module")
def sdk(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=CLIENT_KEY, max_retries=0, timeout=120)


def post(server: LiveServer, path: Path, route: str = "/v1/audio/transcriptions", **fields: object) -> httpx.Response:
    data = {"model": "whisper", **fields}
    with server.client(CLIENT_KEY, timeout=120) as http, path.open("rb") as handle:
        return http.post(route, data=data, files={"file": (path.name, handle)})


def error_of(response: httpx.Response) -> dict[str, Any]:
    body = response.json()
    assert set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def stats(server: LiveServer) -> dict[str, Any]:
    return server.state.transcription.stats()["whisper"]


def test_sdk_json_text_and_subtitles(sdk: openai.OpenAI, audio: dict[str, Path]) -> None:
    with audio["speech.wav"].open("rb") as handle:
        result = sdk.audio.transcriptions.create(model="whisper", file=handle, language="en")
    assert isinstance(result.text, str) and result.text
    with audio["speech.wav"].open("rb") as handle:
        text = sdk.audio.transcriptions.create(model="whisper", file=handle, language="en", response_format="text")
    assert isinstance(text, str) and text.strip()
    with audio["speech.wav"].open("rb") as handle:
        srt = sdk.audio.transcriptions.create(model="whisper", file=handle, response_format="srt")
    assert srt.startswith("1\n00:00:0") and " --> 00:00:0" in srt
    with audio["speech.wav"].open("rb") as handle:
        vtt = sdk.audio.transcriptions.create(model="whisper", file=handle, response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:0")


def test_verbose_json_reports_the_detected_language_and_timestamps(sdk: openai.OpenAI, audio: dict[str, Path]) -> None:
    with audio["speech.wav"].open("rb") as handle:
        verbose = sdk.audio.transcriptions.create(
            model="whisper", file=handle, response_format="verbose_json", timestamp_granularities=["word", "segment"]
        )
    extra = verbose.model_extra or {}
    assert extra["source_language_origin"] == "detected"
    assert verbose.language == LANGUAGE_NAMES[extra["source_language"]]
    assert verbose.duration == pytest.approx(SECONDS, abs=0.05)
    assert verbose.words and verbose.segments
    for item in [*verbose.words, *verbose.segments]:
        assert 0 <= item.start <= item.end <= verbose.duration + 0.01
    with audio["speech.wav"].open("rb") as handle:
        given = sdk.audio.transcriptions.create(
            model="whisper", file=handle, language="fr", response_format="verbose_json"
        )
    assert given.language == "french" and given.words is None and given.segments
    assert (given.model_extra or {})["source_language_origin"] == "request"


def test_the_model_name_picks_the_family(server: LiveServer, audio: dict[str, Path]) -> None:
    """Same route, same file: Whisper detects the language, Canary (no langid slot) assumes the default."""
    whisper = post(server, audio["speech.wav"], response_format="verbose_json").json()
    canary = post(server, audio["speech.wav"], model="canary", response_format="verbose_json").json()
    assert whisper["source_language_origin"] == "detected"
    assert canary["source_language_origin"] == "default" and canary["language"] == "english"
    assert {"whisper", "canary"} <= set(server.state.transcription.stats())


def test_translations(sdk: openai.OpenAI, server: LiveServer, audio: dict[str, Path]) -> None:
    with audio["speech.wav"].open("rb") as handle:
        translated = sdk.audio.translations.create(
            model="whisper", file=handle, prompt="ignored", response_format="verbose_json"
        )
    assert translated.language == "english" and isinstance(translated.text, str)
    assert (translated.model_extra or {})["source_language_origin"] == "detected"
    with audio["speech.wav"].open("rb") as handle:
        text = sdk.audio.translations.create(model="whisper", file=handle, response_format="text")
    assert isinstance(text, str)
    native = post(server, audio["speech.wav"], route="/api/audio/transcribe", language="de", target_language="en")
    assert native.status_code == 200 and native.json()["language"] == "en" and native.json()["source_language"] == "de"
    # Whisper translates into English only.
    other = post(server, audio["speech.wav"], route="/api/audio/transcribe", language="de", target_language="fr")
    assert other.status_code == 400 and error_of(other)["param"] == "target_language"


def test_native_transcribe_route(server: LiveServer, audio: dict[str, Path]) -> None:
    response = post(server, audio["speech.wav"], route="/api/audio/transcribe", timestamps="true")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["source_language_origin"] == "detected" and body["language"] == body["source_language"]
    assert body["segments"] and body["words"]
    assert all(0 <= w["start"] <= w["end"] <= body["duration"] + 0.01 for w in body["words"])


def test_diarized_transcription(sdk: openai.OpenAI, server: LiveServer, audio: dict[str, Path]) -> None:
    with audio["speech.wav"].open("rb") as handle:
        diarized = sdk.audio.transcriptions.create(model="whisper", file=handle, response_format="diarized_json")
    assert isinstance(diarized.text, str) and isinstance(diarized.segments, list)
    native = post(server, audio["speech.wav"], route="/api/audio/transcribe?diarize=true", language="en")
    assert native.status_code == 200 and "speakers" in native.json()


def test_long_audio_is_cut_into_pieces_of_30_s(server: LiveServer, audio: dict[str, Path]) -> None:
    before = stats(server)["items_run"]
    response = post(server, audio["long.wav"], language="en", response_format="verbose_json")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["duration"] == pytest.approx(63.0, abs=0.05)
    assert stats(server)["items_run"] - before == 3  # 63 s in pieces of at most 30 s
    ends = [s["end"] for s in body["segments"]]
    assert ends == sorted(ends) and ends[-1] <= body["duration"] + 0.01 and ends[-1] > 30


def test_concurrent_requests_share_batches(server: LiveServer, audio: dict[str, Path]) -> None:
    names = ["noise0.wav", "noise1.wav", "noise2.wav", "noise3.wav"] * 2
    before = stats(server)
    barrier = threading.Barrier(len(names))

    def one(name: str) -> httpx.Response:
        barrier.wait()
        return post(server, audio[name], language="en")

    with ThreadPoolExecutor(len(names)) as pool:
        responses = list(pool.map(one, names))
    after = stats(server)
    assert [r.status_code for r in responses] == [200] * len(names)
    assert after["items_run"] - before["items_run"] == len(names)
    assert after["batches_run"] - before["batches_run"] < len(names)
    assert max(i for i, count in enumerate(server.state.transcription.batch_sizes()["whisper"]) if count) > 1


def test_a_job(server: LiveServer, audio: dict[str, Path]) -> None:
    with server.client(CLIENT_KEY) as http, audio["long.wav"].open("rb") as handle:
        submitted = http.post(
            "/api/jobs", data={"task": "both", "model": "whisper"}, files={"file": ("long.wav", handle)}
        )
        assert submitted.status_code in (200, 201, 202), submitted.text
        job_id = submitted.json()["id"]
        deadline = time.monotonic() + 90
        while (job := http.get(f"/api/jobs/{job_id}").json())["state"] not in ("succeeded", "failed", "cancelled"):
            assert time.monotonic() < deadline, job
            time.sleep(0.1)
        assert job["state"] == "succeeded", job
        verbose = http.get(f"/api/jobs/{job_id}/result", params={"response_format": "verbose_json"}).json()
    assert verbose["source_language_origin"] == "detected" and verbose["language"] in LANGUAGE_NAMES.values()
    assert verbose["duration"] == pytest.approx(63.0, abs=0.05) and verbose["segments"]


def test_bad_inputs(server: LiveServer, audio: dict[str, Path]) -> None:
    unknown = post(server, audio["speech.wav"], language="xx")
    assert unknown.status_code == 400 and error_of(unknown)["param"] == "language"
    assert "yue" in error_of(unknown)["message"]  # the model's own list
    empty = post(server, audio["empty.wav"])
    assert empty.status_code == 400 and error_of(empty)["param"] == "file"
    granular = post(server, audio["speech.wav"], **{"timestamp_granularities[]": "word"})
    assert granular.status_code == 400 and error_of(granular)["param"] == "timestamp_granularities"
    diarized = post(server, audio["speech.wav"], route="/v1/audio/translations", response_format="diarized_json")
    assert diarized.status_code == 400 and error_of(diarized)["param"] == "response_format"


def test_admin_status_unload_and_load(server: LiveServer, audio: dict[str, Path]) -> None:
    assert post(server, audio["noise0.wav"], language="en").status_code == 200  # loaded lazily if not yet
    with server.client(ADMIN_KEY) as admin:
        status = admin.get("/api/admin/models/whisper").json()
        assert status["state"] == "loaded" and status["kind"] == "asr"
        assert status["server"]["window_s"] == 30.0 and status["server"]["detects_language"] is True
        assert "en" in status["server"]["languages"] and status["server"]["translates_to"] == ["en"]
        assert admin.post("/api/admin/models/whisper/unload").status_code in (200, 202)
        server.wait_for_state("whisper", "downloaded")
        gone = post(server, audio["noise0.wav"], language="en")
        assert gone.status_code in (200, 503)  # a lazy load may bring it back
        assert admin.post("/api/admin/models/whisper/load").status_code in (200, 202)
        server.wait_for_state("whisper", "loaded")
        models = [m["id"] for m in admin.get("/v1/models").json()["data"]]
    assert any(name == "whisper" or name.startswith("tiny-whisper") for name in models)
