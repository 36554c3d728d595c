"""The VAE vocoder: shapes, hop arithmetic, save/load, and that it learns."""

from __future__ import annotations

import math
from pathlib import Path

import numpy as np
import pytest
import torch

from renderer.losses import MultiResolutionStftLoss
from renderer.modeling import CheckpointError
from renderer.vae import Vae, VaeConfig, VaeLatents, kl_loss

TINY_CONFIGS = {
    "oobleck": VaeConfig.tiny(),
    "stft": VaeConfig.tiny_stft(),
    "stft-pitch": VaeConfig.tiny_pitch(),
    "stft-low-band": VaeConfig.tiny_low_band(),
}


@pytest.fixture(params=sorted(TINY_CONFIGS))
def tiny_vae(request: pytest.FixtureRequest) -> Vae:
    """A tiny VAE of each architecture."""
    torch.manual_seed(0)
    return Vae(TINY_CONFIGS[request.param]).eval()


@pytest.mark.parametrize(
    ("config", "hop", "rate", "channels"),
    [
        (VaeConfig.tiny(), 8, 8000, 1),
        (VaeConfig.tiny_stft(), 32, 8000, 1),
        (VaeConfig.reference(), 960, 24000, 1),
        (VaeConfig.reference_v1(), 960, 24000, 1),
        (VaeConfig.stereo_44k(), 2048, 44100, 2),
    ],
)
def test_hop_and_frame_rate(config: VaeConfig, hop: int, rate: int, channels: int) -> None:
    assert config.hop_length == hop
    assert config.sample_rate == rate
    assert config.audio_channels == channels
    assert config.frame_rate == pytest.approx(rate / hop)
    assert config.frame_rate <= 25 or config in TINY_CONFIGS.values()


def test_reference_is_small_with_64_latents() -> None:
    vae = Vae(VaeConfig.reference())
    params = sum(p.numel() for p in vae.parameters())
    assert vae.config.architecture == "stft"
    assert vae.latent_channels == 64
    assert vae.frame_rate == 25.0
    assert params * 4 < 16e6  # float32 weights well inside the 20 MB codec budget


def test_tiny_widths_are_at_most_32() -> None:
    config = VaeConfig.tiny()
    widest = max(config.channel_multiples) * max(
        config.encoder_hidden_size, config.decoder_channels
    )
    assert widest <= 32


@pytest.mark.parametrize("length", [1, 7, 8, 9, 33, 100])
def test_shapes_and_lengths(tiny_vae: Vae, length: int) -> None:
    wav = torch.randn(2, 1, length) * 0.1
    posterior = tiny_vae.encode(wav)
    frames = math.ceil(length / tiny_vae.hop_length)
    assert posterior.mean.shape == (2, tiny_vae.latent_channels, frames)
    assert posterior.logvar.shape == posterior.mean.shape
    assert tiny_vae.decode(posterior.mode()).shape == (2, 1, frames * tiny_vae.hop_length)
    recon, _ = tiny_vae(wav)
    assert recon.shape == wav.shape


def test_stereo_shapes() -> None:
    config = VaeConfig(
        sample_rate=8000,
        audio_channels=2,
        encoder_hidden_size=8,
        decoder_channels=8,
        downsampling_ratios=(2, 2),
        channel_multiples=(1, 2),
        latent_channels=4,
    )
    vae = Vae(config).eval()
    recon, posterior = vae(torch.randn(1, 2, 21))
    assert recon.shape == (1, 2, 21)
    assert posterior.mean.shape == (1, 4, 6)


def test_stft_stereo_shapes_and_channels_are_kept_apart() -> None:
    config = VaeConfig(**{**VaeConfig.tiny_stft().__dict__, "audio_channels": 2})
    vae = Vae(config).eval()
    wav = torch.randn(1, 2, 100) * 0.1
    recon, posterior = vae(wav)
    assert recon.shape == (1, 2, 100)
    assert posterior.mean.shape == (1, 8, 4)  # ceil(100 / 32)
    # The encoder sees both channels: silencing one changes the latents.
    silenced = wav.clone()
    silenced[:, 1] = 0
    assert not torch.allclose(vae.encode(silenced).mean, posterior.mean)


