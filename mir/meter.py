"""The meter decision: which reading of the DBN's bars is the meter (step 4 of `mir.rhythm`).

`mir.rhythm.track_beats` decodes beats and bars with madmom's DBN, then asks this module which
reading of them to keep.

`meter_candidates` re-reads the DBN's bars and beats as every candidate `(bar: as decoded /
halved / paired, beats per bar k in 2, 3, 4, bar phase)`, each two-beat reading twice (as 2/4
and as 6/8), and `choose_meter` keeps the one with the best linear score `WEIGHTS . features`.
The features (`FEATURES`, computed by `meter_candidates` and `_candidate_features`; "pooled"
means averaged over the candidate's bars per position in the bar):

- `beat_on`: log of the RNN's beat activation on the candidate's beats over its mean on
  the DBN's bars cut in twelve; `beat_half`, `beat_third`: the same at the halves and at
  the thirds of the candidate's beats;
- `harmony_on_bar`: log of the harmonic novelty on the bar lines over elsewhere;
  `downbeat_on_bar`: log of the RNN's downbeat activation on the bar lines over its mean;
  `bass_root_on_bar`: log of how much more the bass plays the chord root on the bar lines
  than on the DBN's beats on average (`mir.bassline`);
- `shifted`: the bar lines are not the first beat of the grid; `dbn_reading`: the
  candidate is the DBN's own reading;
- `prior_<meter>`: a log-normal tempo prior of the candidate's meter (`METER_PRIOR`),
  `NO_PRIOR` for the other meters; `meter_2/4`, `meter_6/8`, `meter_3/4`: 1 for the
  candidate's meter (4/4 is the reference), so each meter has its own offset;
- `division`: `beat_third - beat_half` for a 6/8 candidate, `beat_half - beat_third` for
  the others: whether the beats divide the way the meter says (this is what separates the
  2/4 and 6/8 twins, with their priors);
- `grouping`: the pooled beat activation at the bar's twelfths, log of its mean at the
  candidate's beats inside the bar over its mean at the rival grouping's (the half bar for
  three beats, the thirds of the bar for two and four): a 6/8 bar has its second beat at
  the half bar, a 3/4 bar at the thirds, on the same bar lines;
- `harmony_bar_vs_beat`, `downbeat_bar_vs_beat`, `bass_bar_vs_beat`: log of the pooled
  harmonic novelty, RNN downbeat activation and bass root share on the bar line over the
  largest of them on another beat of the bar: a bar line should stand out from every beat
  inside the bar, which a pair of 2/4 bars read as one 4/4 bar (beat 3 a bar line too)
  does not;
- `beat_half_2/4` (`beat_half`) and `onset_half_2/4` (log of the high-frequency onset
  strength, `onset_strength`, between the beats over on them), for 2/4 candidates only:
  2/4 tunes are often played with a four-beat groove in double time (as MMA's march
  grooves advise, and as the corpus arranges them), whose backbeat then falls between the
  counted beats; a 4/4 groove has it on beats 2 and 4. The 2/4 reading and the pair of
  its bars read as 4/4 have the same beats, so only such cues tell them apart.

This fixes what the DBN alone gets wrong most: octave errors (a double-time groove tracked
at the eighth note), 2/4 bars tracked as 4/4, 6/8 tracked as three quarter notes, and bars
read from the wrong beat of a groove whose accents mislead the network.

The weights were fitted by conditional logistic regression (each take's candidates
compete in a softmax; the target is the candidate of the reference's meter with the best
downbeat F; L2 penalty 0.001) on the corpus mixes of the 245 train pieces of the open corpus:
`OMP_NUM_THREADS=1 python -m benchmarks.fit_meter --corpus data/corpus` (about 25 min on one
thread from an empty cache, which it keeps under `data/meter-fit/`; 6 min after). The prior
is the corpus train split's tempo distribution per meter. Against the previous features and
weights, the meter was right on 0.93 of the train takes instead of 0.67 (downbeat F 0.93
instead of 0.87), on 12/12 and 11/12 valid takes (corpus mixes, TimGM6mb) instead of 11/12
and 11/12, and on 14/15 test takes instead of 11/15 and 10/15 (`benchmarks.mir`: downbeat F
0.85 and 0.95 instead of 0.79 and 0.84; on the valid takes it fell from 0.90 and 0.87 to 0.88
and 0.82, two pieces). What still fails is mostly 2/4 against 4/4 (6 % of the train takes),
where the same beats make a bar of either length.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from mir._madmom import MADMOM_SAMPLE_RATE
from mir.bassline import root_agreement

ACTIVATION_FPS = 100
"""Frames per second of madmom's downbeat activations, and of every signal the meter features
read (`mir.rhythm` imports it from here)."""
ONSET_FFT = 2048
ONSET_LOWEST_HZ = 1000.0
"""`onset_strength` is the spectral flux above this frequency (snare, hi-hat, strums), in
`ONSET_FFT`-sample frames at `ACTIVATION_FPS`."""

METER_PRIOR: dict[str, tuple[float, float, float]] = {
    "2/4": (0.202, 105.9, 0.202),
    "3/4": (0.094, 95.0, 0.243),
    "4/4": (0.504, 88.7, 0.256),
    "6/8": (0.200, 70.1, 0.213),
}
"""Per meter: its share of pieces, the median tempo (bpm of the counted beat: dotted quarters
in 6/8) and the standard deviation of the log tempo (open corpus, train split)."""
FEATURES: tuple[str, ...] = (
    "shifted",
    "beat_on",
    "harmony_on_bar",
    "dbn_reading",
    "beat_half",
    "beat_third",
    "downbeat_on_bar",
    "prior_2/4",
    "prior_6/8",
    "prior_3/4",
    "prior_4/4",
    "bass_root_on_bar",
    "meter_2/4",
    "meter_6/8",
    "meter_3/4",
    "division",
    "grouping",
    "harmony_bar_vs_beat",
    "downbeat_bar_vs_beat",
    "bass_bar_vs_beat",
    "beat_half_2/4",
    "onset_half_2/4",
)
WEIGHTS: tuple[float, ...] = (
    -0.887,  # shifted
    2.341,  # beat_on
    -0.959,  # harmony_on_bar
    0.375,  # dbn_reading
    -2.543,  # beat_half
    -1.334,  # beat_third
    4.258,  # downbeat_on_bar
    1.995,  # prior_2/4
    1.886,  # prior_6/8
    2.095,  # prior_3/4
    2.045,  # prior_4/4
    1.846,  # bass_root_on_bar
    1.489,  # meter_2/4
    -0.162,  # meter_6/8
    0.511,  # meter_3/4
    1.272,  # division
    0.932,  # grouping
    2.751,  # harmony_bar_vs_beat
    -0.968,  # downbeat_bar_vs_beat
    2.610,  # bass_bar_vs_beat
    0.438,  # beat_half_2/4
    3.653,  # onset_half_2/4
)
"""Linear score of a meter candidate, one weight per `FEATURES` entry."""
NO_PRIOR = -9.0
"""The prior features of the meters a candidate is not."""
EPS = 1e-3
BASS_EPS = 0.05
"""Added to the bass feature's shares of root (0..1), so that music without a bass line (a
click track: the kick's pitch against the chroma of noise) cannot give it a large value."""


