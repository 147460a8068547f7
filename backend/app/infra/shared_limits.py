"""Limits shared by several gateways through one Redis (REDIS_URL): the per-client rate limit and the
daily quota counters. Without REDIS_URL none of this is built and nothing imports a Redis client.

- `RedisLink`: the connection pool (at most `MAX_CONNECTIONS` calls at once, each bounded by
  REDIS_TIMEOUT_S) and whether Redis answers. The first call that fails marks it unreachable and logs
  that once; from then on callers take their fallback (REDIS_FAILURE_MODE) at once, without trying
  Redis, while a probe pings it every `PROBE_EVERY_S` and marks it reachable again (logged once too).
  Requests never queue behind an outage, and a long one costs one log line, not one per request.
- `SharedRateLimiter`: RATE_LIMIT_RPM with the `limits` library's moving window in Redis (one Lua script
  per request): at most RATE_LIMIT_RPM requests per client in any 60 s, so a client may burst up to
  RATE_LIMIT_RPM at once, as with the in-process token bucket (`app.infra.rate_limit.RateLimiter`). The
  difference: a request's place comes back when it is a minute old, where the bucket refills steadily;
  after a full burst the bucket lets one request through every 60/RPM s, the window none until the
  burst's first request is a minute old; and over any minute the window allows RPM requests, the bucket
  up to twice that (a full bucket, then what refills). Retry-After is exact: when the oldest request of
  the window turns a minute old. The window's times are the gateways' clocks (keep them in sync: NTP).
  `limits`' sliding-window counter (two counters, Redis's clock) was not taken: its reset time is an
  estimate, which would make Retry-After wrong.
- `SharedDailyCounters`: each client's tokens and audio seconds of a UTC day, one Redis hash per client
  per day (`HINCRBY` / `HINCRBYFLOAT`) that expires an hour after the day ends. Additions are buffered on
  the event loop and written by one task every `WRITE_EVERY_S` (one transaction for all that came, never
  awaited by a request); reads add what is still buffered, so a gateway's own use counts at once. What
  has not been written yet (Redis away) is kept, bounded by clients x days, and written when it is back.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import math
import time
from collections.abc import Awaitable, Callable, Iterable
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, Literal, TypeVar
from urllib.parse import urlsplit, urlunsplit

from app.errors import LimitsUnavailableError
from app.infra.log_format import redact
from app.infra.rate_limit import RateLimiter

if TYPE_CHECKING:
    from limits.aio.strategies import MovingWindowRateLimiter
    from redis.asyncio import Redis

logger = logging.getLogger("app.limits")

FailureMode = Literal["open", "closed"]
T = TypeVar("T")

KEY_PREFIX = "inference-gateway"
"""Every key this gateway writes starts with it (the rate limit's are `limits`' keys under it)."""
MAX_CONNECTIONS = 64
"""Redis calls at once per gateway (and so connections); more wait for one to end."""
PROBE_EVERY_S = 1.0
"""How often an unreachable Redis is pinged (and so how soon a gateway uses it again)."""
WRITE_EVERY_S = 0.05
"""How long additions to the quota counters gather before they are written: one transaction per 50 ms, not
one per request (other gateways see a request's use this much later, at most, plus a round trip)."""
DAY = 86400
COUNTER_GRACE_S = 3600
"""A day's counters are kept this long after the day ends (late writes, gateways' clocks a little apart)."""


class RedisUnavailable(Exception):
    """Redis did not answer, or is known not to: the caller applies REDIS_FAILURE_MODE."""


def redacted_url(url: str) -> str:
    """`redis://user:***@host:6379/0`: REDIS_URL as status pages show it, without its password or query."""
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    if parts.port is not None:
        netloc += f":{parts.port}"
    if parts.username or parts.password:
        netloc = f"{parts.username or ''}{':***' if parts.password else ''}@{netloc}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


class RedisLink:
    """One gateway's connection to the Redis its limits share, and whether that Redis answers."""

    def __init__(
        self,
        url: str,
        *,
        failure_mode: FailureMode,
        timeout_s: float,
        secrets: Iterable[str] = (),
        clock: Callable[[], float] = time.time,
    ) -> None:
        import redis.asyncio as redis  # only a gateway with REDIS_URL imports the client
        from limits.errors import StorageError
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff

        self.url = redacted_url(url)
        self.failure_mode: FailureMode = failure_mode
        self.timeout_s = timeout_s
        # No retries inside the client: a failed call is an outage at once, handled by the probe. The
        # calls are bounded by `_calls` (redis-py's BlockingConnectionPool costs ~10 µs more per call).
        self.pool = redis.ConnectionPool.from_url(
            url, socket_timeout=timeout_s, socket_connect_timeout=timeout_s, retry=Retry(NoBackoff(), 0)
        )
        self._calls = asyncio.Semaphore(MAX_CONNECTIONS)
        self.client: Redis = redis.Redis(connection_pool=self.pool)
        self._errors: tuple[type[BaseException], ...] = (redis.RedisError, OSError, StorageError)
        self._secrets = list(secrets)
        self._clock = clock
        self.reachable = True
        """As far as the last call or probe knows."""
        self.unreachable_since: float | None = None
        self.last_error: str | None = None
        """The last outage's first error (no secret in it)."""
        self.outages = 0
        self.back = asyncio.Event()
        """Set while Redis is reachable (writers of buffered counters wait on it)."""
        self.back.set()
        self._probe: asyncio.Task[None] | None = None

    async def call(self, operation: Callable[[], Awaitable[T]]) -> T:
        """Run one Redis operation, or raise `RedisUnavailable` at once while Redis is known to be away."""
        if not self.reachable:
            raise RedisUnavailable(self.last_error)
        try:
            async with self._calls:
                return await operation()
        except self._errors as exc:
            self.failed(exc)
            raise RedisUnavailable(self.last_error) from exc

    async def check(self) -> bool:
        """Ping Redis now (when it is thought reachable; otherwise the probe does): whether it answers."""
        if self.reachable:
            with contextlib.suppress(RedisUnavailable):
                await self.call(self.client.ping)
        return self.reachable

    def failed(self, error: BaseException) -> None:
        """A call failed: the first failure of an outage logs it and starts the probe; the others are quiet."""
        if not self.reachable:
            return
        self.reachable = False
        self.back.clear()
        self.outages += 1
        self.unreachable_since = self._clock()
        error = getattr(error, "storage_error", error)  # limits' StorageError wraps the client's error
        self.last_error = redact(f"{type(error).__name__}: {error}", self._secrets)[:300]
        behaviour = (
            "this gateway applies its own in-process limits"
            if self.failure_mode == "open"
            else "requests a limit applies to are refused with 503"
        )
        logger.warning(
            "Redis at %s is unreachable (%s): until it answers, %s (REDIS_FAILURE_MODE=%s)",
            self.url,
            self.last_error,
            behaviour,
            self.failure_mode,
        )
        self._probe = asyncio.get_running_loop().create_task(self._wait_until_back(), name="redis-probe")

    async def _wait_until_back(self) -> None:
        while True:
            await asyncio.sleep(PROBE_EVERY_S)
            try:
                await self.client.ping()
            except self._errors:
                continue
            break
        down_for = self._clock() - (self.unreachable_since or self._clock())
        self.reachable = True
        self.unreachable_since = None
        self.back.set()
        logger.info("Redis at %s answers again after %.0f s: limits are shared again", self.url, down_for)

    def describe(self) -> dict[str, Any]:
        return {
            "backend": "redis",
            "url": self.url,
            "reachable": self.reachable,
            "failure_mode": self.failure_mode,
            "unreachable_since": self.unreachable_since,
            "last_error": self.last_error,
            "outages": self.outages,
        }

    async def close(self) -> None:
        if self._probe is not None:
            self._probe.cancel()
        await self.client.aclose()
        await self.pool.disconnect()


class SharedRateLimiter:
    """RATE_LIMIT_RPM per client in Redis (see the module's docstring), with REDIS_FAILURE_MODE when
    Redis is away: `open` falls back to this gateway's own token bucket, `closed` refuses with 503."""

    algorithm = "moving-window"

    def __init__(self, rpm: int, link: RedisLink) -> None:
        from limits import RateLimitItemPerMinute
        from limits.aio.storage import RedisStorage
        from limits.aio.strategies import MovingWindowRateLimiter

        self.rpm = rpm
        self.link = link
        self.fallback = RateLimiter(rpm)
        self._item = RateLimitItemPerMinute(max(rpm, 1))
        # The storage runs its scripts over the link's pool (the URL given here is only its scheme).
        storage = RedisStorage(
            "async+redis://",
            implementation="redispy",
            key_prefix=f"{KEY_PREFIX}:rate",
            wrap_exceptions=True,
            connection_pool=link.pool,  # type: ignore[arg-type]  # passed on to redis.asyncio.Redis; typed narrower
        )
        self._limiter: MovingWindowRateLimiter = MovingWindowRateLimiter(storage)

    async def acquire(self, client: str) -> float | None:
        try:
            if await self.link.call(lambda: self._limiter.hit(self._item, client)):
                return None
            stats = await self.link.call(lambda: self._limiter.get_window_stats(self._item, client))
        except RedisUnavailable:
            if self.link.failure_mode == "closed":
                raise unavailable("the rate limit") from None
            return self.fallback.hit(client)
        return max(0.0, stats.reset_time - time.time())


def unavailable(what: str) -> LimitsUnavailableError:
    return LimitsUnavailableError(
        f"The gateway cannot check {what} right now: its shared limits store is unreachable. Retry shortly.",
        retry_after_s=math.ceil(PROBE_EVERY_S) + 1,
    )


def day_name(day: int) -> str:
    """A UTC day number (Unix time // 86400) as `YYYY-MM-DD`."""
    return datetime.fromtimestamp(day * DAY, UTC).strftime("%Y-%m-%d")


class SharedDailyCounters:
    """Per-client use of a UTC day kept in Redis: `tokens` and `audio_seconds` of the hash
    `inference-gateway:usage:<YYYY-MM-DD>:<client>`, added to by every gateway sharing the Redis."""

    def __init__(self, link: RedisLink) -> None:
        self.link = link
        self._pending: dict[tuple[int, str], list[float]] = {}
        """Additions not written yet, by (day, client): [tokens, audio seconds]."""
        self._added = asyncio.Event()
        self._writer: asyncio.Task[None] | None = None
        self._writing: asyncio.Future[None] | None = None
        """The batch being written: stopping waits for it rather than losing it."""

    @staticmethod
    def key(day: int, client: str) -> str:
        return f"{KEY_PREFIX}:usage:{day_name(day)}:{client}"

    @property
    def pending(self) -> int:
        """(day, client) pairs with additions waiting for Redis."""
        return len(self._pending)

    def add(self, day: int, client: str, tokens: int, audio_seconds: float) -> None:
        """Count use for `client` on `day` (event loop; never waits: written by the writer task)."""
        totals = self._pending.setdefault((day, client), [0, 0.0])
        totals[0] += tokens
        totals[1] += audio_seconds
        self._added.set()

    async def read(self, day: int, clients: list[str]) -> dict[str, tuple[int, float]]:
        """Each client's tokens and audio seconds of `day`, all gateways together (what this one has not
        written yet included): one round trip. Raises `RedisUnavailable`."""

        async def fetch() -> list[Any]:
            if len(clients) == 1:  # a request's check: a pipeline costs ~10 µs more
                return [await self.link.client.hmget(self.key(day, clients[0]), "tokens", "audio_seconds")]
            pipe = self.link.client.pipeline(transaction=False)
            for client in clients:
                pipe.hmget(self.key(day, client), "tokens", "audio_seconds")
            return list(await pipe.execute())

        rows = await self.link.call(fetch)
        use: dict[str, tuple[int, float]] = {}
        for client, (tokens, audio) in zip(clients, rows, strict=True):
            waiting = self._pending.get((day, client), (0, 0.0))
            use[client] = (int(tokens or 0) + int(waiting[0]), float(audio or 0) + waiting[1])
        return use

    async def start(self) -> None:
        self._writer = asyncio.create_task(self._write_loop(), name="shared-usage-writer")

    async def stop(self) -> None:
        """Write what is buffered (if Redis answers within its timeout), then stop."""
        writer, self._writer = self._writer, None
        if writer is not None:
            writer.cancel()
            await asyncio.gather(writer, return_exceptions=True)
        if self._writing is not None:
            await asyncio.gather(self._writing, return_exceptions=True)
        if self._pending and self.link.reachable:
            await self._write()
        if self._pending:
            logger.warning("%d client-day usage counts could not be written to Redis", len(self._pending))

    async def _write_loop(self) -> None:
        while True:
            await self._added.wait()
            await self.link.back.wait()
            await asyncio.sleep(WRITE_EVERY_S)
            self._added.clear()
            self._writing = asyncio.ensure_future(self._write())
            await asyncio.shield(self._writing)

    async def _write(self) -> None:
        batch, self._pending = self._pending, {}
        # One transaction: a batch is added whole or not at all (one whose answer is lost may count twice).
        pipe = self.link.client.pipeline(transaction=True)
        for (day, client), (tokens, audio) in batch.items():
            key = self.key(day, client)
            if tokens:
                pipe.hincrby(key, "tokens", int(tokens))
            if audio:
                pipe.hincrbyfloat(key, "audio_seconds", audio)
            pipe.expireat(key, (day + 1) * DAY + COUNTER_GRACE_S)
        try:
            await self.link.call(pipe.execute)
        except RedisUnavailable:
            for (day, client), (tokens, audio) in batch.items():  # kept for when Redis is back
                self.add(day, client, int(tokens), audio)


def describe_limits(link: RedisLink | None, counters: SharedDailyCounters | None) -> dict[str, Any]:
    """The `limits` section of /api/admin/status: where the rate limits and quota counters are kept."""
    if link is None:
        return {
            "backend": "memory",
            "url": None,
            "reachable": True,
            "failure_mode": None,
            "unreachable_since": None,
            "last_error": None,
            "outages": 0,
            "rate_limit_algorithm": RateLimiter.algorithm,
            "quota_updates_pending": 0,
        }
    return {
        **link.describe(),
        "rate_limit_algorithm": SharedRateLimiter.algorithm,
        "quota_updates_pending": counters.pending if counters is not None else 0,
    }
