"""Score frames: every block says what the score says, at the right frames."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from score_tokens.frames import (
    DRUM_CLASSES,
    FRAME_LAYOUT,
    LOWEST_KEY,
    NUM_FRAME_FEATURES,
    PHONEMES,
    num_score_frames,
    score_frames,
)
from score_tokens.score import (
    CHORD_QUALITIES,
    SECTION_LABELS,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
)

RATE = 25.0


def _score() -> Score:
    """Two 4/4 bars at 120 bpm (a beat is 0.5 s = 12.5 frames): vocal "hel-lo" on C5 and D5,
    a bass C2 for the whole first bar, a kick on beat 1 and a snare on beat 2, C:maj then A:min."""
    score = Score(tempos=[TempoChange(0, 120.0)], time_signatures=[TimeSignature(0, 4, 4)])
    score.tracks["vocal"].notes = [
        Note(0, 480, 72, lyric="hel", phonemes=("HH", "EH1", "L")),
        Note(480, 960, 74, lyric="lo", phonemes=("L", "OW1")),
    ]
    score.tracks["bass"].notes = [Note(0, 1920, 36)]
    score.tracks["drums"].notes = [Note(0, 120, 36), Note(480, 120, 38)]
    score.chords = [Chord(0, 1920, 0, "maj"), Chord(1920, 1920, 9, "min")]
    score.sections = [Section(0, "verse"), Section(1920, "chorus")]
    score.end_tick = 3840
    return score


def _row(block: str, index: int = 0) -> int:
    return FRAME_LAYOUT[block].start + index


def test_layout_is_contiguous_and_the_shape_follows_the_score() -> None:
    slices = sorted(FRAME_LAYOUT.values(), key=lambda s: s.start)
    assert slices[0].start == 0
    assert all(a.stop == b.start for a, b in itertools.pairwise(slices))
    frames = score_frames(_score(), RATE)
    assert frames.dtype == np.float32
    assert frames.shape == (NUM_FRAME_FEATURES, num_score_frames(_score(), RATE)) == (791, 100)
    assert score_frames(_score(), RATE, num_frames=130).shape[1] == 130


def test_notes_hold_and_start_on_their_frames() -> None:
    frames = score_frames(_score(), RATE)
    c5 = _row("vocal_held", 72 - LOWEST_KEY)
    assert frames[c5, :12].all() and not frames[c5, 12:].any()  # 0..0.5 s: centres 0.02..0.46
    assert frames[_row("vocal_onset", 74 - LOWEST_KEY), 12] == 1.0  # 0.5 s is in frame 12
    assert frames[_row("bass_held", 36 - LOWEST_KEY), :50].all()
    assert frames[FRAME_LAYOUT["piano_held"]].sum() == 0  # no piano notes
    drums = frames[FRAME_LAYOUT["drums"]]
    assert drums[DRUM_CLASSES.index("kick"), 0] == 1.0
    assert drums[DRUM_CLASSES.index("snare"), 12] == 1.0
    assert drums.sum() == 2


def test_chords_meter_and_sections() -> None:
    frames = score_frames(_score(), RATE)
    assert frames[_row("chord_root", 0), 10] == 1.0 and frames[_row("chord_root", 9), 60] == 1.0
    assert frames[_row("chord_quality", CHORD_QUALITIES.index("min")), 60] == 1.0
    assert np.flatnonzero(frames[_row("chord_change")]).tolist() == [0, 50]
    beats = np.flatnonzero(frames[_row("meter", 4)])
    assert beats.tolist() == [0, 12, 25, 37, 50, 62, 75, 87]
    assert np.flatnonzero(frames[_row("meter", 5)]).tolist() == [0, 50]
    assert frames[_row("section", SECTION_LABELS.index("chorus")), 75] == 1.0
    assert frames[_row("section", SECTION_LABELS.index("verse")), 10] == 1.0


def test_phonemes_follow_the_syllable_consonants_then_the_vowel() -> None:
    frames = score_frames(_score(), RATE)
    phonemes = frames[FRAME_LAYOUT["phoneme"]]
    assert (phonemes.sum(axis=0) == 1).all()  # exactly one class per frame
    labels = [PHONEMES[i] for i in phonemes.argmax(axis=0)]
    assert labels[0] == "HH" and labels[5] == "EH" and labels[11] == "L"
    assert labels[12] == "L" and labels[20] == "OW" and labels[36] == "OW"  # "lo": 0.5..1.5 s
    assert labels[40] == "NONE" and labels[80] == "NONE"  # nothing sung after 1.5 s
    syllable = frames[FRAME_LAYOUT["syllable"]]
    assert np.flatnonzero(syllable[1]).tolist() == [0, 12]
    assert 0 < syllable[0, 0] < syllable[0, 11] < 1


def test_tracks_leave_the_others_at_zero_but_keep_the_song() -> None:
    only_vocal = score_frames(_score(), RATE, tracks=["vocal"])
    assert only_vocal[FRAME_LAYOUT["bass_held"]].sum() == 0
    assert only_vocal[FRAME_LAYOUT["drums"]].sum() == 0
    assert only_vocal[FRAME_LAYOUT["vocal_held"]].sum() > 0
    no_vocal = score_frames(_score(), RATE, tracks=["bass", "drums"])
    assert no_vocal[FRAME_LAYOUT["vocal_held"]].sum() == 0
    assert (no_vocal[_row("phoneme", PHONEMES.index("NONE"))] == 1).all()
    everything = score_frames(_score(), RATE)
    for block in ("chord_root", "meter", "section"):
        np.testing.assert_array_equal(
            no_vocal[FRAME_LAYOUT[block]], everything[FRAME_LAYOUT[block]]
        )
    with pytest.raises(ValueError, match="unknown track"):
        score_frames(_score(), RATE, tracks=["kazoo"])


def test_a_tempo_change_moves_the_frames() -> None:
    score = _score()
    score.tempos = [TempoChange(0, 120.0), TempoChange(1920, 60.0)]  # bar 2 twice as slow
    frames = score_frames(score, RATE)
    assert frames.shape[1] == 150  # 2 s + 4 s
    beats = np.flatnonzero(frames[_row("meter", 4)])
    assert beats.tolist() == [0, 12, 25, 37, 50, 75, 100, 125]
