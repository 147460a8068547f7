"""Gateway settings, read from the environment and an optional `.env` file.

Every variable of the operations guide is here. Invalid values stop the gateway at start with a
message naming the variable (see `load_settings`).
"""

from __future__ import annotations

import ipaddress
import json
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal
from urllib.parse import parse_qsl, unquote, urlsplit

from pydantic import Field, PrivateAttr, SecretStr, ValidationError, field_validator, model_validator
from pydantic_settings import BaseSettings, NoDecode, SettingsConfigDict

from app.slot_options import LLMOptions, SlotConfig, declared_slots, environment_slot, upstream_urls
from app.slots import SLOTS

GPU_DEFAULT_LLM = "Qwen/Qwen3-VL-30B-A3B-Instruct"
CPU_DEFAULT_LLM = "Qwen/Qwen3-0.6B"
MODEL_SLOTS = tuple(spec.key for spec in SLOTS)
"""The slot names ENABLED_MODELS accepts: the keys of `app.slots.SLOTS`."""
DEFAULT_SLOTS = tuple(spec.key for spec in SLOTS if spec.enabled_by_default)
"""The default ENABLED_MODELS: every slot but the optional ones (`langid`, spoken-language identification)."""


def parse_voices(raw: str) -> dict[str, int]:
    """Parse TTS_VOICES, `alloy:0,echo:1` (voice name: speaker id of the checkpoint)."""
    voices: dict[str, int] = {}
    for index, item in enumerate(i.strip() for i in raw.split(",")):
        if not item:
            continue
        name, sep, speaker = (part.strip() for part in item.partition(":"))
        if not sep or not name or not speaker.isdigit():
            raise ValueError(f"entry {index + 1} ('{item}') is not name:speaker_id (a name and a number from 0)")
        if name in voices:
            raise ValueError(f"the voice '{name}' is listed twice")
        voices[name] = int(speaker)
    return voices


class SettingsError(ValueError):
    """Raised when the environment holds an invalid setting; the message names the variable."""


@dataclass(frozen=True)
class ApiKey:
    """One configured key: `name` identifies the client in logs and rate limits. The key prints as
    `**********` (in a repr, a log line, an error): `key.get_secret_value()` is the key itself."""

    name: str
    key: SecretStr


def parse_api_keys(raw: str | list[str] | None, prefix: str) -> list[ApiKey]:
    """Parse `clientA:key1,clientB:key2` or bare `key1,key2` (bare keys are named `<prefix>-<n>`)."""
    if raw is None:
        return []
    items = raw if isinstance(raw, list) else raw.split(",")
    keys: list[ApiKey] = []
    for index, item in enumerate(i.strip() for i in items):
        if not item:
            continue
        name, sep, key = item.partition(":")
        if not sep:
            name, key = f"{prefix}-{index + 1}", item
        name, key = name.strip(), key.strip()
        if not name or not key:
            raise ValueError(f"entry {index + 1} is empty on one side of ':' (expected name:key or key)")
        if len(key) < 8:
            raise ValueError(f"the key of '{name}' is shorter than 8 characters")
        keys.append(ApiKey(name=name, key=SecretStr(key)))
    names = [k.name for k in keys]
    if len(set(names)) != len(names):
        raise ValueError("two keys share the same client name")
    return keys


@dataclass(frozen=True)
class ClientQuota:
    """Daily allowances of one client (None: unlimited). Days are UTC days."""

    tokens_per_day: int | None = None
    audio_seconds_per_day: float | None = None


QUOTA_FIELDS = ("tokens_per_day", "audio_seconds_per_day")
ALL_CLIENTS = "*"
ANONYMOUS_CLIENT = "anonymous"
"""The client name of every caller in open mode (no keys configured)."""
"""The QUOTAS entry that applies to every client without an entry of its own."""


