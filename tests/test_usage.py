"""The request log, usage reports and daily quotas: real SQLite, live gateways, the official openai SDK."""

from __future__ import annotations

import asyncio
import sqlite3
import threading
import time
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import httpx
import openai
import pytest

from app.config import Settings
from app.infra.request_records import RequestRecord
from app.services.usage import DAY, HOUR, UsageService, next_midnight
from tests.audio_files import reference_signal, write_wav
from tests.conftest import ADMIN_KEY, CLIENT_KEY, LiveServer, live_server

QUOTA_KEY = "quota-key-0123456789"
"""clientB's key: 1 token and 2 audio seconds a day."""


@pytest.fixture(scope="module")
def full(
    tmp_path_factory: pytest.TempPathFactory, tiny_qwen_dir: Path, tiny_canary_nemo: Path, tiny_pyannote_dir: Path
) -> Iterator[LiveServer]:
    tmp = tmp_path_factory.mktemp("usage")
    settings = Settings(
        _env_file=None,
        model_cache_dir=tmp / "cache",
        data_dir=tmp / "data",
        qwen_model_id=str(tiny_qwen_dir),
        qwen_served_model_name="tiny-qwen",
        canary_model_id=str(tiny_canary_nemo),
        pyannote_model_id=str(tiny_pyannote_dir),
        openai_api_keys=f"clientA:{CLIENT_KEY},clientB:{QUOTA_KEY}",
        admin_api_keys=f"ops:{ADMIN_KEY}",
        quotas="clientB:tokens_per_day=1,audio_seconds_per_day=2; *:tokens_per_day=1000000",
        rate_limit_rpm=10_000,
        log_level="warning",
    )
    with live_server(settings) as server:
        yield server


@pytest.fixture(scope="module")
def wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_wav(tmp_path_factory.mktemp("audio") / "speech.wav", reference_signal(16000, 3.0), 16000)


def sdk(server: LiveServer, key: str) -> openai.OpenAI:
    return openai.OpenAI(base_url=f"{server.base_url}/v1", api_key=key, max_retries=0)


def log_page(server: LiveServer, **params: Any) -> dict[str, Any]:
    with server.client(ADMIN_KEY) as http:
        response = http.get("/api/admin/requests", params=params)
    assert response.status_code == 200, response.text
    return response.json()


def wait_until(condition: Callable[[], Any], timeout: float = 30, what: str = "the condition") -> Any:
    deadline = time.monotonic() + timeout
    while not (value := condition()):
        assert time.monotonic() < deadline, f"timed out waiting for {what}"
        time.sleep(0.05)
    return value


def wait_logged(server: LiveServer, count: int, **filters: Any) -> list[dict[str, Any]]:
    """The log's rows matching `filters` once there are `count` of them (they are written in batches)."""
    return wait_until(
        lambda: (page := log_page(server, limit=500, **filters))["total"] >= count and page["data"],
        what=f"{count} rows matching {filters}",
    )


def quota_of(server: LiveServer, client: str) -> dict[str, Any]:
    with server.client(ADMIN_KEY) as http:
        return next(q for q in http.get("/api/admin/quotas").json()["data"] if q["client"] == client)


