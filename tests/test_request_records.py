"""Every request leaves one finished record (client, route template, model, status, tokens, audio seconds):
the base of the request log, usage, quotas and metrics. Live gateways, the official openai SDK."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest

from app.infra.request_records import RequestRecord
from tests.audio_files import reference_signal, write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server
from tests.test_jobs import job_settings


def collect(server: LiveServer) -> list[RequestRecord]:
    records: list[RequestRecord] = []
    server.state.records.observers.append(records.append)
    return records


def wait_for_record(records: list[RequestRecord], count: int, timeout: float = 30) -> None:
    deadline = time.monotonic() + timeout
    while len(records) < count:
        assert time.monotonic() < deadline, f"{len(records)} records, wanted {count}"
        time.sleep(0.02)


def test_llm_requests_record_tokens_timings_and_route(gateway: LiveServer) -> None:
    records = collect(gateway)
    sdk = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=CLIENT_KEY)
    chat = sdk.chat.completions.create(
        model="tiny-qwen",
        messages=[{"role": "user", "content": "Hi"}],
        max_tokens=5,
        extra_headers={"X-Request-ID": "r1"},
    )
    events = list(
        sdk.completions.create(
            model="tiny-qwen", prompt="Hello", max_tokens=4, stream=True, stream_options={"include_usage": True}
        )
    )
    with pytest.raises(openai.NotFoundError):
        sdk.chat.completions.create(model="absent", messages=[{"role": "user", "content": "Hi"}])
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="wrong-key-123").models.list()
    wait_for_record(records, 4)

    first, streamed, missing, refused = records[:4]
    assert (first.request_id, first.client, first.route, first.model, first.status) == (
        "r1",
        "clientA",
        "/v1/chat/completions",
        "tiny-qwen",
        200,
    )
    assert chat.usage is not None
    assert (first.prompt_tokens, first.completion_tokens) == (chat.usage.prompt_tokens, chat.usage.completion_tokens)
    assert first.first_token_s is not None and 0 < first.first_token_s <= first.latency_s
    assert first.generation_s is not None and first.generation_s >= 0
    usage = events[-1].usage
    assert usage is not None and streamed.route == "/v1/completions" and streamed.status == 200
    assert (streamed.prompt_tokens, streamed.completion_tokens) == (usage.prompt_tokens, usage.completion_tokens)
    assert (missing.status, missing.error_code, missing.model) == (404, "model_not_found", None)
    assert (refused.client, refused.route, refused.status, refused.error_code) == (
        "-",
        "/v1/models",
        401,
        "invalid_api_key",
    )


@pytest.fixture(scope="module")
def speech_server(tmp_path_factory: pytest.TempPathFactory, tiny_canary_nemo: Path) -> Iterator[LiveServer]:
    with live_server(job_settings(tmp_path_factory.mktemp("records"), tiny_canary_nemo)) as live:
        yield live


def test_transcriptions_and_jobs_record_audio_seconds(
    speech_server: LiveServer, tmp_path: Path, tiny_canary_nemo: Path
) -> None:
    records = collect(speech_server)
    wav = write_wav(tmp_path / "speech.wav", reference_signal(16000, 3.0), 16000)
    sdk = openai.OpenAI(base_url=f"{speech_server.base_url}/v1", api_key=CLIENT_KEY)
    with wav.open("rb") as handle:
        sdk.audio.transcriptions.create(model="canary", file=handle)
    with speech_server.client(CLIENT_KEY) as http, wav.open("rb") as handle:
        job = http.post("/api/jobs", data={"task": "transcribe"}, files={"file": ("speech.wav", handle)}).json()
    wait_for_record(records, 3, timeout=60)  # the transcription, the submission, the job's run

    transcription = next(r for r in records if r.route == "/v1/audio/transcriptions")
    assert (transcription.client, transcription.status, transcription.audio_tasks) == (
        "clientA",
        200,
        ("transcription",),
    )
    assert transcription.audio_seconds == pytest.approx(3.0, abs=0.01)
    assert transcription.model == tiny_canary_nemo.stem
    submission = next(r for r in records if r.route == "/api/jobs" and r.kind == "request")
    assert (submission.status, submission.audio_seconds) == (202, 0.0)
    run = next(r for r in records if r.kind == "job")
    assert (run.request_id, run.route, run.client, run.status) == (job["id"], "job:transcribe", "clientA", 200)
    assert run.audio_seconds == pytest.approx(3.0, abs=0.01) and run.model == tiny_canary_nemo.stem
    with speech_server.client(ADMIN_KEY) as http:
        assert http.get(f"/api/jobs/{job['id']}").json()["state"] == "succeeded"
