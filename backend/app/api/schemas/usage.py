"""Bodies of the usage routes: the request log, usage totals, quotas."""

from __future__ import annotations

from typing import Literal

from pydantic import Field

from app.api.schemas.common import ResponseBody
from app.services.usage import UsageGranularity

RecordKindName = Literal["request", "job"]


class UsageCounts(ResponseBody):
    requests: int
    errors: int = Field(description="Answers with a status of 400 or more (a job's run: failed or cancelled)")
    prompt_tokens: int
    completion_tokens: int
    total_tokens: int
    audio_seconds: float


class UsageBucket(UsageCounts):
    start: int = Field(description="Start of the hour or UTC day (Unix time)")
    client: str
    model: str | None = Field(description="The served model's name; null for requests that reached none")


class UsageTotal(UsageCounts):
    client: str
    model: str | None


class UsageReport(ResponseBody):
    start: int = Field(description="Unix time, included")
    end: int = Field(description="Unix time, excluded")
    granularity: UsageGranularity
    buckets: list[UsageBucket] = Field(description="Per period, client and model; periods without use are left out")
    totals: list[UsageTotal] = Field(description="Per client and model over the whole range")


class RequestLogEntry(ResponseBody):
    id: int
    time: float = Field(description="When the request arrived (a job's run: when it was submitted), Unix time")
    kind: RecordKindName = Field(description="`request`, or `job` for a job's run (its request id is the job id)")
    request_id: str
    client: str = Field(description="The key's client name; `-` when the caller was not identified")
    method: str = Field(description="HTTP method; `JOB` for a job's run")
    route: str = Field(description="The route's template (`/api/jobs/{job_id}`), or `job:<task>` for a run")
    model: str | None
    status: int
    latency_ms: float
    prompt_tokens: int
    completion_tokens: int
    audio_seconds: float
    error_code: str | None


class RequestLogPage(ResponseBody):
    data: list[RequestLogEntry] = Field(description="Newest first")
    total: int = Field(description="Entries matching the filters")
    limit: int
    offset: int


class QuotaUse(ResponseBody):
    client: str
    tokens_per_day: int | None = Field(description="null: no token quota")
    tokens_used: int = Field(description="Tokens used today (UTC)")
    audio_seconds_per_day: float | None = Field(description="null: no audio quota")
    audio_seconds_used: float = Field(description="Audio seconds used today (UTC)")
    resets_at: int = Field(description="Next UTC midnight (Unix time)")


class QuotaList(ResponseBody):
    day: str = Field(description="Today, UTC (YYYY-MM-DD)")
    data: list[QuotaUse] = Field(description="Every client with a key (or `anonymous` in open mode)")


class ClientUsage(ResponseBody):
    """A client's own view: its usage and its quota."""

    usage: UsageReport
    quota: QuotaUse
