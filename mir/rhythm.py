"""Beats, downbeats, meter and tempo with madmom's RNN downbeat activations and DBN decoding.

`track_beats(audio)` runs `RNNDownBeatProcessor` (beat and downbeat activations at 100 frames
per second) and `DBNDownBeatTrackingProcessor` (a dynamic Bayesian network over bar position and
tempo that chooses between 3 and 4 beats per bar). Silence and clips too short for the network
give an empty `BeatGrid` instead of an error.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np

from mir._madmom import MADMOM_SAMPLE_RATE, is_too_quiet_or_short, madmom_signal
from mir.audio import Audio

logger = logging.getLogger(__name__)

ACTIVATION_FPS = 100
"""Frames per second of madmom's downbeat activations."""
MIN_SECONDS = 2.0
"""Shorter clips are not tracked: the DBN needs a few beats to settle on a tempo."""
CHUNK_SECONDS = 60.0
CONTEXT_SECONDS = 10.0
"""The RNN runs on 60 s chunks with 10 s of context on each side (its memory use grows with the
input: about 280 MB per minute of audio), so long files stay within a few hundred MB."""
HOP_SAMPLES = MADMOM_SAMPLE_RATE // ACTIVATION_FPS
DBN_CHUNK_SECONDS = 120.0
DBN_OVERLAP_SECONDS = 15.0
"""The DBN's Viterbi keeps a back-pointer per frame and state (about 220 MB per minute), so
long recordings are decoded in 120 s windows overlapping by 15 s on each side."""


@dataclass(frozen=True)
class BeatGrid:
    """The beat grid of a recording.

    Attributes:
        beats: beat times in seconds, increasing.
        downbeats: the beats that start a bar (position 1), in seconds.
        beat_positions: for each beat, its position in the bar (1 = downbeat).
        time_signature: the meter, "3/4" or "4/4"; "4/4" when nothing was tracked.
        tempo: the median tempo in bpm; None when fewer than two beats were found.
    """

    beats: tuple[float, ...] = ()
    downbeats: tuple[float, ...] = ()
    beat_positions: tuple[int, ...] = ()
    time_signature: str = "4/4"
    tempo: float | None = None

    @property
    def beats_per_bar(self) -> int:
        return int(self.time_signature.split("/")[0])

    @property
    def is_empty(self) -> bool:
        return not self.beats

    @classmethod
    def from_beats(cls, beats: Sequence[float], positions: Sequence[int]) -> BeatGrid:
        """Build the grid from beat times and their bar positions (meter and tempo derived)."""
        if len(beats) != len(positions):
            raise ValueError(f"{len(beats)} beats but {len(positions)} positions")
        times = tuple(round(float(t), 4) for t in beats)
        positions = tuple(int(p) for p in positions)
        downbeats = tuple(t for t, p in zip(times, positions, strict=True) if p == 1)
        numerator = max(positions, default=4)
        return cls(
            beats=times,
            downbeats=downbeats,
            beat_positions=positions,
            time_signature=f"{numerator if numerator in (2, 3, 4, 5, 6, 7) else 4}/4",
            tempo=tempo_from_beats(times),
        )


def tempo_from_beats(beats: Sequence[float]) -> float | None:
    """The tempo in bpm from the median inter-beat interval; None for fewer than two beats."""
    if len(beats) < 2:
        return None
    intervals = np.diff(np.asarray(beats, dtype=np.float64))
    intervals = intervals[intervals > 0]
    if intervals.size == 0:
        return None
    return round(60.0 / float(np.median(intervals)), 2)


def downbeat_activations(signal: np.ndarray, network: Callable[[Any], np.ndarray]) -> np.ndarray:
    """Beat and downbeat activations of `network` on `signal`, chunk by chunk.

    Args:
        signal: mono 44.1 kHz samples `[S]` (a madmom `Signal`).
        network: madmom's `RNNDownBeatProcessor` (or anything with its frame rate and output).

    Returns:
        `[ceil(S / 441), 2]` activations at 100 frames per second. Each chunk of
        `CHUNK_SECONDS` is computed with `CONTEXT_SECONDS` of audio on both sides, and only its
        centre is kept, so chunk borders see the same context as the rest.
    """
    from madmom.audio.signal import Signal

    total_frames = -(-len(signal) // HOP_SAMPLES)
    chunk = int(CHUNK_SECONDS * ACTIVATION_FPS)
    context = int(CONTEXT_SECONDS * ACTIVATION_FPS)
    if total_frames <= chunk + 2 * context:
        return np.asarray(network(signal))
    pieces = []
    for first in range(0, total_frames, chunk):
        last = min(first + chunk, total_frames)
        start = max(0, first - context)
        stop = min(total_frames, last + context)
        piece = Signal(
            np.asarray(signal[start * HOP_SAMPLES : stop * HOP_SAMPLES]),
            sample_rate=MADMOM_SAMPLE_RATE,
        )
        activations = np.asarray(network(piece))  # [stop - start, 2]
        pieces.append(activations[first - start : last - start])
    return np.concatenate(pieces, axis=0)


def decode_downbeats(
    activations: np.ndarray, tracker: Callable[[np.ndarray], np.ndarray]
) -> np.ndarray:
    """Decode beats and bar positions from activations `[frames, 2]`, window by window.

    Each window of `DBN_CHUNK_SECONDS` is decoded with `DBN_OVERLAP_SECONDS` of activations on
    both sides and keeps only the beats in its centre. The bar positions of a window are rotated
    so that the beat it shares with the previous window (within 70 ms) keeps its position.

    Returns:
        `[beats, 2]`: beat time in seconds and position in the bar (1 = downbeat).
    """
    total = len(activations)
    chunk = int(DBN_CHUNK_SECONDS * ACTIVATION_FPS)
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


def track_beats(audio: Audio, beats_per_bar: Sequence[int] = (3, 4)) -> BeatGrid:
    """Track beats and downbeats.

    Args:
        audio: any sample rate, mono or multi-channel.
        beats_per_bar: the meters the DBN may choose from.

    Returns:
        The `BeatGrid`; empty for silence or clips shorter than `MIN_SECONDS`.
    """
    if is_too_quiet_or_short(audio, MIN_SECONDS):
        logger.info("audio is silent or shorter than %.1f s: no beats tracked", MIN_SECONDS)
        return BeatGrid()
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

    activations = downbeat_activations(madmom_signal(audio), RNNDownBeatProcessor())  # [frames, 2]
    tracker = DBNDownBeatTrackingProcessor(beats_per_bar=list(beats_per_bar), fps=ACTIVATION_FPS)
    try:
        decoded = decode_downbeats(activations, tracker)  # [beats, 2]: time, position
    except (ValueError, IndexError) as exc:  # the DBN cannot decode degenerate activations
        logger.info("downbeat tracking found no beats (%s)", exc)
        return BeatGrid()
    if decoded.size == 0:
        logger.info("downbeat tracking found no beats")
        return BeatGrid()
    grid = BeatGrid.from_beats(decoded[:, 0].tolist(), decoded[:, 1].astype(int).tolist())
    logger.debug(
        "tracked %d beats, %s, %.1f bpm", len(grid.beats), grid.time_signature, grid.tempo or 0.0
    )
    return grid
