"""The text-to-speech slot: VITS through transformers (`VitsModel`), such as Meta's MMS-TTS checkpoints
(`facebook/mms-tts-<iso639-3>`, one per language) or any other VITS checkpoint, a Hub id or a local folder.

Voices: a checkpoint with several speakers (`config.num_speakers > 1`) has one voice per speaker,
`speaker_0`, `speaker_1`, ...; OpenAI's voice names (`alloy`, `ash`, ... in `OPENAI_VOICES` order) map to
the speakers in turn (`alloy` is speaker 0, `ash` speaker 1, and past the last speaker the names start
over at speaker 0), so the requests of OpenAI's SDK examples work unchanged. `TTS_VOICES`
(`name:speaker_id,...`) replaces that mapping of names. A single-speaker checkpoint (every MMS-TTS one)
answers to all those names with its one voice.

Speed is the model's own speaking rate (VITS divides the predicted durations by it), not a tempo change
applied to the audio afterwards. VITS has no use for OpenAI's `instructions`.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

from app.config import Settings
from app.errors import InvalidRequestError
from app.models.roles import SpeechSynthesisWrapper
from app.models.types import SynthesisOptions

if TYPE_CHECKING:
    import numpy as np

VITS_ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.txt"]
OPENAI_VOICES = (
    "alloy",
    "ash",
    "ballad",
    "coral",
    "echo",
    "fable",
    "onyx",
    "nova",
    "sage",
    "shimmer",
    "verse",
    "marin",
    "cedar",
)
"""OpenAI's built-in voice names, in the order they map to a checkpoint's speakers."""


def voice_table(num_speakers: int, custom: dict[str, int]) -> dict[str, int]:
    """Voice name -> speaker id for a checkpoint with `num_speakers` speakers (see the module's docstring).
    `custom` (TTS_VOICES) replaces OpenAI's names; a speaker id it names that the checkpoint lacks is refused."""
    speakers = max(1, num_speakers)
    wrong = {name: speaker for name, speaker in custom.items() if speaker >= speakers}
    if wrong:
        listed = ", ".join(f"{name}:{speaker}" for name, speaker in wrong.items())
        raise ValueError(
            f"TTS_VOICES names speakers the checkpoint lacks ({listed}); it has {speakers} speaker(s), "
            f"ids 0 to {speakers - 1}"
        )
    names = dict(custom) if custom else {name: i % speakers for i, name in enumerate(OPENAI_VOICES)}
    return {**names, **{f"speaker_{i}": i for i in range(speakers)}}


class VitsSpeechModel(SpeechSynthesisWrapper):
    one_gpu = "a text-to-speech model"
    settings_prefix = "TTS"
    device_setting = "TTS_GPU_DEVICE_ID"

    def __init__(self, settings: Settings, token_provider: Callable[[], str | None], key: str = "tts") -> None:
        super().__init__(
            key=key,
            model_id=settings.tts_model_id,
            cache_dir=settings.model_cache_dir,
            token_provider=token_provider,
            revision=settings.tts_revision,
            allow_patterns=VITS_ALLOW_PATTERNS,
            hub_endpoint=settings.hf_endpoint,
        )
        self.settings = settings
        self.model: Any = None
        self.tokenizer: Any = None
        self._device = "cpu"
        self._sample_rate = 0
        self._speaking_rate = 1.0
        self._multi_speaker = False
        self._voices: dict[str, int] = {}

    @property
    def served_names(self) -> list[str]:
        return list(dict.fromkeys([self.public_model_id, *self.settings.tts_model_aliases, self.key]))

    @property
    def sample_rate(self) -> int:
        return self._sample_rate

    def voices(self) -> list[str]:
        return list(self._voices)

    def default_devices(self, gpu_count: int) -> list[str]:
        return self.select_devices([self.settings.tts_gpu_device_id]) if gpu_count else ["cpu"]

    # --- lifecycle --------------------------------------------------------------------------------
    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        return await asyncio.to_thread(self._restore, path, devices[0])

    def _restore(self, path: Path, device: str) -> dict[str, Any]:
        import torch
        from transformers import AutoTokenizer, VitsModel
        from transformers.utils.import_utils import is_phonemizer_available

        model = VitsModel.from_pretrained(path).eval()
        model.to(torch.device(device))
        tokenizer = AutoTokenizer.from_pretrained(path)
        if getattr(tokenizer, "phonemize", False) and not is_phonemizer_available():
            raise RuntimeError(
                "this checkpoint's tokenizer phonemizes its input: install the `phonemizer` package and espeak-ng"
            )
        config = model.config
        voices = voice_table(int(config.num_speakers), self.settings.tts_voices)
        self.model, self.tokenizer, self._device = model, tokenizer, device
        self._sample_rate = int(config.sampling_rate)
        self._speaking_rate = float(config.speaking_rate or 1.0)
        self._multi_speaker = int(config.num_speakers) > 1
        self._voices = voices
        return {
            "path": str(path),
            "model_class": type(model).__name__,
            "sample_rate": self._sample_rate,
            "speakers": max(1, int(config.num_speakers)),
            "voices": len(voices),
            "uroman": bool(getattr(tokenizer, "is_uroman", False)),
            "device": device,
            "dtype": "float32",
        }

    async def _unload(self) -> None:
        # The base class collects garbage and empties the CUDA cache afterwards.
        self.model = self.tokenizer = None
        self._voices = {}

    # --- inference --------------------------------------------------------------------------------
    def speaker(self, voice: str) -> int:
        """The speaker id of `voice`; a 400 listing the valid voices for any other name."""
        try:
            return self._voices[voice]
        except KeyError:
            raise InvalidRequestError(
                f"voice '{voice}' is not available for {self.public_model_id}; use one of {', '.join(self._voices)}",
                param="voice",
            ) from None

    def synthesize(self, texts: list[str], options: SynthesisOptions) -> list[np.ndarray]:
        """Mono float32 audio at `sample_rate` for each text, in one forward pass (blocking: run on a thread).
        A text with nothing the tokenizer can spell (characters outside the checkpoint's alphabet) gives no
        samples."""
        import numpy as np
        import torch

        model, tokenizer = self.model, self.tokenizer
        if model is None or tokenizer is None:
            raise self.unavailable_error()
        speaker = self.speaker(options.voice)
        encoded = [tokenizer(text)["input_ids"] for text in texts]
        spoken = [i for i, ids in enumerate(encoded) if ids]
        audios = [np.zeros(0, dtype=np.float32) for _ in texts]
        if not spoken:
            return audios
        batch = tokenizer.pad({"input_ids": [encoded[i] for i in spoken]}, return_tensors="pt")
        device = torch.device(self._device)
        with torch.inference_mode():
            output = model(
                input_ids=batch["input_ids"].to(device),
                attention_mask=batch["attention_mask"].to(device),
                speaker_id=speaker if self._multi_speaker else None,
                speaking_rate=self._speaking_rate * options.speed,
            )
        waveforms = output.waveform.float().cpu().numpy()
        lengths = output.sequence_lengths.cpu().numpy()
        for row, index in enumerate(spoken):
            audios[index] = np.ascontiguousarray(waveforms[row, : int(lengths[row])], dtype=np.float32)
        return audios
