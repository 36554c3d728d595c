"""Reconstruction losses for the VAE vocoder: multi-resolution STFT, multi-resolution mel, KL.

Every loss takes `pred` and `target` waveforms `[B, C, S]` of the same shape and returns a
scalar tensor; each is exactly zero when `pred == target`.
"""

from __future__ import annotations

import librosa
import torch
from torch import nn

_EPS = 1e-7
_PITCH_FLOOR = 1e-2
"""Magnitude floor of `PitchLoss` (a long-FFT bin of a sine of amplitude ~5e-6, -106 dBFS):
near-silent frames, whose log-magnitudes would be noise, do not dominate it."""


def gaussian_kl(mean: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL(N(mean, exp(logvar)) || N(0, I)).

    Args:
        mean: `[B, D, T]`.
        logvar: `[B, D, T]`.

    Returns:
        A scalar: the KL summed over D and averaged over B and T.
    """
    kl = 0.5 * (mean.pow(2) + logvar.exp() - 1.0 - logvar)  # [B, D, T]
    return kl.sum(dim=1).mean()


def _check_pair(pred: torch.Tensor, target: torch.Tensor) -> None:
    if pred.shape != target.shape or pred.dim() != 3:
        raise ValueError(
            f"pred and target must both be [batch, channels, samples]; got "
            f"{tuple(pred.shape)} and {tuple(target.shape)}"
        )


def _stft(wav: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor) -> torch.Tensor:
    """Complex STFT of `[B, C, S]` audio -> `[B * C, n_fft // 2 + 1, frames]`."""
    flat = wav.reshape(-1, wav.shape[-1])  # [B * C, S]
    return torch.stft(
        flat,
        n_fft=n_fft,
        hop_length=hop,
        win_length=window.shape[-1],
        window=window,
        center=True,
        pad_mode="constant",
        return_complex=True,
    )


def _magnitude(wav: torch.Tensor, n_fft: int, hop: int, window: torch.Tensor) -> torch.Tensor:
    """STFT magnitude of `[B, C, S]` audio -> `[B * C, n_fft // 2 + 1, frames]`."""
    return _stft(wav, n_fft, hop, window).abs().clamp(min=_EPS)


class MultiResolutionStftLoss(nn.Module):
    """Spectral convergence + log-magnitude L1, averaged over several STFT resolutions.

    Args:
        fft_sizes: FFT sizes, one per resolution.
        hop_lengths: hops (default: a quarter of each FFT size).
        win_lengths: Hann window lengths (default: the FFT sizes).
    """

    def __init__(
        self,
        fft_sizes: tuple[int, ...] = (2048, 1024, 512, 256, 128),
        hop_lengths: tuple[int, ...] | None = None,
        win_lengths: tuple[int, ...] | None = None,
    ) -> None:
        super().__init__()
        self.fft_sizes = fft_sizes
        self.hop_lengths = hop_lengths or tuple(n // 4 for n in fft_sizes)
        wins = win_lengths or fft_sizes
        if not (len(fft_sizes) == len(self.hop_lengths) == len(wins)) or not fft_sizes:
            raise ValueError(
                "fft_sizes, hop_lengths and win_lengths must have one equal, non-zero length"
            )
        for i, win in enumerate(wins):
            self.register_buffer(f"window_{i}", torch.hann_window(win), persistent=False)

    def _window(self, index: int) -> torch.Tensor:
        window: torch.Tensor = getattr(self, f"window_{index}")
        return window

    def terms(self, pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """The two loss terms, each averaged over resolutions.

        Args:
            pred: `[B, C, S]` reconstructed audio.
            target: `[B, C, S]` reference audio.

        Returns:
            `(spectral_convergence, log_magnitude)` scalars.
        """
        _check_pair(pred, target)
        convergence = pred.new_zeros(())
        log_magnitude = pred.new_zeros(())
        for i, (n_fft, hop) in enumerate(zip(self.fft_sizes, self.hop_lengths, strict=True)):
            window = self._window(i)
            pred_mag = _magnitude(pred, n_fft, hop, window)  # [B * C, F, frames]
            target_mag = _magnitude(target, n_fft, hop, window)
            diff = torch.linalg.vector_norm(target_mag - pred_mag, dim=(-2, -1))  # [B * C]
            norm = torch.linalg.vector_norm(target_mag, dim=(-2, -1))  # [B * C]
            convergence = convergence + (diff / (norm + _EPS)).mean()
            log_magnitude = log_magnitude + (pred_mag.log() - target_mag.log()).abs().mean()
        count = len(self.fft_sizes)
        return convergence / count, log_magnitude / count

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Spectral convergence + log-magnitude loss between `[B, C, S]` waveforms (a scalar)."""
        convergence, log_magnitude = self.terms(pred, target)
        return convergence + log_magnitude


class MultiResolutionMelLoss(nn.Module):
    """L1 between log-mel spectrograms, averaged over several resolutions.

    The mel filterbanks come from `librosa.filters.mel` once, at construction, as buffers.

    Args:
        sample_rate: audio sample rate in Hz.
        fft_sizes: FFT sizes, one per resolution (hop = a quarter of each).
        n_mels: mel bands, one per resolution.
        fmin: lowest mel frequency in Hz.
        fmax: highest mel frequency in Hz (default: Nyquist).
    """

    def __init__(
        self,
        sample_rate: int,
        fft_sizes: tuple[int, ...] = (2048, 1024, 512),
        n_mels: tuple[int, ...] = (128, 80, 64),
        fmin: float = 0.0,
        fmax: float | None = None,
    ) -> None:
        super().__init__()
        if len(fft_sizes) != len(n_mels) or not fft_sizes:
            raise ValueError("fft_sizes and n_mels must have one equal, non-zero length")
        self.fft_sizes = fft_sizes
        for i, (n_fft, mels) in enumerate(zip(fft_sizes, n_mels, strict=True)):
            bank = librosa.filters.mel(
                sr=sample_rate, n_fft=n_fft, n_mels=mels, fmin=fmin, fmax=fmax
            )
            self.register_buffer(f"mel_{i}", torch.from_numpy(bank).float(), persistent=False)
            self.register_buffer(f"window_{i}", torch.hann_window(n_fft), persistent=False)

    def _log_mel(self, wav: torch.Tensor, index: int) -> torch.Tensor:
        """Log-mel spectrogram of `[B, C, S]` audio -> `[B * C, n_mels, frames]`."""
        n_fft = self.fft_sizes[index]
        window: torch.Tensor = getattr(self, f"window_{index}")
        bank: torch.Tensor = getattr(self, f"mel_{index}")  # [n_mels, F]
        magnitude = _magnitude(wav, n_fft, n_fft // 4, window)  # [B * C, F, frames]
        return torch.matmul(bank, magnitude).clamp(min=1e-5).log10()

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """Mean L1 distance of log-mel spectrograms of `[B, C, S]` waveforms (a scalar)."""
        _check_pair(pred, target)
        total = pred.new_zeros(())
        for i in range(len(self.fft_sizes)):
            total = total + (self._log_mel(pred, i) - self._log_mel(target, i)).abs().mean()
        return total / len(self.fft_sizes)


class PitchLoss(nn.Module):
    """Losses that reward the right pitch where a short STFT cannot see it.

    One long STFT (default 8192 points: 2.9 Hz bins at 24 kHz, finer than a semitone from
    about 50 Hz up) gives two terms:

    - `low_band`: log-magnitude L1 plus spectral convergence over the bins up to `max_hz` (bass
      and the lower harmony; the second weighs the strong partials, a bass fundamental first);
    - `chroma`: log-energy L1 per pitch class (bins from `chroma_min_hz` to `chroma_max_hz`
      summed into the 12 classes), so a chord with the wrong notes costs even when its
      spectrum is close in every mel band.

    Args:
        sample_rate: audio sample rate in Hz.
        n_fft: the long FFT size (hop: a quarter of it).
        max_hz: top of the low band.
        chroma_min_hz, chroma_max_hz: the range folded into pitch classes.
    """

    def __init__(
        self,
        sample_rate: int,
        n_fft: int = 8192,
        max_hz: float = 1000.0,
        chroma_min_hz: float = 50.0,
        chroma_max_hz: float = 2000.0,
    ) -> None:
        super().__init__()
        self.n_fft = n_fft
        freqs = torch.arange(n_fft // 2 + 1, dtype=torch.float64) * sample_rate / n_fft  # [F]
        self.low_bins = int((freqs <= max_hz).sum())
        in_range = (freqs >= chroma_min_hz) & (freqs <= chroma_max_hz)
        midi = 69 + 12 * torch.log2(freqs.clamp(min=1.0) / 440.0)
        classes = torch.round(midi).long() % 12  # [F]
        fold = torch.zeros(12, freqs.numel())
        fold[classes[in_range], torch.nonzero(in_range).squeeze(1)] = 1.0
        self.register_buffer("fold", fold, persistent=False)  # [12, F]
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def terms(self, pred: torch.Tensor, target: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """`(low_band, chroma)` scalars between `[B, C, S]` waveforms."""
        _check_pair(pred, target)
        window: torch.Tensor = self.get_buffer("window")
        fold: torch.Tensor = self.get_buffer("fold")
        pred_mag = _magnitude(pred, self.n_fft, self.n_fft // 4, window)  # [B * C, F, frames]
        target_mag = _magnitude(target, self.n_fft, self.n_fft // 4, window)
        low = slice(1, self.low_bins)
        pred_low = pred_mag[:, low].clamp(min=_PITCH_FLOOR).log()
        log_l1 = (pred_low - target_mag[:, low].clamp(min=_PITCH_FLOOR).log()).abs().mean()
        # The log term is mostly the level between partials; spectral convergence is mostly
        # the strongest partials themselves, so a missing bass fundamental costs there.
        difference = torch.linalg.vector_norm(pred_mag[:, low] - target_mag[:, low], dim=(-2, -1))
        norm = torch.linalg.vector_norm(target_mag[:, low], dim=(-2, -1))
        low_band = log_l1 + (difference / (norm + _PITCH_FLOOR)).mean()
        floor = _PITCH_FLOOR**2
        pred_chroma = torch.matmul(fold, pred_mag.pow(2)).clamp(min=floor).log()  # [B*C, 12, fr]
        target_chroma = torch.matmul(fold, target_mag.pow(2)).clamp(min=floor).log()
        return low_band, (pred_chroma - target_chroma).abs().mean()

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The sum of both terms (a scalar)."""
        low_band, chroma = self.terms(pred, target)
        return low_band + chroma


class PhaseAdvanceLoss(nn.Module):
    """How far the reconstruction's per-bin phase advance is from the target's, weighted by the
    target's magnitude (an instantaneous-frequency loss).

    A partial's exact frequency lives in how its phase advances over time, which no magnitude
    loss sees below the FFT's bin width (23 Hz at 1024 points and 24 kHz: two bass semitones).
    With `a = X_t conj(X_{t-l})` of the target over a lag of `l` frames and `b` the same of the
    reconstruction, the loss is `sum |X_t| |a/|a| - b/|b||^2 / sum |X_t|` over the bins up to
    `max_hz`, averaged over the lags: 0 when every partial advances as in the target, 4 when
    every one is opposite. One frame (10 ms at hop 240) tells a bass semitone apart by only 0.2
    rad; four frames by 0.8 rad, but wrap for errors above a quarter bin: hence both.

    Args:
        sample_rate: audio sample rate in Hz.
        n_fft: FFT size (the decoder's own grid is the natural choice).
        hop: hop in samples.
        max_hz: highest bin scored.
        lags: frame lags whose advances are compared.
    """

    def __init__(
        self,
        sample_rate: int,
        n_fft: int = 1024,
        hop: int = 240,
        max_hz: float = 4000.0,
        lags: tuple[int, ...] = (1, 4),
    ) -> None:
        super().__init__()
        if not lags or min(lags) < 1:
            raise ValueError(f"lags must be positive frame counts, got {lags}")
        self.n_fft, self.hop, self.lags = n_fft, hop, lags
        self.bins = min(n_fft // 2 + 1, int(max_hz * n_fft / sample_rate) + 1)
        self.register_buffer("window", torch.hann_window(n_fft), persistent=False)

    def _spectrum(self, wav: torch.Tensor) -> torch.Tensor:
        """`[B, C, S]` -> complex STFT `[B * C, bins, frames]`."""
        return _stft(wav, self.n_fft, self.hop, self.get_buffer("window"))[:, : self.bins]

    @staticmethod
    def _unit_advance(spec: torch.Tensor, lag: int) -> torch.Tensor:
        advance = spec[..., lag:] * spec[..., :-lag].conj()  # [N, bins, frames - lag]
        return advance / (advance.abs() + _EPS)

    def forward(self, pred: torch.Tensor, target: torch.Tensor) -> torch.Tensor:
        """The weighted phase-advance distance between `[B, C, S]` waveforms (a scalar)."""
        _check_pair(pred, target)
        pred_spec = self._spectrum(pred)
        with torch.no_grad():
            target_spec = self._spectrum(target)
        total = pred.new_zeros(())
        for lag in self.lags:
            if target_spec.shape[-1] <= lag:
                continue
            weight = target_spec[..., lag:].abs()
            distance = (
                (self._unit_advance(pred_spec, lag) - self._unit_advance(target_spec, lag))
                .abs()
                .pow(2)
            )
            total = total + (weight * distance).sum() / (weight.sum() + _EPS)
        return total / len(self.lags)
