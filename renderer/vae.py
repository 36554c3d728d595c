"""The VAE vocoder: waveform <-> low-frame-rate Gaussian latents.

Built on diffusers' `AutoencoderOobleck` (the Stable Audio autoencoder: Snake activations,
weight-normalised dilated residual units, strided convolutions). The encoder turns a waveform
`[B, C, S]` into the mean and log-variance of a diagonal Gaussian `[B, D, T]` with
`T = ceil(S / hop_length)`; the decoder turns latents `[B, D, T]` back into `[B, C, T * hop]`.

Two architectures share this class, its posterior and its checkpoint format:
- `"oobleck"`: diffusers' waveform encoder and decoder. One change to diffusers' layout:
  diffusers ties the latent width to the encoder width (`latent = encoder_hidden_size / 2`).
  Here the encoder's last convolution projects to `2 * latent_channels`, so a narrow encoder
  can still give 64-channel latents.
- `"stft"` (the reference): the same Oobleck blocks run on STFT frames, and the decoder
  predicts log-magnitude and phase for an inverse STFT (`renderer/spectral.py`). It trains
  far faster on a CPU, which is what the shipped codec was trained on.
"""

from __future__ import annotations

import logging
import math
import warnings
from dataclasses import dataclass, replace
from typing import Literal, Self

import torch
from diffusers import AutoencoderOobleck
from diffusers.models.autoencoders.autoencoder_oobleck import OobleckDecoder, OobleckEncoder
from torch import nn
from torch.nn.utils import weight_norm

from renderer.losses import gaussian_kl
from renderer.modeling import PretrainedModel
from renderer.spectral import SpectralDecoder, SpectralEncoder

logger = logging.getLogger(__name__)

_MIN_STD = 1e-4  # the same floor diffusers' Oobleck posterior adds to softplus(scale)


