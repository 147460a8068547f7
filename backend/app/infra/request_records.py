"""What one API request did, for the request log, usage, quotas and metrics.

`RequestContextMiddleware` opens a `RequestRecord` for every HTTP request and makes it the current one
(a context variable, so it follows the request into tasks and threads it starts); routes and services
fill in what only they know (the model, tokens, audio seconds); when the response has been sent, the
middleware closes it (status, latency) and hands it to the observers. A job's run gets its own record.
Nothing here may block: the observers are called on the event loop.
"""

from __future__ import annotations

from collections.abc import Callable
from contextvars import ContextVar, Token
from dataclasses import dataclass, field
from time import perf_counter
from time import time as unix_time
from typing import Literal

RecordKind = Literal["request", "job"]
AudioTask = Literal["transcription", "diarization", "speech"]


@dataclass(slots=True)
class RequestRecord:
    request_id: str
    method: str
    route: str
    """The route's template (`/api/jobs/{job_id}`), never the raw path; empty until known."""
    kind: RecordKind = "request"
    client: str = "-"
    """The key's client name (`anonymous` in open mode); `-` when the caller was not identified."""
    model: str | None = None
    """The served model's name (its first served name), set when the request reaches a model."""
    status: int = 0
    error_code: str | None = None
    prompt_tokens: int = 0
    completion_tokens: int = 0
    audio_seconds: float = 0.0
    """Seconds of audio the request consumed (once per request, whatever the tasks run on it), or generated
    (speech synthesis)."""
    audio_tasks: tuple[AudioTask, ...] = ()
    time: float = field(default_factory=unix_time)
    """When the request arrived (Unix time)."""
    started: float = field(default_factory=perf_counter)
    latency_s: float = 0.0
    first_token_s: float | None = None
    """LLM: seconds from arrival to the first generated token."""
    generation_s: float | None = None
    """LLM: seconds from the first generated token to the last."""
    route_resolver: Callable[[], str] | None = field(default=None, repr=False)
    """Finds the route template while the request is still being served (for log lines)."""

    @property
    def total_tokens(self) -> int:
        return self.prompt_tokens + self.completion_tokens

    def current_route(self) -> str:
        if not self.route and self.route_resolver is not None:
            return self.route_resolver()
        return self.route

    def close(self, status: int) -> None:
        self.status = status
        self.latency_s = perf_counter() - self.started

    def first_token(self) -> None:
        if self.first_token_s is None:
            self.first_token_s = perf_counter() - self.started

    def last_token(self) -> None:
        if self.first_token_s is not None:
            self.generation_s = perf_counter() - self.started - self.first_token_s

    def consumed_audio(self, seconds: float, *, transcribe: bool, diarize: bool) -> None:
        self.audio_seconds = seconds
        tasks: list[AudioTask] = []
        if transcribe:
            tasks.append("transcription")
        if diarize:
            tasks.append("diarization")
        self.audio_tasks = tuple(tasks)

    def produced_audio(self, seconds: float) -> None:
        """Seconds of audio a speech synthesis request generated (what its usage and audio quota count)."""
        self.audio_seconds = seconds
        self.audio_tasks = ("speech",)

    def reached(self, model: str) -> None:
        """The request reached `model` (the first model it holds names it: ASR before diarization)."""
        if self.model is None:
            self.model = model


RecordObserver = Callable[[RequestRecord], None]


class RecordSink:
    """Where finished records go: the observers (metrics, the request log) registered on it, in order."""

    def __init__(self) -> None:
        self.observers: list[RecordObserver] = []

    def finished(self, record: RequestRecord) -> None:
        for observer in self.observers:
            observer(record)


_current: ContextVar[RequestRecord | None] = ContextVar("request_record", default=None)


def current_record() -> RequestRecord | None:
    """The record of the request (or job run) being served in this context; None outside any."""
    return _current.get()


def open_record(record: RequestRecord) -> Token[RequestRecord | None]:
    """Make `record` the current one; returns the token `reset_record` takes."""
    return _current.set(record)


def reset_record(token: Token[RequestRecord | None]) -> None:
    _current.reset(token)


def note_error(code: str | None) -> None:
    """Keep the error code of the answer in the request's record (the request log shows it)."""
    record = current_record()
    if record is not None:
        record.error_code = code