def test_posterior_sampling(tiny_vae: Vae) -> None:
    posterior = tiny_vae.encode(torch.randn(1, 1, 64))
    a = posterior.sample(torch.Generator().manual_seed(1))
    b = posterior.sample(torch.Generator().manual_seed(1))
    c = posterior.sample(torch.Generator().manual_seed(2))
    assert torch.equal(a, b)
    assert not torch.equal(a, c)
    assert torch.all(posterior.std > 0)


def test_eval_forward_is_deterministic_and_training_forward_samples(tiny_vae: Vae) -> None:
    wav = torch.randn(1, 1, 64) * 0.1
    with torch.no_grad():
        assert torch.equal(tiny_vae(wav)[0], tiny_vae(wav)[0])
        tiny_vae.train()
        first, second = tiny_vae(wav)[0], tiny_vae(wav)[0]
    assert not torch.equal(first, second)


def test_kl_is_zero_for_standard_normal_and_positive_otherwise() -> None:
    zeros = torch.zeros(2, 4, 3)
    assert kl_loss(VaeLatents(zeros, zeros)).item() == pytest.approx(0.0)
    assert kl_loss(VaeLatents(zeros + 1.0, zeros)).item() == pytest.approx(2.0)  # 0.5 * 1 * 4
    assert kl_loss(VaeLatents(zeros, zeros - 2.0)).item() > 0


def test_bad_input_shapes_raise(tiny_vae: Vae) -> None:
    with pytest.raises(ValueError, match="audio must be"):
        tiny_vae.encode(torch.randn(1, 2, 64))
    with pytest.raises(ValueError, match="audio must be"):
        tiny_vae.encode(torch.randn(64))
    with pytest.raises(ValueError, match="latents must be"):
        tiny_vae.decode(torch.randn(1, 3, 4))


@pytest.mark.parametrize(
    "changes",
    [
        {"downsampling_ratios": (3, 4)},
        {"channel_multiples": (1,)},
        {"audio_channels": 3},
        {"latent_channels": 0},
        {"architecture": "wavelet"},
        {"architecture": "stft", "stft_hop": 0},
        {"architecture": "stft", "n_fft": 64, "stft_hop": 48},
        {"architecture": "stft", "n_fft": 64, "stft_hop": 16, "phase": "wrapped"},
        {"architecture": "stft", "n_fft": 64, "stft_hop": 16, "low_band_fft": 64},
        {
            "architecture": "stft",
            "n_fft": 64,
            "stft_hop": 16,
            "low_band_fft": 256,
            "low_band_hz": 4000.0,
        },
        {"architecture": "stft", "n_fft": 64, "stft_hop": 16, "decoder_low_band_fft": 256},
        {**VaeConfig.tiny_pitch().__dict__, "decoder_low_band_fft": 64},
        {**VaeConfig.tiny_pitch().__dict__, "decoder_low_band_fft": 256, "decoder_low_band_hz": 0},
    ],
)
def test_invalid_config_raises(changes: dict[str, object]) -> None:
    values = {**VaeConfig.tiny().__dict__, **changes}
    with pytest.raises(ValueError):
        VaeConfig(**values)  # type: ignore[arg-type]


def test_save_load_gives_identical_outputs(tiny_vae: Vae, tmp_path: Path) -> None:
    wav = torch.randn(1, 1, 50) * 0.1
    tiny_vae.save_pretrained(tmp_path / "vae")
    loaded = Vae.from_pretrained(tmp_path / "vae")
    assert loaded.config == tiny_vae.config
    with torch.no_grad():
        assert torch.equal(loaded(wav)[0], tiny_vae(wav)[0])
        assert torch.equal(loaded.encode(wav).logvar, tiny_vae.encode(wav).logvar)


def test_loading_another_architecture_raises(tmp_path: Path) -> None:
    Vae(VaeConfig.tiny()).save_pretrained(tmp_path / "oobleck")
    folder = tmp_path / "oobleck"
    meta = (folder / "config.json").read_text()
    (folder / "config.json").write_text(meta.replace('"oobleck"', '"stft"'))
    with pytest.raises(CheckpointError):
        Vae.from_pretrained(folder)


def test_loading_another_config_raises(tmp_path: Path) -> None:
    other = VaeConfig(**{**VaeConfig.tiny().__dict__, "latent_channels": 4})
    Vae(other).save_pretrained(tmp_path / "other")
    folder = tmp_path / "other"
    config_text = (
        (folder / "config.json").read_text().replace('"latent_channels": 4', '"latent_channels": 8')
    )
    (folder / "config.json").write_text(config_text)
    with pytest.raises(CheckpointError, match=r"has shape"):
        Vae.from_pretrained(folder)


