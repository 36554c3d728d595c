"""The STFT-domain body of the VAE vocoder: Oobleck blocks run on spectrogram frames.

`Vae(VaeConfig(architecture="stft"))` uses these in place of diffusers' waveform encoder and
decoder. The blocks are diffusers' own (`OobleckEncoderBlock`, `OobleckDecoderBlock`: Snake
activations, weight-normalised dilated residual units, strided convolutions), but their time
axis is STFT frames (`stft_hop` samples apart) instead of samples:

    wav [B, C, T * hop] --STFT--> log|X| [B, C * F, T * r] --strided blocks--> [B, 2D, T]
    z [B, D, T] --transposed blocks--> [B, C * 2F, T * r] --(log|X|, phase), iSTFT--> wav

with `F = n_fft // 2 + 1`, `r = prod(downsampling_ratios)` and `hop = stft_hop * r`. The decoder
predicts a log-magnitude and a phase per bin and inverts them with `torch.istft`, so it never
has to synthesise a waveform sample by sample; measured on the corpus on a CPU, this learns
several times faster per second of training than the waveform model of the same latent rate.

Pitch. With `low_band_fft` set, the encoder also sees the low band of a long STFT (the same
hop; e.g. 4096 points, 5.9 Hz bins up to 1 kHz), where bass semitones fall in different bins.
With `phase="increment"` the decoder predicts, per bin and frame, the phase advance over one
hop as the bin's own advance `2 pi k hop / n_fft` plus a deviation in (-pi, pi), and the phase
is their running sum: a steady partial between two bins is one constant deviation, where an
absolute phase must be a different value in every frame.

With `decoder_low_band_fft` set, the decoder also writes the bins up to `decoder_low_band_hz`
of a long STFT (same hop, phase increments likewise) from its last hidden layer, inverted by
its own iSTFT and added: the fundamental of a bass note is then one narrow bin. It starts
silent, so it can be added to a trained decoder and fine-tuned with the encoder frozen (the
latent space, the RVQ and whatever was trained on the latents stay valid).
"""

from __future__ import annotations

import math
import warnings
from typing import TYPE_CHECKING

import torch
from diffusers.models.autoencoders.autoencoder_oobleck import (
    OobleckDecoderBlock,
    OobleckEncoderBlock,
    Snake1d,
)
from torch import nn
from torch.nn.utils import weight_norm

if TYPE_CHECKING:
    from renderer.vae import VaeConfig

# log|X| of the input is mapped by (log|X| - LOG_MAG_CENTER) / LOG_MAG_SCALE to roughly unit
# scale: Snake is close to linear on small inputs, so the encoder needs inputs of order one.
LOG_MAG_FLOOR = 1e-5
LOG_MAG_CENTER = -5.0
LOG_MAG_SCALE = 3.0
# The decoder's log-magnitudes are clamped here before exp (|X| <= e^8, far above full scale
# for the FFT sizes used), so an untrained decoder cannot overflow.
LOG_MAG_MAX = 8.0
# The decoder's low band starts this quiet (|X| around e^-8, about -130 dB below full scale
# in a 4096-point STFT), so adding it to a trained decoder changes nothing until it learns.
# Its weights start at the usual scale: they, not the bias, move its output fast enough (a
# bias moves by the learning rate per Adam step), and Adam's steps do not shrink with the small
# gradients of a quiet start.
LOW_BAND_START_LOG_MAG = -8.0


def _window(module: nn.Module) -> torch.Tensor:
    window = module.get_buffer("window")  # the Hann window, [n_fft]
    return window


def _widths(config: VaeConfig, base: int) -> list[int]:
    return [base * m for m in config.channel_multiples]


