"""LLM slots served by upstream OpenAI-compatible servers (`engine: upstream`), through the official SDK.

The upstreams are real HTTP servers on loopback: two gateway processes serving the tiny Qwen3 (a real
OpenAI-compatible server, killed and restarted like a vLLM replica), and a small misbehaving server whose
replicas each fail in one way (`/<mode>/v1`: 500s, 503s, a slow first byte, a connection cut mid-stream, the
wrong content type, an error that quotes the upstream key, a stream that never ends).
"""

from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest
import yaml
from aiohttp import web

import app
from app.config import Settings, SettingsError, load_settings
from app.engines import upstream as upstream_engine
from app.models.upstream import UpstreamLLMModel
from app.services.slot_bindings import build_wrapper
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server

UPSTREAM_KEY = "upstream-secret-0123456789"
UPSTREAM_ADMIN_KEY = "upstream-admin-0123456789"
UPSTREAM_MODEL = "tiny-upstream"
BACKEND = str(Path(app.__file__).resolve().parents[1])
HELLO = [{"role": "user", "content": "Say hello"}]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def wait_until(condition: Callable[[], Any], timeout: float = 20, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while True:
        value = condition()
        if value:
            return value
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.02)


# --- the upstreams ----------------------------------------------------------------------------------------
class GatewayProcess:
    """A gateway serving the tiny Qwen3 in a process of its own (`inference-gateway serve`), keyed with the
    upstream key: the front gateway's client key is refused there."""

    def __init__(self, workdir: Path, tiny_qwen_dir: Path) -> None:
        workdir.mkdir(parents=True, exist_ok=True)
        self.workdir = workdir
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}/v1"
        inherited = {k: v for k, v in os.environ.items() if not k.startswith(("QWEN_", "OPENAI_", "ADMIN_", "MODELS_"))}
        self.env = {
            **inherited,
            "PYTHONPATH": BACKEND,
            "HF_HUB_OFFLINE": "1",
            "MODEL_CACHE_DIR": str(workdir / "cache"),
            "QWEN_MODEL_ID": str(tiny_qwen_dir),
            "QWEN_SERVED_MODEL_NAME": UPSTREAM_MODEL,
            "ENABLED_MODELS": "qwen",
            "LAZY_LOAD_MODELS": "false",
            "OPENAI_API_KEYS": f"front:{UPSTREAM_KEY}",
            "ADMIN_API_KEYS": f"ops:{UPSTREAM_ADMIN_KEY}",
            "API_HOST": "127.0.0.1",
            "API_PORT": str(self.port),
            "LOG_LEVEL": "warning",
        }
        self.process: subprocess.Popen[bytes] | None = None

    def start(self) -> None:
        with open(self.workdir / "gateway.log", "ab") as log:
            command = [sys.executable, "-m", "app.cli", "serve"]
            self.process = subprocess.Popen(command, env=self.env, cwd=self.workdir, stdout=log, stderr=log)

    def wait_loaded(self, timeout: float = 90) -> None:
        headers = {"Authorization": f"Bearer {UPSTREAM_ADMIN_KEY}"}

        def loaded() -> bool:
            assert self.process is not None and self.process.poll() is None, (self.workdir / "gateway.log").read_text()
            try:
                status = httpx.get(f"http://127.0.0.1:{self.port}/api/admin/models/qwen", headers=headers, timeout=2)
            except httpx.HTTPError:
                return False
            return status.status_code == 200 and status.json()["state"] == "loaded"

        wait_until(loaded, timeout, f"the upstream gateway on port {self.port}")

    def kill(self) -> None:
        """As a crashed replica: no goodbye to its connections."""
        if self.process is not None and self.process.poll() is None:
            self.process.kill()
            self.process.wait(10)

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.send_signal(signal.SIGINT)
            try:
                self.process.wait(30)
            except subprocess.TimeoutExpired:
                self.kill()