@pytest.mark.parametrize("architecture", sorted(TINY_CONFIGS))
def test_a_few_steps_reduce_the_stft_loss(architecture: str) -> None:
    torch.manual_seed(0)
    vae = Vae(TINY_CONFIGS[architecture]).train()
    t = torch.arange(2048) / 8000
    clip = (0.5 * torch.sin(2 * math.pi * 440 * t) + 0.2 * torch.sin(2 * math.pi * 1250 * t))[
        None, None
    ]
    stft = MultiResolutionStftLoss(fft_sizes=(256, 128, 64))
    optimizer = torch.optim.Adam(vae.parameters(), lr=3e-3)

    def loss_now() -> float:
        with torch.no_grad():
            recon, _ = vae(clip, sample_posterior=False)
            return float(stft(recon, clip))

    # Clipped as the training loop clips (train.grad_clip 1.0); the phase-integrating decoders
    # spike now and then at this learning rate (a CPU's kernels decide where), so the test asks
    # for the best of the last ten steps rather than the last one.
    before = loss_now()
    late = []
    for step in range(30):
        recon, posterior = vae(clip, sample_posterior=False)
        loss = stft(recon, clip) + 1e-4 * kl_loss(posterior)
        optimizer.zero_grad()
        loss.backward()
        torch.nn.utils.clip_grad_norm_(vae.parameters(), 1.0)
        optimizer.step()
        if step >= 20:
            late.append(loss_now())
    assert min(late) < 0.8 * before


def test_phase_increments_integrate_exactly_over_long_sequences() -> None:
    config = VaeConfig.tiny_pitch()
    decoder = Vae(config).spectral_decoder
    bins, frames = config.n_fft // 2 + 1, 200_000
    phase = decoder._phase(
        torch.zeros(1, bins, frames), config.n_fft
    )  # zero deviation: each bin's own rate
    k = torch.arange(bins, dtype=torch.float64)
    # exact: frame t has advanced (t + 1) * k * hop / n_fft turns; compare the fractional turns
    turns = ((frames * k * config.stft_hop) % config.n_fft) / config.n_fft
    last = phase[0, :, -1].double() / (2 * math.pi)
    error = torch.remainder(last - turns + 0.5, 1.0) - 0.5
    assert error.abs().max() < 1e-5


def test_a_steady_deviation_is_a_steady_frequency_between_bins() -> None:
    config = VaeConfig.tiny_pitch()
    decoder = Vae(config).spectral_decoder
    bins = config.n_fft // 2 + 1
    deviation = torch.full((1, bins, 50), 0.3)  # tanh^-1 of the same offset in every frame
    phase = decoder._phase(deviation, config.n_fft)[0].double()
    steps = torch.remainder(phase[:, 1:] - phase[:, :-1], 2 * math.pi)
    assert steps.std(dim=1).max() < 1e-5, "the same advance in every frame"


def test_the_decoder_low_band_starts_silent_and_writes_narrow_bins() -> None:
    torch.manual_seed(0)
    plain = Vae(VaeConfig.tiny_pitch()).eval()
    banded = Vae(VaeConfig.tiny_low_band()).eval()
    own = banded.state_dict()
    banded.load_state_dict({**own, **plain.state_dict()})  # the same weights but the low band
    z = torch.randn(1, 8, 40)
    with torch.no_grad():
        reference = plain.decode(z)
        assert (banded.decode(z) - reference).abs().max() < 1e-4 * reference.abs().max()
        head = banded.spectral_decoder.low_band_out
        bins = banded.config.decoder_low_band_bins  # 256-point bins up to 500 Hz: 16 + 1
        assert head.bias.shape == (2 * bins,) and bins == 17
        head.weight_g.zero_()  # a constant output: one bin loud, the rest silent
        head.bias[:bins] = -30.0
        head.bias[3] = 2.0  # bin 3 of 256 points at 8 kHz: 93.75 Hz
        head.bias[bins:] = 0.0
        plain_out = plain.decode(z)
        low = (banded.decode(z) - plain_out)[0, 0].numpy()
    spectrum = abs(np.fft.rfft(low[256:-256]))
    peak_hz = np.argmax(spectrum) * 8000 / (len(low) - 512)
    assert abs(peak_hz - 93.75) < 8000 / (len(low) - 512)
