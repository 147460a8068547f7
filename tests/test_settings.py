"""Settings: key formats, validation naming the variable, defaults."""

from __future__ import annotations

from pathlib import Path

import pytest

from app import cli
from app.config import ApiKey, SettingsError, load_settings, parse_api_keys


def test_key_formats() -> None:
    assert parse_api_keys("clientA:key-11111,clientB:key-22222", "client") == [
        ApiKey("clientA", "key-11111"),
        ApiKey("clientB", "key-22222"),
    ]
    assert parse_api_keys(" key-11111 , ,key-22222", "client") == [
        ApiKey("client-1", "key-11111"),
        ApiKey("client-3", "key-22222"),
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
    assert settings.openai_api_keys == [ApiKey("clientA", "key-11111")]
    assert settings.admin_api_keys == [ApiKey("admin-1", "ops-key-99999")]
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
