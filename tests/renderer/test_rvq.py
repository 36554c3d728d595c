"""Residual vector quantizer: shapes, residual structure, k-means, EMA, dead codes, save/load."""

from __future__ import annotations

import dataclasses
import itertools
from pathlib import Path

import pytest
import torch

from renderer.rvq import ResidualVQ, RvqConfig


def _clustered(batch: int = 4, frames: int = 64, dim: int = 8, seed: int = 0) -> torch.Tensor:
    """`[B, D, T]` latents drawn around 12 centres plus small noise (structured data)."""
    g = torch.Generator().manual_seed(seed)
    centres = torch.randn(12, dim, generator=g) * 2.0
    picks = torch.randint(0, 12, (batch * frames,), generator=g)
    x = centres[picks] + 0.1 * torch.randn(batch * frames, dim, generator=g)
    return x.reshape(batch, frames, dim).transpose(1, 2)


def _mse(rvq: ResidualVQ, z: torch.Tensor, k: int | None = None) -> float:
    return float((rvq.decode(rvq.encode(z, k)) - z).pow(2).mean())


def test_reference_bitrates_span_250_to_2000() -> None:
    config = RvqConfig.reference()
    assert config.bitrate(25.0, 1) == pytest.approx(250.0)
    assert config.bitrate(25.0) == pytest.approx(2000.0)


def test_bad_configs_raise() -> None:
    with pytest.raises(ValueError, match="ema_decay"):
        RvqConfig(ema_decay=1.0)
    with pytest.raises(ValueError, match="codebook_size"):
        RvqConfig(codebook_size=0)


def test_forward_shapes_and_straight_through() -> None:
    torch.manual_seed(0)
    rvq = ResidualVQ(RvqConfig.tiny()).train()
    z = _clustered().requires_grad_(True)
    out = rvq(z)
    assert out.quantized.shape == z.shape
    assert out.codes.shape == (4, 2, 64) and out.codes.dtype == torch.int64
    assert out.commit_loss.dim() == 0 and float(out.commit_loss.detach()) >= 0
    assert set(out.stats) == {"perplexity", "usage", "mse"}
    assert out.stats["perplexity"].shape == (2,)
    (out.quantized.sum() + out.commit_loss).backward()
    assert z.grad is not None and torch.isfinite(z.grad).all()
    # forward's quantized values are the decoded codes
    assert torch.allclose(out.quantized.detach(), rvq.decode(out.codes), atol=1e-5)


def test_shape_errors() -> None:
    rvq = ResidualVQ(RvqConfig.tiny())
    with pytest.raises(ValueError, match="latents must be"):
        rvq.encode(torch.zeros(1, 3, 5))
    with pytest.raises(ValueError, match=r"1\.\.2 codebooks"):
        rvq.encode(torch.zeros(1, 8, 5), num_codebooks=3)
    with pytest.raises(ValueError, match="must lie in"):
        rvq.decode(torch.full((1, 2, 4), 16, dtype=torch.long))
    with pytest.raises(ValueError, match="integers"):
        rvq.decode(torch.zeros(1, 2, 4))


@pytest.mark.parametrize("data", ["random", "structured"])
def test_more_codebooks_never_increase_error(data: str) -> None:
    torch.manual_seed(1)
    config = dataclasses.replace(RvqConfig.tiny(), num_codebooks=4)
    rvq = ResidualVQ(config).train()
    z = torch.randn(2, 8, 64) if data == "random" else _clustered()
    rvq(z)  # k-means initialisation on this batch
    rvq.eval()
    errors = [_mse(rvq, z, k) for k in range(1, 5)]
    assert all(b <= a + 1e-6 for a, b in itertools.pairwise(errors)), errors
    assert errors[-1] < errors[0]
    assert errors[0] < float(z.pow(2).mean())


def test_kmeans_init_beats_random_init() -> None:
    torch.manual_seed(2)
    z = _clustered()
    random_init = ResidualVQ(RvqConfig.tiny()).eval()
    kmeans = ResidualVQ(RvqConfig.tiny()).train()
    assert not bool(kmeans.initialized)
    kmeans(z)
    assert bool(kmeans.initialized)
    kmeans.eval()
    assert _mse(kmeans, z) < 0.5 * _mse(random_init, z)


