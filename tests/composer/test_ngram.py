from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from seedmusic.composer.ngram import NGramLM

SEQUENCES = [[0, 1, 2, 3, 4], [0, 1, 2, 3, 5], [0, 1, 2, 3, 4], [2, 3, 4, 1]]


@pytest.fixture
def model() -> NGramLM:
    return NGramLM(order=3, vocab_size=8).fit(SEQUENCES)


@pytest.mark.parametrize("context", [[], [0], [0, 1], [1, 2, 3], [7, 7], [6, 0, 1]])
def test_distributions_normalise_and_are_finite(model: NGramLM, context: list[int]):
    log_probs = model.log_probs(context)
    assert log_probs.shape == (8,)
    assert np.all(np.isfinite(log_probs))
    assert np.exp(log_probs).sum() == pytest.approx(1.0)


def test_prefers_seen_continuations(model: NGramLM):
    after = model.log_probs([2, 3])
    assert np.argmax(after) == 4
    assert after[4] > after[5] > after[7]  # seen twice+, seen once, never seen
    assert np.argmax(model.log_probs([0])) == 1
    assert np.argmax(model.log_probs([])) == 0  # sequences start with 0


def test_unseen_context_backs_off_to_the_shorter_one(model: NGramLM):
    assert np.allclose(model.log_probs([7, 1]), model.log_probs([6, 1]))
    assert np.argmax(model.log_probs([7, 1])) == 2


def test_only_the_last_tokens_matter_and_results_are_fresh_arrays(model: NGramLM):
    first = model.log_probs([5, 5, 0, 1])
    assert np.array_equal(first, model.log_probs([0, 1]))
    first[:] = 0.0
    assert not np.array_equal(first, model.log_probs([0, 1]))


def test_save_load_gives_identical_distributions(model: NGramLM, tmp_path: Path):
    path = tmp_path / "lm.npz"
    model.save(path)
    loaded = NGramLM.load(path)
    assert (loaded.order, loaded.vocab_size) == (3, 8)
    for context in ([], [0], [2, 3], [7, 1]):
        assert np.array_equal(loaded.log_probs(context), model.log_probs(context))


def test_load_rejects_other_files(tmp_path: Path):
    path = tmp_path / "other.npz"
    np.savez(path, x=np.zeros(3))
    with pytest.raises(ValueError, match="not an n-gram model"):
        NGramLM.load(path)


def test_unigram_and_empty_models():
    unigram = NGramLM(order=1, vocab_size=4).fit([[1, 1, 1, 2]])
    assert np.argmax(unigram.log_probs([3, 3])) == 1
    empty = NGramLM(order=4, vocab_size=5).fit([])
    assert np.allclose(np.exp(empty.log_probs([1, 2])), 0.2)


def test_rejects_bad_arguments():
    with pytest.raises(ValueError, match="order"):
        NGramLM(order=0, vocab_size=3)
    with pytest.raises(ValueError, match="token ids"):
        NGramLM(order=2, vocab_size=3).fit([[0, 3]])


def test_fits_and_answers_quickly_on_a_larger_corpus():
    rng = np.random.default_rng(0)
    sequences = [np.cumsum(rng.integers(-2, 3, 400)) % 200 for _ in range(500)]
    model = NGramLM(order=5, vocab_size=256).fit(sequences)
    contexts = [sequences[i][j : j + 4].tolist() for i, j in enumerate(rng.integers(0, 390, 200))]
    for context in contexts:
        assert np.exp(model.log_probs(context)).sum() == pytest.approx(1.0)
        assert np.isneginf(model.log_probs(context)).sum() == 0
