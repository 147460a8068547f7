"""The request log (SQLite, written off the event loop in batches), usage totals and daily quotas.

SKELETON: the signatures are the contract the routes, the middleware and the dashboard rely on; the
bodies are written in the usage branch.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from datetime import datetime
from typing import Any, Literal

from app.config import Settings
from app.request_records import RequestRecord
from app.schemas.usage import UsageGranularity

QuotaResource = Literal["tokens", "audio"]


class UsageService:
    def __init__(self, settings: Settings, clients: list[str], now: Callable[[], float] = time.time) -> None:
        self.settings = settings
        self.clients = clients
        self.now = now
        self.dropped = 0
        """Finished records the full queue could not take (never waited for)."""

    async def start(self) -> None:
        """Open the database, load today's use per client (quotas survive a restart), start the writer."""
        raise NotImplementedError

    async def stop(self) -> None:
        """Write what is queued, then close."""
        raise NotImplementedError

    def record(self, record: RequestRecord) -> None:
        """The observer of finished records: counts today's use, queues the row; never blocks."""
        raise NotImplementedError

    @property
    def queue_depth(self) -> int:
        raise NotImplementedError

    def check_quota(self, client: str, resource: QuotaResource) -> None:
        """Raise `QuotaExceededError` (429 insufficient_quota, Retry-After: to the next UTC midnight) when
        `client` has used up today's quota of `resource`."""
        raise NotImplementedError

    async def report(
        self,
        start: datetime | None,
        end: datetime | None,
        granularity: UsageGranularity,
        client: str | None,
        model: str | None,
    ) -> dict[str, Any]:
        raise NotImplementedError

    async def requests(
        self, client: str | None, model: str | None, route: str | None, status: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        raise NotImplementedError

    async def quotas(self) -> dict[str, Any]:
        raise NotImplementedError

    async def quota(self, client: str) -> dict[str, Any]:
        raise NotImplementedError
