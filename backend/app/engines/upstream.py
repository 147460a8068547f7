"""A pool of upstream OpenAI-compatible servers (vLLM replicas) that an LLM slot relays its requests to.

`UpstreamPool` owns one aiohttp `ClientSession` (its connection pool) and the replicas: it picks the replica
with the fewest requests in flight (ties go to the one picked longest ago, so idle replicas take turns),
checks each one's health every interval (`GET /health` at the server's root, `GET {base}/models` where
that path is missing), and takes a replica out while it fails and back when it answers again.

`open()` sends one request and yields the upstream's response once its head has arrived with a 2xx status
and the expected content type. A request is tried on another replica only when the upstream cannot have
started on it: the connection failed, or the upstream answered 503. Anything else is the caller's error, in
the gateway's hierarchy: a 4xx stays the client's (same status, the upstream's message), a 5xx, a timeout or
a wrong answer is a 503 with `Retry-After`. Nothing here knows the OpenAI payloads beyond their error shape
(`services/openai_upstream.py` relays them).

The upstream key is sent as `Authorization: Bearer` and appears nowhere else: not in the status, not in an
error message (an upstream quoting it back is redacted), not in a log line.

aiohttp rather than httpx: its HTTP parser is C (llhttp), and it hands over whatever the socket delivered at once;
reading a stream token by token cost 13 µs of CPU per token with httpx (h11) and 5 µs with aiohttp (measured
2026-12-04 on the CI machine, 2 vCPUs), which decides whether the proxy meets its 10 µs budget per token.
"""

from __future__ import annotations

import asyncio
import json
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass, field
from typing import Any, Literal
from urllib.parse import urlsplit, urlunsplit

import aiohttp

from app.errors import ModelUnavailableError, RateLimitError, UpstreamRequestError

logger = logging.getLogger("app.upstream")

ReplicaState = Literal["unknown", "up", "down"]
LATENCY_WEIGHT = 0.2
"""The weight of the newest sample in a replica's latency average (EWMA)."""
MAX_ERROR_BODY_BYTES = 64 * 1024
"""What is read of an upstream's error answer: enough for any message."""
MAX_JSON_BYTES = 64 * 2**20
"""The largest non-streamed answer taken from an upstream (64 generations of 32,000 tokens fit)."""
MAX_EVENT_BYTES = 4 * 2**20
"""The largest stream event (one `data:` chunk) taken from an upstream: a stream that sends more without an event's
end is broken off."""
MAX_CONNECTIONS = 1024
"""Connections to all replicas together (each stream holds one); one more waits up to the connect timeout."""


def public_url(url: str) -> str:
    """The URL without any user and password it may carry, as the status shows it."""
    parts = urlsplit(url)
    if parts.username is None and parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"[{host}]" if ":" in host else host
    netloc += f":{parts.port}" if parts.port else ""
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def server_root(url: str) -> str:
    """The server's root for `/health`: the base URL without its trailing `/v1`."""
    return url.removesuffix("/v1")


