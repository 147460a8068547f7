"""Speech to text through the live gateway: the tiny real Canary, real uploads, the official `openai` SDK."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx
import numpy as np
import openai
import pytest

from app.config import Settings
from tests.audio_files import DURATION_S, make_audio_files, reference_signal, write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server

DECODABLE = ["16k.wav", "flac.flac", "mp3.mp3", "vorbis.ogg", "opus.ogg", "aac.m4a", "opus.webm", "8k.wav",
             "48k.flac", "stereo44k.wav", "stream.webm"]  # fmt: skip


@pytest.fixture(scope="module")
def audio(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    files = make_audio_files(tmp_path_factory.mktemp("audio"))
    folder = tmp_path_factory.mktemp("more-audio")
    rng = np.random.default_rng(0)
    for seed in range(4):
        noise = (0.1 * rng.standard_normal(32000)).astype(np.float32)
        files[f"noise{seed}.wav"] = write_wav(folder / f"noise{seed}.wav", noise, 16000)
    long = np.concatenate([reference_signal(16000, 4.0), np.zeros(8000, np.float32)] * 3)
    files["long.wav"] = write_wav(folder / "long.wav", long, 16000)
    files["garbage.mp3"] = folder / "garbage.mp3"
    files["garbage.mp3"].write_bytes(rng.bytes(4096))
    files["empty.wav"] = folder / "empty.wav"
    files["empty.wav"].write_bytes(b"")
    mp3 = files["mp3.mp3"].read_bytes()
    files["truncated.mp3"] = folder / "truncated.mp3"
    files["truncated.mp3"].write_bytes(mp3[: len(mp3) // 2])
    return files


def asr_settings(tmp: Path, canary: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "model_cache_dir": tmp,
        "canary_model_id": str(canary),
        "enabled_models": ["canary"],
        "openai_api_keys": f"clientA:{CLIENT_KEY}",
        "admin_api_keys": f"ops:{ADMIN_KEY}",
        "asr_batch_wait_ms": 30.0,
        "max_audio_seconds": 30.0,
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture(scope="module")
def asr(tmp_path_factory: pytest.TempPathFactory, tiny_canary_nemo: Path) -> Iterator[LiveServer]:
    settings = asr_settings(tmp_path_factory.mktemp("cache"), tiny_canary_nemo, asr_window_s=5.0)
    with live_server(settings) as server:
        yield server


@pytest.fixture(scope="module")
def sdk(asr: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{asr.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)


def post(server: LiveServer, path: Path, route: str = "/v1/audio/transcriptions", **fields: object) -> httpx.Response:
    data = {"model": "canary", **fields}
    with server.client(CLIENT_KEY) as http, path.open("rb") as handle:
        return http.post(route, data=data, files={"file": (path.name, handle)})


def error_of(response: httpx.Response) -> dict:
    body = response.json()
    assert set(body) == {"error"} and set(body["error"]) == {"message", "type", "param", "code"}
    return body["error"]


def test_sdk_json_and_text(sdk: openai.OpenAI, audio: dict[str, Path]) -> None:
    with audio["16k.wav"].open("rb") as handle:
        result = sdk.audio.transcriptions.create(model="canary", file=handle)
    assert isinstance(result.text, str)
    with audio["16k.wav"].open("rb") as handle:
        text = sdk.audio.transcriptions.create(model="whisper-1", file=handle, response_format="text")
    assert isinstance(text, str) and text == result.text


def test_sdk_subtitles(sdk: openai.OpenAI, audio: dict[str, Path]) -> None:
    with audio["flac.flac"].open("rb") as handle:
        srt = sdk.audio.transcriptions.create(model="canary", file=handle, response_format="srt")
    assert srt.startswith("1\n00:00:00,000 --> 00:00:0")
    with audio["flac.flac"].open("rb") as handle:
        vtt = sdk.audio.transcriptions.create(model="canary", file=handle, response_format="vtt")
    assert vtt.startswith("WEBVTT\n\n00:00:00.000 --> 00:00:0")


def test_sdk_verbose_json_with_granularities(sdk: openai.OpenAI, audio: dict[str, Path]) -> None:
    with audio["mp3.mp3"].open("rb") as handle:
        verbose = sdk.audio.transcriptions.create(
            model="canary",
            file=handle,
            language="de",
            prompt="ignored",
            temperature=0.0,
            response_format="verbose_json",
            timestamp_granularities=["word", "segment"],
        )
    assert verbose.language == "german"
    assert verbose.duration == pytest.approx(DURATION_S, abs=0.1)
    assert isinstance(verbose.words, list) and isinstance(verbose.segments, list)
    for item in [*verbose.words, *verbose.segments]:
        assert 0 <= item.start <= item.end <= verbose.duration + 0.01
    with audio["mp3.mp3"].open("rb") as handle:
        segments_only = sdk.audio.transcriptions.create(model="canary", file=handle, response_format="verbose_json")
    assert segments_only.words is None and segments_only.segments


def test_raw_content_types(asr: LiveServer, audio: dict[str, Path]) -> None:
    for fmt in ("text", "srt", "vtt"):
        response = post(asr, audio["16k.wav"], response_format=fmt)
        assert response.status_code == 200 and response.headers["content-type"].startswith("text/plain")
    response = post(asr, audio["16k.wav"], response_format="json")
    assert response.headers["content-type"] == "application/json" and set(response.json()) == {"text"}


def test_translation(sdk: openai.OpenAI, asr: LiveServer, audio: dict[str, Path]) -> None:
    with audio["16k.wav"].open("rb") as handle:
        result = sdk.audio.translations.create(model="canary", file=handle, extra_body={"language": "fr"})
    assert isinstance(result.text, str)
    with audio["16k.wav"].open("rb") as handle:  # all the OpenAI spec allows: ASR_DEFAULT_LANGUAGE is the source
        plain = sdk.audio.translations.create(model="canary", file=handle)
    assert isinstance(plain.text, str)
    with audio["16k.wav"].open("rb") as handle:
        verbose = sdk.audio.translations.create(model="whisper-1", file=handle, response_format="verbose_json")
    assert verbose.language == "english"  # the output's language, as OpenAI's spec says for translations
    unknown = post(asr, audio["16k.wav"], route="/v1/audio/translations", language="xx")
    assert unknown.status_code == 400 and error_of(unknown)["param"] == "language"


def test_native_transcribe_route(asr: LiveServer, audio: dict[str, Path]) -> None:
    plain = post(asr, audio["opus.ogg"], route="/api/audio/transcribe")
    assert plain.status_code == 200
    body = plain.json()
    assert set(body) == {"text", "sampling_rate", "duration", "language", "source_language", "source_language_origin"}
    assert body["sampling_rate"] == 16000 and body["language"] == "en"
    assert (body["source_language"], body["source_language_origin"]) == ("en", "default")
    assert body["duration"] == pytest.approx(DURATION_S, abs=0.1)
    timed = post(
        asr, audio["opus.ogg"], route="/api/audio/transcribe", timestamps="true", language="de", target_language="es"
    )
    timed_body = timed.json()
    assert timed_body["language"] == "es" and timed_body["segments"]
    assert (timed_body["source_language"], timed_body["source_language_origin"]) == ("de", "request")
    assert all(0 <= s["start"] <= s["end"] <= timed_body["duration"] + 0.01 for s in timed_body["segments"])


@pytest.mark.parametrize("name", DECODABLE)
def test_every_format_is_transcribed(asr: LiveServer, audio: dict[str, Path], name: str) -> None:
    response = post(asr, audio[name], route="/api/audio/transcribe")
    assert response.status_code == 200, response.text
    assert response.json()["duration"] == pytest.approx(DURATION_S, abs=0.1)


def test_truncated_mp3_transcribes_what_is_there(asr: LiveServer, audio: dict[str, Path]) -> None:
    response = post(asr, audio["truncated.mp3"], route="/api/audio/transcribe")
    assert response.status_code == 200
    assert 0.5 < response.json()["duration"] < DURATION_S


@pytest.mark.parametrize(
    ("name", "status", "fragment"),
    [
        ("empty.wav", 400, "empty"),
        ("no_frames.wav", 400, "no samples"),
        ("garbage.mp3", 415, "could not be decoded"),
        ("video.mp4", 415, "no audio stream"),
    ],
)
def test_bad_inputs(asr: LiveServer, audio: dict[str, Path], name: str, status: int, fragment: str) -> None:
    response = post(asr, audio[name])
    assert response.status_code == status, response.text
    error = error_of(response)
    assert fragment in error["message"] and error["param"] == "file"


def test_request_errors(asr: LiveServer, audio: dict[str, Path]) -> None:
    with asr.client(CLIENT_KEY) as http, audio["16k.wav"].open("rb") as handle:
        wrong_field = http.post("/v1/audio/transcriptions", data={"model": "canary"}, files={"audio": handle})
    assert wrong_field.status_code == 400 and error_of(wrong_field)["param"] == "file"
    unknown = post(asr, audio["16k.wav"], model="whisper-large")
    assert unknown.status_code == 404 and error_of(unknown)["code"] == "model_not_found"
    assert error_of(post(asr, audio["16k.wav"], language="xx"))["param"] == "language"
    assert error_of(post(asr, audio["16k.wav"], response_format="docx"))["param"] == "response_format"
    streamed = post(asr, audio["16k.wav"], stream="true")
    assert streamed.status_code == 400 and error_of(streamed)["param"] == "stream"
    granular = post(asr, audio["16k.wav"], **{"timestamp_granularities[]": "word"})
    assert granular.status_code == 400 and error_of(granular)["param"] == "timestamp_granularities"
    with httpx.Client(base_url=asr.base_url) as anonymous, audio["16k.wav"].open("rb") as handle:
        assert (
            anonymous.post("/v1/audio/transcriptions", data={"model": "canary"}, files={"file": handle}).status_code
            == 401
        )


def test_long_audio_is_split_and_stitched(asr: LiveServer, audio: dict[str, Path]) -> None:
    before = asr.state.transcription.stats()["canary"]["items_run"]
    response = post(asr, audio["long.wav"], route="/api/audio/transcribe", timestamps="true")
    assert response.status_code == 200
    body = response.json()
    assert body["duration"] == pytest.approx(13.5, abs=0.05)
    assert asr.state.transcription.stats()["canary"]["items_run"] - before >= 3
    ends = [s["end"] for s in body["segments"]]
    assert ends == sorted(ends) and ends[-1] <= body["duration"] + 0.01


def test_concurrent_requests_are_batched(asr: LiveServer, audio: dict[str, Path]) -> None:
    """Fewer model calls than requests. (That each result reaches its own caller is proven on the
    batcher itself in test_asr_batching.py: with random weights, a batched piece may decode differently
    from the same piece alone, so texts cannot be compared here.)"""
    names = ["noise0.wav", "noise1.wav", "noise2.wav", "noise3.wav"] * 3
    before = asr.state.transcription.stats()["canary"]
    barrier = threading.Barrier(len(names))

    def one(name: str) -> httpx.Response:
        barrier.wait()
        return post(asr, audio[name], response_format="verbose_json")

    with ThreadPoolExecutor(len(names)) as pool:
        responses = list(pool.map(one, names))
    after = asr.state.transcription.stats()["canary"]
    assert [r.status_code for r in responses] == [200] * len(names)
    assert all(r.json()["duration"] == pytest.approx(2.0) for r in responses)
    assert after["items_run"] - before["items_run"] == len(names)
    assert after["batches_run"] - before["batches_run"] < len(names)


def test_oversize_and_too_long_uploads(tmp_path: Path, tiny_canary_nemo: Path, audio: dict[str, Path]) -> None:
    settings = asr_settings(tmp_path, tiny_canary_nemo, max_upload_mb=0.05, max_audio_seconds=2.0)
    with live_server(settings) as server:
        too_big = post(server, audio["16k.wav"])
        assert too_big.status_code == 413 and "than 0.05 MiB" in error_of(too_big)["message"]
        declared = post(server, audio["long.wav"])  # refused from its Content-Length, before reading
        assert declared.status_code == 413 and "request body is 0.4 MiB" in error_of(declared)["message"]
        too_long = post(server, audio["mp3.mp3"])
        assert too_long.status_code == 413
        assert (
            "the audio lasts 2.6 s" in error_of(too_long)["message"]
            and "MAX_AUDIO_SECONDS" in error_of(too_long)["message"]
        )


def test_full_queue_is_429(tmp_path: Path, tiny_canary_nemo: Path, audio: dict[str, Path]) -> None:
    settings = asr_settings(tmp_path, tiny_canary_nemo, asr_queue_size=1, asr_batch_size=1, lazy_load_models=False)
    with live_server(settings) as server:
        server.wait_for_state("canary", "loaded")
        with ThreadPoolExecutor(12) as pool:
            responses = list(pool.map(lambda _: post(server, audio["noise3.wav"]), range(12)))
    codes = [r.status_code for r in responses]
    assert 200 in codes and 429 in codes and set(codes) <= {200, 429}
    limited = next(r for r in responses if r.status_code == 429)
    assert int(limited.headers["Retry-After"]) >= 1 and error_of(limited)["code"] == "queue_full"


def test_status_reports_the_asr_model(asr: LiveServer) -> None:
    with asr.client(ADMIN_KEY) as http:
        status = http.get("/api/admin/status").json()
    (model,) = status["models"]
    assert model["key"] == "canary" and model["kind"] == "asr" and model["state"] == "loaded"
    assert "whisper-1" in model["served_names"]
    assert status["batching"]["canary"]["batches_run"] >= 1
