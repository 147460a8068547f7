"""`/openapi.json` says what the gateway really answers: no 422 (it never sends one), every status a
catalogue of real requests provokes on a route is declared for that route, with the error envelope, and
every JSON body the catalogue gets back fits the schema declared for it (the typed client the dashboard
generates from this document relies on it)."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
from fastapi.routing import APIRoute
from pydantic import TypeAdapter
from starlette.routing import Match

from app.config import Settings
from tests.audio_files import reference_signal, write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server

ENVELOPE = {"$ref": "#/components/schemas/ErrorResponse"}
CHAT = {"model": "qwen", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}


@pytest.fixture(scope="module")
def full(
    tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path, tiny_canary_nemo: Path, tiny_pyannote_dir: Path
) -> Iterator[LiveServer]:
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path_factory.mktemp("cache"),
        qwen_model_id=str(tiny_qwen_dir),
        canary_model_id=str(tiny_canary_nemo),
        pyannote_model_id=str(tiny_pyannote_dir),
        openai_api_keys=f"clientA:{CLIENT_KEY}",
        admin_api_keys=f"ops:{ADMIN_KEY}",
        rate_limit_rpm=10_000,
        max_audio_seconds=20,
        max_json_body_mb=1,
        log_level="warning",
    )
    with live_server(settings) as server:
        yield server


@pytest.fixture(scope="module")
def document(full: LiveServer) -> dict[str, Any]:
    with full.client() as http:
        return http.get("/openapi.json").json()


def test_no_422_anywhere(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            assert "422" not in operation["responses"], (method, path)
    assert not {"HTTPValidationError", "ValidationError"} & set(document["components"]["schemas"])


def test_errors_are_declared_with_the_envelope(document: dict[str, Any]) -> None:
    for path, operations in document["paths"].items():
        for method, operation in operations.items():
            statuses = operation["responses"]
            if path.startswith(("/v1/", "/api/")):
                assert "401" in statuses, (method, path)
                assert operation["security"] == [{"HTTPBearer": []}, {"APIKeyHeader": []}]
            if path.startswith("/api/admin/"):
                assert "403" in statuses
            elif path.startswith(("/v1/", "/api/")):
                assert "429" in statuses, (method, path)
            for status, response in statuses.items():
                if status.startswith("4"):
                    assert response["content"]["application/json"]["schema"] == ENVELOPE, (method, path, status)
    chat = document["paths"]["/v1/chat/completions"]["post"]
    assert chat["requestBody"]["content"]["application/json"]["schema"] == {
        "$ref": "#/components/schemas/ChatCompletionRequest"
    }
    assert "ChatMessage" in document["components"]["schemas"]


def _route_of(server: LiveServer, method: str, path: str) -> APIRoute:
    """The route the app matches; its `path_format` keys the document's paths."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in server.app.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL and isinstance(route, APIRoute):
            return route
    raise AssertionError(f"no route for {method} {path}")


TYPED = {
    ("get", "/v1/models"): "ModelList",
    ("get", "/v1/models/{model}"): "ModelObject",
    ("post", "/api/audio/transcribe"): "Transcription",
    ("post", "/api/diarization/process"): "Diarization",
    ("post", "/api/jobs"): "Job",
    ("get", "/api/jobs"): "JobList",
    ("get", "/api/jobs/{job_id}"): "Job",
    ("post", "/api/jobs/{job_id}/cancel"): "Job",
    ("get", "/api/auth/me"): "Caller",
    ("get", "/api/admin/status"): "AdminStatus",
    ("get", "/api/admin/models/{key}"): "ModelStatus",
    ("post", "/api/admin/models/{key}/download"): "ModelAction",
    ("post", "/api/admin/models/{key}/load"): "ModelAction",
    ("post", "/api/admin/models/{key}/unload"): "ModelAction",
    ("get", "/api/admin/huggingface/token"): "TokenStatus",
    ("post", "/api/admin/huggingface/token"): "TokenStatus",
    ("get", "/api/admin/monitor/history"): "MonitorHistory",
    ("get", "/api/admin/logs"): "LogPage",
    ("get", "/api/admin/usage"): "UsageReport",
    ("get", "/api/admin/requests"): "RequestLogPage",
    ("get", "/api/admin/quotas"): "QuotaList",
    ("get", "/api/usage"): "ClientUsage",
}


