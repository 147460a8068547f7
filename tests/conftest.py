"""Shared fixtures: a tiny real Qwen3, settings isolated from the environment, live uvicorn servers."""

from __future__ import annotations

import os
import socket
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
import uvicorn

from app.cli import server_config
from app.config import Settings
from app.main import create_app
from tests.gpu_visibility import GPUS_HIDDEN, HIDDEN_REASON
from tests.tiny_models import build_tiny_qwen

# No test may reach the Hugging Face Hub (it is unreachable in CI anyway): fail fast instead.
os.environ["HF_HUB_OFFLINE"] = "1"
os.environ.setdefault("TOKENIZERS_PARALLELISM", "false")

CLIENT_KEY = "client-key-0123456789"
ADMIN_KEY = "admin-key-0123456789"


def pytest_configure(config: pytest.Config) -> None:
    if GPUS_HIDDEN not in config.stash:
        raise pytest.UsageError("tests/gpu_visibility.py did not run: pytest needs `-p tests.gpu_visibility`")


def pytest_collection_modifyitems(config: pytest.Config, items: list[pytest.Item]) -> None:
    """`gpu` tests run only in a process that sees GPUs: see tests/gpu_visibility.py."""
    from app.infra.gpu_monitor import visible_gpu_count

    if config.stash[GPUS_HIDDEN]:
        skip = pytest.mark.skip(reason=HIDDEN_REASON)
    elif visible_gpu_count() > 0:
        return
    else:
        skip = pytest.mark.skip(reason="needs a CUDA GPU")
    for item in items:
        if "gpu" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def tiny_qwen_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return build_tiny_qwen(tmp_path_factory.mktemp("tiny-qwen"))


def tiny_settings(model_cache_dir: Path, tiny_qwen_dir: Path, **overrides: Any) -> Settings:
    """Settings from explicit values only (no .env, no stray environment): the tiny Qwen3, the cache given."""
    values: dict[str, Any] = {
        "model_cache_dir": model_cache_dir,
        "qwen_model_id": str(tiny_qwen_dir),
        "enabled_models": ["qwen"],
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


@pytest.fixture
def make_settings(tmp_path: Path, tiny_qwen_dir: Path) -> Callable[..., Settings]:
    """`tiny_settings` with the cache in this test's temp dir."""

    def make(**overrides: Any) -> Settings:
        return tiny_settings(overrides.pop("model_cache_dir", tmp_path / "model_cache"), tiny_qwen_dir, **overrides)

    return make


class LiveServer:
    """A real uvicorn server on a free loopback port, in a thread of the test process, configured as
    `inference-gateway serve` configures it."""

    def __init__(self, app: Any, settings: Settings) -> None:
        with socket.socket() as sock:
            sock.bind(("127.0.0.1", 0))
            self.port = sock.getsockname()[1]
        self.app = app
        config = server_config(app, settings, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on")
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)
        self.base_url = f"http://127.0.0.1:{self.port}"

    def __enter__(self) -> LiveServer:
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            if not self.thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the gateway did not start")
            time.sleep(0.02)
        return self

    def __exit__(self, *exc: object) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=30)

    @property
    def state(self) -> Any:
        return self.app.state.gateway

    def client(self, key: str | None = None, timeout: float = 60) -> httpx.Client:
        headers = {"Authorization": f"Bearer {key}"} if key else {}
        return httpx.Client(base_url=self.base_url, headers=headers, timeout=timeout)

    def wait_for_state(self, key: str, state: str, admin_key: str | None = ADMIN_KEY, timeout: float = 30) -> dict:
        deadline = time.monotonic() + timeout
        with self.client(admin_key) as http:
            while True:
                status = http.get(f"/api/admin/models/{key}").json()
                if status["state"] == state:
                    return status
                if time.monotonic() > deadline:
                    raise AssertionError(f"{key} stayed {status['state']} (wanted {state}): {status}")
                time.sleep(0.05)


