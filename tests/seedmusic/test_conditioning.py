"""The condition encoder: prefix layout, xVal numbers, null embeddings, dropout, errors."""

from __future__ import annotations

import dataclasses

import numpy as np
import pytest
import torch

from seedmusic.conditioning import (
    ConditionConfig,
    ConditionEncoder,
    Conditions,
    parse_style,
)

H, K, C = 32, 4, 16


def encoder(config: ConditionConfig | None = None, seed: int = 0) -> ConditionEncoder:
    torch.manual_seed(seed)
    return ConditionEncoder(config or ConditionConfig.tiny(), H, K, C).eval()


def full_conditions() -> Conditions:
    return Conditions(
        style_tags=("Pop", "female vocal"),
        text_embedding=np.ones(16, dtype=np.float32),
        numbers={"tempo_bpm": 100.0, "duration_s": 30.0},
        phonemes=("AA1", "B", "ZH"),
        reference_codes=torch.randint(0, C, (K, 5)),
    )


def test_prefix_length_per_condition_and_padding() -> None:
    enc = encoder()
    prefix, mask = enc([full_conditions(), Conditions()])
    # style 2 + text 1 + numbers 2 + phonemes 3 + pooled reference 1 = 9; empty: 1+1+2+1+1 = 6
    assert prefix.shape == (2, 9, H)
    assert mask.tolist() == [[True] * 9, [True] * 6 + [False] * 3]
    assert torch.equal(prefix[1, 6:], torch.zeros(3, H))


def test_reference_frames_mode_one_position_per_frame() -> None:
    config = dataclasses.replace(ConditionConfig.tiny(), reference_mode="frames")
    enc = encoder(config)
    codes = torch.randint(0, C, (K, 40))
    prefix, _ = enc([Conditions(reference_codes=codes)])
    assert prefix.shape[1] == 1 + 1 + 2 + 1 + config.max_reference_frames  # truncated to 16
    # frame embedding is the sum of the K codebook embeddings (+ the kind embedding)
    offsets = torch.arange(K)[:, None] * C
    expected = (
        enc.reference_embedding(codes[:, :1] + offsets).sum(0)[0] + enc.kind_embedding.weight[4]
    )
    torch.testing.assert_close(prefix[0, 5], expected)


def test_xval_number_scales_one_embedding() -> None:
    enc = encoder()
    lo, hi = enc.config.number_ranges[0]
    assert enc.normalise_number("tempo_bpm", lo) == -1.0
    assert enc.normalise_number("tempo_bpm", hi) == 1.0
    assert enc.normalise_number("tempo_bpm", (lo + hi) / 2) == 0.0
    assert enc.normalise_number("tempo_bpm", 10 * hi) == 1.0  # clipped
    rows = []
    for bpm in (90.0, 140.0, 190.0):
        prefix, _ = enc([Conditions(numbers={"tempo_bpm": bpm})])
        rows.append(prefix[0, 2])  # style null, text null, then tempo
    # equal steps in value give equal steps in embedding, along the [NUM] direction
    step1, step2 = rows[1] - rows[0], rows[2] - rows[1]
    torch.testing.assert_close(step1, step2)
    torch.testing.assert_close(step1, enc.number_embedding * 0.5, rtol=1e-5, atol=1e-6)


def test_absent_and_dropped_conditions_use_null_embeddings() -> None:
    enc = encoder()
    dropped, mask = enc([full_conditions()], drop_all=True)
    empty, _ = enc([Conditions()])
    assert mask.sum() == 6
    torch.testing.assert_close(dropped[:, :6], empty)
    # training mode drops each condition with the configured probability
    enc.train()
    gen = torch.Generator().manual_seed(0)
    lengths = [int(enc([full_conditions()], generator=gen)[1].sum()) for _ in range(200)]
    assert set(lengths) > {9}, "some conditions get dropped"
    assert lengths.count(9) > 100  # (1 - 0.1)^5 = 59% keep everything


def test_phoneme_stress_and_unknown() -> None:
    enc = encoder()
    unk = len(enc.config.phonemes)
    assert enc.phoneme_ids(["AA1", "AA", "B", "ZH", "xx"]) == [0, 0, 2, unk, unk]


def test_errors_name_the_problem() -> None:
    enc = encoder()
    with pytest.raises(ValueError, match="unknown style tag 'polka'"):
        enc([Conditions(style_tags=("polka",))])
    with pytest.raises(ValueError, match=r"text_embedding must have shape \[16\]"):
        enc([Conditions(text_embedding=np.zeros(8))])
    with pytest.raises(ValueError, match="unknown number 'key'"):
        enc([Conditions(numbers={"key": 1.0})])
    with pytest.raises(ValueError, match="finite"):
        enc([Conditions(numbers={"tempo_bpm": float("nan")})])
    with pytest.raises(ValueError, match=r"reference_codes must have shape \[K=4"):
        enc([Conditions(reference_codes=torch.zeros(3, 5, dtype=torch.long))])
    with pytest.raises(ValueError, match=r"\[0, 16\)"):
        enc([Conditions(reference_codes=torch.full((4, 5), 16))])
    with pytest.raises(ValueError, match="at most 4"):
        enc([Conditions(style_tags=("pop",) * 5)])
    with pytest.raises(ValueError, match="same length"):
        ConditionConfig(number_names=("tempo_bpm",), number_ranges=())


def test_gradients_reach_used_embeddings() -> None:
    enc = encoder().train()
    prefix, mask = enc([full_conditions()], generator=torch.Generator().manual_seed(1))
    prefix[mask].sum().backward()
    assert enc.kind_embedding.weight.grad is not None


def test_parse_style() -> None:
    config = ConditionConfig()
    tags, numbers = parse_style("Pop, female vocal,  100 bpm, 30 s", config)
    assert tags == ("pop", "female vocal")
    assert numbers == {"tempo_bpm": 100.0, "duration_s": 30.0}
    with pytest.raises(ValueError, match="unknown style 'polka'"):
        parse_style("pop, polka", config)


def test_dropped_conditions_are_still_validated() -> None:
    enc = encoder()
    with pytest.raises(ValueError, match="unknown style tag 'polka'"):
        enc([Conditions(style_tags=("polka",))], drop_all=True)
    with pytest.raises(ValueError, match="reference_codes"):
        enc([Conditions(reference_codes=torch.zeros(4, 0, dtype=torch.long))], drop_all=True)
