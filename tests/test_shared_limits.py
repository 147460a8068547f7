"""Several gateways sharing their limits through one real Redis (REDIS_URL): the rate limit budget and the
daily quota counters of a client are one for all of them; Redis going away and coming back; the URL's
password never shown.

The gateways are real processes (`python -m app.cli serve`): two `LiveServer`s in this process would
each have their own limiter and counters, but would share the root logger (and so each other's log
lines in /api/admin/logs) and the process's module state, which processes do not. The Redis server is
Debian's `redis-server` on a free loopback port, without persistence, killed at the end.
"""

from __future__ import annotations

import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import redis
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from app.config import Settings, SettingsError, load_settings, redis_url_secrets
from app.infra.shared_limits import redacted_url
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer

REPO = Path(__file__).resolve().parents[1]
PASSWORD = "redis-pass-7f3a9c41e2"
RPM = 3
CLIENTS = {name: f"{name}-key-0123456789" for name in ("alice", "bob", "carol", "dave", "erin", "quinn", "rita")}
"""quinn and rita have a token quota of 1 a day; every client RPM requests a minute."""
CHAT: dict[str, Any] = {"model": "tiny-qwen", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 2}

pytestmark = pytest.mark.skipif(
    shutil.which("redis-server") is None,
    reason="needs Debian's redis-server (scripts/setup.sh installs it with the test extra)",
)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float = 30, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


class RedisServer:
    """`redis-server` on a loopback port with a password, no persistence; `stop()` kills it as a crash
    would, `start()` brings it back (empty) on the same port."""

    def __init__(self, workdir: Path) -> None:
        self.port = free_port()
        self.workdir = workdir
        self.url = f"redis://:{PASSWORD}@127.0.0.1:{self.port}/0"
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        command = ["redis-server", "--port", str(self.port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"]
        command += ["--requirepass", PASSWORD, "--dir", str(self.workdir)]
        self.process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        client = self.client()
        deadline = time.monotonic() + 15
        while True:
            try:
                if client.ping():
                    break
            except redis.ConnectionError:
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"redis-server did not answer on port {self.port}") from None
                time.sleep(0.02)
        client.close()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGKILL)
            self.process.wait(10)
        self.process = None

    def client(self) -> redis.Redis:
        return redis.Redis(host="127.0.0.1", port=self.port, password=PASSWORD, socket_timeout=5)


class Gateway:
    """`python -m app.cli serve` with the settings given as environment variables, its output in a file."""

    def __init__(self, workdir: Path, environment: dict[str, str]) -> None:
        self.port = free_port()
        self.base_url = f"http://127.0.0.1:{self.port}"
        self.log = workdir / "gateway.log"
        env = {**os.environ, "PYTHONPATH": f"{REPO / 'backend'}{os.pathsep}{REPO}", **environment}
        env.update(API_HOST="127.0.0.1", API_PORT=str(self.port), MODEL_CACHE_DIR=str(workdir / "cache"))
        with self.log.open("wb") as output:
            self.process = subprocess.Popen(
                [sys.executable, "-m", "app.cli", "serve"], cwd=workdir, env=env, stdout=output, stderr=output
            )

    def wait_started(self) -> None:
        def answers() -> bool:
            assert self.process.poll() is None, f"the gateway exited:\n{self.log.read_text()}"
            try:
                return httpx.get(f"{self.base_url}/health", timeout=2).status_code == 200
            except httpx.TransportError:
                return False

        wait_until(answers, timeout=60, what="the gateway to start")

    def stop(self) -> None:
        self.process.terminate()
        try:
            self.process.wait(30)
        except subprocess.TimeoutExpired:
            self.process.kill()
            self.process.wait(10)

    def client(self, key: str | None = None) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=60)

    def sdk(self, client: str) -> openai.OpenAI:
        return openai.OpenAI(base_url=f"{self.base_url}/v1", api_key=CLIENTS[client], max_retries=0)

    def get(self, path: str, client: str | None = None) -> httpx.Response:
        with self.client(CLIENTS[client] if client else ADMIN_KEY) as http:
            return http.get(path)

    def limits(self) -> dict[str, Any]:
        return dict(self.get("/api/admin/status").json()["limits"])

    def metric(self, name: str) -> float:
        """One unlabelled sample of GET /metrics (the admin key)."""
        samples = [
            sample
            for family in text_string_to_metric_families(self.get("/metrics").text)
            for sample in family.samples
            if sample.name == name
        ]
        assert len(samples) == 1, f"{name}: {samples}"
        return float(samples[0].value)

    def quota_tokens(self, client: str) -> int:
        quotas = self.get("/api/admin/quotas").json()["data"]
        return int(next(q for q in quotas if q["client"] == client)["tokens_used"])

    def log_lines(self, fragment: str) -> list[str]:
        return [line for line in self.log.read_text(errors="replace").splitlines() if fragment in line]


