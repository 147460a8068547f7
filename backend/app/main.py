"""Application factory: `create_app()` builds the gateway; its state lives in the lifespan."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Mapping
from contextlib import asynccontextmanager
from functools import partial

from fastapi import FastAPI
from fastapi.middleware.cors import CORSMiddleware
from starlette.routing import Match
from starlette.types import Scope
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from app import __version__
from app.api.dependencies import AppState
from app.api.error_handlers import RequestContextMiddleware, install_error_handlers
from app.api.frontend import serve_dashboard
from app.api.middleware import AccessMiddleware
from app.api.openapi import install_openapi
from app.api.routers import (
    admin,
    audio,
    auth,
    diarization,
    health,
    jobs,
    metrics,
    openai,
    speech_synthesis,
    translation,
    usage,
)
from app.config import Settings, load_settings
from app.infra.audio_io import AudioDecoding
from app.infra.auth import Authenticator
from app.infra.gpu_monitor import GPUMonitor
from app.infra.log_buffer import LogBuffer
from app.infra.log_format import configure_logging
from app.infra.rate_limit import ClientRateLimiter, RateLimiter
from app.infra.request_records import RecordSink
from app.infra.shared_limits import RedisLink, SharedDailyCounters, SharedRateLimiter
from app.infra.token_store import TokenStore
from app.services.jobs import JobService
from app.services.metrics import GatewayMetrics, ServiceStateCollector
from app.services.model_registry import ModelRegistry
from app.services.slot_bindings import WrapperFactory, build_services
from app.services.speech import SpeechPipeline
from app.services.usage import UsageService

logger = logging.getLogger("app")


def metrics_for(state: AppState) -> GatewayMetrics:
    """The metrics of a running gateway, reading its services at each scrape."""
    return GatewayMetrics(
        ServiceStateCollector(
            wrappers=state.registry.wrappers,
            asr_batch_sizes=state.transcription.batch_sizes,
            asr_queues=state.transcription.stats,
            diarization_queues=state.diarization.stats,
            jobs=state.jobs.stats,
            gpus=lambda: state.gpu_monitor.snapshot()["gpus"],
            request_log=lambda: (state.usage.queue_depth, state.usage.dropped),
            shared_limits=lambda: state.redis.describe() if state.redis is not None else None,
        )
    )


def route_template(app: FastAPI, scope: Scope) -> str:
    """The template of the route that served (or would have served) a request: `/api/jobs/{job_id}`;
    empty for what no API route matches (the dashboard's files, unknown paths)."""
    route = scope.get("route")
    if route is None:  # refused before routing (key, rate limit, body size)
        route = next((r for r in app.router.routes if r.matches(scope)[0] != Match.NONE), None)
    return getattr(route, "path", "") if route is not None else ""


def create_app(
    settings: Settings | None = None,
    *,
    wrapper_factories: Mapping[str, WrapperFactory] | None = None,
    with_defaults: bool = True,
) -> FastAPI:
    """Build the gateway. `wrapper_factories` adds (or replaces) model slots beside the defaults."""
    settings = settings or load_settings()
    settings.check_startup_safety()
    authenticator = Authenticator(settings.openai_api_keys, settings.admin_api_keys)
    configured_secrets = settings.secrets
    # Rate limits and quota counters: in this process, or in Redis shared with other gateways (REDIS_URL).
    redis_link: RedisLink | None = None
    shared_counters: SharedDailyCounters | None = None
    rate_limiter: ClientRateLimiter = RateLimiter(settings.rate_limit_rpm)
    if settings.redis_url is not None:
        redis_link = RedisLink(
            settings.redis_url.get_secret_value(),
            failure_mode=settings.redis_failure_mode,
            timeout_s=settings.redis_timeout_s,
            secrets=configured_secrets,
        )
        rate_limiter = SharedRateLimiter(settings.rate_limit_rpm, redis_link)
        shared_counters = SharedDailyCounters(redis_link)
    records = RecordSink()
    # Built here, not in the lifespan: AccessMiddleware checks quotas with it (it opens in the lifespan).
    usage_service = UsageService(
        settings,
        [k.name for k in (*settings.openai_api_keys, *settings.admin_api_keys)],
        shared=shared_counters,
    )

    @asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        configure_logging(settings.log_level, settings.log_format, settings.secrets)
        token_store: TokenStore | None = None
        logs = LogBuffer(
            settings.log_buffer_lines,
            secrets=lambda: [*configured_secrets, token_store.get() if token_store else None],
        )
        logs.attach()
        token_store = TokenStore(settings.model_cache_dir / ".hf_token", settings.huggingface_token)
        registry = ModelRegistry(settings, token_store.get)
        registry.configure(with_defaults=with_defaults)
        for factory in (wrapper_factories or {}).values():
            registry.register(factory(settings, token_store.get))
        monitor = GPUMonitor(disk_path=settings.model_cache_dir)
        await asyncio.to_thread(monitor.start)
        app.state.gateway = AppState(
            settings=settings,
            registry=registry,
            token_store=token_store,
            gpu_monitor=monitor,
            authenticator=authenticator,
            rate_limiter=rate_limiter,
            decoding=AudioDecoding(settings),
            services=build_services(settings, registry),
            logs=logs,
            records=records,
            usage=usage_service,
            redis=redis_link,
        )
        if redis_link is not None and await redis_link.check():
            logger.info("rate limits and quota counters are shared in Redis at %s", redis_link.url)
        # Before the jobs start: a resumed job's run is counted against today's use loaded here.
        await usage_service.start()
        records.observers.append(usage_service.record)
        gateway = app.state.gateway
        gateway.speech = SpeechPipeline(
            settings, registry, gateway.decoding, gateway.transcription, gateway.languages, gateway.diarization
        )
        jobs_service = gateway.jobs = JobService(settings, registry, gateway.speech, records)
        gateway_metrics = app.state.gateway.metrics = metrics_for(app.state.gateway)
        records.observers.append(gateway_metrics.observe)
        await jobs_service.start()
        preload = None if settings.lazy_load_models else asyncio.create_task(registry.preload_all())
        logger.info(
            "gateway ready: models %s, auth %s, %s",
            [w.key for w in registry.wrappers()],
            "on" if app.state.gateway.authenticator.enabled else "OFF (loopback only)",
            f"dashboard at / (from {settings.frontend_dist})" if dashboard_served else "no dashboard",
        )
        try:
            yield
        finally:
            if preload is not None:
                preload.cancel()
            await jobs_service.stop()
            await usage_service.stop()  # after the jobs: their runs' records are written
            if redis_link is not None:
                await redis_link.close()  # after the usage service: it writes its last counts
            records.observers.remove(usage_service.record)
            records.observers.remove(gateway_metrics.observe)
            for service in app.state.gateway.services.values():
                await service.stop()
            app.state.gateway.json_parsers.stop()
            await registry.shutdown()
            monitor.stop()
            logs.detach()

    # No trailing-slash redirects: they would answer before the key is checked, with a Location built
    # from the Host header.
    app = FastAPI(title="Inference Gateway", version=__version__, lifespan=lifespan, redirect_slashes=False)
    install_error_handlers(app)
    install_openapi(app)
    app.include_router(health.router)
    app.include_router(auth.router)
    app.include_router(openai.router)
    app.include_router(audio.router)
    app.include_router(translation.router)
    app.include_router(speech_synthesis.router)
    app.include_router(diarization.router)
    app.include_router(jobs.router)
    app.include_router(admin.router)
    app.include_router(usage.admin_router)
    app.include_router(usage.client_router)
    app.include_router(metrics.router)
    app.add_middleware(
        AccessMiddleware,
        authenticator=authenticator,
        rate_limiter=rate_limiter,
        max_upload_mb=settings.max_upload_mb,
        max_upload_bytes=settings.max_upload_body_bytes,
        max_json_body_mb=settings.max_json_body_mb,
        max_json_body_bytes=settings.max_json_body_bytes,
        usage=usage_service,
    )
    if settings.cors_origins:
        app.add_middleware(
            CORSMiddleware,
            allow_origins=settings.cors_origins,
            allow_methods=["*"],
            allow_headers=["*"],
            expose_headers=["X-Request-ID", "Retry-After"],
        )
    if settings.forwarded_allow_ips:
        # The client address (rate-limit bucket in open mode, logs) from X-Forwarded-For, only when the
        # connection comes from a proxy the operator named; uvicorn's own handling is off (server_config).
        app.add_middleware(ProxyHeadersMiddleware, trusted_hosts=settings.forwarded_allow_ips)
    app.add_middleware(RequestContextMiddleware, route_of=partial(route_template, app), on_finished=records.finished)
    dashboard_served = serve_dashboard(app, settings.frontend_dist)
    return app
