"""Per-client requests-per-minute limit: a token bucket refilled continuously."""

from __future__ import annotations

import math
import threading
import time
from collections import OrderedDict
from collections.abc import Callable


class RateLimiter:
    """`rpm` requests per minute per client, bursts up to `rpm`; `rpm == 0` disables the limit."""

    max_tracked_clients = 10_000

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

    @staticmethod
    def retry_after_header(wait_s: float) -> int:
        return max(1, math.ceil(wait_s))
