"""Real `huggingface_hub` downloads from a loopback Hub: progress, cache layout, token, then serving."""

from __future__ import annotations

import os
import time
from pathlib import Path

import huggingface_hub.constants
import pytest

from tests.conftest import ADMIN_KEY, CLIENT_KEY
from tests.fake_hub import COMMIT, FakeHub

KEYS = {"openai_api_keys": f"clientA:{CLIENT_KEY}", "admin_api_keys": f"ops:{ADMIN_KEY}"}


@pytest.fixture
def online(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(huggingface_hub.constants, "HF_HUB_OFFLINE", False)


def test_download_with_progress_then_load_from_the_cache(online, serve, tiny_qwen_dir: Path) -> None:
    # huggingface_hub writes in 10 MiB pieces: a 48 MiB file makes the partial progress visible.
    # A README outside the downloaded patterns must not stop the cached copy from loading offline.
    padding = {"padding.safetensors": os.urandom(48 << 20), "README.md": b"# a model card"}
    with FakeHub("acme/tiny-qwen", tiny_qwen_dir, chunk_delay_s=0.03, extra_files=padding) as hub:
        server = serve(qwen_model_id="acme/tiny-qwen", hf_endpoint=hub.url, **KEYS)
        with server.client(ADMIN_KEY) as http:
            assert http.get("/api/admin/models/qwen").json()["state"] == "absent"
            http.post("/api/admin/huggingface/token", json={"token": "hf_secret_token_9876"})
            assert http.post("/api/admin/models/qwen/download").status_code == 202
            seen = []
            deadline = time.monotonic() + 60
            while (status := http.get("/api/admin/models/qwen").json())["state"] != "downloaded":
                assert status["state"] == "downloading", status["error"]
                assert time.monotonic() < deadline
                seen.append(status["progress"])
                time.sleep(0.05)
            assert any(0 < p < 1 for p in seen), seen
            assert seen == sorted(seen)
            assert status["progress"] == 1.0 and status["cache_has_artifacts"] is True
            assert "Bearer hf_secret_token_9876" in hub.authorizations
            snapshot = server.state.settings.model_cache_dir / "models--acme--tiny-qwen" / "snapshots" / COMMIT
            assert (snapshot / "model.safetensors").is_file() and (snapshot / "config.json").is_file()

            assert http.post("/api/admin/models/qwen/load").status_code == 202
            loaded = server.wait_for_state("qwen", "loaded")
            assert loaded["server"]["path"] == str(snapshot)
    # The Hub is gone: a model already in the cache still loads, without network.
    with server.client(ADMIN_KEY) as http:
        assert http.post("/api/admin/models/qwen/unload").status_code == 202
        server.wait_for_state("qwen", "downloaded")
        assert http.post("/api/admin/models/qwen/load").status_code == 202
        assert server.wait_for_state("qwen", "loaded")["server"]["path"] == str(snapshot)
    with server.client(CLIENT_KEY) as http:
        reply = http.post(
            "/v1/chat/completions",
            json={
                "model": "acme/tiny-qwen",
                "messages": [{"role": "user", "content": "Hi"}],
                "max_tokens": 3,
            },
        )
        assert reply.status_code == 200 and reply.json()["usage"]["completion_tokens"] >= 1


def test_unreachable_hub_is_a_clear_error(online, serve) -> None:
    server = serve(qwen_model_id="acme/missing", hf_endpoint="http://127.0.0.1:9", **KEYS)
    with server.client(ADMIN_KEY) as http:
        http.post("/api/admin/models/qwen/download")
        status = server.wait_for_state("qwen", "error")
    assert status["message"] == "download failed"
    assert status["error"]
