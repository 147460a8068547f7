"""Prometheus metrics for `GET /metrics`, in a registry of the app's own (never the process-global one).

Two sources, neither on the streaming hot path:
- Finished requests: `GatewayMetrics.observe` is an observer of the `RecordSink`, called once per request
  (and once per job run) with its `RequestRecord`. Time to first token and the inter-token latency come
  from the record's timings, once per request: the inter-token latency is the request's mean,
  `generation_s / (completion_tokens - 1)`, so nothing is measured per token.
- The state of the services (queues, jobs, model slots, GPUs, the request log's queue): read when scraped,
  on the event loop, where that state lives (a few lengths and counters: microseconds); nothing is kept
  per request. The text is then rendered on a worker thread.

Label values are bounded: configured client names (plus `anonymous` and `-`), route templates (`other`
for what no route matches), the standard HTTP methods (`other` beyond), served model names, slot keys.
No request id, job id or raw path is ever a label.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterable, Iterator
from typing import Any, Generic, TypeVar

from prometheus_client import (
    CONTENT_TYPE_PLAIN_0_0_4,
    CollectorRegistry,
    Counter,
    Histogram,
    disable_created_metrics,
    generate_latest,
)
from prometheus_client.metrics_core import CounterMetricFamily, GaugeMetricFamily, HistogramMetricFamily, Metric

from app.infra.gpu_monitor import GpuSample
from app.infra.request_records import RequestRecord
from app.models.base import BaseModelWrapper, ModelState

logger = logging.getLogger("app.metrics")

# No `*_created` series beside each counter and histogram: in the text format they are one more gauge per
# series, doubling what is scraped for a value no query needs. (A process-wide switch of prometheus_client.)
disable_created_metrics()

CONTENT_TYPE = CONTENT_TYPE_PLAIN_0_0_4
"""The Prometheus text format 0.0.4, which every Prometheus version reads."""

OTHER = "other"
METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})
"""Methods named in labels; any other (a client may send anything) is `other`."""

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600)
TTFT_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60)
INTER_TOKEN_BUCKETS = (0.001, 0.0025, 0.005, 0.0075, 0.01, 0.015, 0.02, 0.03, 0.05, 0.075, 0.1, 0.25, 0.5, 1)


M = TypeVar("M", Counter, Histogram)


class _Children(Generic[M]):
    """A labelled metric's children by label values: `labels()` checks and locks on every call (about
    1 µs), a dict lookup takes 30 ns. As bounded as the label values; used on the event loop only."""

    def __init__(self, metric: M) -> None:
        self._metric: M = metric
        self._children: dict[tuple[str, ...], M] = {}

    def __call__(self, *values: str) -> M:
        child = self._children.get(values)
        if child is None:
            child = self._children[values] = self._metric.labels(*values)
        return child


class GatewayMetrics:
    """The gateway's metrics: counters and histograms fed by finished records, plus `scraped` sources read
    at each scrape (see `ServiceStateCollector`)."""

    def __init__(self, scraped: ServiceStateCollector) -> None:
        self.registry = CollectorRegistry(auto_describe=True)
        self.scraped = scraped

        def counter(name: str, documentation: str, labels: list[str]) -> _Children[Counter]:
            return _Children(Counter(name, documentation, labels, registry=self.registry))

        def histogram(
            name: str, documentation: str, labels: list[str], buckets: tuple[float, ...]
        ) -> _Children[Histogram]:
            return _Children(Histogram(name, documentation, labels, buckets=buckets, registry=self.registry))

        self.requests = counter(
            "gateway_requests",
            "HTTP requests answered, by route template, method, status and client",
            ["route", "method", "status", "client"],
        )
        self.latency = histogram(
            "gateway_request_duration_seconds",
            "Seconds from a request's arrival to the end of its response (a stream's last byte)",
            ["route", "method"],
            LATENCY_BUCKETS,
        )
        self.time_to_first_token = histogram(
            "gateway_llm_time_to_first_token_seconds",
            "LLM requests: seconds from arrival to the first generated token",
            ["model"],
            TTFT_BUCKETS,
        )
        self.inter_token_latency = histogram(
            "gateway_llm_inter_token_latency_seconds",
            "LLM requests of 2 tokens or more: the request's mean seconds between generated tokens "
            "(one observation per request)",
            ["model"],
            INTER_TOKEN_BUCKETS,
        )
        self.prompt_tokens = counter("gateway_llm_prompt_tokens", "Prompt tokens of LLM requests", ["model", "client"])
        self.generated_tokens = counter(
            "gateway_llm_generated_tokens", "Tokens generated for LLM requests", ["model", "client"]
        )
        self.audio_seconds = counter(
            "gateway_audio_seconds",
            "Seconds of audio processed, by task (transcription, diarization) or generated (speech); "
            "requests and job runs",
            ["task", "model", "client"],
        )
        self.rate_limited = counter(
            "gateway_rate_limit_refusals",
            "Requests refused for the per-client rate limit (429 rate_limit_exceeded)",
            ["client"],
        )
        self.quota_refused = counter(
            "gateway_quota_refusals", "Requests refused for a daily quota (429 insufficient_quota)", ["client"]
        )
        self.job_runs = counter(
            "gateway_job_runs",
            "Job runs ended, by task, status (200 succeeded, 499 cancelled, else failed) and client",
            ["task", "status", "client"],
        )

    def observe(self, record: RequestRecord) -> None:
        """The `RecordSink` observer: counts a finished request or job run. Called on the event loop."""
        client = record.client
        if record.kind == "job":
            task = record.route.removeprefix("job:")
            self.job_runs(task, str(record.status), client).inc()
        else:
            route = record.route or OTHER
            method = record.method if record.method in METHODS else OTHER
            self.requests(route, method, str(record.status), client).inc()
            self.latency(route, method).observe(record.latency_s)
            if record.status == 429:
                if record.error_code == "rate_limit_exceeded":
                    self.rate_limited(client).inc()
                elif record.error_code == "insufficient_quota":
                    self.quota_refused(client).inc()
        model = record.model
        if model is None:
            return
        if record.prompt_tokens or record.completion_tokens:
            self.prompt_tokens(model, client).inc(record.prompt_tokens)
            self.generated_tokens(model, client).inc(record.completion_tokens)
        if record.first_token_s is not None:
            self.time_to_first_token(model).observe(record.first_token_s)
            if record.generation_s is not None and record.completion_tokens > 1:
                self.inter_token_latency(model).observe(record.generation_s / (record.completion_tokens - 1))
        for task in record.audio_tasks:
            self.audio_seconds(task, model, client).inc(record.audio_seconds)

    def snapshot(self) -> _Families:
        """What a scrape returns, read now: call on the event loop, then `render` (anywhere)."""
        return _Families(self.registry, list(self.scraped.collect()))

    @staticmethod
    def render(families: _Families) -> bytes:
        """The Prometheus text of `families`: about 10 ms for 1,800 series, so a worker thread's job."""
        return generate_latest(families)


