"""Reconstruction losses: zero on identical audio, positive and ordered otherwise."""

from __future__ import annotations

import math

import pytest
import torch

from renderer.losses import MultiResolutionMelLoss, MultiResolutionStftLoss, PitchLoss, gaussian_kl


def _tone(freq: float, n: int = 2048, rate: int = 8000) -> torch.Tensor:
    t = torch.arange(n) / rate
    return torch.sin(2 * math.pi * freq * t)[None, None]  # [1, 1, n]


@pytest.fixture
def stft() -> MultiResolutionStftLoss:
    return MultiResolutionStftLoss(fft_sizes=(256, 128, 64))


@pytest.fixture
def mel() -> MultiResolutionMelLoss:
    return MultiResolutionMelLoss(8000, fft_sizes=(256, 128), n_mels=(32, 16))


@pytest.mark.parametrize("shape", [(1, 1, 2048), (2, 2, 1000), (3, 1, 40)])
def test_zero_for_identical_inputs(
    stft: MultiResolutionStftLoss, mel: MultiResolutionMelLoss, shape: tuple[int, int, int]
) -> None:
    wav = torch.randn(shape)
    assert stft(wav, wav.clone()).item() == 0.0
    assert mel(wav, wav.clone()).item() == 0.0


def test_positive_and_grows_with_the_difference(
    stft: MultiResolutionStftLoss, mel: MultiResolutionMelLoss
) -> None:
    target = _tone(440)
    near = target + 0.01 * torch.randn_like(target)
    far = _tone(1700)
    for loss in (stft, mel):
        assert 0 < loss(near, target).item() < loss(far, target).item()


def test_stft_terms(stft: MultiResolutionStftLoss) -> None:
    target = _tone(440)
    convergence, log_magnitude = stft.terms(0.5 * target, target)
    assert convergence.item() == pytest.approx(0.5, abs=0.01)  # ||0.5 X - X|| / ||X||
    assert log_magnitude.item() > 0
    assert stft(0.5 * target, target).item() == pytest.approx((convergence + log_magnitude).item())


def test_silent_target_does_not_give_nan(stft: MultiResolutionStftLoss) -> None:
    silence = torch.zeros(1, 1, 512)
    assert stft(silence, silence).item() == 0.0
    assert torch.isfinite(stft(torch.randn(1, 1, 512), silence))


def test_gradients_flow(stft: MultiResolutionStftLoss, mel: MultiResolutionMelLoss) -> None:
    pred = (0.3 * torch.randn(1, 1, 1024)).requires_grad_()
    (stft(pred, _tone(440, 1024)) + mel(pred, _tone(440, 1024))).backward()
    assert pred.grad is not None and torch.isfinite(pred.grad).all() and pred.grad.abs().sum() > 0


def test_windows_and_filterbanks_are_buffers_not_weights(mel: MultiResolutionMelLoss) -> None:
    buffers = dict(mel.named_buffers())
    assert buffers["mel_0"].shape == (32, 129)
    assert buffers["window_1"].shape == (128,)
    assert not list(mel.parameters())
    assert mel.state_dict() == {}


def test_shape_mismatch_raises(stft: MultiResolutionStftLoss, mel: MultiResolutionMelLoss) -> None:
    with pytest.raises(ValueError, match="pred and target"):
        stft(torch.zeros(1, 1, 100), torch.zeros(1, 1, 101))
    with pytest.raises(ValueError, match="pred and target"):
        mel(torch.zeros(1, 100), torch.zeros(1, 100))


def test_mismatched_resolution_lists_raise() -> None:
    with pytest.raises(ValueError):
        MultiResolutionStftLoss(fft_sizes=(256, 128), hop_lengths=(64,))
    with pytest.raises(ValueError):
        MultiResolutionMelLoss(8000, fft_sizes=(256,), n_mels=(32, 16))


def test_gaussian_kl() -> None:
    zeros = torch.zeros(2, 3, 5)
    assert gaussian_kl(zeros, zeros).item() == 0.0
    # per element 0.5 * (e - 1 - 1) with logvar = 1, summed over 3 channels
    assert gaussian_kl(zeros, zeros + 1).item() == pytest.approx(1.5 * (math.e - 2))


def _chord(freqs: list[float], seconds: float = 1.0, sample_rate: int = 24000) -> torch.Tensor:
    t = torch.arange(int(seconds * sample_rate)) / sample_rate
    wav = sum(0.2 * torch.sin(2 * math.pi * f * t) for f in freqs)
    return torch.as_tensor(wav)[None, None]


def test_pitch_loss_weighs_a_bass_semitone_above_a_level_change() -> None:
    pitch = PitchLoss(24000)
    bass, semitone_up, quieter = _chord([55.0]), _chord([58.27]), 0.8 * _chord([55.0])
    assert float(pitch(bass, bass)) == 0.0
    low_band_semitone = pitch.terms(semitone_up, bass)[0]
    assert low_band_semitone > 3 * pitch.terms(quieter, bass)[0]


def test_chroma_term_tells_major_from_minor() -> None:
    pitch = PitchLoss(24000)
    c_major, c_minor = _chord([261.63, 329.63, 392.0]), _chord([261.63, 311.13, 392.0])
    louder = 1.25 * c_major
    assert pitch.terms(c_minor, c_major)[1] > 2 * pitch.terms(louder, c_major)[1]


def test_pitch_loss_has_gradients_and_no_nan_on_silence() -> None:
    pitch = PitchLoss(24000, n_fft=2048)
    pred = (0.1 * torch.randn(1, 1, 8000)).requires_grad_()
    loss = pitch(pred, torch.zeros(1, 1, 8000))
    loss.backward()
    assert torch.isfinite(loss) and pred.grad is not None and torch.isfinite(pred.grad).all()