def onset_strength(signal: np.ndarray) -> np.ndarray:
    """High-frequency onset strength `[ceil(S / 441)]` of a 44.1 kHz mono `signal` `[S]`.

    The mean over the bins above `ONSET_LOWEST_HZ` of the positive change of
    `log(1 + 10 |STFT|)` (Hann window of `ONSET_FFT` samples centred on each frame).
    """
    samples = np.asarray(signal, dtype=np.float32)
    hop = round(MADMOM_SAMPLE_RATE / ACTIVATION_FPS)
    frames = -(-len(samples) // hop)
    freqs = np.fft.rfftfreq(ONSET_FFT, 1.0 / MADMOM_SAMPLE_RATE)
    bins = freqs >= ONSET_LOWEST_HZ
    window = np.hanning(ONSET_FFT).astype(np.float32)
    out = np.zeros(frames)
    previous: np.ndarray | None = None
    for start in range(0, frames, 512):  # bounded memory: 512 frames at a time
        stop = min(frames, start + 512)
        block = _centred_frames(samples, start, stop, hop) * window  # [frames, ONSET_FFT]
        spectrum = np.log1p(10.0 * np.abs(np.fft.rfft(block, axis=1)[:, bins]))  # [frames, bins]
        before = spectrum[:1] if previous is None else previous
        out[start:stop] = np.maximum(0.0, np.diff(spectrum, axis=0, prepend=before)).mean(axis=1)
        previous = spectrum[-1:]
    return out


def _centred_frames(samples: np.ndarray, start: int, stop: int, hop: int) -> np.ndarray:
    """Frames [start, stop) of `ONSET_FFT` samples centred on `i * hop`, zeros beyond the
    signal's ends: `[stop - start, ONSET_FFT]`, cut from a padded copy of that stretch only."""
    half = ONSET_FFT // 2
    first, last = start * hop - half, (stop - 1) * hop - half + ONSET_FFT
    piece = np.zeros(last - first, dtype=np.float32)
    lo, hi = max(0, first), min(len(samples), last)
    if hi > lo:
        piece[lo - first : hi - first] = samples[lo:hi]
    return np.lib.stride_tricks.sliding_window_view(piece, ONSET_FFT)[::hop]


# ----------------------------------------------------------------------------- meter decision


@dataclass(frozen=True)
class MeterCandidate:
    """One reading of the decoded bars.

    Attributes:
        beats: beat times in seconds `[N]`.
        positions: bar position of each beat (1 = downbeat) `[N]`.
        beats_per_bar: k.
        compound: the beats divide in three (a two-beat bar is then 6/8).
        features: the values named by `FEATURES` `[len(FEATURES)]`.
    """

    beats: np.ndarray
    positions: np.ndarray
    beats_per_bar: int
    compound: bool
    features: np.ndarray

    @property
    def score(self) -> float:
        return float(np.dot(WEIGHTS, self.features))


def meter_log_prior(meter: str, tempo: float) -> float:
    """log P(meter) + log-normal log density of `tempo` under `METER_PRIOR` (up to a constant)."""
    share, median, spread = METER_PRIOR[meter]
    z = (np.log(tempo) - np.log(median)) / spread
    return float(np.log(share) - 0.5 * z * z - np.log(spread))


def _peaks_at(signal: np.ndarray, times: np.ndarray, radius: int) -> np.ndarray:
    """The maximum of `signal` (at `ACTIVATION_FPS`) within `radius` frames of each time."""
    frames = np.round(np.asarray(times) * ACTIVATION_FPS).astype(int)
    out = np.zeros(len(frames))
    for i, frame in enumerate(frames):
        lo, hi = max(0, frame - radius), min(len(signal), frame + radius + 1)
        if hi > lo:
            out[i] = signal[lo:hi].max()
    return out


def _distance_to_nearest(times: np.ndarray, points: np.ndarray) -> np.ndarray:
    """`[T]`: each time's distance to the nearest of the ascending `points` (no `[T, P]`
    matrix: an hour has thousands of bar lines and tens of thousands of reference times)."""
    after = np.clip(np.searchsorted(points, times), 0, len(points) - 1)
    before = np.clip(after - 1, 0, len(points) - 1)
    return np.minimum(np.abs(times - points[before]), np.abs(times - points[after]))


def _subdivide(bars: np.ndarray, parts: int) -> np.ndarray:
    """`parts` equal steps inside every interval of `bars`, and the last bar line. `[(B-1)*parts+1]`"""
    steps = [bars[:-1] + (bars[1:] - bars[:-1]) * j / parts for j in range(parts)]
    return np.append(np.stack(steps, axis=1).ravel(), bars[-1])


def _bar_options(downbeats: np.ndarray) -> list[tuple[str, np.ndarray]]:
    """The decoded bars, the bars halved, and the bars paired (both ways)."""
    options = [("same", downbeats)]
    if len(downbeats) >= 2:
        halves = np.sort(np.concatenate([downbeats, (downbeats[:-1] + downbeats[1:]) / 2]))
        options.append(("half", halves))
    options += [("double", downbeats[0::2]), ("double", downbeats[1::2])]
    return [(name, bars) for name, bars in options if len(bars) >= 3]


@dataclass(frozen=True)
class _Cues:
    """The signals the meter features read, shared by every candidate of a recording.

    Attributes:
        pulse, down: `[F]` the RNN's beat + downbeat and downbeat activations.
        novelty: `[F]` harmonic novelty.
        reference: the DBN's bars cut in 12 `[(B-1)*12+1]` (every candidate's bar lines and
            beats lie near these).
        pulse_mean, down_mean: the mean peak of `pulse` and `down` at `reference`.
    """

    pulse: np.ndarray
    down: np.ndarray
    novelty: np.ndarray
    reference: np.ndarray
    pulse_mean: float
    down_mean: float


def meter_candidates(
    beats: np.ndarray,
    positions: np.ndarray,
    activations: np.ndarray,
    novelty: np.ndarray,
    allowed: Sequence[int] = (2, 3, 4),
    bass: tuple[np.ndarray, np.ndarray] | None = None,
    onsets: np.ndarray | None = None,
) -> list[MeterCandidate]:
    """Every reading of the DBN's bars (see the module docstring); two-beat readings
    twice, as 2/4 and as 6/8.

    Args:
        beats, positions: the DBN's beats `[N]` and their bar positions `[N]`.
        activations: the RNN's beat and downbeat activations `[F, 2]` (not emphasized).
        novelty: `[F]` harmonic novelty.
        allowed: beats per bar a candidate may have.
        bass: the deep chroma `[C, 12]` and `mir.bassline.bass_chroma` `[B, 12]`; None leaves
            the bass features at 0 (no cue).
        onsets: `[F]` `onset_strength`; None leaves the onset feature at 0.
    """
    downbeats = beats[positions == 1]
    if len(downbeats) < 3:
        return []
    pulse, down = activations.sum(axis=1), activations[:, 1]
    reference = _subdivide(downbeats, 12)
    cues = _Cues(
        pulse,
        down,
        novelty,
        reference,
        float(_peaks_at(pulse, reference, 2).mean()),
        float(_peaks_at(down, reference, 3).mean()),
    )
    dbn_numerator = int(positions.max())
    period = float(np.median(np.diff(beats))) if len(beats) > 1 else 1.0
    roots_mean = 0.0 if bass is None else float(root_agreement(beats, period, *bass).mean())
    onset_floor = 0.0 if onsets is None else 1e-3 * float(onsets.mean()) + 1e-9
    candidates = []
    for option, bars in _bar_options(downbeats):
        bar_seconds = float(np.median(np.diff(bars)))
        for k in allowed:
            grid = _subdivide(bars, k)
            roots = (
                np.zeros(len(grid))
                if bass is None
                else root_agreement(grid, bar_seconds / k, *bass)
            )
            on_beats = {
                "beat": _peaks_at(pulse, grid, 2),
                "harmony": _peaks_at(novelty, grid, 5) + EPS,
                "downbeat": _peaks_at(down, grid, 3) + EPS,
                "bass": roots + BASS_EPS,
            }
            for shift in range(k):
                lines = grid[shift::k]
                if len(lines) < 3:
                    continue
                per_beat = {name: values[shift:] for name, values in on_beats.items()}
                if onsets is not None and k == 2:  # offbeat onsets of the 2/4 reading
                    on_beat = _peaks_at(onsets, grid, 2).mean() + onset_floor
                    between = _peaks_at(onsets, (grid[1:] + grid[:-1]) / 2, 2).mean()
                    offbeat = float(np.log((between + onset_floor) / on_beat))
                for compound in (False, True) if k == 2 else (False,):
                    features = _candidate_features(lines, k, compound, cues, per_beat)
                    if onsets is not None and k == 2 and not compound:
                        features[FEATURES.index("onset_half_2/4")] = offbeat
                    features[FEATURES.index("shifted")] = float(shift > 0)
                    reading = option == "same" and k == dbn_numerator and shift == 0
                    features[FEATURES.index("dbn_reading")] = float(reading)
                    on_bar = (roots[shift::k].mean() + BASS_EPS) / (roots_mean + BASS_EPS)
                    features[FEATURES.index("bass_root_on_bar")] = np.log(on_bar)
                    candidates.append(
                        _place_candidate(grid, shift, k, compound, features, beats[0], beats[-1])
                    )
    return candidates


def _pooled(values: np.ndarray, k: int) -> np.ndarray:
    """Mean of `values` (one per beat, the first on a bar line) per position in the bar `[k]`."""
    bars = len(values) // k
    return values[: bars * k].reshape(bars, k).mean(axis=0)


def _bar_vs_beats(values: np.ndarray, k: int) -> float:
    """log of the pooled value on the bar line over the largest pooled value on another beat."""
    pooled = _pooled(values, k)
    return float(np.log(pooled[0] / pooled[1:].max()))


def _candidate_features(
    lines: np.ndarray,
    k: int,
    compound: bool,
    cues: _Cues,
    per_beat: dict[str, np.ndarray],
) -> np.ndarray:
    """`FEATURES` of one candidate with bar lines `lines` and `k` beats per bar (the flags and the
    bass-root feature are set by the caller).

    Args:
        per_beat: per beat of the candidate from its first bar line on, the beat activation, and
            (each plus a floor) harmonic novelty, RNN downbeat activation and bass root share.
    """
    features = np.zeros(len(FEATURES))
    reference, pulse = cues.reference, cues.pulse
    off_lines = reference[_distance_to_nearest(reference, lines) > 0.01]
    harmony_on = _peaks_at(cues.novelty, lines, 5).mean() + EPS
    harmony_off = (_peaks_at(cues.novelty, off_lines, 5).mean() if len(off_lines) else 0.0) + EPS
    beat_on = np.log((per_beat["beat"].mean() + EPS) / (cues.pulse_mean + EPS))
    sixths = _peaks_at(pulse, _subdivide(lines, 6 * k), 2)[:-1].reshape(-1, 6)  # [beats, 6]
    half = np.log((sixths[:, 3].mean() + EPS) / (cues.pulse_mean + EPS))
    third = np.log((sixths[:, [2, 4]].mean() + EPS) / (cues.pulse_mean + EPS))
    twelfths = _pooled(_peaks_at(pulse, _subdivide(lines, 12), 2)[:-1], 12) + EPS  # [12] a bar
    own = twelfths[np.arange(1, k) * 12 // k].mean()
    rival = twelfths[[6]].mean() if k == 3 else twelfths[[4, 8]].mean()
    bar_seconds = float(np.median(np.diff(lines)))
    meter = ("6/8" if compound else "2/4") if k == 2 else f"{k}/4"
    values = {
        "beat_on": beat_on,
        "harmony_on_bar": np.log(harmony_on / harmony_off),
        "beat_half": half,
        "beat_third": third,
        "downbeat_on_bar": np.log(
            (_peaks_at(cues.down, lines, 3).mean() + EPS) / (cues.down_mean + EPS)
        ),
        f"prior_{meter}": meter_log_prior(meter, 60.0 * k / bar_seconds),
        "division": (third - half) if compound else (half - third),
        "grouping": np.log(own / rival),
        "harmony_bar_vs_beat": _bar_vs_beats(per_beat["harmony"], k),
        "downbeat_bar_vs_beat": _bar_vs_beats(per_beat["downbeat"], k),
        "bass_bar_vs_beat": _bar_vs_beats(per_beat["bass"], k),
        "beat_half_2/4": half if meter == "2/4" else 0.0,
    }
    if meter != "4/4":
        values[f"meter_{meter}"] = 1.0
    for name in FEATURES:
        if name.startswith("prior_") and name not in values:
            values[name] = NO_PRIOR
    for name, value in values.items():
        features[FEATURES.index(name)] = value
    return features


def _place_candidate(
    grid: np.ndarray,
    shift: int,
    k: int,
    compound: bool,
    features: np.ndarray,
    first: float,
    last: float,
) -> MeterCandidate:
    """The candidate's beats: `grid` extended by whole beats to span the tracked beats."""
    step = float(np.median(np.diff(grid)))
    before = int(np.floor((grid[0] - first) / step + 0.5))
    after = int(np.floor((last - grid[-1]) / step + 0.5))
    head = grid[0] - step * np.arange(max(before, 0), 0, -1)
    tail = grid[-1] + step * np.arange(1, max(after, 0) + 1)
    beats = np.concatenate([head, grid, tail])
    index = np.arange(len(beats)) - len(head)
    positions = (index - shift) % k + 1
    keep = beats >= 0.0
    return MeterCandidate(beats[keep], positions[keep], k, compound and k == 2, features)


def choose_meter(candidates: Sequence[MeterCandidate]) -> MeterCandidate:
    """The candidate with the highest score (ties: the first)."""
    return max(candidates, key=lambda c: c.score)
