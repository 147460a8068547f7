"""Diarization and "who said what" through the live gateway: tiny real pyannote pipeline and Canary."""

from __future__ import annotations

import itertools
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest

from app.config import Settings
from tests.audio_files import write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server


def two_voices(seconds: float = 8.0, rate: int = 16000) -> np.ndarray:
    """Alternating 'voices' (harmonic tones at different pitches, syllable-like bursts) with short pauses."""
    t = np.arange(int(seconds * rate)) / rate
    pitch = np.where((t // 2.0) % 2 == 0, 130.0, 290.0)
    voice = sum(np.sin(2 * np.pi * k * pitch * t) / k for k in range(1, 6))
    bursts = (np.sin(2 * np.pi * 3.0 * t) > -0.3).astype(np.float64)
    pauses = ((t % 2.0) > 0.2).astype(np.float64)
    return (0.2 * voice * bursts * pauses).astype(np.float32)


@pytest.fixture(scope="module")
def speech(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    folder = tmp_path_factory.mktemp("voices")
    garbage = folder / "garbage.wav"
    garbage.write_bytes(np.random.default_rng(1).bytes(2048))
    return {"talk.wav": write_wav(folder / "talk.wav", two_voices(), 16000), "garbage.wav": garbage}


def settings_for(tmp: Path, canary: Path, pyannote: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "model_cache_dir": tmp,
        "canary_model_id": str(canary),
        "pyannote_model_id": str(pyannote),
        "enabled_models": ["canary", "pyannote"],
        "openai_api_keys": f"clientA:{CLIENT_KEY}",
        "admin_api_keys": f"ops:{ADMIN_KEY}",
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, tiny_canary_nemo: Path, tiny_pyannote_dir: Path
) -> Iterator[LiveServer]:
    with live_server(settings_for(tmp_path_factory.mktemp("cache"), tiny_canary_nemo, tiny_pyannote_dir)) as server:
        yield server


def post(server: LiveServer, path: Path, route: str, params: dict | None = None, **fields: object) -> httpx.Response:
    with server.client(CLIENT_KEY) as http, path.open("rb") as handle:
        return http.post(route, data=fields, params=params, files={"file": (path.name, handle)})


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def check_turns(turns: list[dict], duration: float) -> None:
    for turn in turns:
        assert 0 <= turn["start"] < turn["end"] <= duration + 0.01
        assert isinstance(turn["speaker"], str) and turn["speaker"]


def test_diarization_json_and_rttm(gateway: LiveServer, speech: dict[str, Path]) -> None:
    response = post(gateway, speech["talk.wav"], "/api/diarization/process")
    assert response.status_code == 200, response.text
    body = response.json()
    assert set(body) == {"segments", "speakers", "duration"}
    assert body["duration"] == pytest.approx(8.0)
    check_turns(body["segments"], body["duration"])
    assert sorted({t["speaker"] for t in body["segments"]}) == sorted(body["speakers"])
    exclusive = post(gateway, speech["talk.wav"], "/api/diarization/process", exclusive="true").json()["segments"]
    check_turns(exclusive, 8.0)
    assert all(a["end"] <= b["start"] + 1e-6 for a, b in itertools.pairwise(exclusive))
    rttm = post(gateway, speech["talk.wav"], "/api/diarization/process", response_format="rttm")
    assert rttm.headers["content-type"].startswith("text/plain")
    for line in rttm.text.splitlines():
        fields = line.split()
        assert fields[0] == "SPEAKER" and fields[1] == "talk" and len(fields) == 10
        assert float(fields[3]) >= 0 and float(fields[4]) > 0


def test_options_are_validated(gateway: LiveServer, speech: dict[str, Path]) -> None:
    one = post(gateway, speech["talk.wav"], "/api/diarization/process", num_speakers=1)
    assert one.status_code == 200 and len(one.json()["speakers"]) <= 1
    bounded = post(gateway, speech["talk.wav"], "/api/diarization/process", min_speakers=1, max_speakers=2)
    assert bounded.status_code == 200 and len(bounded.json()["speakers"]) <= 2
    wrong = post(gateway, speech["talk.wav"], "/api/diarization/process", min_speakers=3, max_speakers=2)
    assert wrong.status_code == 400 and error_of(wrong)["param"] == "min_speakers"
    both = post(gateway, speech["talk.wav"], "/api/diarization/process", num_speakers=2, max_speakers=2)
    assert both.status_code == 400 and error_of(both)["param"] == "num_speakers"
    zero = post(gateway, speech["talk.wav"], "/api/diarization/process", num_speakers=0)
    assert zero.status_code == 400 and error_of(zero)["param"] == "num_speakers"
    bad = post(gateway, speech["garbage.wav"], "/api/diarization/process")
    assert bad.status_code == 415 and error_of(bad)["param"] == "file"


SPEAKER_ROUTES = [
    ("/api/diarization/process", None, {}),
    ("/v1/audio/transcriptions", None, {"model": "canary", "response_format": "diarized_json"}),
    ("/api/audio/transcribe", {"diarize": "true"}, {}),
]


@pytest.mark.parametrize(("route", "params", "fields"), SPEAKER_ROUTES)
def test_speaker_counts_are_bounded(
    gateway: LiveServer, speech: dict[str, Path], route: str, params: dict | None, fields: dict
) -> None:
    """pyannote keeps speaker counts in a uint8 (256 or more was a 500) and cluster ids in an int8: counts
    above MAX_SPEAKERS (100) are a 400 naming the field, on every route."""
    for name, value in (("num_speakers", 256), ("min_speakers", 256), ("max_speakers", 1000), ("num_speakers", 101)):
        response = post(gateway, speech["talk.wav"], route, params, **fields, **{name: value})
        assert response.status_code == 400, (name, value, response.text)
        error = error_of(response)
        assert error["param"] == name and "less than or equal to 100" in error["message"]
    assert post(gateway, speech["talk.wav"], route, params, **fields, max_speakers=100).status_code == 200


def test_more_speakers_than_the_audio_holds_is_400(gateway: LiveServer, speech: dict[str, Path]) -> None:
    """Within the bound, but more speakers than pyannote finds speaker embeddings in 8 s of audio: its VBx
    clustering would run k-means with too many clusters (a ValueError, so a 500, before)."""
    for name in ("num_speakers", "min_speakers"):
        response = post(gateway, speech["talk.wav"], "/api/diarization/process", **{name: 100})
        assert response.status_code == 400, response.text
        error = error_of(response)
        assert error["param"] == name and "more speakers than this audio can be split into" in error["message"]


def test_who_said_what_through_the_sdk(gateway: LiveServer, speech: dict[str, Path]) -> None:
    sdk = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)
    with speech["talk.wav"].open("rb") as handle:
        diarized = sdk.audio.transcriptions.create(model="canary", file=handle, response_format="diarized_json")
    assert diarized.task == "transcribe" and diarized.duration == pytest.approx(8.0)
    for index, segment in enumerate(diarized.segments):
        assert segment.id == f"seg_{index}" and segment.type == "transcript.text.segment"
        assert segment.speaker in {"A", "B", "C", "D"} and 0 <= segment.start <= segment.end <= 8.01
    if diarized.segments:
        assert diarized.segments[0].speaker == "A"
    with speech["talk.wav"].open("rb") as handle:
        verbose = sdk.audio.transcriptions.create(
            model="canary", file=handle, response_format="verbose_json", extra_body={"diarize": True}
        )
    assert all(hasattr(s, "speaker") or "speaker" in s.model_extra for s in verbose.segments or [])
    with speech["talk.wav"].open("rb") as handle:
        srt = sdk.audio.transcriptions.create(
            model="canary", file=handle, response_format="srt", extra_body={"diarize": True}
        )
    assert all(line.startswith("[") for line in srt.splitlines()[2::4])


def test_labelled_subtitles_raw(gateway: LiveServer, speech: dict[str, Path]) -> None:
    vtt = post(
        gateway, speech["talk.wav"], "/v1/audio/transcriptions", model="canary", response_format="vtt", diarize="true"
    )
    assert vtt.status_code == 200 and vtt.text.startswith("WEBVTT")
    plain = post(gateway, speech["talk.wav"], "/v1/audio/transcriptions", model="canary", response_format="vtt")
    assert "[A]" not in plain.text


def test_native_transcribe_with_diarize(gateway: LiveServer, speech: dict[str, Path]) -> None:
    response = post(gateway, speech["talk.wav"], "/api/audio/transcribe", params={"diarize": "true"})
    assert response.status_code == 200, response.text
    body = response.json()
    assert {"text", "duration", "speakers", "segments", "words", "sampling_rate", "language"} <= set(body)
    for segment in body["segments"]:
        assert segment["speaker"] is None or segment["speaker"] in body["speakers"]


def test_status_shows_the_pipeline(gateway: LiveServer) -> None:
    with gateway.client(ADMIN_KEY) as http:
        models = {m["key"]: m for m in http.get("/api/admin/status").json()["models"]}
    assert models["pyannote"]["kind"] == "diarization" and models["pyannote"]["state"] == "loaded"
    assert models["pyannote"]["devices"] == ["cpu"]


def test_full_diarization_queue_is_429(
    tmp_path: Path, tiny_canary_nemo: Path, tiny_pyannote_dir: Path, speech: dict[str, Path]
) -> None:
    settings = settings_for(tmp_path, tiny_canary_nemo, tiny_pyannote_dir, diarization_queue_size=1)
    with live_server(settings) as server:
        post(server, speech["talk.wav"], "/api/diarization/process")
        with ThreadPoolExecutor(10) as pool:
            responses = list(
                pool.map(lambda _: post(server, speech["talk.wav"], "/api/diarization/process"), range(10))
            )
    codes = {r.status_code for r in responses}
    assert codes <= {200, 429} and 429 in codes and 200 in codes
    limited = next(r for r in responses if r.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1 and error_of(limited)["code"] == "queue_full"
