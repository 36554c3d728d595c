from __future__ import annotations

import math

import numpy as np
import pytest

from benchmarks import composer_metrics as m
from score_tokens.score import Chord, Note, Score, Section, TempoChange, TimeSignature

BEAT = 480


def melody(
    pitches: list[int],
    beats: list[float] | None = None,
    lyrics: list[str | None] | None = None,
    key: str = "C major",
) -> Score:
    """A vocal line played legato from tick 0; lyrics default to one syllable per note."""
    score = Score(key=key)
    beats = beats or [1.0] * len(pitches)
    lyrics = lyrics or [f"s{i}" for i in range(len(pitches))]
    tick = 0
    for pitch, length, lyric in zip(pitches, beats, lyrics, strict=True):
        duration = round(length * BEAT)
        score.tracks["vocal"].notes.append(Note(tick, duration, pitch, lyric=lyric))
        tick += duration
    return score


TUNE = [60, 62, 64, 65, 67, 65, 64, 62, 60, 67, 72, 71, 69, 67, 65, 64, 62, 60]


# ---------------------------------------------------------------------------------- alignment


def test_alignment_valid_accepts_syllables_with_melisma():
    score = melody([60, 62, 64, 65], lyrics=["a", None, "b", "c"])
    assert m.alignment_valid(score, ["a", "b", "c"])
    assert m.notes_per_syllable(score) == [2, 1, 1]


def test_alignment_valid_rejects_shuffled_missing_and_leading_melisma():
    score = melody([60, 62, 64], lyrics=["a", "b", "c"])
    assert not m.alignment_valid(score, ["b", "a", "c"])
    assert not m.alignment_valid(score, ["a", "b"])
    assert not m.alignment_valid(melody([60, 62], lyrics=[None, "a"]), ["a"])


def test_alignment_valid_rejects_overlapping_notes():
    score = melody([60, 62], lyrics=["a", "b"])
    score.tracks["vocal"].notes[0].duration = BEAT + 1
    assert not m.alignment_valid(score, ["a", "b"])


# ---------------------------------------------------------------------------------- histograms


def test_histogram_overlap():
    assert m.histogram_overlap([1, 2, 3], [2, 4, 6]) == pytest.approx(100.0)
    assert m.histogram_overlap([1, 0], [0, 1]) == 0.0
    assert m.histogram_overlap([1, 1], [1, 0]) == pytest.approx(50.0)
    assert m.histogram_overlap([0, 0], [1, 0]) == 0.0


def test_duration_bins_snap_to_nearest_and_collect_long_values():
    counts = m.beat_bins([0.25, 0.3, 0.5, 1.1, 4.0, 6.0])
    assert counts.tolist() == [1, 1, 1, 0, 0, 1, 0, 0, 0, 1, 1]


def test_identical_scores_overlap_fully_and_have_md_zero():
    score = melody(TUNE, [0.5, 0.5, 1, 1, 2] * 3 + [1, 1, 4], ["a", None, *"bcdefghijklmnopq"])
    metrics = m.distribution_metrics(score, [score.copy(), score.copy()])
    assert metrics == pytest.approx({"D_A": 100.0, "PD": 100.0, "DD": 100.0, "D_IOI": 100.0})
    assert m.melody_distance(score, score.copy()) == pytest.approx(0.0)


def test_pitch_histogram_is_relative_to_the_tonic():
    in_c = melody([60, 64, 67], key="C major")
    in_a = melody([57, 61, 64], key="A major")  # A3 is the A nearest middle C
    assert np.array_equal(m.pitch_histogram(in_c), m.pitch_histogram(in_a))
    assert m.pitch_histogram(in_c)[m.PITCH_SPAN + 4] == 1


# ---------------------------------------------------------------------------------- MD


def test_transposed_copy_has_md_zero_and_changes_are_positive():
    score = melody(TUNE)
    assert m.melody_distance(score, melody([p + 5 for p in TUNE])) == pytest.approx(0.0)
    changed = melody([*TUNE[:8], *[p + 7 for p in TUNE[8:]]])
    assert m.melody_distance(score, changed) > 0.5


def test_dtw_distance_known_value():
    # the only path through a 1 x 2 grid costs |0-0| + |0-2| over 2 cells
    assert m.dtw_distance(np.array([0.0]), np.array([0.0, 2.0])) == pytest.approx(1.0)
    assert math.isnan(m.melody_distance(Score(), melody(TUNE)))


def test_dtw_absorbs_a_tempo_stretch():
    score = melody(TUNE)
    slow = melody(TUNE, [2.0] * len(TUNE))
    assert m.melody_distance(score, slow) == pytest.approx(0.0)


# ---------------------------------------------------------------------------------- harmony


def test_off_key_note_lowers_in_key_ratio_by_its_duration_share():
    score = melody([60, 62, 64, 65], [1, 1, 1, 1])
    assert m.in_key_ratio(score, ("vocal",)) == 1.0
    score.tracks["vocal"].notes[1].pitch = 61  # C#, one beat of four
    assert m.in_key_ratio(score, ("vocal",)) == pytest.approx(0.75)


