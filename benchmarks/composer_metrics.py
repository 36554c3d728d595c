"""Metrics for composed songs (lyrics + style -> `Score`): pure functions, numpy only.

Notation: the *vocal notes* are the vocal track's notes sorted by (tick, pitch); a *syllable
start* is a vocal note whose `lyric` is not None, a *continuation* is one whose `lyric` is None
(a melisma note of the syllable before it). A *beat* below is a quarter note
(`ticks_per_beat` ticks), whatever the meter; *strong* is `meter.is_strong` (weight >= 2) of the
note's offset from the start of its bar under the time signature of that bar.

Alignment and counts
- `alignment_valid(score, syllables)`: the syllable starts' lyrics in time order equal
  `syllables` exactly; the first vocal note is a syllable start (no continuation without a
  syllable before it); no vocal note starts before the previous one ends (no overlap, no two
  notes at one tick). No vocal notes is valid only for no syllables.
- `notes_per_syllable(score)`: per syllable start, 1 + the continuations that follow it before
  the next syllable start (leading continuations are ignored).

Distributions (lyric-to-melody papers: SongMASS, TeleMelody). Each metric is the overlap, in %,
of the generated piece's normalised histogram with the *pooled* histogram of the reference
scores (counts summed over all references, then normalised):
`histogram_overlap(a, b) = 100 * sum_i min(a_i / sum a, b_i / sum b)`; 0 when either is empty.
- `D_A`: notes per syllable, bins 1, 2, 3, 4+.
- `PD`: vocal MIDI pitch minus the piece's tonic pitch nearest middle C (the tonic of
  `score.key` in MIDI 54..65), bins -24..+24 semitones, values beyond clipped into the end bins.
- `DD`: vocal note durations in beats, snapped to the nearest of
  `DURATION_BINS` = 1/4, 1/3, 1/2, 2/3, 3/4, 1, 1.5, 2, 3, 4 (ties to the shorter), or the
  bin `>4` for a value above 4.
- `D_IOI`: inter-onset intervals in beats between consecutive distinct vocal onsets (rests
  included in the interval), same bins as `DD`.

Melody distance `MD` (`melody_distance(a, b)`): each vocal part becomes a pitch contour sampled
every 1/4 beat: each note contributes `max(1, round(duration / (beat / 4)))` samples of its
pitch, rests contribute none. Each contour minus its own mean pitch (so a transposed copy has
MD 0); then dynamic time warping with cost |x_i - y_j| and steps (1,1), (1,0), (0,1); MD is
the minimum total cost divided by the number of cells on that path (ties prefer the diagonal).
NaN when either piece has no vocal notes. Lower is better; SongMASS reports ~3.85 on real data.

Harmony and prosody (NaN when the denominator is empty)
- `in_key_ratio(score, tracks)`: duration-weighted share of the pitched notes of `tracks` (the
  drum track is always skipped) whose pitch class lies in the key's scale: major = ionian;
  minor = natural minor plus the raised 7th (0 2 3 5 7 8 10 11 above the tonic).
- `chord_tone_ratio(score)`: of the vocal notes (starts and continuations) that start on a
  strong beat under a chord (the last chord with `tick <= t < tick + duration`, root not None),
  the share whose pitch class is a tone of that chord (`seedmusic.data.harmony.TEMPLATES`:
  triads and sevenths from root + quality). Notes under no chord or under N are excluded.
- `stress_on_strong_ratio(score, stresses)`: `stresses[i]` is the stress of the i-th syllable
  start; of the syllables with stress 1 (primary), the share whose note starts on a strong beat.

Compliance (`compliance(score, tempo=..., ...)`): a bool for each requested field only:
`tempo` |first tempo - tempo| <= 0.5 bpm; `meter` first time signature == (num, den); `key`
`score.key == key` as strings; `voice` the median vocal pitch lies in `VOICE_RANGES`
("male vocal" 52..64, E3..E4; "female vocal" 62..76, D4..E5; inclusive); `section_order` the
section labels in time order equal the list.

Copying
- `melody_ngrams(score, n)`: every window of n consecutive vocal notes as a tuple of n pairs
  `(interval, duration)`: the interval in semitones from the previous note of the window (0 for
  its first note), the duration in ticks at 480 per beat. Transposition-invariant.
- `copy_share(score, training_ngrams, n)`: share of the piece's n-note windows (counted with
  repeats) found in `training_ngrams`; 0 when the piece has fewer than n vocal notes.
- `nearest_md(score, training, limit)`: min MD to the training melodies (a seeded sample of
  `limit` of them when there are more), ignoring NaN.

Reporting: `summarise(values)` is (mean, sample SD) over the finite values;
`format_table(rows)` writes a Markdown table with cells like `96.1 ± 1.2`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from itertools import pairwise
from statistics import median

import numpy as np

from score_tokens.midi import parse_key
from score_tokens.score import Chord, Note, Score
from seedmusic.composer.meter import is_strong
from seedmusic.data.harmony import TEMPLATES

NPS_BINS = 4
"""Notes-per-syllable bins: 1, 2, 3, 4+."""
PITCH_SPAN = 24
"""`PD` bins run from -PITCH_SPAN to +PITCH_SPAN semitones."""
DURATION_BINS: tuple[float, ...] = (1 / 4, 1 / 3, 1 / 2, 2 / 3, 3 / 4, 1.0, 1.5, 2.0, 3.0, 4.0)
"""Duration/IOI bins in beats; one more bin holds everything above 4 beats."""
MAJOR_SCALE = frozenset({0, 2, 4, 5, 7, 9, 11})
MINOR_SCALE = frozenset({0, 2, 3, 5, 7, 8, 10, 11})
VOICE_RANGES: dict[str, tuple[int, int]] = {"male vocal": (52, 64), "female vocal": (62, 76)}
"""Allowed median vocal MIDI pitch per voice, inclusive."""
TICKS_PER_BEAT = 480
"""Durations in `melody_ngrams` are rescaled to this resolution."""


# ---------------------------------------------------------------------------------- notes


def vocal_notes(score: Score) -> list[Note]:
    """The vocal notes sorted by (tick, pitch)."""
    return sorted(score.tracks["vocal"].notes, key=lambda n: (n.tick, n.pitch))


def alignment_valid(score: Score, syllables: Sequence[str]) -> bool:
    """True when the vocal notes carry exactly `syllables`, in order, without overlaps."""
    notes = vocal_notes(score)
    if not notes:
        return len(syllables) == 0
    if notes[0].lyric is None:
        return False
    if any(b.tick < a.end for a, b in pairwise(notes)):
        return False
    return [n.lyric for n in notes if n.lyric is not None] == list(syllables)


def notes_per_syllable(score: Score) -> list[int]:
    """Notes sung on each syllable, in order (1 + its melisma continuations)."""
    counts: list[int] = []
    for note in vocal_notes(score):
        if note.lyric is not None:
            counts.append(1)
        elif counts:
            counts[-1] += 1
    return counts


# ---------------------------------------------------------------------------------- histograms


def histogram_overlap(a: np.ndarray | Sequence[float], b: np.ndarray | Sequence[float]) -> float:
    """Sum over bins of the minimum of the two normalised histograms, in % (0 if one is empty)."""
    first = np.asarray(a, dtype=np.float64)
    second = np.asarray(b, dtype=np.float64)
    if first.shape != second.shape:
        raise ValueError(f"histograms of different shapes {first.shape} and {second.shape}")
    if first.sum() <= 0 or second.sum() <= 0:
        return 0.0
    return float(100.0 * np.minimum(first / first.sum(), second / second.sum()).sum())


def nps_histogram(score: Score) -> np.ndarray:
    """Counts of syllables sung on 1, 2, 3 and 4+ notes: [4]."""
    counts = np.minimum(np.asarray(notes_per_syllable(score), dtype=np.int64), NPS_BINS)
    return np.bincount(counts - 1, minlength=NPS_BINS).astype(np.float64)


def reference_tonic(score: Score) -> int:
    """The MIDI pitch of the key's tonic nearest middle C (54..65)."""
    pitch_class, _ = parse_key(score.key)
    return 60 + (pitch_class + 6) % 12 - 6