class Misbehaving:
    """An OpenAI-shaped server on loopback (aiohttp, in a thread) whose replica `/<mode>/v1` behaves as `mode`
    says; it records what each request carried, and when a client left a never-ending answer."""

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.client_left = threading.Event()
        self.started = threading.Event()
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.port = 0

    def url(self, mode: str) -> str:
        return f"http://127.0.0.1:{self.port}/{mode}/v1"

    def __enter__(self) -> Misbehaving:
        self.thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self.loop).result(10)
        return self

    def __exit__(self, *exc: object) -> None:
        asyncio.run_coroutine_threadsafe(self.runner.cleanup(), self.loop).result(10)
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(10)
        self.loop.close()

    async def _start(self) -> None:
        application = web.Application()
        application.router.add_get("/{mode}/health", self.health)
        application.router.add_get("/{mode}/v1/models", self.models)
        application.router.add_post("/{mode}/v1/{kind:chat/completions|completions}", self.generate)
        self.runner = web.AppRunner(application, handler_cancellation=True, access_log=None)
        await self.runner.setup()
        site = web.TCPSite(self.runner, "127.0.0.1", 0)
        await site.start()
        self.port = self.runner.addresses[0][1]

    async def health(self, request: web.Request) -> web.Response:
        mode = request.match_info["mode"]
        if mode == "nohealth":
            return web.Response(status=404)
        return web.Response(status=500 if mode == "sick" else 200)

    async def models(self, request: web.Request) -> web.Response:
        return web.json_response({"object": "list", "data": [{"id": "m", "object": "model"}]})

    async def generate(self, request: web.Request) -> web.StreamResponse:
        mode = request.match_info["mode"]
        body = await request.json()
        self.requests.append({"mode": mode, "headers": dict(request.headers), "body": body})
        if mode == "err500":
            return web.json_response({"error": {"message": "the engine crashed", "type": "InternalError"}}, status=500)
        if mode == "err503":
            return web.json_response({"error": {"message": "overloaded"}}, status=503)
        if mode == "echo400":  # vLLM's older flat error form, quoting what it was sent
            message = f"bad request, sent with {request.headers.get('Authorization')}"
            return web.json_response({"object": "error", "message": message, "type": "BadRequestError"}, status=400)
        if mode == "html":
            return web.Response(text="<html>maintenance</html>", content_type="text/html")
        if mode == "slow":
            await asyncio.sleep(3)
        if mode == "endless":
            return await self._endless(request, body)
        if mode == "hugeevent":  # one event that never ends: bytes without a blank line
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            for _ in range(5 * 64):
                await response.write(b"data: " + b"x" * 16384)
            await response.write_eof()
            return response
        if not body.get("stream"):
            return web.json_response(answer(body, request.match_info["kind"]))
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        for chunk in chunks(body):
            await response.write(f"data: {json.dumps(chunk)}\n\n".encode())
            if mode == "cut" and chunk["choices"] and chunk["choices"][0]["delta"].get("content"):
                assert request.transport is not None
                request.transport.close()  # mid-stream, mid-body: the replica died
                return response
        if mode != "nodone":
            await response.write(b"data: [DONE]\n\n")
        await response.write_eof()
        return response

    async def _endless(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        try:
            if not body.get("stream"):
                await asyncio.sleep(60)
            response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
            await response.prepare(request)
            while True:
                await response.write(
                    b'data: {"id":"x","model":"m","choices":[{"index":0,"delta":{"content":"a"}}]}\n\n'
                )
                await asyncio.sleep(0.02)
        except (asyncio.CancelledError, ConnectionError):
            self.client_left.set()
            raise


def answer(body: dict[str, Any], kind: str) -> dict[str, Any]:
    usage = {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}
    if kind == "completions":
        return {"id": "cmpl-1", "object": "text_completion", "created": 1, "model": body["model"],
                "choices": [{"index": 0, "text": "Hello", "finish_reason": "stop"}], "usage": usage}  # fmt: skip
    message = {"role": "assistant", "content": "Hello"}
    return {"id": "chatcmpl-1", "object": "chat.completion", "created": 1, "model": body["model"],
            "choices": [{"index": 0, "message": message, "finish_reason": "stop"}], "usage": usage}  # fmt: skip


def chunks(body: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """vLLM's stream (written with spaces after the separators, unlike vLLM: the relay must parse those)."""
    head = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": body["model"]}
    yield {**head, "choices": [{"index": 0, "delta": {"role": "assistant", "content": ""}, "finish_reason": None}]}
    for text in ("Hel", "lo"):
        yield {**head, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}]}
    yield {**head, "choices": [{"index": 0, "delta": {}, "finish_reason": "stop"}]}
    if (body.get("stream_options") or {}).get("include_usage"):
        yield {**head, "choices": [], "usage": {"prompt_tokens": 7, "completion_tokens": 2, "total_tokens": 9}}


