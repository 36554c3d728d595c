"""Synthetic clips shared by the MIR tests (made once per session: madmom is slow-ish)."""

from __future__ import annotations

import numpy as np
import pytest

from mir.audio import Audio
from mir.rhythm import BeatGrid, track_beats
from tests.mir.synth import SAMPLE_RATE, chord_tones, click_track, song_abab

TRIAD_LABELS = ["C:maj", "G:maj", "A:min", "F:maj"]
TRIAD_SECONDS = 2.0


@pytest.fixture(scope="session")
def click_120() -> Audio:
    """20 s of drum clicks at 120 bpm, 4/4, accented downbeats from t=0."""
    return Audio(click_track(120.0, 20.0, beats_per_bar=4), SAMPLE_RATE)


@pytest.fixture(scope="session")
def click_120_grid(click_120: Audio) -> BeatGrid:
    return track_beats(click_120)


@pytest.fixture(scope="session")
def triads() -> Audio:
    """C G Am F, 2 s each, sawtooth triads with a bass note, played twice (16 s)."""
    return Audio(chord_tones(TRIAD_LABELS * 2, TRIAD_SECONDS), SAMPLE_RATE)


@pytest.fixture(scope="session")
def abab() -> Audio:
    """A B A B, 8 s each at 120 bpm: different chords, brightness and drum level."""
    return Audio(song_abab(8.0, 120.0), SAMPLE_RATE)


@pytest.fixture(scope="session")
def silence() -> Audio:
    return Audio(np.zeros(5 * SAMPLE_RATE, dtype=np.float32), SAMPLE_RATE)