def parse_quotas(raw: str) -> dict[str, ClientQuota]:
    """Parse `alice:tokens_per_day=1000000,audio_seconds_per_day=3600;bob:tokens_per_day=5000`
    (clients separated by `;`, `*` for every client without its own entry)."""
    quotas: dict[str, ClientQuota] = {}
    for entry in (e.strip() for e in raw.split(";")):
        if not entry:
            continue
        name, sep, items = entry.partition(":")
        name = name.strip()
        if not sep or not name:
            raise ValueError(f"'{entry}' is not client:quota=value[,quota=value]")
        if name in quotas:
            raise ValueError(f"client '{name}' is listed twice")
        values: dict[str, float] = {}
        for item in (i.strip() for i in items.split(",")):
            field, eq, value = item.partition("=")
            field = field.strip()
            if field not in QUOTA_FIELDS or not eq:
                raise ValueError(f"'{item}' for '{name}': known quotas are {', '.join(QUOTA_FIELDS)} (quota=value)")
            try:
                number = float(value)
            except ValueError:
                raise ValueError(f"{field} of '{name}' is not a number: '{value.strip()}'") from None
            if not math.isfinite(number) or number < 0:
                raise ValueError(f"{field} of '{name}' must be a number >= 0")
            values[field] = number
        tokens = values.get("tokens_per_day")
        quotas[name] = ClientQuota(
            tokens_per_day=None if tokens is None else int(tokens),
            audio_seconds_per_day=values.get("audio_seconds_per_day"),
        )
    return quotas


def parse_language_aliases(raw: str) -> dict[str, list[str]]:
    """Parse `moore:moor_Latn,fr:fra_Latn` or a JSON object (`{"moore": ["mos_Latn", "moor_Latn"]}`) into
    name -> candidate codes; names are matched case-insensitively."""
    raw = raw.strip()
    if not raw:
        return {}
    if raw.startswith("{"):
        parsed = json.loads(raw)
        if not isinstance(parsed, dict):
            raise ValueError("must be a JSON object")
        pairs = list(parsed.items())
    else:
        pairs = []
        for item in (i.strip() for i in raw.split(",")):
            name, sep, code = item.partition(":")
            if item and not sep:
                raise ValueError(f"'{item}' is not name:code")
            if item:
                pairs.append((name, code))
    aliases: dict[str, list[str]] = {}
    for name, codes in pairs:
        candidates = [codes] if isinstance(codes, str) else codes
        if not isinstance(candidates, list) or not all(isinstance(c, str) and c.strip() for c in candidates):
            raise ValueError(f"the codes of '{name}' must be a non-empty string or a list of them")
        if not str(name).strip() or not candidates:
            raise ValueError(f"an entry has an empty name or no code ('{name}')")
        aliases[str(name).strip().casefold()] = [c.strip() for c in candidates]
    return aliases


REDIS_SCHEMES = ("redis", "rediss")


def redis_url_secrets(url: SecretStr | None) -> list[str]:
    """What logs must not show of REDIS_URL: the URL itself, then its password as written in it and decoded
    (`%40` is `@`), whether after the host's `user:` or in the query (`?password=`). Nothing for a URL
    without a password: the gateway names its Redis in its log lines (`redis://host:6379/0`)."""
    if url is None:
        return []
    raw = url.get_secret_value()
    parts = urlsplit(raw)
    written = [parts.password or "", *(v for k, v in parse_qsl(parts.query) if k == "password")]
    passwords = list(dict.fromkeys(p for w in written for p in (w, unquote(w)) if p))
    return [raw, *passwords] if passwords else []


HF_TOKEN_MAX_CHARS = 256


def check_hf_token(token: str) -> str:
    """A Hugging Face token as the Hub accepts it in a header: printable ASCII without spaces."""
    token = token.strip()
    if not token or len(token) > HF_TOKEN_MAX_CHARS or not all("!" <= c <= "~" for c in token):
        raise ValueError(
            f"a Hugging Face token is 1 to {HF_TOKEN_MAX_CHARS} printable ASCII characters without spaces "
            "(such as hf_...)"
        )
    return token


def default_model_cache_dir() -> Path:
    """`/models` in a container that mounts it (the Docker layout), `./model_cache` elsewhere."""
    in_container = Path("/.dockerenv").exists() or Path("/run/.containerenv").exists()
    return Path("/models") if in_container and Path("/models").is_dir() else Path("model_cache")


CHECKOUT = Path(__file__).resolve().parents[2]
"""The repository this package runs from (`backend/app/config.py` -> the checkout), when it runs from one."""


