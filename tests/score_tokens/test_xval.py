"""xVal: continuous onsets/durations/tempos round trip within 1e-3 beats; robust decoding."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from score_tokens.errors import ScoreTokenError
from score_tokens.score import Note, Score, TempoChange
from score_tokens.xval import NUM, XvalTokenizer, denormalize, normalize
from tests.score_tokens.conftest import make_small_score
from tests.score_tokens.strategies import scores

XVAL = XvalTokenizer()
FAST = settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def assert_close(a: Score, b: Score) -> None:
    """Same scores, with times within 1e-3 beats and tempos within 0.005 bpm."""
    a, b = a.copy().sort(), b.copy().sort()
    beats = 1.0 / a.ticks_per_beat
    for name in a.tracks:
        left, right = a.tracks[name].notes, b.tracks[name].notes
        assert len(left) == len(right), name
        for x, y in zip(left, right, strict=True):
            assert (
                abs(x.tick - y.tick) * beats <= 1e-3
                and abs(x.duration - y.duration) * beats <= 1e-3
            )
            assert (x.pitch, x.velocity, x.lyric, x.phonemes) == (
                y.pitch,
                y.velocity,
                y.lyric,
                y.phonemes,
            )
        assert a.tracks[name].program == b.tracks[name].program
    assert [(c.tick, c.duration, c.root, c.quality) for c in a.chords] == [
        (c.tick, c.duration, c.root, c.quality) for c in b.chords
    ]
    assert [(t.tick, round(t.bpm, 2)) for t in a.tempos] == [
        (t.tick, round(t.bpm, 2)) for t in b.tempos
    ]
    assert a.key == b.key and a.bar_starts() == b.bar_starts()


def test_small_score_round_trips() -> None:
    score = make_small_score()
    sequence = XVAL.encode(score)
    assert len(sequence.values) == len(sequence.tokens)
    numbers = [i for i, t in enumerate(sequence.tokens) if t == NUM]
    assert not np.isnan(sequence.values[numbers]).any()
    assert np.isnan(np.delete(sequence.values, numbers)).all()
    assert sequence.tokens[sequence.tokens.index("Tempo") + 1] == NUM
    assert 97.3 in sequence.values.tolist()
    assert_close(XVAL.decode(sequence.tokens, sequence.values), score)


def test_off_grid_times_round_trip_within_a_millibeat() -> None:
    score = Score(tempos=[TempoChange(0, 133.33)])
    score.tracks["piano"].notes.append(Note(7, 333, 60, 99))
    decoded = XVAL.decode(*vars(XVAL.encode(score)).values())
    note = decoded.tracks["piano"].notes[0]
    assert (note.tick, note.duration, note.velocity) == (7, 333, 99)
    assert decoded.tempos[0].bpm == pytest.approx(133.33)


@FAST
@given(scores())
def test_random_scores_round_trip(score: Score) -> None:
    sequence = XVAL.encode(score)
    assert_close(XVAL.decode(sequence.tokens, sequence.values), score)


@pytest.mark.parametrize(
    ("kind", "value"),
    [("Onset", v) for v in (0.0, 0.25, 3.5, 15.9)]
    + [("Duration", v) for v in (1 / 480, 0.25, 1.0, 64.0)]
    + [("Tempo", v) for v in (8.0, 60.0, 97.3, 1000.0)],
)
def test_normalisation_is_invertible_and_bounded(kind: str, value: float) -> None:
    normalized = normalize(kind, value)
    assert -1.0 <= normalized <= 1.0
    assert denormalize(kind, normalized) == pytest.approx(value)


@pytest.mark.parametrize(
    ("tokens", "values", "position", "reason"),
    [
        (["Bar", "Onset"], [math.nan, math.nan], 2, "must be followed by [NUM]"),
        (["Bar", "Onset", NUM], [math.nan, math.nan, math.nan], 2, "no finite value"),
        (["Bar", NUM], [math.nan, 1.0], 1, "without Onset"),
        (["Bar", "Onset", NUM], [math.nan, math.nan, 99.0], 2, "outside 0..64"),
        (
            ["Bar", "Onset", NUM, "Tempo", NUM],
            [math.nan, math.nan, 0.0, math.nan, 5000.0],
            4,
            "outside 1..1000",
        ),
        (["Bar", "Onset", NUM], [math.nan, math.nan, 5.0], 1, "outside the bar"),
        (["Bar", "Position_0"], [math.nan, math.nan], 1, "REMI token"),
        (["Bar", "Onset", NUM], [math.nan, math.nan, 1e308], 2, "outside 0..64"),
        (
            ["Bar", "Onset", NUM, "Track_bass", "Pitch_40", "Duration", NUM],
            [math.nan] * 2 + [0.0] + [math.nan] * 3 + [-1e308],
            6,
            "outside 0..64",
        ),
        (["Bar"], [1.0, 2.0], 1, "2 entries for 1 tokens"),
        (
            ["Bar", "Onset", NUM, "Track_bass", "Pitch_40"],
            [math.nan] * 2 + [0.0] + [math.nan] * 2,
            5,
            "waits for Duration",
        ),
    ],
)
def test_malformed_sequences_raise_token_errors(
    tokens: list[str], values: list[float], position: int, reason: str
) -> None:
    with pytest.raises(ScoreTokenError) as info:
        XVAL.decode(tokens, values)
    assert info.value.position == position and reason in info.value.reason


@FAST
@given(scores(max_bars=2, max_notes=5), st.data())
def test_mutated_sequences_decode_or_raise_token_error(score: Score, data: st.DataObject) -> None:
    sequence = XVAL.encode(score)
    tokens, values = list(sequence.tokens), sequence.values.tolist()
    pool = [
        "Bar",
        "Onset",
        "Duration",
        "Tempo",
        NUM,
        "Track_vocal",
        "Pitch_60",
        "Velocity_91",
        "EOS",
    ]
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(tokens) - 1))
        if data.draw(st.booleans()):
            tokens[index] = data.draw(st.sampled_from(pool))
        else:
            values[index] = data.draw(st.floats(allow_nan=True, allow_infinity=True))
    try:
        XVAL.decode(tokens, values)
    except ScoreTokenError as error:
        assert 0 <= error.position <= len(tokens)
