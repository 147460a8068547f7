"""The diarization slot: a pyannote.audio 4 speaker-diarization pipeline (community-1 or a pipeline folder).

A pipeline folder holds `config.yaml` and the files its `$model/<sub>` references name: `<sub>/pytorch_model.bin`
for the segmentation and embedding models, `<sub>/xvec_transform.npz` and `<sub>/plda.npz` for the PLDA.
pyannote resolves those references itself, but takes a folder it cannot find for a Hub id and asks the Hub.
The wrapper resolves them first, to the folder it was given (a local folder or the downloaded snapshot), and
checks every file they need: a missing file is a clear load error and loading never leaves the machine.

`DIARIZATION_REPLICAS` independent copies of the pipeline are built on one device; pyannote runs one file
at a time per copy (`DiarizationService` keeps each copy busy with one file).
"""

from __future__ import annotations

import asyncio
import copy
import importlib.metadata
import os
import re
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.errors import InvalidRequestError, ModelUnavailableError
from app.models.roles import DiarizationWrapper
from app.models.types import Diarization, DiarizeOptions, SpeakerTurn
from app.slot_options import PyannoteOptions, SlotConfig

if TYPE_CHECKING:
    import numpy as np

PYANNOTE_ALLOW_PATTERNS = ["*.bin", "*.ckpt", "*.safetensors", "*.yaml", "*.json", "*.npz"]
SAMPLE_RATE = 16000
"""What pyannote's models expect and the gateway decodes uploads to (pyannote resamples other rates itself)."""
CONFIG_FILE = "config.yaml"
MODEL_REF = "$model/"
MODEL_FILE = "pytorch_model.bin"
PLDA_FILES = ("xvec_transform.npz", "plda.npz")
CPU_NOTE = "running on the CPU: diarization works, but far slower than on a GPU"
# scikit-learn's KMeans, which pyannote's VBx clustering runs for a forced speaker count, refuses more
# clusters than there are speaker embeddings (VBx does not cap the count, unlike pyannote's other clusterings).
TOO_FEW_EMBEDDINGS = re.compile(r"n_samples=(?P<embeddings>\d+) should be >= n_clusters=(?P<clusters>\d+)")


def resolve_pipeline_config(folder: Path) -> dict[str, Any]:
    """`folder/config.yaml` with each `$model/<sub>` reference replaced by `{checkpoint: folder, subfolder: sub}`.

    Raises FileNotFoundError naming the first missing file, and ValueError for a config that would make
    pyannote fetch something from the Hub (a model named by Hub id, or left to pyannote's Hub default).
    """
    import yaml

    if not folder.is_dir():
        raise FileNotFoundError(f"{folder} is not a folder (a pyannote pipeline folder holds {CONFIG_FILE})")
    config_file = folder / CONFIG_FILE
    if not config_file.is_file():
        raise FileNotFoundError(
            f"{folder} holds no {CONFIG_FILE}: a pyannote pipeline folder has {CONFIG_FILE} beside the "
            "segmentation/, embedding/ and plda/ folders it refers to"
        )
    config = yaml.safe_load(config_file.read_text(encoding="utf-8"))
    pipeline = config.get("pipeline") if isinstance(config, dict) else None
    if not isinstance(pipeline, dict) or "name" not in pipeline:
        raise ValueError(f"{config_file} has no pipeline.name: it is not a pyannote pipeline config")
    params = pipeline.setdefault("params", {})
    # SpeakerDiarization falls back to Hub checkpoints for the models a config leaves out.
    vbx = params.get("clustering", "VBxClustering") == "VBxClustering"
    needed = ["segmentation", "embedding", "plda"] if vbx else ["segmentation", "embedding"]
    for key in needed:
        value = params.get(key)
        if not (isinstance(value, str) and value.startswith(MODEL_REF)):
            raise ValueError(
                f"{CONFIG_FILE} takes its {key} from {value or 'the Hub default'!r}, not from its own folder; "
                f"the gateway loads pipelines whose models are {MODEL_REF}... references "
                "(as pyannote/speaker-diarization-community-1)"
            )
    params["legacy"] = False  # the gateway needs DiarizeOutput (it carries the exclusive turns)
    resolved: dict[str, Any] = _resolve_refs(config, folder.resolve(), None)
    return resolved


