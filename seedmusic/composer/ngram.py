"""A classic n-gram language model over token ids: the composer's non-neural baseline.

`NGramLM(order, vocab_size).fit(sequences)` counts n-grams; `log_probs(context)` gives the
next-token distribution, which the grammar-constrained decoder masks and samples exactly as it
does the neural model's logits.

Smoothing is **interpolated Kneser-Ney** with one absolute discount per order:

    p_k(w | h) = max(c_k(h w) - D_k, 0) / c_k(h •) + D_k * N_k(h •) / c_k(h •) * p_{k-1}(w | h')

where `h` holds the last k tokens, `h'` drops its oldest token, `c_k(h •)` sums `c_k(h w)` over
`w`, and `N_k(h •)` counts the distinct `w` seen after `h`. At the highest order `c` is the raw
count; at lower orders it is the continuation count (the number of distinct tokens seen just
before `h w`). `D_k = n1 / (n1 + 2 n2)` from that order's count-of-counts (0.5 when undefined).
An unseen context falls back to `p_{k-1}` entirely, and order 0 interpolates with the uniform
distribution over `vocab_size`, so every id, even one never seen in training, has a finite log
probability and every distribution sums to one.

Each training sequence is padded on the left with `order - 1` start symbols (`BOS = -1`, not a
token id), and so is a context shorter than `order - 1` in `log_probs`: an empty context asks
for the first token of a sequence.

On disk the model is one `.npz` (no pickle): the order, the vocabulary size, and per order the
distinct n-grams and their counts. This module never imports torch.
"""

from __future__ import annotations

import json
import logging
from collections import OrderedDict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np

logger = logging.getLogger(__name__)

BOS = -1
"""The start-of-sequence symbol that pads contexts; never a token id."""

FORMAT = "seedmusic.ngram/1"
_CACHE_SIZE = 4096


@dataclass(frozen=True)
class _Level:
    """The n-grams with `k`-token contexts: per context a slice of `words`/`counts`.

    `index` maps a context tuple to `(start, stop, gamma)`, `gamma = D * types / total`.
    """

    words: np.ndarray  # [U] int64, the predicted token of each distinct n-gram
    weights: np.ndarray  # [U] float64, max(count - D, 0) / total of its context
    index: dict[tuple[int, ...], tuple[int, int, float]]


