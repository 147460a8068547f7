"""Tiny random-weight models built offline, loaded by the gateway's real loading code."""

from __future__ import annotations

from pathlib import Path
from typing import Any

# Qwen3's chat format, written for these tests and the benchmarks: a system turn (the tool list when
# tools are given), user turns, assistant turns with their reasoning in <think> after the last user
# query and tool calls in <tool_call>, tool results grouped in one user turn, and `enable_thinking=false`
# opening an empty <think> block, as Qwen3's own template does.
QWEN3_CHAT_TEMPLATE = """\
{%- if tools %}
{{- '<|im_start|>system\\n' }}
{%- if messages[0].role == 'system' %}{{- messages[0].content + '\\n\\n' }}{%- endif %}
{{- '# Tools\\n\\nYou may call one or more functions to assist with the user query.\\n\\n' }}
{{- 'You are provided with function signatures within <tools></tools> XML tags:\\n<tools>' }}
{%- for tool in tools %}{{- '\\n' + (tool | tojson) }}{%- endfor %}
{{- '\\n</tools>\\n\\nFor each function call, return a json object with function name and arguments within ' }}
{{- '<tool_call></tool_call> XML tags:\\n<tool_call>\\n{"name": <function-name>, "arguments": <args-json-object>}' }}
{{- '\\n</tool_call><|im_end|>\\n' }}
{%- elif messages[0].role == 'system' %}
{{- '<|im_start|>system\\n' + messages[0].content + '<|im_end|>\\n' }}
{%- endif %}
{%- set ns = namespace(multi_step_tool=true, last_query_index=messages|length - 1) %}
{%- for message in messages[::-1] %}
{%- set index = (messages|length - 1) - loop.index0 %}
{%- if ns.multi_step_tool and message.role == 'user' and message.content is string
      and not (message.content.startswith('<tool_response>') and message.content.endswith('</tool_response>')) %}
{%- set ns.multi_step_tool = false %}
{%- set ns.last_query_index = index %}
{%- endif %}
{%- endfor %}
{%- for message in messages %}
{%- set content = message.content if message.content is string else '' %}
{%- if message.role == 'user' or (message.role == 'system' and not loop.first) %}
{{- '<|im_start|>' + message.role + '\\n' + content + '<|im_end|>\\n' }}
{%- elif message.role == 'assistant' %}
{%- set reasoning_content = '' %}
{%- if message.reasoning_content is string %}
{%- set reasoning_content = message.reasoning_content %}
{%- elif '</think>' in content %}
{%- set reasoning_content = content.split('</think>')[0].rstrip('\\n').split('<think>')[-1].lstrip('\\n') %}
{%- set content = content.split('</think>')[-1].lstrip('\\n') %}
{%- endif %}
{%- if loop.index0 > ns.last_query_index and (loop.last or reasoning_content) %}
{{- '<|im_start|>assistant\\n<think>\\n' + reasoning_content.strip('\\n') + '\\n</think>\\n\\n' }}
{{- content.lstrip('\\n') }}
{%- else %}
{{- '<|im_start|>assistant\\n' + content }}
{%- endif %}
{%- for tool_call in message.tool_calls or [] %}
{%- if content or not loop.first %}{{- '\\n' }}{%- endif %}
{%- set call = tool_call.function if tool_call.function else tool_call %}
{{- '<tool_call>\\n{"name": "' + call.name + '", "arguments": ' }}
{{- call.arguments if call.arguments is string else (call.arguments | tojson) }}
{{- '}\\n</tool_call>' }}
{%- endfor %}
{{- '<|im_end|>\\n' }}
{%- elif message.role == 'tool' %}
{%- if loop.first or messages[loop.index0 - 1].role != 'tool' %}{{- '<|im_start|>user' }}{%- endif %}
{{- '\\n<tool_response>\\n' + content + '\\n</tool_response>' }}
{%- if loop.last or messages[loop.index0 + 1].role != 'tool' %}{{- '<|im_end|>\\n' }}{%- endif %}
{%- endif %}
{%- endfor %}
{%- if add_generation_prompt %}
{{- '<|im_start|>assistant\\n' }}
{%- if enable_thinking is defined and enable_thinking is false %}{{- '<think>\\n\\n</think>\\n\\n' }}{%- endif %}
{%- endif %}
"""
SPECIAL_TOKENS = ["<|endoftext|>", "<|im_start|>", "<|im_end|>"]
CORPUS = [
    "Hello! How can I help you today?",
    "The quick brown fox jumps over the lazy dog.",
    "Bonjour, comment allez-vous ? Très bien, merci.",
    "GPUs serve large language models; gateways route requests to them.",
    "Speech recognition turns audio into text, diarization says who spoke when.",
    "0123456789 + - * / = ( ) [ ] { } < > | : ; , . ! ? ' \" é è à ç ü ß 你好",
]


