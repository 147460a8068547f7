"""The container deployment without Docker: the scripts' `--help` / `--dry-run` commands, the keys
`run_docker.sh` generates (a fake `docker` records what it is given), the Dockerfile against the
Makefile and the checkout, and docker-compose.yml against the Compose Specification's schema."""

from __future__ import annotations

import json
import os
import re
import shlex
import shutil
import stat
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import jsonschema
import pytest
import yaml
from pydantic import SecretStr

from app.config import ApiKey, Settings, SettingsError, load_settings
from tests.conftest import live_server

ROOT = Path(__file__).resolve().parents[1]
KEYS_FILE = ".gateway-keys.env"
FAKE_DOCKER = f"""#!{sys.executable}
import json, os, sys
with open(os.environ["FAKE_DOCKER_LOG"], "a") as log:
    log.write(json.dumps(sys.argv[1:]) + "\\n")
exists = os.environ.get("FAKE_DOCKER_EXISTS") == "1"
sys.exit(1 if sys.argv[1:3] == ["container", "inspect"] and not exists else 0)
"""


def run_script(script: str, *args: str, cwd: Path, **env: str) -> subprocess.CompletedProcess[str]:
    """Run a top-level script with only PATH, HOME and the given variables in its environment."""
    environment = {"PATH": os.environ["PATH"], "HOME": str(cwd), **env}
    return subprocess.run(
        ["bash", str(ROOT / script), *args], cwd=cwd, env=environment, capture_output=True, text=True, timeout=30
    )


def dry_run(tmp_path: Path, *args: str, **env: str) -> list[str]:
    """The docker command run_docker.sh prints, split as the shell would."""
    result = run_script("run_docker.sh", "--dry-run", *args, cwd=tmp_path, **env)
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert len(lines) == 1, result.stdout
    return shlex.split(lines[0])


def values_of(argv: list[str], option: str) -> list[str]:
    return [argv[i + 1] for i, arg in enumerate(argv[:-1]) if arg == option]


@pytest.fixture
def fake_docker(tmp_path: Path) -> dict[str, str]:
    """Environment variables that put a `docker` first on PATH which records its arguments."""
    bin_dir = tmp_path / "bin"
    bin_dir.mkdir()
    docker = bin_dir / "docker"
    docker.write_text(FAKE_DOCKER)
    docker.chmod(0o755)
    return {"PATH": f"{bin_dir}{os.pathsep}{os.environ['PATH']}", "FAKE_DOCKER_LOG": str(tmp_path / "docker.log")}


def docker_calls(env: dict[str, str]) -> list[list[str]]:
    log = Path(env["FAKE_DOCKER_LOG"])
    return [json.loads(line) for line in log.read_text().splitlines()] if log.exists() else []


# --- run_docker.sh ---


@pytest.mark.parametrize("script", ["run_docker.sh", "build_docker.sh"])
def test_help_describes_the_script_and_runs_nothing(tmp_path: Path, fake_docker: dict[str, str], script: str) -> None:
    result = run_script(script, "--help", cwd=tmp_path, **fake_docker)
    assert result.returncode == 0
    assert "--dry-run" in result.stdout and "IMAGE:TAG" in result.stdout
    if script == "run_docker.sh":
        for variable in ("HOST_PORT", "HOST_BIND_ADDRESS", "MODEL_CACHE_DIR", "ADVERTISED_HOSTS", "GPUS", "ENV_FILE"):
            assert variable in result.stdout
    assert docker_calls(fake_docker) == []
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bin"]


def test_dry_run_defaults_are_local_and_create_nothing(tmp_path: Path, fake_docker: dict[str, str]) -> None:
    result = run_script("run_docker.sh", "--dry-run", cwd=tmp_path, **fake_docker)
    assert result.returncode == 0, result.stderr
    argv = shlex.split(result.stdout)
    cache = tmp_path / "model_cache"
    assert argv[:3] == ["docker", "run", "--detach"]
    assert argv[-1] == "inference-gateway:latest"
    assert values_of(argv, "--name") == ["inference-gateway"]
    assert values_of(argv, "--restart") == ["unless-stopped"]
    assert values_of(argv, "--publish") == ["127.0.0.1:8000:8000"]
    assert values_of(argv, "--volume") == [f"{cache}:/models", f"{cache}/{KEYS_FILE}:/app/.env:ro"]
    assert values_of(argv, "--shm-size") == ["16g"]
    assert values_of(argv, "--gpus") == ["all"]
    assert values_of(argv, "--stop-timeout") == ["60"]
    assert values_of(argv, "--log-opt") == ["max-size=100m", "max-file=5"]
    assert values_of(argv, "--env") == ["API_HOST=0.0.0.0", "API_PORT=8000", "MODEL_CACHE_DIR=/models"]
    assert "--env-file" not in argv
    # What a real start would do is said, and nothing is done.
    assert f"would create {cache}" in result.stderr
    assert f"would generate an admin key and a client key into {cache}/{KEYS_FILE}" in result.stderr
    assert not cache.exists() and docker_calls(fake_docker) == []