def pitch_histogram(score: Score) -> np.ndarray:
    """Counts of vocal pitches relative to `reference_tonic`, clipped to ±24: [49]."""
    tonic = reference_tonic(score)
    values = np.asarray([n.pitch - tonic for n in vocal_notes(score)], dtype=np.int64)
    values = np.clip(values, -PITCH_SPAN, PITCH_SPAN) + PITCH_SPAN
    return np.bincount(values, minlength=2 * PITCH_SPAN + 1).astype(np.float64)


def beat_bins(beats: Sequence[float] | np.ndarray) -> np.ndarray:
    """Counts of values (in beats) per `DURATION_BINS` bin plus `>4`: [11]."""
    values = np.asarray(beats, dtype=np.float64)
    bins = np.asarray(DURATION_BINS)
    nearest = np.argmin(np.abs(values[:, None] - bins[None, :]), axis=1, keepdims=False)
    index = np.where(values > bins[-1] + 1e-9, len(bins), nearest).astype(np.int64)
    return np.bincount(index, minlength=len(bins) + 1).astype(np.float64)


def duration_histogram(score: Score) -> np.ndarray:
    """`beat_bins` of the vocal note durations: [11]."""
    return beat_bins([n.duration / score.ticks_per_beat for n in vocal_notes(score)])


