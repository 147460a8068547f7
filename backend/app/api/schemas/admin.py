"""Bodies of the admin routes: requests, then responses."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from app.api.schemas.common import ResponseBody
from app.infra.gpu_monitor import HistoryRange
from app.infra.log_buffer import LogLevel
from app.models.base import ModelState


class LoadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    gpu_device_ids: list[int] | None = Field(None, description="GPU ids to load on; default: the slot's own")


class UnloadRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    wait: bool = Field(True, description="Drain in-flight requests first; false answers 409 while busy")


class ReplicaRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    url: str = Field(max_length=2048, description="The replica's URL, as `server.replicas[].url` shows it")


class TokenRequest(BaseModel):
    model_config = ConfigDict(extra="forbid")

    token: str | None = Field(None, description="Hugging Face token; empty or null removes it")


# --- responses -------------------------------------------------------------------------------------------
class GPUProcess(ResponseBody):
    pid: int
    memory_used_mib: int


class GPU(ResponseBody):
    index: int = Field(description="The gateway's index of the GPU (`gpu_device_ids`, `cuda:N`)")
    physical_index: int = Field(description="NVML's index, before CUDA_VISIBLE_DEVICES narrowed the list")
    name: str
    uuid: str
    memory_used_mib: int
    memory_total_mib: int
    utilization_percent: int | None
    temperature_c: int | None
    processes: list[GPUProcess]


class Disk(ResponseBody):
    path: str = Field(description="MODEL_CACHE_DIR")
    total_bytes: int
    free_bytes: int


class SystemStats(ResponseBody):
    cpu_percent: float
    cpu_count: int | None
    memory_used_mib: int
    memory_total_mib: int
    load_average: list[float] | None
    disk: Disk | None = Field(description="The file system of MODEL_CACHE_DIR; null when it cannot be read")


class DownloadStatus(ResponseBody):
    done_bytes: int
    total_bytes: int
    bytes_per_s: float | None = Field(description="Over the last 10 s; null until measured")
    eta_s: float | None = Field(description="Seconds left at that pace; null until measured")


class LoadStatus(ResponseBody):
    started_at: float = Field(description="Unix time the load began")
    elapsed_s: float
    previous_load_s: float | None = Field(description="How long this slot's last load took, for an estimate")


class LastError(ResponseBody):
    message: str = Field(description="The error (it may name server paths)")
    remedy: str = Field(description="What to do about it, in one line")
    at: float = Field(description="Unix time of the failure")
    during: Literal["download", "load", "unload"]


class ModelStatus(ResponseBody):
    key: str = Field(description="The slot: `qwen`, `canary`, `pyannote`, `langid`, `whisper`")
    kind: str = Field(description="`llm`, `asr`, `diarization`, `langid`")
    model_id: str = Field(description="Hub id or local path")
    served_names: list[str]
    source: Literal["local", "hub", "upstream"] = Field(
        description="`upstream`: an `engine: upstream` slot, served by the servers of `server.replicas`"
    )
    cache_has_artifacts: bool
    in_flight_requests: int
    load_count: int
    state: ModelState
    progress: float = Field(description="0-1: download progress, 1 once loaded")
    message: str
    error: str | None = Field(description="Why the slot is in `error` (it may name server paths)")
    server: dict[str, Any] = Field(
        description="What the load reported (engine, device, dtype, `load_seconds`, `gpu_memory_held_mib`, ...), "
        "or after an unload the memory readings (`gpu_memory_used_mib_before_unload`, `..._after_unload`, "
        "`gpu_memory_held_mib`, `gpu_memory_given_back_mib`). An upstream slot adds, live, `engine: upstream`, "
        "`upstream_model` and `replicas`: per replica `url`, `state` (`unknown` before its first check, `up`, "
        "`down`, `draining`), `healthy`, `in_flight`, `requests`, `failures`, `latency_ms` (average time to an "
        "answer's head), `check_latency_ms`, `last_check_at` and `last_error` (`message`, `at`)"
    )
    devices: list[str]
    updated_at: float
    download: DownloadStatus | None = Field(description="While a download runs")
    load: LoadStatus | None = Field(description="While a load runs")
    last_error: LastError | None = Field(description="The last failure, kept after the slot recovers")
    memory_leak_suspected: bool = Field(
        description="The last unload gave back less than 90 % of the GPU memory the model held"
    )


class ModelAction(ResponseBody):
    action: Literal["download", "load", "unload"]
    model: ModelStatus = Field(description="The slot's status when the action was accepted")


class BudgetShare(ResponseBody):
    key: str
    kind: str
    mib: int
    basis: Literal["reserved", "measured"] = Field(
        description="`reserved`: vLLM's QWEN_GPU_MEMORY_UTILIZATION share; `measured`: what the load added"
    )


class GPUBudget(ResponseBody):
    index: int
    name: str
    total_mib: int
    used_mib: int = Field(description="NVML: every process on the GPU")
    headroom_mib: int = Field(description="total - used")
    models: list[BudgetShare]


class BatcherStats(ResponseBody):
    batches_run: int
    items_run: int
    waiting: int
    announced: int
    queue_size: int
    batch_size: int


class SpeechQueueStats(BatcherStats):
    reserved: int = Field(description="Text pieces of admitted requests not queued yet (they count as waiting)")
    requests: int
    completed: int
    streaming: int = Field(description="Requests whose audio is being made or sent now")
    audio_seconds: float = Field(description="Seconds of audio generated")
    time_to_first_audio_s: float | None = Field(description="Median over the last 100 requests")


class DecodingStats(ResponseBody):
    running: int
    waiting: int
    decodes: int
    max_concurrent: int
    queue_size: int


class DiarizationQueueStats(ResponseBody):
    runs: int
    running: int
    waiting: int
    replicas: int
    queue_size: int
    seconds_per_audio_second: float


class TorchReport(ResponseBody):
    version: str
    cuda_build: str | None
    cuda_available: bool
    device_count: int


class Dependencies(ResponseBody):
    torch: TorchReport | None
    packages: dict[str, str | None] = Field(description="Installed versions, null when missing")
    problems: list[str] = Field(description="What is wrong with the stack, and what to do, in plain words")


class TokenStatus(ResponseBody):
    configured: bool
    last4: str | None


class StatusSettings(ResponseBody):
    lazy_load_models: bool
    auth_enabled: bool
    rate_limit_rpm: int
    model_cache_dir: str


class LimitsStatus(ResponseBody):
    backend: Literal["memory", "redis"] = Field(
        description="Where the rate limits and quota counters are kept: this process, or the Redis of REDIS_URL "
        "that every gateway using it shares"
    )
    url: str | None = Field(description="REDIS_URL without its password; null in memory")
    reachable: bool = Field(description="Whether Redis answered the last call or ping (always true in memory)")
    failure_mode: Literal["open", "closed"] | None = Field(
        description="REDIS_FAILURE_MODE: while Redis is away, `open` serves under each gateway's own limits, "
        "`closed` refuses the requests a limit applies to (503)"
    )
    unreachable_since: float | None = Field(description="Unix time the current outage began; null while reachable")
    last_error: str | None = Field(description="The first error of the last outage")
    outages: int = Field(description="Outages since the gateway started")
    rate_limit_algorithm: Literal["token-bucket", "moving-window"]
    quota_updates_pending: int = Field(description="Client-days of use counted here and not yet written to Redis")


class AdminStatus(ResponseBody):
    sampled_at: float = Field(description="Unix time of the GPU monitor's sample")
    gpus: list[GPU]
    gpu_available: bool
    gpu_error: str | None
    system: SystemStats
    models: list[ModelStatus]
    gpu_budget: list[GPUBudget] = Field(description="Per visible GPU; empty without GPUs")
    batching: dict[str, BatcherStats] = Field(description="Per ASR slot that has served a request")
    language_identification: dict[str, BatcherStats]
    decoding: DecodingStats
    diarization_queues: dict[str, DiarizationQueueStats]
    translation_batching: dict[str, BatcherStats] = Field(description="Per translation slot that has served a request")
    speech_batching: dict[str, SpeechQueueStats] = Field(
        description="Per text-to-speech slot that has served a request"
    )
    dependencies: Dependencies
    huggingface_token: TokenStatus
    settings: StatusSettings
    limits: LimitsStatus


class GPUPoint(ResponseBody):
    t: float = Field(description="Unix time of the bucket's start")
    memory_used_mib: int | None
    memory_total_mib: int | None
    utilization_percent: float | None
    temperature_c: float | None


class SystemPoint(ResponseBody):
    t: float
    cpu_percent: float | None
    memory_used_mib: int | None


class GPUHistory(ResponseBody):
    index: int
    name: str
    points: list[GPUPoint]


class MonitorHistory(ResponseBody):
    range: HistoryRange
    step_s: int = Field(description="The points are averages over buckets this long")
    gpus: list[GPUHistory] = Field(description="Empty on a machine without GPUs")
    system: list[SystemPoint]


class LogLine(ResponseBody):
    id: int
    time: float
    level: LogLevel
    logger: str
    message: str


class LogPage(ResponseBody):
    entries: list[LogLine] = Field(description="Oldest first")
    last_id: int = Field(description="Send it as `after` to get what comes next")
