"""The Score data model: time grid arithmetic, validation messages, JSON dict round trip."""

from __future__ import annotations

import pytest

from score_tokens import Chord, Note, Score, ScoreError, Section, TempoChange, TimeSignature


def _small_score() -> Score:
    score = Score(
        tempos=[TempoChange(0, 120.0), TempoChange(1920, 60.0)],
        time_signatures=[TimeSignature(0, 4, 4), TimeSignature(1920, 3, 4)],
        key="A minor",
        sections=[Section(0, "verse"), Section(1920, "chorus")],
        chords=[Chord(0, 1920, 9, "min"), Chord(1920, 1440, None)],
    )
    score.tracks["vocal"].notes.append(Note(0, 480, 69, 90, "la", ("L", "AA1")))
    score.tracks["drums"].notes.append(Note(1920, 120, 36, 100))
    return score


def test_bar_starts_follow_meter_changes():
    score = _small_score()
    assert score.bar_starts() == [0, 1920]
    score.end_tick = 1920 + 3 * 1440
    assert score.bar_starts() == [0, 1920, 3360, 4800]


def test_tick_to_seconds_follows_tempo_changes():
    score = _small_score()
    assert score.tick_to_seconds(960) == pytest.approx(1.0)  # two beats at 120 bpm
    assert score.tick_to_seconds(1920) == pytest.approx(2.0)
    assert score.tick_to_seconds(2400) == pytest.approx(3.0)  # one beat at 60 bpm
    assert score.duration_seconds() == pytest.approx(2.0 + 3.0)


def test_dict_round_trip_is_exact():
    score = _small_score()
    assert Score.from_dict(score.to_dict()) == score


def test_chord_labels_use_mir_eval_syntax():
    assert Chord(0, 1, 10, "min7").label == "Bb:min7"
    assert Chord(0, 1, None).label == "N"


@pytest.mark.parametrize(
    ("mutate", "message"),
    [
        (lambda s: s.tracks["bass"].notes.append(Note(0, 0, 40)), "duration must be positive"),
        (lambda s: s.tracks["piano"].notes.append(Note(0, 10, 130)), "pitch 130"),
        (lambda s: s.tracks["piano"].notes.append(Note(0, 10, 60, lyric="la")), "only vocal notes"),
        (lambda s: s.tempos.__setitem__(0, TempoChange(0, 0.0)), "tempo 0.0"),
        (lambda s: s.time_signatures.append(TimeSignature(0, 4, 3)), "illegal time signature"),
        (lambda s: s.chords.append(Chord(0, 10, 3, "weird")), "illegal 3:weird"),
        (lambda s: s.tracks.__setitem__("kazoo", s.tracks["piano"]), "unknown track"),
    ],
)
def test_validate_names_the_problem(mutate, message):
    score = _small_score()
    mutate(score)
    with pytest.raises(ScoreError, match=message):
        score.validate()


def test_from_dict_rejects_malformed_json_with_score_error():
    with pytest.raises(ScoreError, match="malformed score JSON"):
        Score.from_dict({"tracks": {"vocal": {"notes": [{}]}}})
