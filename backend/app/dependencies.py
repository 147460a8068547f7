"""Application state and the typed dependencies routes use to reach it (no module globals)."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import Depends, Header, Request

from app.config import Settings
from app.errors import AuthenticationError, PermissionDeniedError, RateLimitError
from app.services.asr_service import TranscriptionService
from app.services.audio_io import AudioDecoding
from app.services.auth import ANONYMOUS, Authenticator, Client, presented_key
from app.services.diarization_service import DiarizationService
from app.services.gpu_monitor import GPUMonitor
from app.services.jobs import JobService
from app.services.languages import LanguageService
from app.services.model_registry import ModelRegistry
from app.services.rate_limit import RateLimiter
from app.services.token_store import TokenStore


@dataclass
class AppState:
    settings: Settings
    registry: ModelRegistry
    token_store: TokenStore
    gpu_monitor: GPUMonitor
    authenticator: Authenticator
    rate_limiter: RateLimiter
    decoding: AudioDecoding
    transcription: TranscriptionService
    languages: LanguageService
    diarization: DiarizationService
    cache: dict[str, Any] = field(default_factory=dict)
    jobs: JobService = field(init=False)
    """Built from the rest of the state once it exists (`JobService(state)`)."""


async def get_state(request: Request) -> AppState:
    """Async on purpose: FastAPI runs a plain `def` dependency on its thread pool, on every request."""
    return request.app.state.gateway


StateDep = Annotated[AppState, Depends(get_state)]


def _authenticate(state: AppState, authorization: str | None, x_api_key: str | None) -> Client:
    if not state.authenticator.enabled:
        return ANONYMOUS
    key = presented_key(authorization, x_api_key)
    if key is None:
        raise AuthenticationError(
            "You didn't provide an API key. Send it as 'Authorization: Bearer <key>' or 'X-API-Key: <key>'."
        )
    client = state.authenticator.identify(key)
    if client is None:
        raise AuthenticationError("Incorrect API key provided.")
    return client


async def require_client(
    request: Request,
    state: StateDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Client:
    """Any valid key (or none in open mode), within the per-client rate limit."""
    client = _authenticate(state, authorization, x_api_key)
    bucket = client.name if state.authenticator.enabled else (request.client.host if request.client else "-")
    wait = state.rate_limiter.hit(bucket)
    if wait is not None:
        retry = RateLimiter.retry_after_header(wait)
        raise RateLimitError(
            f"Rate limit reached for '{bucket}': {state.rate_limiter.rpm} requests per minute. Retry in {retry} s.",
            retry_after_s=retry,
        )
    return client


async def require_admin(
    state: StateDep,
    authorization: Annotated[str | None, Header(include_in_schema=False)] = None,
    x_api_key: Annotated[str | None, Header(include_in_schema=False)] = None,
) -> Client:
    client = _authenticate(state, authorization, x_api_key)
    if not client.is_admin:
        hint = "" if state.authenticator.has_admin_keys else " (no ADMIN_API_KEYS are configured)"
        raise PermissionDeniedError(f"This route needs an admin API key{hint}.")
    return client


ClientDep = Annotated[Client, Depends(require_client)]
AdminDep = Annotated[Client, Depends(require_admin)]
