"""A departed client stops its generation (transformers engine); unexpected failures are 500 envelopes."""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import httpx
import pytest

from app.engines.base import GenerationDelta, GenerationRequest, LLMEngine
from app.models.qwen import QwenModel
from tests.conftest import LiveServer, live_server, tiny_settings

LONG = {"model": "qwen", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 3500, "ignore_eos": True}
SHORT = {"model": "qwen", "messages": [{"role": "user", "content": "Hello"}], "max_tokens": 2}


def assert_engine_is_free(server: LiveServer) -> None:
    """With one generation worker, a short request is quick only if the long one was stopped."""
    started = time.monotonic()
    with server.client() as http:
        assert http.post("/v1/chat/completions", json=SHORT).status_code == 200
    assert time.monotonic() - started < 3
    assert server.wait_for_state("qwen", "loaded", admin_key=None)["in_flight_requests"] == 0


@pytest.fixture(scope="module")
def preloaded(tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path) -> Iterator[LiveServer]:
    """One gateway (open mode, the model loaded at start) for the disconnect tests: each leaves it as it found
    it, loaded with no request in flight, or fails."""
    settings = tiny_settings(tmp_path_factory.mktemp("model_cache"), tiny_qwen_dir, lazy_load_models=False)
    with live_server(settings) as server:
        server.wait_for_state("qwen", "loaded", admin_key=None)
        yield server


def test_stream_disconnect_stops_generation(preloaded: LiveServer) -> None:
    server = preloaded
    with (
        server.client() as http,
        http.stream("POST", "/v1/chat/completions", json={**LONG, "stream": True}) as response,
    ):
        lines = response.iter_lines()
        assert next(lines).startswith("data: ")
        next(lines)
    assert_engine_is_free(server)


def test_non_stream_disconnect_stops_generation(preloaded: LiveServer) -> None:
    server = preloaded
    with server.client(timeout=0.5) as http, pytest.raises(httpx.ReadTimeout):
        http.post("/v1/chat/completions", json=LONG)
    assert_engine_is_free(server)


class FailingEngine(LLMEngine):
    name = "failing"
    max_model_len = 4096

    def __init__(self, tokenizer: object) -> None:
        self.tokenizer = tokenizer

    async def generate(self, request: GenerationRequest) -> AsyncIterator[GenerationDelta]:
        yield GenerationDelta("partial", 1)
        raise RuntimeError("device lost")

    async def shutdown(self) -> None:
        pass


class FailingQwen(QwenModel):
    async def _start_engine(self, path, devices):  # type: ignore[no-untyped-def]
        from transformers import AutoTokenizer

        return FailingEngine(AutoTokenizer.from_pretrained(path))


def test_unexpected_errors_are_500_envelopes_with_a_request_id(serve, caplog: pytest.LogCaptureFixture) -> None:
    server = serve(app_options={"wrapper_factories": {"qwen": FailingQwen}, "with_defaults": False})
    with server.client() as http:
        response = http.post("/v1/chat/completions", json=SHORT, headers={"X-Request-ID": "req-123"})
        assert response.status_code == 500
        error = response.json()["error"]
        assert error["type"] == "server_error" and error["code"] == "internal_error"
        assert "req-123" in error["message"] and "device lost" not in error["message"]
        assert response.headers["x-request-id"] == "req-123"
        assert any("req-123" in r.getMessage() for r in caplog.records)
        streamed = http.post("/v1/chat/completions", json={**SHORT, "stream": True}).text
    events = [e for e in streamed.split("\n\n") if e]
    assert '"content":"partial"' in events[1]
    assert '"type": "server_error"' in events[-2] and events[-1] == "data: [DONE]"