def build_tiny_qwen(
    directory: Path, max_position_embeddings: int = 4096, chat_template: str = QWEN3_CHAT_TEMPLATE
) -> Path:
    """A 2-layer Qwen3 with a byte-level BPE tokenizer and a Qwen3-style chat template (~400 KB)."""
    import torch
    from tokenizers import Tokenizer, decoders, models, pre_tokenizers, trainers
    from transformers import GenerationConfig, PreTrainedTokenizerFast, Qwen3Config, Qwen3ForCausalLM

    directory.mkdir(parents=True, exist_ok=True)
    bpe = Tokenizer(models.BPE())
    bpe.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    bpe.decoder = decoders.ByteLevel()
    trainer = trainers.BpeTrainer(
        vocab_size=400, special_tokens=SPECIAL_TOKENS, initial_alphabet=pre_tokenizers.ByteLevel.alphabet()
    )
    bpe.train_from_iterator(CORPUS * 4, trainer=trainer)
    tokenizer = PreTrainedTokenizerFast(
        tokenizer_object=bpe, eos_token="<|im_end|>", pad_token="<|endoftext|>", bos_token=None
    )
    tokenizer.chat_template = chat_template
    tokenizer.save_pretrained(directory)

    eos = tokenizer.convert_tokens_to_ids("<|im_end|>")
    pad = tokenizer.convert_tokens_to_ids("<|endoftext|>")
    config = Qwen3Config(
        vocab_size=len(tokenizer),
        hidden_size=64,
        intermediate_size=128,
        num_hidden_layers=2,
        num_attention_heads=4,
        num_key_value_heads=2,
        head_dim=16,
        max_position_embeddings=max_position_embeddings,
        eos_token_id=eos,
        pad_token_id=pad,
        bos_token_id=None,
        tie_word_embeddings=True,
    )
    torch.manual_seed(0)
    model = Qwen3ForCausalLM(config)
    model.generation_config = GenerationConfig(eos_token_id=eos, pad_token_id=pad)
    model.save_pretrained(directory)
    return directory


ASR_LANGUAGES = ["en", "de", "fr", "es"]
ASR_CORPUS = {
    "en": "the quick brown fox jumps over the lazy dog while speech recognition turns audio into text",
    "de": "der schnelle braune fuchs springt über den faulen hund und die spracherkennung schreibt text",
    "fr": "le renard brun rapide saute par dessus le chien paresseux et la reconnaissance vocale écrit",
    "es": "el rápido zorro marrón salta sobre el perro perezoso y el reconocimiento de voz escribe texto",
}
# Every prompt slot value of NeMo's canary2 format (`nemo.collections.common.prompts.canary2`).
CANARY2_PROMPT_TOKENS = [
    "<|startofcontext|>",
    "<|emo:undefined|>",
    "<|emo:neutral|>",
    "<|emo:angry|>",
    "<|emo:happy|>",
    "<|emo:sad|>",
    "<|itn|>",
    "<|noitn|>",
    "<|timestamp|>",
    "<|notimestamp|>",
    "<|diarize|>",
    "<|nodiarize|>",
]

CANARY2_PROMPT_DEFAULTS = [
    {
        "role": "user",
        "slots": {
            "decodercontext": "",
            "emotion": "<|emo:undefined|>",
            "source_lang": "en",
            "target_lang": "en",
            "pnc": "yes",
            "itn": "no",
            "timestamp": "no",
            "diarize": "no",
        },
    }
]


def _tiny_bpe(directory: Path, text: str, vocab_size: int) -> Path:
    from nemo.collections.common.tokenizers.sentencepiece_tokenizer import create_spt_model

    directory.mkdir(parents=True, exist_ok=True)
    corpus = directory / "corpus.txt"
    corpus.write_text("\n".join([text, *text.split()]) + "\n", encoding="utf-8")
    create_spt_model(
        str(corpus),
        vocab_size=vocab_size,
        sample_size=-1,
        do_lower_case=False,
        tokenizer_type="bpe",
        output_dir=str(directory),
    )
    return directory