@pytest.fixture(scope="module")
def redis_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RedisServer]:
    server = RedisServer(tmp_path_factory.mktemp("redis"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture(scope="module")
def gateways(
    tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path, redis_server: RedisServer
) -> Iterator[tuple[Gateway, Gateway]]:
    """Two gateway processes sharing `redis_server`: the first with REDIS_FAILURE_MODE=open, the second
    closed; RATE_LIMIT_RPM=3, token quotas of 1 for quinn and rita."""
    common = {
        "QWEN_MODEL_ID": str(tiny_qwen_dir),
        "QWEN_SERVED_MODEL_NAME": "tiny-qwen",
        "ENABLED_MODELS": "qwen",
        "OPENAI_API_KEYS": ",".join(f"{name}:{key}" for name, key in CLIENTS.items()),
        "ADMIN_API_KEYS": f"ops:{ADMIN_KEY}",
        "RATE_LIMIT_RPM": str(RPM),
        "QUOTAS": "quinn:tokens_per_day=1;rita:tokens_per_day=1",
        "REDIS_URL": redis_server.url,
        "LOG_LEVEL": "info",
    }
    started: list[Gateway] = []
    try:
        for mode in ("open", "closed"):
            workdir = tmp_path_factory.mktemp(f"gateway-{mode}")
            started.append(Gateway(workdir, {**common, "REDIS_FAILURE_MODE": mode}))
        for gateway in started:
            gateway.wait_started()
        yield started[0], started[1]
    finally:
        for gateway in started:
            gateway.stop()


@pytest.fixture(autouse=True)
def empty_redis(request: pytest.FixtureRequest) -> None:
    """Each test that uses Redis starts from an empty one (no budget spent, no use counted)."""
    if "redis_server" in request.fixturenames:
        server: RedisServer = request.getfixturevalue("redis_server")
        with server.client() as client:
            client.flushdb()


def test_two_gateways_share_one_rate_limit_budget_per_client(
    gateways: tuple[Gateway, Gateway], redis_server: RedisServer
) -> None:
    first, second = gateways
    assert [first.get("/v1/models", "alice").status_code for _ in range(RPM)] == [200] * RPM
    for gateway in (second, first):
        refused = gateway.get("/v1/models", "alice")
        assert refused.status_code == 429, refused.text
        assert refused.json()["error"]["code"] == "rate_limit_exceeded"
        assert f"Rate limit reached for 'alice': {RPM} requests per minute" in refused.json()["error"]["message"]
        # The moving window's exact wait: until alice's first request is a minute old.
        assert 50 <= int(refused.headers["Retry-After"]) <= 60
    assert second.get("/v1/models", "bob").status_code == 200  # another client's budget is its own
    with redis_server.client() as client:
        assert any(b"alice" in key for key in client.keys("inference-gateway:rate*"))
    for gateway, mode in ((first, "open"), (second, "closed")):
        limits = gateway.limits()
        assert (limits["backend"], limits["reachable"], limits["failure_mode"]) == ("redis", True, mode)
        assert limits["rate_limit_algorithm"] == "moving-window"


def test_a_quota_used_on_one_gateway_is_refused_on_the_other(
    gateways: tuple[Gateway, Gateway], redis_server: RedisServer
) -> None:
    first, second = gateways
    usage = first.sdk("quinn").chat.completions.create(**CHAT).usage
    assert usage is not None and usage.total_tokens > 1
    wait_until(lambda: second.quota_tokens("quinn") == usage.total_tokens, what="quinn's tokens seen by the other")
    with redis_server.client() as client:
        (key,) = client.keys("inference-gateway:usage:*:quinn")
        assert int(client.hget(key, "tokens") or 0) == usage.total_tokens
        assert 0 < client.ttl(key) <= 86400 + 3600  # gone an hour after the UTC day ends

    with pytest.raises(openai.RateLimitError) as refused:
        second.sdk("quinn").chat.completions.create(**CHAT)
    error = refused.value.response.json()["error"]
    assert error["code"] == "insufficient_quota"
    assert f"{usage.total_tokens} tokens used today" in error["message"]
    assert 1 <= int(refused.value.response.headers["Retry-After"]) <= 86400
    # Refused before its body was read: the second gateway never loaded the model.
    assert second.get("/api/admin/models/qwen").json()["state"] != "loaded"
    # Each gateway's request log is its own: the second has only its refusal.
    rows = wait_until(lambda: second.get("/api/admin/requests?client=quinn").json()["data"], what="the refusal logged")
    assert [row["status"] for row in rows] == [429]


def test_redis_away_open_serves_closed_refuses_then_both_share_again(
    gateways: tuple[Gateway, Gateway], redis_server: RedisServer
) -> None:
    fail_open, fail_closed = gateways
    redis_server.stop()
    try:
        # Open: served under the gateway's own limits, which still apply (RPM, then 429).
        assert [fail_open.get("/v1/models", "carol").status_code for _ in range(RPM)] == [200] * RPM
        assert fail_open.get("/v1/models", "carol").status_code == 429
        # The quota is checked against the gateway's own count; the tokens are kept for Redis.
        usage = fail_open.sdk("rita").chat.completions.create(**CHAT).usage
        assert usage is not None
        # Closed: refused with 503 while Redis is away; not ready; admin routes still answer.
        refused = fail_closed.get("/v1/models", "carol")
        assert refused.status_code == 503, refused.text
        assert refused.json()["error"]["code"] == "limits_unavailable"
        assert 1 <= int(refused.headers["Retry-After"]) <= 5
        for gateway, ready_status in ((fail_open, 200), (fail_closed, 503)):
            ready = httpx.get(f"{gateway.base_url}/health/ready")
            assert ready.status_code == ready_status, ready.text
            assert ready.json()["limits"] == {"backend": "redis", "reachable": False}
            limits = gateway.limits()
            assert limits["reachable"] is False and limits["outages"] == 1 and limits["unreachable_since"]
            assert limits["url"] == f"redis://:***@127.0.0.1:{redis_server.port}/0"
            assert gateway.metric("gateway_redis_reachable") == 0 and gateway.metric("gateway_redis_outages_total") == 1
        assert fail_open.limits()["quota_updates_pending"] == 1  # rita's tokens, waiting for Redis
        for _ in range(3):
            fail_open.get("/v1/models", "dave")
        # One warning per outage, however many requests met it.
        for gateway, behaviour in ((fail_open, "own in-process limits"), (fail_closed, "refused with 503")):
            (warning,) = gateway.log_lines("is unreachable")
            assert behaviour in warning and "WARNING" in warning
    finally:
        redis_server.start()

    for gateway in (fail_open, fail_closed):  # the probe finds it within a second or so
        wait_until(lambda gateway=gateway: gateway.limits()["reachable"], what="Redis reachable again")
        assert len(gateway.log_lines("answers again")) == 1
        assert gateway.metric("gateway_redis_reachable") == 1
    assert httpx.get(f"{fail_closed.base_url}/health/ready").status_code == 200
    assert fail_closed.get("/v1/models", "dave").status_code == 200
    # What the open gateway counted during the outage reached Redis: the other sees rita's tokens.
    wait_until(lambda: fail_closed.quota_tokens("rita") == usage.total_tokens, what="rita's tokens written")
    with pytest.raises(openai.RateLimitError):
        fail_closed.sdk("rita").chat.completions.create(**CHAT)
    # One budget again (the new Redis is empty).
    assert [fail_open.get("/v1/models", "erin").status_code for _ in range(RPM)] == [200] * RPM
    assert fail_closed.get("/v1/models", "erin").status_code == 429


def test_the_redis_password_is_never_shown(gateways: tuple[Gateway, Gateway], redis_server: RedisServer) -> None:
    """Not in the gateways' output (start-up, requests, the outage if it ran before), their log pages,
    status, readiness or errors."""
    shown: list[str] = []
    for gateway in gateways:
        shown += [gateway.log.read_text(errors="replace"), gateway.get("/api/admin/logs?limit=1000").text]
        shown += [gateway.get("/api/admin/status").text, httpx.get(f"{gateway.base_url}/health/ready").text]
        started = f"shared in Redis at redis://:***@127.0.0.1:{redis_server.port}/0"
        assert gateway.log_lines(started), "the start-up line names the Redis, without its password"
    assert not [text for text in shown if PASSWORD in text]


def test_without_redis_url_the_limits_stay_in_this_process(serve: Callable[..., LiveServer]) -> None:
    server = serve(rate_limit_rpm=2, openai_api_keys=f"alice:{CLIENT_KEY}", admin_api_keys=f"ops:{ADMIN_KEY}")
    with server.client(CLIENT_KEY) as http:
        assert [http.get("/v1/models").status_code for _ in range(3)] == [200, 200, 429]
    with server.client(ADMIN_KEY) as http:
        limits = http.get("/api/admin/status").json()["limits"]
        ready = http.get("/health/ready").json()
    assert limits["backend"] == "memory" and limits["url"] is None and limits["reachable"] is True
    assert limits["rate_limit_algorithm"] == "token-bucket"
    assert ready["limits"] == {"backend": "memory", "reachable": True}
    assert server.state.redis is None


def test_the_redis_url_is_a_secret(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    url = "redis://gateway:p%40ss-w0rd-9@redis.internal:6380/2"
    settings = load_settings(redis_url=url)
    assert "p%40ss" not in repr(settings) and "p@ss" not in repr(settings)
    assert settings.secrets[-3:] == [url, "p%40ss-w0rd-9", "p@ss-w0rd-9"]
    assert redacted_url(url) == "redis://gateway:***@redis.internal:6380/2"
    assert redacted_url("rediss://[::1]:6379/0?password=x") == "rediss://[::1]:6379/0"
    assert redis_url_secrets(SecretStr("redis://h:6379/0?password=q-secret")) == [
        "redis://h:6379/0?password=q-secret",
        "q-secret",
    ]
    assert redis_url_secrets(SecretStr("redis://redis.internal:6379/0")) == []  # named in logs as it is
    assert Settings(_env_file=None, redis_url="").redis_url is None
    with pytest.raises(SettingsError) as refused:
        load_settings(redis_url="http://:hunter2-secret@host:6379")
    assert "REDIS_URL" in str(refused.value) and "hunter2" not in str(refused.value)