class SpectralEncoder(nn.Module):
    """`[B, C, T * hop]` waveform -> `[B, 2D, T]` posterior parameters (mean, scale)."""

    def __init__(self, config: VaeConfig) -> None:
        super().__init__()
        self.config = config
        bins = config.n_fft // 2 + 1
        widths = _widths(config, config.encoder_hidden_size)
        self.register_buffer("window", torch.hann_window(config.n_fft), persistent=False)
        if config.low_band_fft:
            long_window = torch.hann_window(config.low_band_fft)
            self.register_buffer("low_band_window", long_window, persistent=False)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)
            inputs = config.audio_channels * (bins + config.low_band_bins)
            self.conv_in = weight_norm(nn.Conv1d(inputs, widths[0], kernel_size=3, padding=1))
            outs = [*widths[1:], widths[-1]]
            self.blocks = nn.ModuleList(
                OobleckEncoderBlock(w_in, w_out, stride=r)
                for w_in, w_out, r in zip(widths, outs, config.downsampling_ratios, strict=True)
            )
            self.snake = Snake1d(widths[-1])
            self.conv_out = weight_norm(
                nn.Conv1d(widths[-1], 2 * config.latent_channels, kernel_size=3, padding=1)
            )

    def forward(self, wav: torch.Tensor) -> torch.Tensor:
        batch, channels, samples = wav.shape
        flat = wav.reshape(batch * channels, samples)
        features = self._log_magnitude(flat, self.config.n_fft, _window(self))  # [B*C, F, T*r]
        if self.config.low_band_fft:
            window = self.get_buffer("low_band_window")
            low = self._log_magnitude(flat, self.config.low_band_fft, window)
            features = torch.cat([features, low[:, : self.config.low_band_bins]], dim=1)
        hidden = self.conv_in(features.reshape(batch, channels * features.shape[1], -1))
        for block in self.blocks:
            hidden = block(hidden)
        return self.conv_out(self.snake(hidden))  # [B, 2D, T]

    def _log_magnitude(self, flat: torch.Tensor, n_fft: int, window: torch.Tensor) -> torch.Tensor:
        """Scaled log-magnitude STFT of `[N, S]` audio -> `[N, n_fft // 2 + 1, S / stft_hop]`."""
        spec = torch.stft(
            flat,
            n_fft=n_fft,
            hop_length=self.config.stft_hop,
            window=window,
            center=True,
            pad_mode="constant",
            return_complex=True,
        )  # [N, F, S / stft_hop + 1]
        log_mag = torch.log(spec[..., :-1].abs() + LOG_MAG_FLOOR)
        return (log_mag - LOG_MAG_CENTER) / LOG_MAG_SCALE


