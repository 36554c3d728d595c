"""Invariants of the delay pattern and of VoiceCraft causal-masking rearrangement."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
import torch

from seedmusic.patterns import (
    DelayPattern,
    causal_mask_rearrange,
    restore_from_rearranged,
    sample_mask_spans,
    stack_padded,
)

PAD = 100
MASKS = (101, 102, 103, 104)
KS = [1, 2, 4, 8]
TS = [1, 2, 5, 17]


def random_codes(batch: int, k: int, t: int, seed: int = 0) -> torch.Tensor:
    return torch.randint(0, PAD, (batch, k, t), generator=torch.Generator().manual_seed(seed))


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("t", TS)
def test_apply_revert_round_trip_torch(k: int, t: int) -> None:
    pattern = DelayPattern(k)
    codes = random_codes(3, k, t)
    delayed = pattern.apply(codes, PAD)
    assert delayed.shape == (3, k, t + k - 1)
    assert delayed.dtype == codes.dtype
    assert torch.equal(pattern.revert(delayed, pad_id=PAD), codes)


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("t", TS)
def test_apply_revert_round_trip_numpy(k: int, t: int) -> None:
    pattern = DelayPattern(k)
    codes = random_codes(2, k, t).numpy().astype(np.int32)
    delayed = pattern.apply(codes, PAD)
    assert isinstance(delayed, np.ndarray) and delayed.dtype == np.int32
    assert delayed.shape == (2, k, t + k - 1)
    np.testing.assert_array_equal(pattern.revert(delayed, pad_id=PAD), codes)


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("t", TS)
def test_codebook_k_is_shifted_by_k(k: int, t: int) -> None:
    pattern = DelayPattern(k)
    codes = random_codes(1, k, t)[0]  # [K, T] without a batch axis
    delayed = pattern.apply(codes, PAD)
    for i in range(k):
        assert (delayed[i, :i] == PAD).all(), "codebook k's first k steps are pad"
        assert torch.equal(delayed[i, i : i + t], codes[i])
        assert (delayed[i, i + t :] == PAD).all(), "and its last K-1-k steps too"


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize("t", TS)
def test_valid_mask_matches_non_pad_positions(k: int, t: int) -> None:
    pattern = DelayPattern(k)
    delayed = pattern.apply(random_codes(1, k, t)[0], PAD)
    mask = pattern.valid_mask(t)
    assert mask.shape == (k, t + k - 1)
    np.testing.assert_array_equal(mask, (delayed != PAD).numpy())
    assert mask.sum() == k * t
    assert pattern.delayed_length(t) == t + k - 1 and pattern.num_frames(t + k - 1) == t


def test_rejects_wrong_shapes_and_types() -> None:
    pattern = DelayPattern(4)
    with pytest.raises(ValueError, match=r"K=4 codebooks, got \(2, 3, 5\)"):
        pattern.apply(torch.zeros(2, 3, 5, dtype=torch.long), PAD)
    with pytest.raises(ValueError, match=r"\[\.\.\., K, T\]"):
        pattern.apply(torch.zeros(5, dtype=torch.long), PAD)
    with pytest.raises(TypeError, match="integer"):
        pattern.apply(torch.zeros(1, 4, 5), PAD)
    with pytest.raises(ValueError, match="at least 3 steps, got 2"):
        pattern.revert(torch.zeros(1, 4, 2, dtype=torch.long))
    with pytest.raises(ValueError, match=">= 1"):
        DelayPattern(0)
    with pytest.raises(TypeError):
        pattern.apply([[1, 2]], PAD)  # type: ignore[type-var]


def test_revert_detects_misaligned_sequence() -> None:
    pattern = DelayPattern(3)
    delayed = pattern.apply(random_codes(1, 3, 5), PAD)
    delayed[0, 2, 0] = 7  # a code where codebook 2 must be pad
    with pytest.raises(ValueError, match="outside the delay pattern"):
        pattern.revert(delayed, pad_id=PAD)
    assert pattern.revert(delayed).shape == (1, 3, 5)  # without pad_id it does not check


# ------------------------------------------------------------------ causal masking


@pytest.mark.parametrize("t", [1, 2, 5, 17, 60])
@pytest.mark.parametrize("lam", [0.0, 1.0, 4.0])
def test_sampled_spans_are_sorted_disjoint_and_in_bounds(t: int, lam: float) -> None:
    rng = np.random.default_rng(t * 10 + int(lam))
    for _ in range(50):
        spans = sample_mask_spans(t, rng, poisson_lambda=lam, max_span_len=6, max_spans=3)
        assert 1 <= len(spans) <= 3
        for start, end in spans:
            assert 0 <= start < end <= t
            assert end - start <= 6
        for (_, end), (start, _) in itertools.pairwise(spans):
            assert start > end, "at least one unmasked frame between spans"


def test_span_statistics_follow_the_distributions() -> None:
    rng = np.random.default_rng(0)
    samples = [
        sample_mask_spans(1000, rng, poisson_lambda=2.0, max_span_len=10, max_spans=50)
        for _ in range(2000)
    ]
    counts = np.array([len(s) for s in samples])
    lengths = np.array([e - s for spans in samples for s, e in spans])
    # n ~ Poisson(2) clipped at >= 1: mean = 2 + P(n=0) = 2 + e^-2.
    assert abs(counts.mean() - (2 + np.exp(-2))) < 0.1
    assert set(lengths.tolist()) == set(range(1, 11))
    assert abs(lengths.mean() - 5.5) < 0.2


@pytest.mark.parametrize("k", KS)
@pytest.mark.parametrize(
    ("t", "spans"),
    [
        (1, [(0, 1)]),
        (5, [(0, 2)]),
        (5, [(3, 5)]),
        (5, [(1, 2), (3, 4)]),
        (17, [(0, 3), (5, 9), (16, 17)]),
        (17, [(2, 3), (4, 5), (6, 7), (8, 16)]),
    ],
)
def test_rearrange_restore_round_trip_and_layout(
    k: int, t: int, spans: list[tuple[int, int]]
) -> None:
    codes = random_codes(1, k, t, seed=t)[0]
    out = causal_mask_rearrange(codes, spans, MASKS, PAD)
    cuts = [0, *[x for span in spans for x in span], t]
    kept = [(a, b) for a, b in zip(cuts[::2], cuts[1::2], strict=True)]
    non_empty = sum(1 for a, b in kept if b > a) + len(spans)
    assert out.shape == (k, t + non_empty * (k - 1) + 2 * len(spans))
    # Mask columns: M_1..M_n then M_1..M_n, each a full column of one id.
    mask_cols = [j for j in range(out.shape[1]) if int(out[0, j]) in MASKS]
    assert [int(out[0, j]) for j in mask_cols] == list(MASKS[: len(spans)]) * 2
    for j in mask_cols:
        assert (out[:, j] == out[0, j]).all()
    # The moved part starts right after the n-th mask column with M_1 and D(Y_1).
    n = len(spans)
    first_moved = mask_cols[n]
    y1 = codes[:, spans[0][0] : spans[0][1]]
    span_len = y1.shape[1]
    assert torch.equal(
        out[:, first_moved + 1 : first_moved + 1 + span_len + k - 1], DelayPattern(k).apply(y1, PAD)
    )
    assert torch.equal(restore_from_rearranged(out, MASKS, k), codes)
    # numpy in, numpy out
    restored = restore_from_rearranged(
        causal_mask_rearrange(codes.numpy(), spans, MASKS, PAD), MASKS, k
    )
    np.testing.assert_array_equal(restored, codes.numpy())


@pytest.mark.parametrize("k", [1, 3])
def test_rearrange_round_trip_with_sampled_spans(k: int) -> None:
    rng = np.random.default_rng(7)
    for trial in range(40):
        t = int(rng.integers(1, 40))
        codes = random_codes(1, k, t, seed=trial)[0]
        spans = sample_mask_spans(t, rng, poisson_lambda=2.0, max_span_len=8, max_spans=len(MASKS))
        out = causal_mask_rearrange(codes, spans, MASKS, PAD)
        assert torch.equal(restore_from_rearranged(out, MASKS, k), codes)


def test_rearrange_rejects_bad_spans_and_tokens() -> None:
    codes = random_codes(1, 2, 10)[0]
    with pytest.raises(ValueError, match="non-overlapping"):
        causal_mask_rearrange(codes, [(0, 4), (3, 6)], MASKS, PAD)
    with pytest.raises(ValueError, match="outside"):
        causal_mask_rearrange(codes, [(8, 12)], MASKS, PAD)
    with pytest.raises(ValueError, match="only 1 mask token"):
        causal_mask_rearrange(codes, [(0, 1), (3, 4)], MASKS[:1], PAD)
    with pytest.raises(ValueError, match="at least one span"):
        causal_mask_rearrange(codes, [], MASKS, PAD)
    bad = codes.clone()
    bad[0, 0] = MASKS[0]
    with pytest.raises(ValueError, match="mask token id"):
        causal_mask_rearrange(bad, [(2, 3)], MASKS, PAD)
    with pytest.raises(ValueError, match=r"M_1\.\.M_n"):
        restore_from_rearranged(codes, MASKS, 2)


def test_stack_padded() -> None:
    a, b = random_codes(1, 2, 3)[0], random_codes(1, 2, 5)[0]
    batch = stack_padded([a, b], PAD)
    assert batch.shape == (2, 2, 5)
    assert torch.equal(batch[0, :, :3], a) and (batch[0, :, 3:] == PAD).all()
    assert torch.equal(batch[1], b)
    as_numpy = stack_padded([a.numpy(), b.numpy()], PAD)
    assert isinstance(as_numpy, np.ndarray)
    np.testing.assert_array_equal(as_numpy, batch.numpy())
    with pytest.raises(ValueError, match=r"\[K=2, L\]"):
        stack_padded([a, random_codes(1, 3, 2)[0]], PAD)
