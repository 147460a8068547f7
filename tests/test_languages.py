"""A request without a language (all the OpenAI spec asks of a translation): the configured default, or the
language detected by the optional `langid` slot (a tiny random-weight NeMo EncDecSpeakerLabelModel that
always answers one label) or by an ASR model that can identify languages itself. Live gateway, tiny Canary
(en, de, fr, es), the official `openai` SDK, jobs."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import numpy as np
import openai
import pytest

from app.config import Settings
from app.models.canary import CanaryASRModel
from app.models.langid import LanguageIdModel
from tests.audio_files import make_audio_files
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_audio_files(tmp_path_factory.mktemp("audio"))["16k.wav"]


def settings(tmp: Path, canary: Path, **overrides: object) -> Settings:
    values: dict[str, object] = {
        "model_cache_dir": tmp / "cache",
        "data_dir": tmp / "jobs",
        "canary_model_id": str(canary),
        "enabled_models": ["canary"],
        "openai_api_keys": f"clientA:{CLIENT_KEY}",
        "admin_api_keys": f"ops:{ADMIN_KEY}",
        "max_audio_seconds": 30.0,
        "log_level": "warning",
    }
    values.update(overrides)
    return Settings(_env_file=None, **values)


def sdk(server: LiveServer) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)


def native(server: LiveServer, path: Path, **fields: object) -> httpx.Response:
    with server.client(CLIENT_KEY) as http, path.open("rb") as handle:
        return http.post("/api/audio/transcribe", data=fields, files={"file": (path.name, handle)})


def spoken(server: LiveServer, path: Path, **fields: object) -> tuple[str, str]:
    response = native(server, path, **fields)
    assert response.status_code == 200, response.text
    return response.json()["source_language"], response.json()["source_language_origin"]


def verbose_language(server: LiveServer, path: Path, **extra: Any) -> str:
    with path.open("rb") as handle:
        result = sdk(server).audio.transcriptions.create(
            model="canary", file=handle, response_format="verbose_json", **extra
        )
    return result.language


def job_result(server: LiveServer, path: Path, **fields: object) -> dict[str, Any]:
    """Submit a transcribe job, wait for its end; the job, and its `json` result when it succeeded."""
    with server.client(CLIENT_KEY) as http, path.open("rb") as handle:
        submitted = http.post("/api/jobs", data={"task": "transcribe", **fields}, files={"file": (path.name, handle)})
        assert submitted.status_code == 202, submitted.text
        deadline = time.monotonic() + 60
        while (job := http.get(f"/api/jobs/{submitted.json()['id']}").json())["state"] not in (
            "succeeded",
            "failed",
        ):
            assert time.monotonic() < deadline, job
            time.sleep(0.05)
        if job["state"] == "succeeded":
            job["result"] = http.get(f"/api/jobs/{job['id']}/result", params={"response_format": "json"}).json()
    return job


def test_without_a_language_the_default_is_used_and_reported(tmp_path: Path, tiny_canary_nemo: Path, wav: Path) -> None:
    with live_server(settings(tmp_path, tiny_canary_nemo, asr_default_language="de")) as server:
        with wav.open("rb") as handle:  # the call: all the OpenAI spec allows
            translated = sdk(server).audio.translations.create(model="canary", file=handle)
        assert isinstance(translated.text, str)
        assert verbose_language(server, wav) == "german"
        with wav.open("rb") as handle:
            verbose = sdk(server).audio.translations.create(model="canary", file=handle, response_format="verbose_json")
        assert verbose.language == "english"  # OpenAI's spec: the output language; the spoken one beside it
        assert (verbose.model_extra["source_language"], verbose.model_extra["source_language_origin"]) == (
            "de",
            "default",
        )
        assert verbose_language(server, wav, language="fr") == "french"
        assert spoken(server, wav) == ("de", "default")
        assert spoken(server, wav, language="es") == ("es", "request")
        job = job_result(server, wav)
        assert job["options"]["language"] is None
        assert job["result"]["language"] == "de"
        assert (job["result"]["source_language"], job["result"]["source_language_origin"]) == ("de", "default")


def test_a_default_the_model_does_not_know_is_400(tmp_path: Path, tiny_canary_nemo: Path, wav: Path) -> None:
    with live_server(settings(tmp_path, tiny_canary_nemo, asr_default_language="pt")) as server:
        response = native(server, wav)
        assert response.status_code == 400
        error = response.json()["error"]
        assert error["param"] == "language" and "ASR_DEFAULT_LANGUAGE=pt" in error["message"]
        assert "de, en, es, fr" in error["message"]
        assert spoken(server, wav, language="en") == ("en", "request")


@pytest.fixture(scope="module")
def detecting(
    tmp_path_factory: pytest.TempPathFactory, tiny_canary_nemo: Path, tiny_langid: Callable[[str], Path]
) -> Iterator[LiveServer]:
    """The langid slot served beside Canary; its tiny model hears German in everything."""
    tmp = tmp_path_factory.mktemp("detecting")
    langid = str(tiny_langid("de"))
    config = settings(tmp, tiny_canary_nemo, enabled_models=["canary", "langid"], langid_model_id=langid)
    with live_server(config) as server:
        yield server


def identified(server: LiveServer) -> int:
    with server.client(ADMIN_KEY) as http:
        return http.get("/api/admin/status").json()["language_identification"].get("langid", {}).get("items_run", 0)


def test_the_langid_slot_detects_the_language(detecting: LiveServer, wav: Path) -> None:
    with wav.open("rb") as handle:
        assert isinstance(sdk(detecting).audio.translations.create(model="canary", file=handle).text, str)
    assert verbose_language(detecting, wav) == "german"
    assert spoken(detecting, wav) == ("de", "detected")
    before = identified(detecting)
    assert spoken(detecting, wav, language="fr") == ("fr", "request")  # a given language is not second-guessed
    assert identified(detecting) == before > 0
    job = job_result(detecting, wav)
    assert (job["result"]["source_language"], job["result"]["source_language_origin"]) == ("de", "detected")


def test_the_langid_slot_is_a_model_like_the_others(detecting: LiveServer, wav: Path) -> None:
    """Status, admin unload and load, and a lazy load when a request needs it again."""
    with detecting.client(ADMIN_KEY) as http:
        assert spoken(detecting, wav) == ("de", "detected")
        status = http.get("/api/admin/models/langid").json()
        assert (status["kind"], status["state"]) == ("langid", "loaded")
        assert status["server"]["model_class"] == "EncDecSpeakerLabelModel"
        assert status["server"]["languages"] == ["de", "en", "es", "fr", "ja"]
        assert http.post("/api/admin/models/langid/unload").status_code == 202
        detecting.wait_for_state("langid", "downloaded")
        assert spoken(detecting, wav) == ("de", "detected")  # loaded again on demand (LAZY_LOAD_MODELS)
        assert http.post("/api/admin/models/langid/unload").status_code == 202
        detecting.wait_for_state("langid", "downloaded")
        assert http.post("/api/admin/models/langid/load").status_code == 202
        detecting.wait_for_state("langid", "loaded")


def test_a_detected_language_the_model_does_not_know_is_400(
    tmp_path: Path, tiny_canary_nemo: Path, tiny_langid: Callable[[str], Path], wav: Path
) -> None:
    config = settings(
        tmp_path, tiny_canary_nemo, enabled_models=["canary", "langid"], langid_model_id=str(tiny_langid("ja"))
    )
    with live_server(config) as server:
        for route in ("/v1/audio/transcriptions", "/v1/audio/translations", "/api/audio/transcribe"):
            with server.client(CLIENT_KEY) as http, wav.open("rb") as handle:
                response = http.post(route, data={"model": "canary"}, files={"file": ("a.wav", handle)})
            assert response.status_code == 400, (route, response.text)
            error = response.json()["error"]
            assert error["param"] == "language" and error["type"] == "invalid_request_error"
            assert "identified as language 'ja'" in error["message"] and "de, en, es, fr" in error["message"]
        job = job_result(server, wav)
        assert job["state"] == "failed" and "identified as language 'ja'" in job["error"]["message"]
        assert spoken(server, wav, language="de") == ("de", "request")


class IdentifyingCanary(CanaryASRModel):
    """An ASR wrapper with the capability Canary lacks: it identifies languages itself (it hears French)."""

    def identify_languages(self, audios: list[np.ndarray]) -> list[str]:
        return ["fr"] * len(audios)


def test_an_asr_model_that_identifies_languages_needs_no_langid_slot(
    tmp_path: Path, tiny_canary_nemo: Path, wav: Path
) -> None:
    factories = {"canary": lambda s, token: IdentifyingCanary(s, token)}
    with live_server(settings(tmp_path, tiny_canary_nemo), wrapper_factories=factories) as server:
        assert verbose_language(server, wav) == "french"
        assert spoken(server, wav) == ("fr", "detected")


def test_the_language_identification_model_alone(tiny_langid: Callable[[str], Path], tmp_path: Path) -> None:
    """Restored from its .nemo on the CPU; clips of any length in one batch, shorter than a second too."""
    import asyncio

    wrapper = LanguageIdModel(
        Settings(_env_file=None, model_cache_dir=tmp_path, langid_model_id=str(tiny_langid("de"))), lambda: None
    )
    asyncio.run(wrapper.ensure_loaded())
    assert wrapper.status()["server"]["languages"] == ["de", "en", "es", "fr", "ja"]
    clips = [np.zeros(n, np.float32) for n in (1600, 16000, 48000)]
    assert wrapper.identify_languages(clips) == ["de", "de", "de"]
    asyncio.run(wrapper.unload())
    assert wrapper.model is None
