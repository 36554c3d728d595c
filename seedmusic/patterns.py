"""Token layouts for the audio LM: the MusicGen delay pattern and VoiceCraft causal masking.

Both are pure functions of integer arrays. They accept `torch.Tensor`s and `numpy.ndarray`s
alike and return the same kind they were given (same dtype, same device; the causal-masking
functions work in numpy on the CPU and convert back).

The delay pattern (MusicGen) lets one autoregressive step emit all K codebooks while codebook
k still sees codebook k-1 of the same frame: codebook k is shifted right by k steps. Causal
masking (VoiceCraft) moves spans of the sequence to its end so that a left-to-right model
learns to fill a gap given the context on both sides of it.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Literal, TypeVar

import numpy as np
import torch

logger = logging.getLogger(__name__)

Array = TypeVar("Array", torch.Tensor, np.ndarray)

Span = tuple[int, int]
"""A half-open frame range `(start, end)`, `0 <= start < end <= T`."""


def _full_like(like: Array, shape: tuple[int, ...], fill: int) -> Array:
    """A new array of `like`'s kind, dtype and device filled with `fill`."""
    if isinstance(like, torch.Tensor):
        return torch.full(shape, fill, dtype=like.dtype, device=like.device)
    return np.full(shape, fill, dtype=like.dtype)


def _check_integer(codes: torch.Tensor | np.ndarray, name: str) -> None:
    if isinstance(codes, torch.Tensor):
        ok = not codes.is_floating_point() and not codes.is_complex() and codes.dtype != torch.bool
    elif isinstance(codes, np.ndarray):
        ok = np.issubdtype(codes.dtype, np.integer)
    else:
        raise TypeError(
            f"{name} must be a torch.Tensor or numpy.ndarray, got {type(codes).__name__}"
        )
    if not ok:
        raise TypeError(f"{name} must hold integer token ids, got dtype {codes.dtype}")


