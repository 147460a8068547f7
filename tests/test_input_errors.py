"""Inputs that used to end in a 500: lone UTF-16 surrogates anywhere in a body, bodies that are not JSON,
a Hub token the API would store but could not use. Each is a 400 naming the parameter; nothing is lost."""

from __future__ import annotations

import asyncio
import json
import threading
import time
from pathlib import Path

import pytest

from app.api.json_body import JsonBodyParsers, lone_surrogate_path
from app.config import SettingsError, load_settings
from app.errors import RateLimitError
from app.infra.token_store import TokenStore
from app.services.openai_requests import ChatCompletionRequest
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer

CHAT = {"model": "tiny-qwen", "messages": [{"role": "user", "content": "hi"}], "max_tokens": 2}


def post_raw(server: LiveServer, path: str, body: bytes, key: str = CLIENT_KEY) -> tuple[int, dict]:
    with server.client(key) as http:
        response = http.post(path, content=body, headers={"Content-Type": "application/json"})
    return response.status_code, response.json()


@pytest.mark.parametrize(
    ("path", "body", "param"),
    [
        (
            "/v1/chat/completions",
            b'{"model":"tiny-qwen","messages":[{"role":"user","content":"x\\ud800y"}]}',
            "messages.0.content",
        ),
        (  # the surrogate as raw bytes (CESU-8), which Python's json module also lets through
            "/v1/chat/completions",
            b'{"model":"tiny-qwen","messages":[{"role":"user","content":"x\xed\xa0\x80y"}]}',
            "messages.0.content",
        ),
        (
            "/v1/chat/completions",
            b'{"model":"tiny-qwen","messages":[{"role":"user","content":[{"type":"text","text":"\\udc00"}]}]}',
            "messages.0.content.0.text",
        ),
        ("/v1/chat/completions", b'{"model":"x\\ud800y","messages":[{"role":"user","content":"hi"}]}', "model"),
        (
            "/v1/chat/completions",
            b'{"model":"tiny-qwen","messages":[{"role":"user","content":"hi"}],"stop":"\\ud800"}',
            "stop",
        ),
        ("/v1/completions", b'{"model":"tiny-qwen","prompt":"a\\ud800"}', "prompt"),
        ("/v1/completions", b'{"model":"tiny-qwen","prompt":["ok","a\\udfff"]}', "prompt.1"),
    ],
)
def test_lone_surrogates_are_400_naming_the_parameter(gateway: LiveServer, path: str, body: bytes, param: str) -> None:
    status, answer = post_raw(gateway, path, body)
    assert status == 400, answer
    assert answer["error"]["param"] == param
    assert "lone UTF-16 surrogate" in answer["error"]["message"]


def test_a_valid_surrogate_pair_is_text(gateway: LiveServer) -> None:
    body = json.dumps({**CHAT, "messages": [{"role": "user", "content": "emoji \U0001f600"}]}).encode()
    assert "\\ud83d\\ude00" in body.decode()  # json.dumps writes the pair as escapes
    status, answer = post_raw(gateway, "/v1/chat/completions", body)
    assert status == 200, answer


@pytest.mark.parametrize("body", [b"{not json", b'{"model": "tiny-qwen",', b"\xff\xfe{}", b""])
def test_bodies_that_are_not_json_name_no_parameter(gateway: LiveServer, body: bytes) -> None:
    status, answer = post_raw(gateway, "/v1/chat/completions", body)
    assert status == 400
    assert answer["error"]["param"] is None and answer["error"]["code"] == "invalid_json"
    assert "not valid JSON" in answer["error"]["message"]


def test_admin_bodies_that_are_not_json_name_no_parameter(gateway: LiveServer) -> None:
    status, answer = post_raw(gateway, "/api/admin/models/qwen/unload", b"{oops", key=ADMIN_KEY)
    assert status == 400 and answer["error"]["param"] is None


def test_odd_model_names_in_paths_and_forms_are_4xx(gateway: LiveServer) -> None:
    with gateway.client(CLIENT_KEY) as http:
        retrieved = http.get("/v1/models/x%ED%A0%80y")
        assert retrieved.status_code == 404 and retrieved.json()["error"]["code"] == "model_not_found"
        form = http.post(
            "/v1/audio/transcriptions",
            content=b'--b\r\nContent-Disposition: form-data; name="model"\r\n\r\nx\xed\xa0\x80\r\n--b--\r\n',
            headers={"Content-Type": "multipart/form-data; boundary=b"},
        )
        assert 400 <= form.status_code < 500


def health_worst_while(server: LiveServer, path: str, body: bytes) -> tuple[int, float]:
    """The status of one large request, and the slowest `/health` answer while it was handled."""
    result: dict[str, int] = {}

    def send() -> None:
        with server.client(CLIENT_KEY) as http:
            result["status"] = http.post(path, content=body, headers={"Content-Type": "application/json"}).status_code

    sender = threading.Thread(target=send)
    worst = 0.0
    with server.client() as http:
        sender.start()
        while sender.is_alive():
            started = time.perf_counter()
            assert http.get("/health").status_code == 200
            worst = max(worst, time.perf_counter() - started)
    sender.join()
    return result["status"], worst


