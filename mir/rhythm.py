"""Beats, downbeats, meter and tempo: madmom's RNN + DBN, harmonic cues and a meter prior.

`track_beats(audio)` runs, in order:

1. **Activations**: `RNNDownBeatProcessor` (beat and downbeat activations, 100 frames/s) and
   `DeepChromaProcessor` (12-d chroma, 10 frames/s), both in chunks (`mir._madmom`).
2. **Harmonic downbeat cue**: chords change at bar lines far more often than inside bars, so
   the chroma novelty (cosine distance between the mean chroma of the 0.6 s before and after
   each frame) moves a share `HARMONIC_WEIGHT` of the beat activation to the downbeat class
   before decoding (`emphasize_harmonic_changes`). The RNN alone often puts the bar line on
   beat 3, or on no beat at all in music without drums.
3. **DBN**: madmom's bar-pointer DBN over 2, 3 and 4 beats per bar, 40-240 bpm, decoded in
   overlapping windows (`decode_downbeats`).
4. **Meter decision** (`mir.meter`): the best-scoring reading of the DBN's bars wins.
5. **Timing** (`mir.tempo.smooth_beats`): beats are smoothed by a robust local-quadratic fit
   of beat time against beat index over +-32 beats (Tukey weights), which removes the jitter
   of decoding at 10 ms frames and the DBN's coarse tempo grid without flattening gradual tempo
   changes. The fit runs within each stretch of constant tempo (`mir.tempo.tempo_stretches`),
   so a tempo that steps at a section keeps its step instead of becoming a ramp across it.

Compound meter: a two-beat bar chosen as 6/8 (step 4) is reported as "6/8"; its beats are
dotted quarter notes, and the tempo is in dotted quarters per minute (what listeners tap).
Three- and four-beat bars are reported as 3/4 and 4/4 (swung eighths included).

Silence and clips too short for the network give an empty `BeatGrid` instead of an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mir._madmom import (
    CHROMA_FPS,
    chunked_frames,
    deep_chroma,
    is_too_quiet_or_short,
    madmom_signal,
)
from mir.audio import Audio
from mir.bassline import bass_chroma
from mir.memory import release_freed_memory
from mir.meter import ACTIVATION_FPS, choose_meter, meter_candidates, onset_strength
from mir.tempo import smooth_beats

logger = logging.getLogger(__name__)

MIN_SECONDS = 2.0
"""Shorter clips are not tracked: the DBN needs a few beats to settle on a tempo."""
CHUNK_SECONDS = 60.0
CONTEXT_SECONDS = 10.0
"""The networks run on 60 s chunks with 10 s of context on each side (the RNN's memory use
grows with the input: about 280 MB per minute of audio), so long files stay within a few
hundred MB."""
DBN_CHUNK_SECONDS = 120.0
DBN_OVERLAP_SECONDS = 15.0
"""The DBN's Viterbi keeps a back-pointer per frame and state (about 400 MB per minute for four
beats a bar), so long recordings are decoded in 120 s windows overlapping by 15 s on each side."""
DBN_LONG_CHUNK_SECONDS = 45.0
DBN_LONG_SECONDS = 600.0
"""Recordings over 10 minutes are decoded in 45 s windows (75 s with the overlaps: 0.5 GB instead
of 1 GB), which keeps an hour's analysis under 2 GB; shorter ones keep the 120 s windows."""
MIN_BPM, MAX_BPM = 40.0, 240.0
HARMONIC_WEIGHT = 0.3
"""Share of the downbeat-vs-beat decision given to harmonic change (step 2)."""
NOVELTY_SECONDS = 0.6


