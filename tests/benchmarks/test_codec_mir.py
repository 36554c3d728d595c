"""The MIR helpers of the codec benchmark (`benchmarks.adherence`): truth trimming, chord
reduction, chords by bar, keys."""

from __future__ import annotations

import argparse

import pytest

from benchmarks.adherence import (
    MirScores,
    bar_chord,
    bar_spans,
    chords_by_bar,
    reduce_chord,
    same_key,
    trim_truth,
)
from benchmarks.codec import mir_metrics, parse_ks
from mir.analyze import Analysis
from mir.evaluate import GroundTruth


def _truth() -> GroundTruth:
    """Four 2-second bars of 4/4 at 120 bpm: C, Am7, F/G (split), G7."""
    return GroundTruth(
        duration=8.0,
        tempo=120.0,
        beats=[i * 0.5 for i in range(16)],
        downbeats=[0.0, 2.0, 4.0, 6.0],
        key="C major",
        chords=[
            (0.0, 2.0, "C:maj"),
            (2.0, 4.0, "A:min7"),
            (4.0, 5.5, "F:maj"),
            (5.5, 6.0, "G:maj"),
            (6.0, 8.0, "G:7"),
        ],
        sections=[(0.0, 4.0, "verse"), (4.0, 8.0, "chorus")],
        notes={
            "bass": [(0.0, 1.0, 36), (2.0, 3.0, 45), (4.5, 6.0, 41), (6.5, 8.0, 43)],
            "piano": [(5.0, 7.0, 60)],
        },
        lyrics=[(0.0, 1.0, "la"), (4.8, 5.5, "lo")],
    )


def test_trim_truth_keeps_what_starts_before_the_end_and_cuts_segments() -> None:
    trimmed = trim_truth(_truth(), 5.0)
    assert trimmed.duration == 5.0
    assert trimmed.beats == [i * 0.5 for i in range(10)]
    assert trimmed.downbeats == [0.0, 2.0, 4.0]
    assert trimmed.chords == [(0.0, 2.0, "C:maj"), (2.0, 4.0, "A:min7"), (4.0, 5.0, "F:maj")]
    assert trimmed.sections == [(0.0, 4.0, "verse"), (4.0, 5.0, "chorus")]
    assert trimmed.notes["bass"] == [(0.0, 1.0, 36), (2.0, 3.0, 45), (4.5, 5.0, 41)]
    assert trimmed.notes["piano"] == []
    assert trimmed.lyrics == [(0.0, 1.0, "la"), (4.8, 5.0, "lo")]
    assert trimmed.key == "C major" and trimmed.tempo == 120.0


def test_trim_truth_past_the_end_changes_nothing() -> None:
    assert trim_truth(_truth(), 30.0) == _truth()


@pytest.mark.parametrize(
    ("label", "reduced"),
    [
        ("C:maj7", "C:maj"),
        ("A:min7", "A:min"),
        ("N", "N"),
        ("X", "N"),
        ("Db:maj", "C#:maj"),
        ("C#:min/5", "C#:min"),
        ("G:7", "G:maj"),
        ("B:dim", "B:min"),
        ("B:hdim7", "B:min"),
        ("F:aug", "F:maj"),
        ("G:sus4", "G:maj"),
        ("E:5", "E:maj"),
        ("Bb:min", "Bb:min"),
        ("A#:min", "Bb:min"),
    ],
)
def test_reduce_chord(label: str, reduced: str) -> None:
    assert reduce_chord(label) == reduced


def test_bar_spans_end_at_the_truth_end() -> None:
    assert bar_spans(_truth()) == [(0.0, 2.0), (2.0, 4.0), (4.0, 6.0), (6.0, 8.0)]
    assert bar_spans(trim_truth(_truth(), 5.0)) == [(0.0, 2.0), (2.0, 4.0), (4.0, 5.0)]


def test_bar_chord_takes_the_chord_covering_most_and_counts_gaps_as_no_chord() -> None:
    segments = [(4.0, 5.5, "F:maj7"), (5.5, 6.0, "G:maj")]
    assert bar_chord(segments, 4.0, 6.0) == "F:maj"
    assert bar_chord([(0.0, 0.5, "C:maj")], 0.0, 2.0) == "N"
    assert bar_chord([], 0.0, 2.0) == "N"
    # two segments of one reduced chord add up
    assert bar_chord([(0, 0.6, "D:min"), (0.6, 1.2, "C:maj"), (1.2, 2, "C:7")], 0, 2) == "C:maj"


def test_chords_by_bar() -> None:
    truth = _truth()
    assert chords_by_bar(truth, truth.chords) == 1.0
    estimate = [(0.0, 2.1, "C:maj7"), (2.1, 4.0, "A:min"), (4.0, 6.0, "D:min"), (6.0, 8.0, "G:maj")]
    assert chords_by_bar(truth, estimate) == 0.75  # the third bar is wrong
    assert chords_by_bar(truth, []) == 0.0
    no_bars = GroundTruth(8.0, 120.0, [], [], "C major", truth.chords, [])
    assert chords_by_bar(no_bars, truth.chords) is None


def test_same_key_normalises_spelling() -> None:
    assert same_key("C# major", "Db major")
    assert same_key("A minor", "A minor")
    assert not same_key("A minor", "C major")
    assert not same_key("A minor", "A major")


def test_mir_metrics_scores_missing_transcriptions_as_zero() -> None:
    truth = _truth()
    analysis = Analysis(
        duration=8.0,
        key="Db major",
        chords=truth.chords,
        notes={"bass": [(0.0, 1.0, 36), (2.0, 3.0, 45), (4.5, 6.0, 41), (6.5, 8.0, 43)]},
    )
    metrics = mir_metrics(analysis, truth, original=analysis)
    assert metrics["chords_by_bar"] == 1.0
    assert metrics["key"] == 0.0
    assert metrics["bass"] == pytest.approx(1.0)
    assert metrics["piano"] == 0.0  # reference notes, none transcribed
    assert metrics["vocal"] is None and metrics["drums"] is None  # no reference notes
    assert metrics["bars_agree"] == 1.0 and metrics["key_agree"] == 1.0


def test_mir_scores_ignore_none_and_count_keys() -> None:
    scores = MirScores()
    scores.add({"key": 1.0, "bass": 0.5, "vocal": None})
    scores.add({"key": 0.0, "bass": 1.0, "vocal": None})
    assert scores.mean("bass") == 0.75
    assert scores.mean("vocal") is None
    assert scores.count("key") == (1, 2)


def test_parse_ks() -> None:
    assert parse_ks("all") is None
    assert parse_ks("4,8,12") == {4, 8, 12}
    with pytest.raises(argparse.ArgumentTypeError):
        parse_ks("0,2")
