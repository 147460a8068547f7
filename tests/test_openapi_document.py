"""`/openapi.json` says what the gateway really answers: no 422 (it never sends one), and every status a
catalogue of real requests provokes on a route is declared for that route, with the error envelope."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import pytest
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


def _operation_of(server: LiveServer, method: str, path: str) -> str:
    """The route template the app matches, as the document's paths are keyed."""
    scope = {"type": "http", "method": method, "path": path, "root_path": ""}
    for route in server.app.routes:
        match, _ = route.matches(scope)
        if match == Match.FULL:
            return route.path_format
    raise AssertionError(f"no route for {method} {path}")


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
        call(client, "POST", "/api/diarization/process", files=upload(wav))
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
        call(client, "DELETE", f"/api/jobs/{job['id']}")
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
        call(admin, "GET", "/api/admin/huggingface/token")
        call(admin, "POST", "/api/admin/huggingface/token", json={"token": "hf with space"})
        call(admin, "POST", "/api/admin/huggingface/token", json={"token": None})
        call(admin, "POST", "/api/admin/huggingface/token", content=b"x" * (2 * 2**20))

    observed: dict[tuple[str, str], set[int]] = {}
    for method, path, response in seen:
        operation = _operation_of(full, method, path)
        observed.setdefault((method, operation), set()).add(response.status_code)
        declared = document["paths"][operation][method.lower()]["responses"]
        assert str(response.status_code) in declared, (method, path, response.status_code, response.text[:200])
        if response.status_code >= 400 and operation != "/health/ready":
            assert set(response.json()) == {"error"}
    # The catalogue reached what it was written for.
    assert observed[("POST", "/v1/chat/completions")] == {200, 400, 401, 404, 413}
    assert {400, 404, 413, 415} <= observed[("POST", "/v1/audio/transcriptions")]
    assert observed[("GET", "/api/admin/status")] == {200, 403}
