"""Multi-scale STFT discriminator (EnCodec-style) and the adversarial losses of the codec.

Each scale takes the complex STFT of the waveform at one resolution, stacks real and imaginary
parts of every audio channel as image channels `[B, 2C, frames, F]`, and runs a stack of 2D
convolutions (dilated along time, strided along frequency) down to one logit map. The
intermediate activations are returned for the feature-matching loss.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Self

import torch
from torch import nn
from torch.nn.utils.parametrizations import weight_norm

from renderer.modeling import PretrainedModel


@dataclass(frozen=True)
class DiscriminatorConfig:
    """Shape of a `MultiScaleStftDiscriminator`.

    Attributes:
        audio_channels: 1 (mono) or 2 (stereo).
        fft_sizes: one STFT resolution per scale (hop = a quarter of the FFT size).
        channels: width of every 2D convolution.
        num_layers: dilated, frequency-strided convolutions per scale (dilations 1, 2, 4, ...).
        negative_slope: LeakyReLU slope.
    """

    audio_channels: int = 1
    fft_sizes: tuple[int, ...] = (2048, 1024, 512, 256, 128)
    channels: int = 32
    num_layers: int = 3
    negative_slope: float = 0.2

    def __post_init__(self) -> None:
        if self.audio_channels not in (1, 2):
            raise ValueError(f"audio_channels must be 1 or 2, got {self.audio_channels}")
        if not self.fft_sizes or min(self.fft_sizes) < 8:
            raise ValueError(f"fft_sizes must be non-empty and >= 8, got {self.fft_sizes}")
        if self.channels < 1 or self.num_layers < 1:
            raise ValueError("channels and num_layers must be positive")

    @classmethod
    def tiny(cls) -> Self:
        """A test-sized discriminator: 2 scales, 2 layers, width 8."""
        return cls(fft_sizes=(128, 64), channels=8, num_layers=2)


@dataclass
class DiscriminatorOutput:
    """What the discriminator says about a batch of waveforms.

    Attributes:
        logits: one `[B, 1, frames', F']` map per scale.
        features: per scale, the activations after every hidden layer (`[B, channels, *, *]`).
    """

    logits: list[torch.Tensor]
    features: list[list[torch.Tensor]]


class _StftScale(nn.Module):
    """One resolution of the discriminator."""

    def __init__(self, config: DiscriminatorConfig, n_fft: int) -> None:
        super().__init__()
        self.n_fft = n_fft
        self.hop_length = n_fft // 4
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)
        width = config.channels
        layers = [_conv(2 * config.audio_channels, width, (3, 9), dilation=(1, 1), stride=(1, 1))]
        for i in range(config.num_layers):
            layers.append(_conv(width, width, (3, 9), dilation=(2**i, 1), stride=(1, 2)))
        layers.append(_conv(width, width, (3, 3), dilation=(1, 1), stride=(1, 1)))
        self.layers = nn.ModuleList(layers)
        self.activation = nn.LeakyReLU(config.negative_slope)
        self.output = _conv(width, 1, (3, 3), dilation=(1, 1), stride=(1, 1))

    def spectrogram(self, wav: torch.Tensor) -> torch.Tensor:
        """`[B, C, S]` audio -> `[B, 2C, frames, F]` real and imaginary STFT parts."""
        B, C, S = wav.shape
        window: torch.Tensor = self.window  # type: ignore[assignment]
        spec = torch.stft(
            wav.reshape(B * C, S),
            n_fft=self.n_fft,
            hop_length=self.hop_length,
            window=window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )  # [B * C, F, frames]
        parts = torch.view_as_real(spec)  # [B * C, F, frames, 2]
        parts = parts.reshape(B, C, *parts.shape[1:]).permute(0, 1, 4, 3, 2)  # [B, C, 2, frames, F]
        return parts.reshape(B, 2 * C, parts.shape[3], parts.shape[4])

    def forward(self, wav: torch.Tensor) -> tuple[torch.Tensor, list[torch.Tensor]]:
        """`[B, C, S]` audio -> (logits `[B, 1, frames, F']`, hidden activations)."""
        hidden = self.spectrogram(wav)
        features = []
        for layer in self.layers:
            hidden = self.activation(layer(hidden))
            features.append(hidden)
        return self.output(hidden), features


def _conv(
    in_channels: int,
    out_channels: int,
    kernel: tuple[int, int],
    dilation: tuple[int, int],
    stride: tuple[int, int],
) -> nn.Module:
    """A weight-normalised 2D convolution that keeps the size ('same' padding) unless strided."""
    padding = (dilation[0] * (kernel[0] - 1) // 2, dilation[1] * (kernel[1] - 1) // 2)
    conv = nn.Conv2d(
        in_channels, out_channels, kernel, stride=stride, dilation=dilation, padding=padding
    )
    return weight_norm(conv)


class MultiScaleStftDiscriminator(nn.Module, PretrainedModel):
    """Judges real vs. reconstructed audio from complex STFTs at several resolutions."""

    config_class = DiscriminatorConfig

    def __init__(self, config: DiscriminatorConfig) -> None:
        super().__init__()
        self.config = config
        self.scales = nn.ModuleList(_StftScale(config, n_fft) for n_fft in config.fft_sizes)

    def forward(self, wav: torch.Tensor) -> DiscriminatorOutput:
        """Score a batch of waveforms.

        Args:
            wav: `[B, C, S]` audio.

        Returns:
            The per-scale logits and hidden features.
        """
        if wav.dim() != 3 or wav.shape[1] != self.config.audio_channels:
            raise ValueError(
                f"audio must be [batch, {self.config.audio_channels} channel(s), samples], "
                f"got {tuple(wav.shape)}"
            )
        logits, features = [], []
        for scale in self.scales:
            scale_logits, scale_features = scale(wav)
            logits.append(scale_logits)
            features.append(scale_features)
        return DiscriminatorOutput(logits=logits, features=features)


def discriminator_loss(
    real_logits: list[torch.Tensor], fake_logits: list[torch.Tensor]
) -> torch.Tensor:
    """Hinge loss of the discriminator, averaged over scales.

    Args:
        real_logits: per scale `[B, 1, *, *]` logits on real audio.
        fake_logits: per scale logits on reconstructed audio (detach it from the generator).

    Returns:
        `mean(relu(1 - real)) + mean(relu(1 + fake))` averaged over scales (a scalar).
    """
    if len(real_logits) != len(fake_logits) or not real_logits:
        raise ValueError("real_logits and fake_logits must be non-empty lists of the same length")
    total = real_logits[0].new_zeros(())
    for real, fake in zip(real_logits, fake_logits, strict=True):
        total = total + torch.relu(1.0 - real).mean() + torch.relu(1.0 + fake).mean()
    return total / len(real_logits)


def generator_adversarial_loss(fake_logits: list[torch.Tensor]) -> torch.Tensor:
    """Hinge loss of the generator: `mean(relu(1 - fake))` averaged over scales (a scalar)."""
    if not fake_logits:
        raise ValueError("fake_logits must not be empty")
    total = fake_logits[0].new_zeros(())
    for fake in fake_logits:
        total = total + torch.relu(1.0 - fake).mean()
    return total / len(fake_logits)


def feature_matching_loss(
    real_features: list[list[torch.Tensor]], fake_features: list[list[torch.Tensor]]
) -> torch.Tensor:
    """Relative L1 between the discriminator's activations on real and reconstructed audio.

    Each layer contributes `mean|fake - real| / mean|real|` (real activations are detached), and
    the result is averaged over all layers of all scales (a scalar, zero when they are equal).
    """
    pairs = [
        (real, fake)
        for real_scale, fake_scale in zip(real_features, fake_features, strict=True)
        for real, fake in zip(real_scale, fake_scale, strict=True)
    ]
    if not pairs:
        raise ValueError("no features to match")
    total = pairs[0][1].new_zeros(())
    for real, fake in pairs:
        real = real.detach()
        total = total + (fake - real).abs().mean() / (real.abs().mean() + 1e-8)
    return total / len(pairs)
