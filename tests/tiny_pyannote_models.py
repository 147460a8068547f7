"""A small WeSpeaker ResNet for the tiny pyannote pipeline.

pyannote checkpoints record the module and class of their model and import them when loading, so the
class lives here (an importable module) rather than in the builder or a script's `__main__`.
"""

from __future__ import annotations

from pyannote.audio.core.task import Task
from pyannote.audio.models.embedding.wespeaker import BaseWeSpeakerResNet
from pyannote.audio.models.embedding.wespeaker.resnet import BasicBlock, ResNet


class TinyWeSpeakerResNet(BaseWeSpeakerResNet):
    """WeSpeaker's fbank -> ResNet -> statistics pooling path, one block per stage and few channels."""

    def __init__(
        self,
        sample_rate: int = 16000,
        num_channels: int = 1,
        num_mel_bins: int = 40,
        frame_length: int = 25,
        frame_shift: int = 10,
        dither: float = 0.0,
        window_type: str = "hamming",
        use_energy: bool = False,
        channels: int = 8,
        dimension: int = 32,
        task: Task | None = None,
    ) -> None:
        super().__init__(
            sample_rate=sample_rate,
            num_channels=num_channels,
            num_mel_bins=num_mel_bins,
            frame_length=frame_length,
            frame_shift=frame_shift,
            dither=dither,
            window_type=window_type,
            use_energy=use_energy,
            task=task,
        )
        self.save_hyperparameters("channels", "dimension")
        self.resnet = ResNet(
            BasicBlock,
            [1, 1, 1, 1],
            m_channels=channels,
            feat_dim=num_mel_bins,
            embed_dim=dimension,
            pooling_func="TSTP",
            two_emb_layer=False,
        )
