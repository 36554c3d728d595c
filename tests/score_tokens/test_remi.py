"""REMI: exact round trips at the grid, and every token sequence decodes or raises ScoreTokenError."""

from __future__ import annotations

import re
from typing import Any

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from score_tokens.errors import ScoreError, ScoreTokenError
from score_tokens.remi import RemiConfig, RemiTokenizer
from score_tokens.score import Note, Score, TempoChange
from tests.score_tokens.conftest import make_small_score
from tests.score_tokens.strategies import scores

TOKENIZER = RemiTokenizer()
EXACT = RemiTokenizer(RemiConfig(velocity_bins=127, tempo_decimals=1))
FAST = settings(max_examples=100, deadline=None, suppress_health_check=[HealthCheck.too_slow])


def comparable(score: Score) -> dict[str, Any]:
    data = score.copy().sort().to_dict()
    data.pop("end_tick")
    data["bars"] = score.bar_starts()
    return data


def test_small_score_round_trips_exactly() -> None:
    score = make_small_score()
    tokens = EXACT.encode(score)
    assert tokens[0] == "BOS" and tokens[-1] == "EOS"
    assert tokens.count("Bar") == len(score.bar_starts())
    assert comparable(EXACT.decode(tokens)) == comparable(score)
    ids = EXACT.encode_ids(score)
    assert ids.dtype == np.int64 and ids.shape == (len(tokens),)
    assert comparable(EXACT.decode_ids(ids)) == comparable(score)


def test_layout_is_bar_interleaved() -> None:
    tokens = EXACT.encode(make_small_score())
    assert tokens[:6] == ["BOS", "Key_A_minor", "Track_guitar", "Program_27", "Bar", "TimeSig_4/4"]
    first_note = tokens.index("Pitch_69")
    assert tokens[first_note - 10 : first_note] == [
        "Track_vocal", "Phoneme_T", "Phoneme_W", "Phoneme_IH1", "Phoneme_N",
        "Syllable", "Byte_54", "Byte_77", "Byte_69", "Byte_6e",
    ]  # fmt: skip
    assert tokens[first_note : first_note + 3] == ["Pitch_69", "Duration_12", "Velocity_90"]
    assert "TimeSig_3/4" in tokens and "Drum_36" in tokens and "Chord_N" in tokens


def test_default_config_quantizes_velocity_and_tempo() -> None:
    score = make_small_score()
    decoded = TOKENIZER.decode(TOKENIZER.encode(score))
    assert decoded.tempos[0].bpm == 97.0
    assert decoded.tracks["vocal"].notes[0].velocity in TOKENIZER.config.velocity_values()


def test_off_grid_notes_snap_to_the_nearest_step() -> None:
    score = Score()
    score.tracks["piano"].notes.append(Note(41, 58, 60, 127))
    note = TOKENIZER.decode(TOKENIZER.encode(score)).tracks["piano"].notes[0]
    assert (note.tick, note.duration) == (40, 40)  # onset 41 -> step 1, end 99 -> step 2


def test_events_past_end_tick_get_extra_bars() -> None:
    score = Score(end_tick=1920)
    score.tracks["bass"].notes.append(Note(1920 * 2 + 480, 480, 40, 127))
    score.end_tick = 1920
    decoded = TOKENIZER.decode(TOKENIZER.encode(score))
    assert decoded.tracks["bass"].notes[0].tick == 1920 * 2 + 480


def test_unrepresentable_scores_raise_score_error() -> None:
    score = Score(key="H dorian")
    with pytest.raises(ScoreError, match="cannot tokenize key"):
        TOKENIZER.encode(score)
    score = Score()
    score.tracks["vocal"].notes.append(Note(0, 480, 60, 90, "la", ("LA_NOT_A_PHONEME",)))
    with pytest.raises(ScoreError, match="unknown phoneme"):
        TOKENIZER.encode(score)
    narrow = RemiTokenizer(RemiConfig(pitch_ranges={**RemiConfig().pitch_ranges, "bass": (28, 60)}))
    score = Score()
    score.tracks["bass"].notes.append(Note(0, 480, 70, 90))
    with pytest.raises(ScoreError, match=re.escape("outside 28..60")):
        narrow.encode(score)


@FAST
@given(scores())
def test_random_scores_round_trip_exactly(score: Score) -> None:
    tokens = TOKENIZER.encode(score)
    assert all(token in TOKENIZER.vocab for token in tokens)
    assert comparable(TOKENIZER.decode(tokens)) == comparable(score)


