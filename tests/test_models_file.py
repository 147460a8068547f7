"""The models file (MODELS_CONFIG): several slots of one role side by side, served, listed and managed like the
built-in ones; a bad file stops the gateway at start with the slot and the field named."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import openai
import pytest
import yaml

from app.config import Settings, SettingsError, load_settings
from app.main import create_app
from app.models.qwen import QwenModel
from app.services.model_registry import ModelRegistry
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer


def write(tmp_path: Path, document: Any, name: str = "models.yaml") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(document) if name.endswith(".json") else yaml.safe_dump(document))
    return path


def settings_with(tmp_path: Path, models_file: Path | None, **overrides: Any) -> Settings:
    values: dict[str, Any] = {
        "_env_file": None,
        "model_cache_dir": tmp_path / "cache",
        "models_config": models_file,
        **overrides,
    }
    return load_settings(**values)


def test_two_llm_slots_side_by_side(tmp_path: Path, tiny_qwen_dir: Path) -> None:
    """Qwen from the environment and a second LLM from the file: both listed, both chat through the SDK by their
    own names, each loaded and unloaded on its own by its key."""
    models = write(
        tmp_path,
        {
            "slots": [
                {
                    "key": "mistral",
                    "role": "llm",
                    "model_id": str(tiny_qwen_dir),
                    "served_model_name": "bia-mistral-7b",
                    "aliases": ["mistral"],
                    "cpu_max_concurrency": 2,
                }
            ]
        },
    )
    settings = settings_with(
        tmp_path,
        models,
        enabled_models=["qwen"],
        qwen_model_id=str(tiny_qwen_dir),
        qwen_served_model_name="tiny-qwen",
        openai_api_keys=f"clientA:{CLIENT_KEY}",
        admin_api_keys=f"ops:{ADMIN_KEY}",
    )
    assert [(s.key, s.spec.key, s.source) for s in settings.slots] == [
        ("qwen", "qwen", "environment"),
        ("mistral", "qwen", "file"),
    ]
    with LiveServer(create_app(settings), settings) as server:
        sdk = openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=CLIENT_KEY, max_retries=0)
        listed = {m.id for m in sdk.models.list().data}
        assert {"tiny-qwen", "bia-mistral-7b"} <= listed
        for name in ("bia-mistral-7b", "mistral", "tiny-qwen"):
            reply = sdk.chat.completions.create(model=name, messages=[{"role": "user", "content": "hi"}], max_tokens=3)
            assert reply.model == name  # as OpenAI and vLLM do: the name the request gave
            assert reply.usage is not None and reply.usage.completion_tokens >= 1

        admin = server.client(ADMIN_KEY)
        status = admin.get("/api/admin/status").json()
        cards = {m["key"]: m for m in status["models"]}
        assert cards["mistral"]["kind"] == "llm" and cards["mistral"]["state"] == "loaded"
        assert cards["mistral"]["served_names"][0] == "bia-mistral-7b"
        assert admin.post("/api/admin/models/mistral/unload").status_code in (200, 202)
        server.wait_for_state("mistral", "downloaded")
        assert server.wait_for_state("qwen", "loaded")["state"] == "loaded"  # the other slot is untouched
        # The unloaded slot loads again on the next request that names it (lazy loading).
        again = sdk.chat.completions.create(model="mistral", messages=[{"role": "user", "content": "hi"}], max_tokens=2)
        assert again.choices[0].message.content is not None


def test_a_json_file_and_a_file_only_gateway(tmp_path: Path, tiny_qwen_dir: Path) -> None:
    """ENABLED_MODELS empty: only the file's slots; JSON is read like YAML; `family` picks the same as `role`."""
    models = write(
        tmp_path,
        [{"key": "small", "family": "llm", "model_id": str(tiny_qwen_dir), "engine": "transformers"}],
        name="models.json",
    )
    settings = settings_with(tmp_path, models, enabled_models="")
    assert [s.key for s in settings.slots] == ["small"]
    options = settings.slots[0].options
    assert options.model_id == str(tiny_qwen_dir) and options.model_aliases == []
    registry = ModelRegistry(settings, lambda: None)
    registry.configure()
    (wrapper,) = registry.wrappers()
    assert isinstance(wrapper, QwenModel) and wrapper.served_names == [tiny_qwen_dir.name, "small"]
    assert wrapper.options.engine == "transformers"


