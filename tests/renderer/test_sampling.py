"""Flow-matching loss and sampling: training reduces the loss, inpainting keeps known frames."""

from __future__ import annotations

import pytest
import torch

from renderer.dit import DitConfig, LatentDiT
from renderer.sampling import flow_matching_loss, random_inpainting_mask, sample_latents


def _example() -> tuple[torch.Tensor, torch.Tensor]:
    g = torch.Generator().manual_seed(0)
    latents = torch.randn(1, 8, 16, generator=g)
    codes = torch.randint(0, 16, (1, 2, 16), generator=g)
    return latents, codes


def _mean_loss(dit: LatentDiT, latents: torch.Tensor, codes: torch.Tensor) -> float:
    with torch.no_grad():
        losses = [
            flow_matching_loss(dit, latents, codes, generator=torch.Generator().manual_seed(i))
            for i in range(16)
        ]
    return float(torch.stack(losses).mean())


def test_random_inpainting_masks() -> None:
    g = torch.Generator().manual_seed(0)
    assert random_inpainting_mask(4, 10, 0.0, g).sum() == 0
    masks = random_inpainting_mask(64, 10, 1.0, g)
    assert masks.shape == (64, 1, 10)
    unknown = (masks == 0).squeeze(1)  # [64, 10]
    assert unknown.any(dim=1).all()  # every example has a span to generate
    for row in unknown:  # ... and it is contiguous
        idx = row.nonzero().squeeze(1)
        assert int(idx[-1] - idx[0] + 1) == idx.numel()


def test_loss_is_only_on_unknown_frames() -> None:
    torch.manual_seed(0)
    dit = LatentDiT(DitConfig.tiny())
    outputs: list[torch.Tensor] = []

    def keep_output(_module: torch.nn.Module, _args: object, out: torch.Tensor) -> None:
        out.retain_grad()
        outputs.append(out)

    dit.register_forward_hook(keep_output)
    latents, codes = _example()
    mask = torch.zeros(1, 1, 16)
    mask[..., :8] = 1
    loss = flow_matching_loss(dit, latents, codes, mask=mask, generator=torch.Generator())
    loss.backward()
    assert loss.dim() == 0 and float(loss.detach()) > 0
    grad = outputs[0].grad  # [1, D, T]
    assert grad is not None
    assert torch.all(grad[..., :8] == 0) and torch.all(grad[..., 8:].abs().sum(dim=1) > 0)


def test_training_reduces_the_flow_matching_loss() -> None:
    torch.manual_seed(0)
    dit = LatentDiT(DitConfig.tiny()).train()
    latents, codes = _example()
    before = _mean_loss(dit, latents, codes)
    optimizer = torch.optim.AdamW(dit.parameters(), lr=3e-3)
    g = torch.Generator().manual_seed(1)
    for _ in range(100):
        loss = flow_matching_loss(
            dit, latents, codes, inpaint_prob=0.3, cond_drop_prob=0.1, generator=g
        )
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    after = _mean_loss(dit, latents, codes)
    assert after < 0.6 * before, (before, after)


@pytest.mark.parametrize("guidance_scale", [1.0, 3.0])
def test_sampling_shape_and_inpainting(guidance_scale: float) -> None:
    torch.manual_seed(0)
    dit = LatentDiT(DitConfig.tiny()).eval()
    latents, codes = _example()
    mask = torch.zeros(1, 1, 16)
    mask[..., :5] = 1
    mask[..., 12:] = 1
    out = sample_latents(
        dit,
        codes,
        num_steps=3,
        guidance_scale=guidance_scale,
        known_latents=latents,
        known_mask=mask,
        generator=torch.Generator().manual_seed(2),
        progress=False,
    )
    assert out.shape == latents.shape and torch.isfinite(out).all()
    keep = mask.bool().expand_as(latents)
    assert torch.equal(out[keep], latents[keep])
    assert not torch.allclose(out[~keep], latents[~keep])


def test_sampling_is_reproducible_and_needs_a_length() -> None:
    torch.manual_seed(0)
    dit = LatentDiT(DitConfig.tiny()).eval()
    _, codes = _example()
    a = sample_latents(dit, codes, 2, generator=torch.Generator().manual_seed(3), progress=False)
    b = sample_latents(dit, codes, 2, generator=torch.Generator().manual_seed(3), progress=False)
    assert torch.equal(a, b)
    assert sample_latents(dit, None, 2, num_frames=7, progress=False).shape == (1, 8, 7)
    with pytest.raises(ValueError, match="num_frames"):
        sample_latents(dit, None, 2)
    with pytest.raises(ValueError, match="go together"):
        sample_latents(dit, codes, 2, known_latents=torch.zeros(1, 8, 16))
