"""Per-client requests-per-minute limit: a token bucket refilled continuously, in this process.

With REDIS_URL the gateway uses `app.infra.shared_limits.SharedRateLimiter` instead (same interface,
`ClientRateLimiter`), whose budget every gateway sharing the Redis draws on.
"""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import Protocol


class ClientRateLimiter(Protocol):
    """What the access middleware asks of a rate limiter."""

    rpm: int
    """Requests per minute per client; 0: no limit (the middleware then never calls `acquire`)."""

    async def acquire(self, client: str) -> float | None:
        """Take one request for `client`: None if allowed, else seconds until the next is allowed."""
        ...


class RateLimiter:
    """`rpm` requests per minute per client, bursts up to `rpm`; `rpm == 0` disables the limit."""

    max_tracked_clients = 10_000
    algorithm = "token-bucket"

    def __init__(self, rpm: int, now: Callable[[], float] = time.monotonic) -> None:
        self.rpm = rpm
        self._now = now
        self._buckets: OrderedDict[str, tuple[float, float]] = OrderedDict()
        self._lock = threading.Lock()

    def hit(self, client: str) -> float | None:
        """Take one request for `client`: None if allowed, else seconds until the next is allowed."""
        if self.rpm <= 0:
            return None
        rate = self.rpm / 60.0
        now = self._now()
        with self._lock:
            tokens, last = self._buckets.pop(client, (float(self.rpm), now))
            tokens = min(float(self.rpm), tokens + (now - last) * rate)
            allowed = tokens >= 1.0
            if allowed:
                tokens -= 1.0
            self._buckets[client] = (tokens, now)
            if len(self._buckets) > self.max_tracked_clients:
                self._buckets.popitem(last=False)
        return None if allowed else (1.0 - tokens) / rate

    async def acquire(self, client: str) -> float | None:
        return self.hit(client)

    @staticmethod
    def retry_after_header(wait_s: float) -> int:
        return max(1, math.ceil(wait_s))