@dataclass(frozen=True)
class DelayPattern:
    """The MusicGen delay pattern over `num_codebooks` codebooks.

    Codebook k is shifted right by k steps; every other position holds `pad_id`. With K = 4
    and T = 5 frames (`c<k><t>` is the code of codebook k at frame t, `.` is pad)::

        step:  0    1    2    3    4    5    6    7
        k=0:  c00  c01  c02  c03  c04   .    .    .
        k=1:   .   c10  c11  c12  c13  c14   .    .
        k=2:   .    .   c20  c21  c22  c23  c24   .
        k=3:   .    .    .   c30  c31  c32  c33  c34

    The delayed sequence has `T + K - 1` steps. A model that predicts step s from steps < s
    predicts `c<k><t>` after it has seen `c<k-1><t>` (one step earlier), so the K codebooks of
    one frame are generated in K consecutive steps while every step emits K tokens.

    Attributes:
        num_codebooks: K, at least 1.
    """

    num_codebooks: int

    def __post_init__(self) -> None:
        if isinstance(self.num_codebooks, bool) or not isinstance(self.num_codebooks, int):
            raise TypeError(f"num_codebooks must be an int, got {self.num_codebooks!r}")
        if self.num_codebooks < 1:
            raise ValueError(f"num_codebooks must be >= 1, got {self.num_codebooks}")

    def delayed_length(self, num_frames: int) -> int:
        """Steps of the delayed sequence for `num_frames` frames: `T + K - 1`."""
        if num_frames < 0:
            raise ValueError(f"num_frames must be >= 0, got {num_frames}")
        return num_frames + self.num_codebooks - 1

    def num_frames(self, delayed_length: int) -> int:
        """Frames held by a delayed sequence of `delayed_length` steps: `L - K + 1`."""
        frames = delayed_length - self.num_codebooks + 1
        if frames < 0:
            raise ValueError(
                f"a delayed sequence over {self.num_codebooks} codebooks needs at least "
                f"{self.num_codebooks - 1} steps, got {delayed_length}"
            )
        return frames

    def _check_codebooks(self, array: torch.Tensor | np.ndarray, name: str, dims: str) -> None:
        _check_integer(array, name)
        if array.ndim < 2:
            raise ValueError(f"{name} must have shape {dims}, got {tuple(array.shape)}")
        if array.shape[-2] != self.num_codebooks:
            raise ValueError(
                f"{name} must have shape {dims} with K={self.num_codebooks} codebooks, "
                f"got {tuple(array.shape)}"
            )

    def apply(self, codes: Array, pad_id: int) -> Array:
        """Delay `codes` (shape `[..., K, T]`, e.g. `[B, K, T]`) to `[..., K, T + K - 1]`.

        Args:
            codes: integer codes; leading batch axes are kept.
            pad_id: the id written where no code belongs.

        Returns:
            The delayed codes, of the same kind, dtype and device as `codes`.
        """
        self._check_codebooks(codes, "codes", "[..., K, T]")
        num_frames = codes.shape[-1]
        shape = (*codes.shape[:-1], self.delayed_length(num_frames))
        delayed = _full_like(codes, shape, pad_id)
        for k in range(self.num_codebooks):
            delayed[..., k, k : k + num_frames] = codes[..., k, :]
        return delayed

    def revert(self, delayed: Array, pad_id: int | None = None) -> Array:
        """Undo `apply`: `[..., K, L]` -> `[..., K, L - K + 1]`.

        Args:
            delayed: a delayed sequence.
            pad_id: when given, check that every position outside the pattern holds it and
                raise `ValueError` if one does not (a corrupt or misaligned sequence).

        Returns:
            The codes, of the same kind, dtype and device as `delayed`.
        """
        self._check_codebooks(delayed, "delayed", "[..., K, T + K - 1]")
        num_frames = self.num_frames(delayed.shape[-1])
        if pad_id is not None:
            valid = self.valid_mask(num_frames)
            if isinstance(delayed, torch.Tensor):
                pads = delayed[..., ~torch.from_numpy(valid).to(delayed.device)]
                bad = bool((pads != pad_id).any())
            else:
                bad = bool((delayed[..., ~valid] != pad_id).any())
            if bad:
                raise ValueError(
                    f"delayed sequence has non-pad ids outside the delay pattern (pad={pad_id})"
                )
        parts = [delayed[..., k : k + 1, k : k + num_frames] for k in range(self.num_codebooks)]
        if isinstance(delayed, torch.Tensor):
            return torch.cat(parts, dim=-2)
        return np.concatenate(parts, axis=-2)

    def valid_mask(self, num_frames: int) -> np.ndarray:
        """`[K, T + K - 1]` booleans: True where the delayed sequence holds a code, not pad."""
        steps = np.arange(self.delayed_length(num_frames))[None, :]  # [1, L]
        shift = np.arange(self.num_codebooks)[:, None]  # [K, 1]
        return (steps >= shift) & (steps < shift + num_frames)


# --------------------------------------------------------------------------------------------
# VoiceCraft causal masking
# --------------------------------------------------------------------------------------------


def sample_mask_spans(
    num_frames: int,
    rng: np.random.Generator,
    poisson_lambda: float = 1.0,
    max_span_len: int = 16,
    max_spans: int = 3,
) -> list[Span]:
    """Sample the spans to mask for causal-masking training.

    The number of spans is n ~ Poisson(`poisson_lambda`) clipped to [1, `max_spans`]; each
    length is drawn uniformly from {1, ..., min(`max_span_len`, T)}. Spans do not overlap and
    are separated by at least one unmasked frame; while the n spans and their gaps do not fit
    into T frames, the last span is dropped (at least one always remains). Positions are then
    uniform over all placements that keep the spans in order.

    Args:
        num_frames: T, the sequence length (>= 1).
        rng: the random source.
        poisson_lambda: mean number of spans (>= 0).
        max_span_len: L, the longest span.
        max_spans: the most spans.

    Returns:
        Sorted, non-overlapping half-open spans `(start, end)` within [0, T).
    """
    if num_frames < 1:
        raise ValueError(f"num_frames must be >= 1, got {num_frames}")
    if poisson_lambda < 0:
        raise ValueError(f"poisson_lambda must be >= 0, got {poisson_lambda}")
    if max_span_len < 1 or max_spans < 1:
        raise ValueError(
            f"max_span_len and max_spans must be >= 1, got {max_span_len}, {max_spans}"
        )
    count = int(np.clip(rng.poisson(poisson_lambda), 1, max_spans))
    lengths = [int(x) for x in rng.integers(1, min(max_span_len, num_frames) + 1, size=count)]
    while len(lengths) > 1 and sum(lengths) + len(lengths) - 1 > num_frames:
        lengths.pop()
    # Free frames beyond the spans and their mandatory 1-frame gaps, shared out by sorted offsets.
    slack = num_frames - sum(lengths) - (len(lengths) - 1)
    offsets = np.sort(rng.integers(0, slack + 1, size=len(lengths)))
    spans: list[Span] = []
    cursor = 0
    for i, (offset, length) in enumerate(zip(offsets.tolist(), lengths, strict=True)):
        start = offset + cursor + i  # i gaps of one frame before span i
        spans.append((start, start + length))
        cursor += length
    return spans