class _Families:
    """The registry's metrics (thread-safe to read) and the service state read at the scrape, as one
    collector for `generate_latest`."""

    def __init__(self, registry: CollectorRegistry, scraped: list[Metric]) -> None:
        self._registry = registry
        self._scraped = scraped

    def collect(self) -> Iterator[Metric]:
        yield from self._registry.collect()
        yield from self._scraped


class ServiceStateCollector:
    """The services' state at the scrape, as metric families. Every source is a callable, read on the
    event loop; a source not ready (the app still starting) or failing is left out of that scrape."""

    def __init__(
        self,
        *,
        wrappers: Callable[[], Iterable[BaseModelWrapper]],
        asr_batch_sizes: Callable[[], dict[str, list[int]]],
        asr_queues: Callable[[], dict[str, dict[str, float | int]]],
        diarization_queues: Callable[[], dict[str, dict[str, float | int]]],
        jobs: Callable[[], dict[str, int]],
        gpus: Callable[[], list[GpuSample]],
        request_log: Callable[[], tuple[int, int]],
        shared_limits: Callable[[], dict[str, Any] | None] = lambda: None,
    ) -> None:
        self._sources: list[Callable[[], Iterable[Metric]]] = [
            lambda: _model_states(wrappers()),
            lambda: _asr(asr_batch_sizes(), asr_queues()),
            lambda: _diarization(diarization_queues()),
            lambda: _jobs(jobs()),
            lambda: _gpus(gpus()),
            lambda: _request_log(request_log()),
            lambda: _shared_limits(shared_limits()),
        ]

    def collect(self) -> Iterator[Metric]:
        for source in self._sources:
            try:
                families = list(source())
            except Exception as exc:  # one broken source must not take the whole scrape down
                logger.warning("a metrics source failed: %r", exc)
                continue
            yield from families


