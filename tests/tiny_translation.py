"""A tiny random-weight NLLB-200 (M2M100 architecture) built offline, loaded by the gateway's real code.

The tokenizer is an `NllbTokenizer` whose subword vocabulary comes from a SentencePiece BPE model trained
here on a few sentences; it carries every FLORES-200 language token NLLB-200 has, plus `moor_Latn`, the
kind of token a fine-tune adds (BurkimbIA's French-Mooré model). Outputs are noise: tests assert shapes,
counts and flows, never text.
"""

from __future__ import annotations

import io
from pathlib import Path

CORPUS = [
    "Hello, how are you today? I am well, thank you.",
    "Bonjour, comment allez-vous ? Très bien, merci.",
    "Yaa sõma, la f yaa wẽnd n kõ. Ne y windga.",
    "The quick brown fox jumps over the lazy dog.",
    "Le renard brun saute par-dessus le chien paresseux.",
    "0123456789 é è à ç ü ß ẽ õ ĩ ũ ɛ \u0269 \u028b ! ? . , ; : ' \"",  # Mooré's iota and v with hook
]
FINE_TUNE_CODES = ["moor_Latn"]
"""Language tokens a fine-tune added to NLLB-200's (BurkimbIA's Mooré)."""


def build_tiny_translation(folder: Path, d_model: int = 16, layers: int = 1) -> Path:
    """Write a tiny NLLB checkpoint (config, safetensors weights, tokenizer.json) into `folder`; return it."""
    import sentencepiece as spm
    import torch
    from transformers import AutoModelForSeq2SeqLM, AutoTokenizer, M2M100Config, M2M100ForConditionalGeneration
    from transformers.models.nllb.tokenization_nllb import FAIRSEQ_LANGUAGE_CODES, NllbTokenizer
    from transformers.tokenization_utils_base import generate_merges

    # The subword model: a SentencePiece BPE, read through sentencepiece's own API (transformers' converter
    # needs a protobuf newer than the pinned one), laid out as NLLB's vocabulary is: <s> <pad> </s> <unk> first.
    proto = io.BytesIO()
    spm.SentencePieceTrainer.train(
        sentence_iterator=iter(CORPUS * 10),
        model_writer=proto,
        vocab_size=160,
        model_type="bpe",
        character_coverage=1.0,
        unk_id=0,
        bos_id=-1,
        eos_id=-1,
        hard_vocab_limit=False,
        minloglevel=2,
    )
    pieces = spm.SentencePieceProcessor(model_proto=proto.getvalue())
    vocab = {"<s>": 0, "<pad>": 1, "</s>": 2, "<unk>": 3}
    scores: dict[str, float] = {}
    for index in range(pieces.get_piece_size()):
        if pieces.is_unknown(index) or pieces.is_control(index):
            continue
        piece = pieces.id_to_piece(index)
        vocab.setdefault(piece, len(vocab))
        scores[piece] = pieces.get_score(index)
    tokenizer = NllbTokenizer(
        vocab=vocab,
        merges=generate_merges(vocab, scores),
        extra_special_tokens=[*FAIRSEQ_LANGUAGE_CODES, *FINE_TUNE_CODES],
    )
    tokenizer.save_pretrained(folder)

    torch.manual_seed(0)
    config = M2M100Config(
        vocab_size=len(tokenizer),
        d_model=d_model,
        encoder_layers=layers,
        decoder_layers=layers,
        encoder_attention_heads=2,
        decoder_attention_heads=2,
        encoder_ffn_dim=2 * d_model,
        decoder_ffn_dim=2 * d_model,
        max_position_embeddings=256,
        scale_embedding=True,
        pad_token_id=1,
        bos_token_id=0,
        eos_token_id=2,
        decoder_start_token_id=2,
        tokenizer_class="NllbTokenizer",
    )
    model = M2M100ForConditionalGeneration(config)
    model.save_pretrained(folder)

    # Through the real loading path, as the gateway loads it.
    AutoTokenizer.from_pretrained(folder)
    AutoModelForSeq2SeqLM.from_pretrained(folder)
    return folder