def ioi_histogram(score: Score) -> np.ndarray:
    """`beat_bins` of the intervals between consecutive distinct vocal onsets: [11]."""
    onsets = np.unique([n.tick for n in vocal_notes(score)])
    return beat_bins(np.diff(onsets) / score.ticks_per_beat)


_HISTOGRAMS = {
    "D_A": nps_histogram,
    "PD": pitch_histogram,
    "DD": duration_histogram,
    "D_IOI": ioi_histogram,
}


def distribution_metrics(generated: Score, reference: Sequence[Score]) -> dict[str, float]:
    """`D_A`, `PD`, `DD`, `D_IOI`: overlap (%) of `generated` with the pooled `reference`."""
    metrics: dict[str, float] = {}
    for name, histogram in _HISTOGRAMS.items():
        pooled = sum((histogram(s) for s in reference), start=np.zeros_like(histogram(generated)))
        metrics[name] = histogram_overlap(histogram(generated), pooled)
    return metrics


# ---------------------------------------------------------------------------------- MD


def pitch_contour(score: Score) -> np.ndarray:
    """The vocal pitches sampled every 1/4 beat (rests skipped), minus their mean: [T]."""
    step = score.ticks_per_beat / 4
    samples = [
        np.full(max(1, round(n.duration / step)), n.pitch, np.float64) for n in vocal_notes(score)
    ]
    if not samples:
        return np.zeros(0)
    contour = np.concatenate(samples)
    return contour - contour.mean()


def dtw_distance(x: np.ndarray, y: np.ndarray) -> float:
    """DTW with cost |x_i - y_j|: the cheapest path's total cost / its number of cells.

    Computed one anti-diagonal at a time (vectorised), keeping each cell's path length.
    """
    n, m = len(x), len(y)
    if n == 0 or m == 0:
        return math.nan
    cost = np.abs(x[:, None] - y[None, :])  # [n, m]
    total = np.full((n + 1, m + 1), np.inf)
    length = np.zeros((n + 1, m + 1), np.int64)
    total[0, 0] = 0.0
    for d in range(2, n + m + 1):
        i = np.arange(max(1, d - m), min(n, d - 1) + 1)
        j = d - i
        options = np.stack([total[i - 1, j - 1], total[i - 1, j], total[i, j - 1]])  # [3, L]
        lengths = np.stack([length[i - 1, j - 1], length[i - 1, j], length[i, j - 1]])
        best = np.argmin(options, axis=0)  # first minimum: the diagonal wins ties
        columns = np.arange(len(i))
        total[i, j] = cost[i - 1, j - 1] + options[best, columns]
        length[i, j] = lengths[best, columns] + 1
    return float(total[n, m] / length[n, m])


