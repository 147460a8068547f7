"""The names clients use: every alias listed and retrievable with the official SDK, a model of another kind
refused with the routes that serve it, and no server path in anything a client is shown."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import httpx
import openai
import pytest

from app.config import Settings
from tests.audio_files import reference_signal, write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server

KEYS = {"openai_api_keys": f"clientA:{CLIENT_KEY}", "admin_api_keys": f"ops:{ADMIN_KEY}"}


@pytest.fixture(scope="module")
def named(
    tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path, tiny_canary_nemo: Path
) -> Iterator[LiveServer]:
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path_factory.mktemp("cache"),
        qwen_model_id=str(tiny_qwen_dir),
        qwen_served_model_name="acme/tiny-qwen",
        canary_model_id=str(tiny_canary_nemo),
        enabled_models=["qwen", "canary"],
        log_level="warning",
        **KEYS,
    )
    with live_server(settings) as server:
        yield server


@pytest.fixture(scope="module")
def sdk(named: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{named.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)


def test_models_list_every_name_with_its_root(sdk: openai.OpenAI) -> None:
    listed = {m.id: m.model_extra["root"] for m in sdk.models.list().data}
    assert listed == {
        "acme/tiny-qwen": "acme/tiny-qwen",
        "qwen": "acme/tiny-qwen",
        "tiny-canary": "tiny-canary",  # a local .nemo is named after its file, not its path
        "canary": "tiny-canary",
        "whisper-1": "tiny-canary",
    }


@pytest.mark.parametrize("name", ["acme/tiny-qwen", "qwen", "tiny-canary", "canary", "whisper-1"])
def test_every_name_is_retrievable(sdk: openai.OpenAI, name: str) -> None:
    model = sdk.models.retrieve(name)
    assert model.id == name and model.object == "model" and model.owned_by == "inference-gateway"


def test_unknown_model_retrieval_is_404(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.models.retrieve("gpt-5")
    error = caught.value.response.json()["error"]
    assert error == {
        "message": "The model 'gpt-5' does not exist",
        "type": "invalid_request_error",
        "param": "model",
        "code": "model_not_found",
    }


def test_retrieval_needs_a_key(named: LiveServer) -> None:
    with named.client() as http:
        assert http.get("/v1/models/qwen").status_code == 401


def test_a_speech_model_in_a_chat_request_names_its_routes(sdk: openai.OpenAI) -> None:
    with pytest.raises(openai.NotFoundError) as caught:
        sdk.chat.completions.create(model="whisper-1", messages=[{"role": "user", "content": "hi"}])
    error = caught.value.response.json()["error"]
    assert error["param"] == "model" and error["code"] == "wrong_model_kind"
    assert "speech-to-text model" in error["message"] and "/v1/audio/transcriptions" in error["message"]


def test_a_language_model_in_a_transcription_names_its_routes(sdk: openai.OpenAI, tmp_path: Path) -> None:
    audio = write_wav(tmp_path / "a.wav", reference_signal(16000, 1.0), 16000)
    with audio.open("rb") as handle, pytest.raises(openai.NotFoundError) as caught:
        sdk.audio.transcriptions.create(model="qwen", file=handle)
    error = caught.value.response.json()["error"]
    assert error["code"] == "wrong_model_kind" and "/v1/chat/completions" in error["message"]


def test_no_server_path_reaches_a_client(tmp_path: Path, tiny_qwen_dir: Path) -> None:
    """Slots whose models are local paths, all failing: clients get served names and path-free messages,
    admins the full reason."""
    broken_llm = tmp_path / "private" / "broken-llm"
    broken_llm.mkdir(parents=True)
    (broken_llm / "config.json").write_text('{"model_type": "qwen3"}')
    broken_nemo = tmp_path / "private" / "broken.nemo"
    broken_nemo.write_bytes(b"not a tar file")
    missing_pipeline = tmp_path / "private" / "no-such-pipeline"
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp_path / "cache",
        qwen_model_id=str(broken_llm),
        canary_model_id=str(broken_nemo),
        pyannote_model_id=str(missing_pipeline),
        log_level="warning",
        **KEYS,
    )
    audio = write_wav(tmp_path / "a.wav", reference_signal(16000, 1.0), 16000)
    secret = str(tmp_path / "private")
    with live_server(settings) as server, server.client(CLIENT_KEY) as http:
        shown: list[httpx.Response] = [http.get("/v1/models")]
        shown += [http.get(f"/v1/models/{m['id']}") for m in shown[0].json()["data"]]
        for _ in range(2):  # the lazy load's own failure, then the slot in error
            shown.append(
                http.post(
                    "/v1/chat/completions", json={"model": "broken-llm", "messages": [{"role": "user", "content": "x"}]}
                )
            )
            with audio.open("rb") as handle:
                shown.append(http.post("/v1/audio/transcriptions", data={"model": "broken"}, files={"file": handle}))
            with audio.open("rb") as handle:
                shown.append(http.post("/api/diarization/process", files={"file": handle}))
        assert [m["id"] for m in shown[0].json()["data"]] == [
            "broken-llm", "qwen", "broken", "canary", "whisper-1", "no-such-pipeline", "pyannote",
        ]  # fmt: skip
        assert {r.status_code for r in shown[-6:]} == {503}
        for response in shown:
            assert secret not in response.text, response.text
        with server.client(ADMIN_KEY) as admin:
            status = {m["key"]: m for m in admin.get("/api/admin/status").json()["models"]}
    assert all(status[key]["state"] == "error" for key in ("qwen", "canary", "pyannote"))
    assert str(missing_pipeline) in status["pyannote"]["error"]
    assert status["qwen"]["model_id"] == str(broken_llm)
