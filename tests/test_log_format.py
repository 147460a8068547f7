"""LOG_FORMAT=json: every line the served gateway writes is one JSON object, request lines carry the request
id, client and route; keys and tokens never appear, in either format."""

from __future__ import annotations

import json
import logging
import os
import socket
import subprocess
import sys
import time
from pathlib import Path

import httpx
import pytest

from app.infra.log_format import JsonFormatter, TextFormatter
from app.infra.request_records import RequestRecord, open_record, reset_record

BACKEND = Path(__file__).resolve().parents[1] / "backend"
ADMIN = "json-logs-admin-key-0123"
CLIENT = "json-logs-client-key-0123"
HF_TOKEN = "hf_abcdefghijklmnopqrstuvwx"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def serve_and_capture(tmp_path: Path, log_format: str) -> list[str]:
    """Run `inference-gateway serve`, send a few requests, stop it (SIGTERM) and return its output lines."""
    port = free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(BACKEND),
        "API_PORT": str(port),
        "LOG_FORMAT": log_format,
        "ENABLED_MODELS": "qwen",
        "QWEN_MODEL_ID": str(tmp_path / "no-model-here"),
        "MODEL_CACHE_DIR": str(tmp_path / "cache"),
        "FRONTEND_DIST": "",
        "OPENAI_API_KEYS": f"alice:{CLIENT}",
        "ADMIN_API_KEYS": f"ops:{ADMIN}",
        "HUGGINGFACE_TOKEN": HF_TOKEN,
        "CUDA_VISIBLE_DEVICES": "",
    }
    process = subprocess.Popen(
        [sys.executable, "-m", "app.cli", "serve"],
        cwd=tmp_path,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 60
        while True:
            try:
                httpx.get(f"{base}/health", timeout=1)
                break
            except httpx.TransportError:
                assert process.poll() is None and time.monotonic() < deadline, "the gateway did not start"
                time.sleep(0.1)
        headers = {"X-Request-ID": "trace-42", "Authorization": f"Bearer {CLIENT}"}
        assert httpx.get(f"{base}/v1/models", headers=headers).status_code == 200
        assert httpx.get(f"{base}/api/jobs/abc", headers={"Authorization": f"Bearer {ADMIN}"}).status_code == 404
        assert httpx.get(f"{base}/v1/models", headers={"Authorization": "Bearer wrong-key-0123"}).status_code == 401
    finally:
        process.terminate()
        output, _ = process.communicate(timeout=30)
    return [line for line in output.splitlines() if line.strip()]


def test_json_lines_with_request_context_and_no_secrets(tmp_path: Path) -> None:
    lines = serve_and_capture(tmp_path, "json")
    entries = [json.loads(line) for line in lines]  # every line, uvicorn's first ones included
    assert {"time", "level", "logger", "message"} <= set(entries[0])
    assert any("gateway ready" in e["message"] for e in entries)
    traced = [e for e in entries if e.get("request_id") == "trace-42"]
    assert traced and all(e["client"] == "alice" and e["route"] == "/v1/models" for e in traced)
    assert any(e.get("route") == "/api/jobs/{job_id}" and e["client"] == "ops" for e in entries)
    assert any(e.get("client") == "-" and "401" in e["message"] for e in entries)
    text = "\n".join(lines)
    for secret in (ADMIN, CLIENT, HF_TOKEN):
        assert secret not in text


def test_text_lines_have_no_secrets(tmp_path: Path) -> None:
    text = "\n".join(serve_and_capture(tmp_path, "text"))
    assert "gateway ready" in text and '"GET /v1/models HTTP/1.1" 200' in text
    for secret in (ADMIN, CLIENT, HF_TOKEN):
        assert secret not in text


@pytest.mark.parametrize("formatter", [JsonFormatter([ADMIN]), TextFormatter([ADMIN])])
def test_a_line_quoting_a_key_is_redacted(formatter: logging.Formatter) -> None:
    record = logging.LogRecord("app.x", logging.ERROR, __file__, 1, "upstream said %s", (f"Bearer {ADMIN}",), None)
    token = open_record(RequestRecord("r-1", "POST", "/v1/completions", client="alice"))
    try:
        line = formatter.format(record)
    finally:
        reset_record(token)
    assert ADMIN not in line and "***" in line
    if isinstance(formatter, JsonFormatter):
        entry = json.loads(line)
        assert (entry["request_id"], entry["client"], entry["route"]) == ("r-1", "alice", "/v1/completions")