@dataclass(frozen=True)
class BeatGrid:
    """The beat grid of a recording.

    Attributes:
        beats: beat times in seconds, increasing (dotted quarter notes in 6/8).
        downbeats: the beats that start a bar (position 1), in seconds.
        beat_positions: for each beat, its position in the bar (1 = downbeat).
        time_signature: "2/4", "3/4", "4/4" or "6/8"; "4/4" when nothing was tracked.
        tempo: the median tempo in beats per minute; None when fewer than two beats were found.
    """

    beats: tuple[float, ...] = ()
    downbeats: tuple[float, ...] = ()
    beat_positions: tuple[int, ...] = ()
    time_signature: str = "4/4"
    tempo: float | None = None

    @property
    def beats_per_bar(self) -> int:
        """Counted beats per bar (2 in 6/8)."""
        return beats_per_bar(self.time_signature)

    @property
    def is_empty(self) -> bool:
        return not self.beats

    @classmethod
    def from_beats(
        cls, beats: Sequence[float], positions: Sequence[int], compound: bool = False
    ) -> BeatGrid:
        """Build the grid from beat times and their bar positions (meter and tempo derived).

        Args:
            beats: beat times in seconds.
            positions: each beat's position in its bar (1 = downbeat).
            compound: the beats divide in three; a two-beat bar is then reported as 6/8.
        """
        if len(beats) != len(positions):
            raise ValueError(f"{len(beats)} beats but {len(positions)} positions")
        times = tuple(round(float(t), 4) for t in beats)
        positions = tuple(int(p) for p in positions)
        downbeats = tuple(t for t, p in zip(times, positions, strict=True) if p == 1)
        numerator = max(positions, default=4)
        if compound and numerator == 2:
            signature = "6/8"
        else:
            signature = f"{numerator if numerator in (2, 3, 4, 5, 6, 7) else 4}/4"
        return cls(times, downbeats, positions, signature, tempo_from_beats(times))


def beats_per_bar(time_signature: str) -> int:
    """Counted beats per bar of a time signature: 6/8, 9/8, 12/8 count dotted quarters."""
    numerator, denominator = (int(part) for part in time_signature.split("/"))
    if denominator == 8 and numerator % 3 == 0:
        return numerator // 3
    return numerator


def tempo_from_beats(beats: Sequence[float]) -> float | None:
    """The tempo in bpm from the median inter-beat interval; None for fewer than two beats."""
    if len(beats) < 2:
        return None
    intervals = np.diff(np.asarray(beats, dtype=np.float64))
    intervals = intervals[intervals > 0]
    if intervals.size == 0:
        return None
    return round(60.0 / float(np.median(intervals)), 2)


# ----------------------------------------------------------------------------- activations


def downbeat_activations(signal: np.ndarray, network: Callable[[Any], np.ndarray]) -> np.ndarray:
    """Beat and downbeat activations `[ceil(S / 441), 2]` of `network` on 44.1 kHz `signal`,
    computed in chunks of `CHUNK_SECONDS` with `CONTEXT_SECONDS` of context."""
    return chunked_frames(signal, network, ACTIVATION_FPS, CHUNK_SECONDS, CONTEXT_SECONDS)


def harmonic_novelty(chroma: np.ndarray, num_frames: int) -> np.ndarray:
    """Chord-change strength at `ACTIVATION_FPS`: per chroma frame boundary, the cosine distance
    between the mean chroma of the `NOVELTY_SECONDS` before and after it.

    Args:
        chroma: `[C, 12]` at `CHROMA_FPS`.
        num_frames: length of the result.

    Returns:
        `[num_frames]`, in [0, 1], linearly interpolated between chroma frame boundaries.
    """
    if len(chroma) < 2:
        return np.zeros(num_frames)
    width = max(1, round(NOVELTY_SECONDS * CHROMA_FPS))
    unit = chroma / (np.linalg.norm(chroma, axis=1, keepdims=True) + 1e-9)
    sums = np.cumsum(np.vstack([np.zeros((1, unit.shape[1])), unit]), axis=0)  # [C + 1, 12]
    index = np.arange(len(unit))
    before = sums[index] - sums[np.maximum(0, index - width)]
    after = sums[np.minimum(len(unit), index + width)] - sums[index]
    norms = np.linalg.norm(before, axis=1) * np.linalg.norm(after, axis=1)
    novelty = 1.0 - np.sum(before * after, axis=1) / np.maximum(norms, 1e-12)
    novelty[norms <= 0] = 0.0
    times = np.arange(num_frames) / ACTIVATION_FPS
    return np.interp(times, index / CHROMA_FPS, novelty)


