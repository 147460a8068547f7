"""The spoken-language identification slot (optional): a NeMo `EncDecSpeakerLabelModel` trained to tell
languages apart, such as nvidia/langid_ambernet; its labels (`train_ds.labels`) are language codes.

It serves requests that give no language to an ASR model that cannot detect it (Canary): the first
`LANGID_WINDOW_S` seconds of the decoded audio go through the model, and the most likely label is the
language. Not enabled by default: add `langid` to ENABLED_MODELS. It runs on the ASR model's device
(`CANARY_GPU_DEVICE_ID`, the CPU without a GPU).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.models.base import describe_error
from app.models.canary import NEMO_ALLOW_PATTERNS, find_nemo_file
from app.models.roles import LanguageIdWrapper
from app.slot_options import LanguageIdOptions, SlotConfig

if TYPE_CHECKING:
    import numpy as np

SAMPLE_RATE = 16000
MIN_SECONDS = 1.0
"""Shorter audio is padded with silence to this length (the convolutions need a few frames)."""


def language_code(label: str) -> str:
    """The ISO 639 code of a model label: `en`, `EN`, `en-US` and `en_us` all give `en`."""
    return label.replace("_", "-").split("-")[0].lower()


class LanguageIdModel(LanguageIdWrapper):
    one_gpu = "a language identification model"
    listed = False  # the speech routes use it; no route takes it by name
    sample_rate = SAMPLE_RATE

    def __init__(
        self, settings: Settings, token_provider: Callable[[], str | None], slot: SlotConfig | None = None
    ) -> None:
        self.slot = slot or settings.builtin_slot("langid")
        self.options = self.slot.options_as(LanguageIdOptions)
        super().__init__(
            key=self.slot.key,
            model_id=self.options.model_id or "nvidia/langid_ambernet",
            cache_dir=settings.model_cache_dir,
            token_provider=token_provider,
            revision=self.options.revision,
            allow_patterns=NEMO_ALLOW_PATTERNS,
            hub_endpoint=settings.hf_endpoint,
        )
        self.settings = settings
        self.model: Any = None
        self._labels: list[str] = []

    def default_devices(self, gpu_count: int) -> list[str]:
        return self.select_devices([self.options.gpu_device_id]) if gpu_count else ["cpu"]

    # --- lifecycle --------------------------------------------------------------------------------
    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        return await asyncio.to_thread(self._restore, path, devices[0])

    def _restore(self, path: Path, device: str) -> dict[str, Any]:
        nemo_file = find_nemo_file(path)
        try:
            import torch
            from nemo.collections.asr.models import EncDecSpeakerLabelModel
        except ImportError as exc:
            raise RuntimeError(f"NeMo is not installed ({exc}); install the gateway's `asr` extra") from exc

        try:
            model = EncDecSpeakerLabelModel.restore_from(str(nemo_file), map_location=torch.device(device))
        except Exception as exc:
            raise RuntimeError(f"NeMo could not restore {nemo_file.name}: {describe_error(exc)}") from exc
        if not isinstance(model, EncDecSpeakerLabelModel):
            raise TypeError(f"{nemo_file.name} holds a {type(model).__name__}, not a NeMo EncDecSpeakerLabelModel")
        labels = list((model.cfg.get("train_ds") or {}).get("labels") or [])
        classes = int(model.cfg.decoder.num_classes)
        if len(labels) != classes:
            raise ValueError(
                f"{nemo_file.name} names {len(labels)} labels (train_ds.labels) for {classes} classes: "
                "it is not a language identification model"
            )
        rate = int(model.cfg.preprocessor.get("sample_rate", SAMPLE_RATE))
        if rate != SAMPLE_RATE:
            raise ValueError(f"{nemo_file.name} expects {rate} Hz audio; the gateway feeds models {SAMPLE_RATE} Hz")
        model.eval()
        self.model, self._labels = model, [language_code(str(label)) for label in labels]
        return {
            "path": str(nemo_file),
            "model_class": type(model).__name__,
            "languages": sorted(set(self._labels)),
            "sample_rate": rate,
            "device": device,
            "window_s": self.settings.langid_window_s,
        }

    async def _unload(self) -> None:
        # The base class collects garbage and empties the CUDA cache afterwards.
        self.model = None

    # --- inference --------------------------------------------------------------------------------
    def identify_languages(self, audios: list[np.ndarray]) -> list[str]:
        """The most likely language (ISO 639 code) of each mono float32 16 kHz clip, in one batch
        (blocking: run it on a thread, one call at a time)."""
        import torch

        model = self.model
        if model is None:
            raise self.unavailable_error()
        if not audios:
            return []
        lengths = [max(len(a), int(MIN_SECONDS * SAMPLE_RATE)) for a in audios]
        batch = torch.zeros((len(audios), max(lengths)), dtype=torch.float32)
        for row, audio in enumerate(audios):
            batch[row, : len(audio)] = torch.from_numpy(audio)
        device = next(model.parameters()).device
        with torch.inference_mode():
            logits, _ = model.forward(
                input_signal=batch.to(device), input_signal_length=torch.tensor(lengths, device=device)
            )
        return [self._labels[int(index)] for index in logits.argmax(dim=1).tolist()]