def melody_distance(a: Score, b: Score) -> float:
    """MD: DTW distance between the mean-centred vocal contours of `a` and `b`."""
    return dtw_distance(pitch_contour(a), pitch_contour(b))


# ---------------------------------------------------------------------------------- harmony


def key_scale(key: str) -> frozenset[int]:
    """Pitch classes of the key's scale (minor: natural plus the raised 7th)."""
    tonic, mode = parse_key(key)
    scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
    return frozenset((tonic + step) % 12 for step in scale)


def in_key_ratio(score: Score, tracks: Sequence[str]) -> float:
    """Duration-weighted share of the notes of `tracks` (drums skipped) in the key's scale."""
    scale = key_scale(score.key)
    inside = total = 0
    for name in tracks:
        if name == "drums" or name not in score.tracks:
            continue
        for note in score.tracks[name].notes:
            total += note.duration
            inside += note.duration if note.pitch % 12 in scale else 0
    return inside / total if total else math.nan


def chord_tones(chord: Chord) -> frozenset[int]:
    """Pitch classes of a chord (empty for N)."""
    if chord.root is None:
        return frozenset()
    return frozenset((chord.root + step) % 12 for step in TEMPLATES[chord.quality])


def chord_at(chords: Sequence[Chord], tick: int) -> Chord | None:
    """The last chord (in time order) sounding at `tick`, or None."""
    sounding = [c for c in chords if c.tick <= tick < c.tick + c.duration]
    return max(sounding, key=lambda c: c.tick) if sounding else None


def on_strong_beat(score: Score, tick: int, bar_starts: Sequence[int]) -> bool:
    """True when `tick` is a strong beat (`meter.is_strong`) of its bar."""
    index = int(np.searchsorted(np.asarray(bar_starts), tick, side="right")) - 1
    start = bar_starts[max(index, 0)]
    signature = score.signature_at(start)
    return is_strong(tick - start, signature.numerator, signature.denominator, score.ticks_per_beat)


def chord_tone_ratio(score: Score) -> float:
    """Share of strong-beat vocal notes under a chord whose pitch class is a chord tone."""
    bars = score.bar_starts()
    hits = total = 0
    for note in vocal_notes(score):
        if not on_strong_beat(score, note.tick, bars):
            continue
        chord = chord_at(score.chords, note.tick)
        if chord is None or chord.root is None:
            continue
        total += 1
        hits += note.pitch % 12 in chord_tones(chord)
    return hits / total if total else math.nan


def stress_on_strong_ratio(score: Score, stresses: Sequence[int]) -> float:
    """Share of stress-1 syllables whose note starts on a strong beat.

    Raises:
        ValueError: `stresses` does not have one value per syllable start.
    """
    starts = [n for n in vocal_notes(score) if n.lyric is not None]
    if len(starts) != len(stresses):
        raise ValueError(f"{len(stresses)} stresses for {len(starts)} sung syllables")
    bars = score.bar_starts()
    stressed = [n for n, s in zip(starts, stresses, strict=True) if s == 1]
    if not stressed:
        return math.nan
    return sum(on_strong_beat(score, n.tick, bars) for n in stressed) / len(stressed)


# ---------------------------------------------------------------------------------- compliance


def compliance(
    score: Score,
    *,
    tempo: float | None = None,
    meter: tuple[int, int] | None = None,
    key: str | None = None,
    voice: str | None = None,
    section_order: Sequence[str] | None = None,
) -> dict[str, bool]:
    """Whether `score` honours each requested field (only those not None are reported).

    Raises:
        ValueError: a voice not in `VOICE_RANGES`.
    """
    result: dict[str, bool] = {}
    if tempo is not None:
        first = min(score.tempos, key=lambda t: t.tick)
        result["tempo"] = abs(first.bpm - tempo) <= 0.5
    if meter is not None:
        signature = min(score.time_signatures, key=lambda t: t.tick)
        result["meter"] = (signature.numerator, signature.denominator) == tuple(meter)
    if key is not None:
        result["key"] = score.key == key
    if voice is not None:
        result["voice"] = _voice_ok(score, voice)
    if section_order is not None:
        labels = [s.label for s in sorted(score.sections, key=lambda s: s.tick)]
        result["section_order"] = labels == list(section_order)
    return result