@pytest.mark.parametrize(
    ("tokens", "position", "reason"),
    [
        (["Bar", "Position_0", "Pitch_60"], 2, "note before any Track"),
        (["Bar", "Position_0", "Track_piano", "Pitch_60", "Velocity_91"], 4, "expected Duration"),
        (["Bar", "Position_0", "Track_piano", "Pitch_60", "Duration_3"], 5, "waits for Velocity"),
        (["Bar", "Position_48"], 1, "outside the bar"),
        (["Bar", "Position_3", "Position_1"], 2, "goes backwards"),
        (["Bar", "Pitch_60"], 1, "before any Position"),
        (["Bar", "Position_0", "Track_bass", "Drum_36"], 3, "Drum token on the bass track"),
        (["Bar", "Position_0", "Track_piano", "Phoneme_AH0"], 3, "outside the vocal track"),
        (["Bar", "Hello"], 1, "unknown token 'Hello'"),
        (["Bar", "EOS", "Bar"], 2, "after EOS"),
        (["Bar", "BOS"], 1, "only allowed at the start"),
        (["Bar", "MASK_1"], 1, "cannot appear in a score"),
        (["Bar", "Position_0", "TimeSig_3/4"], 2, "TimeSig must directly follow Bar"),
        ([], 0, "no Bar"),
        (["Bar", "Position_0", "Track_vocal", "Syllable", "Byte_ff", "Pitch_60"], 5, "UTF-8"),
        (["Bar", "Position_0", "Track_vocal", "Phoneme_AH0"], 4, "lyrics but no vocal note"),
    ],
)
def test_malformed_sequences_name_position_and_reason(
    tokens: list[str], position: int, reason: str
) -> None:
    with pytest.raises(ScoreTokenError) as info:
        TOKENIZER.decode(tokens)
    assert info.value.position == position and reason in info.value.reason
    assert str(info.value).startswith(f"token {position}: ")


def test_pad_is_ignored_and_bad_ids_are_token_errors() -> None:
    tokens = TOKENIZER.encode(make_small_score())
    padded = [*tokens, "PAD", "PAD"]
    assert comparable(TOKENIZER.decode(padded)) == comparable(TOKENIZER.decode(tokens))
    with pytest.raises(ScoreTokenError, match=re.escape("not in 0..")):
        TOKENIZER.decode_ids(np.array([1, len(TOKENIZER.vocab)]))
    with pytest.raises(ScoreTokenError, match="not a string"):
        TOKENIZER.decode(["Bar", 3])  # type: ignore[list-item]


def _decodes_or_token_error(tokens: list[str]) -> None:
    try:
        score = TOKENIZER.decode(tokens)
    except ScoreTokenError as error:
        assert 0 <= error.position <= len(tokens) and error.reason
    else:
        score.validate()


@FAST
@given(st.lists(st.sampled_from(RemiTokenizer().vocab.tokens), max_size=40))
def test_random_token_lists_decode_or_raise_token_error(tokens: list[str]) -> None:
    _decodes_or_token_error(tokens)


@FAST
@given(scores(max_bars=2, max_notes=5), st.data())
def test_mutated_sequences_decode_or_raise_token_error(score: Score, data: st.DataObject) -> None:
    tokens = TOKENIZER.encode(score)
    vocab_tokens = TOKENIZER.vocab.tokens
    for _ in range(data.draw(st.integers(1, 4))):
        index = data.draw(st.integers(0, len(tokens) - 1))
        action = data.draw(st.sampled_from(["replace", "delete", "insert", "swap"]))
        if action == "replace":
            tokens[index] = data.draw(st.sampled_from(vocab_tokens))
        elif action == "delete" and len(tokens) > 1:
            del tokens[index]
        elif action == "insert":
            tokens.insert(index, data.draw(st.sampled_from(vocab_tokens)))
        else:
            other = data.draw(st.integers(0, len(tokens) - 1))
            tokens[index], tokens[other] = tokens[other], tokens[index]
    _decodes_or_token_error(tokens)


def test_tempo_outside_range_is_clipped() -> None:
    score = Score(tempos=[TempoChange(0, 999.0)])
    assert TOKENIZER.decode(TOKENIZER.encode(score)).tempos[0].bpm == 300.0
