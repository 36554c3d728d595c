"""Edit operations: selections, replacements, transposition, chords, lyrics, notes, diff."""

from __future__ import annotations

import re

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from score_tokens.edit import (
    change_notes,
    diff,
    replace_bars,
    select_bars,
    set_chord,
    set_lyric,
    split_chords,
    transpose,
)
from score_tokens.errors import ScoreError
from score_tokens.score import Note, Score
from tests.score_tokens.conftest import make_small_score
from tests.score_tokens.strategies import scores


def test_select_bars_shifts_to_zero_and_carries_context() -> None:
    score = make_small_score()
    part = select_bars(score, 2, 4)
    assert part.tempos[0].tick == 0 and part.tempos[0].bpm == 60.0
    assert (part.time_signatures[0].numerator, part.time_signatures[0].denominator) == (3, 4)
    assert part.sections[0].label == "chorus"
    assert part.tracks["vocal"].notes[0].tick == 0 and part.tracks["vocal"].notes[0].lyric == "ó"
    assert len(part.bar_starts()) == 2
    assert score == make_small_score()  # the input is untouched


def test_replace_with_own_selection_is_identity_and_diff_is_empty() -> None:
    score = make_small_score()
    for start, stop in [(0, 1), (1, 3), (0, 4)]:
        rebuilt = replace_bars(score, start, stop, select_bars(score, start, stop))
        assert diff(score, rebuilt) == []


def test_replace_reports_the_changed_bars() -> None:
    score = make_small_score()
    part = select_bars(score, 0, 1)
    part.tracks["piano"].notes = []
    edited = replace_bars(score, 0, 1, part)
    assert diff(score, edited) == [(0, 1)]
    with pytest.raises(ScoreError, match="spans"):
        replace_bars(score, 2, 4, select_bars(score, 0, 2))


def test_transpose_moves_pitches_chords_and_key_but_not_drums() -> None:
    score = make_small_score()
    up = transpose(score, 3)
    assert [n.pitch for n in up.tracks["bass"].notes] == [48, 44, 43]
    assert up.tracks["drums"].notes == score.tracks["drums"].notes
    assert up.chords[0].root == 0 and up.key == "C minor"
    assert transpose(up, -3) == score
    only_bass = transpose(score, 12, tracks=["bass"])
    assert only_bass.chords == score.chords and only_bass.tracks["piano"] == score.tracks["piano"]
    with pytest.raises(ScoreError, match=re.escape("outside 0..127")):
        transpose(score, 100)


def test_set_chord_splits_the_covering_chord() -> None:
    score = make_small_score()
    edited = set_chord(score, 0, 2, "C:maj7")
    labels = [(c.tick, c.duration, c.label) for c in edited.chords[:3]]
    assert labels == [(0, 960, "A:min"), (960, 960, "C:maj7"), (1920, 960, "F:maj7")]
    assert diff(score, edited) == [(0, 1)]
    assert set_chord(score, 0, 0, "N").chords[0].root is None
    with pytest.raises(ScoreError, match="unknown root"):
        set_chord(score, 0, 0, "H:maj")


def test_a_chord_cut_at_a_bar_line_changes_only_the_bars_where_it_is_heard() -> None:
    score = make_small_score()  # "N" from bar 2 (3840) over bar 3 (5280-6720)
    edited = set_chord(score, 3, 0, "E:min")
    assert [(c.tick, c.duration) for c in edited.chords[-2:]] == [(3840, 1440), (5280, 1440)]
    assert diff(score, edited) == [(3, 4)]  # bar 2 hears the same "N" as before
    longer = score.copy()
    longer.chords[1].duration += 960  # F:maj7 now held over C7's place: heard in bar 1 only
    del longer.chords[2]
    assert diff(score, longer) == [(1, 2)]
    halves = split_chords(score, [5280, 4000])  # "N" cut at bar 3 and inside bar 2
    assert [(c.tick, c.duration) for c in halves.chords[-3:]] == [
        (3840, 160),
        (4000, 1280),
        (5280, 1440),
    ]
    assert diff(score, halves) == []  # the same chord, heard the same in every bar
    assert score.chords[-1].duration == 2880  # the input is untouched


def test_set_lyric_and_change_notes() -> None:
    score = make_small_score()
    edited = set_lyric(score, 2, "la", ("L", "AA1"))
    note = edited.tracks["vocal"].notes[2]
    assert (note.lyric, note.phonemes) == ("la", ("L", "AA1"))
    assert diff(score, edited) == [(0, 1)]
    with pytest.raises(ScoreError, match="no vocal note 9"):
        set_lyric(score, 9, "x")
    changed = change_notes(score, "guitar", 1920, 3840, [Note(1920, 480, 60, 90)])
    assert [n.pitch for n in changed.tracks["guitar"].notes] == [60]
    assert diff(score, changed) == [(1, 2)]


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(scores(max_bars=4, max_notes=8), st.data())
def test_diff_finds_exactly_the_edited_bar(score: Score, data: st.DataObject) -> None:
    bars = len(score.bar_starts())
    bar = data.draw(st.integers(0, bars - 1))
    start = score.bar_starts()[bar]
    edited = change_notes(score, "piano", start, start + 1, [Note(start, 40, 200 // 2, 1)])
    assert diff(score, edited) in ([], [(bar, bar + 1)])
    assert diff(score, score.copy()) == []
    assert diff(score, replace_bars(score, bar, bar + 1, select_bars(score, bar, bar + 1))) == []