def test_an_enabled_built_in_slot_keeps_its_environment_settings(tmp_path: Path) -> None:
    settings = settings_with(
        tmp_path, None, canary_model_id="org/asr", canary_model_aliases="a,b", canary_gpu_device_id=3
    )
    canary = next(s for s in settings.slots if s.key == "canary")
    assert canary.source == "environment" and canary.options.model_id == "org/asr"
    assert canary.options.model_aliases == ["a", "b"] and canary.options.gpu_device_id == 3  # type: ignore[attr-defined]
    assert canary.setting_name("gpu_device_id") == "CANARY_GPU_DEVICE_ID"
    assert canary.setting_name("model_id") == "CANARY_MODEL_ID"
    langid = settings.builtin_slot("langid")  # not served, still described by the environment
    assert langid.setting_name("gpu_device_id") == "CANARY_GPU_DEVICE_ID"


@pytest.mark.parametrize(
    ("entries", "message"),
    [
        (
            [{"key": "x", "role": "llm", "model_id": "a/b", "gpu_memory_utilization": 2}],
            "slot 'x', field 'gpu_memory_utilization'",
        ),
        ([{"key": "x", "role": "llm", "model_id": "a/b", "colour": "red"}], "slot 'x', field 'colour': Extra inputs"),
        ([{"key": "x", "role": "asr", "model_id": "a/b", "gpu_device_id": "first"}], "slot 'x', field 'gpu_device_id'"),
        ([{"key": "x", "role": "llm"}], "slot 'x', field 'model_id': required"),
        ([{"key": "x", "role": "painter", "model_id": "a/b"}], "slot 'x': unknown role 'painter'"),
        ([{"key": "x", "family": "gpt", "model_id": "a/b"}], "slot 'x': unknown family 'gpt'"),
        ([{"key": "x", "role": "asr", "family": "llm", "model_id": "a/b"}], "family 'llm' has role 'llm', not 'asr'"),
        ([{"key": "x", "model_id": "a/b"}], "slot 'x': give its `role`"),
        ([{"key": "Bad Key", "role": "llm", "model_id": "a/b"}], "slot 'Bad Key': `key` must be"),
        ([{"role": "llm", "model_id": "a/b"}], "entry 1: `key` must be"),
        ([{"key": "x", "role": "llm", "model_id": "a/b"}] * 2, "slot 'x' is declared twice"),
        ([{"key": "qwen", "role": "llm", "model_id": "a/b"}], "it is a built-in slot ENABLED_MODELS names"),
        (["qwen"], "entry 1 is not a mapping"),
        ({"models": []}, "expected a list of slots under `slots:`"),
    ],
)
def test_a_bad_file_stops_the_start_naming_slot_and_field(tmp_path: Path, entries: Any, message: str) -> None:
    document = {"slots": entries} if isinstance(entries, list) else entries
    with pytest.raises(SettingsError) as caught:
        settings_with(tmp_path, write(tmp_path, document), enabled_models="qwen")
    assert "MODELS_CONFIG" in str(caught.value) and message in str(caught.value)


def test_unreadable_and_malformed_files(tmp_path: Path) -> None:
    with pytest.raises(SettingsError, match="cannot read"):
        settings_with(tmp_path, tmp_path / "missing.yaml")
    broken = tmp_path / "broken.yaml"
    broken.write_text("slots: [ {key: x\n")
    with pytest.raises(SettingsError, match="is not valid YAML"):
        settings_with(tmp_path, broken)
    broken_json = tmp_path / "broken.json"
    broken_json.write_text("{")
    with pytest.raises(SettingsError, match="is not valid JSON"):
        settings_with(tmp_path, broken_json)


def test_two_slots_answering_to_one_name_are_refused(tmp_path: Path, tiny_qwen_dir: Path) -> None:
    models = write(tmp_path, {"slots": [{"key": "other", "role": "llm", "model_id": "a/b", "aliases": ["qwen"]}]})
    settings = settings_with(tmp_path, models, enabled_models="qwen", qwen_model_id=str(tiny_qwen_dir))
    registry = ModelRegistry(settings, lambda: None)
    with pytest.raises(SettingsError, match="slots 'qwen' and 'other' both answer to the name 'qwen'"):
        registry.configure()


def test_remedies_name_the_file_entry(tmp_path: Path) -> None:
    """A failure of a file slot points the operator at the entry's field, not at a variable of another slot."""
    models = write(tmp_path, {"slots": [{"key": "m2", "role": "llm", "model_id": "org/missing-model"}]})
    settings = settings_with(tmp_path, models, enabled_models="")
    registry = ModelRegistry(settings, lambda: None)
    registry.configure()
    from app.models.remedies import remedy_for

    (wrapper,) = registry.wrappers()
    remedy = remedy_for(wrapper, "Repository Not Found", None)
    assert "`model_id` of slot 'm2' in MODELS_CONFIG" in remedy