def _check_spans(spans: Sequence[Span], num_frames: int, num_mask_tokens: int) -> None:
    if not spans:
        raise ValueError("causal masking needs at least one span")
    if len(spans) > num_mask_tokens:
        raise ValueError(f"{len(spans)} spans but only {num_mask_tokens} mask token ids")
    previous_end = 0
    for start, end in spans:
        if not 0 <= start < end <= num_frames:
            raise ValueError(f"span ({start}, {end}) is empty or outside [0, {num_frames})")
        if start < previous_end:
            raise ValueError(f"spans must be sorted and non-overlapping, got {list(spans)}")
        previous_end = end


def causal_mask_rearrange(
    codes: Array,
    spans: Sequence[Span],
    mask_token_ids: Sequence[int],
    pad_id: int,
) -> Array:
    """Rearrange codes `[K, T]` for causal-masking (infill) training, VoiceCraft-style.

    The spans cut the frames into kept segments `S_0 .. S_n` (possibly empty) and masked
    spans `Y_1 .. Y_n`: `codes = S_0 Y_1 S_1 Y_2 ... Y_n S_n`. Span i is replaced by a mask
    column `M_i` (a column of K ids `mask_token_ids[i - 1]`), and moved, preceded by `M_i`,
    to the end::

        D(S_0) M_1 D(S_1) M_2 ... M_n D(S_n) | M_1 D(Y_1) M_2 D(Y_2) ... M_n D(Y_n)

    where `D(x)` is `x` delay-stacked on its own (`DelayPattern.apply`, `len(x) + K - 1`
    columns; an empty segment stays empty). The result has
    `T + (#non-empty segments) * (K - 1) + 2n` columns.

    Args:
        codes: integer codes `[K, T]`; they must not contain `pad_id` or a mask id.
        spans: sorted, non-overlapping half-open spans (see `sample_mask_spans`).
        mask_token_ids: the ids of `M_1, M_2, ...` (at least `len(spans)` of them).
        pad_id: the delay pattern's pad id.

    Returns:
        The rearranged tokens `[K, L']`, of the same kind, dtype and device as `codes`.
    """
    _check_integer(codes, "codes")
    if codes.ndim != 2:
        raise ValueError(f"codes must have shape [K, T], got {tuple(codes.shape)}")
    array = _to_numpy(codes)
    num_codebooks, num_frames = array.shape
    _check_spans(spans, num_frames, len(mask_token_ids))
    if np.isin(array, [pad_id, *mask_token_ids]).any():
        raise ValueError("codes contain the pad id or a mask token id")
    pattern = DelayPattern(num_codebooks)
    context: list[np.ndarray] = []
    moved: list[np.ndarray] = []
    cursor = 0
    for i, (start, end) in enumerate(spans):
        mask_column = np.full((num_codebooks, 1), mask_token_ids[i], dtype=array.dtype)
        context.extend(_stack_segment(pattern, array[:, cursor:start], pad_id))
        context.append(mask_column)
        moved.append(mask_column)
        moved.extend(_stack_segment(pattern, array[:, start:end], pad_id))
        cursor = end
    context += _stack_segment(pattern, array[:, cursor:], pad_id)
    return _like(np.concatenate(context + moved, axis=-1), codes)


def _to_numpy(array: torch.Tensor | np.ndarray) -> np.ndarray:
    return array.detach().cpu().numpy() if isinstance(array, torch.Tensor) else array