def test_dry_run_follows_the_variables(tmp_path: Path) -> None:
    argv = dry_run(
        tmp_path,
        "registry.example/gateway:1.2",
        HOST_PORT="9000",
        HOST_BIND_ADDRESS="0.0.0.0",
        MODEL_CACHE_DIR="models here",
        SHM_SIZE="32g",
        CONTAINER_NAME="gw",
        CONTAINER_USER="1234:1234",
        RESTART_POLICY="always",
        STOP_TIMEOUT="120",
    )
    assert argv[-1] == "registry.example/gateway:1.2"
    assert values_of(argv, "--publish") == ["0.0.0.0:9000:8000"]
    assert values_of(argv, "--volume")[0] == f"{tmp_path / 'models here'}:/models"
    assert values_of(argv, "--shm-size") == ["32g"]
    assert values_of(argv, "--name") == ["gw"]
    assert values_of(argv, "--user") == ["1234:1234"]
    assert values_of(argv, "--restart") == ["always"]
    assert values_of(argv, "--stop-timeout") == ["120"]


@pytest.mark.parametrize(
    ("gpus", "expected"),
    [("all", ["all"]), ("none", []), ("0,1", ['"device=0,1"']), ("GPU-5c3a", ['"device=GPU-5c3a"'])],
)
def test_gpu_selection(tmp_path: Path, gpus: str, expected: list[str]) -> None:
    assert values_of(dry_run(tmp_path, GPUS=gpus), "--gpus") == expected


def test_gpu_selection_is_quoted_for_the_shell(tmp_path: Path) -> None:
    result = run_script("run_docker.sh", "--dry-run", cwd=tmp_path, GPUS="0,1")
    assert "--gpus '\"device=0,1\"'" in result.stdout


@pytest.mark.parametrize(
    ("variable", "value", "message"),
    [
        ("HOST_PORT", "70000", "HOST_PORT=70000 is not a port"),
        ("HOST_PORT", "80a", "HOST_PORT=80a is not a port"),
        ("GPUS", "0;reboot", "GPUS=0;reboot"),
        ("ENV_FILE", "missing.env", "ENV_FILE=missing.env is not a file"),
        ("CONTAINER_USER", "gateway", "CONTAINER_USER=gateway"),
    ],
)
def test_invalid_variables_are_refused(tmp_path: Path, variable: str, value: str, message: str) -> None:
    result = run_script("run_docker.sh", "--dry-run", cwd=tmp_path, **{variable: value})
    assert result.returncode == 2 and message in result.stderr and result.stdout == ""


def test_unknown_option_is_refused(tmp_path: Path) -> None:
    result = run_script("run_docker.sh", "--detach", cwd=tmp_path)
    assert result.returncode == 2 and "unknown option --detach" in result.stderr


def test_secrets_are_passed_by_name_only(tmp_path: Path) -> None:
    token, keys = "hf_" + "t" * 30, "erp:client-key-0123456789"
    result = run_script("run_docker.sh", "--dry-run", cwd=tmp_path, HUGGINGFACE_TOKEN=token, OPENAI_API_KEYS=keys)
    argv = shlex.split(result.stdout)
    assert values_of(argv, "--env")[:2] == ["HUGGINGFACE_TOKEN", "OPENAI_API_KEYS"]
    assert token not in result.stdout + result.stderr and keys not in result.stdout + result.stderr
    # Keys were given: no keys file is generated nor mounted.
    assert values_of(argv, "--volume") == [f"{tmp_path / 'model_cache'}:/models"]
    assert "would generate" not in result.stderr


