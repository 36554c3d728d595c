"""Chord naming and melody harmonisation for the corpus."""

from __future__ import annotations

import numpy as np
import pytest

from score_tokens.score import Note
from seedmusic.data.harmony import diatonic_candidates, harmonise, label_chord

BEAT = 480


def profile(*pitch_classes: int) -> np.ndarray:
    weights = np.zeros(12)
    weights[list(pitch_classes)] = 1.0
    return weights


@pytest.mark.parametrize(
    ("pcs", "bass", "expected"),
    [
        ((0, 4, 7), 0, (0, "maj")),
        ((9, 0, 4), 9, (9, "min")),
        ((7, 11, 2, 5), 7, (7, "7")),
        ((11, 2, 5), 11, (11, "dim")),
        ((2, 5, 9, 0), 2, (2, "min7")),
        ((0, 4, 7, 11), 0, (0, "maj7")),
        ((11, 2, 5, 8), 11, (11, "dim7")),
        ((0, 5, 7), 0, (0, "sus4")),
    ],
)
def test_label_chord_names_templates(pcs, bass, expected):
    assert label_chord(profile(*pcs), bass) == expected


def test_bass_decides_between_relative_chords():
    # A C E G: A minor seventh with A in the bass, C major sixth-ish otherwise.
    assert label_chord(profile(9, 0, 4, 7), bass=9) == (9, "min7")


def test_silence_has_no_chord():
    assert label_chord(np.zeros(12)) is None


def test_minor_key_candidates_have_a_major_dominant():
    names = {(c.root, c.quality) for c in diatonic_candidates(9, "minor")}
    assert (4, "maj") in names and (9, "min") in names and (4, "7") in names


def test_harmonise_follows_an_arpeggiated_melody_and_cadences_on_the_tonic():
    bar = 4 * BEAT
    # C E G C | F A C A | G B D G | C E G C  (whole bars of arpeggios)
    arpeggios = [(60, 64, 67, 72), (65, 69, 72, 69), (67, 71, 74, 67), (60, 64, 67, 72)]
    melody = [
        Note(b * bar + i * BEAT, BEAT, pitch)
        for b, pitches in enumerate(arpeggios)
        for i, pitch in enumerate(pitches)
    ]
    chords = harmonise(melody, tonic=0, mode="major", slot_ticks=bar, end_tick=4 * bar, beat=BEAT)
    assert [c.label for c in chords] == ["C:maj", "F:maj", "G:maj", "C:maj"]
    assert chords[0].tick == 0 and sum(c.duration for c in chords) == 4 * bar


def test_harmonise_merges_repeated_chords():
    melody = [Note(i * BEAT, BEAT, 60 + (i % 3) * 4 - (i % 3 == 2)) for i in range(8)]
    chords = harmonise(
        melody, tonic=0, mode="major", slot_ticks=2 * BEAT, end_tick=8 * BEAT, beat=BEAT
    )
    assert [c.label for c in chords] == ["C:maj"]
    assert chords[0].duration == 8 * BEAT