@dataclass(frozen=True)
class VaeConfig:
    """Shape of a `Vae`.

    Attributes:
        sample_rate: audio sample rate in Hz.
        audio_channels: 1 (mono) or 2 (stereo).
        encoder_hidden_size: width of the encoder at the full sample rate.
        decoder_channels: width of the decoder at the full sample rate.
        downsampling_ratios: encoder strides (the decoder uses them reversed); all even, their
            product is the hop length in samples per latent frame.
        channel_multiples: width multiple after each stride (same length as the ratios).
        latent_channels: D, the latent width.
        architecture: "oobleck" (strided convolutions on samples) or "stft" (strided
            convolutions on STFT frames, inverse-STFT output; see the module docstring).
        n_fft: FFT size of the "stft" architecture.
        stft_hop: STFT hop in samples of the "stft" architecture; there the
            `downsampling_ratios` stride over frames, so the latent hop is
            `stft_hop * prod(downsampling_ratios)`.
        low_band_fft: "stft" only: FFT size of a second, long STFT (same hop) whose bins up to
            `low_band_hz` the encoder also sees, so that it can tell bass semitones apart (a
            1024-point STFT at 24 kHz has 23 Hz bins; bass semitones are 2-10 Hz apart). 0: none.
        low_band_hz: highest frequency of that low band.
        phase: "stft" only: the decoder predicts each bin's phase directly ("absolute", the
            first reference codec) or its advance per frame around the bin's own rate
            ("increment", integrated over frames), which places a partial's frequency between
            bins to a fraction of a hertz and keeps it steady.
        decoder_low_band_fft: "stft" with "increment" phases only: FFT size of a second inverse
            STFT (same hop) through which the decoder also writes the bins up to
            `decoder_low_band_hz`, added to the main output: a bass fundamental is one 5.9 Hz
            bin of a 4096-point STFT instead of a blend of three 23 Hz bins. 0: none.
        decoder_low_band_hz: highest frequency of the decoder's low band.
    """

    sample_rate: int = 24000
    audio_channels: int = 1
    encoder_hidden_size: int = 24
    decoder_channels: int = 32
    downsampling_ratios: tuple[int, ...] = (4, 4, 6, 10)
    channel_multiples: tuple[int, ...] = (1, 2, 4, 8)
    latent_channels: int = 64
    architecture: Literal["oobleck", "stft"] = "oobleck"
    n_fft: int = 1024
    stft_hop: int = 240
    low_band_fft: int = 0
    low_band_hz: float = 1000.0
    phase: Literal["absolute", "increment"] = "absolute"
    decoder_low_band_fft: int = 0
    decoder_low_band_hz: float = 400.0

    def __post_init__(self) -> None:
        if self.audio_channels not in (1, 2):
            raise ValueError(f"audio_channels must be 1 or 2, got {self.audio_channels}")
        if len(self.downsampling_ratios) == 0:
            raise ValueError("downsampling_ratios must not be empty")
        if len(self.downsampling_ratios) != len(self.channel_multiples):
            raise ValueError(
                f"downsampling_ratios {self.downsampling_ratios} and channel_multiples "
                f"{self.channel_multiples} must have the same length"
            )
        # An odd stride makes diffusers' transposed convolution one sample short.
        if any(r < 2 or r % 2 for r in self.downsampling_ratios):
            raise ValueError(
                f"downsampling_ratios must be even and >= 2, got {self.downsampling_ratios}"
            )
        sizes = (
            self.sample_rate,
            self.encoder_hidden_size,
            self.decoder_channels,
            self.latent_channels,
        )
        if min(sizes) < 1 or min(self.channel_multiples) < 1:
            raise ValueError("sample_rate, widths and channel_multiples must be positive")
        if self.architecture not in ("oobleck", "stft"):
            raise ValueError(f"architecture must be 'oobleck' or 'stft', got {self.architecture!r}")
        if self.architecture == "stft" and not 0 < self.stft_hop <= self.n_fft // 2:
            raise ValueError(
                f"stft_hop must be in 1..n_fft/2 ({self.n_fft // 2}), got {self.stft_hop}"
            )
        if self.phase not in ("absolute", "increment"):
            raise ValueError(f"phase must be 'absolute' or 'increment', got {self.phase!r}")
        if self.low_band_fft and (
            self.low_band_fft <= self.n_fft or not 0 < self.low_band_hz < self.sample_rate / 2
        ):
            raise ValueError(
                f"low_band_fft must exceed n_fft ({self.n_fft}) and low_band_hz must be in "
                f"(0, {self.sample_rate / 2}); got {self.low_band_fft}, {self.low_band_hz}"
            )
        if self.decoder_low_band_fft and (
            self.architecture != "stft"
            or self.phase != "increment"
            or self.decoder_low_band_fft <= self.n_fft
            or not 0 < self.decoder_low_band_hz < self.sample_rate / 2
        ):
            raise ValueError(
                "decoder_low_band_fft needs the 'stft' architecture with 'increment' phases, an "
                f"FFT size above n_fft ({self.n_fft}) and decoder_low_band_hz in "
                f"(0, {self.sample_rate / 2}); got {self.decoder_low_band_fft}, "
                f"{self.decoder_low_band_hz}"
            )

    @property
    def low_band_bins(self) -> int:
        """Bins of the long STFT the encoder sees (0 without one)."""
        if not self.low_band_fft:
            return 0
        return int(self.low_band_hz * self.low_band_fft / self.sample_rate) + 1

    @property
    def decoder_low_band_bins(self) -> int:
        """Bins of the long inverse STFT the decoder writes (0 without one)."""
        if not self.decoder_low_band_fft:
            return 0
        return int(self.decoder_low_band_hz * self.decoder_low_band_fft / self.sample_rate) + 1

    @property
    def hop_length(self) -> int:
        """Samples per latent frame."""
        frame_hop = self.stft_hop if self.architecture == "stft" else 1
        return frame_hop * math.prod(self.downsampling_ratios)

    @property
    def frame_rate(self) -> float:
        """Latent frames per second."""
        return self.sample_rate / self.hop_length

    @classmethod
    def tiny(cls) -> Self:
        """A test-sized model: hop 8, widths <= 32, 8 latent channels."""
        return cls(
            sample_rate=8000,
            audio_channels=1,
            encoder_hidden_size=16,
            decoder_channels=16,
            downsampling_ratios=(2, 4),
            channel_multiples=(1, 2),
            latent_channels=8,
        )

    @classmethod
    def reference(cls) -> Self:
        """The shipped codec's VAE (configs/codec/reference.yaml): 24 kHz mono, STFT
        architecture (n_fft 1024, hop 240, frame strides 2 x 2 -> hop 960, 25 frames/s), 64
        latent channels, a 4096-point low band up to 1 kHz in the encoder and phase increments
        in the decoder; about 2.7 M parameters."""
        return replace(cls.reference_v1(), low_band_fft=4096, low_band_hz=1000.0, phase="increment")

    @classmethod
    def reference_v1(cls) -> Self:
        """The first shipped codec's VAE (configs/codec/stft-v1.yaml): as `reference` without
        the low band and with absolute phases."""
        return cls(
            encoder_hidden_size=128,
            decoder_channels=128,
            downsampling_ratios=(2, 2),
            channel_multiples=(1, 1),
            architecture="stft",
        )

    @classmethod
    def tiny_stft(cls) -> Self:
        """A test-sized STFT-architecture model: 8 kHz, n_fft 64, hop 16 x 2 = 32, width 16."""
        return replace(
            cls.tiny(),
            downsampling_ratios=(2,),
            channel_multiples=(1,),
            architecture="stft",
            n_fft=64,
            stft_hop=16,
        )

    @classmethod
    def tiny_pitch(cls) -> Self:
        """`tiny_stft` with a 256-point low band up to 1 kHz and phase increments."""
        return replace(cls.tiny_stft(), low_band_fft=256, low_band_hz=1000.0, phase="increment")

    @classmethod
    def tiny_low_band(cls) -> Self:
        """`tiny_pitch` with a decoder low band: a 256-point inverse STFT up to 500 Hz."""
        return replace(cls.tiny_pitch(), decoder_low_band_fft=256, decoder_low_band_hz=500.0)

    @classmethod
    def stereo_44k(cls) -> Self:
        """44.1 kHz stereo, hop 2048 (about 21.5 frames/s, as in Stable Audio), 64 latents."""
        return cls(
            sample_rate=44100,
            audio_channels=2,
            encoder_hidden_size=16,
            decoder_channels=24,
            downsampling_ratios=(2, 4, 4, 8, 8),
            channel_multiples=(1, 2, 4, 8, 12),
            latent_channels=64,
        )