@pytest.mark.parametrize(
    ("env_file_text", "keys_file_mounted"),
    [
        ("LOG_LEVEL=debug\nOPENAI_API_KEYS=\n", True),
        ("export ADMIN_API_KEYS='ops:admin-key-0123456789'\n", False),
        ("OPENAI_API_KEYS=erp:client-key-0123456789  # the ERP\n", False),
        ("ALLOW_UNAUTHENTICATED=true\n", False),
        ("ALLOW_UNAUTHENTICATED=false\n", True),
    ],
)
def test_env_file(tmp_path: Path, env_file_text: str, keys_file_mounted: bool) -> None:
    env_file = tmp_path / "gateway.env"
    env_file.write_text(env_file_text)
    argv = dry_run(tmp_path, ENV_FILE=str(env_file))
    assert values_of(argv, "--env-file") == [str(env_file)]
    # The container's layout comes after the file, so the file cannot move it.
    assert argv.index("--env-file") < argv.index("API_HOST=0.0.0.0")
    mounts = values_of(argv, "--volume")
    assert (f"{tmp_path}/model_cache/{KEYS_FILE}:/app/.env:ro" in mounts) is keys_file_mounted


def test_default_user_owns_the_model_cache(tmp_path: Path) -> None:
    (tmp_path / "model_cache").mkdir()
    info = (tmp_path / "model_cache").stat()
    expected = "1000:1000" if info.st_uid == 0 else f"{info.st_uid}:{info.st_gid}"
    assert values_of(dry_run(tmp_path), "--user") == [expected]


@pytest.mark.skipif(shutil.which("docker") is None, reason="no docker command line here")
def test_the_docker_cli_accepts_the_printed_command(tmp_path: Path) -> None:
    """The docker client parses every option before it needs a daemon (pointed at none here)."""
    (tmp_path / "gateway.env").write_text("LOG_LEVEL=info\n")
    argv = dry_run(tmp_path, GPUS="0,1", HUGGINGFACE_TOKEN="hf_token1234", ENV_FILE="gateway.env")
    assert values_of(argv, "--env-file") == [str(tmp_path / "gateway.env")]
    no_daemon = {**os.environ, "DOCKER_HOST": f"unix://{tmp_path}/no-daemon.sock"}
    result = subprocess.run(argv, env=no_daemon, capture_output=True, text=True, timeout=30)
    assert "Cannot connect to the Docker daemon" in result.stderr, result.stderr


# --- run_docker.sh, for real, with a fake docker ---


def test_first_start_generates_keys_the_gateway_reads(tmp_path: Path, fake_docker: dict[str, str]) -> None:
    cache = tmp_path / "cache"
    env = {**fake_docker, "MODEL_CACHE_DIR": str(cache), "CONTAINER_USER": f"{os.getuid()}:{os.getgid()}"}
    first = run_script("run_docker.sh", cwd=tmp_path, **env)
    assert first.returncode == 0, first.stderr
    keys_file = cache / KEYS_FILE
    assert stat.S_IMODE(keys_file.stat().st_mode) == 0o600
    settings = load_settings(_env_file=keys_file, api_host="0.0.0.0")
    settings.check_startup_safety()
    [admin_key], [client_key] = settings.admin_api_keys, settings.openai_api_keys
    assert (admin_key.name, client_key.name) == ("admin", "client")
    admin, client = admin_key.key.get_secret_value(), client_key.key.get_secret_value()
    assert len(admin) >= 32 and len(client) >= 32 and admin != client

    # The keys go in as a mounted file: never on a command line, never printed; the file's place is.
    calls = docker_calls(fake_docker)
    assert calls[0] == ["container", "inspect", "inference-gateway"]
    run = calls[-1]
    assert run[:2] == ["run", "--detach"] and f"{keys_file}:/app/.env:ro" in values_of(run, "--volume")
    everything = json.dumps(calls) + first.stdout + first.stderr
    assert admin not in everything and client not in everything
    assert str(keys_file) in first.stdout
    assert "http://127.0.0.1:8000/v1" in first.stdout

    # The next start reuses the file and replaces the running container, stopping it gracefully.
    content = keys_file.read_text()
    second = run_script("run_docker.sh", cwd=tmp_path, FAKE_DOCKER_EXISTS="1", **env)
    assert second.returncode == 0, second.stderr
    assert keys_file.read_text() == content and f"using the keys in {keys_file}" in second.stderr
    calls = docker_calls(fake_docker)[len(calls) :]
    assert calls[1:3] == [["stop", "--timeout", "60", "inference-gateway"], ["rm", "inference-gateway"]]
    assert calls[3][0] == "run"


