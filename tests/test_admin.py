"""Operator flows through the live gateway: status, download, load, unload, busy models, lazy loading."""

from __future__ import annotations

import json
import threading
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import openai
import pytest

from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server, tiny_settings

KEYS = {"openai_api_keys": f"clientA:{CLIENT_KEY}", "admin_api_keys": f"ops:{ADMIN_KEY}"}
CHAT = {"model": "qwen", "messages": [{"role": "user", "content": "Hello"}]}


@pytest.fixture(scope="module")
def idle(tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path) -> Iterator[LiveServer]:
    """One gateway for the tests that change nothing in it: its model stays unloaded, no token is stored."""
    with live_server(tiny_settings(tmp_path_factory.mktemp("model_cache"), tiny_qwen_dir, **KEYS)) as server:
        yield server


def test_status_reports_system_models_and_dependencies(idle: LiveServer) -> None:
    with idle.client(ADMIN_KEY) as http:
        status = http.get("/api/admin/status").json()
    assert status["gpu_available"] is False and status["gpus"] == []  # GPUs are hidden from this test
    assert status["gpu_error"]
    assert status["system"]["memory_total_mib"] > 0 and status["system"]["cpu_count"] >= 1
    (model,) = status["models"]
    assert model["key"] == "qwen" and model["kind"] == "llm" and model["source"] == "local"
    assert model["state"] == "downloaded"
    deps = status["dependencies"]
    assert deps["torch"]["version"].startswith("2.11.0")
    assert deps["torch"]["cuda_available"] is False
    assert deps["packages"]["transformers"]
    assert any("CPU" in problem for problem in deps["problems"])
    assert status["huggingface_token"] == {"configured": False, "last4": None}


def test_download_load_unload_cycle(serve) -> None:
    server = serve(log_level="info", **KEYS)
    with server.client(ADMIN_KEY) as http:
        response = http.post("/api/admin/models/qwen/download")
        assert response.status_code == 202 and response.json()["action"] == "download"
        server.wait_for_state("qwen", "downloaded")
        assert http.post("/api/admin/models/qwen/load", json={}).status_code == 202
        loaded = server.wait_for_state("qwen", "loaded")
        assert loaded["devices"] == ["cpu"]
        assert loaded["server"]["engine"] == "transformers" and loaded["server"]["max_model_len"] == 4096
        assert loaded["load_count"] == 1
        assert http.post("/api/admin/models/qwen/unload").status_code == 202
        unloaded = server.wait_for_state("qwen", "downloaded")
        assert unloaded["devices"] == [] and unloaded["message"] == "unloaded"
        assert "gpu_memory_used_mib_before_unload" in unloaded["server"]
        log = http.get("/api/admin/logs", params={"q": "qwen unloaded"}).json()["entries"]
        assert [line["message"] for line in log] == ["qwen unloaded from cpu"]
        assert http.post("/api/admin/models/nope/load").status_code == 404


def test_concurrent_loads_load_once(serve) -> None:
    server = serve(**KEYS)
    with server.client(ADMIN_KEY) as http, ThreadPoolExecutor(8) as pool:
        codes = list(pool.map(lambda _: http.post("/api/admin/models/qwen/load").status_code, range(8)))
    assert codes == [202] * 8
    assert server.wait_for_state("qwen", "loaded")["load_count"] == 1


def test_gpu_ids_on_a_machine_without_gpu_are_400(idle: LiveServer) -> None:
    with idle.client(ADMIN_KEY) as http:
        response = http.post("/api/admin/models/qwen/load", json={"gpu_device_ids": [0]})
        assert response.status_code == 400
        assert response.json()["error"]["param"] == "gpu_device_ids"
        assert "no usable GPU" in response.json()["error"]["message"]
        assert http.post("/api/admin/models/qwen/load", json={"gpu": 1}).status_code == 400
        assert http.get("/api/admin/models/qwen").json()["state"] == "downloaded"  # nothing was loaded


def test_unload_during_a_stream_drains_it(serve) -> None:
    server = serve(**KEYS)
    sdk = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)
    stream = sdk.chat.completions.create(
        model="qwen",
        messages=CHAT["messages"],
        max_tokens=400,
        stream=True,
        stream_options={"include_usage": True},
        extra_body={"ignore_eos": True},
    )
    chunks = iter(stream)
    first = next(chunks)
    assert first.choices[0].delta.role == "assistant"
    with server.client(ADMIN_KEY) as http:
        busy = http.post("/api/admin/models/qwen/unload", json={"wait": False})
        assert busy.status_code == 409
        assert busy.json()["error"]["code"] == "model_busy"
        assert http.post("/api/admin/models/qwen/unload").status_code == 202
        draining = server.wait_for_state("qwen", "unloading")
        assert draining["in_flight_requests"] == 1
        with server.client(CLIENT_KEY) as client:
            refused = client.post("/v1/chat/completions", json=CHAT)
        assert refused.status_code == 503
        assert "being unloaded" in refused.json()["error"]["message"]
    rest = list(chunks)
    assert rest[-1].usage.completion_tokens == 400
    assert rest[-2].choices[0].finish_reason == "length"
    server.wait_for_state("qwen", "downloaded")


