"""The translation slot: NLLB-200 and M2M100 sequence-to-sequence models through transformers.

NLLB-200 (`facebook/nllb-200-distilled-600M` and its fine-tunes, such as BurkimbIA's French-Mooré
`burkimbia/BIA-NLLB-600M-5E`) is an M2M100 architecture whose tokenizer carries one token per language,
FLORES-200 style (`fra_Latn`), plus whatever a fine-tune added (`moor_Latn`). The source language is a
token the tokenizer puts before the text (`tokenizer.src_lang`); the target language is forced as the
first generated token (`forced_bos_token_id`). M2M100 checkpoints (`facebook/m2m100_418M`) name their
languages `fr`, `en` (tokens `__fr__`) and are served the same way.

One generate call per batch of sentences with the same options (`services.translation` batches them
across requests); a batch runs on a worker thread, one at a time per model (the tokenizer's source
language is state of the tokenizer).
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from app.config import Settings
from app.models.base import describe_error
from app.models.roles import TranslationWrapper
from app.models.types import TranslateOptions, Translation

TRANSLATION_ALLOW_PATTERNS = ["*.json", "*.safetensors", "*.bin", "*.model", "*.txt"]
"""facebook/nllb-200-distilled-600M's main revision has `pytorch_model.bin` only; fine-tunes saved by recent
transformers have `model.safetensors`."""
DEFAULT_MAX_NEW_TOKENS = 256
"""Tokens generated per sentence when the options name no limit (the service always names one)."""
LANGUAGE_TOKEN = re.compile(r"^[a-z]{2,8}_[A-Z][a-z]{3}$")
"""A FLORES-200 language token (`fra_Latn`, `zho_Hans`), or a fine-tune's own in that style (`moor_Latn`)."""