def describe(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return f"{type(exc).__name__}: {text[0]}" if text else type(exc).__name__


@dataclass(eq=False)
class Replica:
    url: str
    """The OpenAI base URL (`http://vllm-a:8000/v1`)."""
    state: ReplicaState = "unknown"
    draining: bool = False
    in_flight: int = 0
    requests: int = 0
    failures: int = 0
    latency_s: float | None = None
    """Average time to an answer's head (EWMA): the time to first byte of a stream, all of a non-streamed answer."""
    check_latency_s: float | None = None
    last_check_at: float | None = None
    last_error: dict[str, Any] | None = None
    picked: int = 0
    """When it was last picked (a counter): ties in load go to the replica picked longest ago."""
    models_probe: bool = False
    """Its server has no `/health`: the checks ask `{url}/models` instead."""
    name: str = field(init=False)

    def __post_init__(self) -> None:
        self.name = public_url(self.url)

    @property
    def available(self) -> bool:
        return self.state != "down" and not self.draining

    def failed(self, message: str, *, down: bool) -> None:
        self.failures += 1
        self.last_error = {"message": message, "at": time.time()}
        if down and self.state != "down":
            logger.warning("upstream replica %s is down: %s", self.name, message)
            self.state = "down"

    def answered(self, seconds: float) -> None:
        self.latency_s = (
            seconds if self.latency_s is None else (1 - LATENCY_WEIGHT) * self.latency_s + (LATENCY_WEIGHT * seconds)
        )

    def public(self) -> dict[str, Any]:
        def ms(seconds: float | None) -> float | None:
            return None if seconds is None else round(seconds * 1000, 1)

        return {
            "url": self.name,
            "state": "draining" if self.draining else self.state,
            "healthy": self.state == "up",
            "in_flight": self.in_flight,
            "requests": self.requests,
            "failures": self.failures,
            "latency_ms": ms(self.latency_s),
            "check_latency_ms": ms(self.check_latency_s),
            "last_check_at": self.last_check_at,
            "last_error": self.last_error,
        }


class UpstreamResponse:
    """An upstream's answer whose head has arrived (2xx): its body, as raw chunks or as one JSON document."""

    def __init__(self, pool: UpstreamPool, replica: Replica, response: aiohttp.ClientResponse) -> None:
        self._pool = pool
        self.replica = replica
        self._response = response

    async def chunks(self) -> AsyncIterator[bytes]:
        """The body's bytes as they arrive (no decoding: the gateway asks for `identity`). A connection that
        breaks or stalls past the read timeout raises a 503 `upstream_error`."""
        try:
            async for chunk in self._response.content.iter_any():
                yield chunk
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self._pool.broken(self.replica, exc) from None

    async def json(self) -> Any:
        """The body as JSON; an answer that is not JSON, or larger than `MAX_JSON_BYTES`, is a 503."""
        parts, size = [], 0
        async for chunk in self.chunks():
            size += len(chunk)
            if size > MAX_JSON_BYTES:
                raise self._pool.wrong_answer(self.replica, f"an answer larger than {MAX_JSON_BYTES // 2**20} MiB")
            parts.append(chunk)
        try:
            return json.loads(b"".join(parts))
        except ValueError:
            raise self._pool.wrong_answer(self.replica, "an answer that is not valid JSON") from None


class UpstreamPool:
    """The replicas of one upstream slot, their health and the connections to them."""

    def __init__(
        self,
        name: str,
        urls: list[str],
        *,
        model: str,
        api_key: str | None,
        connect_timeout_s: float,
        read_timeout_s: float,
        health_interval_s: float,
    ) -> None:
        self.name = name
        self.model = model
        """The model's name on the upstream servers."""
        self.replicas = [Replica(url) for url in urls]
        self._api_key = api_key
        self.connect_timeout_s = connect_timeout_s
        self.read_timeout_s = read_timeout_s
        self.health_interval_s = health_interval_s
        self._session: aiohttp.ClientSession | None = None
        self._checks: asyncio.Task[None] | None = None
        self._check_now = asyncio.Event()
        self._picks = 0

    # --- lifecycle --------------------------------------------------------------------------------
    async def start(self) -> None:
        """Open the connection pool, check every replica once, then keep checking them in the background."""
        self._session = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=MAX_CONNECTIONS),
            timeout=aiohttp.ClientTimeout(total=None, connect=self.connect_timeout_s, sock_read=self.read_timeout_s),
            auto_decompress=False,
            trust_env=False,  # replicas are reached directly, never through the environment's proxy
        )
        await self.check_all()
        self._checks = asyncio.create_task(self._check_forever(), name=f"upstream-checks:{self.name}")

    async def stop(self) -> None:
        checks, self._checks = self._checks, None
        if checks is not None:
            checks.cancel()
            await asyncio.gather(checks, return_exceptions=True)
        session, self._session = self._session, None
        if session is not None:
            await session.close()
        for replica in self.replicas:
            replica.state = "unknown"

    @property
    def retry_after_s(self) -> int:
        """What a 503 tells a client to wait: about until the next health check."""
        return max(1, round(self.health_interval_s))

    def describe(self) -> list[dict[str, Any]]:
        return [replica.public() for replica in self.replicas]

    def replica(self, url: str) -> Replica | None:
        """The replica of `url` as configured or as the status shows it."""
        given = url.strip().rstrip("/")
        return next((r for r in self.replicas if given in (r.url, r.name)), None)

    def drain(self, replica: Replica, draining: bool) -> None:
        """Send a replica no new requests (`draining`), or again; the requests it serves end normally."""
        if replica.draining != draining:
            logger.info("upstream replica %s of %s %s", replica.name, self.name, "drained" if draining else "undrained")
        replica.draining = draining

    def up_count(self) -> int:
        return sum(r.state == "up" for r in self.replicas)

    # --- health -----------------------------------------------------------------------------------
    async def _check_forever(self) -> None:
        while True:
            with suppress(TimeoutError):
                await asyncio.wait_for(self._check_now.wait(), self.health_interval_s)
            self._check_now.clear()
            await self.check_all()

    async def check_all(self) -> None:
        await asyncio.gather(*(self._check(replica) for replica in self.replicas))

    async def _check(self, replica: Replica) -> None:
        session = self._session
        if session is None:
            return
        started = time.perf_counter()
        timeout = aiohttp.ClientTimeout(total=self.connect_timeout_s)
        try:
            status = 0
            if not replica.models_probe:
                async with session.get(server_root(replica.url) + "/health", timeout=timeout) as response:
                    status = response.status
                replica.models_probe = status in (404, 405)
            if replica.models_probe:
                models = replica.url + "/models"
                async with session.get(models, headers=self._headers(), timeout=timeout) as response:
                    status = response.status
        except Exception as exc:  # a check must never end the loop
            problem: str | None = f"health check: {describe(exc)}"
        else:
            problem = None if 200 <= status < 300 else f"health check: HTTP {status}"
        replica.last_check_at = time.time()
        replica.check_latency_s = time.perf_counter() - started
        if problem is not None:
            replica.failed(problem, down=True)
        elif replica.state != "up":
            if replica.state == "down":
                logger.info("upstream replica %s is up again", replica.name)
            replica.state = "up"

    def check_soon(self) -> None:
        """Check every replica now rather than at the next interval (a request found one failing)."""
        self._check_now.set()

    # --- requests ---------------------------------------------------------------------------------
    def _headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self._api_key}"} if self._api_key else {}

    def _redact(self, text: str) -> str:
        return text.replace(self._api_key, "**********") if self._api_key else text

    def _pick(self, tried: set[Replica]) -> Replica | None:
        candidates = [r for r in self.replicas if r.available and r not in tried]
        if not candidates:
            return None
        replica = min(candidates, key=lambda r: (r.in_flight, r.state != "up", r.picked))
        self._picks += 1
        replica.picked = self._picks
        return replica

    def unavailable(self, detail: str) -> ModelUnavailableError:
        return ModelUnavailableError(
            f"model '{self.name}' is served by upstream servers and {detail}; retry shortly",
            code="upstream_unavailable",
            retry_after_s=self.retry_after_s,
        )

    def upstream_error(self, replica: Replica, detail: str) -> ModelUnavailableError:
        replica.failed(detail, down=False)
        return ModelUnavailableError(
            f"the upstream server of model '{self.name}' failed ({self._redact(detail)}); retry shortly",
            code="upstream_error",
            retry_after_s=self.retry_after_s,
        )

    def broken(self, replica: Replica, exc: BaseException) -> ModelUnavailableError:
        """An answer that broke off (the connection closed, or no bytes for the read timeout)."""
        self.check_soon()
        if isinstance(exc, TimeoutError):
            return self.upstream_error(replica, f"no answer within {self.read_timeout_s:g} s")
        return self.upstream_error(replica, f"the answer broke off ({describe(exc)})")

    def wrong_answer(self, replica: Replica, what: str) -> ModelUnavailableError:
        return self.upstream_error(replica, f"it sent {what}")

    @asynccontextmanager
    async def open(
        self, path: str, body: bytes, *, stream: bool, request_id: str | None = None
    ) -> AsyncIterator[UpstreamResponse]:
        """POST `body` (JSON) to `{replica}{path}` and yield the answer once its head is in; the response is
        closed on exit (an unfinished one closes its connection: vLLM then aborts the request)."""
        session = self._session
        if session is None:
            raise self.unavailable("is not connected")
        headers = {
            **self._headers(),
            "Content-Type": "application/json",
            "Accept": "text/event-stream" if stream else "application/json",
            "Accept-Encoding": "identity",
        }
        if request_id:
            headers["X-Request-ID"] = request_id
        tried: set[Replica] = set()
        while True:
            replica = self._pick(tried)
            if replica is None:
                down = "no replica is up" if not tried else "no replica could take the request"
                raise self.unavailable(down)
            tried.add(replica)
            replica.in_flight += 1
            try:
                response = await self._send(session, replica, path, body, headers, stream)
                if response is None:
                    continue  # nothing started upstream: the next replica
                try:
                    yield UpstreamResponse(self, replica, response)
                finally:
                    response.release()  # back to the pool when read to its end; closed otherwise
                return
            finally:
                replica.in_flight -= 1

    async def _send(
        self,
        session: aiohttp.ClientSession,
        replica: Replica,
        path: str,
        body: bytes,
        headers: dict[str, str],
        stream: bool,
    ) -> aiohttp.ClientResponse | None:
        """The answer's head when it is a 2xx of the expected type; None when the request may go to another
        replica; a GatewayError otherwise."""
        started = time.perf_counter()
        try:
            response = await session.post(replica.url + path, data=body, headers=headers, allow_redirects=False)
        except (aiohttp.ClientConnectorError, aiohttp.ConnectionTimeoutError) as exc:
            replica.failed(describe(exc), down=True)
            self.check_soon()
            return None
        except (aiohttp.ServerDisconnectedError, aiohttp.ClientOSError) as exc:
            # The connection broke before any answer (a kept-alive one its server closed, a server killed): had
            # the upstream begun, it aborted the request when the connection closed, so it is tried elsewhere.
            replica.failed(describe(exc), down=False)
            self.check_soon()
            return None
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise self.broken(replica, exc) from None
        replica.requests += 1
        replica.answered(time.perf_counter() - started)
        try:
            status = response.status
            if 200 <= status < 300:
                kind = response.headers.get("Content-Type", "").split(";")[0].strip().lower()
                expected = "text/event-stream" if stream else "application/json"
                if kind != expected:
                    raise self.wrong_answer(replica, f"'{kind or 'no content type'}' instead of {expected}")
                return response
            message = await self._error_message(response)
            if status == 503 or status in (401, 403, 404):
                # 503: this replica is busy or stopping; 401/403/404: its key or its model is not this slot's.
                replica.failed(f"HTTP {status}: {message}", down=status != 503)
                self.check_soon()
                response.release()
                return None
            if status == 429:
                retry_after = response.headers.get("Retry-After", "")
                raise RateLimitError(
                    f"the upstream server is busy: {message}",
                    retry_after_s=int(retry_after) if retry_after.isdigit() else 1,
                )
            if 400 <= status < 500:
                raise UpstreamRequestError(message, status_code=status)
            raise self.upstream_error(replica, f"HTTP {status}: {message}")
        except BaseException:
            response.release()
            raise

    async def _error_message(self, response: aiohttp.ClientResponse) -> str:
        """The upstream's error message (OpenAI's envelope, vLLM's older flat one, or the text), bounded."""
        try:
            data = await response.content.read(MAX_ERROR_BODY_BYTES)
        except (aiohttp.ClientError, TimeoutError):
            data = b""
        text = data.decode("utf-8", "replace")
        try:
            document = json.loads(text)
        except ValueError:
            document = None
        message: Any = None
        if isinstance(document, dict):
            error = document.get("error")
            message = error.get("message") if isinstance(error, dict) else document.get("message") or error
            message = message or document.get("detail")
        message = str(message) if message else (text.strip()[:500] or f"HTTP {response.status}")
        return self._redact(message)
