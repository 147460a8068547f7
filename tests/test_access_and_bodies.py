"""The key, the rate limit and the body's size are decided before any body byte is read; forwarded
addresses are trusted only from named proxies; no trailing-slash redirects.

Raw sockets send a request's head and then its body bit by bit, so a test sees how much of the body the
gateway wanted before it answered.
"""

from __future__ import annotations

import json
import select
import socket
import time
from collections.abc import Iterator

import pytest

from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer

KEYS = {"openai_api_keys": f"clientA:{CLIENT_KEY}", "admin_api_keys": f"ops:{ADMIN_KEY}"}
MiB = 2**20


class RawExchange:
    """One HTTP/1.1 request over a plain socket: the head first, then body pieces while no answer came."""

    def __init__(self, server: LiveServer, head: str) -> None:
        self.sock = socket.create_connection(("127.0.0.1", server.port), timeout=30)
        self.sock.sendall(head.encode("latin-1") + b"\r\n")
        self.body_sent = 0
        self.received = b""

    def answered(self, wait_s: float = 0.0) -> bool:
        readable, _, _ = select.select([self.sock], [], [], wait_s)
        if readable:
            chunk = self.sock.recv(65536)
            self.received += chunk
            return True
        return False

    def send_until_answered(self, pieces: Iterator[bytes], size_of: int | None = None) -> bool:
        """Send pieces until the server answers (True) or they run out (False)."""
        for piece in pieces:
            if self.answered():
                return True
            try:
                self.sock.sendall(piece)
            except (BrokenPipeError, ConnectionResetError):
                return self.answered(5)
            self.body_sent += size_of if size_of is not None else len(piece)
        return self.answered(10)

    def response(self, timeout_s: float = 10) -> tuple[int, dict[str, str], dict]:
        deadline = time.monotonic() + timeout_s
        while b"\r\n\r\n" not in self.received or not self._complete():
            if time.monotonic() > deadline:
                raise AssertionError(f"no complete response in {timeout_s} s: {self.received[:200]!r}")
            if not self.answered(0.5) and self._closed():
                break
        head, _, body = self.received.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        headers = dict(line.split(": ", 1) for line in lines[1:])
        return int(lines[0].split()[1]), {k.lower(): v for k, v in headers.items()}, json.loads(body)

    def _complete(self) -> bool:
        head, _, body = self.received.partition(b"\r\n\r\n")
        for line in head.decode("latin-1").split("\r\n"):
            if line.lower().startswith("content-length:"):
                return len(body) >= int(line.split(":")[1])
        return False

    def _closed(self) -> bool:
        readable, _, _ = select.select([self.sock], [], [], 0)
        return bool(readable) and self.sock.recv(1, socket.MSG_PEEK) == b""

    def close(self) -> None:
        self.sock.close()


def head(method: str, path: str, *headers: str) -> str:
    return "\r\n".join([f"{method} {path} HTTP/1.1", "Host: gateway.test", *headers, ""])


def chunked(piece: bytes, count: int) -> Iterator[bytes]:
    """`count` chunks of `piece` in chunked transfer encoding (no final chunk: the body never ends)."""
    frame = f"{len(piece):x}\r\n".encode() + piece + b"\r\n"
    for _ in range(count):
        yield frame


def multipart_file_head() -> bytes:
    """The start of a multipart body whose file part then goes on and on."""
    part = b'--xyz\r\nContent-Disposition: form-data; name="file"; filename="a.wav"\r\nContent-Type: audio/wav\r\n\r\n'
    return f"{len(part):x}\r\n".encode() + part + b"\r\n"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir) -> Iterator[LiveServer]:
    from app.config import Settings
    from tests.conftest import live_server

    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path_factory.mktemp("cache"),
        qwen_model_id=str(tiny_qwen_dir),
        enabled_models=["qwen"],
        max_upload_mb=2,
        max_json_body_mb=1,
        log_level="warning",
        **KEYS,
    )
    with live_server(settings) as server:
        yield server


def test_no_key_is_401_before_a_declared_body_is_sent(guarded: LiveServer) -> None:
    """The issue's case: a 50 MiB JSON body without a key was parsed (+529 MiB) before the 401."""
    exchange = RawExchange(
        guarded, head("POST", "/v1/chat/completions", "Content-Type: application/json", f"Content-Length: {50 * MiB}")
    )
    try:
        status, _, body = exchange.response()
        assert status == 401 and body["error"]["code"] == "invalid_api_key"
        assert exchange.body_sent == 0
    finally:
        exchange.close()


def test_no_key_is_401_before_a_chunked_upload_is_read(guarded: LiveServer) -> None:
    """The issue's case: a chunked 24 MiB upload without a key was spooled in full before the 401."""
    exchange = RawExchange(
        guarded,
        head(
            "POST",
            "/v1/audio/transcriptions",
            "Content-Type: multipart/form-data; boundary=xyz",
            "Transfer-Encoding: chunked",
        ),
    )
    try:
        assert exchange.send_until_answered(chunked(b"\0" * MiB, 24))
        status, _, _ = exchange.response()
        assert status == 401
        assert exchange.body_sent < 24 * MiB
    finally:
        exchange.close()


def test_client_key_on_admin_route_is_403_before_the_body(guarded: LiveServer) -> None:
    exchange = RawExchange(
        guarded,
        head(
            "POST",
            "/api/admin/huggingface/token",
            f"Authorization: Bearer {CLIENT_KEY}",
            "Content-Type: application/json",
            "Content-Length: 100",
        ),
    )
    try:
        status, _, body = exchange.response()
        assert status == 403 and body["error"]["type"] == "permission_error"
    finally:
        exchange.close()


