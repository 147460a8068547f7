"""The ASR slot: NVIDIA Canary (NeMo's multitask AED model) or any other NeMo ASR model in a `.nemo` file.

Canary takes a prompt (source and target language, punctuation, timestamps); other NeMo ASR classes
(CTC, RNNT, TDT such as parakeet) take audio only and ignore those options. On a GPU the weights stay
in float32 and inference runs under bfloat16 autocast, as NeMo's own inference pipelines do: the mel
front end keeps float32 (NeMo turns autocast off around its STFT), and the separate CTC aligner that
Canary-1b-v2 carries for timestamps runs under the same autocast without being converted.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.errors import InvalidRequestError
from app.models.base import describe_error
from app.models.roles import ASRWrapper
from app.models.types import TimedText, TranscribeOptions, Transcript
from app.slot_options import CanaryOptions, SlotConfig

if TYPE_CHECKING:
    import numpy as np

NEMO_ALLOW_PATTERNS = ["*.nemo"]
SAMPLE_RATE = 16000
"""The rate the gateway decodes uploads to; every Canary and parakeet model expects it."""
MIN_PIECE_S = 1.0
"""NeMo pads shorter input to 1 s on both sides, which would shift timestamps; the wrapper pads on the right."""
DEFAULT_LANGUAGE = "en"
"""Canary has no language identification: without a language, the audio is taken to be English."""
# Canary-2 prompt slots the gateway has no option for, used only where the model defines no default.
PROMPT_FALLBACKS = {"decodercontext": "", "emotion": "<|emo:undefined|>", "itn": "no", "diarize": "no"}


def find_nemo_file(path: Path) -> Path:
    """`path` itself when it is a file, else the one `.nemo` file directly inside the folder."""
    if path.is_file():
        return path
    found = sorted(path.glob("*.nemo"))
    if len(found) == 1:
        return found[0]
    if found:
        raise ValueError(
            f"{path} holds {len(found)} .nemo files ({', '.join(p.name for p in found)}); "
            "set CANARY_MODEL_ID to one of them"
        )
    present = sorted(p.name for p in path.iterdir())
    listing = ", ".join(present[:10]) + (f" and {len(present) - 10} more" if len(present) > 10 else "")
    raise FileNotFoundError(f"no .nemo file in {path} (it holds {listing or 'nothing'})")


class CanaryASRModel(ASRWrapper):
    one_gpu = "an ASR model"
    sample_rate = SAMPLE_RATE

    def __init__(
        self, settings: Settings, token_provider: Callable[[], str | None], slot: SlotConfig | None = None
    ) -> None:
        self.slot = slot or settings.builtin_slot("canary")
        self.options = self.slot.options_as(CanaryOptions)
        super().__init__(
            key=self.slot.key,
            model_id=self.options.model_id or "nvidia/canary-1b-v2",
            cache_dir=settings.model_cache_dir,
            token_provider=token_provider,
            revision=self.options.revision,
            allow_patterns=NEMO_ALLOW_PATTERNS,
            hub_endpoint=settings.hf_endpoint,
        )
        self.settings = settings
        self.model: Any = None
        self._device = "cpu"
        self._bf16 = False
        self._multitask = False
        self._languages: dict[str, str] = {}
        """ISO 639-1 code -> the language name in the model's tokenizer (`en` -> `en` or `en-US`)."""
        self._prompt_fill: dict[str, str] = {}
        self._prompt_task = False

    @property
    def served_names(self) -> list[str]:
        return list(dict.fromkeys([self.public_model_id, *self.options.model_aliases, self.key]))

    @property
    def window_s(self) -> float:
        """Longest piece handed to the model at once; longer audio is split (`split_for_model`)."""
        return self.settings.asr_window_s

    def default_devices(self, gpu_count: int) -> list[str]:
        return self.select_devices([self.options.gpu_device_id]) if gpu_count else ["cpu"]

    # --- lifecycle --------------------------------------------------------------------------------
    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        return await asyncio.to_thread(self._restore, path, devices[0])

    def _restore(self, path: Path, device: str) -> dict[str, Any]:
        nemo_file = find_nemo_file(path)
        try:
            import torch
            from nemo.collections.asr.models import ASRModel, EncDecMultiTaskModel
        except ImportError as exc:
            raise RuntimeError(f"NeMo is not installed ({exc}); install the gateway's `asr` extra") from exc

        if device.startswith("cuda"):
            # NeMo restores helper models (Canary's timestamp aligner) on the current device.
            torch.cuda.set_device(torch.device(device))
        try:
            model = ASRModel.restore_from(str(nemo_file), map_location=torch.device(device))
        except Exception as exc:
            raise RuntimeError(f"NeMo could not restore {nemo_file.name}: {describe_error(exc)}") from exc
        if not isinstance(model, ASRModel):
            raise TypeError(f"{nemo_file.name} holds a {type(model).__name__}, not a NeMo ASR model")
        rate = int(model.cfg.get("sample_rate", SAMPLE_RATE))
        if rate != SAMPLE_RATE:
            raise ValueError(f"{nemo_file.name} expects {rate} Hz audio; the gateway feeds models {SAMPLE_RATE} Hz")
        model.eval()

        multitask = isinstance(model, EncDecMultiTaskModel)
        languages: dict[str, str] = {}
        prompt_fill: dict[str, str] = {}
        prompt_task = False
        if multitask:
            for name in getattr(model.tokenizer, "langs", None) or []:
                if name != "spl_tokens":
                    languages.setdefault(name.split("-")[0].lower(), name)
            defaults = model.prompt.get_default_dialog_slots()[0]["slots"]
            prompt_fill = {k: v for k, v in PROMPT_FALLBACKS.items() if k in defaults and defaults[k] is None}
            prompt_task = "task" in model.prompt.get_slots("user")  # Canary-1 names the task; Canary-2 infers it.
        bf16 = device.startswith("cuda") and torch.cuda.is_bf16_supported()
        self.model, self._device, self._bf16 = model, device, bf16
        self._multitask, self._languages = multitask, languages
        self._prompt_fill, self._prompt_task = prompt_fill, prompt_task

        server: dict[str, Any] = {
            "path": str(nemo_file),
            "model_class": type(model).__name__,
            "multitask": multitask,
            "sample_rate": rate,
            "languages": sorted(languages) or None,
            "device": device,
            "dtype": "bfloat16 (autocast, float32 weights)" if bf16 else "float32",
            "window_s": self.window_s,
        }
        if multitask:
            server["prompt_format"] = str(model.prompt_format)
            server["timestamp_aligner"] = getattr(model, "timestamps_asr_model", None) is not None
        return server

    async def _unload(self) -> None:
        # The base class collects garbage and empties the CUDA cache afterwards.
        self.model = None

    # --- inference --------------------------------------------------------------------------------
    def transcribe_batch(self, audios: list[np.ndarray], options: TranscribeOptions) -> list[Transcript]:
        """Transcribe mono float32 16 kHz pieces in one `transcribe` call (blocking: run it on a thread).

        When timestamps are asked for and the model gives none (a Canary without timestamp support,
        or one whose output has no timestamp tokens), the transcripts come back without words or
        segments rather than failing.
        """
        import numpy as np

        model = self.model
        if model is None:
            raise self.unavailable_error()
        if not audios:
            return []
        prompt = self._prompt(options)
        minimum = int(MIN_PIECE_S * SAMPLE_RATE)
        batch = [np.pad(np.asarray(a, dtype=np.float32), (0, max(0, minimum - len(a)))) for a in audios]
        with self._compute_context():
            # batch_size = all pieces: with batch_size 1 and several inputs NeMo's long-audio chunking
            # would merge every hypothesis of the call into one.
            hypotheses = model.transcribe(
                batch,
                batch_size=len(batch),
                return_hypotheses=True,
                verbose=False,
                timestamps=options.timestamps,
                **prompt,
            )
        return [
            _transcript(hypothesis, len(audio) / SAMPLE_RATE, options.timestamps)
            for hypothesis, audio in zip(hypotheses, audios, strict=True)
        ]

    def _prompt(self, options: TranscribeOptions) -> dict[str, str]:
        """Canary's prompt slots for these options; nothing for models that take no prompt."""
        if not self._multitask:
            return {}
        source = self._language(options.source_lang or DEFAULT_LANGUAGE, "language")
        target = self._language(options.target_lang or options.source_lang or DEFAULT_LANGUAGE, "target_language")
        prompt = {
            **self._prompt_fill,
            "source_lang": source,
            "target_lang": target,
            "pnc": "yes" if options.punctuation else "no",
        }
        if self._prompt_task:
            prompt["task"] = "asr" if source == target else "ast"
        return prompt

    def _language(self, code: str, param: str) -> str:
        if not self._languages:
            return code
        try:
            return self._languages[code.lower()]
        except KeyError:
            known = ", ".join(sorted(self._languages))
            raise InvalidRequestError(
                f"{param} '{code}' is not supported by {self.public_model_id}; use one of {known}", param=param
            ) from None

    @contextlib.contextmanager
    def _compute_context(self) -> Iterator[None]:
        import torch

        with contextlib.ExitStack() as stack:
            if self._device.startswith("cuda"):
                stack.enter_context(torch.cuda.device(torch.device(self._device)))
                if self._bf16:
                    stack.enter_context(torch.autocast("cuda", dtype=torch.bfloat16))
            yield


def _transcript(hypothesis: Any, duration_s: float, timestamps: bool) -> Transcript:
    """NeMo's `Hypothesis` as a `Transcript`; times come from the `start`/`end` seconds of
    `hypothesis.timestamp['word' | 'segment']`, clipped to the piece."""
    text = (hypothesis.text or "").strip()
    stamps = hypothesis.timestamp
    if not timestamps or not isinstance(stamps, dict):
        return Transcript(text)
    return Transcript(
        text,
        _timed(stamps.get("word"), "word", duration_s),
        _timed(stamps.get("segment"), "segment", duration_s),
    )


def _timed(items: list[dict[str, Any]] | None, key: str, duration_s: float) -> list[TimedText]:
    timed = []
    for item in items or []:
        start, end = item.get("start"), item.get("end")
        if start is None or end is None or start < 0 or end < 0:  # -1: the aligner could not place it
            continue
        start = min(float(start), duration_s)
        timed.append(TimedText(str(item.get(key, "")).strip(), start, min(max(float(end), start), duration_s)))
    return timed