def assert_health_answers_while_templating(
    server: LiveServer, body: dict[str, Any], monkeypatch: pytest.MonkeyPatch
) -> httpx.Response:
    """Hold the chat templating of `body` (a chat request) until `/health` has answered, then return
    the chat's response: an event loop busy templating cannot answer `/health` meanwhile."""
    with server.client(CLIENT_KEY) as http:  # the slot loads (lazily) before its tokenizer is held
        assert http.post("/v1/completions", json={"model": body["model"], "prompt": "Hi", "max_tokens": 1})
    tokenizer_class = type(server.state.registry.get("qwen").engine.tokenizer)
    render = tokenizer_class.apply_chat_template
    templating, release = threading.Event(), threading.Event()

    def held(self: Any, conversation: Any, *args: Any, **kwargs: Any) -> Any:
        templating.set()
        release.wait(10)
        return render(self, conversation, *args, **kwargs)

    responses: list[httpx.Response] = []

    def chat() -> None:
        with server.client(CLIENT_KEY, timeout=30) as http:
            responses.append(http.post("/v1/chat/completions", json=body))

    monkeypatch.setattr(tokenizer_class, "apply_chat_template", held)
    thread = threading.Thread(target=chat)
    try:
        thread.start()
        assert templating.wait(10), "the chat request was not templated"
        with server.client(timeout=2) as http:
            assert http.get("/health").json()["status"] == "ok"
    finally:
        release.set()
        thread.join(30)
        monkeypatch.undo()
    return responses[0]


@contextmanager
def live_server(settings: Settings, **app_options: Any) -> Iterator[LiveServer]:
    with LiveServer(create_app(settings, **app_options), settings) as server:
        yield server


@pytest.fixture
def serve(make_settings: Callable[..., Settings]) -> Iterator[Callable[..., LiveServer]]:
    """Start a live gateway with the given settings overrides; stopped at the end of the test."""
    servers: list[LiveServer] = []

    def start(app_options: dict[str, Any] | None = None, **overrides: Any) -> LiveServer:
        settings = make_settings(**overrides)
        server = LiveServer(create_app(settings, **(app_options or {})), settings)
        servers.append(server.__enter__())
        return server

    yield start
    for server in reversed(servers):
        server.__exit__(None, None, None)


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path) -> Iterator[LiveServer]:
    """One gateway per test module, with a client key and an admin key, serving the tiny Qwen3."""
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path_factory.mktemp("model_cache"),
        qwen_model_id=str(tiny_qwen_dir),
        qwen_served_model_name="tiny-qwen",
        enabled_models=["qwen"],
        openai_api_keys=f"clientA:{CLIENT_KEY}",
        admin_api_keys=f"ops:{ADMIN_KEY}",
        log_level="warning",
    )
    with live_server(settings) as server:
        yield server


@pytest.fixture(scope="session")
def tiny_canary_nemo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Canary-style `.nemo` (random weights, en/de/fr/es); the first NeMo fixture pays NeMo's import (~10 s)."""
    from tests.tiny_models import build_tiny_canary

    return build_tiny_canary(tmp_path_factory.mktemp("tiny-canary"))


@pytest.fixture(scope="session")
def tiny_ctc_nemo(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A Conformer-CTC `.nemo` (random weights): a NeMo ASR model that is not Canary."""
    from tests.tiny_models import build_tiny_ctc

    return build_tiny_ctc(tmp_path_factory.mktemp("tiny-ctc"))


@pytest.fixture(scope="session")
def tiny_langid(tmp_path_factory: pytest.TempPathFactory) -> Callable[[str], Path]:
    """Builds (once per language) a tiny language identification `.nemo` that always detects `language`."""
    built: dict[str, Path] = {}

    def build(language: str) -> Path:
        if language not in built:
            from tests.tiny_models import build_tiny_langid

            built[language] = build_tiny_langid(tmp_path_factory.mktemp(f"tiny-langid-{language}"), language)
        return built[language]

    return build


@pytest.fixture(scope="session")
def tiny_pyannote_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A pyannote 4 speaker-diarization folder (config.yaml, segmentation/, embedding/, plda/), random weights."""
    from tests.tiny_models import build_tiny_pyannote

    return build_tiny_pyannote(tmp_path_factory.mktemp("tiny-pyannote"))
