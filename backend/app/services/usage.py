"""The request log (SQLite, written off the event loop in batches), usage totals and daily quotas.

- `record()` is a `RecordSink` observer: called on the event loop when a request (or a job's run) has
  finished. It adds the record's tokens and audio seconds to today's per-client counters and hands the
  row to a bounded queue without ever waiting: when the queue is full the row is dropped and counted
  (`dropped`). A writer thread wakes up every `FLUSH_EVERY_S`, writes what has come in batches (one
  transaction each) and prunes rows older than `REQUEST_LOG_RETENTION_DAYS` at most once an hour.
- What is logged: every request whose route is under `/v1` or `/api`, and every job run, except the
  admin routes' reads (`GET /api/admin/...`: the dashboard polls them every few seconds, and they use
  nothing a quota counts). Requests no route matches (unknown URLs, the dashboard's files) and `/health`
  are not logged either. Never stored: keys, bodies, raw paths (the route's template only).
- Quotas are per client and UTC day. `check_quota` compares today's counters with the limit before a
  request reads its body; a request that starts under the quota may take its client over it (a chat's
  tokens are only known at its end), and the next one is refused. A request counts on the UTC day it
  finishes. The counters are loaded from today's rows at `start()`, so they survive a restart.
- With REDIS_URL (`shared`), today's counters of every gateway sharing the Redis are added up there
  (`app.infra.shared_limits.SharedDailyCounters`): `check_quota` reads them (one round trip, awaited, only
  for a client that has a quota), `record()` hands its additions to their writer without waiting. The
  request log stays this gateway's own. While Redis is away, REDIS_FAILURE_MODE decides: `open` checks
  this gateway's own counters (loaded from its log at start, as without Redis), `closed` refuses (503).
"""

from __future__ import annotations

import asyncio
import logging
import math
import sqlite3
import threading
import time
from collections import deque
from collections.abc import Callable, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, Literal

from app.config import ANONYMOUS_CLIENT, Settings
from app.errors import InvalidRequestError, QuotaExceededError
from app.infra.request_records import RequestRecord
from app.infra.shared_limits import RedisUnavailable, SharedDailyCounters, unavailable

logger = logging.getLogger("app.usage")

QuotaResource = Literal["tokens", "audio"]
UsageGranularity = Literal["hour", "day"]

HOUR = 3600
DAY = 86400
BATCH_ROWS = 500
"""Most rows written in one transaction."""
PRUNE_EVERY_S = HOUR
FLUSH_EVERY_S = 0.5
"""How often the writer wakes up to write what has come since: one transaction for all of it. Woken per
row instead (a commit and a thread switch each), it cost the streaming gateway ~100 µs of CPU per request."""
MAX_RANGE_DAYS: dict[UsageGranularity, int] = {"hour": 31, "day": 400}
DEFAULT_RANGE_S: dict[UsageGranularity, int] = {"hour": 24 * HOUR, "day": 7 * DAY}
SPAN_S: dict[UsageGranularity, int] = {"hour": HOUR, "day": DAY}

COLUMNS = (
    "time",
    "kind",
    "request_id",
    "client",
    "method",
    "route",
    "model",
    "status",
    "latency_ms",
    "prompt_tokens",
    "completion_tokens",
    "audio_seconds",
    "error_code",
)
SCHEMA = """
CREATE TABLE IF NOT EXISTS requests (
    id INTEGER PRIMARY KEY,
    time REAL NOT NULL,
    kind TEXT NOT NULL,
    request_id TEXT NOT NULL,
    client TEXT NOT NULL,
    method TEXT NOT NULL,
    route TEXT NOT NULL,
    model TEXT,
    status INTEGER NOT NULL,
    latency_ms REAL NOT NULL,
    prompt_tokens INTEGER NOT NULL,
    completion_tokens INTEGER NOT NULL,
    audio_seconds REAL NOT NULL,
    error_code TEXT
);
CREATE INDEX IF NOT EXISTS requests_by_time ON requests (time);
CREATE INDEX IF NOT EXISTS requests_by_client ON requests (client, time);
"""
ROW_VALUES = f"({', '.join('?' * len(COLUMNS))})"


def insert_rows(count: int) -> str:
    """One INSERT of `count` rows. A single statement, not `executemany`: sqlite3 lets go of the GIL around
    each statement it steps, and a thousand hand-overs between the writer and the event loop's thread a
    second cost the serving thread ~30 µs of CPU per request (measured with bench/gateway_overhead.py)."""
    return f"INSERT INTO requests ({', '.join(COLUMNS)}) VALUES {', '.join([ROW_VALUES] * count)}"


Row = tuple[Any, ...]