def _resolve_refs(node: Any, folder: Path, key: str | None) -> Any:
    if isinstance(node, dict):
        return {k: _resolve_refs(v, folder, str(k)) for k, v in node.items()}
    if isinstance(node, list):
        return [_resolve_refs(v, folder, key) for v in node]
    if not (isinstance(node, str) and node.startswith(MODEL_REF)):
        return node
    subfolder = node[len(MODEL_REF) :]
    if "@" in subfolder:
        raise ValueError(f"{CONFIG_FILE} pins {node} to another revision; a local pipeline folder has only its own")
    target = (folder / subfolder).resolve()
    if not target.is_relative_to(folder):
        raise ValueError(f"{CONFIG_FILE} refers to {node}, outside the pipeline folder")
    for name in PLDA_FILES if key == "plda" else (MODEL_FILE,):
        if not (target / name).is_file():
            raise FileNotFoundError(f"{CONFIG_FILE} refers to {node} but {target / name} is missing")
    return {"checkpoint": str(folder), "subfolder": subfolder}


def _pyannote_version() -> str:
    from packaging.version import Version

    try:
        version = importlib.metadata.version("pyannote.audio")
    except importlib.metadata.PackageNotFoundError:
        raise RuntimeError("pyannote.audio is not installed: install the gateway's `diarization` extra") from None
    if Version(version).major < 4:
        raise RuntimeError(
            f"pyannote.audio {version} is installed; the gateway needs pyannote.audio>=4 (the `diarization` extra)"
        )
    return version


def _model_summary(model: Any, reference: Any) -> dict[str, Any]:
    return {
        "class": type(model).__name__,
        "folder": reference["subfolder"] if isinstance(reference, dict) else str(reference),
        "parameters": sum(p.numel() for p in model.parameters()),
    }