def _shared_limits(link: dict[str, Any] | None) -> Iterator[Metric]:
    """Whether the Redis of the shared limits answers (only with REDIS_URL): what an alert watches, since while it
    does not, each gateway enforces its own limits (or refuses, REDIS_FAILURE_MODE=closed)."""
    if link is None:
        return
    yield GaugeMetricFamily(
        "gateway_redis_reachable",
        "1 while the Redis the rate limits and quota counters are shared in (REDIS_URL) answers, else 0",
        value=1.0 if link["reachable"] else 0.0,
    )
    yield CounterMetricFamily(
        "gateway_redis_outages", "Times the Redis of the shared limits stopped answering", value=float(link["outages"])
    )


def _model_states(wrappers: Iterable[BaseModelWrapper]) -> Iterator[Metric]:
    family = GaugeMetricFamily(
        "gateway_model_state",
        "Each model slot's state: 1 for the current state, 0 for the others",
        labels=["slot", "state"],
    )
    for wrapper in wrappers:
        current = wrapper.state
        for state in ModelState:
            family.add_metric([wrapper.key, state.value], 1.0 if state is current else 0.0)
    yield family


def _asr(batch_sizes: dict[str, list[int]], queues: dict[str, dict[str, float | int]]) -> Iterator[Metric]:
    histogram = HistogramMetricFamily(
        "gateway_asr_batch_size", "Audio pieces per ASR batch run, per model slot", labels=["slot"]
    )
    for slot, counts in batch_sizes.items():
        bounds = [b for b in (1, 2, 4, 8, 16, 32, 64, 128, 256) if b < len(counts) - 1] + [len(counts) - 1]
        buckets = [(str(float(bound)), float(sum(counts[: bound + 1]))) for bound in bounds]
        buckets.append(("+Inf", float(sum(counts))))
        histogram.add_metric([slot], buckets, float(sum(size * count for size, count in enumerate(counts))))
    yield histogram
    depth = GaugeMetricFamily(
        "gateway_asr_queue_depth", "Audio pieces waiting for an ASR batch, per model slot", labels=["slot"]
    )
    for slot, stats in queues.items():
        depth.add_metric([slot], float(stats["waiting"]))
    yield depth


def _diarization(queues: dict[str, dict[str, float | int]]) -> Iterator[Metric]:
    depth = GaugeMetricFamily(
        "gateway_diarization_queue_depth", "Files waiting for a diarization pipeline, per model slot", labels=["slot"]
    )
    running = GaugeMetricFamily(
        "gateway_diarization_running", "Files being diarized now, per model slot", labels=["slot"]
    )
    for slot, stats in queues.items():
        depth.add_metric([slot], float(stats["waiting"]))
        running.add_metric([slot], float(stats["running"]))
    yield depth
    yield running


LIVE_JOB_STATES = ("queued", "running")


def _jobs(counts: dict[str, int]) -> Iterator[Metric]:
    live = GaugeMetricFamily("gateway_jobs", "Jobs queued or running now", labels=["state"])
    ended = CounterMetricFamily(
        "gateway_jobs_ended", "Jobs that reached a final state since this process started", labels=["state"]
    )
    for state, count in counts.items():
        (live if state in LIVE_JOB_STATES else ended).add_metric([state], float(count))
    yield live
    yield ended


def _gpus(gpus: list[GpuSample]) -> Iterator[Metric]:
    labels = ["gpu", "name"]
    used = GaugeMetricFamily("gateway_gpu_memory_used_bytes", "GPU memory in use (all processes)", labels=labels)
    total = GaugeMetricFamily("gateway_gpu_memory_total_bytes", "GPU memory", labels=labels)
    busy = GaugeMetricFamily(
        "gateway_gpu_utilization_ratio", "Share of the last sample period the GPU was busy (0 to 1)", labels=labels
    )
    for gpu in gpus:
        values = [str(gpu["index"]), str(gpu["name"])]
        used.add_metric(values, float(gpu["memory_used_mib"] * 2**20))
        total.add_metric(values, float(gpu["memory_total_mib"] * 2**20))
        if gpu["utilization_percent"] is not None:
            busy.add_metric(values, gpu["utilization_percent"] / 100)
    yield from (used, total, busy)


def _request_log(counts: tuple[int, int]) -> Iterator[Metric]:
    queue_depth, dropped = counts
    yield GaugeMetricFamily(
        "gateway_request_log_queue_depth", "Request-log rows waiting to be written", value=float(queue_depth)
    )
    yield CounterMetricFamily(
        "gateway_request_log_dropped", "Request-log rows dropped because the queue was full", value=float(dropped)
    )