def _asr_front_end(d_model: int) -> dict:
    """Mel features + a 1-layer Conformer, the layout of Canary and Parakeet with toy sizes."""
    preprocessor = {
        "_target_": "nemo.collections.asr.modules.AudioToMelSpectrogramPreprocessor",
        "sample_rate": 16000,
        "window_size": 0.025,
        "window_stride": 0.01,
        "features": 32,
        "dither": 0.0,
    }
    encoder = {
        "_target_": "nemo.collections.asr.modules.ConformerEncoder",
        "feat_in": 32,
        "n_layers": 1,
        "d_model": d_model,
        "subsampling": "dw_striding",
        "subsampling_factor": 4,
        "subsampling_conv_channels": 16,
        "ff_expansion_factor": 2,
        "self_attention_model": "rel_pos",
        "n_heads": 2,
        "conv_kernel_size": 9,
    }
    return {"sample_rate": 16000, "preprocessor": preprocessor, "encoder": encoder}


def build_tiny_canary(directory: Path, with_prompt_defaults: bool = True) -> Path:
    """A Canary-2-style `EncDecMultiTaskModel` (canary2 prompt, en/de/fr/es) with random weights (~1.5 MB).

    `with_prompt_defaults=False` leaves the prompt slots without defaults, as some exported models do.
    """
    import torch
    from nemo.collections.asr.models import EncDecMultiTaskModel
    from nemo.collections.asr.parts.submodules.multitask_decoding import MultiTaskDecodingConfig
    from nemo.collections.common.tokenizers import CanaryTokenizer
    from nemo.utils.app_state import AppState
    from omegaconf import DictConfig, OmegaConf

    directory.mkdir(parents=True, exist_ok=True)
    CanaryTokenizer.build_special_tokenizer(
        CANARY2_PROMPT_TOKENS + ASR_LANGUAGES, directory / "spl_tokens", force_rebuild=True
    )
    langs = {"spl_tokens": {"dir": str(directory / "spl_tokens"), "type": "bpe"}}
    for lang in ASR_LANGUAGES:
        langs[lang] = {"dir": str(_tiny_bpe(directory / f"bpe_{lang}", ASR_CORPUS[lang], 64)), "type": "bpe"}
    hidden = 32
    cfg = {
        **_asr_front_end(hidden),
        "prompt_format": "canary2",
        "prompt_defaults": CANARY2_PROMPT_DEFAULTS if with_prompt_defaults else None,
        "model_defaults": {"asr_enc_hidden": hidden, "lm_enc_hidden": hidden, "lm_dec_hidden": hidden},
        "tokenizer": {
            "dir": None,
            "type": "agg",
            "langs": langs,
            "custom_tokenizer": {
                "_target_": "nemo.collections.common.tokenizers.canary_tokenizer.CanaryTokenizer",
                "tokenizers": None,
            },
        },
        "transf_decoder": {
            "_target_": "nemo.collections.asr.modules.transformer.get_nemo_transformer",
            "model_name": None,
            "pretrained": False,
            "encoder": None,
            "pre_ln_final_layer_norm": True,
            "config_dict": {
                "max_sequence_length": 128,
                "num_token_types": 0,
                "hidden_size": hidden,
                "inner_size": 2 * hidden,
                "num_layers": 1,
                "num_attention_heads": 2,
                "pre_ln": True,
                "vocab_size": None,
            },
        },
        "head": {
            "_target_": "nemo.collections.asr.parts.submodules.token_classifier.TokenClassifier",
            "num_layers": 1,
            "activation": "relu",
            "log_softmax": True,
            "hidden_size": hidden,
            "num_classes": None,
        },
        # Random weights rarely emit EOS: cap generation so a test decode stays short.
        "decoding": OmegaConf.merge(
            OmegaConf.structured(MultiTaskDecodingConfig), {"strategy": "greedy", "greedy": {"max_generation_delta": 8}}
        ),
        "loss": {
            "_target_": "nemo.collections.common.losses.smoothed_cross_entropy.SmoothedCrossEntropyLoss",
            "label_smoothing": 0.0,
        },
    }
    torch.manual_seed(0)
    # NeMo remembers the last restored .nemo process-wide, and a multitask model built from a config
    # would then look for a timestamp aligner in it: forget it (only matters after a restore).
    AppState().model_restore_path = None
    model = EncDecMultiTaskModel(cfg=DictConfig(cfg))
    path = directory / "tiny-canary.nemo"
    model.save_to(str(path))
    return path