def test_ema_training_lowers_error() -> None:
    torch.manual_seed(3)
    config = dataclasses.replace(RvqConfig.tiny(), kmeans_iters=0, ema_decay=0.8)
    rvq = ResidualVQ(config).train()
    z = _clustered()
    rvq(z)  # initialisation from random batch vectors only (no Lloyd iterations)
    before = _mse(rvq, z)
    for _ in range(20):
        rvq(z)
    after = _mse(rvq, z)
    assert after < 0.8 * before, (before, after)


def test_eval_mode_does_not_change_codebooks() -> None:
    rvq = ResidualVQ(RvqConfig.tiny()).eval()
    books = rvq.codebooks.clone()
    rvq(_clustered())
    assert torch.equal(rvq.codebooks, books) and not bool(rvq.initialized)


def test_dead_codes_are_restarted_from_current_residuals() -> None:
    torch.manual_seed(4)
    config = dataclasses.replace(RvqConfig.tiny(), num_codebooks=1, dead_code_threshold=0.5)
    rvq = ResidualVQ(config).train()
    z = _clustered()
    rvq(z)
    # Move every entry but 0 far away so no vector picks it: they die on the next step.
    rvq.codebooks[0, 1:] = 1e3
    rvq.cluster_size[0, 1:] = 0.0
    rvq(z)
    vectors = z.transpose(1, 2).reshape(-1, 8)
    restarted = rvq.codebooks[0, 1:]
    assert restarted.abs().max() < 1e2
    # each restarted entry is one of the batch's vectors
    gap = (restarted[:, None] - vectors[None]).abs().amax(dim=-1).min(dim=1).values  # [15]
    assert float(gap.max()) == 0.0
    assert float(rvq.codebook_usage()[0]) == 1.0


def test_usage_and_perplexity() -> None:
    rvq = ResidualVQ(RvqConfig.tiny())
    assert torch.allclose(rvq.codebook_perplexity(), torch.full((2,), 16.0))
    rvq.cluster_size[0] = 0.0
    rvq.cluster_size[0, 3] = 10.0
    assert float(rvq.codebook_perplexity()[0]) == pytest.approx(1.0)
    assert float(rvq.codebook_usage()[0]) == pytest.approx(1 / 16)


def test_encode_decode_encode_is_stable() -> None:
    torch.manual_seed(5)
    rvq = ResidualVQ(RvqConfig.tiny()).train()
    z = _clustered()
    rvq(z)
    rvq.eval()
    codes = rvq.encode(z)
    again = rvq.encode(rvq.decode(codes))
    assert (again == codes).float().mean() > 0.99
    assert torch.equal(rvq.encode(rvq.decode(again)), again)


def test_save_load_identical(tmp_path: Path) -> None:
    torch.manual_seed(6)
    rvq = ResidualVQ(RvqConfig.tiny()).train()
    z = _clustered()
    rvq(z)
    rvq.save_pretrained(tmp_path / "rvq")
    loaded = ResidualVQ.from_pretrained(tmp_path / "rvq")
    assert bool(loaded.initialized)
    for name, tensor in rvq.state_dict().items():
        assert torch.equal(loaded.state_dict()[name], tensor), name
    rvq.eval()
    assert torch.equal(loaded.encode(z), rvq.encode(z))
    codes = rvq.encode(z, 1)
    assert torch.equal(loaded.decode(codes), rvq.decode(codes))


def _train_on_rank(rank: int, world: int, init_file: str, out_dir: str) -> None:
    import torch.distributed as dist

    dist.init_process_group("gloo", init_method=f"file://{init_file}", rank=rank, world_size=world)
    try:
        torch.manual_seed(100 + rank)  # different k-means seeds and restarts on purpose
        rvq = ResidualVQ(RvqConfig.tiny()).train()
        for step in range(3):
            rvq(_clustered(batch=2, frames=32, seed=10 * rank + step))  # different data per rank
        torch.save(rvq.state_dict(), f"{out_dir}/rank{rank}.pt")
    finally:
        dist.destroy_process_group()


def test_codebooks_stay_identical_across_processes(tmp_path: Path) -> None:
    import torch.multiprocessing as mp

    mp.spawn(_train_on_rank, args=(2, str(tmp_path / "init"), str(tmp_path)), nprocs=2)
    first = torch.load(tmp_path / "rank0.pt", weights_only=True)
    second = torch.load(tmp_path / "rank1.pt", weights_only=True)
    for name, tensor in first.items():
        assert torch.equal(second[name], tensor), name
