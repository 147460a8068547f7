"""How the gateway's log lines look: text (the default) or, with `LOG_FORMAT=json`, one JSON object per
line carrying the request id, client and route of the request being served. Either way, configured keys,
the Hub token and anything that looks like a credential are replaced by `***` before a line is written.

uvicorn's loggers are configured through `uvicorn_log_config` (given to uvicorn, so even its first lines
follow the format); the `app` loggers through `configure_logging` when the gateway starts.
"""

from __future__ import annotations

import json
import logging
import re
from collections.abc import Iterable
from datetime import UTC, datetime
from typing import Any, Literal

from app.infra.request_records import current_record

LogFormat = Literal["text", "json"]
REDACTED = "***"
# Tokens that look like credentials whoever they belong to: `Bearer <token>` and Hugging Face tokens.
CREDENTIAL_PATTERN = re.compile(r"(?i)(bearer\s+)[^\s\"',;]+|\bhf_[A-Za-z0-9]{8,}")
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s"


def redact(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, REDACTED)
    return CREDENTIAL_PATTERN.sub(lambda m: f"{m.group(1) or ''}{REDACTED}", text)


class TextFormatter(logging.Formatter):
    """The usual one-line text, without secrets."""

    def __init__(self, secrets: Iterable[str] = (), fmt: str = TEXT_FORMAT) -> None:
        super().__init__(fmt)
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        return redact(super().format(record), self.secrets)


class JsonFormatter(logging.Formatter):
    """One JSON object per line: `time` (ISO 8601, UTC), `level`, `logger`, `message`, then `request_id`,
    `client` and `route` inside a request (or a job's run), and `exception` with the traceback."""

    def __init__(self, secrets: Iterable[str] = ()) -> None:
        super().__init__()
        self.secrets = list(secrets)

    def format(self, record: logging.LogRecord) -> str:
        line: dict[str, Any] = {
            "time": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "message": redact(record.getMessage(), self.secrets),
        }
        request = current_record()
        if request is not None:
            line.update(request_id=request.request_id, client=request.client, route=request.current_route())
        if record.exc_info:
            line["exception"] = redact(self.formatException(record.exc_info), self.secrets)
        return json.dumps(line, ensure_ascii=False)


def make_formatter(log_format: LogFormat, secrets: Iterable[str]) -> logging.Formatter:
    return JsonFormatter(secrets) if log_format == "json" else TextFormatter(secrets)


def uvicorn_log_config(log_format: LogFormat, secrets: Iterable[str]) -> dict[str, Any]:
    """uvicorn's own logging configuration, with our formatters (uvicorn's loggers only: the `app`
    loggers are set up by `configure_logging`, and the root logger is left alone)."""
    secrets = list(secrets)
    factory = JsonFormatter if log_format == "json" else TextFormatter
    return {
        "version": 1,
        "disable_existing_loggers": False,
        "formatters": {"gateway": {"()": factory, "secrets": secrets}},
        "handlers": {
            "default": {"formatter": "gateway", "class": "logging.StreamHandler", "stream": "ext://sys.stderr"},
            "access": {"formatter": "gateway", "class": "logging.StreamHandler", "stream": "ext://sys.stdout"},
        },
        "loggers": {
            "uvicorn": {"handlers": ["default"], "level": "INFO", "propagate": False},
            "uvicorn.error": {"level": "INFO"},
            "uvicorn.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        },
    }


def configure_logging(level: str, log_format: LogFormat, secrets: Iterable[str]) -> None:
    """The `app` loggers at `level`, written through the root logger's stream handler in `log_format`."""
    logging.basicConfig(level=level.upper())
    logging.getLogger("app").setLevel(level.upper())
    formatter = make_formatter(log_format, secrets)
    for handler in logging.getLogger().handlers:
        if type(handler) is logging.StreamHandler:  # ours (basicConfig's), not a test runner's capture
            handler.setFormatter(formatter)