# --- fixtures ---------------------------------------------------------------------------------------------
@pytest.fixture(scope="module")
def replicas(tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path) -> Iterator[list[GatewayProcess]]:
    processes = [GatewayProcess(tmp_path_factory.mktemp(f"replica-{i}"), tiny_qwen_dir) for i in range(2)]
    try:
        for process in processes:
            process.start()
        for process in processes:
            process.wait_loaded()
        yield processes
    finally:
        for process in processes:
            process.stop()


def front_settings(tmp_path: Path, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "model_cache_dir": tmp_path / "front-cache",
        "enabled_models": ["qwen"],
        "qwen_engine": "upstream",
        "qwen_model_id": "org/served-upstream",
        "qwen_upstream_model": UPSTREAM_MODEL,
        "qwen_upstream_api_key": UPSTREAM_KEY,
        "qwen_upstream_health_interval_s": 0.1,
        "qwen_upstream_connect_timeout_s": 2,
        "openai_api_keys": f"clientA:{CLIENT_KEY}",
        "admin_api_keys": f"ops:{ADMIN_KEY}",
        "log_level": "info",
        **overrides,
    }
    return load_settings(**values)


@pytest.fixture(scope="module")
def front(tmp_path_factory: pytest.TempPathFactory, replicas: list[GatewayProcess]) -> Iterator[LiveServer]:
    """A gateway whose `qwen` slot is the two replicas."""
    urls = ",".join(r.url for r in replicas)
    with live_server(front_settings(tmp_path_factory.mktemp("front"), qwen_upstream_urls=urls)) as server:
        yield server


@pytest.fixture(scope="module")
def misbehaving() -> Iterator[Misbehaving]:
    with Misbehaving() as server:
        yield server


MODES = ("ok", "err500", "err503", "echo400", "html", "slow", "cut", "nodone", "endless", "nohealth", "hugeevent")


@pytest.fixture(scope="module")
def faulty_front(tmp_path_factory: pytest.TempPathFactory, misbehaving: Misbehaving) -> Iterator[LiveServer]:
    """A gateway with one upstream slot per misbehaviour (a models file), each named after it."""
    tmp_path = tmp_path_factory.mktemp("faulty-front")
    slots = [
        {
            "key": mode,
            "role": "llm",
            "model_id": f"org/{mode}",
            "engine": "upstream",
            "upstream_urls": [misbehaving.url(mode)],
            "upstream_api_key": UPSTREAM_KEY,
            "upstream_health_interval_s": 0.1,
            "upstream_read_timeout_s": 0.5 if mode == "slow" else 30,
        }
        for mode in MODES
    ]
    models = tmp_path / "models.yaml"
    models.write_text(yaml.safe_dump({"slots": slots}))
    settings = front_settings(tmp_path, enabled_models=[], models_config=models)
    with live_server(settings) as server:
        yield server


def sdk(server: LiveServer, **options: Any) -> openai.OpenAI:
    return openai.OpenAI(base_url=server.base_url + "/v1", api_key=CLIENT_KEY, max_retries=0, **options)


def direct(replica: GatewayProcess) -> openai.OpenAI:
    return openai.OpenAI(base_url=replica.url, api_key=UPSTREAM_KEY, max_retries=0)


def replicas_of(server: LiveServer, key: str = "qwen") -> list[dict[str, Any]]:
    with server.client(ADMIN_KEY) as http:
        replicas: list[dict[str, Any]] = http.get("/api/admin/status").json()
    return next(m for m in replicas["models"] if m["key"] == key)["server"]["replicas"]  # type: ignore[index]


def requests_per_replica(server: LiveServer) -> list[int]:
    return [r["requests"] for r in replicas_of(server)]