def emphasize_harmonic_changes(
    activations: np.ndarray, novelty: np.ndarray, weight: float = HARMONIC_WEIGHT
) -> np.ndarray:
    """Move part of the beat activation to the downbeat class where the harmony changes.

    The total (beat + downbeat) activation of each frame is kept; the downbeat share becomes
    `(1 - weight) * RNN share + weight * novelty`, the novelty scaled to its 99th percentile.

    Args:
        activations: `[F, 2]` beat (not downbeat) and downbeat activations.
        novelty: `[F]` from `harmonic_novelty`.
    """
    scale = float(np.percentile(novelty, 99)) if novelty.size else 0.0
    cue = np.clip(novelty / scale, 0.0, 1.0) if scale > 0 else np.zeros_like(novelty)
    total = activations.sum(axis=1)
    share = activations[:, 1] / np.maximum(total, 1e-9)
    share = (1.0 - weight) * share + weight * cue
    return np.stack([total * (1.0 - share), total * share], axis=1).astype(np.float32)


# ----------------------------------------------------------------------------- DBN decoding


def decode_downbeats(
    activations: np.ndarray, tracker: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Decode beats and bar positions from activations `[frames, 2]`, window by window.

    Each window of `DBN_CHUNK_SECONDS` (`DBN_LONG_CHUNK_SECONDS` for activations over
    `DBN_LONG_SECONDS`) is decoded with `DBN_OVERLAP_SECONDS` of activations on both sides and keeps only the beats in its centre. The bar positions of a window are rotated
    so that the beat it shares with the previous window (within 70 ms) keeps its position.

    Returns:
        `[beats, 2]`: beat time in seconds and position in the bar (1 = downbeat).
    """
    total = len(activations)
    long = total > DBN_LONG_SECONDS * ACTIVATION_FPS
    chunk = int((DBN_LONG_CHUNK_SECONDS if long else DBN_CHUNK_SECONDS) * ACTIVATION_FPS)
    overlap = int(DBN_OVERLAP_SECONDS * ACTIVATION_FPS)
    if total <= chunk + 2 * overlap:
        return np.asarray(tracker(activations)).reshape(-1, 2)
    kept: list[np.ndarray] = []
    for first in range(0, total, chunk):
        start, last = max(0, first - overlap), min(total, first + chunk)
        decoded = (
            np.asarray(tracker(activations[start : min(total, last + overlap)]))
            .reshape(-1, 2)
            .copy()
        )
        decoded[:, 0] += start / ACTIVATION_FPS
        if kept and len(kept[-1]) and len(decoded):
            decoded[:, 1] = _continue_bar_positions(kept[-1], decoded)
        inside = (decoded[:, 0] >= first / ACTIVATION_FPS) & (decoded[:, 0] < last / ACTIVATION_FPS)
        kept.append(decoded[inside])
    beats = np.concatenate(kept, axis=0)
    if len(beats) > 2:  # a beat decoded on both sides of a window border: keep one
        min_gap = 0.5 * float(np.median(np.diff(beats[:, 0])))
        beats = beats[np.concatenate([[True], np.diff(beats[:, 0]) > min_gap])]
    return beats


def _continue_bar_positions(previous: np.ndarray, decoded: np.ndarray) -> np.ndarray:
    """Positions of `decoded` rotated to agree with `previous` on their shared beat."""
    time, position = previous[-1]
    nearest = int(np.argmin(np.abs(decoded[:, 0] - time)))
    numerator = int(decoded[:, 1].max())
    if abs(decoded[nearest, 0] - time) > 0.07 or numerator != int(previous[:, 1].max()):
        return decoded[:, 1]
    shift = int(position) - int(decoded[nearest, 1])
    return (decoded[:, 1] - 1 + shift) % numerator + 1


# ----------------------------------------------------------------------------- the stage


def grid_from_activations(
    activations: np.ndarray,
    chroma: np.ndarray,
    tracker: Callable[[np.ndarray], np.ndarray],
    allowed: Sequence[int] = (2, 3, 4),
    bass: np.ndarray | None = None,
    onsets: np.ndarray | None = None,
) -> BeatGrid:
    """Steps 2-5 of the module docstring on precomputed activations.

    Args:
        activations: `[F, 2]` RNN beat and downbeat activations at `ACTIVATION_FPS`.
        chroma: `[C, 12]` deep chroma at `CHROMA_FPS`.
        tracker: a `DBNDownBeatTrackingProcessor` (or anything returning `[beats, 2]`).
        allowed: the beats per bar to choose from.
        bass: `[B, 12]` `mir.bassline.bass_chroma` of the audio; None: no bass cue.
        onsets: `[F]` `onset_strength` of the audio; None: no onset cue.
    """
    novelty = harmonic_novelty(chroma, len(activations))
    try:
        decoded = decode_downbeats(emphasize_harmonic_changes(activations, novelty), tracker)
    except (ValueError, IndexError) as exc:  # the DBN cannot decode degenerate activations
        logger.info("downbeat tracking found no beats (%s)", exc)
        return BeatGrid()
    if decoded.size == 0:
        logger.info("downbeat tracking found no beats")
        return BeatGrid()
    beats, positions = decoded[:, 0], decoded[:, 1].astype(int)
    bass_cue = None if bass is None else (chroma, bass)
    candidates = meter_candidates(beats, positions, activations, novelty, allowed, bass_cue, onsets)
    compound = False
    if candidates:
        best = choose_meter(candidates)
        beats, positions, compound = best.beats, best.positions, best.compound
    beats = smooth_beats(beats, positions)
    keep = np.concatenate([[True], np.diff(beats) > 0])
    return BeatGrid.from_beats(beats[keep].tolist(), positions[keep].tolist(), compound)


def track_beats(
    audio: Audio, beats_per_bar: Sequence[int] = (2, 3, 4), chroma: np.ndarray | None = None
) -> BeatGrid:
    """Track beats, downbeats, meter and tempo.

    Args:
        audio: any sample rate, mono or multi-channel.
        beats_per_bar: the beats per bar to choose from.
        chroma: `mir._madmom.deep_chroma` of the audio when the caller has it; None computes it.

    Returns:
        The `BeatGrid`; empty for silence or clips shorter than `MIN_SECONDS`.
    """
    if is_too_quiet_or_short(audio, MIN_SECONDS):
        logger.info("audio is silent or shorter than %.1f s: no beats tracked", MIN_SECONDS)
        return BeatGrid()
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

    signal = madmom_signal(audio)
    activations = downbeat_activations(signal, RNNDownBeatProcessor())  # [F, 2]
    if chroma is None:
        chroma = deep_chroma(signal)  # [C, 12]
    tracker = DBNDownBeatTrackingProcessor(
        beats_per_bar=list(beats_per_bar), min_bpm=MIN_BPM, max_bpm=MAX_BPM, fps=ACTIVATION_FPS
    )
    bass, onsets = bass_chroma(signal), onset_strength(signal)
    release_freed_memory()  # the networks' buffers, before the DBN's back-pointers
    grid = grid_from_activations(activations, chroma, tracker, beats_per_bar, bass, onsets)
    logger.debug(
        "tracked %d beats, %s, %.1f bpm", len(grid.beats), grid.time_signature, grid.tempo or 0.0
    )
    return grid