def test_in_key_ratio_minor_accepts_the_raised_seventh_and_skips_drums():
    score = melody([69, 68, 67, 66], key="A minor")  # A, G#, G, F#
    assert m.in_key_ratio(score, ("vocal",)) == pytest.approx(0.75)
    score.tracks["drums"].notes.append(Note(0, 4 * BEAT, 37))
    score.tracks["bass"].notes.append(Note(0, BEAT, 45))
    assert m.in_key_ratio(score, ("bass", "drums")) == 1.0
    assert math.isnan(m.in_key_ratio(score, ("piano",)))


def test_chord_tone_ratio_counts_strong_beats_under_chords_only():
    # 4/4: beats 1 and 3 are strong; bar 1 under C:maj, bar 2 under N
    score = melody([60, 61, 62, 62, 60, 61, 62, 63])
    score.chords = [Chord(0, 4 * BEAT, 0, "maj"), Chord(4 * BEAT, 4 * BEAT, None)]
    assert m.chord_tone_ratio(score) == pytest.approx(0.5)  # C yes, D (beat 3) no
    score.chords[0].quality = "7"
    score.tracks["vocal"].notes[2].pitch = 70  # Bb is the seventh of C7
    assert m.chord_tone_ratio(score) == pytest.approx(1.0)


def test_stress_on_strong_ratio():
    score = melody([60, 62, 64, 65, 67])  # beats 1 2 3 4 | 1
    assert m.stress_on_strong_ratio(score, [1, 0, 1, 1, 0]) == pytest.approx(2 / 3)
    assert math.isnan(m.stress_on_strong_ratio(score, [0, 0, 2, 0, 0]))
    with pytest.raises(ValueError, match="stresses"):
        m.stress_on_strong_ratio(score, [1, 0])


def test_stress_on_strong_ratio_in_six_eight():
    score = melody([60, 62, 64, 65], [1.5, 1.5, 1.5, 1.5])
    score.time_signatures = [TimeSignature(0, 6, 8)]
    assert m.stress_on_strong_ratio(score, [1, 1, 1, 1]) == 1.0


# ---------------------------------------------------------------------------------- compliance


def test_compliance_reports_requested_fields_only():
    score = melody([57, 59, 60, 62, 64], key="A minor")
    score.tempos = [TempoChange(0, 90.3)]
    score.time_signatures = [TimeSignature(0, 3, 4)]
    score.sections = [Section(0, "intro"), Section(960, "verse")]
    assert m.compliance(score) == {}
    result = m.compliance(
        score,
        tempo=90.0,
        meter=(3, 4),
        key="A minor",
        voice="male vocal",
        section_order=["intro", "verse"],
    )
    assert result == dict.fromkeys(("tempo", "meter", "key", "voice", "section_order"), True)
    result = m.compliance(score, tempo=91.0, meter=(4, 4), key="C major", voice="female vocal")
    assert result == dict.fromkeys(("tempo", "meter", "key", "voice"), False)
    with pytest.raises(ValueError, match="voice"):
        m.compliance(score, voice="tenor")


# ---------------------------------------------------------------------------------- copying


def test_melody_ngrams_are_transposition_invariant():
    score = melody(TUNE)
    grams = m.melody_ngrams(score, n=4)
    assert len(next(iter(grams))) == 4
    assert grams == m.melody_ngrams(melody([p - 3 for p in TUNE]), n=4)
    assert m.copy_share(melody([p + 2 for p in TUNE]), grams, n=4) == 1.0
    assert m.copy_share(melody(TUNE[:3]), grams, n=4) == 0.0
    other = melody([60] * 10)
    assert m.copy_share(other, grams, n=4) == 0.0


def test_copy_share_counts_the_copied_part():
    training = m.melody_ngrams(melody(TUNE[:10]), n=4)  # 7 windows
    piece = melody([*TUNE[:10], 68, 71, 75, 81, 74, 83])  # 13 windows, the first 7 copied
    assert m.copy_share(piece, training, n=4) == pytest.approx(7 / 13)


def test_nearest_md_finds_the_copy():
    score = melody(TUNE)
    training = [melody([60] * 8), melody([p + 12 for p in TUNE]), melody([72, 60] * 6)]
    assert m.nearest_md(score, training) == pytest.approx(0.0)
    assert m.nearest_md(score, training, limit=1, seed=0) >= 0.0
    assert math.isnan(m.nearest_md(score, []))


# ---------------------------------------------------------------------------------- reporting


def test_summarise_and_format_table():
    mean, spread = m.summarise([1.0, 2.0, 3.0, math.nan])
    assert (mean, spread) == pytest.approx((2.0, 1.0))
    assert m.summarise([5.0]) == (5.0, 0.0)
    table = m.format_table(
        [
            {"system": "rule", "D_A": (96.12, 1.24), "MD": 4.0},
            {"system": "ngram", "MD": math.nan, "copy": "n/a"},
        ]
    )
    assert table.splitlines() == [
        "| system | D_A | MD | copy |",
        "|---|---|---|---|",
        "| rule | 96.1 ± 1.2 | 4.0 |  |",
        "| ngram |  | — | n/a |",
    ]