def build_tiny_ctc(directory: Path) -> Path:
    """A Conformer-CTC `EncDecCTCModelBPE` (the Parakeet-CTC family) with random weights."""
    import torch
    from nemo.collections.asr.models import EncDecCTCModelBPE
    from omegaconf import DictConfig

    directory.mkdir(parents=True, exist_ok=True)
    tokenizer_dir = _tiny_bpe(directory / "bpe_en", ASR_CORPUS["en"], 64)
    hidden = 32
    cfg = {
        **_asr_front_end(hidden),
        "tokenizer": {"dir": str(tokenizer_dir), "type": "bpe"},
        "decoder": {
            "_target_": "nemo.collections.asr.modules.ConvASRDecoder",
            "feat_in": hidden,
            "num_classes": -1,
            "vocabulary": [],
        },
        "decoding": {"strategy": "greedy_batch"},
        # transcribe() reads `validation_ds.use_start_end_token`; defer_setup: there is no validation data.
        "validation_ds": {"use_start_end_token": False, "defer_setup": True},
    }
    torch.manual_seed(0)
    model = EncDecCTCModelBPE(cfg=DictConfig(cfg))
    path = directory / "tiny-ctc.nemo"
    model.save_to(str(path))
    return path


def save_pyannote_checkpoint(model: Any, path: Path) -> Path:
    """A pyannote `Model` as the Lightning-style `pytorch_model.bin` that `Model.from_pretrained` reads."""
    import lightning
    import torch

    path.parent.mkdir(parents=True, exist_ok=True)
    checkpoint = {
        "state_dict": model.state_dict(),
        "hyper_parameters": dict(model.hparams),
        "pytorch-lightning_version": lightning.__version__,
    }
    model.on_save_checkpoint(checkpoint)  # records pyannote's version, the class and its specifications
    torch.save(checkpoint, path)
    return path


def write_pyannote_pipeline(
    directory: Path,
    segmentation: Any,
    embedding: Any,
    plda_dimension: int,
    segmentation_step: float = 0.1,
    batch_size: int = 1,
    seed: int = 0,
) -> Path:
    """A pyannote 4 `SpeakerDiarization` folder (VBx clustering) laid out like the Hub's community-1:
    `config.yaml` with `$model/...` references, `segmentation/`, `embedding/` and a random PLDA in `plda/`."""
    import numpy as np
    import yaml

    directory.mkdir(parents=True, exist_ok=True)
    save_pyannote_checkpoint(segmentation, directory / "segmentation" / "pytorch_model.bin")
    save_pyannote_checkpoint(embedding, directory / "embedding" / "pytorch_model.bin")

    rng = np.random.default_rng(seed)
    dimension = embedding.dimension
    plda = directory / "plda"
    plda.mkdir(exist_ok=True)
    np.savez(
        plda / "xvec_transform.npz",
        mean1=rng.normal(0.0, 0.1, dimension),
        mean2=np.zeros(plda_dimension),
        lda=rng.normal(0.0, 1.0, (dimension, plda_dimension)),
    )
    orthogonal, _ = np.linalg.qr(rng.normal(size=(plda_dimension, plda_dimension)))
    np.savez(
        plda / "plda.npz",
        mu=np.zeros(plda_dimension),
        tr=orthogonal,
        psi=np.linspace(10.0, 0.5, plda_dimension),
    )
    config = {
        "dependencies": {"pyannote.audio": "4.0.0"},
        "pipeline": {
            "name": "pyannote.audio.pipelines.SpeakerDiarization",
            "params": {
                "segmentation": "$model/segmentation",
                "segmentation_step": segmentation_step,
                "embedding": "$model/embedding",
                "plda": "$model/plda",
                "clustering": "VBxClustering",
                "embedding_exclude_overlap": True,
                "segmentation_batch_size": batch_size,
                "embedding_batch_size": batch_size,
            },
        },
        "params": {
            "segmentation": {"min_duration_off": 0.0},
            "clustering": {"threshold": 0.6, "Fa": 0.07, "Fb": 0.8},
        },
    }
    (directory / "config.yaml").write_text(yaml.safe_dump(config, sort_keys=False), encoding="utf-8")
    return directory