def test_lazy_loading_on_first_request(serve) -> None:
    server = serve(lazy_load_models=True, **KEYS)
    assert server.wait_for_state("qwen", "downloaded")["load_count"] == 0
    with server.client(CLIENT_KEY) as http:
        response = http.post("/v1/chat/completions", json={**CHAT, "max_tokens": 2})
    assert response.status_code == 200
    assert server.wait_for_state("qwen", "loaded")["load_count"] == 1


def test_preload_and_readiness(serve) -> None:
    server = serve(lazy_load_models=False, **KEYS)
    server.wait_for_state("qwen", "loaded")
    with server.client() as http:
        ready = http.get("/health/ready")
        assert ready.status_code == 200 and ready.json()["models"] == {"qwen": "loaded"}
        assert http.get("/health").json()["status"] == "ok"
    with server.client(ADMIN_KEY) as http:
        http.post("/api/admin/models/qwen/unload")
        server.wait_for_state("qwen", "downloaded")
        not_ready = http.get("/health/ready")
        assert not_ready.status_code == 503 and not_ready.json()["waiting_for"] == ["qwen"]
        refused = http.post("/v1/chat/completions", json=CHAT)
    assert refused.status_code == 503
    error = refused.json()["error"]
    assert error["code"] == "model_not_loaded"
    assert "POST /api/admin/models/qwen/load" in error["message"]


def test_broken_model_reports_its_error(serve, tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "qwen3"}))
    server = serve(qwen_model_id=str(broken), **KEYS)
    with server.client(CLIENT_KEY) as http:
        response = http.post("/v1/chat/completions", json=CHAT)
    assert response.status_code == 503
    assert response.json()["error"]["code"] == "model_error"
    status = server.wait_for_state("qwen", "error")
    assert status["message"] == "load failed" and status["error"]


def test_huggingface_token_is_stored_masked(serve, make_settings) -> None:
    server = serve(**KEYS)
    token = "hf_abcdefghijklmnopqrstuvwxyz1234"
    with server.client(ADMIN_KEY) as http:
        saved = http.post("/api/admin/huggingface/token", json={"token": token})
        assert saved.json() == {"configured": True, "last4": "1234"}
        assert http.get("/api/admin/huggingface/token").json() == {"configured": True, "last4": "1234"}
        assert token not in http.get("/api/admin/status").text
    path = server.state.settings.model_cache_dir / ".hf_token"
    assert path.read_text() == token
    assert path.stat().st_mode & 0o777 == 0o600
    assert server.state.token_store.get() == token
    with server.client(ADMIN_KEY) as http:
        assert http.post("/api/admin/huggingface/token", json={"token": None}).json()["configured"] is False
    assert not path.exists()


def test_many_concurrent_streams_complete(serve) -> None:
    server = serve(**KEYS, qwen_cpu_max_concurrency=2)
    sdk = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)
    errors: list[BaseException] = []

    def one() -> int:
        try:
            chunks = list(
                sdk.chat.completions.create(
                    model="qwen",
                    messages=CHAT["messages"],
                    max_tokens=8,
                    stream=True,
                    stream_options={"include_usage": True},
                    extra_body={"ignore_eos": True},
                )
            )
            return chunks[-1].usage.completion_tokens
        except BaseException as exc:
            errors.append(exc)
            raise

    with ThreadPoolExecutor(6) as pool:
        counts = list(pool.map(lambda _: one(), range(6)))
    assert not errors and counts == [8] * 6
    assert server.wait_for_state("qwen", "loaded")["in_flight_requests"] == 0
    assert threading.active_count() < 200


@pytest.mark.parametrize("key", [None, CLIENT_KEY])
def test_admin_routes_need_an_admin_key(idle: LiveServer, key: str | None) -> None:
    with idle.client(key) as http:
        response = http.get("/api/admin/status")
    assert response.status_code == (401 if key is None else 403)
    assert set(response.json()["error"]) == {"message", "type", "param", "code"}