@dataclass
class VaeLatents:
    """The encoder's diagonal Gaussian posterior.

    Attributes:
        mean: `[B, D, T]`.
        logvar: `[B, D, T]`, log of the variance.
    """

    mean: torch.Tensor
    logvar: torch.Tensor

    @property
    def std(self) -> torch.Tensor:
        """Standard deviation `[B, D, T]`."""
        return torch.exp(0.5 * self.logvar)

    def sample(self, generator: torch.Generator | None = None) -> torch.Tensor:
        """A reparameterised draw `mean + std * eps`, `[B, D, T]` (differentiable)."""
        noise = torch.randn(
            self.mean.shape, generator=generator, device=self.mean.device, dtype=self.mean.dtype
        )
        return self.mean + self.std * noise

    def mode(self) -> torch.Tensor:
        """The most likely latent (the mean), `[B, D, T]`."""
        return self.mean

    def kl(self) -> torch.Tensor:
        """KL divergence to N(0, I): summed over D, averaged over B and T (a scalar)."""
        return gaussian_kl(self.mean, self.logvar)


def kl_loss(posterior: VaeLatents) -> torch.Tensor:
    """KL(posterior || N(0, I)), summed over latent channels and averaged over B and T."""
    return posterior.kl()


class Vae(nn.Module, PretrainedModel):
    """Variational autoencoder on waveforms (the vocoder of the renderer)."""

    config_class = VaeConfig

    def __init__(self, config: VaeConfig) -> None:
        super().__init__()
        self.config = config
        if config.architecture == "stft":
            self.spectral_encoder = SpectralEncoder(config)
            self.spectral_decoder = SpectralDecoder(config)
            return
        with warnings.catch_warnings():  # diffusers uses the deprecated (but working) weight_norm
            warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)
            self.autoencoder = AutoencoderOobleck(
                encoder_hidden_size=config.encoder_hidden_size,
                downsampling_ratios=list(config.downsampling_ratios),
                channel_multiples=list(config.channel_multiples),
                decoder_channels=config.decoder_channels,
                decoder_input_channels=config.latent_channels,
                audio_channels=config.audio_channels,
                sampling_rate=config.sample_rate,
            )
            # Decouple the latent width from the encoder width (see the module docstring).
            encoder_width = config.encoder_hidden_size * config.channel_multiples[-1]
            self.autoencoder.encoder.conv2 = weight_norm(  # type: ignore[attr-defined]
                nn.Conv1d(encoder_width, 2 * config.latent_channels, kernel_size=3, padding=1)
            )

    @property
    def encoder(self) -> OobleckEncoder | SpectralEncoder:
        """The encoder: `[B, C, T * hop]` -> `[B, 2D, T]`."""
        if self.config.architecture == "stft":
            return self.spectral_encoder
        return self.autoencoder.encoder  # type: ignore[attr-defined]

    @property
    def decoder(self) -> OobleckDecoder | SpectralDecoder:
        """The decoder: `[B, D, T]` -> `[B, C, T * hop]`."""
        if self.config.architecture == "stft":
            return self.spectral_decoder
        return self.autoencoder.decoder  # type: ignore[attr-defined]

    @property
    def hop_length(self) -> int:
        """Samples per latent frame."""
        return self.config.hop_length

    @property
    def frame_rate(self) -> float:
        """Latent frames per second."""
        return self.config.frame_rate

    @property
    def sample_rate(self) -> int:
        """Audio sample rate in Hz."""
        return self.config.sample_rate

    @property
    def latent_channels(self) -> int:
        """D, the latent width."""
        return self.config.latent_channels

    def num_frames(self, num_samples: int) -> int:
        """Latent frames for `num_samples` audio samples: `ceil(S / hop)`."""
        return math.ceil(num_samples / self.hop_length)

    def encode(self, wav: torch.Tensor) -> VaeLatents:
        """Encode a waveform into its posterior.

        Args:
            wav: `[B, C, S]` audio in [-1, 1] at `sample_rate`; S need not be a multiple of the
                hop (the input is zero-padded on the right).

        Returns:
            `VaeLatents` with mean and logvar `[B, D, ceil(S / hop)]`.
        """
        self._check_audio(wav)
        padded = self._pad_to_hop(wav)  # [B, C, T * hop]
        hidden = self.encoder(padded)  # [B, 2D, T]
        mean, scale = hidden.chunk(2, dim=1)  # [B, D, T] each
        std = nn.functional.softplus(scale) + _MIN_STD
        return VaeLatents(mean=mean, logvar=2.0 * torch.log(std))

    def decode(self, z: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """Decode latents into a waveform.

        Args:
            z: `[B, D, T]` latents.
            length: crop the output to this many samples (at most `T * hop`).

        Returns:
            `[B, C, T * hop]` audio, or `[B, C, length]` when `length` is given.
        """
        if z.dim() != 3 or z.shape[1] != self.latent_channels:
            raise ValueError(
                f"latents must be [batch, {self.latent_channels}, frames], got {tuple(z.shape)}"
            )
        wav = self.decoder(z)  # [B, C, T * hop]
        if length is not None:
            if length > wav.shape[-1]:
                raise ValueError(f"cannot crop {wav.shape[-1]} decoded samples to {length}")
            wav = wav[..., :length]
        return wav

    def forward(
        self,
        wav: torch.Tensor,
        sample_posterior: bool | None = None,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, VaeLatents]:
        """Reconstruct a waveform.

        Args:
            wav: `[B, C, S]` audio.
            sample_posterior: decode a posterior sample (True) or its mean (False); by default
                sample in training mode and use the mean in eval mode.
            generator: random generator for the posterior sample.

        Returns:
            `(recon [B, C, S], posterior)` with the posterior `[B, D, ceil(S / hop)]`.
        """
        posterior = self.encode(wav)
        sample = self.training if sample_posterior is None else sample_posterior
        z = posterior.sample(generator) if sample else posterior.mode()  # [B, D, T]
        return self.decode(z, length=wav.shape[-1]), posterior

    def _check_audio(self, wav: torch.Tensor) -> None:
        if wav.dim() != 3 or wav.shape[1] != self.config.audio_channels:
            raise ValueError(
                f"audio must be [batch, {self.config.audio_channels} channel(s), samples], "
                f"got {tuple(wav.shape)}"
            )
        if wav.shape[-1] == 0:
            raise ValueError("audio is empty (0 samples)")

    def _pad_to_hop(self, wav: torch.Tensor) -> torch.Tensor:
        """Zero-pad `[B, C, S]` on the right to `[B, C, ceil(S / hop) * hop]`."""
        missing = self.num_frames(wav.shape[-1]) * self.hop_length - wav.shape[-1]
        return nn.functional.pad(wav, (0, missing)) if missing else wav
