"""A tiny random-weight VITS (MMS-TTS style: a character vocabulary, no phonemizer) built offline and loaded
by the gateway's real loading code (`VitsModel` / `AutoTokenizer.from_pretrained`). Its speech is noise:
assert formats, rates and lengths, never what it says."""

from __future__ import annotations

import json
from pathlib import Path

CHARACTERS = list("abcdefghijklmnopqrstuvwxyz0123456789 '-.,!?")
"""The checkpoint's alphabet (MMS-TTS English spells lower-case letters, digits and a little punctuation)."""
SAMPLE_RATE = 16000


def build_tiny_vits(directory: Path, num_speakers: int = 1) -> Path:
    """Write a ~150 KB VITS checkpoint and its tokenizer into `directory` (returned). The decoder upsamples
    each spectrogram frame 256 times, as MMS-TTS does, so a sentence lasts a fraction of a second."""
    from transformers import VitsConfig, VitsModel, VitsTokenizer

    directory.mkdir(parents=True, exist_ok=True)
    vocabulary = {token: index for index, token in enumerate(["_", *CHARACTERS])}
    (directory / "vocab.json").write_text(json.dumps(vocabulary), encoding="utf-8")
    tokenizer = VitsTokenizer(
        str(directory / "vocab.json"),
        pad_token="_",
        unk_token="<unk>",
        add_blank=True,
        normalize=True,
        phonemize=False,
        is_uroman=False,
    )
    config = VitsConfig(
        vocab_size=len(vocabulary) + 1,
        hidden_size=16,
        num_hidden_layers=1,
        num_attention_heads=2,
        window_size=4,
        ffn_dim=32,
        flow_size=16,
        spectrogram_bins=17,
        upsample_initial_channel=32,
        upsample_rates=[8, 8, 2, 2],
        upsample_kernel_sizes=[16, 16, 4, 4],
        resblock_kernel_sizes=[3],
        resblock_dilation_sizes=[[1, 3]],
        duration_predictor_filter_channels=16,
        depth_separable_num_layers=1,
        duration_predictor_num_flows=1,
        prior_encoder_num_flows=1,
        prior_encoder_num_wavenet_layers=1,
        posterior_encoder_num_wavenet_layers=1,
        num_speakers=num_speakers,
        speaker_embedding_size=8 if num_speakers > 1 else 0,
        sampling_rate=SAMPLE_RATE,
    )
    VitsModel(config).save_pretrained(directory)
    tokenizer.save_pretrained(directory)
    return directory
