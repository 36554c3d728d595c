"""The bass as a downbeat cue (`mir.bassline`) and the groove it was added for."""

from __future__ import annotations

import shutil

import numpy as np
import pytest

from mir.audio import Audio
from mir.bassline import BASS_FPS, bass_chroma, root_agreement
from mir.rhythm import track_beats
from score_tokens.score import Chord, Note, Score, TempoChange, TimeSignature, Track
from tests.mir.synth import SAMPLE_RATE, midi_to_hz

TPB = 480


def _tone(pitch: int, seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    return sum(np.sin(2 * np.pi * k * midi_to_hz(pitch) * t) / k for k in range(1, 6))


def test_bass_chroma_hears_the_bass_note_from_its_onset() -> None:
    signal = np.concatenate([_tone(33, 1.0), _tone(40, 1.0)])  # A1 then E2
    bass = bass_chroma(signal)  # [frames, 12]
    assert bass.shape == (50, 12)
    assert np.argmax(bass[round(0.2 * BASS_FPS)]) == 9  # A
    assert np.argmax(bass[round(1.0 * BASS_FPS)]) == 4  # E, from the frame at its onset


def test_root_agreement_is_high_on_the_root_and_low_on_the_fifth() -> None:
    chroma = np.zeros((20, 12))
    chroma[:, [9, 0, 4]] = 1.0  # A minor for 2 s
    bass = np.zeros((2 * BASS_FPS, 12))
    bass[:BASS_FPS, 9] = 1.0  # A, then E
    bass[BASS_FPS:, 4] = 1.0
    agreement = root_agreement(np.array([0.0, 1.0, 5.0]), 0.5, chroma, bass)
    np.testing.assert_allclose(agreement, [1.0, 0.0, 0.0])


def _folk_rock_score(bpm: float, bars: int) -> Score:
    """MMA's FolkRockPlus groove as the corpus and the composer write it: low tom on 1, 1&, 2,
    3 and 4&, snare on 2 and 3, eighth hi-hats, a bass on the root (beat 1) and the fifth
    (beat 3), piano chords on every beat and a sustained guitar chord, one chord a bar."""
    bar = 4 * TPB
    progression = [1, 1, 6, 8]  # C# C# F# G#
    drums, bass, piano, guitar, chords = [], [], [], [], []
    for index in range(bars):
        start, root = index * bar, progression[index % 4]
        drums += [Note(start + k * TPB // 2, 2, 42, 57) for k in range(8)]
        drums += [Note(start + int(b * TPB), 2, 43, 73) for b in (0, 0.5, 1, 2, 3.5)]
        drums += [Note(start + b * TPB, 2, 38, 80) for b in (1, 2)]
        bass += [Note(start, 430, 36 + root, 72), Note(start + 2 * TPB, 430, 36 + (root + 7) % 12)]
        triad = [(root + step) % 12 for step in (0, 4, 7)]
        piano += [Note(start + k * TPB, 288, 60 + pc, 65) for k in range(4) for pc in triad]
        guitar += [Note(start, bar, 48 + pc, 57) for pc in triad]
        chords.append(Chord(start, bar, root, "maj"))
    tracks = {"vocal": Track(0), "piano": Track(0, piano), "guitar": Track(25, guitar)}
    tracks |= {"bass": Track(33, bass), "drums": Track(0, drums)}
    return Score(
        ticks_per_beat=TPB,
        tempos=[TempoChange(0, bpm)],
        time_signatures=[TimeSignature(0, 4, 4)],
        chords=chords,
        tracks=tracks,
        end_tick=bars * bar,
    ).validate()


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth is not installed")
def test_folk_rock_bars_start_on_beat_one() -> None:
    """Composed folk songs got downbeat F 0: the network heard this groove's beat 3 as the bar
    line (or read two-beat bars); the bass root puts the bars back on beat 1."""
    from seedmusic.data.synth import render_score

    audio = render_score(_folk_rock_score(96.0, bars=12), sample_rate=22050)  # 31 s
    grid = track_beats(Audio(audio, 22050))
    assert grid.time_signature == "4/4"
    downbeats = np.asarray(grid.downbeats)
    assert len(downbeats) >= 10
    assert np.all(np.abs(downbeats - 2.5 * np.round(downbeats / 2.5)) < 0.07)  # bars of 2.5 s
