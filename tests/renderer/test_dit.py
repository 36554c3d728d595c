"""Latent DiT: shapes, conditioning paths, input checks, save/load."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import pytest
import torch

from renderer.dit import DitConfig, LatentDiT, _patchify, _unpatchify

B, T = 2, 12


@pytest.fixture
def dit() -> LatentDiT:
    torch.manual_seed(0)
    return LatentDiT(DitConfig.tiny()).eval()


def _inputs(seed: int = 0) -> dict[str, torch.Tensor]:
    g = torch.Generator().manual_seed(seed)
    config = DitConfig.tiny()
    return {
        "noisy": torch.randn(B, config.latent_dim, T, generator=g),
        "t": torch.rand(B, generator=g),
        "codes": torch.randint(0, config.codebook_size, (B, config.num_codebooks, T), generator=g),
    }


def test_reference_config_matches_the_codec() -> None:
    config = DitConfig.reference()
    assert (config.latent_dim, config.num_codebooks, config.codebook_size) == (64, 8, 1024)
    assert config.in_channels == 2 * 64 + config.code_channels + 1


def test_bad_config_raises() -> None:
    with pytest.raises(ValueError, match="num_key_value_heads"):
        dataclasses.replace(DitConfig.tiny(), num_key_value_heads=3)


def test_output_shape_and_every_condition(dit: LatentDiT) -> None:
    x = _inputs()
    assert dit(**x).shape == (B, 8, T)
    mask = torch.zeros(B, 1, T)
    mask[:, :, :4] = 1
    context = torch.randn(B, 5, 16)
    context_mask = torch.ones(B, 5, dtype=torch.bool)
    context_mask[1, 3:] = False
    out = dit(
        **x,
        known_latents=torch.randn(B, 8, T),
        known_mask=mask,
        context=context,
        context_mask=context_mask,
        global_embedding=torch.randn(B, 16),
    )
    assert out.shape == (B, 8, T) and torch.isfinite(out).all()
    assert not torch.allclose(out, dit(**x))  # the conditions change the prediction
    assert dit(x["noisy"], x["t"], None).shape == (B, 8, T)  # no codes at all


def test_codes_change_the_prediction(dit: LatentDiT) -> None:
    x = _inputs()
    other = dict(x, codes=(x["codes"] + 1) % 16)
    assert not torch.allclose(dit(**x), dit(**other))


def test_condition_dropout_equals_no_conditions(dit: LatentDiT) -> None:
    x = _inputs()
    context, glob = torch.randn(B, 5, 16), torch.randn(B, 16)
    drop = torch.tensor([True, False])
    dropped = dit(**x, context=context, global_embedding=glob, drop_conditions=drop)
    unconditional = dit(x["noisy"], x["t"], None)
    conditional = dit(**x, context=context, global_embedding=glob)
    assert torch.allclose(dropped[0], unconditional[0], atol=1e-5)
    assert torch.allclose(dropped[1], conditional[1], atol=1e-5)


def test_dropout_path_trains_the_null_embeddings() -> None:
    dit = LatentDiT(DitConfig.tiny()).train()
    x = _inputs()
    out = dit(**x, context=torch.randn(B, 3, 16), drop_conditions=torch.tensor([True, True]))
    out.pow(2).mean().backward()
    assert dit.null_context.grad is not None and dit.null_context.grad.abs().sum() > 0
    assert dit.null_codes.grad is not None and dit.null_codes.grad.abs().sum() > 0
    assert all(p.grad is None or p.grad.abs().sum() == 0 for p in dit.code_embeddings.parameters())


def test_bad_inputs_raise(dit: LatentDiT) -> None:
    x = _inputs()
    with pytest.raises(ValueError, match="latents must be"):
        dit(torch.zeros(B, 7, T), x["t"], None)
    with pytest.raises(ValueError, match="codes must be"):
        dit(x["noisy"], x["t"], x["codes"][:, :1])
    with pytest.raises(ValueError, match="must lie in"):
        dit(x["noisy"], x["t"], torch.full_like(x["codes"], 16))
    with pytest.raises(ValueError, match="known_latents is None"):
        dit(**x, known_mask=torch.ones(B, 1, T))
    with pytest.raises(ValueError, match="context must be"):
        dit(**x, context=torch.zeros(B, 3, 5))
    with pytest.raises(ValueError, match="drop_conditions"):
        dit(**x, drop_conditions=torch.tensor([True]))


def test_save_load_identical_outputs(dit: LatentDiT, tmp_path: Path) -> None:
    dit.save_pretrained(tmp_path / "dit")
    loaded = LatentDiT.from_pretrained(tmp_path / "dit")
    assert loaded.config == dit.config
    x = _inputs(1)
    context = torch.randn(B, 4, 16)
    with torch.no_grad():
        assert torch.equal(loaded(**x, context=context), dit(**x, context=context))


def _framed(patch_size: int = 1) -> LatentDiT:
    torch.manual_seed(0)
    config = dataclasses.replace(
        DitConfig.tiny(), frame_dim=6, frame_channels=8, patch_size=patch_size
    )
    return LatentDiT(config).eval()


def test_score_frames_change_the_prediction_and_drop_to_the_null_frames() -> None:
    dit = _framed()
    x = _inputs()
    frames = torch.rand(B, 6, T)
    with_frames = dit(**x, score_frames=frames)
    assert with_frames.shape == (B, 8, T)
    assert not torch.allclose(with_frames, dit(**x))
    dropped = dit(**x, score_frames=frames, drop_conditions=torch.ones(B, dtype=torch.bool))
    torch.testing.assert_close(dropped, dit(**x, drop_conditions=torch.ones(B, dtype=torch.bool)))
    with pytest.raises(ValueError, match="score_frames must be"):
        dit(**x, score_frames=torch.rand(B, 5, T))
    with pytest.raises(ValueError, match="takes no score frames"):
        LatentDiT(DitConfig.tiny())(**x, score_frames=frames)


def test_dropping_the_codes_alone_keeps_the_score_frames() -> None:
    dit = _framed()
    x = _inputs()
    frames = torch.rand(B, 6, T)
    drop = torch.tensor([True, False])
    out = dit(**x, score_frames=frames, drop_codes=drop)
    no_codes = dit(**{**x, "codes": None}, score_frames=frames)
    torch.testing.assert_close(out[0], no_codes[0])
    torch.testing.assert_close(out[1], dit(**x, score_frames=frames)[1])


@pytest.mark.parametrize("frames", [12, 13])
def test_patches_keep_every_frame_its_own_output(frames: int) -> None:
    dit = _framed(patch_size=2)
    assert dit.config.in_channels * 2 == dit.transformer.config.in_channels
    g = torch.Generator().manual_seed(1)
    noisy = torch.randn(1, 8, frames, generator=g)
    cond = torch.rand(1, 6, frames, generator=g)
    out = dit(noisy, torch.tensor([0.5]), None, score_frames=cond)
    assert out.shape == (1, 8, frames)
    x = torch.arange(2 * 3 * frames, dtype=torch.float32).reshape(2, 3, frames)
    tokens = _patchify(x, 2)  # [2, 6, ceil(T / 2)]
    assert tokens.shape == (2, 6, (frames + 1) // 2)
    assert tokens[0, 1, 0] == x[0, 0, 1] and tokens[0, 2, 1] == x[0, 1, 2]  # channel c*p + j
    torch.testing.assert_close(_unpatchify(tokens, 2)[..., :frames], x)


def test_latent_statistics_round_trip_and_are_saved(tmp_path: Path) -> None:
    dit = _framed()
    mean, std = torch.linspace(-1, 1, 8), torch.linspace(0.5, 2, 8)
    dit.set_latent_statistics(mean, std)
    x = torch.randn(1, 8, 5)
    torch.testing.assert_close(dit.denormalize(dit.normalize(x)), x)
    assert dit.normalize(mean[None, :, None]).abs().max() < 1e-6
    loaded = LatentDiT.from_pretrained(dit.save_pretrained(tmp_path / "dit"))
    torch.testing.assert_close(loaded.latent_std, std)
    with pytest.raises(ValueError, match="std > 0"):
        dit.set_latent_statistics(mean, torch.zeros(8))