def run_healthcheck(port: int) -> int:
    """The image's HEALTHCHECK command, run by this Python, for a gateway on `port`."""
    command = [sys.executable, *healthcheck_command()[1:]]
    return subprocess.run(
        command, env={**os.environ, "API_PORT": str(port)}, capture_output=True, timeout=30
    ).returncode


def test_generated_keys_open_a_live_gateway(tmp_path: Path, fake_docker: dict[str, str]) -> None:
    """The keys file, as the container's .env, gives an admin and a client; the image's HEALTHCHECK
    command passes while the gateway answers, and fails once it is gone."""
    cache = tmp_path / "cache"
    env = {**fake_docker, "MODEL_CACHE_DIR": str(cache), "CONTAINER_USER": f"{os.getuid()}:{os.getgid()}"}
    assert run_script("run_docker.sh", cwd=tmp_path, **env).returncode == 0
    settings = Settings(_env_file=cache / KEYS_FILE, model_cache_dir=cache, enabled_models=["qwen"])
    admin, client = (keys[0].key.get_secret_value() for keys in (settings.admin_api_keys, settings.openai_api_keys))
    with live_server(settings) as server, httpx.Client(base_url=server.base_url) as http:
        assert http.get("/api/auth/me").status_code == 401
        me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {admin}"}).json()
        assert (me["name"], me["role"]) == ("admin", "admin")
        me = http.get("/api/auth/me", headers={"Authorization": f"Bearer {client}"}).json()
        assert (me["name"], me["role"]) == ("client", "client")
        assert run_healthcheck(server.port) == 0
    assert run_healthcheck(server.port) != 0


# --- build_docker.sh ---


def test_build_dry_run(tmp_path: Path, fake_docker: dict[str, str]) -> None:
    result = run_script("build_docker.sh", "--dry-run", "gateway:2026-12-04", cwd=tmp_path, **fake_docker)
    assert result.returncode == 0, result.stderr
    argv = shlex.split(result.stdout)
    assert argv[:2] == ["docker", "build"] and argv[-1] == "."
    assert values_of(argv, "--file") == ["Dockerfile"] and values_of(argv, "--tag") == ["gateway:2026-12-04"]
    assert "--build-arg" not in argv
    assert docker_calls(fake_docker) == []

    result = run_script("build_docker.sh", "--dry-run", cwd=tmp_path, CUDA_IMAGE="mirror.example/nvidia/cuda:13.0.1")
    argv = shlex.split(result.stdout)
    assert values_of(argv, "--tag") == ["inference-gateway:latest"]
    assert values_of(argv, "--build-arg") == ["CUDA_IMAGE=mirror.example/nvidia/cuda:13.0.1"]


def test_build_runs_docker_from_the_checkout(tmp_path: Path, fake_docker: dict[str, str]) -> None:
    result = run_script("build_docker.sh", "gateway:test", cwd=tmp_path, **fake_docker)
    assert result.returncode == 0, result.stderr
    [call] = docker_calls(fake_docker)
    assert call[:5] == ["build", "--file", "Dockerfile", "--tag", "gateway:test"]


# --- Dockerfile ---


def dockerfile_instructions() -> list[tuple[str, str]]:
    """(INSTRUCTION, arguments) with continuation lines joined and comments dropped."""
    instructions: list[tuple[str, str]] = []
    current = ""
    for line in (ROOT / "Dockerfile").read_text().splitlines():
        if line.lstrip().startswith("#"):
            continue
        current += line.rstrip()
        if current.endswith("\\"):
            current = current[:-1] + " "
            continue
        if current.strip():
            keyword, _, arguments = current.strip().partition(" ")
            instructions.append((keyword.upper(), " ".join(arguments.split())))
        current = ""
    return instructions


def healthcheck_command() -> list[str]:
    [healthcheck] = [args for keyword, args in dockerfile_instructions() if keyword == "HEALTHCHECK"]
    return json.loads(healthcheck.partition(" CMD ")[2])


def make_test_extras() -> set[str]:
    recipe = (ROOT / "Makefile").read_text().partition("\ntest:")[2].partition("\n\n")[0]
    [extras] = re.findall(r"scripts/setup\.sh (\S+)", recipe)
    return set(extras.split(","))


