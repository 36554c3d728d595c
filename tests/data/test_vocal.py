"""The sung vocal stem: exact length, silent rests, every note at its pitch and on its onset."""

from __future__ import annotations

import shutil
from typing import Any

import numpy as np
import pytest

from score_tokens.score import Note, Score, TempoChange
from seedmusic.data import vocal
from seedmusic.data.synth import TAIL_SECONDS
from seedmusic.data.vocal import clean_lyric, group_syllables, midi_to_hz, monophonic, sing
from seedmusic.errors import UserError

parselmouth = pytest.importorskip("parselmouth")
pytestmark = pytest.mark.skipif(
    shutil.which("espeak-ng") is None, reason="espeak-ng is not installed"
)

SR = 16000
BEAT = 480  # ticks; 120 bpm, so a beat is 0.5 s


def short_score(lyrics: tuple[str | None, ...] = ("sing", "a", "song", "la", None)) -> Score:
    """2 bars at 120 bpm: three notes with rests between, then "la" on a two-note melisma."""
    score = Score(ticks_per_beat=BEAT, tempos=[TempoChange(0, 120.0)], end_tick=8 * BEAT)
    layout = [(0, BEAT, 67), (2 * BEAT, BEAT, 72), (4 * BEAT, BEAT, 64)]
    layout += [(6 * BEAT, BEAT // 2, 69), (6 * BEAT + BEAT // 2, BEAT // 2, 74)]
    for (tick, duration, pitch), lyric in zip(layout, lyrics, strict=True):
        score.notes("vocal").append(Note(tick, duration, pitch, 96, lyric))
    return score.validate()


def seconds(score: Score, note: Note) -> tuple[float, float]:
    return score.tick_to_seconds(note.tick), score.tick_to_seconds(note.end)


def voiced_f0(pitch: Any, lo: float, hi: float) -> np.ndarray:
    """The voiced f0 values (Hz) of a Praat pitch track between `lo` and `hi` seconds."""
    times, f0 = pitch.xs(), pitch.selected_array["frequency"]
    return f0[(times > lo) & (times < hi) & (f0 > 0)]


def note_cents(score: Score, audio: np.ndarray) -> list[float]:
    """Cents from each note's written pitch to the median f0 over the note's middle half.

    Praat's autocorrelation f0, folded into the octave that its subharmonic summation finds
    (autocorrelation alone reads some PSOLA-raised notes an octave off, either way).
    """
    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=SR)
    shs = sound.to_pitch_shs(
        time_step=0.005, minimum_pitch=60, maximum_frequency_component=5000, ceiling=1400
    )
    ac = sound.to_pitch_ac(time_step=0.005, pitch_floor=60, pitch_ceiling=1400)
    cents = []
    for note in score.notes("vocal"):
        start, end = seconds(score, note)
        lo, hi = start + (end - start) / 4, end - (end - start) / 4
        octave, fine = voiced_f0(shs, lo, hi), voiced_f0(ac, lo, hi)
        if octave.size == 0 or fine.size == 0:
            cents.append(float("inf"))  # unvoiced
            continue
        folded = fine * 2.0 ** np.round(np.log2(np.median(octave) / fine))
        cents.append(1200.0 * np.log2(np.median(folded) / midi_to_hz(note.pitch)))
    return cents


def energy_onset(audio: np.ndarray, start: float) -> float:
    """Where sound starts near `start`: the first 2 ms frame within 30 dB of the loudest frame
    of the next 300 ms (searched from 100 ms before `start`)."""
    frame = SR // 500
    lo = max(0, round((start - 0.1) * SR))
    window = audio[lo : round((start + 0.3) * SR)]
    rms = np.sqrt(np.mean(window[: window.size // frame * frame].reshape(-1, frame) ** 2, axis=1))
    first = int(np.flatnonzero(rms >= rms.max() * 10 ** (-30 / 20))[0])
    return (lo + first * frame) / SR


@pytest.fixture(scope="module")
def sung() -> tuple[Score, np.ndarray]:
    score = short_score()
    return score, sing(score, sample_rate=SR, language="en", seed=0)


def test_output_has_the_render_length(sung):
    score, audio = sung
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size == round((score.duration_seconds() + TAIL_SECONDS) * SR) == 5 * SR
    assert 0.05 < np.abs(audio).max() <= 1.0


def test_rests_are_silent_and_notes_are_not(sung):
    score, audio = sung
    notes = score.notes("vocal")
    for before, after in ((notes[0], notes[1]), (notes[1], notes[2]), (notes[2], notes[3])):
        rest = audio[
            round(score.tick_to_seconds(before.end) * SR) : round(seconds(score, after)[0] * SR)
        ]
        assert rest.size > 0 and np.abs(rest).max() == 0.0
    assert np.abs(audio[round(seconds(score, notes[-1])[1] * SR) :]).max() == 0.0
    for note in notes:
        start, end = seconds(score, note)
        assert np.sqrt(np.mean(audio[round(start * SR) : round(end * SR)] ** 2)) > 0.01


def test_every_note_is_sung_at_its_pitch(sung):
    score, audio = sung
    cents = note_cents(score, audio)
    assert max(abs(c) for c in cents) < 50.0, cents


def test_syllables_start_on_their_onsets(sung):
    score, audio = sung
    for note in score.notes("vocal")[:4]:  # the melisma's second note starts no syllable
        start = seconds(score, note)[0]
        assert abs(energy_onset(audio, start) - start) < 0.03, (note.lyric, start)


def test_the_same_seed_gives_the_same_audio(sung):
    score, audio = sung
    assert np.array_equal(sing(score, sample_rate=SR, language="en", seed=0), audio)


def test_german_and_lyricless_melodies_are_sung_at_their_pitches():
    german = short_score(("Gott", "es", "Sohn", "Freu", None))
    cents = note_cents(german, sing(german, sample_rate=SR, language="de", seed=1))
    assert max(abs(c) for c in cents) < 50.0, cents
    melody = short_score((None, None, None, None, None))
    cents = note_cents(melody, sing(melody, sample_rate=SR, seed=2))
    assert max(abs(c) for c in cents) < 50.0, cents


def test_an_empty_vocal_track_is_silence():
    score = short_score()
    score.notes("vocal").clear()
    assert not sing(score, sample_rate=SR).any()


def test_syllables_group_melismas_and_clean_lyrics():
    notes = short_score(("Sing,", "a", "1. song;", "la", None)).notes("vocal")
    syllables = group_syllables(monophonic(notes))
    assert [s.text for s in syllables] == ["sing", "a", "song", "la"]
    assert len(syllables[-1].notes) == 2
    assert clean_lyric("Seel’") == "seel" and clean_lyric("-") == "" and clean_lyric(None) == ""
    lyricless = group_syllables(monophonic(short_score((None,) * 5).notes("vocal")))
    assert [s.text for s in lyricless] == ["la"] * 5


def test_overlapping_notes_become_one_voice():
    notes = [Note(0, 960, 60, lyric="a"), Note(0, 480, 64, lyric="b"), Note(480, 480, 62)]
    voice = monophonic(notes)
    assert [(n.tick, n.duration, n.pitch) for n in voice] == [(0, 480, 64), (480, 480, 62)]


def test_missing_espeak_or_language_is_a_user_error(monkeypatch):
    vocal.espeak_binary.cache_clear()
    monkeypatch.setattr(vocal.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="espeak-ng"):
        sing(short_score(), sample_rate=SR)
    monkeypatch.undo()
    vocal.espeak_binary.cache_clear()
    with pytest.raises(UserError, match="no voice"):
        sing(short_score(), sample_rate=SR, language="xx-nonexistent")