def _voice_ok(score: Score, voice: str) -> bool:
    if voice not in VOICE_RANGES:
        raise ValueError(f"unknown voice {voice!r}; known: {', '.join(VOICE_RANGES)}")
    pitches = [n.pitch for n in score.tracks["vocal"].notes]
    low, high = VOICE_RANGES[voice]
    return bool(pitches) and low <= median(pitches) <= high


# ---------------------------------------------------------------------------------- copying


def melody_ngrams(score: Score, n: int = 16) -> set[tuple[tuple[int, int], ...]]:
    """Every n-note window of the vocal part as (interval, duration at 480 tpb) pairs."""
    return set(_windows(score, n))


def _windows(score: Score, n: int) -> list[tuple[tuple[int, int], ...]]:
    notes = vocal_notes(score)
    scale = TICKS_PER_BEAT / score.ticks_per_beat
    durations = [round(note.duration * scale) for note in notes]
    windows: list[tuple[tuple[int, int], ...]] = []
    for start in range(len(notes) - n + 1):
        window = notes[start : start + n]
        intervals = [0] + [b.pitch - a.pitch for a, b in pairwise(window)]
        windows.append(tuple(zip(intervals, durations[start : start + n], strict=True)))
    return windows


def copy_share(
    score: Score, training_ngrams: set[tuple[tuple[int, int], ...]], n: int = 16
) -> float:
    """Share of the piece's n-note windows that occur in `training_ngrams` (0 if none)."""
    windows = _windows(score, n)
    if not windows:
        return 0.0
    return sum(w in training_ngrams for w in windows) / len(windows)


def nearest_md(
    score: Score, training: Sequence[Score], limit: int | None = None, seed: int = 0
) -> float:
    """Smallest `melody_distance` to the training scores (a seeded sample of `limit` of them)."""
    chosen: Sequence[Score] = training
    if limit is not None and len(training) > limit:
        picks = np.random.default_rng(seed).choice(len(training), size=limit, replace=False)
        chosen = [training[int(i)] for i in sorted(picks)]
    distances = [melody_distance(score, other) for other in chosen]
    finite = [d for d in distances if not math.isnan(d)]
    return min(finite) if finite else math.nan


# ---------------------------------------------------------------------------------- reporting


def summarise(values: Sequence[float]) -> tuple[float, float]:
    """(mean, sample standard deviation) of the finite values; SD 0 for one value."""
    finite = np.asarray([v for v in values if math.isfinite(v)], dtype=np.float64)
    if len(finite) == 0:
        return math.nan, math.nan
    spread = float(finite.std(ddof=1)) if len(finite) > 1 else 0.0
    return float(finite.mean()), spread


Cell = tuple[float, float] | float | str | None


def format_table(rows: Sequence[Mapping[str, Cell]], digits: int = 1) -> str:
    """A Markdown table: one row per mapping, its `system` first, then every metric seen.

    A (mean, SD) cell prints as `96.1 ± 1.2`, a number as `96.1`, NaN as `—`, missing as empty.
    """
    columns: list[str] = []
    for row in rows:
        columns += [name for name in row if name != "system" and name not in columns]
    lines = [
        "| " + " | ".join(["system", *columns]) + " |",
        "|" + "---|" * (len(columns) + 1),
    ]
    for row in rows:
        cells = [str(row.get("system", "")), *(_cell(row.get(c), digits) for c in columns)]
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def _cell(value: Cell, digits: int) -> str:
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, tuple):
        mean, spread = value
        if math.isnan(mean):
            return "—"
        return f"{mean:.{digits}f} ± {spread:.{digits}f}"
    return "—" if math.isnan(value) else f"{value:.{digits}f}"