# --- relaying through the SDK ---------------------------------------------------------------------------
def test_chat_and_completions_answer_as_the_upstream_does(front: LiveServer, replicas: list[GatewayProcess]) -> None:
    """Greedy requests through the front gateway answer what the upstream answers directly (text, finish and
    usage), under the name the client used; stream and not, n, stop, chat and completions."""
    client, upstream = sdk(front), direct(replicas[0])
    options: dict[str, Any] = {"max_tokens": 8, "temperature": 0, "stop": ["\n\n"], "n": 2}
    relayed = client.chat.completions.create(model="qwen", messages=HELLO, **options)
    reference = upstream.chat.completions.create(model=UPSTREAM_MODEL, messages=HELLO, **options)
    assert relayed.model == "qwen"
    assert [c.message.content for c in relayed.choices] == [c.message.content for c in reference.choices]
    assert [c.finish_reason for c in relayed.choices] == [c.finish_reason for c in reference.choices]
    assert relayed.usage == reference.usage and relayed.usage is not None and relayed.usage.completion_tokens > 0

    stream = client.chat.completions.create(
        model="org/served-upstream", messages=HELLO, stream=True, stream_options={"include_usage": True}, **options
    )
    texts, usage = ["", ""], None
    for chunk in stream:
        assert chunk.model == "org/served-upstream"
        for choice in chunk.choices:
            texts[choice.index] += choice.delta.content or ""
        usage = chunk.usage or usage
    assert texts == [c.message.content for c in reference.choices] and usage == reference.usage

    plain = list(client.chat.completions.create(model="qwen", messages=HELLO, stream=True, max_tokens=4))
    assert plain and all(c.usage is None and c.choices for c in plain)  # the usage chunk it did not ask for is hidden

    completion = client.completions.create(model="qwen", prompt="Once upon", max_tokens=6, temperature=0)
    expected = upstream.completions.create(model=UPSTREAM_MODEL, prompt="Once upon", max_tokens=6, temperature=0)
    assert completion.choices[0].text == expected.choices[0].text and completion.usage == expected.usage
    streamed = client.completions.create(model="qwen", prompt="Once upon", max_tokens=6, temperature=0, stream=True)
    assert "".join(c.choices[0].text for c in streamed if c.choices) == expected.choices[0].text


def generated_tokens(server: LiveServer) -> float:
    with server.client(ADMIN_KEY) as http:
        metrics = http.get("/metrics").text
    prefix = 'gateway_llm_generated_tokens_total{client="clientA",model="org/served-upstream"} '
    return sum(float(line.removeprefix(prefix)) for line in metrics.splitlines() if line.startswith(prefix))


def test_the_usage_of_a_stream_is_counted_even_unasked(front: LiveServer, replicas: list[GatewayProcess]) -> None:
    """The client asks no usage; the upstream's, asked for on its behalf, still reaches the metrics (and so the
    request log and the quotas, which read the same record)."""
    options: dict[str, Any] = {"max_tokens": 7, "temperature": 0}
    expected = direct(replicas[0]).chat.completions.create(model=UPSTREAM_MODEL, messages=HELLO, **options).usage
    assert expected is not None
    before = generated_tokens(front)
    list(sdk(front).chat.completions.create(model="qwen", messages=HELLO, stream=True, **options))
    wait_until(lambda: generated_tokens(front) == before + expected.completion_tokens, what="the tokens counted")


def test_chat_alias_answers_like_chat_completions(front: LiveServer) -> None:
    body = {"model": "qwen", "messages": HELLO, "max_tokens": 4, "temperature": 0}
    with front.client(CLIENT_KEY) as http:
        alias, chat = http.post("/v1/chat", json=body), http.post("/v1/chat/completions", json=body)
        document = http.get("/openapi.json").json()
    assert alias.status_code == chat.status_code == 200
    assert alias.json()["choices"] == chat.json()["choices"] and alias.json()["usage"] == chat.json()["usage"]
    assert "post" in document["paths"]["/v1/chat"]
    with httpx.Client(base_url=front.base_url) as anonymous:
        assert anonymous.post("/v1/chat", json=body).status_code == 401


def test_both_replicas_receive_work(front: LiveServer) -> None:
    before = requests_per_replica(front)
    client = sdk(front)
    for _ in range(4):
        client.completions.create(model="qwen", prompt="Hi", max_tokens=2)
    after = requests_per_replica(front)
    assert [b - a for a, b in zip(before, after, strict=True)] == [2, 2]
    assert all(r["state"] == "up" and r["in_flight"] == 0 and r["latency_ms"] > 0 for r in replicas_of(front))


