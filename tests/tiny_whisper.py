"""A tiny random-weight Whisper with Whisper's real multilingual tokenizer, loaded by the gateway's real code.

The tokenizer is built from the BPE ranks OpenAI ships in the `openai-whisper` package
(`whisper/assets/multilingual.tiktoken`), the way transformers' `convert_openai_to_hf.py` converts them:
the ranks become a byte-level BPE (`TikTokenConverter`: vocabulary and merges, Whisper's split pattern),
then Whisper's special tokens follow with OpenAI's own ids (`whisper.tokenizer.get_encoding`):
`<|endoftext|>` 50257, `<|startoftranscript|>`, the 100 language tokens, the task and control tokens,
`<|notimestamps|>` 50364, then the 1501 timestamp tokens `<|0.00|>` ... `<|30.00|>`: large-v3's and
large-v3-turbo's vocabulary of 51866. The generation config carries what `generate` needs for languages,
tasks, timestamps and word timestamps (`lang_to_id`, `task_to_id`, `no_timestamps_token_id`,
`alignment_heads`, OpenAI's suppressed tokens), as the Hub's Whisper checkpoints do.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

NUM_LANGUAGES = 100
"""large-v3's languages (Cantonese included): vocabulary 51866."""
NUM_MEL_BINS = 16
"""The real models have 80 (128 for large-v3); few bins keep the tiny model tiny. The feature extractor's
`feature_size` must match."""


def build_whisper_tokenizer(directory: Path) -> Any:
    """A transformers `WhisperTokenizer` from OpenAI's multilingual ranks and special tokens."""
    import whisper.tokenizer as openai_tokenizer
    from tokenizers import AddedToken
    from transformers import WhisperTokenizer
    from transformers.convert_slow_tokenizer import TikTokenConverter

    encoding = openai_tokenizer.get_encoding("multilingual", num_languages=NUM_LANGUAGES)
    ranks = Path(openai_tokenizer.__file__).parent / "assets" / "multilingual.tiktoken"
    converted = TikTokenConverter(vocab_file=str(ranks), pattern=encoding._pat_str).converted()
    for name, token_id in sorted(encoding._special_tokens.items(), key=lambda item: item[1]):
        # The Hub's Whisper tokenizers add the timestamps as plain tokens, the rest as special ones.
        special = not name[2:3].isdigit()
        converted.add_tokens([AddedToken(name, special=special, normalized=not special)])
        if converted.token_to_id(name) != token_id:
            raise AssertionError(f"{name} got id {converted.token_to_id(name)}, OpenAI's is {token_id}")
    directory.mkdir(parents=True, exist_ok=True)
    converted.save(str(directory / "tokenizer.json"))
    eot = "<|endoftext|>"
    return WhisperTokenizer(
        tokenizer_file=str(directory / "tokenizer.json"), unk_token=eot, bos_token=eot, eos_token=eot, pad_token=eot
    )


def generation_config(tokenizer: Any, decoder_layers: int, decoder_heads: int) -> Any:
    """What the Hub's multilingual Whisper checkpoints carry, with this model's alignment heads (all of them)."""
    import whisper.tokenizer as openai_tokenizer
    from transformers import GenerationConfig

    openai = openai_tokenizer.get_tokenizer(True, num_languages=NUM_LANGUAGES)
    ids = tokenizer.convert_tokens_to_ids
    eot = ids("<|endoftext|>")
    return GenerationConfig(
        decoder_start_token_id=ids("<|startoftranscript|>"),
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        max_length=448,
        is_multilingual=True,
        lang_to_id={f"<|{code}|>": ids(f"<|{code}|>") for code in openai_tokenizer.LANGUAGES},
        task_to_id={"transcribe": ids("<|transcribe|>"), "translate": ids("<|translate|>")},
        no_timestamps_token_id=ids("<|notimestamps|>"),
        prev_sot_token_id=ids("<|startofprev|>"),
        max_initial_timestamp_index=50,
        begin_suppress_tokens=[ids(" "), eot],
        suppress_tokens=list(openai.non_speech_tokens),
        alignment_heads=[[layer, head] for layer in range(decoder_layers) for head in range(decoder_heads)],
        return_timestamps=False,
    )


MAX_LENGTH = 24
"""Decoder positions `generate` may fill: random weights seldom emit end-of-text, so each piece decodes up to
this cap (the real models allow 448); the prompt takes 3 or 4 of them."""


def build_tiny_whisper(directory: Path, d_model: int = 32, layers: int = 1, heads: int = 2) -> Path:
    """A Whisper folder (config, weights, generation config, tokenizer, feature extractor) with random
    weights; about 7 MB, most of it the 51866-token embedding."""
    import torch
    from transformers import WhisperConfig, WhisperFeatureExtractor, WhisperForConditionalGeneration, WhisperProcessor

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer = build_whisper_tokenizer(directory)
    eot, sot = tokenizer.convert_tokens_to_ids(["<|endoftext|>", "<|startoftranscript|>"])
    config = WhisperConfig(
        vocab_size=len(tokenizer),
        num_mel_bins=NUM_MEL_BINS,
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=heads,
        decoder_attention_heads=heads,
        encoder_ffn_dim=2 * d_model,
        decoder_ffn_dim=2 * d_model,
        max_source_positions=1500,
        max_target_positions=448,
        bos_token_id=eot,
        eos_token_id=eot,
        pad_token_id=eot,
        decoder_start_token_id=sot,
        median_filter_width=7,
    )
    torch.manual_seed(0)
    model = WhisperForConditionalGeneration(config).eval()
    model.generation_config = generation_config(tokenizer, layers, heads)
    model.generation_config.max_length = MAX_LENGTH
    model.save_pretrained(directory)
    feature_extractor = WhisperFeatureExtractor(feature_size=NUM_MEL_BINS)
    WhisperProcessor(feature_extractor=feature_extractor, tokenizer=tokenizer).save_pretrained(directory)
    return directory