def _like(result: np.ndarray, like: Array) -> Array:
    """`result` as the kind (and device) of `like`."""
    if isinstance(like, torch.Tensor):
        return torch.from_numpy(result).to(like.device)
    return result


def _stack_segment(pattern: DelayPattern, segment: np.ndarray, pad_id: int) -> list[np.ndarray]:
    """`[D(segment)]`, or `[]` for an empty segment."""
    return [pattern.apply(segment, pad_id)] if segment.shape[-1] else []


def _unstack_piece(
    pattern: DelayPattern, piece: np.ndarray, what: Literal["segment", "span"]
) -> np.ndarray:
    """Un-delay one piece of a rearranged sequence (an empty kept segment stays empty)."""
    if piece.shape[-1] == 0 and what == "segment":
        return piece
    if piece.shape[-1] < pattern.num_codebooks:
        raise ValueError(f"a {what} of {piece.shape[-1]} columns is too short to un-delay")
    return pattern.revert(piece)


def restore_from_rearranged(
    rearranged: Array, mask_token_ids: Sequence[int], num_codebooks: int
) -> Array:
    """Invert `causal_mask_rearrange`: rearranged tokens `[K, L']` -> codes `[K, T]`.

    Mask columns (all K ids equal to one mask id) split the sequence; the first n of the 2n
    mask columns close the kept segments, the last n open the moved spans. Each piece is
    un-delayed and the spans are put back between the kept segments.

    Raises:
        ValueError: if the layout is not one that `causal_mask_rearrange` produces (mask ids
            out of order, a piece too short to un-delay, ...).
    """
    _check_integer(rearranged, "rearranged")
    if rearranged.ndim != 2 or rearranged.shape[0] != num_codebooks:
        raise ValueError(
            f"rearranged must have shape [K={num_codebooks}, L], got {tuple(rearranged.shape)}"
        )
    pattern = DelayPattern(num_codebooks)
    array = _to_numpy(rearranged)
    column_ids: list[int | None] = []
    for column in array.T.tolist():
        first = column[0]
        column_ids.append(
            first if first in mask_token_ids and all(c == first for c in column) else None
        )
    mask_positions: list[int] = [j for j, m in enumerate(column_ids) if m is not None]
    found = [column_ids[j] for j in mask_positions]
    count = len(found) // 2
    expected = list(mask_token_ids[:count]) * 2
    if count == 0 or found != expected:
        raise ValueError(f"mask columns {found} do not follow the layout M_1..M_n M_1..M_n")
    bounds = [-1, *mask_positions, array.shape[-1]]
    pieces = [array[:, bounds[i] + 1 : bounds[i + 1]] for i in range(len(bounds) - 1)]
    # 2n + 1 pieces: D(S_0) .. D(S_n) end at M_1 of the moved part, then D(Y_1) .. D(Y_n).
    kept, moved = pieces[: count + 1], pieces[count + 1 :]
    out: list[np.ndarray] = []
    for i in range(count):
        out += [
            _unstack_piece(pattern, kept[i], "segment"),
            _unstack_piece(pattern, moved[i], "span"),
        ]
    out.append(_unstack_piece(pattern, kept[count], "segment"))
    return _like(np.concatenate(out, axis=-1), rearranged)


def stack_padded(sequences: Sequence[Array], pad_id: int) -> Array:
    """Stack token sequences `[K, L_i]` into a batch `[B, K, max L_i]`, right-padded with pad.

    For batching delayed or rearranged sequences of different lengths; the LM's loss ignores
    pad targets, so the padding costs nothing but compute.
    """
    if not sequences:
        raise ValueError("stack_padded needs at least one sequence")
    first = sequences[0]
    for sequence in sequences:
        _check_integer(sequence, "sequence")
        if sequence.ndim != 2 or sequence.shape[0] != first.shape[0]:
            raise ValueError(
                f"sequences must all have shape [K={first.shape[0]}, L], got {tuple(sequence.shape)}"
            )
    length = max(sequence.shape[1] for sequence in sequences)
    batch = _full_like(first, (len(sequences), first.shape[0], length), pad_id)
    for i, sequence in enumerate(sequences):
        batch[i, :, : sequence.shape[1]] = sequence
    return batch