def test_usage_rows_and_totals_after_chat_transcription_diarization_and_job(full: LiveServer, wav: Path) -> None:
    chat = sdk(full, CLIENT_KEY).chat.completions.create(
        model="tiny-qwen",
        messages=[{"role": "user", "content": "Hi"}],
        max_tokens=4,
        extra_headers={"X-Request-ID": "usage-chat"},
    )
    with wav.open("rb") as handle:
        sdk(full, CLIENT_KEY).audio.transcriptions.create(model="canary", file=handle)
    with full.client(CLIENT_KEY) as http, wav.open("rb") as handle:
        diarized = http.post("/api/diarization/process", files={"file": ("speech.wav", handle)})
        assert diarized.status_code == 200, diarized.text
    with full.client(CLIENT_KEY) as http, wav.open("rb") as handle:
        job = http.post("/api/jobs", data={"task": "transcribe"}, files={"file": ("speech.wav", handle)}).json()
    (run,) = wait_logged(full, 1, route="job:transcribe", client="clientA")

    assert chat.usage is not None
    (row,) = wait_logged(full, 1, route="/v1/chat/completions", client="clientA")
    assert {k: row[k] for k in ("kind", "request_id", "method", "model", "status", "error_code")} == {
        "kind": "request",
        "request_id": "usage-chat",
        "method": "POST",
        "model": "tiny-qwen",
        "status": 200,
        "error_code": None,
    }
    assert (row["prompt_tokens"], row["completion_tokens"]) == (chat.usage.prompt_tokens, chat.usage.completion_tokens)
    assert 0 < row["latency_ms"] < 60_000 and abs(row["time"] - time.time()) < 120
    assert (run["kind"], run["method"], run["request_id"], run["status"]) == ("job", "JOB", job["id"], 200)
    assert run["audio_seconds"] == pytest.approx(3.0, abs=0.01)
    (submission,) = wait_logged(full, 1, route="/api/jobs", client="clientA", status="202")
    assert submission["audio_seconds"] == 0 and submission["time"] <= run["time"] + 0.001
    (diarization,) = wait_logged(full, 1, route="/api/diarization/process")
    assert diarization["audio_seconds"] == pytest.approx(3.0, abs=0.01)
    # The admin routes' reads (the dashboard polls them) are not logged; everything else is.
    assert log_page(full, route="/api/admin/requests")["total"] == 0

    with full.client(ADMIN_KEY) as http:
        report = http.get("/api/admin/usage", params={"client": "clientA"}).json()
    totals = {t["model"]: t for t in report["totals"]}
    canary = run["model"]
    assert set(totals) == {"tiny-qwen", canary, diarization["model"], None}
    assert totals["tiny-qwen"]["total_tokens"] == chat.usage.total_tokens
    assert (totals["tiny-qwen"]["prompt_tokens"], totals["tiny-qwen"]["requests"]) == (chat.usage.prompt_tokens, 1)
    assert totals[canary]["audio_seconds"] == pytest.approx(6.0, abs=0.02)  # the transcription and the job's run
    assert totals[canary]["requests"] == 2 and totals[canary]["errors"] == 0
    assert totals[diarization["model"]]["audio_seconds"] == pytest.approx(3.0, abs=0.01)
    assert report["granularity"] == "day" and report["end"] - report["start"] == 7 * DAY
    today = int(time.time() // DAY) * DAY
    assert {b["start"] for b in report["buckets"]} == {today}
    assert sum(b["total_tokens"] for b in report["buckets"]) == chat.usage.total_tokens
    with full.client(ADMIN_KEY) as http:
        hourly = http.get("/api/admin/usage", params={"granularity": "hour", "model": "tiny-qwen"}).json()
    assert [(b["client"], b["start"] % HOUR, b["total_tokens"]) for b in hourly["buckets"]] == [
        ("clientA", 0, chat.usage.total_tokens)
    ]
    assert quota_of(full, "clientA")["tokens_used"] == chat.usage.total_tokens


def test_request_log_filters_and_pages(full: LiveServer) -> None:
    client = sdk(full, CLIENT_KEY)
    for i in range(3):
        with pytest.raises(openai.NotFoundError):
            client.chat.completions.create(
                model="nope", messages=[{"role": "user", "content": "Hi"}], extra_headers={"X-Request-ID": f"miss-{i}"}
            )
    with pytest.raises(openai.BadRequestError):
        client.completions.create(model="tiny-qwen", prompt="Hi", temperature=9, extra_headers={"X-Request-ID": "bad"})
    wait_logged(full, 3, client="clientA", status="404")

    newest = log_page(full, client="clientA", status="404", limit=2)
    assert [r["request_id"] for r in newest["data"]] == ["miss-2", "miss-1"]
    assert (newest["total"], newest["limit"], newest["offset"]) == (3, 2, 0)
    rest = log_page(full, client="clientA", status="404", limit=2, offset=2)
    assert [r["request_id"] for r in rest["data"]] == ["miss-0"] and rest["total"] == 3
    assert {(r["error_code"], r["model"]) for r in newest["data"]} == {("model_not_found", None)}
    client_errors = wait_logged(full, 4, client="clientA", status="4xx")
    assert {"miss-0", "miss-1", "miss-2", "bad"} <= {r["request_id"] for r in client_errors}
    assert {r["status"] // 100 for r in client_errors} == {4}
    (bad,) = log_page(full, route="/v1/completions", status="400")["data"]
    assert (bad["request_id"], bad["model"], bad["error_code"]) == ("bad", None, "invalid_value")
    assert all(r["model"] == "tiny-qwen" for r in log_page(full, model="tiny-qwen")["data"])
    assert log_page(full, client="nobody")["total"] == 0
    with full.client(ADMIN_KEY) as http:
        refused = http.get("/api/admin/requests", params={"status": "4x"})
    assert refused.status_code == 400 and refused.json()["error"]["param"] == "status"


def test_a_client_key_sees_only_its_own_usage(full: LiveServer) -> None:
    sdk(full, QUOTA_KEY).models.list()
    sdk(full, CLIENT_KEY).models.list()
    wait_logged(full, 1, client="clientB", route="/v1/models")
    with full.client(QUOTA_KEY) as http:
        own = http.get("/api/usage")
        assert own.status_code == 200, own.text
        for route in ("/api/admin/usage", "/api/admin/requests", "/api/admin/quotas"):
            refused = http.get(route)
            assert refused.status_code == 403 and refused.json()["error"]["code"] == "insufficient_permissions"
    body = own.json()
    assert {t["client"] for t in body["usage"]["totals"]} == {"clientB"}
    assert {b["client"] for b in body["usage"]["buckets"]} == {"clientB"}
    assert body["quota"] == {
        "client": "clientB",
        "tokens_per_day": 1,
        "tokens_used": 0,
        "audio_seconds_per_day": 2.0,
        "audio_seconds_used": 0.0,
        "resets_at": next_midnight(time.time()),
    }
    with full.client(CLIENT_KEY) as http:
        assert {t["client"] for t in http.get("/api/usage").json()["usage"]["totals"]} == {"clientA"}
    with full.client(ADMIN_KEY) as http:
        quotas = http.get("/api/admin/quotas").json()
    assert quotas["day"] == datetime.now(UTC).strftime("%Y-%m-%d")
    assert [(q["client"], q["tokens_per_day"], q["audio_seconds_per_day"]) for q in quotas["data"]] == [
        ("clientA", 1_000_000, None),  # the `*` entry
        ("clientB", 1, 2.0),
        ("ops", 1_000_000, None),
    ]


def test_report_ranges_are_bounded(full: LiveServer) -> None:
    now = int(time.time())
    with full.client(ADMIN_KEY) as http:
        for params in (
            {"granularity": "hour", "start": now - 32 * DAY},
            {"granularity": "day", "start": now - 401 * DAY},
            {"start": now, "end": now},
        ):
            refused = http.get("/api/admin/usage", params=params)
            assert refused.status_code == 400 and refused.json()["error"]["param"] == "start", params
        naive = http.get("/api/admin/usage", params={"start": "2026-01-01T00:00:00", "end": "2026-01-02T00:00:00"})
    assert (naive.json()["start"], naive.json()["end"]) == (1767225600, 1767312000)  # UTC


@pytest.fixture
def clock(full: LiveServer, monkeypatch: pytest.MonkeyPatch) -> list[float]:
    """The usage service's clock set to one minute before the next UTC midnight; move it with `clock[0]`."""
    now = [next_midnight(time.time()) - 60.0]
    monkeypatch.setattr(full.state.usage, "now", lambda: now[0])
    return now


def quota_message(what: str, amount: str, clock: list[float], retry: int) -> str:
    day = datetime.fromtimestamp(next_midnight(clock[0]), UTC).strftime("%Y-%m-%d")
    return f"You exceeded your daily {what} quota ({amount}). It resets at {day} 00:00 UTC (in {retry} s)."


def test_a_token_quota_is_refused_until_utc_midnight(full: LiveServer, clock: list[float]) -> None:
    limited = sdk(full, QUOTA_KEY)
    chat: dict[str, Any] = {"model": "tiny-qwen", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}
    first = limited.chat.completions.create(**chat)  # under the quota when it starts: it may go over
    assert first.usage is not None
    used = wait_until(lambda: quota_of(full, "clientB")["tokens_used"], what="the tokens counted")
    assert used == first.usage.total_tokens

    with pytest.raises(openai.RateLimitError) as refused:
        limited.chat.completions.create(**chat)
    assert refused.value.response.headers["Retry-After"] == "60"
    assert refused.value.response.json() == {
        "error": {
            "message": quota_message("token", f"tokens_per_day=1 for 'clientB', {used} tokens used today", clock, 60),
            "type": "insufficient_quota",
            "param": None,
            "code": "insufficient_quota",
        }
    }
    with pytest.raises(openai.RateLimitError):
        limited.completions.create(model="tiny-qwen", prompt="Hi", max_tokens=1)
    assert sdk(full, CLIENT_KEY).completions.create(model="tiny-qwen", prompt="Hi", max_tokens=1).usage is not None
    (logged,) = wait_logged(full, 1, client="clientB", route="/v1/chat/completions", status="429")
    assert (logged["error_code"], logged["prompt_tokens"]) == ("insufficient_quota", 0)

    clock[0] += 120  # past UTC midnight: a new day, a new quota
    assert quota_of(full, "clientB")["tokens_used"] == 0
    assert limited.chat.completions.create(**chat).usage is not None


def test_an_audio_quota_refuses_transcriptions_and_job_submissions(
    full: LiveServer, clock: list[float], wav: Path
) -> None:
    with wav.open("rb") as handle:
        sdk(full, QUOTA_KEY).audio.transcriptions.create(model="canary", file=handle)
    used = wait_until(lambda: quota_of(full, "clientB")["audio_seconds_used"], what="the audio counted")
    assert used == pytest.approx(3.0, abs=0.01)

    with wav.open("rb") as handle, pytest.raises(openai.RateLimitError) as refused:
        sdk(full, QUOTA_KEY).audio.transcriptions.create(model="canary", file=handle)
    amount = f"audio_seconds_per_day=2 for 'clientB', {used:.1f} s of audio used today"
    assert refused.value.response.json()["error"] == {
        "message": quota_message("audio", amount, clock, 60),
        "type": "insufficient_quota",
        "param": None,
        "code": "insufficient_quota",
    }
    assert refused.value.response.headers["Retry-After"] == "60"

    def submit() -> httpx.Response:
        with full.client(QUOTA_KEY) as http, wav.open("rb") as handle:
            return http.post("/api/jobs", data={"task": "transcribe"}, files={"file": ("speech.wav", handle)})

    job = submit()
    assert job.status_code == 429 and job.json()["error"]["code"] == "insufficient_quota"
    assert job.headers["Retry-After"] == "60"
    with full.client(QUOTA_KEY) as http, wav.open("rb") as handle:
        diarization = http.post("/api/diarization/process", files={"file": ("speech.wav", handle)})
    assert diarization.status_code == 429
    with full.client(QUOTA_KEY) as http:
        assert http.get("/api/jobs").status_code == 200  # reads are not counted against a quota

    clock[0] += 120
    accepted = submit()
    assert accepted.status_code == 202, accepted.text
    wait_logged(full, 1, route="job:transcribe", client="clientB")


def test_the_log_and_todays_quota_use_survive_a_restart(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(
        qwen_served_model_name="tiny-qwen",
        openai_api_keys=f"clientA:{CLIENT_KEY}",
        admin_api_keys=f"ops:{ADMIN_KEY}",
        quotas="clientA:tokens_per_day=2",
    )
    chat: dict[str, Any] = {"model": "tiny-qwen", "messages": [{"role": "user", "content": "Hi"}], "max_tokens": 3}
    with live_server(settings) as first:
        done = sdk(first, CLIENT_KEY).chat.completions.create(**chat, extra_headers={"X-Request-ID": "before"})
        assert done.usage is not None
        wait_until(lambda: quota_of(first, "clientA")["tokens_used"], what="the tokens counted")
    assert settings.request_log_path.is_file()

    with live_server(settings) as second:
        (row,) = log_page(second, route="/v1/chat/completions")["data"]
        assert (row["request_id"], row["completion_tokens"]) == ("before", done.usage.completion_tokens)
        assert quota_of(second, "clientA")["tokens_used"] == done.usage.total_tokens
        with pytest.raises(openai.RateLimitError):
            sdk(second, CLIENT_KEY).chat.completions.create(**chat)


def record_of(i: int, client: str = "flood", **fields: Any) -> RequestRecord:
    record = RequestRecord(f"r{i}", "POST", "/v1/completions", client=client, prompt_tokens=1, **fields)
    record.close(200)
    return record


def test_a_flood_with_the_writer_held_loses_nothing_and_never_waits(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(request_log_queue_size=1000)
    requests = 10_000

    async def flood() -> tuple[UsageService, float]:
        usage = UsageService(settings, [])
        await usage.start()
        held, release = threading.Event(), threading.Event()

        def hold() -> None:
            held.set()
            release.wait(30)

        usage.before_batch = hold
        usage.record(record_of(0))  # the writer takes it and is held before writing it
        assert await asyncio.to_thread(held.wait, 10)
        slowest, began = 0.0, time.perf_counter()
        for i in range(1, requests):
            started = time.perf_counter()
            usage.record(record_of(i))
            slowest = max(slowest, time.perf_counter() - started)
        average = (time.perf_counter() - began) / (requests - 1)
        assert average < 100e-6, f"{average * 1e6:.1f} µs per record"  # a few microseconds here
        assert usage.queue_depth == 1000
        assert usage.dropped == requests - 1 - 1000
        assert (await usage.quota("flood"))["tokens_used"] == requests  # dropped rows still count against quotas
        usage.before_batch = lambda: time.sleep(0.01)  # released, and still slow
        release.set()
        await usage.stop()
        return usage, slowest

    usage, slowest = asyncio.run(flood())
    assert slowest < 1  # none waited for the writer (held for 30 s), even once
    with sqlite3.connect(settings.request_log_path) as db:
        (rows,) = db.execute("SELECT COUNT(*) FROM requests").fetchone()
    assert rows == usage.written == 1001
    assert rows + usage.dropped == requests


def test_retention_prunes_old_rows(make_settings: Callable[..., Settings]) -> None:
    settings = make_settings(request_log_retention_days=1)
    now = [time.time()]

    async def prune() -> tuple[list[str], list[str]]:
        usage = UsageService(settings, [], now=lambda: now[0])
        await usage.start()

        async def logged_once(total: int) -> list[str]:
            deadline = time.monotonic() + 10
            while (page := await usage.requests(None, None, None, None, 10, 0))["total"] != total:
                assert time.monotonic() < deadline, f"{page['total']} rows, wanted {total}"
                await asyncio.sleep(0.05)
            return [r["request_id"] for r in page["data"]]

        usage.record(record_of(1, time=now[0] - 2 * DAY))
        usage.record(record_of(2))
        written = await logged_once(2)
        now[0] += 2 * HOUR  # the writer prunes at most once an hour: now it is due
        pruned = await logged_once(1)
        await usage.stop()
        return written, pruned

    assert asyncio.run(prune()) == (["r2", "r1"], ["r2"])


def test_open_mode_quotas_apply_to_anonymous(serve: Callable[..., LiveServer]) -> None:
    server = serve(quotas="anonymous:tokens_per_day=0,audio_seconds_per_day=0")
    with server.client() as http:
        chat = http.post("/v1/chat/completions", json={"model": "qwen", "messages": [{"role": "user", "content": ""}]})
        assert chat.status_code == 429 and chat.json()["error"]["type"] == "insufficient_quota"
        assert "tokens_per_day=0 for 'anonymous'" in chat.json()["error"]["message"]
        assert http.post("/api/jobs", data={"task": "transcribe"}).status_code == 429
        (quota,) = http.get("/api/admin/quotas").json()["data"]
    assert (quota["client"], quota["tokens_per_day"], quota["audio_seconds_per_day"]) == ("anonymous", 0, 0.0)
    (row,) = wait_logged(server, 1, route="/v1/chat/completions")
    assert (row["client"], row["status"], row["error_code"]) == ("anonymous", 429, "insufficient_quota")
