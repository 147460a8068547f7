"""The gateway's recent log lines, in memory, for the dashboard (`GET /api/admin/logs`).

A logging handler on the `app` logger tree and uvicorn's error logger appends each record to a ring
buffer of `LOG_BUFFER_LINES` entries. Every entry gets an increasing id, so a reader follows the log by
asking for the entries after the last id it has seen. Configured secrets (API keys, the Hub token) are
replaced by `***` before a line is stored: the gateway never logs them, and this keeps it so if a
message ever quotes one (an exception text, a URL).
"""

from __future__ import annotations

import logging
import threading
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from typing import Any, Literal

from app.infra.log_format import redact

LogLevel = Literal["debug", "info", "warning", "error", "critical"]
LOGGERS = ("app", "uvicorn.error")
MAX_MESSAGE_CHARS = 4096
"""A longer message (a long traceback) keeps its head and its tail, where the exception is."""


@dataclass(frozen=True, slots=True)
class LogEntry:
    id: int
    time: float
    levelno: int
    logger: str
    message: str

    def public(self) -> dict[str, Any]:
        level = logging.getLevelName(self.levelno).lower()
        return {"id": self.id, "time": self.time, "level": level, "logger": self.logger, "message": self.message}


@dataclass(frozen=True, slots=True)
class LogPage:
    entries: list[LogEntry]
    last_id: int
    """The id to ask for entries after next time: the last entry returned, or the newest one examined."""

    def public(self) -> dict[str, Any]:
        return {"entries": [e.public() for e in self.entries], "last_id": self.last_id}


def _shorten(text: str) -> str:
    if len(text) <= MAX_MESSAGE_CHARS:
        return text
    half = MAX_MESSAGE_CHARS // 2
    return f"{text[:half]}\n… ({len(text) - 2 * half} characters left out) …\n{text[-half:]}"


class LogBuffer(logging.Handler):
    """A bounded, thread-safe ring buffer of log entries (records come from any thread)."""

    def __init__(self, capacity: int, secrets: Callable[[], Iterable[str | None]] = tuple) -> None:
        super().__init__(level=logging.NOTSET)
        self.capacity = capacity
        self._secrets = secrets
        self._entries: deque[LogEntry] = deque(maxlen=capacity)
        self._next_id = 1
        self._guard = threading.Lock()
        self.setFormatter(logging.Formatter())

    # --- writing ----------------------------------------------------------------------------------
    def emit(self, record: logging.LogRecord) -> None:
        try:
            message = record.getMessage()
            if record.exc_info:
                formatter = self.formatter or logging.Formatter()
                message = f"{message}\n{formatter.formatException(record.exc_info)}"
            message = _shorten(self.redact(message))
            with self._guard:
                entry = LogEntry(self._next_id, record.created, record.levelno, record.name, message)
                self._next_id += 1
                self._entries.append(entry)
        except Exception:
            self.handleError(record)

    def redact(self, text: str) -> str:
        return redact(text, self._secrets())

    def attach(self, names: Iterable[str] = LOGGERS) -> None:
        for name in names:
            logging.getLogger(name).addHandler(self)

    def detach(self, names: Iterable[str] = LOGGERS) -> None:
        for name in names:
            logging.getLogger(name).removeHandler(self)

    # --- reading ----------------------------------------------------------------------------------
    def read(
        self, after: int | None = None, level: LogLevel | None = None, query: str | None = None, limit: int = 200
    ) -> LogPage:
        """Entries at `level` or above whose message or logger contains `query` (case-insensitive).
        Without `after`: the newest `limit` of them. With `after`: the oldest `limit` after that id, so a
        reader that follows the log misses nothing."""
        with self._guard:
            entries = list(self._entries)
        floor = logging.getLevelNamesMapping()[level.upper()] if level else logging.NOTSET
        needle = query.casefold() if query else None

        def wanted(entry: LogEntry) -> bool:
            if entry.levelno < floor:
                return False
            return needle is None or needle in entry.message.casefold() or needle in entry.logger.casefold()

        newest = entries[-1].id if entries else 0
        if after is None:
            matches = [e for e in entries if wanted(e)][-limit:]
            return LogPage(matches, newest)
        matches = []
        for entry in entries:
            if entry.id <= after or not wanted(entry):
                continue
            if len(matches) == limit:
                return LogPage(matches, matches[-1].id)
            matches.append(entry)
        return LogPage(matches, max(newest, after))