@pytest.mark.parametrize(
    ("path", "body", "status"),
    [
        # 2,048 messages (OpenAI's most) of 400 characters: validated in a worker process.
        (
            "/v1/chat/completions",
            {**CHAT, "messages": [{"role": "user", "content": "word " * 80}] * 2048, "max_tokens": 100_000},
            400,  # the prompt is longer than the tiny model's context
        ),
        # 400,000 empty token lists: refused by the worker, not validated in the gateway's process.
        ("/v1/completions", {"model": "tiny-qwen", "prompt": [[1]] * 400_000}, 400),
        # 3 MiB of logit_bias entries: too many values to bring back.
        ("/v1/chat/completions", {**CHAT, "logit_bias": {str(i): 0 for i in range(300_000)}}, 400),
    ],
)
def test_large_bodies_do_not_hold_up_other_requests(gateway: LiveServer, path: str, body: dict, status: int) -> None:
    """pydantic validates in one call that holds the interpreter lock: a thread would stall every other
    request for the length of it (0.6 s for 4 MiB of tiny messages); a worker process does not."""
    data = json.dumps(body, separators=(",", ":")).encode()
    assert len(data) > 64 * 1024
    answered, worst = health_worst_while(gateway, path, data)
    assert answered == status
    assert worst < 0.25, f"/health waited {worst * 1000:.0f} ms"


@pytest.mark.parametrize(
    ("body", "param", "code"),
    [
        ({**CHAT, "messages": [{"role": "user", "content": "x"}] * 2049}, "messages", "invalid_value"),
        (
            {**CHAT, "messages": [{"role": "user", "content": "x" * 70_000 + "\ud800"}]},
            "messages.0.content",
            "invalid_value",
        ),
        ({**CHAT, "logit_bias": {str(i): 0 for i in range(70_000)}}, None, "too_many_values"),
        ({**CHAT, "tools": [{"type": "function", "function": {"name": "f" * 600}}] * 129}, "tools", "invalid_value"),
    ],
)
def test_large_bodies_are_refused_like_small_ones(
    gateway: LiveServer, body: dict, param: str | None, code: str
) -> None:
    data = json.dumps(body).encode()  # a lone surrogate stays the JSON escape \\ud800
    assert len(data) > 64 * 1024  # through a worker process
    status, answer = post_raw(gateway, "/v1/chat/completions", data)
    assert status == 400, answer
    assert (answer["error"]["param"], answer["error"]["code"]) == (param, code)


def test_parsing_workers_take_a_bounded_number_of_bodies() -> None:
    body = json.dumps({**CHAT, "messages": [{"role": "user", "content": "x" * 100_000}]}).encode()

    async def two_at_once() -> None:
        parsers = JsonBodyParsers(workers=1, pending_max=1)
        try:
            first = asyncio.ensure_future(parsers.parse(ChatCompletionRequest, body))
            await asyncio.sleep(0)  # the first one is pending
            with pytest.raises(RateLimitError) as caught:
                await parsers.parse(ChatCompletionRequest, body)
            assert caught.value.code == "queue_full" and caught.value.headers["Retry-After"] == "1"
            assert len((await first).messages[0].content) == 100_000
        finally:
            parsers.stop()

    asyncio.run(two_at_once())


# --- the Hugging Face token -----------------------------------------------------------------------
def test_a_rejected_token_changes_nothing(serve) -> None:
    server = serve(openai_api_keys=f"clientA:{CLIENT_KEY}", admin_api_keys=f"ops:{ADMIN_KEY}")
    folder = server.state.settings.model_cache_dir
    with server.client(ADMIN_KEY) as http:
        assert http.post("/api/admin/huggingface/token", json={"token": "hf_good_token_1234"}).status_code == 200
        for bad in ["hf_\ud800x", "hf_ with space", "hf_é", "x" * 300]:
            refused = http.post(
                "/api/admin/huggingface/token",
                content=json.dumps({"token": bad}).encode(),
                headers={"Content-Type": "application/json"},
            )
            assert refused.status_code == 400, refused.text
            assert refused.json()["error"]["param"] == "token"
        assert http.get("/api/admin/huggingface/token").json() == {"configured": True, "last4": "1234"}
        assert http.get("/api/admin/status").status_code == 200
    assert (folder / ".hf_token").read_text() == "hf_good_token_1234"
    assert sorted(p.name for p in folder.iterdir() if p.name.startswith(".hf_token")) == [".hf_token"]


def test_an_invalid_token_in_the_environment_stops_the_start(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("HUGGINGFACE_TOKEN", "hf_ bad")
    with pytest.raises(SettingsError, match="HUGGINGFACE_TOKEN"):
        load_settings(_env_file=None)


def test_a_saved_file_without_a_valid_token_is_ignored(tmp_path: Path) -> None:
    (tmp_path / ".hf_token").write_bytes(b"hf_\xed\xa0\x80")
    assert TokenStore(tmp_path / ".hf_token").get() is None
    (tmp_path / ".hf_token").write_text("  hf_saved_1234\n")
    assert TokenStore(tmp_path / ".hf_token").get() == "hf_saved_1234"


def test_lone_surrogate_path_walks_keys_and_lists() -> None:
    assert lone_surrogate_path({"a": [1, {"b": "ok"}, {"c": "\ud800"}]}) == "a.2.c"
    assert lone_surrogate_path({"k\udc00": 1}) == "k\\udc00"
    assert lone_surrogate_path(["fine", {"x": None}]) is None
    deep: object = "\ud800"
    for _ in range(50_000):
        deep = [deep]
    assert lone_surrogate_path(deep) == ".".join(["0"] * 50_000)
