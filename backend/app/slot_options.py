"""What one model slot is: its family, its model, its names and devices — from the environment or a models file.

The built-in slots (`app.slots.SLOTS`, enabled by ENABLED_MODELS) read their options from the prefixed
settings (`CANARY_MODEL_ID` is the `model_id` of slot `canary`). A models file (`MODELS_CONFIG`, YAML or
JSON) declares more slots, each with the same fields without the prefix:

    slots:
      - key: mistral
        role: llm
        model_id: burkimbia/BIA-MISTRAL-7B-SACHI
        aliases: [mistral]
        gpu_device_ids: [1]

Each family's fields are one pydantic model below, so both sources are validated by the same rules and a bad
entry is refused at start with the slot and the field named.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, Literal, Self, TypeVar
from urllib.parse import urlsplit

import yaml
from pydantic import (
    AliasChoices,
    BaseModel,
    ConfigDict,
    Field,
    SecretStr,
    ValidationError,
    field_validator,
    model_validator,
)

from app.slots import SLOTS, Role, SlotSpec

SLOT_KEY = re.compile(r"^[a-z0-9][a-z0-9._-]{0,62}$")
"""A slot key appears in URLs (`/api/admin/models/{key}`) and as a model name."""


class SlotOptions(BaseModel):
    """The fields every slot has. A family adds its own in a subclass; `SETTING_NAMES` maps a field to the
    setting of the built-in slot when it is not `<PREFIX>_<FIELD>` (None: the built-in slot has no such
    setting and takes the field's default)."""

    model_config = ConfigDict(extra="forbid", frozen=True, protected_namespaces=())

    model_id: str | None = None
    """Hub id or local path; None: the family's default."""
    revision: str | None = None
    model_aliases: list[str] = Field(default_factory=list, validation_alias=AliasChoices("model_aliases", "aliases"))
    SETTING_NAMES: ClassVar[dict[str, str | None]] = {}

    def wrapper(self) -> str | None:
        """`module:Class` of the wrapper these options call for instead of the family's (`SlotSpec.wrapper`), of
        the same role; None: the family's."""
        return None

    @classmethod
    def from_environment(cls, settings: object, prefix: str) -> Self:
        values: dict[str, Any] = {}
        for name in cls.model_fields:
            attribute = cls.SETTING_NAMES.get(name, f"{prefix.lower()}_{name}")
            if attribute is not None:
                values[name] = getattr(settings, attribute)
        return cls.model_validate(values)

    @classmethod
    def setting_of(cls, prefix: str, field: str) -> str | None:
        """The environment variable of `field` for the built-in slot with this settings prefix."""
        attribute = cls.SETTING_NAMES.get(field, f"{prefix.lower()}_{field}")
        return None if attribute is None else attribute.upper()


def upstream_url(url: str) -> str:
    """An upstream replica's OpenAI base URL as given (`http://vllm-a:8000/v1`); a URL with no path gets `/v1`."""
    url = url.strip().rstrip("/")
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError(f"'{url}' is not an http(s) URL with a host (e.g. http://vllm:8000/v1)")
    if parts.query or parts.fragment:
        raise ValueError(f"'{url}' has a query or a fragment; give the server's OpenAI base URL")
    return url if parts.path else url + "/v1"


def upstream_urls(value: Any) -> Any:
    """A comma-separated string or a list of URLs, each checked (`upstream_url`), without duplicates."""
    items = value.split(",") if isinstance(value, str) else value
    if not isinstance(items, list):
        return items
    urls = [upstream_url(str(item)) for item in items if str(item).strip()]
    if len(set(urls)) != len(urls):
        raise ValueError("a replica URL is listed twice")
    return urls


class LLMOptions(SlotOptions):
    """A language model on vLLM (GPU) or transformers (CPU), or served by upstream OpenAI-compatible servers
    (`engine: upstream`: vLLM replicas the gateway relays requests to)."""

    engine: Literal["auto", "vllm", "transformers", "upstream"] = "auto"
    served_model_name: str | None = None
    max_model_len: int | None = Field(None, ge=16)
    dtype: str = "auto"
    gpu_memory_utilization: float = Field(0.9, gt=0, le=1)
    tensor_parallel_size: int | None = Field(None, ge=1)
    gpu_device_ids: list[int] = Field(default_factory=list)
    engine_args: dict[str, Any] = Field(default_factory=dict)
    cpu_max_concurrency: int = Field(1, ge=1, le=64)
    upstream_urls: list[str] = Field(default_factory=list)
    """The replicas' OpenAI base URLs (`engine: upstream`)."""
    upstream_model: str | None = None
    """The model's name on the upstream servers; None: the slot's model id."""
    upstream_api_key: SecretStr | None = None
    """Sent to the upstream servers as `Authorization: Bearer`; never shown nor logged."""
    upstream_connect_timeout_s: float = Field(5.0, gt=0, le=600)
    upstream_read_timeout_s: float = Field(600.0, gt=0, le=86_400)
    """The longest wait for the next bytes of an answer (a non-streamed answer comes whole, at the end)."""
    upstream_health_interval_s: float = Field(5.0, ge=0.05, le=3600)

    @field_validator("upstream_urls", mode="before")
    @classmethod
    def _urls(cls, value: Any) -> Any:
        return upstream_urls(value)

    @field_validator("upstream_api_key", mode="before")
    @classmethod
    def _empty_key_is_unset(cls, value: Any) -> Any:
        return value or None

    @model_validator(mode="after")
    def _upstream_needs_urls(self) -> Self:
        if self.engine == "upstream" and not self.upstream_urls:
            raise ValueError("engine 'upstream' needs upstream_urls (the replicas' base URLs)")
        return self

    def wrapper(self) -> str | None:
        return "app.models.upstream:UpstreamLLMModel" if self.engine == "upstream" else None


class OneGpuOptions(SlotOptions):
    gpu_device_id: int = Field(0, ge=0)
    """The GPU of lazy loads and preloads."""


class CanaryOptions(OneGpuOptions):
    """A NeMo ASR model (Canary, or any NeMo ASR .nemo)."""


class WhisperOptions(OneGpuOptions):
    """A Whisper checkpoint through transformers."""


class TranslationOptions(OneGpuOptions):
    """An NLLB-200 / M2M100 checkpoint through transformers."""

    dtype: Literal["auto", "float32", "float16", "bfloat16"] = "auto"
    """`auto`: float16 on a GPU, float32 on the CPU."""


class SpeechSynthesisOptions(OneGpuOptions):
    """A VITS / MMS-TTS checkpoint through transformers."""

    voices: dict[str, int] = Field(default_factory=dict)
    """Voice name -> speaker id; replaces the default mapping of OpenAI's voice names (`speaker_<i>` always works)."""


class LanguageIdOptions(OneGpuOptions):
    """A NeMo spoken-language identification model (AmberNet)."""

    SETTING_NAMES: ClassVar[dict[str, str | None]] = {"gpu_device_id": "canary_gpu_device_id", "model_aliases": None}


class PyannoteOptions(OneGpuOptions):
    """A pyannote.audio 4 diarization pipeline."""

    telemetry: bool = False
    replicas: int = Field(1, ge=1, le=16)
    """Pipeline copies run in parallel on the device."""
    SETTING_NAMES: ClassVar[dict[str, str | None]] = {"replicas": "diarization_replicas", "model_aliases": None}


FAMILY_OPTIONS: dict[str, type[SlotOptions]] = {
    "llm": LLMOptions,
    "canary": CanaryOptions,
    "whisper": WhisperOptions,
    "nllb": TranslationOptions,
    "vits": SpeechSynthesisOptions,
    "langid": LanguageIdOptions,
    "pyannote": PyannoteOptions,
}
"""The options of each family (`SlotSpec.family`); tests/test_slots.py checks every family has one."""

Options = TypeVar("Options", bound=SlotOptions)


@dataclass(frozen=True)
class SlotConfig:
    """One slot to serve: a key, the family it belongs to (its `SlotSpec`) and its options."""

    key: str
    spec: SlotSpec
    options: SlotOptions
    source: Literal["environment", "file"] = "environment"

    def options_as(self, cls: type[Options]) -> Options:
        """The options, typed as the family's class the wrapper expects."""
        if not isinstance(self.options, cls):
            raise TypeError(f"slot '{self.key}' has {type(self.options).__name__}, not {cls.__name__}")
        return self.options

    def setting_name(self, field: str) -> str:
        """How an operator sets `field` of this slot, for messages: `CANARY_MODEL_ID`, or the entry's field."""
        if self.source == "environment":
            variable = type(self.options).setting_of(self.spec.settings_prefix, field)
            if variable is not None:
                return variable
        return f"`{field}` of slot '{self.key}' in MODELS_CONFIG"


def environment_slot(settings: object, spec: SlotSpec) -> SlotConfig:
    """A built-in slot, its options read from the prefixed settings."""
    options = FAMILY_OPTIONS[spec.family].from_environment(settings, spec.settings_prefix)
    return SlotConfig(spec.key, spec, options)


def _family(entry: dict[str, Any], where: str) -> SlotSpec:
    role, family = entry.pop("role", None), entry.pop("family", None)
    families = sorted({s.family for s in SLOTS})
    if family is not None:
        spec = next((s for s in SLOTS if s.family == family), None)
        if spec is None:
            raise ValueError(f"{where}: unknown family '{family}'; known: {', '.join(families)}")
        if role is not None and role != spec.role.value:
            raise ValueError(f"{where}: family '{family}' has role '{spec.role.value}', not '{role}'")
        return spec
    if role is None:
        raise ValueError(f"{where}: give its `role` ({', '.join(r.value for r in Role)}) or its `family`")
    spec = next((s for s in SLOTS if s.role.value == role), None)
    if spec is None:
        raise ValueError(f"{where}: unknown role '{role}'; known: {', '.join(r.value for r in Role)}")
    return spec


def _describe(error: ValidationError, where: str) -> str:
    problems = []
    for item in error.errors():
        field = ".".join(str(part) for part in item["loc"]) or "entry"
        problems.append(f"field '{field}': {item['msg']}")
    return f"{where}, " + "; ".join(problems)


def read_models_file(path: Path) -> list[SlotConfig]:
    """The slots a models file declares, validated; a ValueError names the slot and the field at fault."""
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as exc:
        raise ValueError(f"cannot read {path}: {exc.strerror or exc}") from None
    as_json = path.suffix.lower() == ".json"
    try:
        document = json.loads(text) if as_json else yaml.safe_load(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        raise ValueError(f"{path} is not valid {'JSON' if as_json else 'YAML'}: {exc}") from None
    entries = document.get("slots") if isinstance(document, dict) else document
    if not isinstance(entries, list):
        raise ValueError(f"{path}: expected a list of slots under `slots:`")
    slots: list[SlotConfig] = []
    for index, raw in enumerate(entries, start=1):
        if not isinstance(raw, dict):
            raise ValueError(f"{path}: entry {index} is not a mapping of fields")
        entry = dict(raw)
        key = entry.pop("key", None)
        where = f"entry {index}" if not isinstance(key, str) else f"slot '{key}'"
        if not isinstance(key, str) or not SLOT_KEY.match(key):
            raise ValueError(f"{where}: `key` must be 1 to 63 lower-case letters, digits, '.', '_' or '-'")
        spec = _family(entry, where)
        if not entry.get("model_id"):
            raise ValueError(f"{where}, field 'model_id': required in a models file (a Hub id or a local path)")
        try:
            options = FAMILY_OPTIONS[spec.family].model_validate(entry)
        except ValidationError as exc:
            raise ValueError(_describe(exc, where)) from None
        slots.append(SlotConfig(key, spec, options, source="file"))
    return slots


def declared_slots(settings: object, enabled: list[str], models_file: Path | None) -> tuple[SlotConfig, ...]:
    """The built-in slots ENABLED_MODELS names, in table order, then the models file's, in file order."""
    slots = [environment_slot(settings, spec) for spec in SLOTS if spec.key in enabled]
    if models_file is not None:
        for declared in read_models_file(models_file):
            if any(s.key == declared.key for s in slots):
                built_in = declared.key in {s.key for s in SLOTS}
                raise ValueError(
                    f"slot '{declared.key}' is declared twice"
                    + (" (it is a built-in slot ENABLED_MODELS names: remove it there)" if built_in else "")
                )
            slots.append(declared)
    return tuple(slots)