def test_json_bodies_are_declared_with_their_schemas(document: dict[str, Any]) -> None:
    for (method, path), name in TYPED.items():
        responses = document["paths"][path][method]["responses"]
        success = responses.get("200") or responses["202"]
        assert success["content"]["application/json"]["schema"] == {"$ref": f"#/components/schemas/{name}"}, path
    schemas = document["components"]["schemas"]
    status = schemas["AdminStatus"]["properties"]
    assert {"gpu_budget", "system", "models"} <= set(status)
    assert schemas["ModelStatus"]["properties"]["last_error"]["anyOf"][0] == {"$ref": "#/components/schemas/LastError"}
    events = document["paths"]["/api/jobs/{job_id}/events"]["get"]["responses"]["200"]["content"]
    assert set(events) == {"text/event-stream"}
    metrics = document["paths"]["/metrics"]["get"]
    assert set(metrics["responses"]["200"]["content"]) == {"text/plain"}
    assert metrics["security"] == [{"HTTPBearer": []}, {"APIKeyHeader": []}]
    assert set(document["paths"]["/api/diarization/process"]["post"]["responses"]["200"]["content"]) == {
        "application/json",
        "text/plain",
    }


def _wait_job(http: httpx.Client, job_id: str) -> None:
    deadline = time.monotonic() + 60
    while http.get(f"/api/jobs/{job_id}").json()["state"] not in ("succeeded", "failed", "cancelled"):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_every_status_seen_is_declared(full: LiveServer, document: dict[str, Any], tmp_path: Path) -> None:
    wav = write_wav(tmp_path / "a.wav", reference_signal(16000, 2.0), 16000)
    too_long = write_wav(tmp_path / "long.wav", np.zeros(16000 * 30, np.float32), 16000)
    garbage = tmp_path / "garbage.mp3"
    garbage.write_bytes(np.random.default_rng(0).bytes(2048))
    seen: list[tuple[str, str, httpx.Response]] = []

    def call(http: httpx.Client, method: str, path: str, **kwargs: Any) -> httpx.Response:
        response = http.request(method, path, **kwargs)
        seen.append((method, path, response))
        return response

    def upload(path: Path) -> dict[str, Any]:
        return {"file": (path.name, path.read_bytes())}

    anonymous, client, admin = full.client(), full.client(CLIENT_KEY), full.client(ADMIN_KEY)
    with anonymous, client, admin:
        call(anonymous, "GET", "/health")
        call(anonymous, "GET", "/health/ready")
        call(anonymous, "GET", "/api/auth/me")
        call(client, "GET", "/api/auth/me")
        call(anonymous, "GET", "/v1/models")
        call(client, "GET", "/v1/models")
        call(client, "GET", "/v1/models/qwen")
        call(client, "GET", "/v1/models/nope")
        for path in ("/v1/chat/completions", "/v1/completions"):
            body = CHAT if "chat" in path else {"model": "qwen", "prompt": "hi", "max_tokens": 2}
            call(anonymous, "POST", path, json=body)
            call(client, "POST", path, json=body)
            call(client, "POST", path, json={**body, "model": "nope"})
            call(client, "POST", path, json={**body, "temperature": 9})
            call(client, "POST", path, content=b"{", headers={"Content-Type": "application/json"})
            call(client, "POST", path, content=b" " * (2 * 2**20), headers={"Content-Type": "application/json"})
        for path in ("/v1/audio/transcriptions", "/v1/audio/translations", "/api/audio/transcribe"):
            call(client, "POST", path, data={"model": "canary", "language": "de"}, files=upload(wav))
            call(client, "POST", path, data={"model": "nope", "language": "de"}, files=upload(wav))
            call(client, "POST", path, data={"model": "canary", "language": "xx"}, files=upload(wav))
            call(client, "POST", path, data={"model": "canary", "language": "de"}, files=upload(garbage))
            call(client, "POST", path, data={"model": "canary", "language": "de"}, files=upload(too_long))
            call(client, "POST", path, data={"model": "canary"})
        transcribe = {"model": "canary", "language": "de", "timestamps": "true"}
        assert "words" in call(client, "POST", "/api/audio/transcribe", data=transcribe, files=upload(wav)).json()
        diarized = call(client, "POST", "/api/audio/transcribe?diarize=true", data=transcribe, files=upload(wav))
        assert "speaker" in diarized.json()["segments"][0]
        call(client, "POST", "/api/diarization/process", files=upload(wav))
        rttm = call(client, "POST", "/api/diarization/process", data={"response_format": "rttm"}, files=upload(wav))
        assert rttm.text.startswith("SPEAKER")
        call(client, "POST", "/api/diarization/process", files=upload(garbage))
        call(client, "POST", "/api/diarization/process", data={"min_speakers": 3, "max_speakers": 2}, files=upload(wav))
        job = call(client, "POST", "/api/jobs", data={"task": "transcribe", "language": "en"}, files=upload(wav)).json()
        call(client, "POST", "/api/jobs", data={"task": "sing"}, files=upload(wav))
        call(client, "POST", "/api/jobs", data={"task": "transcribe", "model": "nope"}, files=upload(wav))
        call(client, "GET", "/api/jobs/job_nope/result")
        call(client, "GET", f"/api/jobs/{job['id']}/result")  # 409 while it runs, or 200 if already done
        _wait_job(client, job["id"])
        call(client, "GET", "/api/jobs")
        call(client, "GET", "/api/jobs", params={"limit": 0})
        call(client, "GET", f"/api/jobs/{job['id']}")
        call(client, "GET", "/api/jobs/job_nope")
        call(client, "GET", f"/api/jobs/{job['id']}/events")
        call(client, "GET", "/api/jobs/job_nope/events")
        call(client, "GET", f"/api/jobs/{job['id']}/result")
        call(client, "GET", f"/api/jobs/{job['id']}/result", params={"response_format": "rttm"})
        call(client, "POST", f"/api/jobs/{job['id']}/cancel")  # 409: it has ended
        call(client, "POST", "/api/jobs/job_nope/cancel")
        assert call(client, "DELETE", f"/api/jobs/{job['id']}").status_code == 204
        call(client, "DELETE", f"/api/jobs/{job['id']}")  # 404: gone
        call(client, "DELETE", "/api/jobs/job_nope")
        call(client, "GET", "/api/admin/status")
        call(admin, "GET", "/api/admin/status")
        call(admin, "GET", "/api/admin/models/qwen")
        call(admin, "GET", "/api/admin/models/nope")
        call(admin, "POST", "/api/admin/models/nope/download")
        call(admin, "POST", "/api/admin/models/qwen/download")
        call(admin, "POST", "/api/admin/models/qwen/load", json={"gpu_device_ids": [0]})
        call(admin, "POST", "/api/admin/models/qwen/load", json={"what": 1})
        call(admin, "POST", "/api/admin/models/qwen/load")
        call(admin, "POST", "/api/admin/models/nope/unload")
        call(admin, "GET", "/api/admin/monitor/history", params={"range": "6h"})
        call(admin, "GET", "/api/admin/monitor/history", params={"range": "7d"})
        call(admin, "GET", "/api/admin/logs", params={"level": "info", "q": "qwen"})
        call(admin, "GET", "/api/admin/logs", params={"limit": 0})
        call(client, "GET", "/api/admin/logs")
        call(admin, "GET", "/api/admin/huggingface/token")
        call(admin, "POST", "/api/admin/huggingface/token", json={"token": "hf with space"})
        call(admin, "POST", "/api/admin/huggingface/token", json={"token": None})
        call(admin, "POST", "/api/admin/huggingface/token", content=b"x" * (2 * 2**20))
        call(admin, "GET", "/api/admin/usage", params={"granularity": "hour"})
        call(admin, "GET", "/api/admin/usage", params={"granularity": "hour", "start": 0})
        call(client, "GET", "/api/admin/usage")
        call(admin, "GET", "/api/admin/requests", params={"status": "2xx", "limit": 5})
        call(admin, "GET", "/api/admin/requests", params={"status": "4x"})
        call(client, "GET", "/api/admin/requests")
        call(admin, "GET", "/api/admin/quotas")
        call(client, "GET", "/api/admin/quotas")
        call(anonymous, "GET", "/api/usage")
        call(client, "GET", "/api/usage")
        call(client, "GET", "/api/usage", params={"start": 10, "end": 5})
        call(anonymous, "GET", "/metrics")
        call(client, "GET", "/metrics")
        call(admin, "GET", "/metrics")

    observed: dict[tuple[str, str], set[int]] = {}
    for method, path, response in seen:
        route = _route_of(full, method, path.split("?")[0])
        operation = route.path_format
        observed.setdefault((method, operation), set()).add(response.status_code)
        declared = document["paths"][operation][method.lower()]["responses"]
        assert str(response.status_code) in declared, (method, path, response.status_code, response.text[:200])
        if response.status_code >= 400 and operation != "/health/ready":
            assert set(response.json()) == {"error"}
        is_json = response.headers.get("content-type", "").startswith("application/json")
        if response.status_code < 300 and is_json and route.response_model is not None:
            # Unknown keys are refused (`ResponseBody`): the body is exactly what the schema declares.
            TypeAdapter(route.response_model).validate_python(response.json())
    # The catalogue reached what it was written for.
    assert observed[("POST", "/v1/chat/completions")] == {200, 400, 401, 404, 413}
    assert {400, 404, 413, 415} <= observed[("POST", "/v1/audio/transcriptions")]
    assert observed[("GET", "/api/admin/status")] == {200, 403}
    assert observed[("GET", "/api/auth/me")] == {200, 401}
    assert observed[("GET", "/api/admin/monitor/history")] == {200, 400}
    assert observed[("GET", "/api/admin/logs")] == {200, 400, 403}
    assert 200 in observed[("POST", "/api/audio/transcribe")]
    assert observed[("GET", "/api/admin/usage")] == observed[("GET", "/api/admin/requests")] == {200, 400, 403}
    assert observed[("GET", "/api/admin/quotas")] == {200, 403}
    assert observed[("GET", "/api/usage")] == {200, 400, 401}
    assert observed[("GET", "/metrics")] == {200, 401, 403}