def test_our_limits_apply_before_the_upstream(front: LiveServer) -> None:
    client = sdk(front)
    with pytest.raises(openai.BadRequestError) as refused:
        client.chat.completions.create(model="qwen", messages=HELLO, n=9)
    assert refused.value.body["param"] == "n"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError) as unsupported:
        client.chat.completions.create(model="qwen", messages=HELLO, logprobs=True)
    assert unsupported.value.body["code"] == "unsupported_parameter"  # type: ignore[index]


def test_an_upstream_4xx_is_the_clients_error(front: LiveServer) -> None:
    """The upstream refuses a context overflow: the client gets its status and message in our envelope."""
    with pytest.raises(openai.BadRequestError) as refused:
        sdk(front).completions.create(model="qwen", prompt="Hi", max_tokens=1_000_000)
    assert "maximum context length" in refused.value.message
    assert refused.value.body["type"] == "invalid_request_error"  # type: ignore[index]


def test_drain_takes_a_replica_out_until_undrained(front: LiveServer, replicas: list[GatewayProcess]) -> None:
    client = sdk(front)
    target = replicas[0].url
    with front.client(ADMIN_KEY) as admin:
        drained = admin.post("/api/admin/models/qwen/replicas/drain", json={"url": target})
        assert drained.status_code == 200
        assert drained.json()["server"]["replicas"][0]["state"] == "draining"
        before = requests_per_replica(front)
        for _ in range(3):
            client.completions.create(model="qwen", prompt="Hi", max_tokens=2)
        assert [b - a for a, b in zip(before, requests_per_replica(front), strict=True)] == [0, 3]
        assert admin.post("/api/admin/models/qwen/replicas/undrain", json={"url": target}).status_code == 200
        before = requests_per_replica(front)
        for _ in range(2):
            client.completions.create(model="qwen", prompt="Hi", max_tokens=2)
        assert [b - a for a, b in zip(before, requests_per_replica(front), strict=True)] == [1, 1]

        unknown = admin.post("/api/admin/models/qwen/replicas/drain", json={"url": "http://elsewhere:1/v1"})
        assert unknown.status_code == 404 and unknown.json()["error"]["param"] == "url"
        missing = admin.post("/api/admin/models/nope/replicas/drain", json={"url": target})
        assert missing.status_code == 404
    with front.client(CLIENT_KEY) as http:
        assert http.post("/api/admin/models/qwen/replicas/drain", json={"url": target}).status_code == 403
    with front.client(ADMIN_KEY) as admin:
        document = admin.get("/openapi.json").json()
    assert {"/api/admin/models/{key}/replicas/drain", "/api/admin/models/{key}/replicas/undrain"} <= set(
        document["paths"]
    )


def test_a_killed_replica_is_avoided_then_used_again(front: LiveServer, replicas: list[GatewayProcess]) -> None:
    """Kill one replica: every new request is answered (by the other), the dead one shows `down`; restarted, it
    is checked back in and takes requests again."""
    client = sdk(front)
    killed = replicas[1]
    killed.kill()
    for _ in range(6):
        assert client.completions.create(model="qwen", prompt="Hi", max_tokens=2).choices
    wait_until(lambda: replicas_of(front)[1]["state"] == "down", what="the killed replica to be down")
    status = replicas_of(front)[1]
    assert status["healthy"] is False and status["last_error"]["message"]

    killed.start()
    killed.wait_loaded()
    wait_until(lambda: replicas_of(front)[1]["state"] == "up", what="the replica to be up again")
    before = requests_per_replica(front)
    for _ in range(4):
        client.completions.create(model="qwen", prompt="Hi", max_tokens=2)
    assert requests_per_replica(front)[1] - before[1] == 2


def test_all_replicas_down_is_503_with_retry_after(tmp_path: Path) -> None:
    dead = [f"http://127.0.0.1:{free_port()}/v1" for _ in range(2)]
    with live_server(front_settings(tmp_path, qwen_upstream_urls=",".join(dead))) as server:
        with server.client(CLIENT_KEY) as http:
            answer = http.post("/v1/chat/completions", json={"model": "qwen", "messages": HELLO})
        assert answer.status_code == 503 and int(answer.headers["retry-after"]) >= 1
        assert answer.json()["error"]["type"] == "service_unavailable_error"
        assert answer.json()["error"]["code"] == "upstream_unavailable"
        assert all(r["state"] == "down" for r in replicas_of(server))


