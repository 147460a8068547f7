"""The official `openai` Node SDK against a live gateway (tiny Qwen3 and Canary): default requests of a Node
client — model retrieval, nullable fields, streaming, transcription, translation without a language — work.

`scripts/setup.sh` installs the SDK (`tests/node_sdk`, pinned by its package-lock.json) with `npm ci`.
"""

from __future__ import annotations

import json
import shutil
import subprocess
from pathlib import Path

import pytest

from app.config import Settings
from tests.audio_files import reference_signal, write_wav
from tests.conftest import CLIENT_KEY, live_server

NODE_SDK = Path(__file__).parent / "node_sdk"


def test_node_sdk_contract(tmp_path: Path, tiny_qwen_dir: Path, tiny_canary_nemo: Path) -> None:
    if shutil.which("node") is None or not (NODE_SDK / "node_modules" / "openai").is_dir():
        pytest.fail("Node and the openai Node SDK are needed: run scripts/setup.sh with the test extra")
    wav = write_wav(tmp_path / "speech.wav", reference_signal(16000, 2.0), 16000)
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path / "cache",
        qwen_model_id=str(tiny_qwen_dir),
        qwen_served_model_name="acme/tiny-qwen",
        canary_model_id=str(tiny_canary_nemo),
        enabled_models=["qwen", "canary"],
        openai_api_keys=f"clientA:{CLIENT_KEY}",
        log_level="warning",
    )
    with live_server(settings) as server:
        run = subprocess.run(
            ["node", str(NODE_SDK / "contract.mjs"), server.base_url, CLIENT_KEY, str(wav)],
            capture_output=True,
            text=True,
            timeout=300,
        )
    assert run.stdout, run.stderr
    results = json.loads(run.stdout.strip().splitlines()[-1])
    failures = {name: result for name, result in results.items() if not result["ok"]}
    assert not failures, failures
    names = ["acme/tiny-qwen", "qwen", "tiny-canary", "canary", "whisper-1"]
    assert results["models.list"]["value"] == names
    assert results["models.retrieve"]["value"] == names
    assert results["models.retrieve unknown is 404"]["value"] == "model_not_found"
    assert results["chat with nulls"]["value"]["choices"] == 1
    assert isinstance(results["chat with nulls"]["value"]["fingerprint"], str)
    assert results["chat stream"]["value"]["completion_tokens"] >= 1
    translated = results["audio.translations without language"]["value"]
    assert translated == {"text": "string", "language": "english", "source": "en"}  # ASR_DEFAULT_LANGUAGE
    assert run.returncode == 0