def test_declared_json_body_over_the_limit_is_413_at_once(guarded: LiveServer) -> None:
    exchange = RawExchange(
        guarded,
        head(
            "POST",
            "/v1/chat/completions",
            f"Authorization: Bearer {CLIENT_KEY}",
            "Content-Type: application/json",
            f"Content-Length: {50 * MiB}",
        ),
    )
    try:
        status, headers, body = exchange.response()
        assert status == 413 and exchange.body_sent == 0
        assert body["error"]["code"] == "payload_too_large" and "MAX_JSON_BODY_MB" in body["error"]["message"]
        assert headers["connection"] == "close"
    finally:
        exchange.close()


@pytest.mark.parametrize(
    ("path", "content_type", "variable", "limit"),
    [
        ("/v1/chat/completions", "application/json", "MAX_JSON_BODY_MB", 1 * MiB),
        ("/v1/audio/transcriptions", "multipart/form-data; boundary=xyz", "MAX_UPLOAD_MB", 2 * MiB),
        ("/api/jobs", "multipart/form-data; boundary=xyz", "MAX_UPLOAD_MB", 2 * MiB),
    ],
)
def test_chunked_body_is_counted_and_cut_at_the_limit(
    guarded: LiveServer, path: str, content_type: str, variable: str, limit: int
) -> None:
    exchange = RawExchange(
        guarded,
        head(
            "POST",
            path,
            f"Authorization: Bearer {CLIENT_KEY}",
            f"Content-Type: {content_type}",
            "Transfer-Encoding: chunked",
        ),
    )
    try:
        if content_type.startswith("multipart/"):
            exchange.sock.sendall(multipart_file_head())
        piece = 64 * 1024
        assert exchange.send_until_answered(chunked(b"a" * piece, 24 * MiB // piece), size_of=piece)
        status, headers, body = exchange.response()
        assert status == 413, body
        assert variable in body["error"]["message"] and body["error"]["code"] == "payload_too_large"
        assert headers["connection"] == "close"
        # Answered once the limit was passed, not at the end of the body (socket buffers hold a few MiB).
        assert limit < exchange.body_sent < limit + 8 * MiB
    finally:
        exchange.close()


def test_bodies_under_the_limits_still_work(guarded: LiveServer) -> None:
    with guarded.client(CLIENT_KEY) as http:
        response = http.post(
            "/v1/chat/completions",
            json={"model": "qwen", "messages": [{"role": "user", "content": "x" * 200_000}], "max_tokens": 1},
        )
    # The body is accepted (under 1 MiB); the prompt is then too long for the tiny model's context.
    assert response.status_code == 400 and response.json()["error"]["code"] == "context_length_exceeded"


def test_rate_limit_is_checked_before_the_body(serve) -> None:
    server = serve(rate_limit_rpm=1, **KEYS)
    with server.client(CLIENT_KEY) as http:
        assert http.get("/v1/models").status_code == 200
    exchange = RawExchange(
        server,
        head(
            "POST",
            "/v1/chat/completions",
            f"Authorization: Bearer {CLIENT_KEY}",
            "Content-Type: application/json",
            f"Content-Length: {MiB}",
        ),
    )
    try:
        status, headers, _ = exchange.response()
        assert status == 429 and int(headers["retry-after"]) >= 1 and exchange.body_sent == 0
    finally:
        exchange.close()


def test_every_route_under_v1_and_api_needs_a_key(guarded: LiveServer) -> None:
    from fastapi.routing import APIRoute

    routes = [r for r in guarded.app.routes if isinstance(r, APIRoute)]
    public = {"/health", "/health/ready"}
    # Outside /v1 and /api, only /metrics needs a key (an admin key).
    assert {r.path for r in routes if not r.path.startswith(("/v1/", "/api/"))} == public | {"/metrics"}
    with guarded.client() as http:
        for route in routes:
            if route.path in public:
                continue
            path = route.path_format.replace("{model}", "x").replace("{key}", "qwen").replace("{job_id}", "job_x")
            for method in route.methods:
                response = http.request(method, path)
                assert response.status_code == 401, (method, path, response.status_code)


def test_trailing_slash_is_not_redirected(guarded: LiveServer) -> None:
    with guarded.client() as http:
        anonymous = http.get("/v1/models/", follow_redirects=False)
        assert anonymous.status_code == 401 and "location" not in anonymous.headers
        assert http.get("/health/", follow_redirects=False).status_code == 404
    with guarded.client(ADMIN_KEY) as http:
        response = http.get("/api/admin/status/", headers={"Host": "evil.example"}, follow_redirects=False)
        assert response.status_code == 404 and "location" not in response.headers


def test_forwarded_for_is_ignored_unless_the_proxy_is_named(serve) -> None:
    """Open mode keys the rate limit by client address: a forged X-Forwarded-For must not buy a fresh bucket."""
    server = serve(rate_limit_rpm=2)
    with server.client() as http:
        codes = [http.get("/v1/models", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(3)]
    assert codes == [200, 200, 429]


def test_forwarded_for_from_a_named_proxy_is_the_client(serve) -> None:
    server = serve(rate_limit_rpm=2, forwarded_allow_ips=["127.0.0.1"])
    with server.client() as http:
        distinct = [http.get("/v1/models", headers={"X-Forwarded-For": f"10.0.0.{i}"}).status_code for i in range(3)]
        same = [http.get("/v1/models", headers={"X-Forwarded-For": "10.0.1.1"}).status_code for _ in range(3)]
    assert distinct == [200, 200, 200]
    assert same == [200, 200, 429]
