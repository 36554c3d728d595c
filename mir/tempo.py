"""A tempo map a musician can read: stretches of constant tempo found in tracked beat times.

Tracked beats jitter: a piece played at one tempo comes out of the tracker as 95.90, 96.04,
96.03 ... bpm bar by bar. `tempo_stretches(beats, positions)` describes the beats instead by
as few constant tempos as they allow:

1. **Change points** by binary segmentation of the beat times. A stretch of beats is fitted
   by one straight line (time against beat index: a constant tempo) and by every continuous
   two-piece line that bends at a bar line at least `MIN_STRETCH_BARS` bars (and
   `MIN_STRETCH_BEATS` beats) from either end. The best bend splits the stretch when the
   tempos on its two sides differ by more than `THRESHOLD` (relative) and the bend explains
   the beat times far better than the straight line (F statistic over `MIN_F`); both halves
   are then searched again. Comparing the slopes of least-squares lines is the change-point
   test on the log inter-beat intervals, made robust: a slope averages the intervals of a
   whole stretch, so a beat's jitter moves it by its share of the stretch only.
2. **Tempos**: each stretch's tempo is the least-squares slope of its own beat times.
3. **Merging**: neighbouring stretches whose tempos differ by less than `THRESHOLD` are merged
   (and refitted) until no pair is left, so a drift of a fraction of a percent never splits a
   piece.

A constant-tempo piece thus keeps one tempo; a tempo that steps at a section keeps the step at
its bar line; an accelerando or ritardando becomes a staircase of tempos at most one per
`MIN_STRETCH_BARS` bars, each step larger than `THRESHOLD`.

How the map is used (`mir.analyze.Analysis.to_score`): a score's ticks come from the tracked
beats themselves (`mir.grid.TickGrid`, anchored at every downbeat), so notes, chords and
sections are placed on bars and beats by the beats they were heard against, however the
performer drifted. The tempo map written into the score is this separate, smoothed description
of those beats: its changes sit on the ticks of the beats where the stretches start. Re-fitting
the beats to the simplified map instead would move notes by the map's residual: a tempo drifting
by +-3 % over 16 bars, well inside one stretch, leaves up to a quarter of a beat between fitted
and heard beats, enough to push a note onto the wrong sixteenth. The price of the choice is that
the score's own seconds (ticks through its tempo map) follow the audio only as closely as the
map fits the beats: within the fit's residual (the lead-in before the first beat has a tempo of
its own, `mir.grid.TickGrid.lead_in_bpm`, so the score reaches the first beat when the audio
does).

The tracker's timing fit lives here too (`smooth_beats`, step 5 of `mir.rhythm`): a robust
local-quadratic fit of the beat times that stops at tempo steps, so that the stretches above
still see a step where the music has one.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import pairwise

import numpy as np

THRESHOLD = 0.03
"""Relative tempo difference below which two stretches are one tempo (3 %)."""
MIN_STRETCH_BARS = 2
MIN_STRETCH_BEATS = 8
"""A stretch lasts at least this many bars and beats (the longer of the two)."""
SMOOTH_BEATS = 32
"""Half-width (beats) of the local-quadratic timing fit of `smooth_beats`."""
STEP = 0.08
STEP_BEATS = 4
"""`smooth_beats` does not fit across a change point where the mean inter-beat interval of the
4 beats after it differs from that of the 4 before it by more than 8 % (a tempo step)."""
MIN_F = 25.0
"""The F statistic a bend must reach (two-piece line against one line) to be a change point;
high, because the best of every bar line is taken."""


@dataclass(frozen=True)
class TempoStretch:
    """Beats `first` to `last` (indices into the beats, inclusive) at one tempo.

    Attributes:
        first: index of the beat the stretch starts on (where its tempo takes effect).
        last: index of its last beat (the next stretch's `first`, or the last beat).
        bpm: the least-squares tempo of its beats, in beats per minute (not rounded).
    """

    first: int
    last: int
    bpm: float


def tempo_stretches(
    beats: Sequence[float] | np.ndarray,
    positions: Sequence[int] | np.ndarray | None = None,
    threshold: float = THRESHOLD,
    min_bars: int = MIN_STRETCH_BARS,
) -> list[TempoStretch]:
    """Segment beat times into stretches of constant tempo (see the module docstring).

    Args:
        beats: `[N]` increasing beat times in seconds.
        positions: `[N]` each beat's position in its bar (1 = downbeat); tempo changes are then
            placed on downbeats only. None: on any beat, bars counted as 4 beats.
        threshold: relative tempo difference that makes two stretches two tempos.
        min_bars: the shortest stretch, in bars.

    Returns:
        Consecutive stretches covering beats 0 to N-1 (neighbours share their boundary beat);
        empty for fewer than two beats.
    """
    times = np.asarray(beats, dtype=np.float64)
    if len(times) < 2:
        return []
    if positions is not None and len(positions) != len(times):
        raise ValueError(f"{len(times)} beats but {len(positions)} positions")
    if positions is None:
        per_bar = 4
        bar_lines = np.arange(len(times))
    else:
        per_bar = max(int(max(positions)), 1)
        bar_lines = np.flatnonzero(np.asarray(positions) == 1)
    min_beats = max(min_bars * per_bar, MIN_STRETCH_BEATS)
    bounds = [0, len(times) - 1]
    pending = [(0, len(times) - 1)]
    while pending:
        first, last = pending.pop()
        split = _change_point(times, first, last, bar_lines, min_beats, threshold)
        if split is not None:
            bounds.append(split)
            pending += [(first, split), (split, last)]
    bounds.sort()
    return _merge(times, bounds, threshold)


def _change_point(
    times: np.ndarray,
    first: int,
    last: int,
    bar_lines: np.ndarray,
    min_beats: int,
    threshold: float,
) -> int | None:
    """The beat where beats `first..last` best bend from one tempo to another, if they do."""
    candidates = bar_lines[(bar_lines >= first + min_beats) & (bar_lines <= last - min_beats)]
    if candidates.size == 0:
        return None
    index = np.arange(first, last + 1, dtype=np.float64)
    y = times[first : last + 1]
    line = np.stack([np.ones_like(index), index - first], axis=1)  # [n, 2]
    sse_line = _sse(line, y)
    best: tuple[float, int, np.ndarray] | None = None
    for split in candidates:
        bend = np.maximum(index - split, 0.0)[:, None]
        design = np.concatenate([line, bend], axis=1)  # [n, 3]
        coefficients, sse = _fit(design, y)
        if best is None or sse < best[0]:
            best = (sse, int(split), coefficients)
    assert best is not None
    sse_bend, split, (_, before, change) = best
    after = before + change
    if before <= 0 or after <= 0 or abs(math.log(after / before)) <= math.log1p(threshold):
        return None
    dof = len(y) - 3
    if dof <= 0:
        return None
    f_stat = (sse_line - sse_bend) / max(sse_bend / dof, 1e-12 * float(np.mean(y * y)) + 1e-18)
    return split if f_stat > MIN_F else None


def _merge(times: np.ndarray, bounds: list[int], threshold: float) -> list[TempoStretch]:
    """Fit each stretch's tempo; merge neighbours within `threshold` until none are left."""
    stretches = [_stretch(times, a, b) for a, b in pairwise(bounds)]
    while len(stretches) > 1:
        ratios = [abs(math.log(right.bpm / left.bpm)) for left, right in pairwise(stretches)]
        closest = int(np.argmin(ratios))
        if ratios[closest] > math.log1p(threshold):
            break
        left, right = stretches[closest], stretches[closest + 1]
        stretches[closest : closest + 2] = [_stretch(times, left.first, right.last)]
    return stretches


def _stretch(times: np.ndarray, first: int, last: int) -> TempoStretch:
    """Beats `first..last` with their least-squares tempo."""
    index = np.arange(first, last + 1, dtype=np.float64)
    period = float(np.polyfit(index - first, times[first : last + 1], 1)[0])
    return TempoStretch(first, last, 60.0 / period if period > 0 else float("nan"))


def _fit(design: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, float]:
    coefficients, *_ = np.linalg.lstsq(design, y, rcond=None)
    residual = y - design @ coefficients
    return coefficients, float(residual @ residual)


def _sse(design: np.ndarray, y: np.ndarray) -> float:
    return _fit(design, y)[1]


# ----------------------------------------------------------------------------- smoothing


def smooth_beats(
    beats: Sequence[float] | np.ndarray,
    positions: Sequence[int] | np.ndarray | None = None,
    half_width: int = SMOOTH_BEATS,
    iterations: int = 5,
) -> np.ndarray:
    """Beat times refitted by a robust local-quadratic regression of time on beat index, between
    tempo steps.

    Each beat becomes the value at its index of a parabola fitted to the beats within
    `half_width` beats (tricube weights by distance, Tukey biweights by residual, cut at 15 %
    of the median beat period), so timing jitter and local decoding errors are averaged out.
    A parabola across a tempo step would turn the step into a ramp many bars long, so the fit
    does not cross a step: a change point of `tempo_stretches` where the mean inter-beat
    interval of the `STEP_BEATS` beats after it differs from that of the beats before it by
    more than `STEP`. (The stretch boundaries inside an accelerando are no steps: there the
    tempo changes a little from beat to beat, and the parabola follows it.) A beat two fits
    share gets their mean. Fewer than 8 beats between steps are returned unchanged.

    Args:
        beats: `[N]` increasing beat times.
        positions: `[N]` bar positions (1 = downbeat), where tempo changes may be; None: any beat.

    Returns:
        `[N]` smoothed beat times.
    """
    times = np.asarray(beats, dtype=np.float64)
    if len(times) < 8:
        return times
    steps = [
        stretch.first
        for stretch in tempo_stretches(times, positions)[1:]
        if _is_step(times, stretch.first)
    ]
    total = np.zeros(len(times))
    count = np.zeros(len(times))
    for first, last in pairwise([0, *steps, len(times) - 1]):
        part = slice(first, last + 1)
        total[part] += _smooth_stretch(times[part], half_width, iterations)
        count[part] += 1
    return total / np.maximum(count, 1)


def _is_step(times: np.ndarray, boundary: int) -> bool:
    """Whether the tempo jumps by more than `STEP` at beat `boundary`."""
    span = min(STEP_BEATS, boundary, len(times) - 1 - boundary)
    if span < 1:
        return False
    before = times[boundary] - times[boundary - span]
    after = times[boundary + span] - times[boundary]
    return before > 0 and after > 0 and abs(math.log(after / before)) > math.log1p(STEP)


def _smooth_stretch(beats: np.ndarray, half_width: int, iterations: int) -> np.ndarray:
    count = len(beats)
    if count < 8:
        return beats
    cut = 0.15 * float(np.median(np.diff(beats)))
    robust = np.ones(count)
    fitted = beats
    for _ in range(iterations):
        fitted = _local_quadratic(beats, robust, half_width)
        residual = (beats - fitted) / cut
        robust = np.where(np.abs(residual) < 1.0, (1.0 - residual**2) ** 2, 0.0)
    return fitted


def _local_quadratic(values: np.ndarray, weights: np.ndarray, half_width: int) -> np.ndarray:
    """Weighted local-quadratic fit of `values` on their index, evaluated at each index.

    A quadratic (not a line) so that an accelerando, where beat time is close to quadratic in
    the beat index, is followed instead of cut short."""
    count = len(values)
    width = min(half_width, (count - 1) // 2)
    fitted = np.empty(count)
    for k in range(count):
        lo = min(max(0, k - width), count - 2 * width - 1)
        hi = lo + 2 * width + 1
        x = (np.arange(lo, hi) - k).astype(np.float64)
        w = weights[lo:hi] * (1.0 - (np.abs(x) / (np.abs(x).max() + 1.0)) ** 3) ** 3 + 1e-9
        root = np.sqrt(w)
        design = np.vander(x / (width + 1), 3, increasing=True) * root[:, None]  # [2W+1, 3]
        coefficients = np.linalg.lstsq(design, values[lo:hi] * root, rcond=None)[0]
        fitted[k] = coefficients[0]
    return fitted
