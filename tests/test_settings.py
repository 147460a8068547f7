"""Settings: key formats, validation naming the variable, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest
from pydantic import SecretStr, ValidationError

from app import cli
from app.config import ApiKey, Settings, SettingsError, load_settings, parse_api_keys
from app.infra.token_store import TokenStore


def test_key_formats() -> None:
    assert parse_api_keys("clientA:key-11111,clientB:key-22222", "client") == [
        ApiKey("clientA", SecretStr("key-11111")),
        ApiKey("clientB", SecretStr("key-22222")),
    ]
    assert parse_api_keys(" key-11111 , ,key-22222", "client") == [
        ApiKey("client-1", SecretStr("key-11111")),
        ApiKey("client-3", SecretStr("key-22222")),
    ]
    with pytest.raises(ValueError, match="shorter than 8"):
        parse_api_keys("a:short", "client")
    with pytest.raises(ValueError, match="same client name"):
        parse_api_keys("a:key-11111,a:key-22222", "client")


def test_environment_is_read(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("OPENAI_API_KEYS", "clientA:key-11111")
    monkeypatch.setenv("ADMIN_API_KEYS", "ops-key-99999")
    monkeypatch.setenv("RATE_LIMIT_RPM", "120")
    monkeypatch.setenv("LAZY_LOAD_MODELS", "false")
    monkeypatch.setenv("QWEN_ENGINE_ARGS", '{"load_format": "dummy"}')
    monkeypatch.setenv("QWEN_GPU_DEVICE_IDS", "2,3")
    monkeypatch.setenv("CORS_ORIGINS", "http://a.example,http://b.example")
    (tmp_path / ".env").write_text("QWEN_MAX_MODEL_LEN=8192\nHUGGINGFACE_TOKEN=\n")
    settings = load_settings()
    assert settings.openai_api_keys == [ApiKey("clientA", SecretStr("key-11111"))]
    assert settings.admin_api_keys == [ApiKey("admin-1", SecretStr("ops-key-99999"))]
    assert settings.rate_limit_rpm == 120 and settings.lazy_load_models is False
    assert settings.qwen_engine_args == {"load_format": "dummy"}
    assert settings.qwen_gpu_device_ids == [2, 3]
    assert settings.cors_origins == ["http://a.example", "http://b.example"]
    assert settings.qwen_max_model_len == 8192 and settings.huggingface_token is None
    assert settings.model_cache_dir == (Path("/models") if Path("/models").is_dir() else Path("model_cache"))
    assert settings.api_host == "127.0.0.1" and settings.api_port == 8000


@pytest.mark.parametrize(
    ("variable", "value"),
    [
        ("API_PORT", "eighty"),
        ("OPENAI_API_KEYS", "clientA:short"),
        ("QWEN_ENGINE_ARGS", "[1, 2]"),
        ("QWEN_ENGINE", "tensorrt"),
        ("RATE_LIMIT_RPM", "-1"),
        ("LOG_LEVEL", "loud"),
        ("QWEN_GPU_MEMORY_UTILIZATION", "1.5"),
    ],
)
def test_invalid_settings_name_the_variable(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, variable: str, value: str
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv(variable, value)
    with pytest.raises(SettingsError, match=variable):
        load_settings()


def test_admin_key_must_differ_from_client_keys() -> None:
    with pytest.raises(SettingsError, match="ADMIN_API_KEYS"):
        load_settings(_env_file=None, openai_api_keys="key-11111", admin_api_keys="key-11111")


def test_cli_reports_invalid_settings(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("API_PORT", "99999")
    assert cli.main(["serve"]) == 2
    assert "API_PORT" in capsys.readouterr().err
    monkeypatch.delenv("API_PORT")
    assert cli.main(["serve", "--host", "0.0.0.0"]) == 2
    assert "ALLOW_UNAUTHENTICATED" in capsys.readouterr().err


def test_cli_status_and_download_of_a_local_model(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str], tmp_path: Path, tiny_qwen_dir: Path
) -> None:
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("QWEN_MODEL_ID", str(tiny_qwen_dir))
    assert cli.main(["download", "qwen"]) == 0
    assert '"state": "downloaded"' in capsys.readouterr().out
    assert cli.main(["status"]) == 0
    out = capsys.readouterr().out
    assert '"gpu_available": false' in out and '"key": "qwen"' in out
    assert cli.main(["download", "nope"]) == 1


def test_asr_queue_must_hold_the_longest_audio() -> None:
    with pytest.raises(SettingsError, match="ASR_QUEUE_SIZE=10 is smaller than the 113 pieces"):
        load_settings(_env_file=None, asr_queue_size=10)
    assert load_settings(_env_file=None, asr_queue_size=10, max_audio_seconds=300).asr_queue_size == 10


def test_generations_per_request_must_hold_max_n() -> None:
    with pytest.raises(SettingsError, match="MAX_GENERATIONS_PER_REQUEST=4 is smaller than MAX_N=8"):
        load_settings(_env_file=None, max_generations_per_request=4)
    settings = load_settings(_env_file=None, max_generations_per_request=4, max_n=4)
    assert (settings.max_generations_per_request, settings.max_n) == (4, 4)
    assert load_settings(_env_file=None).max_generations_per_request == 64


CLIENT_SECRET, ADMIN_SECRET, HUB_SECRET = "client-key-4f9a2c1e", "admin-key-7d3b8e60", "hf_secretToken0123456789"


def test_keys_and_the_hub_token_never_print(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """Settings, keys and the token store hold secrets that print as `**********`; they still work in clear."""
    monkeypatch.chdir(tmp_path)
    settings = load_settings(
        openai_api_keys=f"erp:{CLIENT_SECRET}", admin_api_keys=ADMIN_SECRET, huggingface_token=HUB_SECRET
    )
    [client], [admin] = settings.openai_api_keys, settings.admin_api_keys
    store = TokenStore(tmp_path / ".hf_token", settings.huggingface_token)
    shown = [repr(settings), str(settings), repr(client), str(admin), repr(settings.huggingface_token)]
    shown += [repr(vars(store)), repr(settings.model_dump())]
    for text in shown:
        assert CLIENT_SECRET not in text and ADMIN_SECRET not in text and HUB_SECRET not in text
    assert "erp" in repr(client) and "**********" in repr(client)
    # In clear where they are used: authentication, log redaction, the Hub.
    assert client.key.get_secret_value() == CLIENT_SECRET and admin.key.get_secret_value() == ADMIN_SECRET
    assert set(settings.secrets) == {CLIENT_SECRET, ADMIN_SECRET, HUB_SECRET}
    assert store.get() == HUB_SECRET and (tmp_path / ".hf_token").read_text() == HUB_SECRET


@pytest.mark.parametrize(
    "overrides",
    [
        {"openai_api_keys": "erp:short12"},  # too short: the message says so without quoting it
        {"openai_api_keys": f"erp:{CLIENT_SECRET},erp:{ADMIN_SECRET}"},
        {"openai_api_keys": f"erp:{CLIENT_SECRET}", "admin_api_keys": f"ops:{CLIENT_SECRET}"},
        {"openai_api_keys": f"erp:{CLIENT_SECRET}", "quotas": "nobody:tokens_per_day=1"},
        {"huggingface_token": "hf_ secret token 0123"},
        {"openai_api_keys": f"erp:{CLIENT_SECRET}", "api_port": "eighty"},  # beside another setting's error
    ],
)
def test_setting_errors_never_quote_a_key(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path, overrides: dict[str, str]
) -> None:
    monkeypatch.chdir(tmp_path)
    secrets = [CLIENT_SECRET, ADMIN_SECRET, "short12", "secret token"]
    with pytest.raises(SettingsError) as refused:
        load_settings(**overrides)
    with pytest.raises(ValidationError) as raw:
        Settings(**overrides)
    for message in (str(refused.value), str(raw.value)):
        assert not [s for s in secrets if s in message], message