class SpectralDecoder(nn.Module):
    """`[B, D, T]` latents -> `[B, C, T * hop]` waveform through a predicted STFT."""

    def __init__(self, config: VaeConfig) -> None:
        super().__init__()
        self.config = config
        bins = config.n_fft // 2 + 1
        widths = _widths(config, config.decoder_channels)[::-1]  # widest first
        self.register_buffer("window", torch.hann_window(config.n_fft), persistent=False)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*weight_norm.*", category=FutureWarning)
            self.conv_in = weight_norm(
                nn.Conv1d(config.latent_channels, widths[0], kernel_size=7, padding=3)
            )
            outs = [*widths[1:], widths[-1]]
            ratios = config.downsampling_ratios[::-1]
            self.blocks = nn.ModuleList(
                OobleckDecoderBlock(w_in, w_out, stride=r)
                for w_in, w_out, r in zip(widths, outs, ratios, strict=True)
            )
            self.snake = Snake1d(widths[-1])
            self.conv_out = weight_norm(
                nn.Conv1d(widths[-1], config.audio_channels * 2 * bins, kernel_size=3, padding=1)
            )
            if config.decoder_low_band_fft:
                long_window = torch.hann_window(config.decoder_low_band_fft)
                self.register_buffer("low_band_window", long_window, persistent=False)
                self.low_band_out = self._quiet_low_band_head(widths[-1])

    def _quiet_low_band_head(self, width: int) -> nn.Module:
        """The low band's output convolution, starting silent (see `LOW_BAND_START_LOG_MAG`)."""
        low_bins = self.config.decoder_low_band_bins
        head = weight_norm(
            nn.Conv1d(width, self.config.audio_channels * 2 * low_bins, kernel_size=3, padding=1)
        )
        with torch.no_grad():
            bias = head.bias.view(self.config.audio_channels, 2, low_bins)
            bias[:, 0] = LOW_BAND_START_LOG_MAG  # log-magnitude rows
            bias[:, 1] = 0.0  # phase rows: every bin advancing at its own rate
        return head

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        return self.decode_with_phase(z)[0]

    def decode_with_phase(
        self, z: torch.Tensor, anchor: tuple[int, torch.Tensor] | None = None
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Audio `[B, C, T * hop]` of latents `z` `[B, D, T]`, and the phases `[B * C, F (+ L),
        T * r + 1]` (float64) it was made with (the decoder's low band's L bins after the main
        STFT's F).

        `anchor` = (STFT frame, phases `[B * C, F (+ L)]`): with predicted phase increments,
        shift every bin's phase so that it has those phases at that frame. Decoding a long song
        window by window, each window anchored at the phases the previous one reached there,
        gives the phases (and so the audio) of decoding it whole.
        """
        batch, _, frames = z.shape
        channels = self.config.audio_channels
        hidden = self.conv_in(z)
        for block in self.blocks:
            hidden = block(hidden)
        hidden = self.snake(hidden)  # [B, W, T * r]
        magnitude, phase = self._polar(self.conv_out(hidden))  # [B * C, F, T * r + 1] each
        bands = [(magnitude, self.config.n_fft, _window(self))]
        if self.config.decoder_low_band_fft:
            low_magnitude, low_phase = self._polar(self.low_band_out(hidden), low_band=True)
            window = self.get_buffer("low_band_window")
            bands.append((low_magnitude, self.config.decoder_low_band_fft, window))
            phase = torch.cat([phase, low_phase], dim=1)  # [B * C, F + L, T * r + 1]
        if anchor is not None and self.config.phase != "absolute":
            frame, target = anchor
            phase = (phase + (target - phase[..., frame])[..., None]) % (2 * math.pi)
        samples = frames * self.config.hop_length
        wav = sum(
            self._inverse_stft(band, phase_part, n_fft, window, samples)
            for (band, n_fft, window), phase_part in zip(
                bands, phase.split([b[0].shape[1] for b in bands], dim=1), strict=True
            )
        )  # [B * C, T * hop]
        assert isinstance(wav, torch.Tensor)
        return wav.reshape(batch, channels, samples), phase

    def _polar(
        self, out: torch.Tensor, low_band: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """An output convolution's `[B, C * 2 * bins, T * r]` -> magnitudes and phases (float64),
        `[B * C, bins, T * r + 1]` each."""
        batch = out.shape[0]
        # torch.istft with center=True wants one frame more than samples / hop: repeat the last.
        out = torch.cat([out, out[..., -1:]], dim=-1)  # [B, C * 2 * bins, T * r + 1]
        out = out.reshape(batch * self.config.audio_channels, 2, -1, out.shape[-1])
        n_fft = self.config.decoder_low_band_fft if low_band else self.config.n_fft
        return out[:, 0].clamp(max=LOG_MAG_MAX).exp(), self._phase(out[:, 1], n_fft)

    def _inverse_stft(
        self,
        magnitude: torch.Tensor,
        phase: torch.Tensor,
        n_fft: int,
        window: torch.Tensor,
        samples: int,
    ) -> torch.Tensor:
        """`[N, bins, frames]` magnitudes and phases (the lowest `bins` of an `n_fft`-point
        STFT; the rest silent) -> `[N, samples]` audio."""
        spec = torch.polar(magnitude, phase.to(magnitude.dtype))  # [N, bins, frames]
        missing = n_fft // 2 + 1 - spec.shape[1]
        if missing:
            spec = nn.functional.pad(spec, (0, 0, 0, missing))  # [N, n_fft / 2 + 1, frames]
        return torch.istft(
            spec,
            n_fft=n_fft,
            hop_length=self.config.stft_hop,
            window=window,
            center=True,
            length=samples,
        )

    def _phase(self, predicted: torch.Tensor, n_fft: int) -> torch.Tensor:
        """`[N, F, frames]` decoder outputs for an `n_fft`-point STFT -> phases, float64 (see
        the module docstring)."""
        if self.config.phase == "absolute":
            return predicted.to(torch.float64)
        # The bin's own advance over one hop, reduced modulo 2 pi exactly (integer arithmetic),
        # and the running sum in float64, so that minutes of frames keep their phase precise.
        bins = torch.arange(predicted.shape[1], device=predicted.device)
        turns = (bins * self.config.stft_hop) % n_fft  # [F]
        advance = turns.to(torch.float64) * (2 * math.pi / n_fft)
        deviation = math.pi * torch.tanh(predicted.to(torch.float64))  # [N, F, frames]
        return torch.cumsum(advance[:, None] + deviation, dim=-1) % (2 * math.pi)