def default_frontend_dist(checkout: Path = CHECKOUT) -> Path | None:
    """The dashboard built in a checkout (`frontend/dist`), found from the package's location, not from the
    working directory; None when it has not been built (or the package is installed elsewhere)."""
    dist = checkout / "frontend" / "dist"
    return dist if dist.is_dir() else None


class Settings(BaseSettings):
    # No error (not even pydantic's own, outside `load_settings`) quotes the value it refused: it may be a key.
    model_config = SettingsConfigDict(
        env_file=".env", env_file_encoding="utf-8", extra="ignore", hide_input_in_errors=True
    )

    api_host: str = "127.0.0.1"
    api_port: int = Field(8000, ge=1, le=65535)
    log_level: Literal["critical", "error", "warning", "info", "debug"] = "info"
    cors_origins: Annotated[list[str], NoDecode] = Field(default_factory=list)

    huggingface_token: SecretStr | None = None
    hf_endpoint: str | None = Field(None, description="Hub mirror URL (the variable huggingface_hub reads too).")
    model_cache_dir: Path = Field(default_factory=default_model_cache_dir)
    frontend_dist: Path | None = Field(
        default_factory=default_frontend_dist,
        description="The built dashboard served at `/`; default: `frontend/dist` of the checkout when it exists; "
        "empty: none.",
    )
    log_buffer_lines: int = Field(
        5000, ge=100, le=100_000, description="Recent log lines kept in memory for GET /api/admin/logs."
    )
    enabled_models: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: list(DEFAULT_SLOTS), description="Model slots to serve, e.g. `qwen,canary`."
    )
    models_config: Path | None = Field(
        None,
        description="A YAML or JSON file declaring more model slots (several LLMs, ASR models...); see "
        "doc/operations.md.",
    )
    lazy_load_models: bool = True
    lazy_load_wait_s: float = Field(
        30.0, ge=0, description="How long a request waits for a lazily started load before a 503."
    )

    openai_api_keys: Annotated[list[ApiKey], NoDecode] = Field(default_factory=list)
    admin_api_keys: Annotated[list[ApiKey], NoDecode] = Field(default_factory=list)
    allow_unauthenticated: bool = Field(
        False, description="Start without any key on a non-loopback host (everything open)."
    )
    rate_limit_rpm: int = Field(0, ge=0, description="Requests per minute per key; 0 disables the limit.")
    forwarded_allow_ips: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="Proxies (IPs or CIDR ranges, or `*`) whose X-Forwarded-For / X-Forwarded-Proto are trusted.",
    )
    quotas: Annotated[dict[str, ClientQuota], NoDecode] = Field(
        default_factory=dict,
        description="Daily quotas per client: `alice:tokens_per_day=1000000,audio_seconds_per_day=3600;bob:...` "
        "(`*` for every client without its own entry); 429 insufficient_quota beyond.",
    )
    max_json_body_mb: float = Field(
        4.0, gt=0, le=1024, description="Largest request body that is not a multipart upload (413 above)."
    )

    # Operations: logs, the request log (usage), metrics.
    log_format: Literal["text", "json"] = Field(
        "text", description="`json`: one JSON object per log line, with the request id, client and route."
    )
    request_log_retention_days: float = Field(
        90.0, gt=0, description="Days the request log (usage and quotas) keeps its rows."
    )
    request_log_queue_size: int = Field(
        10_000,
        ge=1,
        le=1_000_000,
        description="Finished requests waiting to be written to the request log; beyond, they are dropped "
        "and counted (gateway_request_log_dropped_total), never waited for.",
    )

    # Several gateways: the rate limits and quota counters they share (app/infra/shared_limits.py).
    redis_url: SecretStr | None = Field(
        None,
        description="`redis://[[user]:password@]host:6379/0` (or `rediss://` for TLS): rate limits and quota "
        "counters kept in this Redis, one budget per client for every gateway using it; unset: in this process. "
        "A secret: never logged or shown with its password.",
    )
    redis_failure_mode: Literal["open", "closed"] = Field(
        "open",
        description="When REDIS_URL cannot be reached: `open` serves requests under each gateway's own "
        "in-process limits until Redis answers again; `closed` refuses the requests a limit applies to (503).",
    )
    redis_timeout_s: float = Field(
        1.0, gt=0, le=30, description="Longest wait for Redis (connect or answer) before it counts as unreachable."
    )

    # The LLM slot.
    qwen_model_id: str | None = Field(None, description="Hub id or local directory; default depends on CUDA.")
    qwen_revision: str | None = None
    qwen_engine: Literal["auto", "vllm", "transformers", "upstream"] = Field(
        "auto", description="`upstream`: relay to OpenAI-compatible servers (vLLM) at QWEN_UPSTREAM_URLS."
    )
    qwen_served_model_name: str | None = None
    qwen_model_aliases: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["qwen"])
    qwen_max_model_len: int | None = Field(None, ge=16)
    qwen_dtype: str = "auto"
    qwen_gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    qwen_tensor_parallel_size: int | None = Field(None, ge=1)
    qwen_gpu_device_ids: Annotated[list[int], NoDecode] = Field(default_factory=list)
    qwen_engine_args: dict[str, Any] = Field(default_factory=dict)
    qwen_cpu_max_concurrency: int = Field(1, ge=1, le=64)
    qwen_upstream_urls: Annotated[list[str], NoDecode] = Field(
        default_factory=list,
        description="QWEN_ENGINE=upstream: the replicas' OpenAI base URLs, comma-separated "
        "(`http://vllm-a:8000/v1,http://vllm-b:8000/v1`).",
    )
    qwen_upstream_model: str | None = Field(None, description="The model's name upstream; default QWEN_MODEL_ID.")
    qwen_upstream_api_key: SecretStr | None = Field(
        None, description="Sent to the upstream servers (`Authorization: Bearer`); never shown nor logged."
    )
    qwen_upstream_connect_timeout_s: float = Field(
        5.0, gt=0, le=600, description="Connecting to a replica (and each health check) gives up after this."
    )
    qwen_upstream_read_timeout_s: float = Field(
        600.0,
        gt=0,
        le=86_400,
        description="The longest wait for a replica's next bytes; a non-streamed answer comes whole, at its end.",
    )
    qwen_upstream_health_interval_s: float = Field(
        5.0, ge=0.05, le=3600, description="Seconds between two health checks of each replica."
    )
    max_n: int = Field(8, ge=1, le=128, description="Largest `n` (choices per request) accepted.")
    max_generations_per_request: int = Field(
        64, ge=1, le=4096, description="Most generations one request may ask for: prompts times `n` (400 above)."
    )

    # The ASR slot (NeMo: Canary, or any NeMo ASR .nemo such as parakeet).
    canary_model_id: str = Field("nvidia/canary-1b-v2", description="Hub id, a .nemo file or a folder holding one.")
    canary_revision: str | None = None
    canary_model_aliases: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["canary", "whisper-1"])
    canary_gpu_device_id: int = Field(0, ge=0, description="GPU for lazy loads and preloads (one GPU).")
    asr_batch_size: int = Field(16, ge=1, le=512, description="Most audio pieces in one transcribe call.")
    asr_batch_wait_ms: float = Field(10.0, ge=0, le=1000, description="How long a batch waits to fill up.")
    asr_queue_size: int = Field(256, ge=1, description="Pieces waiting per model before new requests get 429.")
    asr_window_s: float = Field(40.0, ge=5, le=600, description="Longest piece handed to the model at once.")
    asr_batch_decode_wait_ms: float = Field(
        250.0,
        ge=0,
        le=10000,
        description="How long a batch that is not full waits, at most, for requests to the same model whose "
        "uploads are still being decoded (counted from when each began).",
    )
    asr_default_language: str = Field(
        "en",
        pattern=r"^[a-z]{2,3}$",
        description="Spoken language assumed when a request gives none and it cannot be detected.",
    )

    # The spoken-language identification slot (optional: add `langid` to ENABLED_MODELS).
    langid_model_id: str = Field(
        "nvidia/langid_ambernet",
        description="Hub id, a .nemo file or a folder holding one (a NeMo EncDecSpeakerLabelModel).",
    )
    langid_revision: str | None = None
    langid_window_s: float = Field(
        30.0, gt=0, le=600, description="Seconds from the start of the audio that language identification listens to."
    )

    # The diarization slot (pyannote.audio 4 pipelines).
    pyannote_model_id: str = Field(
        "pyannote/speaker-diarization-community-1", description="Hub id or a pipeline folder (config.yaml)."
    )
    pyannote_revision: str | None = None
    pyannote_gpu_device_id: int = Field(0, ge=0, description="GPU for lazy loads, preloads and jobs (one GPU).")
    pyannote_telemetry: bool = Field(False, description="Let pyannote send its usage metrics (off by default).")
    diarization_replicas: int = Field(1, ge=1, le=16, description="Pipeline copies run in parallel on the device.")
    diarization_queue_size: int = Field(16, ge=1, description="Files waiting per model before new requests get 429.")

    # The Whisper slot (optional: add `whisper` to ENABLED_MODELS): a second ASR family, through transformers.
    whisper_model_id: str = Field(
        "openai/whisper-large-v3-turbo", description="Hub id or a folder in transformers' layout (any Whisper)."
    )
    whisper_revision: str | None = None
    whisper_model_aliases: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["whisper"],
        description="More names for it; for `whisper-1` to mean Whisper, also drop it from CANARY_MODEL_ALIASES.",
    )
    whisper_gpu_device_id: int = Field(0, ge=0, description="GPU for lazy loads and preloads (one GPU).")
    # The translation slot (optional: add `translation` to ENABLED_MODELS): NLLB-200 / M2M100 through transformers.
    translation_model_id: str = Field(
        "facebook/nllb-200-distilled-600M",
        description="Hub id or local folder of an NLLB-200 or M2M100 checkpoint (a fine-tune such as "
        "burkimbia/BIA-NLLB-600M-5E loads the same way).",
    )
    translation_revision: str | None = None
    translation_model_aliases: Annotated[list[str], NoDecode] = Field(default_factory=lambda: ["nllb"])
    translation_gpu_device_id: int = Field(0, ge=0, description="GPU for lazy loads and preloads (one GPU).")
    translation_dtype: Literal["auto", "float32", "float16", "bfloat16"] = Field(
        "auto", description="Weights' dtype; `auto`: float16 on a GPU, float32 on the CPU."
    )
    translation_batch_size: int = Field(32, ge=1, le=512, description="Most sentences in one generate call.")
    translation_batch_wait_ms: float = Field(10.0, ge=0, le=1000, description="How long a batch waits to fill up.")
    translation_queue_size: int = Field(
        1024,
        ge=1,
        le=100_000,
        description="Sentences waiting per model before new requests get 429; also the most sentences one "
        "request may split into (413 above).",
    )
    translation_max_input_chars: int = Field(
        20_000,
        ge=1,
        le=10_000_000,
        description="Most characters of text one request may carry, all texts together (413 above).",
    )
    translation_max_texts: int = Field(
        128, ge=1, le=4096, description="Most texts in one request's `text` list (413 above)."
    )
    translation_max_new_tokens: int = Field(
        256,
        ge=1,
        le=4096,
        description="Tokens generated per sentence at most: the default and the ceiling of `max_length`.",
    )
    translation_language_aliases: Annotated[dict[str, list[str]], NoDecode] = Field(
        default_factory=dict,
        description="Extra language names: `moore:moor_Latn,fr:fra_Latn` or a JSON object (a value may be a list of "
        "candidate codes, the first the model knows wins); they come before the built-in table.",
    )

    # The text-to-speech slot (optional: add `tts` to ENABLED_MODELS). VITS / MMS-TTS through transformers.
    tts_model_id: str = Field(
        "facebook/mms-tts-eng", description="Hub id or local folder of a VITS checkpoint (MMS-TTS: one per language)."
    )
    tts_revision: str | None = None
    tts_model_aliases: Annotated[list[str], NoDecode] = Field(
        default_factory=lambda: ["tts-1", "tts-1-hd", "gpt-4o-mini-tts"],
        description="More names for the TTS model (OpenAI's TTS model names, so SDK examples work unchanged).",
    )
    tts_gpu_device_id: int = Field(0, ge=0, description="GPU for lazy loads and preloads (one GPU).")
    tts_voices: Annotated[dict[str, int], NoDecode] = Field(
        default_factory=dict,
        description="Voice names for the checkpoint's speakers, `name:speaker_id,...`; replaces the default "
        "mapping of OpenAI's voice names (`speaker_<i>` always works).",
    )
    tts_batch_size: int = Field(8, ge=1, le=256, description="Most text pieces in one synthesis call.")
    tts_batch_wait_ms: float = Field(10.0, ge=0, le=1000, description="How long a synthesis batch waits to fill up.")
    tts_queue_size: int = Field(
        128,
        ge=64,
        le=100_000,
        description="Text pieces waiting per model before new speech requests get 429; at least the 64 pieces "
        "the longest input (4096 characters) may be cut into.",
    )

    # Long-audio jobs.
    data_dir: Path | None = Field(None, description="Jobs database and files; default MODEL_CACHE_DIR/jobs.")
    jobs_concurrency: int = Field(2, ge=1, le=64, description="Jobs running at once.")
    jobs_max_queued: int = Field(
        100, ge=1, le=100_000, description="Jobs queued or running at once, all clients together (429 beyond)."
    )
    jobs_retention_days: float = Field(
        30.0, ge=0, description="Finished jobs and their files are removed this many days after they end; 0 keeps them."
    )

    # Audio uploads (ASR and diarization).
    max_upload_mb: float = Field(500.0, gt=0, description="Largest upload accepted (413 above).")
    max_audio_seconds: float = Field(3600.0, gt=0, description="Longest audio accepted (413 above).")
    max_concurrent_decodes: int = Field(
        4,
        ge=1,
        le=256,
        description="Uploads decoded at once (requests and jobs together); each can take about "
        "2 x 64 KB per second of MAX_AUDIO_SECONDS at its peak.",
    )
    decode_queue_size: int = Field(
        64, ge=0, description="Requests waiting for a decode before new ones get 429 (jobs wait regardless)."
    )

    @field_validator(
        "cors_origins",
        "qwen_model_aliases",
        "canary_model_aliases",
        "whisper_model_aliases",
        "translation_model_aliases",
        "enabled_models",
        "forwarded_allow_ips",
        mode="before",
    )
    @classmethod
    def _split_strings(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [v.strip() for v in value.split(",") if v.strip()]
        return value

    @field_validator("tts_model_aliases", mode="before")
    @classmethod
    def _tts_aliases(cls, value: Any) -> Any:
        return [v.strip() for v in value.split(",") if v.strip()] if isinstance(value, str) else value

    @field_validator("tts_voices", mode="before")
    @classmethod
    def _tts_voices(cls, value: Any) -> Any:
        return parse_voices(value) if isinstance(value, str) else value

    @field_validator("enabled_models")
    @classmethod
    def _known_slots(cls, value: list[str]) -> list[str]:
        unknown = sorted(set(value) - set(MODEL_SLOTS))
        if unknown:
            raise ValueError(f"unknown model slot(s) {', '.join(unknown)}; known: {', '.join(MODEL_SLOTS)}")
        return value

    @field_validator("qwen_upstream_urls", mode="before")
    @classmethod
    def _upstream_urls(cls, value: Any) -> Any:
        return upstream_urls(value)

    @field_validator("quotas", mode="before")
    @classmethod
    def _quotas(cls, value: Any) -> Any:
        return parse_quotas(value) if isinstance(value, str) else value

    @field_validator("qwen_gpu_device_ids", mode="before")
    @classmethod
    def _split_ints(cls, value: Any) -> Any:
        if isinstance(value, str):
            return [int(v) for v in value.split(",") if v.strip()]
        return value

    @field_validator("openai_api_keys", mode="before")
    @classmethod
    def _client_keys(cls, value: Any) -> Any:
        return parse_api_keys(value, "client") if isinstance(value, (str, list)) else value

    @field_validator("admin_api_keys", mode="before")
    @classmethod
    def _admin_keys(cls, value: Any) -> Any:
        return parse_api_keys(value, "admin") if isinstance(value, (str, list)) else value

    @field_validator("qwen_engine_args", mode="before")
    @classmethod
    def _engine_args(cls, value: Any) -> Any:
        if isinstance(value, str):
            parsed = json.loads(value) if value.strip() else {}
            if not isinstance(parsed, dict):
                raise ValueError("must be a JSON object")
            return parsed
        return value

    @field_validator("translation_language_aliases", mode="before")
    @classmethod
    def _language_aliases(cls, value: Any) -> Any:
        return parse_language_aliases(value) if isinstance(value, str) else value

    @field_validator(
        "huggingface_token", "frontend_dist", "models_config", "qwen_upstream_api_key", "redis_url", mode="before"
    )
    @classmethod
    def _empty_is_unset(cls, value: Any) -> Any:
        return value or None

    @field_validator("huggingface_token")
    @classmethod
    def _token_shape(cls, value: SecretStr | None) -> SecretStr | None:
        return None if value is None else SecretStr(check_hf_token(value.get_secret_value()))

    @field_validator("redis_url")
    @classmethod
    def _redis_scheme(cls, value: SecretStr | None) -> SecretStr | None:
        # The message never quotes the URL: it may hold a password.
        if value is not None and urlsplit(value.get_secret_value()).scheme not in REDIS_SCHEMES:
            raise ValueError(f"expected a URL starting with {', '.join(s + '://' for s in REDIS_SCHEMES)}")
        return value

    @field_validator("forwarded_allow_ips")
    @classmethod
    def _proxy_addresses(cls, value: list[str]) -> list[str]:
        for entry in value:
            if entry != "*":
                try:
                    ipaddress.ip_network(entry, strict=False)
                except ValueError:
                    raise ValueError(f"'{entry}' is neither an IP address, a CIDR range nor '*'") from None
        return value

    @model_validator(mode="after")
    def _shared_keys(self) -> Settings:
        client = {k.key for k in self.openai_api_keys}  # SecretStr compares (and hashes) by its value
        if any(k.key in client for k in self.admin_api_keys):
            raise ValueError("ADMIN_API_KEYS: a key is also listed in OPENAI_API_KEYS; give admins their own key")
        return self

    @model_validator(mode="after")
    def _quotas_name_clients(self) -> Settings:
        known = {k.name for k in (*self.openai_api_keys, *self.admin_api_keys)} or {ANONYMOUS_CLIENT}
        unknown = sorted(set(self.quotas) - known - {ALL_CLIENTS})
        if unknown:
            raise ValueError(
                f"QUOTAS names {', '.join(unknown)}, which no key is named after (clients: {', '.join(sorted(known))})"
            )
        return self

    @model_validator(mode="after")
    def _generations_hold_max_n(self) -> Settings:
        if self.max_generations_per_request < self.max_n:
            raise ValueError(
                f"MAX_GENERATIONS_PER_REQUEST={self.max_generations_per_request} is smaller than MAX_N={self.max_n}: "
                "requests with n=MAX_N would always get 400"
            )
        return self

    @model_validator(mode="after")
    def _upstream_needs_urls(self) -> Settings:
        if self.qwen_engine == "upstream" and "qwen" in self.enabled_models and not self.qwen_upstream_urls:
            raise ValueError("QWEN_UPSTREAM_URLS: required with QWEN_ENGINE=upstream (the replicas' base URLs)")
        return self

    _slots: tuple[SlotConfig, ...] = PrivateAttr(default=())

    @model_validator(mode="after")
    def _declare_slots(self) -> Settings:
        try:
            self._slots = declared_slots(self, self.enabled_models, self.models_config)
        except ValueError as exc:
            where = f"MODELS_CONFIG ({self.models_config})" if self.models_config else "ENABLED_MODELS"
            raise ValueError(f"{where}: {exc}") from None
        return self

    @model_validator(mode="after")
    def _queue_holds_the_longest_audio(self) -> Settings:
        # Long audio is cut within the last 20 % of each window: at most this many pieces per file. Whisper
        # hears at most 30 s at once (`WhisperASRModel.max_piece_s`): its pieces are shorter. After
        # `_declare_slots` (validators run in their order here), so a Whisper slot of the models file counts.
        whisper = any(slot.spec.family == "whisper" for slot in self._slots)
        window = min(self.asr_window_s, 30.0) if whisper else self.asr_window_s
        pieces = math.ceil(self.max_audio_seconds / (0.8 * window))
        if self.asr_queue_size < pieces:
            raise ValueError(
                f"ASR_QUEUE_SIZE={self.asr_queue_size} is smaller than the {pieces} pieces of the longest audio "
                f"allowed (MAX_AUDIO_SECONDS={self.max_audio_seconds:g}, ASR_WINDOW_S={self.asr_window_s:g}"
                f"{', whisper: 30 s' if window < self.asr_window_s else ''}): "
                "such files would always get 429"
            )
        return self

    @property
    def slots(self) -> tuple[SlotConfig, ...]:
        """Every slot to serve: the built-in ones ENABLED_MODELS names, then the models file's."""
        return self._slots

    def builtin_slot(self, key: str) -> SlotConfig:
        """A built-in slot (`app.slots.SLOTS`) as the environment sets it, served or not."""
        served = next((s for s in self._slots if s.key == key and s.source == "environment"), None)
        spec = next((s for s in SLOTS if s.key == key), None)
        if served is not None:
            return served
        if spec is None:
            raise KeyError(key)
        return environment_slot(self, spec)

    @property
    def max_json_body_bytes(self) -> int:
        return int(self.max_json_body_mb * 2**20)

    @property
    def max_upload_body_bytes(self) -> int:
        """A multipart body may exceed the file's limit by its envelope and the other form fields."""
        return int(self.max_upload_mb * 2**20) + 64 * 1024

    @property
    def jobs_dir(self) -> Path:
        return self.data_dir or self.model_cache_dir / "jobs"

    @property
    def request_log_path(self) -> Path:
        """The request log's SQLite database, beside the jobs' one."""
        return self.jobs_dir / "requests.db"

    @property
    def secrets(self) -> list[str]:
        """What must never reach a log line, in clear: the keys, the configured Hub token, the upstream keys,
        REDIS_URL and its password (the whole URL first, so that it is hidden whole)."""
        keys = [k.key.get_secret_value() for k in (*self.openai_api_keys, *self.admin_api_keys)]
        upstream = [self.qwen_upstream_api_key] + [
            slot.options.upstream_api_key for slot in self._slots if isinstance(slot.options, LLMOptions)
        ]
        tokens = [self.huggingface_token, *upstream]
        return (
            keys
            + list(dict.fromkeys(t.get_secret_value() for t in tokens if t is not None))
            + redis_url_secrets(self.redis_url)
        )

    def quota_for(self, client: str) -> ClientQuota | None:
        return self.quotas.get(client) or self.quotas.get(ALL_CLIENTS)

    @property
    def auth_enabled(self) -> bool:
        return bool(self.openai_api_keys or self.admin_api_keys)

    @property
    def host_is_loopback(self) -> bool:
        if self.api_host == "localhost":
            return True
        try:
            return ipaddress.ip_address(self.api_host).is_loopback
        except ValueError:
            return False

    def check_startup_safety(self) -> None:
        """Refuse an open gateway on a reachable address unless the operator asked for it."""
        if not self.auth_enabled and not self.host_is_loopback and not self.allow_unauthenticated:
            raise SettingsError(
                f"API_HOST={self.api_host} is reachable from other machines but neither OPENAI_API_KEYS nor "
                "ADMIN_API_KEYS is set: set keys, or set ALLOW_UNAUTHENTICATED=true to run open on purpose"
            )


def load_settings(**overrides: Any) -> Settings:
    """Build settings, turning pydantic's report into one line per variable at fault."""
    try:
        return Settings(**overrides)
    except ValidationError as exc:
        problems = []
        for error in exc.errors():
            message = error["msg"].removeprefix("Value error, ")
            # A check across settings (a model validator) names its variables in its message.
            problems.append(f"{str(error['loc'][0]).upper()}: {message}" if error["loc"] else message)
        raise SettingsError("invalid settings: " + "; ".join(problems)) from None