def is_logged(record: RequestRecord) -> bool:
    """Whether `record` belongs in the request log (see the module's docstring)."""
    if record.kind == "job":
        return True
    route = record.route
    if not route.startswith(("/v1/", "/api/")):
        return False
    return not (record.method in ("GET", "HEAD") and route.startswith("/api/admin/"))


def next_midnight(now: float) -> int:
    """The next UTC midnight after `now` (Unix time)."""
    return (int(now // DAY) + 1) * DAY


def _unix(moment: datetime) -> float:
    """A query's datetime as Unix time; one without a zone is UTC."""
    return (moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp()


def _connect(path: str) -> sqlite3.Connection:
    # Opened in one thread, used in another (the writer's, or whichever runs a report): never at once.
    db = sqlite3.connect(path, check_same_thread=False)
    db.execute("PRAGMA journal_mode=WAL")
    db.execute("PRAGMA synchronous=NORMAL")
    db.execute("PRAGMA busy_timeout=5000")
    return db


@dataclass
class DailyUse:
    tokens: int = 0
    audio_seconds: float = 0.0


class UsageService:
    def __init__(
        self,
        settings: Settings,
        clients: list[str],
        now: Callable[[], float] = time.time,
        shared: SharedDailyCounters | None = None,
    ) -> None:
        self.settings = settings
        self.shared = shared
        """Today's counters of every gateway sharing REDIS_URL; None: this gateway's own only."""
        self.clients = list(dict.fromkeys(clients)) or [ANONYMOUS_CLIENT]
        """Every client name a key is given (in order, once); `anonymous` in open mode."""
        self.now = now
        """The clock of days, quotas and pruning (a test moves it)."""
        self.dropped = 0
        """Finished records the full queue could not take (never waited for)."""
        self.written = 0
        """Rows the writer has committed since `start()`."""
        self.write_failures = 0
        """Rows the database refused (logged); they are not retried."""
        self.before_batch: Callable[[], None] | None = None
        """Called by the writer thread before each batch (a test slows or holds the writer with it)."""
        self._rows: deque[Row] = deque()
        """Rows waiting for the writer (appended on the event loop, taken by the writer thread)."""
        self._capacity = settings.request_log_queue_size
        self._stopping = threading.Event()
        self._day = -1
        self._use: dict[str, DailyUse] = {}
        self._writer: threading.Thread | None = None
        self._reader: sqlite3.Connection | None = None
        self._reader_lock = threading.Lock()
        self._pruned_at = -math.inf

    # --- lifecycle --------------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the database, load today's use per client (quotas survive a restart), start the writer."""
        path = self.settings.request_log_path
        writer_db, today = await asyncio.to_thread(self._open, str(path))
        self._reader = await asyncio.to_thread(_connect, str(path))
        self._day, self._use = today
        self._writer = threading.Thread(
            target=self._write_loop, args=(writer_db,), name="request-log-writer", daemon=True
        )
        self._writer.start()
        if self.shared is not None:
            await self.shared.start()

    async def stop(self) -> None:
        """Write what is queued, then close."""
        if self.shared is not None:
            await self.shared.stop()
        writer, self._writer = self._writer, None
        if writer is not None:
            self._stopping.set()
            await asyncio.to_thread(writer.join)
        reader, self._reader = self._reader, None
        if reader is not None:
            with self._reader_lock:
                reader.close()

    def _open(self, path: str) -> tuple[sqlite3.Connection, tuple[int, dict[str, DailyUse]]]:
        self.settings.request_log_path.parent.mkdir(parents=True, exist_ok=True)
        db = _connect(path)
        db.executescript(SCHEMA)
        self._prune_if_due(db)
        now = self.now()
        midnight = next_midnight(now) - DAY
        # A request counts on the day it finishes: arrival plus latency (the arrival index narrows it).
        rows = db.execute(
            "SELECT client, SUM(prompt_tokens + completion_tokens), SUM(audio_seconds) FROM requests "
            "WHERE time >= ? AND time + latency_ms / 1000.0 >= ? GROUP BY client",
            (midnight - 2 * DAY, midnight),
        ).fetchall()
        return db, (int(now // DAY), {client: DailyUse(int(tokens), float(audio)) for client, tokens, audio in rows})

    # --- recording (event loop) ---------------------------------------------------------------------------
    def record(self, record: RequestRecord) -> None:
        """The observer of finished records: counts today's use, queues the row; never blocks."""
        if not is_logged(record):
            return
        if record.prompt_tokens or record.completion_tokens or record.audio_seconds:
            use = self._today().setdefault(record.client, DailyUse())
            use.tokens += record.total_tokens
            use.audio_seconds += record.audio_seconds
            if self.shared is not None:
                self.shared.add(self._day, record.client, record.total_tokens, record.audio_seconds)
        row = (
            record.time,
            record.kind,
            record.request_id,
            record.client,
            record.method,
            record.route,
            record.model,
            record.status,
            record.latency_s * 1000,
            record.prompt_tokens,
            record.completion_tokens,
            record.audio_seconds,
            record.error_code,
        )
        if len(self._rows) >= self._capacity:
            self.dropped += 1
        else:
            self._rows.append(row)

    @property
    def queue_depth(self) -> int:
        return len(self._rows)

    def _today(self) -> dict[str, DailyUse]:
        """Today's use per client; a new UTC day starts from nothing."""
        day = int(self.now() // DAY)
        if day != self._day:
            self._day, self._use = day, {}
        return self._use

    # --- the writer thread -------------------------------------------------------------------------------------
    def _write_loop(self, db: sqlite3.Connection) -> None:
        try:
            while True:
                stopping = self._stopping.wait(FLUSH_EVERY_S)
                while self._rows:  # only this thread takes rows: what `len` counts is there to take
                    self._write(db, [self._rows.popleft() for _ in range(min(BATCH_ROWS, len(self._rows)))])
                self._prune_if_due(db)
                if stopping:
                    return
        finally:
            db.close()

    def _write(self, db: sqlite3.Connection, batch: list[Row]) -> None:
        if self.before_batch is not None:
            self.before_batch()
        try:
            with db:
                db.execute(insert_rows(len(batch)), [value for row in batch for value in row])
        except sqlite3.Error:
            logger.exception("the request log could not write %d rows", len(batch))
            self.write_failures += len(batch)
        else:
            self.written += len(batch)

    def _prune_if_due(self, db: sqlite3.Connection) -> None:
        now = self.now()
        if now - self._pruned_at < PRUNE_EVERY_S:
            return
        self._pruned_at = now
        try:
            with db:
                cursor = db.execute(
                    "DELETE FROM requests WHERE time < ?", (now - self.settings.request_log_retention_days * DAY,)
                )
        except sqlite3.Error:
            logger.exception("the request log could not prune old rows")
            return
        if cursor.rowcount:
            logger.info(
                "request log: %d rows older than %g days pruned",
                cursor.rowcount,
                self.settings.request_log_retention_days,
            )

    # --- quotas ------------------------------------------------------------------------------------------------------
    async def _todays_use(self, clients: list[str], *, checking: bool) -> dict[str, DailyUse]:
        """Today's use of `clients`: every gateway's with REDIS_URL, this one's without it (or while Redis
        is away and REDIS_FAILURE_MODE=open; `closed` refuses a check then)."""
        today = self._today()
        if self.shared is not None:
            try:
                shared = await self.shared.read(self._day, clients)
            except RedisUnavailable:
                if checking and self.shared.link.failure_mode == "closed":
                    raise unavailable("the daily quotas") from None
            else:
                return {client: DailyUse(tokens, audio) for client, (tokens, audio) in shared.items()}
        return {client: today.get(client) or DailyUse() for client in clients}

    async def check_quota(self, client: str, resource: QuotaResource) -> None:
        """Raise `QuotaExceededError` (429 insufficient_quota, Retry-After: to the next UTC midnight) when
        `client` has used up today's quota of `resource`."""
        quota = self.settings.quota_for(client)
        if quota is None:
            return
        limit = quota.tokens_per_day if resource == "tokens" else quota.audio_seconds_per_day
        if limit is None:
            return
        use = (await self._todays_use([client], checking=True))[client]
        used = use.tokens if resource == "tokens" else use.audio_seconds
        if used < limit:
            return
        now = self.now()
        resets = next_midnight(now)
        retry = max(1, math.ceil(resets - now))
        if resource == "tokens":
            what, amount = "token", f"tokens_per_day={limit} for '{client}', {used} tokens used today"
        else:
            what, amount = "audio", f"audio_seconds_per_day={limit:g} for '{client}', {used:.1f} s of audio used today"
        at = datetime.fromtimestamp(resets, UTC).strftime("%Y-%m-%d %H:%M UTC")
        raise QuotaExceededError(
            f"You exceeded your daily {what} quota ({amount}). It resets at {at} (in {retry} s).",
            retry_after_s=retry,
        )

    def _quota_use(self, client: str, use: DailyUse) -> dict[str, Any]:
        quota = self.settings.quota_for(client)
        return {
            "client": client,
            "tokens_per_day": quota.tokens_per_day if quota else None,
            "tokens_used": use.tokens,
            "audio_seconds_per_day": quota.audio_seconds_per_day if quota else None,
            "audio_seconds_used": round(use.audio_seconds, 3),
            "resets_at": next_midnight(self.now()),
        }

    async def quotas(self) -> dict[str, Any]:
        day = datetime.fromtimestamp(self.now(), UTC).strftime("%Y-%m-%d")
        use = await self._todays_use(self.clients, checking=False)
        return {"day": day, "data": [self._quota_use(client, use[client]) for client in self.clients]}

    async def quota(self, client: str) -> dict[str, Any]:
        return self._quota_use(client, (await self._todays_use([client], checking=False))[client])

    # --- reports (threads, the read connection) -----------------------------------------------------------------
    def _read(self, *queries: tuple[str, Iterable[Any]]) -> list[list[tuple[Any, ...]]]:
        """Run `queries` in one read transaction: they see the same rows, whatever the writer commits."""
        with self._reader_lock:
            if self._reader is None:
                raise RuntimeError("the request log is not open")
            self._reader.execute("BEGIN")
            try:
                return [self._reader.execute(sql, tuple(params)).fetchall() for sql, params in queries]
            finally:
                self._reader.rollback()

    async def report(
        self,
        start: datetime | None,
        end: datetime | None,
        granularity: UsageGranularity,
        client: str | None,
        model: str | None,
    ) -> dict[str, Any]:
        end_t = math.ceil(_unix(end) if end is not None else self.now())
        start_t = math.floor(_unix(start)) if start is not None else end_t - DEFAULT_RANGE_S[granularity]
        if start_t >= end_t:
            raise InvalidRequestError("start must be before end", param="start")
        most = MAX_RANGE_DAYS[granularity]
        if end_t - start_t > most * DAY:
            raise InvalidRequestError(
                f"start: a report by {granularity} covers at most {most} days; ask for a shorter range or by day",
                param="start",
            )
        span = SPAN_S[granularity]
        where = ["time >= ?", "time < ?"]
        params: list[int | str] = [start_t, end_t]
        for column, value in (("client", client), ("model", model)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        sql = (
            f"SELECT CAST(time / {span} AS INTEGER) * {span} AS bucket, client, model, COUNT(*), "
            "SUM(status >= 400), SUM(prompt_tokens), SUM(completion_tokens), SUM(audio_seconds) "
            f"FROM requests WHERE {' AND '.join(where)} GROUP BY bucket, client, model "
            "ORDER BY bucket, client, model"
        )
        (rows,) = await asyncio.to_thread(self._read, (sql, params))
        buckets: list[dict[str, Any]] = []
        totals: dict[tuple[str, str | None], list[float]] = {}
        for bucket, row_client, row_model, *counts in rows:
            buckets.append({"start": bucket, "client": row_client, "model": row_model, **_counts(counts)})
            total = totals.setdefault((row_client, row_model), [0, 0, 0, 0, 0.0])
            for i, value in enumerate(counts):
                total[i] += value
        return {
            "start": start_t,
            "end": end_t,
            "granularity": granularity,
            "buckets": buckets,
            "totals": [
                {"client": key[0], "model": key[1], **_counts(counts)}
                for key, counts in sorted(totals.items(), key=lambda item: (item[0][0], item[0][1] or ""))
            ],
        }

    async def requests(
        self, client: str | None, model: str | None, route: str | None, status: str | None, limit: int, offset: int
    ) -> dict[str, Any]:
        where: list[str] = []
        params: list[Any] = []
        for column, value in (("client", client), ("model", model), ("route", route)):
            if value is not None:
                where.append(f"{column} = ?")
                params.append(value)
        if status is not None:
            if status.endswith("xx"):
                low = int(status[0]) * 100
                where.append("status >= ? AND status < ?")
                params += [low, low + 100]
            else:
                where.append("status = ?")
                params.append(int(status))
        condition = f"WHERE {' AND '.join(where)}" if where else ""
        page = f"SELECT id, {', '.join(COLUMNS)} FROM requests {condition} ORDER BY time DESC, id DESC LIMIT ? OFFSET ?"
        rows, counted = await asyncio.to_thread(
            self._read, (page, [*params, limit, offset]), (f"SELECT COUNT(*) FROM requests {condition}", params)
        )
        (total,) = counted[0]
        names = ("id", *COLUMNS)
        return {
            "data": [dict(zip(names, row, strict=True)) for row in rows],
            "total": total,
            "limit": limit,
            "offset": offset,
        }


def _counts(counts: list[Any]) -> dict[str, Any]:
    requests, errors, prompt, completion, audio = counts
    return {
        "requests": int(requests),
        "errors": int(errors),
        "prompt_tokens": int(prompt),
        "completion_tokens": int(completion),
        "total_tokens": int(prompt + completion),
        "audio_seconds": round(float(audio), 3),
    }
