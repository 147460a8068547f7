"""`GET /metrics`: Prometheus text, parsed with prometheus_client's own parser, that moves with the requests
(the official openai SDK against live gateways), needs an admin key, and keeps its label values bounded."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import openai
import pytest
from prometheus_client.parser import text_string_to_metric_families

from tests.audio_files import reference_signal, write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server
from tests.test_jobs import EnergyDiarizer, job_settings

Samples = dict[tuple[str, frozenset[tuple[str, str]]], float]
CHAT = [{"role": "user", "content": "Hi"}]


def scrape(server: LiveServer, key: str | None = ADMIN_KEY) -> Samples:
    with server.client(key) as http:
        response = http.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"] == "text/plain; version=0.0.4; charset=utf-8"
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(response.text)
        for sample in family.samples
    }


def value(samples: Samples, name: str, **labels: str) -> float:
    """The sample `name` with exactly `labels`; 0 when there is none (a counter not yet moved)."""
    return samples.get((name, frozenset(labels.items())), 0.0)


def total(samples: Samples, name: str, **labels: str) -> float:
    """The sum of the samples `name` whose labels include `labels`."""
    wanted = set(labels.items())
    return sum(v for (n, sample_labels), v in samples.items() if n == name and wanted <= sample_labels)


def wait_for(condition: object, timeout: float = 30) -> None:
    """Until `condition()` holds: the record of a request is counted once its response has been sent."""
    deadline = time.monotonic() + timeout
    while not condition():  # type: ignore[operator]
        assert time.monotonic() < deadline, "the metrics did not move"
        time.sleep(0.02)


def test_metrics_need_the_admin_key(gateway: LiveServer) -> None:
    with gateway.client() as anonymous, gateway.client(CLIENT_KEY) as client:
        missing, refused = anonymous.get("/metrics"), client.get("/metrics")
    assert (missing.status_code, missing.json()["error"]["code"]) == (401, "invalid_api_key")
    assert refused.status_code == 403 and refused.json()["error"]["type"] == "permission_error"
    assert scrape(gateway)  # the admin key as a bearer token, as a Prometheus scrape config sends it
    with gateway.client() as http:
        assert http.get("/metrics", headers={"X-API-Key": ADMIN_KEY}).status_code == 200


def test_open_mode_serves_metrics_on_loopback(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve()
    assert total(scrape(server, key=None), "gateway_model_state", slot="qwen") == 1


def test_llm_requests_move_the_counters_and_histograms(gateway: LiveServer) -> None:
    before = scrape(gateway)
    sdk = openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key=CLIENT_KEY)
    chat = sdk.chat.completions.create(model="tiny-qwen", messages=CHAT, max_tokens=6, extra_body={"ignore_eos": True})
    events = list(
        sdk.chat.completions.create(
            model="tiny-qwen",
            messages=CHAT,
            max_tokens=4,
            stream=True,
            stream_options={"include_usage": True},
            extra_body={"ignore_eos": True},
        )
    )
    with pytest.raises(openai.AuthenticationError):
        openai.OpenAI(base_url=f"{gateway.base_url}/v1", api_key="wrong-key-123").models.list()
    streamed = events[-1].usage
    assert chat.usage is not None and streamed is not None
    chats = {"route": "/v1/chat/completions", "method": "POST", "status": "200", "client": "clientA"}

    def moved(samples: Samples) -> float:
        return value(samples, "gateway_requests_total", **chats) - value(before, "gateway_requests_total", **chats)

    wait_for(lambda: moved(scrape(gateway)) == 2)
    after = scrape(gateway)

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    refused = {"route": "/v1/models", "method": "GET", "status": "401", "client": "-"}
    assert delta("gateway_requests_total", **refused) == 1
    tokens = {"model": "tiny-qwen", "client": "clientA"}
    assert delta("gateway_llm_prompt_tokens_total", **tokens) == chat.usage.prompt_tokens + streamed.prompt_tokens
    assert delta("gateway_llm_generated_tokens_total", **tokens) == 6 + 4
    assert delta("gateway_request_duration_seconds_count", route="/v1/chat/completions", method="POST") == 2
    assert delta("gateway_llm_time_to_first_token_seconds_count", model="tiny-qwen") == 2
    assert delta("gateway_llm_time_to_first_token_seconds_sum", model="tiny-qwen") > 0
    # One observation per request (its mean gap between tokens), not one per token.
    assert delta("gateway_llm_inter_token_latency_seconds_count", model="tiny-qwen") == 2
    assert delta("gateway_llm_inter_token_latency_seconds_sum", model="tiny-qwen") > 0
    assert value(after, "gateway_model_state", slot="qwen", state="loaded") == 1
    assert total(after, "gateway_model_state", slot="qwen") == 1  # one state at a time


def test_label_values_are_bounded(gateway: LiveServer) -> None:
    with gateway.client(CLIENT_KEY) as http:
        http.get("/v1/models/tiny-qwen", headers={"X-Request-ID": "request-id-7f3a9c"})
        http.get("/api/jobs/job_0123456789abcdef")  # no jobs here: 404 (route template, not the path)
        http.request("PROPFIND", "/v1/raw-path-5d2e")  # any method, a path no route serves
    wait_for(lambda: total(scrape(gateway), "gateway_requests_total", method="other") >= 1)
    samples = scrape(gateway)
    labels = {label for _, sample_labels in samples for label in sample_labels}
    text = " ".join(f"{k}={v}" for k, v in labels)
    for raw in ("request-id-7f3a9c", "job_0123456789abcdef", "raw-path-5d2e", "PROPFIND"):
        assert raw not in text
    assert total(samples, "gateway_requests_total", route="/v1/models/{model:path}", status="200") >= 1
    assert total(samples, "gateway_requests_total", route="/api/jobs/{job_id}", status="404") >= 1
    assert total(samples, "gateway_requests_total", route="other", method="other") >= 1
    routes = {v for k, v in labels if k == "route"}
    assert all(route == "other" or route.startswith("/") for route in routes)
    assert {v for k, v in labels if k == "client"} <= {"clientA", "ops", "anonymous", "-"}


def test_rate_limit_refusals_are_counted_by_client(serve) -> None:  # type: ignore[no-untyped-def]
    server = serve(rate_limit_rpm=2, openai_api_keys=f"clientA:{CLIENT_KEY}", admin_api_keys=f"ops:{ADMIN_KEY}")
    with server.client(CLIENT_KEY) as http:
        statuses = [http.get("/v1/models").status_code for _ in range(3)]
    assert statuses == [200, 200, 429]
    wait_for(lambda: value(scrape(server), "gateway_rate_limit_refusals_total", client="clientA") == 1)
    samples = scrape(server)  # the scrapes themselves are not rate-limited (admin routes are not)
    assert value(samples, "gateway_rate_limit_refusals_total", client="clientA") == 1
    assert (
        value(samples, "gateway_requests_total", route="/v1/models", method="GET", status="429", client="clientA") == 1
    )
    assert total(samples, "gateway_quota_refusals_total") == 0


def test_quota_refusals_and_the_request_log(serve) -> None:  # type: ignore[no-untyped-def]
    """A quota refusal is a 429 too, counted apart from the rate limit's; the request log's queue and drops
    are exported."""
    server = serve(
        openai_api_keys=f"clientA:{CLIENT_KEY}", admin_api_keys=f"ops:{ADMIN_KEY}", quotas="clientA:tokens_per_day=1"
    )
    sdk = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)
    sdk.chat.completions.create(model="qwen", messages=CHAT, max_tokens=2)
    with pytest.raises(openai.RateLimitError) as refused:
        sdk.chat.completions.create(model="qwen", messages=CHAT, max_tokens=2)
    assert refused.value.code == "insufficient_quota"
    wait_for(lambda: value(scrape(server), "gateway_quota_refusals_total", client="clientA") == 1)
    samples = scrape(server)
    assert total(samples, "gateway_rate_limit_refusals_total") == 0
    labels = {"route": "/v1/chat/completions", "method": "POST", "status": "429", "client": "clientA"}
    assert value(samples, "gateway_requests_total", **labels) == 1
    assert value(samples, "gateway_request_log_dropped_total") == 0
    assert ("gateway_request_log_queue_depth", frozenset()) in samples


@pytest.fixture(scope="module")
def speech_server(tmp_path_factory: pytest.TempPathFactory, tiny_canary_nemo: Path) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("metrics")
    stand_in = tmp / "energy-diarizer"
    stand_in.mkdir()
    factories = {"pyannote": lambda settings, token: EnergyDiarizer(stand_in)}
    with live_server(job_settings(tmp, tiny_canary_nemo), wrapper_factories=factories) as live:
        yield live


def test_audio_seconds_batches_queues_and_jobs(
    speech_server: LiveServer, tmp_path: Path, tiny_canary_nemo: Path
) -> None:
    wav = write_wav(tmp_path / "speech.wav", reference_signal(16000, 3.0), 16000)
    sdk = openai.OpenAI(base_url=f"{speech_server.base_url}/v1", api_key=CLIENT_KEY)
    with wav.open("rb") as handle:
        sdk.audio.transcriptions.create(model="canary", file=handle)
    with speech_server.client(CLIENT_KEY) as http:
        with wav.open("rb") as handle:
            diarized = http.post("/api/audio/transcribe?diarize=true", files={"file": ("speech.wav", handle)})
        assert diarized.status_code == 200, diarized.text
        with wav.open("rb") as handle:
            job = http.post("/api/jobs", data={"task": "transcribe"}, files={"file": ("speech.wav", handle)}).json()
    model, client = tiny_canary_nemo.stem, "clientA"

    def ended(samples: Samples) -> bool:
        return value(samples, "gateway_job_runs_total", task="transcribe", status="200", client=client) == 1

    wait_for(lambda: ended(scrape(speech_server)), timeout=60)
    samples = scrape(speech_server)
    # 3 s each: the transcription, the diarized transcription, the job's run (its submission consumed none).
    transcribed = value(samples, "gateway_audio_seconds_total", task="transcription", model=model, client=client)
    assert transcribed == pytest.approx(9.0, abs=0.05)
    diarized_s = value(samples, "gateway_audio_seconds_total", task="diarization", model=model, client=client)
    assert diarized_s == pytest.approx(3.0, abs=0.05)
    assert value(samples, "gateway_jobs_ended_total", state="succeeded") == 1
    assert value(samples, "gateway_jobs", state="queued") == value(samples, "gateway_jobs", state="running") == 0
    # ASR_BATCH_SIZE=1 here: every piece ran as a batch of one.
    batches = value(samples, "gateway_asr_batch_size_count", slot="canary")
    assert batches >= 3 and value(samples, "gateway_asr_batch_size_bucket", slot="canary", le="1.0") == batches
    assert value(samples, "gateway_asr_batch_size_sum", slot="canary") == batches
    assert value(samples, "gateway_asr_queue_depth", slot="canary") == 0
    assert value(samples, "gateway_diarization_queue_depth", slot="pyannote") == 0
    assert value(samples, "gateway_model_state", slot="canary", state="loaded") == 1
    assert value(samples, "gateway_model_state", slot="pyannote", state="loaded") == 1
    assert total(samples, "gateway_requests_total", route="job:transcribe") == 0  # runs are not requests
    assert not any(job["id"] in v for _, labels in samples for _, v in labels)
