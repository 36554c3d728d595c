"""Multi-scale STFT discriminator and the adversarial losses."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from renderer.discriminator import (
    DiscriminatorConfig,
    MultiScaleStftDiscriminator,
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
)
from renderer.modeling import CheckpointError


@pytest.fixture
def tiny() -> MultiScaleStftDiscriminator:
    torch.manual_seed(0)
    return MultiScaleStftDiscriminator(DiscriminatorConfig.tiny()).eval()


def test_output_structure(tiny: MultiScaleStftDiscriminator) -> None:
    config = tiny.config
    out = tiny(torch.randn(2, 1, 700))
    assert len(out.logits) == len(out.features) == len(config.fft_sizes)
    for n_fft, logits, features in zip(config.fft_sizes, out.logits, out.features, strict=True):
        frames = 700 // (n_fft // 4) + 1
        bins = n_fft // 2 + 1
        for _ in range(config.num_layers):
            bins = (bins - 1) // 2 + 1  # stride 2 along frequency
        assert logits.shape == (2, 1, frames, bins)
        assert len(features) == config.num_layers + 2
        assert all(f.shape[:2] == (2, config.channels) for f in features)


def test_stereo() -> None:
    config = DiscriminatorConfig(audio_channels=2, fft_sizes=(64,), channels=4, num_layers=1)
    out = MultiScaleStftDiscriminator(config)(torch.randn(1, 2, 300))
    assert out.logits[0].shape[:2] == (1, 1)
    with pytest.raises(ValueError, match="audio must be"):
        MultiScaleStftDiscriminator(config)(torch.randn(1, 1, 300))


def test_hinge_losses() -> None:
    confident_real, confident_fake = (
        [torch.full((1, 1, 2, 2), 2.0)],
        [torch.full((1, 1, 2, 2), -2.0)],
    )
    assert discriminator_loss(confident_real, confident_fake).item() == 0.0
    assert discriminator_loss(confident_fake, confident_real).item() == pytest.approx(6.0)
    assert generator_adversarial_loss(confident_real).item() == 0.0
    assert generator_adversarial_loss(confident_fake).item() == pytest.approx(3.0)
    with pytest.raises(ValueError):
        discriminator_loss(confident_real, [])


def test_feature_matching(tiny: MultiScaleStftDiscriminator) -> None:
    real = tiny(torch.randn(1, 1, 512)).features
    assert feature_matching_loss(real, real).item() == 0.0
    fake_wav = torch.randn(1, 1, 512, requires_grad=True)
    loss = feature_matching_loss(real, tiny(fake_wav).features)
    assert loss.item() > 0
    loss.backward()
    assert fake_wav.grad is not None and fake_wav.grad.abs().sum() > 0


def test_every_parameter_gets_a_gradient(tiny: MultiScaleStftDiscriminator) -> None:
    out = tiny(torch.randn(1, 1, 512))
    discriminator_loss(out.logits, [-x for x in out.logits]).backward()
    assert all(p.grad is not None for p in tiny.parameters())


def test_a_few_steps_separate_real_from_fake() -> None:
    torch.manual_seed(0)
    disc = MultiScaleStftDiscriminator(DiscriminatorConfig.tiny())
    optimizer = torch.optim.Adam(disc.parameters(), lr=1e-3)
    t = torch.arange(1024) / 8000
    real = torch.sin(2 * torch.pi * 440 * t)[None, None]
    fake = 0.3 * torch.randn(1, 1, 1024, generator=torch.Generator().manual_seed(1))
    losses = []
    for _ in range(15):
        loss = discriminator_loss(disc(real).logits, disc(fake).logits)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        losses.append(loss.item())
    assert losses[-1] < losses[0]


def test_save_load_gives_identical_outputs(
    tiny: MultiScaleStftDiscriminator, tmp_path: Path
) -> None:
    wav = torch.randn(1, 1, 400)
    tiny.save_pretrained(tmp_path / "disc")
    loaded = MultiScaleStftDiscriminator.from_pretrained(tmp_path / "disc")
    assert loaded.config == tiny.config
    with torch.no_grad():
        for a, b in zip(loaded(wav).logits, tiny(wav).logits, strict=True):
            assert torch.equal(a, b)


def test_loading_another_config_raises(tmp_path: Path) -> None:
    MultiScaleStftDiscriminator(
        DiscriminatorConfig(fft_sizes=(64,), channels=4, num_layers=1)
    ).save_pretrained(tmp_path / "disc")
    config_file = tmp_path / "disc" / "config.json"
    config_file.write_text(config_file.read_text().replace('"channels": 4', '"channels": 8'))
    with pytest.raises(CheckpointError):
        MultiScaleStftDiscriminator.from_pretrained(tmp_path / "disc")


def test_invalid_config_raises() -> None:
    with pytest.raises(ValueError):
        DiscriminatorConfig(fft_sizes=())
    with pytest.raises(ValueError):
        DiscriminatorConfig(audio_channels=0)
