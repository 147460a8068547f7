"""`inference-gateway serve | download <model> | status`."""

from __future__ import annotations

import argparse
import asyncio
import json
import sys
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

from app.config import Settings, SettingsError, load_settings
from app.infra.log_format import uvicorn_log_config

if TYPE_CHECKING:
    import uvicorn

    from app.services.model_registry import ModelRegistry


def server_config(app: Any, settings: Settings, **overrides: Any) -> uvicorn.Config:
    """How the gateway is served. uvicorn's own X-Forwarded-For handling is off: by default it trusts
    loopback, which would let any client behind a local proxy pick its own rate-limit bucket; the
    application applies FORWARDED_ALLOW_IPS itself (see `create_app`)."""
    import uvicorn

    options: dict[str, Any] = {
        "host": settings.api_host,
        "port": settings.api_port,
        "log_level": settings.log_level,
        "timeout_graceful_shutdown": 10,
        "proxy_headers": False,
        "log_config": uvicorn_log_config(settings.log_format, settings.secrets),
        **overrides,
    }
    return uvicorn.Config(app, **options)


def _serve(args: argparse.Namespace) -> int:
    import uvicorn

    from app.main import create_app

    overrides = {k: v for k, v in {"api_host": args.host, "api_port": args.port}.items() if v is not None}
    settings = load_settings(**overrides)
    uvicorn.Server(server_config(create_app(settings), settings)).run()
    return 0


def _registry() -> ModelRegistry:
    from app.infra.token_store import TokenStore
    from app.services.model_registry import ModelRegistry

    settings = load_settings()
    tokens = TokenStore(settings.model_cache_dir / ".hf_token", settings.huggingface_token)
    registry = ModelRegistry(settings, tokens.get)
    registry.configure()
    return registry


def _download(args: argparse.Namespace) -> int:
    from app.errors import GatewayError

    registry = _registry()
    try:
        asyncio.run(registry.ensure_downloaded(args.model))
    except GatewayError as exc:
        print(f"error: {exc.message}", file=sys.stderr)
        return 1
    print(json.dumps(registry.get(args.model).status(), indent=2))
    return 0


def _status(args: argparse.Namespace) -> int:
    from app.infra.dependency_inspector import inspect_dependencies
    from app.infra.gpu_monitor import GPUMonitor

    report = {**GPUMonitor().sample(), "models": _registry().status(), "dependencies": inspect_dependencies()}
    print(json.dumps(report, indent=2, default=str))
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="inference-gateway", description=__doc__)
    commands = parser.add_subparsers(dest="command", required=True)
    serve = commands.add_parser("serve", help="run the gateway (settings from the environment / .env)")
    serve.add_argument("--host")
    serve.add_argument("--port", type=int)
    serve.set_defaults(run=_serve)
    download = commands.add_parser("download", help="download a model slot's artifacts into MODEL_CACHE_DIR")
    download.add_argument("model", help="slot key, e.g. qwen")
    download.set_defaults(run=_download)
    status = commands.add_parser("status", help="GPUs, dependencies and model cache state, as JSON")
    status.set_defaults(run=_status)
    args = parser.parse_args(argv)
    run: Callable[[argparse.Namespace], int] = args.run
    try:
        return run(args)
    except SettingsError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
