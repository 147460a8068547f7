"""The gateway's recent log lines (`GET /api/admin/logs`): a bounded buffer, filters, following, no secrets."""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from pathlib import Path

import pytest

from app.infra.log_buffer import MAX_MESSAGE_CHARS, LogBuffer
from tests.conftest import ADMIN_KEY, CLIENT_KEY

KEYS = {"openai_api_keys": f"clientA:{CLIENT_KEY}", "admin_api_keys": f"ops:{ADMIN_KEY}"}
TEST_LOGGER = "app.tests.logs"


@pytest.fixture
def buffer() -> Iterator[LogBuffer]:
    logs = LogBuffer(100, secrets=lambda: ["sk-secret-0123456789", None])
    logger = logging.getLogger(TEST_LOGGER)
    logger.setLevel(logging.DEBUG)
    logs.attach([TEST_LOGGER])
    yield logs
    logs.detach([TEST_LOGGER])


def messages(page: dict) -> list[str]:
    return [e["message"] for e in page["entries"]]


def test_the_buffer_is_bounded_and_keeps_the_newest(buffer: LogBuffer) -> None:
    logger = logging.getLogger(TEST_LOGGER)
    for i in range(250):
        logger.info("line %d", i)
    page = buffer.read(limit=1000).public()
    assert messages(page) == [f"line {i}" for i in range(150, 250)]
    assert [e["id"] for e in page["entries"]] == list(range(151, 251))
    assert page["last_id"] == 250
    assert messages(buffer.read(limit=3).public()) == ["line 247", "line 248", "line 249"]
    assert buffer.read(after=10, limit=2).public()["entries"][0]["message"] == "line 150"  # dropped ones are gone


def test_level_search_and_following(buffer: LogBuffer) -> None:
    logger = logging.getLogger(TEST_LOGGER)
    logger.debug("cache walk")
    logger.info("Loaded qwen")
    logger.warning("queue is filling")
    logger.error("loading canary failed")
    assert messages(buffer.read(level="warning").public()) == ["queue is filling", "loading canary failed"]
    assert messages(buffer.read(query="LOAD").public()) == ["Loaded qwen", "loading canary failed"]
    assert messages(buffer.read(query="tests.logs", level="error").public()) == ["loading canary failed"]
    first = buffer.read(after=0, limit=2).public()
    assert messages(first) == ["cache walk", "Loaded qwen"] and first["last_id"] == 2
    rest = buffer.read(after=first["last_id"], limit=2).public()
    assert messages(rest) == ["queue is filling", "loading canary failed"] and rest["last_id"] == 4
    idle = buffer.read(after=rest["last_id"]).public()
    assert idle == {"entries": [], "last_id": 4}
    logger.info("one more")
    filtered = buffer.read(after=4, level="error").public()
    assert filtered == {"entries": [], "last_id": 5}  # nothing matched, but the reader moves past it
    entry = buffer.read(after=3).public()["entries"][0]
    assert set(entry) == {"id", "time", "level", "logger", "message"}
    assert (entry["level"], entry["logger"]) == ("error", TEST_LOGGER)


def test_long_lines_keep_their_head_and_tail(buffer: LogBuffer) -> None:
    logger = logging.getLogger(TEST_LOGGER)
    try:
        raise ValueError("the cause at the end")
    except ValueError:
        logger.exception("start %s", "x" * 10_000)
    (message,) = messages(buffer.read().public())
    assert len(message) < MAX_MESSAGE_CHARS + 100
    assert message.startswith("start xxx") and message.endswith("ValueError: the cause at the end")


def test_secrets_are_replaced(buffer: LogBuffer) -> None:
    logger = logging.getLogger(TEST_LOGGER)
    logger.warning("key sk-secret-0123456789 in a message")
    logger.warning("headers {'authorization': 'Bearer any-token-at-all'} and hf_abcdefghijklmnop")
    assert messages(buffer.read().public()) == [
        "key *** in a message",
        "headers {'authorization': 'Bearer ***'} and ***",
    ]


def test_a_load_failure_shows_in_the_log(serve, tmp_path: Path) -> None:
    broken = tmp_path / "broken-model"
    broken.mkdir()
    (broken / "config.json").write_text(json.dumps({"model_type": "qwen3"}))
    server = serve(qwen_model_id=str(broken), **KEYS)
    with server.client(ADMIN_KEY) as http:
        before = http.get("/api/admin/logs").json()["last_id"]
        http.post("/api/admin/models/qwen/load")
        server.wait_for_state("qwen", "error")
        page = http.get("/api/admin/logs", params={"after": before, "level": "error", "q": "loading qwen"}).json()
        assert len(page["entries"]) == 1, page
        (line,) = page["entries"]
        assert line["level"] == "error" and line["logger"] == "app.models" and line["id"] > before
        assert line["message"].startswith("loading qwen failed") and "OSError" in line["message"]
        assert http.get("/api/admin/logs", params={"limit": 1001}).status_code == 400
        assert http.get("/api/admin/logs", params={"level": "verbose"}).json()["error"]["param"] == "level"
    with server.client(CLIENT_KEY) as http:
        assert http.get("/api/admin/logs").status_code == 403


def test_keys_and_tokens_never_reach_the_log(serve) -> None:
    server = serve(log_level="debug", **KEYS)
    token = "hf_stored_token_abcdefghijklmnop"
    with server.client(ADMIN_KEY) as admin, server.client(CLIENT_KEY) as client:
        admin.post("/api/admin/huggingface/token", json={"token": token})
        client.post("/v1/chat/completions", json={"model": "qwen", "messages": [{"role": "user", "content": "Hi"}]})
        client.get(f"/v1/models/{ADMIN_KEY}")
        client.get("/v1/models", headers={"Authorization": "", "X-API-Key": CLIENT_KEY})
        client.get("/v1/models", headers={"Authorization": f"Bearer {CLIENT_KEY}x"})
        # A message that quotes them (as an exception text might) has them replaced.
        logging.getLogger("app.tests").error("keys %s %s, token %s", CLIENT_KEY, ADMIN_KEY, token)
        text = json.dumps(admin.get("/api/admin/logs", params={"limit": 1000}).json())
    assert "keys *** ***, token ***" in text
    assert "qwen loaded" in text  # the log is there, at LOG_LEVEL=debug
    for secret in (CLIENT_KEY, ADMIN_KEY, token):
        assert secret not in text
