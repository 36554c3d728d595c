from __future__ import annotations

import json

import numpy as np
import pytest

from mir.analyze import Analysis, analyze
from mir.audio import Audio
from mir.grid import MAX_BPM, MIN_BPM
from score_tokens.score import Score

SECTION_KEYS = {
    "duration",
    "tempo",
    "beats",
    "downbeats",
    "time_signature",
    "key",
    "chords",
    "sections",
    "notes",
    "lyrics",
}


@pytest.fixture(scope="module")
def abab_analysis(abab: Audio) -> Analysis:
    return analyze(abab, progress=False)


def test_json_has_the_documented_keys_and_types(abab_analysis: Analysis) -> None:
    data = json.loads(json.dumps(abab_analysis.to_json_dict()))
    assert set(data) == SECTION_KEYS
    assert isinstance(data["duration"], float) and data["duration"] == pytest.approx(32.0)
    assert isinstance(data["tempo"], float) and abs(data["tempo"] - 120.0) < 2.4
    assert all(isinstance(t, float) for t in data["beats"] + data["downbeats"])
    assert data["time_signature"] == "4/4"
    assert data["key"].split()[1] in ("major", "minor")
    for start, end, label in data["chords"] + data["sections"]:
        assert (
            isinstance(start, float)
            and isinstance(end, float)
            and end > start
            and isinstance(label, str)
        )
    assert set(data["notes"]) == {"vocal", "piano", "guitar", "bass", "drums"}
    assert all(notes == [] for notes in data["notes"].values()) and data["lyrics"] == []


def test_abab_analysis_finds_its_parts(abab_analysis: Analysis) -> None:
    labels = [label for _, _, label in abab_analysis.sections]
    assert len(labels) == 4 and labels[0] == labels[2] != labels[1] == labels[3]
    assert [label for _, _, label in abab_analysis.chords][:4] == [
        "C:maj",
        "G:maj",
        "A:min",
        "F:maj",
    ]


def test_to_score_validates_and_keeps_bars_chords_and_sections(abab_analysis: Analysis) -> None:
    score = abab_analysis.to_score()
    assert isinstance(score, Score)
    score.validate()
    assert (score.time_signatures[0].numerator, score.time_signatures[0].denominator) == (4, 4)
    assert [c.label for c in score.chords] == [label for _, _, label in abab_analysis.chords]
    assert [s.label for s in score.sections] == [label for _, _, label in abab_analysis.sections]
    assert abs(score.tick_to_seconds(score.sections[1].tick) - abab_analysis.sections[1][0]) < 0.05
    assert abs(score.tick_to_seconds(score.end_tick or 0) - abab_analysis.duration) < 0.05
    assert Score.from_dict(json.loads(json.dumps(score.to_dict()))).chords == score.chords


def test_downbeats_fall_on_bar_starts(abab_analysis: Analysis) -> None:
    score = abab_analysis.to_score()
    grid = abab_analysis.tick_grid()
    bar_starts = set(score.bar_starts())
    assert (
        sum(grid.to_tick(t) in bar_starts for t in abab_analysis.downbeats)
        >= len(abab_analysis.downbeats) - 1
    )


def test_a_recording_that_starts_mid_bar_keeps_time_in_its_score(abab: Audio) -> None:
    """A B A B cut 1.37 s in: the first tracked beat is a pickup (beat 4 at 0.13 s), and every
    tracked beat still plays at its time in the score, the lead-in lasting as in the audio."""
    start = int(1.37 * abab.sample_rate)
    analysis = analyze(Audio(abab.samples[start:], abab.sample_rate), progress=False)
    score, grid = analysis.to_score(), analysis.tick_grid()
    assert analysis.beat_positions[0] != 1 and grid.lead_ticks > 0
    errors = [score.tick_to_seconds(grid.to_tick(t)) - t for t in analysis.beats]
    assert max(abs(e) for e in errors) < 0.005
    assert all(MIN_BPM <= t.bpm <= MAX_BPM for t in score.tempos)
    bar_starts = set(score.bar_starts())
    assert all(grid.to_tick(t) in bar_starts for t in analysis.downbeats if t >= grid.times[1])


def test_notes_and_lyrics_become_score_notes() -> None:
    analysis = Analysis(
        duration=4.0,
        tempo=120.0,
        beats=[0.0, 0.5, 1.0, 1.5, 2.0, 2.5, 3.0, 3.5],
        downbeats=[0.0, 2.0],
        beat_positions=[1, 2, 3, 4, 1, 2, 3, 4],
        notes={
            "vocal": [(0.5, 1.0, 64)],
            "piano": [],
            "guitar": [],
            "bass": [(0.0, 2.0, 36)],
            "drums": [(0.0, 0.1, 36)],
        },
        lyrics=[(0.48, 1.0, "la")],
    )
    score = analysis.to_score()
    vocal = score.tracks["vocal"].notes
    assert (vocal[0].tick, vocal[0].duration, vocal[0].pitch, vocal[0].lyric) == (
        480,
        480,
        64,
        "la",
    )
    assert score.tracks["bass"].notes[0].duration == 4 * 480
    assert score.tracks["drums"].notes[0].pitch == 36


def test_silent_input_gives_an_empty_but_valid_analysis(silence: Audio) -> None:
    analysis = analyze(silence, progress=False)
    assert analysis.beats == [] and analysis.tempo is None and analysis.sections == []
    assert analysis.chords == [(0.0, 5.0, "N")]
    score = analysis.to_score().validate()
    assert score.tempos[0].bpm == 120.0 and np.isclose(
        score.tick_to_seconds(score.end_tick or 0), 5.0
    )