def powerset_specifications(duration: float) -> Any:
    """segmentation-3.0's task: 3 speakers per chunk, at most 2 at once (7 powerset classes), frame-wise."""
    from pyannote.audio.core.task import Problem, Resolution, Specifications

    return Specifications(
        problem=Problem.MONO_LABEL_CLASSIFICATION,
        resolution=Resolution.FRAME,
        duration=duration,
        min_duration=duration,
        warm_up=(0.0, 0.0),
        classes=["speaker#1", "speaker#2", "speaker#3"],
        powerset_max_classes=2,
        permutation_invariant=True,
    )


def embedding_specifications(duration: float) -> Any:
    from pyannote.audio.core.task import Problem, Resolution, Specifications

    return Specifications(problem=Problem.REPRESENTATION, resolution=Resolution.CHUNK, duration=duration)


def build_tiny_pyannote(directory: Path) -> Path:
    """A pyannote 4 diarization pipeline with random weights (~150 KB, built in about a second).

    Segmentation: a `PyanNet` with one small LSTM layer on 5 s windows every 2.5 s, powerset (3 speakers, at
    most 2 at once); its classifier bias favours the one-speaker classes so that random weights find speech.
    Embedding: `TinyWeSpeakerResNet` (the real fbank -> ResNet -> pooling path, one block per stage).
    """
    import torch
    from pyannote.audio.models.segmentation import PyanNet

    from tests.tiny_pyannote_models import TinyWeSpeakerResNet

    torch.manual_seed(0)
    segmentation = PyanNet(lstm={"hidden_size": 16, "num_layers": 1}, linear={"hidden_size": 16, "num_layers": 1})
    segmentation.specifications = powerset_specifications(5.0)
    segmentation.build()
    with torch.no_grad():
        segmentation.classifier.bias.copy_(torch.tensor([0.0, 2.0, 2.0, 2.0, -2.0, -2.0, -2.0]))
    embedding = TinyWeSpeakerResNet()
    embedding.specifications = embedding_specifications(5.0)
    return write_pyannote_pipeline(directory, segmentation, embedding, plda_dimension=16, segmentation_step=0.5)


LANGID_LABELS = ["de", "en", "es", "fr", "ja"]


def build_tiny_langid(directory: Path, detects: str, labels: list[str] | None = None) -> Path:
    """A spoken-language identification `EncDecSpeakerLabelModel` (the class of nvidia/langid_ambernet) with
    random weights: mel features, a 1-block `ConvASREncoder`, a `SpeakerDecoder` over `labels`.

    The decoder's output layer is set so that it always answers `detects`, whatever the audio: random
    weights would pick a label by chance, and tests need to know which one the gateway must use.
    """
    import torch
    from nemo.collections.asr.models import EncDecSpeakerLabelModel
    from omegaconf import DictConfig

    labels = labels or LANGID_LABELS
    directory.mkdir(parents=True, exist_ok=True)
    features, channels = 32, 32
    cfg = {
        "sample_rate": 16000,
        "train_ds": {"manifest_filepath": None, "sample_rate": 16000, "labels": labels, "defer_setup": True},
        "preprocessor": {**_asr_front_end(channels)["preprocessor"], "features": features},
        "encoder": {
            "_target_": "nemo.collections.asr.modules.ConvASREncoder",
            "feat_in": features,
            "activation": "relu",
            "conv_mask": True,
            "jasper": [
                {
                    "filters": channels,
                    "repeat": 1,
                    "kernel": [3],
                    "stride": [1],
                    "dilation": [1],
                    "dropout": 0.0,
                    "residual": False,
                    "separable": False,
                }
            ],
        },
        "decoder": {
            "_target_": "nemo.collections.asr.modules.SpeakerDecoder",
            "feat_in": channels,
            "num_classes": len(labels),
            "pool_mode": "xvector",
            "emb_sizes": [16],
        },
    }
    torch.manual_seed(0)
    model = EncDecSpeakerLabelModel(cfg=DictConfig(cfg))
    with torch.no_grad():
        model.decoder.final.weight.zero_()
        model.decoder.final.bias.copy_(torch.tensor([5.0 if label == detects else 0.0 for label in labels]))
    path = directory / "tiny-langid.nemo"
    model.save_to(str(path))
    return path
