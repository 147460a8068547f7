"""Application state and the typed dependencies routes use to reach it (no module globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any, TypeVar

from fastapi import Depends, Request, Security
from fastapi.security import APIKeyHeader, HTTPBearer

from app.api.json_body import JsonBodyParsers
from app.api.middleware import CLIENT_STATE_KEY
from app.config import Settings
from app.errors import AuthenticationError, PermissionDeniedError
from app.infra.audio_io import AudioDecoding
from app.infra.auth import Authenticator, Client
from app.infra.gpu_monitor import GPUMonitor
from app.infra.log_buffer import LogBuffer
from app.infra.rate_limit import ClientRateLimiter
from app.infra.request_records import RecordSink
from app.infra.shared_limits import RedisLink
from app.infra.token_store import TokenStore
from app.services.asr_service import TranscriptionService
from app.services.diarization_service import DiarizationService
from app.services.jobs import JobService
from app.services.languages import LanguageService
from app.services.metrics import GatewayMetrics
from app.services.model_registry import ModelRegistry
from app.services.slot_bindings import SlotService
from app.services.speech import SpeechPipeline
from app.services.usage import UsageService

S = TypeVar("S")


@dataclass
class AppState:
    settings: Settings
    registry: ModelRegistry
    token_store: TokenStore
    gpu_monitor: GPUMonitor
    authenticator: Authenticator
    rate_limiter: ClientRateLimiter
    decoding: AudioDecoding
    services: dict[str, SlotService]
    """The services of the slots' roles, by `state_field` of `app.slots.SLOTS` (built by
    `slot_bindings.build_services`; the lifespan stops them)."""
    logs: LogBuffer
    records: RecordSink
    usage: UsageService
    redis: RedisLink | None = None
    """The Redis the rate limits and quota counters are shared in (REDIS_URL); None: kept in this process."""
    json_parsers: JsonBodyParsers = field(default_factory=JsonBodyParsers)
    cache: dict[str, Any] = field(default_factory=dict)
    speech: SpeechPipeline = field(init=False)
    """The speech pipeline over the registry, the decoder, the ASR, language and diarization services."""
    jobs: JobService = field(init=False)
    """Built from the rest of the state once it exists (`JobService(settings, registry, speech, records)`)."""
    metrics: GatewayMetrics = field(init=False)
    """Built from the rest of the state, jobs included (`metrics_for(state)`)."""

    def service(self, name: str, cls: type[S]) -> S:
        """The role service `name` (a `state_field` of the slot table), typed as `cls`."""
        found = self.services[name]
        if not isinstance(found, cls):
            raise TypeError(f"service '{name}' is a {type(found).__name__}, not a {cls.__name__}")
        return found

    @property
    def transcription(self) -> TranscriptionService:
        return self.service("transcription", TranscriptionService)

    @property
    def languages(self) -> LanguageService:
        return self.service("languages", LanguageService)

    @property
    def diarization(self) -> DiarizationService:
        return self.service("diarization", DiarizationService)


async def get_state(request: Request) -> AppState:
    """Async on purpose: FastAPI runs a plain `def` dependency on its thread pool, on every request."""
    state: AppState = request.app.state.gateway
    return state


StateDep = Annotated[AppState, Depends(get_state)]


# Declared for the API documents and generated clients; `AccessMiddleware` has checked the key already.
_bearer = HTTPBearer(auto_error=False, description="`Authorization: Bearer <key>`")
_api_key_header = APIKeyHeader(name="X-API-Key", auto_error=False, description="`X-API-Key: <key>`")
Credentials = [Security(_bearer), Security(_api_key_header)]
"""Router dependencies that only declare the two ways to send a key."""


def _caller(request: Request) -> Client:
    """The caller `AccessMiddleware` identified (and rate-limited) before the body was read."""
    client = getattr(request.state, CLIENT_STATE_KEY, None)
    if not isinstance(client, Client):  # a route outside the prefixes the middleware guards
        raise AuthenticationError("This route needs an API key.")
    return client


async def require_client(request: Request) -> Client:
    """Any valid key (or none in open mode), within the per-client rate limit."""
    return _caller(request)


async def require_admin(request: Request) -> Client:
    client = _caller(request)
    if not client.is_admin:
        raise PermissionDeniedError("This route needs an admin API key.")
    return client


ClientDep = Annotated[Client, Depends(require_client)]