def test_dockerfile_installs_what_make_test_installs_less_the_test_tools() -> None:
    runs = [args for keyword, args in dockerfile_instructions() if keyword == "RUN"]
    installs = [run for run in runs if "pip install" in run]
    assert installs and all("-c constraints.txt" in run for run in installs)
    [extras] = [m for run in installs for m in re.findall(r'"\.\[([^\]]+)\]"', run)]
    assert set(extras.split(",")) == make_test_extras() - {"test"}
    # Dependencies are installed before the code is copied: a code change keeps the torch layer.
    instructions = dockerfile_instructions()
    copy_backend = instructions.index(("COPY", "backend/ backend/"))
    deps = next(i for i, (keyword, args) in enumerate(instructions) if keyword == "RUN" and extras in args)
    assert deps < copy_backend
    assert all(not args.startswith(("backend", ".")) for keyword, args in instructions[:deps] if keyword == "COPY")


def test_dockerfile_sets_up_the_container_layout() -> None:
    instructions = dockerfile_instructions()
    text = "\n".join(f"{keyword} {args}" for keyword, args in instructions)
    for setting in ("FRONTEND_DIST=/app/frontend", "MODEL_CACHE_DIR=/models", "API_HOST=0.0.0.0", "API_PORT=8000"):
        assert setting in text
    assert ("COPY", "--from=dashboard /src/frontend/dist /app/frontend") in instructions
    assert ("EXPOSE", "8000") in instructions
    [user] = [args for keyword, args in instructions if keyword == "USER"]
    assert user.split(":")[0] not in ("0", "root")
    assert "/health" in " ".join(healthcheck_command())
    [entrypoint] = [json.loads(args) for keyword, args in instructions if keyword == "ENTRYPOINT"]
    assert entrypoint[0].endswith("tini") and entrypoint[-1] == "inference-gateway"
    assert ("CMD", '["serve"]') in instructions
    apt = next(args for keyword, args in instructions if keyword == "RUN" and "apt-get install" in args)
    assert {"ffmpeg", "tini"} <= set(apt.split())


def dockerignore_patterns() -> list[str]:
    lines = (ROOT / ".dockerignore").read_text().splitlines()
    return [line.strip().strip("/") for line in lines if line.strip() and not line.startswith("#")]


def ignored_by_docker(path: str, patterns: list[str]) -> bool:
    """Docker's matching, enough for these patterns: `**` any folders, `*` within one name; a folder that
    matches excludes what it holds."""
    for pattern in patterns:
        regex = "".join(
            ".*" if part == "**" else "[^/]*" if part == "*" else re.escape(part)
            for part in re.split(r"(\*\*|\*)", pattern)
        )
        parts = path.split("/")
        if any(re.fullmatch(regex.replace(".*/", "(.*/)?"), "/".join(parts[:n])) for n in range(1, len(parts) + 1)):
            return True
    return False


def test_dockerfile_copies_paths_of_the_checkout_that_reach_the_build() -> None:
    patterns = dockerignore_patterns()
    sources = []
    for keyword, args in dockerfile_instructions():
        if keyword == "COPY" and not args.startswith("--from="):
            sources += [s for s in args.split()[:-1] if not s.startswith("--")]
    assert {"pyproject.toml", "constraints.txt", "backend/", "frontend/"} <= set(sources)
    for source in sources:
        assert (ROOT / source).exists(), source
        assert not ignored_by_docker(source.rstrip("/"), patterns), source


@pytest.mark.parametrize(
    "path",
    [
        ".venv/bin/python",
        ".node/bin/node",
        "frontend/node_modules/react/index.js",
        "tests/node_sdk/node_modules/openai/index.js",
        "frontend/dist/index.html",
        "model_cache/models--Qwen--Qwen3-0.6B/blobs/x",
        ".git/HEAD",
        ".env",
        "backend/app/__pycache__/main.cpython-311.pyc",
        ".pytest_cache/v/cache",
        "frontend/test-results/x.png",
    ],
)
def test_dockerignore_keeps_local_state_out_of_the_build(path: str) -> None:
    assert ignored_by_docker(path, dockerignore_patterns())


def test_dockerignore_keeps_the_sources_in() -> None:
    for path in ("backend/app/main.py", "frontend/src/main.tsx", "frontend/package-lock.json", "README.md"):
        assert not ignored_by_docker(path, dockerignore_patterns()), path