class PyannoteDiarizationModel(DiarizationWrapper):
    one_gpu = "a diarization pipeline (DIARIZATION_REPLICAS copies of it)"
    sample_rate = SAMPLE_RATE

    def __init__(
        self, settings: Settings, token_provider: Callable[[], str | None], slot: SlotConfig | None = None
    ) -> None:
        self.slot = slot or settings.builtin_slot("pyannote")
        self.options = self.slot.options_as(PyannoteOptions)
        super().__init__(
            key=self.slot.key,
            model_id=self.options.model_id or "pyannote/speaker-diarization-community-1",
            cache_dir=settings.model_cache_dir,
            token_provider=token_provider,
            revision=self.options.revision,
            allow_patterns=PYANNOTE_ALLOW_PATTERNS,
            hub_endpoint=settings.hf_endpoint,
        )
        self.settings = settings
        self._pipelines: list[Any] = []

    @property
    def served_names(self) -> list[str]:
        return list(dict.fromkeys([self.public_model_id, *self.options.model_aliases, self.key]))

    @property
    def replicas(self) -> int:
        return self.options.replicas

    def default_devices(self, gpu_count: int) -> list[str]:
        return self.select_devices([self.options.gpu_device_id]) if gpu_count else ["cpu"]

    # --- lifecycle --------------------------------------------------------------------------------
    def _missing_path(self) -> Path | None:
        """`model_id` written as a path that does not exist: without this check the base class would take it
        for a Hub id and ask the Hub."""
        if self.local_path is not None or not self.names_a_path:
            return None
        return Path(self.model_id).expanduser()

    async def _download_locked(self) -> Path:
        missing = self._missing_path()
        if missing is not None:
            setting = self.setting_name("model_id")
            error = f"the pipeline folder {missing} does not exist ({setting} names a path, not a Hub id)"
            self._fail("load failed", "load", error)
            raise ModelUnavailableError(
                f"model '{self.key}' cannot load: its pipeline folder does not exist ({self.setting_name('model_id')})",
                code="model_path_missing",
            )
        return await super()._download_locked()

    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        return await asyncio.to_thread(self._build, path, devices[0])

    def _build(self, path: Path, device: str) -> dict[str, Any]:
        config = resolve_pipeline_config(path)
        # pyannote reads this on every call; its default (on) applies only while the variable is unset.
        os.environ["PYANNOTE_METRICS_ENABLED"] = "1" if self.options.telemetry else "0"
        version = _pyannote_version()
        import torch
        from pyannote.audio import Pipeline
        from pyannote.audio.pipelines import SpeakerDiarization

        pipelines = []
        for _ in range(self.options.replicas):
            # from_pretrained fills the config's dicts in: each copy gets its own.
            pipeline = Pipeline.from_pretrained(copy.deepcopy(config))
            if not isinstance(pipeline, SpeakerDiarization):
                raise TypeError(f"{CONFIG_FILE} builds a {type(pipeline).__name__}, not a SpeakerDiarization pipeline")
            pipelines.append(pipeline.to(torch.device(device)))
        self._pipelines = pipelines

        first = pipelines[0]
        params = config["pipeline"]["params"]
        server: dict[str, Any] = {
            "path": str(path),
            "pyannote_audio": version,
            "pipeline_class": type(first).__name__,
            "segmentation": _model_summary(first._segmentation.model, params["segmentation"]),
            "embedding": _model_summary(first._embedding.model_, params["embedding"]),
            "clustering": first.klustering,
            "sample_rate": first._segmentation.model.hparams.sample_rate,
            "device": device,
            "replicas": len(pipelines),
            "telemetry": self.options.telemetry,
        }
        if device == "cpu":
            server["note"] = CPU_NOTE
        return server

    async def _unload(self) -> None:
        # The base class collects garbage and empties the CUDA cache afterwards.
        self._pipelines = []

    # --- inference --------------------------------------------------------------------------------
    def diarize(self, samples: np.ndarray, sample_rate: int, options: DiarizeOptions, replica: int = 0) -> Diarization:
        """Diarize mono float32 samples with pipeline copy `replica` (blocking: run it on a thread, one call
        per copy at a time). The audio goes to pyannote in memory, as `{"waveform", "sample_rate"}`."""
        import numpy as np
        import torch

        pipelines = self._pipelines
        if not pipelines:
            raise self.unavailable_error()
        if not 0 <= replica < len(pipelines):
            raise ValueError(f"replica {replica} does not exist; {len(pipelines)} pipeline copies are loaded")
        duration = len(samples) / sample_rate
        if len(samples) == 0:
            return Diarization([], [], [])
        waveform = torch.from_numpy(np.ascontiguousarray(samples, dtype=np.float32)).unsqueeze(0)
        try:
            output = pipelines[replica](
                {"waveform": waveform, "sample_rate": sample_rate},
                num_speakers=options.num_speakers,
                min_speakers=options.min_speakers,
                max_speakers=options.max_speakers,
            )
        except ValueError as exc:
            found = TOO_FEW_EMBEDDINGS.search(str(exc))
            if found is None:
                raise
            param = "num_speakers" if options.num_speakers is not None else "min_speakers"
            raise InvalidRequestError(
                f"{param}={found['clusters']} is more speakers than this audio can be split into: pyannote found "
                f"{found['embeddings']} speaker embeddings in it; ask for fewer",
                param=param,
            ) from None
        turns = _turns(output.speaker_diarization, duration)
        exclusive = _turns(output.exclusive_speaker_diarization, duration)
        # Filling short gaps (the pipeline's min_duration_off) can stretch one speaker's exclusive turn over
        # the next speaker's: start each turn where the previous one ends, as `Diarization` promises.
        for index in range(1, len(exclusive)):
            previous, turn = exclusive[index - 1], exclusive[index]
            if turn.start < previous.end:
                exclusive[index] = SpeakerTurn(turn.speaker, previous.end, max(turn.end, previous.end))
        exclusive = [t for t in exclusive if t.end > t.start]
        return Diarization(turns, exclusive, sorted({t.speaker for t in turns} | {t.speaker for t in exclusive}))


def _turns(annotation: Any, duration_s: float) -> list[SpeakerTurn]:
    """An `Annotation`'s tracks as turns clipped to the audio, sorted by start."""
    turns = []
    for segment, _, label in annotation.itertracks(yield_label=True):
        start, end = max(0.0, float(segment.start)), min(float(segment.end), duration_s)
        if end > start:
            turns.append(SpeakerTurn(str(label), start, end))
    return sorted(turns, key=lambda t: (t.start, t.end, t.speaker))
