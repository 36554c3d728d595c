"""The meter fit's own pieces: the conditional logit, its targets and the train sample."""

from __future__ import annotations

import numpy as np
import pytest

from benchmarks.fit_meter import (
    Cached,
    Group,
    build_group,
    choose,
    fit_weights,
    negative_log_likelihood,
    sample_pieces,
    score_groups,
)


def _planted_groups(weights: np.ndarray, count: int, seed: int) -> list[Group]:
    """`count` takes of 2..8 random candidates whose target is the best under `weights`."""
    rng = np.random.default_rng(seed)
    groups = []
    for index in range(count):
        features = rng.normal(size=(int(rng.integers(2, 9)), len(weights)))
        target = int(np.argmax(features @ weights))
        meters = ["4/4"] * len(features)
        meters[target] = "3/4"
        scores = np.zeros(len(features))
        scores[target] = 1.0
        groups.append(Group(f"take{index}", "3/4", features, meters, scores, target))
    return groups


def test_the_fit_recovers_a_planted_weight_vector() -> None:
    """Targets chosen by a hidden weight vector: the fit ranks them first on held-out takes and
    points the same way as the hidden vector."""
    planted = np.array([2.0, -1.0, 0.5, 0.0, 1.5])
    fitted = fit_weights(_planted_groups(planted, 300, seed=0), l2=1e-3)
    held_out = _planted_groups(planted, 200, seed=1)
    assert score_groups(held_out, fitted).meter_right >= 0.95
    cosine = fitted @ planted / (np.linalg.norm(fitted) * np.linalg.norm(planted))
    assert cosine > 0.98
    assert sum(choose(g, fitted) == g.target for g in held_out) >= 190


def test_the_likelihood_gradient_matches_finite_differences() -> None:
    groups = _planted_groups(np.array([1.0, -2.0, 0.5]), 20, seed=2)
    groups.append(Group("no target", "6/8", np.ones((3, 3)), ["4/4"] * 3, np.zeros(3), None))
    weights = np.array([0.3, -0.1, 0.7])
    _, gradient = negative_log_likelihood(weights, groups, l2=0.1)
    step = 1e-6
    for i in range(len(weights)):
        delta = np.eye(len(weights))[i] * step
        plus, _ = negative_log_likelihood(weights + delta, groups, 0.1)
        minus, _ = negative_log_likelihood(weights - delta, groups, 0.1)
        assert gradient[i] == pytest.approx((plus - minus) / (2 * step), rel=1e-4, abs=1e-7)


def test_the_target_is_the_candidate_of_the_truths_meter_with_the_best_downbeats() -> None:
    """Clear 4/4 activations decoded as 4/4: the target is a 4/4 reading on the true bars."""
    from mir.bassline import BASS_FPS
    from mir.rhythm import CHROMA_FPS
    from tests.mir.test_meter import four_four_pulses

    seconds = 40.0
    beats, activations = four_four_pulses(seconds, 0.5)
    frames = len(activations)
    decoded = np.stack([beats, np.arange(len(beats)) % 4 + 1], axis=1)
    cached = Cached(
        activations,
        np.zeros((int(seconds * CHROMA_FPS), 12)),
        np.zeros((int(seconds * BASS_FPS), 12)),
        decoded,
        np.zeros(frames),
    )
    truth = {"downbeats": beats[::4].tolist(), "time_signature": "4/4"}
    group = build_group("synthetic", cached, truth)
    assert group is not None and group.target is not None
    assert group.meters[group.target] == "4/4"
    assert group.downbeat_f[group.target] == pytest.approx(1.0)
    assert {"2/4", "3/4", "4/4"} <= set(group.meters)
    assert (
        build_group(
            "nothing",
            Cached(activations, cached.chroma, cached.bass, decoded[:0], cached.onsets),
            truth,
        )
        is None
    )


class _Piece:
    def __init__(self, index: int, meter: str) -> None:
        self.id = f"p{index:03d}"
        self.time_signature = meter


def test_the_train_sample_keeps_each_meters_share() -> None:
    pieces = [_Piece(i, "4/4" if i % 4 else "6/8") for i in range(200)]
    sample = sample_pieces(pieces, 40, seed=0)  # type: ignore[arg-type]
    assert len(sample) == 40
    assert sum(p.time_signature == "6/8" for p in sample) == 10
    assert sample == sorted(sample, key=lambda p: p.id)
    assert sample_pieces(pieces, None, seed=0) == pieces  # type: ignore[arg-type]