# --- misbehaving upstreams ------------------------------------------------------------------------------
def test_client_keys_stay_here_and_the_upstream_key_stays_secret(
    faulty_front: LiveServer, misbehaving: Misbehaving
) -> None:
    client = sdk(faulty_front)
    client.chat.completions.create(model="ok", messages=HELLO, extra_headers={"X-Request-ID": "trace-me"})
    seen = misbehaving.requests[-1]
    assert seen["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}" and CLIENT_KEY not in json.dumps(seen)
    assert seen["headers"]["X-Request-ID"] == "trace-me" and seen["body"]["model"] == "org/ok"

    with pytest.raises(openai.BadRequestError) as refused:  # an upstream that quotes the key back
        client.chat.completions.create(model="echo400", messages=HELLO)
    assert UPSTREAM_KEY not in refused.value.message and "Bearer **********" in refused.value.message
    with faulty_front.client(ADMIN_KEY) as admin:
        status, logs = admin.get("/api/admin/status").text, admin.get("/api/admin/logs?limit=1000").text
    assert UPSTREAM_KEY not in status and UPSTREAM_KEY not in logs
    assert UPSTREAM_KEY not in repr(faulty_front.state.settings)


def test_a_stream_from_a_server_that_writes_otherwise(faulty_front: LiveServer) -> None:
    """Events written with spaces are parsed and renamed; the usage chunk is passed on only when asked for."""
    client = sdk(faulty_front)
    events = list(client.chat.completions.create(model="ok", messages=HELLO, stream=True))
    assert {e.model for e in events} == {"ok"} and all(e.choices for e in events)
    assert "".join(e.choices[0].delta.content or "" for e in events) == "Hello"
    events = list(
        client.chat.completions.create(model="ok", messages=HELLO, stream=True, stream_options={"include_usage": True})
    )
    assert events[-1].usage is not None and events[-1].usage.total_tokens == 9 and events[-1].model == "ok"


@pytest.mark.parametrize(
    ("mode", "code"),
    [
        ("err500", "upstream_error"),
        ("html", "upstream_error"),
        ("slow", "upstream_error"),
        ("err503", "upstream_unavailable"),
    ],
)
def test_upstream_failures_are_503_with_retry_after(faulty_front: LiveServer, mode: str, code: str) -> None:
    with faulty_front.client(CLIENT_KEY) as http:
        for stream in (False, True):
            body = {"model": mode, "messages": HELLO, "stream": stream}
            answer = http.post("/v1/chat/completions", json=body)
            assert answer.status_code == 503, answer.text
            assert int(answer.headers["retry-after"]) >= 1
            error = answer.json()["error"]
            assert error["type"] == "service_unavailable_error" and error["code"] == code
    failed = replicas_of(faulty_front, mode)[0]
    assert failed["last_error"]["message"] and failed["failures"] >= 2


def test_a_stream_cut_mid_way_ends_with_an_error_event(faulty_front: LiveServer) -> None:
    for mode in ("cut", "nodone"):
        with (
            faulty_front.client(CLIENT_KEY) as http,
            http.stream("POST", "/v1/chat/completions", json={"model": mode, "messages": HELLO, "stream": True}) as r,
        ):
            assert r.status_code == 200
            events = [line.removeprefix("data: ") for line in r.iter_lines() if line]
        assert events[-1] == "[DONE]"
        error = json.loads(events[-2])["error"]
        assert error["code"] == "upstream_error" and error["type"] == "service_unavailable_error"
        assert json.loads(events[1])["choices"][0]["delta"]["content"] == "Hel"


def test_an_answer_past_the_limit_is_refused(faulty_front: LiveServer, monkeypatch: pytest.MonkeyPatch) -> None:
    """A non-streamed answer is read whole, so it has a ceiling (MAX_JSON_BYTES, lowered here to 64 bytes)."""
    monkeypatch.setattr(upstream_engine, "MAX_JSON_BYTES", 64)
    with faulty_front.client(CLIENT_KEY) as http:
        refused = http.post("/v1/chat/completions", json={"model": "ok", "messages": HELLO})
    assert refused.status_code == 503 and refused.headers["Retry-After"]
    error = refused.json()["error"]
    assert error["code"] == "upstream_error" and "an answer larger than" in error["message"]


def test_a_stream_event_past_the_limit_is_broken_off(faulty_front: LiveServer) -> None:
    """An upstream that streams megabytes without ending an event: the relay does not keep gathering them."""
    with (
        faulty_front.client(CLIENT_KEY) as http,
        http.stream(
            "POST", "/v1/chat/completions", json={"model": "hugeevent", "messages": HELLO, "stream": True}
        ) as r,
    ):
        assert r.status_code == 200
        events = [line.removeprefix("data: ") for line in r.iter_lines() if line]
    assert events[-1] == "[DONE]"
    error = json.loads(events[-2])["error"]
    assert error["code"] == "upstream_error" and "larger than 4 MiB" in error["message"]


def test_a_client_that_leaves_closes_the_upstream_request(faulty_front: LiveServer, misbehaving: Misbehaving) -> None:
    for stream in (True, False):
        misbehaving.client_left.clear()
        with faulty_front.client(CLIENT_KEY, timeout=1) as http:
            body = {"model": "endless", "messages": HELLO, "stream": stream}
            if stream:
                with http.stream("POST", "/v1/chat/completions", json=body) as answer:
                    lines = answer.iter_lines()
                    assert next(lines).startswith("data: ")
            else:
                with pytest.raises(httpx.ReadTimeout):
                    http.post("/v1/chat/completions", json=body)
        assert misbehaving.client_left.wait(10), f"the upstream's request went on (stream={stream})"
        wait_until(lambda: replicas_of(faulty_front, "endless")[0]["in_flight"] == 0, what="the request to end")


def test_health_falls_back_to_the_models_list(faulty_front: LiveServer) -> None:
    """A server without `/health` (not vLLM's) is checked with `GET {url}/models`, with the upstream key."""
    assert sdk(faulty_front).chat.completions.create(model="nohealth", messages=HELLO).choices[0].message.content
    wait_until(lambda: replicas_of(faulty_front, "nohealth")[0]["state"] == "up", what="the replica to be up")


# --- settings -------------------------------------------------------------------------------------------
def test_the_upstream_slot_from_the_environment(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, misbehaving: Misbehaving
) -> None:
    monkeypatch.setenv("QWEN_ENGINE", "upstream")
    monkeypatch.setenv("QWEN_UPSTREAM_URLS", f"{misbehaving.url('ok')}, {misbehaving.url('nohealth')}/")
    monkeypatch.setenv("QWEN_UPSTREAM_API_KEY", UPSTREAM_KEY)
    monkeypatch.setenv("QWEN_UPSTREAM_MODEL", "served-there")
    settings = load_settings(_env_file=None, model_cache_dir=tmp_path, enabled_models=["qwen"])
    wrapper = build_wrapper(settings.builtin_slot("qwen"), settings, lambda: None)
    assert isinstance(wrapper, UpstreamLLMModel)
    assert [r.url for r in wrapper.pool.replicas] == [misbehaving.url("ok"), misbehaving.url("nohealth")]
    assert UPSTREAM_KEY in settings.secrets and UPSTREAM_KEY not in repr(settings)
    with live_server(settings) as server:
        answer = openai.OpenAI(base_url=server.base_url + "/v1", api_key="-").chat.completions.create(
            model="qwen", messages=HELLO
        )
    assert answer.choices[0].message.content == "Hello" and misbehaving.requests[-1]["body"]["model"] == "served-there"

    monkeypatch.delenv("QWEN_UPSTREAM_URLS")
    with pytest.raises(SettingsError, match="QWEN_UPSTREAM_URLS: required with QWEN_ENGINE=upstream"):
        load_settings(_env_file=None, model_cache_dir=tmp_path, enabled_models=["qwen"])
    monkeypatch.setenv("QWEN_UPSTREAM_URLS", "ftp://somewhere/v1")
    with pytest.raises(SettingsError, match=r"QWEN_UPSTREAM_URLS.*not an http"):
        load_settings(_env_file=None, model_cache_dir=tmp_path, enabled_models=["qwen"])


def test_a_models_file_entry_without_replicas_is_refused(tmp_path: Path) -> None:
    models = tmp_path / "models.yaml"
    models.write_text(yaml.safe_dump({"slots": [{"key": "far", "role": "llm", "model_id": "m", "engine": "upstream"}]}))
    with pytest.raises(SettingsError, match=r"slot 'far'.*upstream_urls"):
        load_settings(_env_file=None, model_cache_dir=tmp_path, enabled_models=[], models_config=models)
