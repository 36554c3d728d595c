"""REMI's array paths behave exactly as the token-by-token code they replace.

Encoding is held to the original encoder (`remi_reference`), decoding to the state machine
`_RemiDecoder`: same tokens, same scores, and the same errors at the same positions, on random
scores (off the grid, illegal, past `end_tick`), on Bach chorales and on broken sequences.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from score_tokens.errors import ScoreError, ScoreTokenError
from score_tokens.io import read_score
from score_tokens.remi import RemiConfig, RemiTokenizer, _decode_fast, _RemiDecoder
from score_tokens.score import (
    CHORD_QUALITIES,
    NOTE_TRACKS,
    SECTION_LABELS,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
)
from score_tokens.vocab import phoneme_inventory
from tests.score_tokens.conftest import make_small_score
from tests.score_tokens.remi_reference import reference_encode

TOKENIZERS = (
    RemiTokenizer(),
    RemiTokenizer(
        RemiConfig(
            positions_per_beat=4,
            velocity_bins=8,
            max_duration_steps=16,
            max_numerator=8,
            pitch_ranges={**RemiConfig().pitch_ranges, "bass": (28, 60), "drums": (35, 81)},
        )
    ),
)
FAST = settings(max_examples=150, deadline=None, suppress_health_check=[HealthCheck.too_slow])
SIGNATURES = ((4, 4), (3, 4), (6, 8), (5, 16), (3, 2), (7, 8), (12, 8)) * 3 + (
    (17, 8),
)  # 17/8: no token
PHONEMES = (*phoneme_inventory()[:40], "NOT_A_PHONEME")


def outcome(call: Callable[[], object]) -> object:
    """What `call` returns (arrays as lists), or the type and message of its `ScoreError`."""
    try:
        result = call()
    except ScoreError as error:
        return type(error).__name__, str(error)
    return result.tolist() if isinstance(result, np.ndarray) else result


@st.composite
def raw_scores(draw: st.DrawFn) -> Score:
    """Scores at any resolution, off the grid and not validated: what `encode` may be given."""
    tpb = draw(st.sampled_from([7, 96, 480, 384, 10080]))
    span = tpb * 4 * draw(st.integers(1, 6))
    ticks = st.integers(0, span)
    signatures = [TimeSignature(0, *draw(st.sampled_from(SIGNATURES)))]
    for tick in sorted(draw(st.sets(st.integers(1, span), max_size=2))):
        signatures.append(TimeSignature(tick, *draw(st.sampled_from(SIGNATURES))))
    score = Score(
        ticks_per_beat=tpb,
        tempos=[
            TempoChange(t, draw(st.floats(5, 1500))) for t in [0, *draw(st.sets(ticks, max_size=2))]
        ],
        time_signatures=signatures,
        key=draw(st.sampled_from(["C major", "A minor", "Eb major"] * 5 + ["H dorian"])),
        end_tick=draw(st.none() | st.integers(1, span)),
    )
    labels = st.sampled_from([*SECTION_LABELS, *[SECTION_LABELS[0]] * 20, "coda"])
    score.sections = [Section(t, draw(labels)) for t in sorted(draw(st.sets(ticks, max_size=2)))]
    for _ in range(draw(st.integers(0, 3))):
        root = draw(st.none() | st.integers(0, 11))
        quality = draw(st.sampled_from(CHORD_QUALITIES))
        score.chords.append(Chord(draw(ticks), draw(st.integers(1, span)), root, quality))
    for _ in range(draw(st.integers(0, 30))):
        name = draw(st.sampled_from(NOTE_TRACKS))
        note = Note(draw(ticks), draw(st.integers(1, span)), draw(st.integers(0, 127)))
        note.velocity = draw(st.integers(1, 127))
        if name == "vocal" and draw(st.booleans()):
            note.lyric = draw(st.none() | st.text(max_size=3))
            note.phonemes = tuple(draw(st.lists(st.sampled_from(PHONEMES), max_size=2)))
        score.tracks[name].notes.append(note)
    for name in NOTE_TRACKS:
        score.tracks[name].program = draw(st.sampled_from([0, 27, 33, 53, 127] * 6 + [200]))
    return score


@FAST
@given(raw_scores(), st.sampled_from(TOKENIZERS))
def test_encoding_matches_the_reference_encoder(score: Score, tokenizer: RemiTokenizer) -> None:
    expected = outcome(lambda: reference_encode(tokenizer, score))
    assert outcome(lambda: tokenizer.encode(score)) == expected
    expected_ids = outcome(lambda: tokenizer.vocab.encode(reference_encode(tokenizer, score)))
    assert outcome(lambda: tokenizer.encode_ids(score)) == expected_ids


def assert_decodes_as_the_state_machine(tokenizer: RemiTokenizer, tokens: list[str]) -> None:
    expected = outcome(lambda: _RemiDecoder(tokenizer, tokens).score())
    assert outcome(lambda: tokenizer.decode(tokens)) == expected
    ids = np.array([tokenizer.vocab.token_to_id[token] for token in tokens], dtype=np.int64)
    assert outcome(lambda: tokenizer.decode_ids(ids)) == expected


@FAST
@given(raw_scores(), st.sampled_from(TOKENIZERS), st.data())
def test_decoding_matches_the_state_machine(
    score: Score, tokenizer: RemiTokenizer, data: st.DataObject
) -> None:
    try:
        tokens = tokenizer.vocab.decode(tokenizer.encode_ids(score))
    except ScoreError:
        return
    if _decode_fast(tokenizer, tokenizer.vocab.encode(tokens)) is None:
        with pytest.raises(ScoreTokenError):  # what the encoder writes takes the array path
            _RemiDecoder(tokenizer, tokens).score()  # unless it is illegal (off-grid bars)
    assert_decodes_as_the_state_machine(tokenizer, tokens)
    vocabulary = tokenizer.vocab.tokens
    for _ in range(data.draw(st.integers(1, 3))):
        index = data.draw(st.integers(0, len(tokens)))
        action = data.draw(st.sampled_from(["pad", "replace", "delete", "insert", "swap"]))
        if action == "pad":
            tokens.insert(index, "PAD")
        elif action == "replace" and index < len(tokens):
            tokens[index] = data.draw(st.sampled_from(vocabulary))
        elif action == "delete" and index < len(tokens):
            del tokens[index]
        elif action == "insert":
            tokens.insert(index, data.draw(st.sampled_from(vocabulary)))
        elif tokens:
            other = data.draw(st.integers(0, len(tokens) - 1))
            index = min(index, len(tokens) - 1)
            tokens[index], tokens[other] = tokens[other], tokens[index]
        assert_decodes_as_the_state_machine(tokenizer, tokens)


@pytest.mark.parametrize(
    "tokens",
    [
        ["Bar", "Position_0", "Tempo_90", "Track_piano", "Pitch_60", "Duration_4", "Velocity_91"],
        ["BOS", "Key_A_minor", "Track_bass", "Program_3", "Bar", "EOS", "PAD"],
        ["PAD", "BOS", "Bar"],
        ["Bar", "Position_0", "Track_piano", "Pitch_60", "Duration_4", "Velocity_91", "Tempo_90"],
        ["Bar", "Position_0", "Track_vocal", "Syllable", "Byte_ff", "Pitch_60", "Duration_4"],
        ["Bar", "Key_C_major", "Bar", "TimeSig_3/4", "Position_3", "Position_3", "Bar"],
        ["Track_vocal", "Track_bass", "Program_3", "Bar", "Bar", "TimeSig_3/4", "EOS", "EOS"],
    ],
)
def test_unusual_sequences_decode_as_the_state_machine(tokens: list[str]) -> None:
    assert_decodes_as_the_state_machine(TOKENIZERS[0], tokens)


@pytest.mark.parametrize(
    "ids",
    [[], np.zeros((2, 2), dtype=np.int64), np.array([0.5]), [1, len(TOKENIZERS[0].vocab)], [-1]],
)
def test_bad_id_arrays_raise_as_before(ids: object) -> None:
    tokenizer = TOKENIZERS[0]
    expected = outcome(lambda: _RemiDecoder(tokenizer, tokenizer.vocab.decode(ids)).score())  # type: ignore[arg-type]
    assert outcome(lambda: tokenizer.decode_ids(ids)) == expected  # type: ignore[arg-type]


def test_small_score_and_chorales_take_the_array_path(
    chorale_files: list[tuple[Path, Path]],
) -> None:
    tokenizer = RemiTokenizer(RemiConfig(positions_per_beat=24, max_duration_steps=384))
    for score in [make_small_score(), *(read_score(midi) for midi, _ in chorale_files)]:
        tokens = tokenizer.encode(score)
        assert tokens == reference_encode(tokenizer, score)
        decoded = _decode_fast(tokenizer, tokenizer.encode_ids(score))
        assert decoded is not None
        assert decoded == _RemiDecoder(tokenizer, tokens).score()