# --- docker-compose.yml and .env.example ---


def compose() -> dict[str, Any]:
    return yaml.safe_load((ROOT / "docker-compose.yml").read_text())


def test_compose_file_follows_the_compose_specification() -> None:
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    jsonschema.Draft7Validator(schema).validate(compose())


def test_compose_service_matches_the_image_and_run_docker() -> None:
    service = compose()["services"]["gateway"]
    assert service["build"]["dockerfile"] == "Dockerfile"
    assert service["ports"] == ["${HOST_BIND_ADDRESS:-127.0.0.1}:${HOST_PORT:-8000}:8000"]
    [models] = service["volumes"]
    assert (models["source"], models["target"]) == ("${MODEL_CACHE_DIR:-./model_cache}", "/models")
    [gpus] = service["deploy"]["resources"]["reservations"]["devices"]
    assert gpus == {"driver": "nvidia", "count": "all", "capabilities": ["gpu"]}
    assert service["shm_size"] == "${SHM_SIZE:-16g}"
    assert service["restart"] == "unless-stopped"
    assert service["env_file"] == [{"path": ".env", "required": False}]
    assert service["environment"] == {"API_HOST": "0.0.0.0", "API_PORT": "8000", "MODEL_CACHE_DIR": "/models"}
    assert service["healthcheck"]["test"] == ["CMD", *healthcheck_command()]
    assert service["logging"] == {"driver": "json-file", "options": {"max-size": "100m", "max-file": "5"}}


def test_vllm_compose_file_puts_the_gateway_in_front_of_vllm() -> None:
    """docker-compose.vllm.yml, merged over docker-compose.yml: a vLLM service reachable only on the Compose
    network, and the gateway's LLM slot relaying to it by its service name."""
    schema = json.loads((ROOT / "tests" / "data" / "compose-spec.json").read_text())
    override = yaml.safe_load((ROOT / "docker-compose.vllm.yml").read_text())
    jsonschema.Draft7Validator(schema).validate(override)
    vllm, gateway = override["services"]["vllm"], override["services"]["gateway"]
    assert vllm["image"].startswith("${VLLM_IMAGE:-vllm/vllm-openai:") and "ports" not in vllm
    assert "ports" not in gateway and compose()["services"]["gateway"]["ports"]  # the gateway's port only
    assert "--model ${VLLM_MODEL:-" in vllm["command"] and "--port 8000" in vllm["command"]
    assert gateway["depends_on"] == ["vllm"]
    environment = gateway["environment"]
    assert environment["QWEN_ENGINE"] == "upstream" and environment["QWEN_UPSTREAM_URLS"] == "http://vllm:8000/v1"
    settings = Settings(
        _env_file=None, **{k.lower(): v for k, v in environment.items() if "$" not in v}, qwen_model_id="m"
    )
    assert settings.qwen_upstream_urls == ["http://vllm:8000/v1"]


def test_env_example_names_every_compose_variable() -> None:
    example = (ROOT / ".env.example").read_text()
    for file in ("docker-compose.yml", "docker-compose.vllm.yml"):
        names = set(re.findall(r"\$\{([A-Z_]+)", (ROOT / file).read_text()))
        assert names and all(re.search(rf"^{name}=", example, re.MULTILINE) for name in names), file


def test_env_example_is_a_gateway_env_file_that_refuses_to_run_open(tmp_path: Path) -> None:
    settings = load_settings(_env_file=ROOT / ".env.example")
    assert settings.openai_api_keys == [] and settings.huggingface_token is None
    with pytest.raises(SettingsError, match="neither OPENAI_API_KEYS nor ADMIN_API_KEYS"):
        load_settings(_env_file=ROOT / ".env.example", api_host="0.0.0.0").check_startup_safety()
    filled = tmp_path / ".env"
    filled.write_text(
        (ROOT / ".env.example")
        .read_text()
        .replace("ADMIN_API_KEYS=\n", "ADMIN_API_KEYS=ops:admin-key-0123456789\n")
        .replace("OPENAI_API_KEYS=\n", "OPENAI_API_KEYS=erp:client-key-0123456789\n")
    )
    settings = load_settings(_env_file=filled, api_host="0.0.0.0")
    settings.check_startup_safety()
    assert settings.admin_api_keys == [ApiKey("ops", SecretStr("admin-key-0123456789"))]
