"""Synthetic test signals with known beats, chords, key and structure (numpy only)."""

from __future__ import annotations

import numpy as np

SAMPLE_RATE = 44100

CHORD_PITCHES: dict[str, tuple[int, ...]] = {
    "C:maj": (60, 64, 67),
    "G:maj": (55, 59, 62),
    "A:min": (57, 60, 64),
    "F:maj": (53, 57, 60),
    "D:min": (50, 53, 57),
    "E:min": (52, 55, 59),
}


def midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69) / 12)


def click_track(
    bpm: float, seconds: float, beats_per_bar: int = 4, sr: int = SAMPLE_RATE
) -> np.ndarray:
    """Drum-like clicks on every beat, accented (louder, lower, with a kick) on downbeats. `[S]`."""
    out = np.zeros(int(seconds * sr), dtype=np.float64)
    t = np.arange(int(0.12 * sr)) / sr
    rng = np.random.default_rng(0)
    noise = rng.standard_normal(t.size)
    for index, onset in enumerate(np.arange(0.0, seconds, 60.0 / bpm)):
        downbeat = index % beats_per_bar == 0
        kick = np.sin(2 * np.pi * (60 + 90 * np.exp(-t * 30)) * t) * np.exp(-t * 25)
        hat = noise * np.exp(-t * 80) * 0.4
        hit = (1.0 * kick + 0.3 * hat) if downbeat else (0.35 * kick + 0.5 * hat)
        _add(out, hit, int(onset * sr))
    return (0.5 * out / np.max(np.abs(out))).astype(np.float32)


def chord_tones(
    labels: list[str], seconds_each: float, sr: int = SAMPLE_RATE, bright: bool = False
) -> np.ndarray:
    """Sustained sawtooth triads (with a bass note an octave below the root), one per label. `[S]`."""
    pieces = []
    n = int(seconds_each * sr)
    t = np.arange(n) / sr
    envelope = np.minimum(1.0, np.minimum(t / 0.02, (seconds_each - t) / 0.05))
    for label in labels:
        pitches = CHORD_PITCHES[label]
        tone = sum(_saw(midi_to_hz(p), t, harmonics=12 if bright else 6) for p in pitches)
        tone += 0.8 * _saw(midi_to_hz(pitches[0] - 12), t, 6)
        pieces.append(tone * envelope)
    signal = np.concatenate(pieces)
    return (0.5 * signal / np.max(np.abs(signal))).astype(np.float32)


def _saw(freq: float, t: np.ndarray, harmonics: int) -> np.ndarray:
    return sum(
        np.sin(2 * np.pi * k * freq * t) / k for k in range(1, harmonics + 1) if k * freq < 10000
    )


def _add(out: np.ndarray, piece: np.ndarray, start: int) -> None:
    end = min(out.size, start + piece.size)
    if end > start:
        out[start:end] += piece[: end - start]


def song_abab(
    section_seconds: float = 8.0, bpm: float = 120.0, sr: int = SAMPLE_RATE
) -> np.ndarray:
    """A B A B: A = C G Am F (soft), B = F G C C bright with louder drums. `[S]`."""
    chord_seconds = section_seconds / 4
    part_a = chord_tones(["C:maj", "G:maj", "A:min", "F:maj"], chord_seconds, sr) * 0.6
    part_b = chord_tones(["D:min", "E:min", "D:min", "E:min"], chord_seconds, sr, bright=True)
    drums = click_track(bpm, section_seconds, sr=sr)
    a = part_a + 0.5 * drums[: part_a.size]
    b = part_b + 1.0 * drums[: part_b.size]
    song = np.concatenate([a, b, a, b])
    return (0.8 * song / np.max(np.abs(song))).astype(np.float32)