class NllbTranslationModel(TranslationWrapper):
    one_gpu = "a translation model"
    settings_prefix = "TRANSLATION"
    device_setting = "TRANSLATION_GPU_DEVICE_ID"

    def __init__(self, settings: Settings, token_provider: Callable[[], str | None], key: str = "translation") -> None:
        super().__init__(
            key=key,
            model_id=settings.translation_model_id,
            cache_dir=settings.model_cache_dir,
            token_provider=token_provider,
            revision=settings.translation_revision,
            allow_patterns=TRANSLATION_ALLOW_PATTERNS,
            hub_endpoint=settings.hf_endpoint,
        )
        self.settings = settings
        self.model: Any = None
        self.tokenizer: Any = None
        self._device = "cpu"
        self._codes: dict[str, int] = {}
        """Each language code the model knows -> the id of its token (forced as the first generated token)."""
        self._m2m_style = False
        """M2M100's tokenizer: codes `fr`, tokens `__fr__`, set with `src_lang` too."""
        self._max_source_tokens = 1024

    @property
    def served_names(self) -> list[str]:
        return list(dict.fromkeys([self.public_model_id, *self.settings.translation_model_aliases, self.key]))

    def default_devices(self, gpu_count: int) -> list[str]:
        return self.select_devices([self.settings.translation_gpu_device_id]) if gpu_count else ["cpu"]

    # --- lifecycle --------------------------------------------------------------------------------
    async def _load(self, path: Path, devices: list[str]) -> dict[str, Any]:
        return await asyncio.to_thread(self._load_blocking, path, devices[0])

    def _load_blocking(self, path: Path, device: str) -> dict[str, Any]:
        try:
            import torch
            from transformers import AutoModelForSeq2SeqLM, AutoTokenizer
        except ImportError as exc:
            raise RuntimeError(f"transformers is not installed ({exc}); install the gateway's `cpu` extra") from exc

        if not (path / "config.json").is_file():
            present = sorted(p.name for p in path.iterdir())[:10] if path.is_dir() else []
            raise FileNotFoundError(
                f"{path.name} is not a transformers checkpoint folder: config.json is missing "
                f"(it holds {', '.join(present) or 'nothing'})"
            )
        dtype = self._dtype(torch, device)
        try:
            tokenizer = AutoTokenizer.from_pretrained(str(path))
            model = AutoModelForSeq2SeqLM.from_pretrained(str(path), dtype=dtype)
        except Exception as exc:
            raise RuntimeError(f"transformers could not load {path.name}: {describe_error(exc)}") from exc
        if not getattr(model.config, "is_encoder_decoder", False):
            raise TypeError(f"{path.name} holds a {type(model).__name__}, not a sequence-to-sequence model")
        codes, m2m_style = language_tokens(tokenizer)
        if not codes:
            raise ValueError(
                f"the tokenizer of {path.name} ({type(tokenizer).__name__}) carries no language tokens "
                "(such as fra_Latn): it is not an NLLB or M2M100 checkpoint"
            )
        model.to(device)
        model.eval()
        self.model, self.tokenizer, self._device = model, tokenizer, device
        self._codes, self._m2m_style = codes, m2m_style
        self._max_source_tokens = int(getattr(model.config, "max_position_embeddings", 1024) or 1024)
        return {
            "path": str(path),
            "model_class": type(model).__name__,
            "tokenizer_class": type(tokenizer).__name__,
            "languages": len(codes),
            "device": device,
            "dtype": str(dtype).removeprefix("torch."),
        }

    def _dtype(self, torch: Any, device: str) -> Any:
        wanted = self.settings.translation_dtype
        if wanted == "auto":
            return torch.float16 if device.startswith("cuda") else torch.float32
        return getattr(torch, wanted)

    async def _unload(self) -> None:
        # The base class collects garbage and empties the CUDA cache afterwards.
        self.model = None
        self.tokenizer = None
        self._codes = {}

    # --- inference --------------------------------------------------------------------------------
    def language_codes(self) -> list[str]:
        return sorted(self._codes)

    def translate_batch(self, texts: list[str], options: TranslateOptions) -> list[Translation]:
        """Translate `texts` (sentences) in one generate call (blocking: run it on a thread, one at a time)."""
        import torch

        model, tokenizer = self.model, self.tokenizer
        if model is None or tokenizer is None:
            raise self.unavailable_error()
        if not texts:
            return []
        for code in (options.src_lang, options.tgt_lang):
            if code not in self._codes:
                raise ValueError(f"language {code!r} is not one of the model's codes")
        tokenizer.src_lang = options.src_lang
        inputs = tokenizer(
            texts, return_tensors="pt", padding=True, truncation=True, max_length=self._max_source_tokens
        ).to(self._device)
        max_new_tokens = options.max_new_tokens or DEFAULT_MAX_NEW_TOKENS
        with torch.inference_mode():
            generated = model.generate(
                **inputs,
                forced_bos_token_id=self._codes[options.tgt_lang],
                num_beams=options.beam_size,
                do_sample=False,
                max_new_tokens=max_new_tokens,
            )
        input_counts = inputs["attention_mask"].sum(dim=1).tolist()
        outputs = tokenizer.batch_decode(generated, skip_special_tokens=True)
        special = {tokenizer.pad_token_id, tokenizer.eos_token_id, model.generation_config.decoder_start_token_id}
        return [
            Translation(
                text=text.strip(),
                input_tokens=int(count),
                output_tokens=sum(1 for token in row.tolist() if token not in special),
            )
            for text, count, row in zip(outputs, input_counts, generated, strict=True)
        ]


def language_tokens(tokenizer: Any) -> tuple[dict[str, int], bool]:
    """The languages a tokenizer carries, code -> token id, and whether it is M2M100's kind: its
    `lang_code_to_id` (codes `fr`, tokens `__fr__`), else the tokens it added that look like FLORES codes."""
    m2m = getattr(tokenizer, "lang_code_to_id", None)
    if isinstance(m2m, dict) and m2m:
        return {str(code): int(token_id) for code, token_id in m2m.items()}, True
    added: dict[str, int] = tokenizer.get_added_vocab()
    return {token: token_id for token, token_id in added.items() if LANGUAGE_TOKEN.match(token)}, False