class NGramLM:
    """An interpolated Kneser-Ney n-gram model over ids `0 .. vocab_size - 1`.

    Args:
        order: n, the length of the longest n-gram (context of `order - 1` tokens); >= 1.
        vocab_size: number of token ids; `log_probs` returns this many values.
    """

    def __init__(self, order: int, vocab_size: int) -> None:
        if order < 1:
            raise ValueError(f"order must be at least 1, got {order}")
        if vocab_size < 1:
            raise ValueError(f"vocab_size must be at least 1, got {vocab_size}")
        self.order = order
        self.vocab_size = vocab_size
        self._grams: list[np.ndarray] = [np.zeros((0, k + 1), np.int64) for k in range(order)]
        self._counts: list[np.ndarray] = [np.zeros(0, np.int64) for _ in range(order)]
        self._levels: list[_Level] = []
        self._cache: OrderedDict[tuple[int, ...], np.ndarray] = OrderedDict()
        self._build_levels()

    # ------------------------------------------------------------------ training

    def fit(self, sequences: Iterable[Sequence[int]]) -> NGramLM:
        """Count the n-grams of `sequences` (replacing earlier counts); returns self.

        Raises:
            ValueError: an id outside `0 .. vocab_size - 1`.
        """
        grams = self._windows(sequences)  # [N, order], context then token
        top_rows, top_counts = _unique_rows(grams)
        self._grams[-1], self._counts[-1] = top_rows, top_counts
        rows = top_rows
        for k in range(self.order - 2, -1, -1):
            rows, continuation = _unique_rows(rows[:, 1:])  # distinct left extensions
            self._grams[k], self._counts[k] = rows, continuation
        self._build_levels()
        logger.info(
            "fit a %d-gram model on %d tokens: %s distinct n-grams per order",
            self.order,
            len(grams),
            [len(c) for c in self._counts],
        )
        return self

    def _windows(self, sequences: Iterable[Sequence[int]]) -> np.ndarray:
        """Every token with its padded context: [N, order] int64."""
        pad = np.full(self.order - 1, BOS, np.int64)
        pieces: list[np.ndarray] = []
        positions: list[np.ndarray] = []
        offset = 0
        for sequence in sequences:
            ids = np.asarray(sequence, dtype=np.int64).reshape(-1)
            if len(ids) == 0:
                continue
            if ids.min() < 0 or ids.max() >= self.vocab_size:
                raise ValueError(f"token ids must lie in 0..{self.vocab_size - 1}")
            pieces += [pad, ids]
            positions.append(np.arange(len(ids)) + offset + len(pad))
            offset += len(pad) + len(ids)
        if not pieces:
            return np.zeros((0, self.order), np.int64)
        flat = np.concatenate(pieces)
        ends = np.concatenate(positions)  # index of each real token in `flat`
        columns = [flat[ends - (self.order - 1) + j] for j in range(self.order)]
        return np.stack(columns, axis=1)

    def _build_levels(self) -> None:
        """Discounts, per-context slices and interpolation weights from the counts."""
        self._levels = [_level(g, c) for g, c in zip(self._grams, self._counts, strict=True)]
        self._cache.clear()

    # ------------------------------------------------------------------ inference

    def log_probs(self, context: Sequence[int]) -> np.ndarray:
        """Natural-log probabilities of the next token after `context`: [vocab_size] float64.

        Only the last `order - 1` ids of `context` matter; a shorter context is padded with
        `BOS` (the start of a sequence). The result is a fresh array the caller may modify.
        """
        key = self._key(context)
        return self._distribution(key).copy()

    def probs(self, context: Sequence[int]) -> np.ndarray:
        """`exp(log_probs(context))`: [vocab_size] float64 summing to one."""
        return np.exp(self._distribution(self._key(context)))

    def _key(self, context: Sequence[int]) -> tuple[int, ...]:
        width = self.order - 1
        if width == 0:
            return ()
        tail = [int(t) for t in list(context)[-width:]]
        return (BOS,) * (width - len(tail)) + tuple(tail)

    def _distribution(self, key: tuple[int, ...]) -> np.ndarray:
        """Cached log distribution for a context of exactly `order - 1` ids."""
        cached = self._cache.get(key)
        if cached is not None:
            self._cache.move_to_end(key)
            return cached
        probs = np.full(self.vocab_size, 1.0 / self.vocab_size)
        for k, level in enumerate(self._levels):
            entry = level.index.get(key[len(key) - k :] if k else ())
            if entry is None:
                continue  # unseen context: back off entirely
            start, stop, gamma = entry
            probs *= gamma
            probs[level.words[start:stop]] += level.weights[start:stop]
        result = np.log(probs)
        self._cache[key] = result
        if len(self._cache) > _CACHE_SIZE:
            self._cache.popitem(last=False)
        return result

    # ------------------------------------------------------------------ disk

    def save(self, path: str | Path) -> None:
        """Write the model to `path` as `.npz` (loads with `allow_pickle=False`)."""
        meta = {"format": FORMAT, "order": self.order, "vocab_size": self.vocab_size}
        arrays: dict[str, np.ndarray] = {"meta": np.array(json.dumps(meta))}
        for k in range(self.order):
            arrays[f"grams_{k}"] = self._grams[k]
            arrays[f"counts_{k}"] = self._counts[k]
        with Path(path).open("wb") as handle:
            np.savez_compressed(handle, allow_pickle=False, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> NGramLM:
        """Read a model written by `save`.

        Raises:
            ValueError: not an n-gram model file of this format.
        """
        with np.load(Path(path), allow_pickle=False) as data:
            if "meta" not in data:
                raise ValueError(f"{path} is not an n-gram model (no 'meta')")
            meta = json.loads(str(data["meta"]))
            if meta.get("format") != FORMAT:
                raise ValueError(f"{path}: format {meta.get('format')!r}, expected {FORMAT!r}")
            model = cls(int(meta["order"]), int(meta["vocab_size"]))
            for k in range(model.order):
                model._grams[k] = data[f"grams_{k}"].astype(np.int64).reshape(-1, k + 1)
                model._counts[k] = data[f"counts_{k}"].astype(np.int64)
        model._build_levels()
        return model


def _unique_rows(rows: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of an [N, W] int array in lexicographic order, with their counts."""
    if len(rows) == 0:
        return rows.copy(), np.zeros(0, np.int64)
    order = np.lexsort(rows.T[::-1])
    ordered = rows[order]
    changed = np.ones(len(ordered), dtype=bool)
    changed[1:] = np.any(ordered[1:] != ordered[:-1], axis=1)
    starts = np.flatnonzero(changed)
    counts = np.diff(np.append(starts, len(ordered)))
    return ordered[starts], counts.astype(np.int64)


def _discount(counts: np.ndarray) -> float:
    """Kneser-Ney's D = n1 / (n1 + 2 n2), or 0.5 where the count-of-counts leave it undefined."""
    n1 = int(np.sum(counts == 1))
    n2 = int(np.sum(counts == 2))
    if n1 == 0 or n2 == 0:
        return 0.5
    return n1 / (n1 + 2 * n2)


def _level(grams: np.ndarray, counts: np.ndarray) -> _Level:
    """Index the lexicographically sorted n-grams `grams` [U, k + 1] by their k-token context."""
    if len(grams) == 0:
        return _Level(np.zeros(0, np.int64), np.zeros(0), {})
    discount = _discount(counts)
    contexts = grams[:, :-1]
    changed = np.ones(len(grams), dtype=bool)
    if contexts.shape[1]:
        changed[1:] = np.any(contexts[1:] != contexts[:-1], axis=1)
    else:
        changed[1:] = False
    starts = np.flatnonzero(changed)
    stops = np.append(starts[1:], len(grams))
    totals = np.add.reduceat(counts, starts).astype(np.float64)
    types = (stops - starts).astype(np.float64)
    gammas = discount * types / totals
    weights = np.maximum(counts - discount, 0.0) / np.repeat(totals, stops - starts)
    keys = map(tuple, contexts[starts].tolist())
    spans = zip(starts.tolist(), stops.tolist(), gammas.tolist(), strict=True)
    index = dict(zip(keys, spans, strict=True))
    return _Level(grams[:, -1].copy(), weights, index)
