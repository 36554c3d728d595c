"""The vocabulary: token <-> id bijection, JSON save/load equality, inventories."""

from __future__ import annotations

import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from score_tokens.errors import ScoreError, ScoreTokenError
from score_tokens.remi import RemiConfig, RemiTokenizer
from score_tokens.vocab import (
    ARPABET,
    PINYIN,
    Vocabulary,
    phoneme_inventory,
    special_tokens,
)


def test_special_tokens_come_first_with_pad_zero() -> None:
    vocab = RemiTokenizer(RemiConfig(num_mask_tokens=3)).vocab
    assert vocab.tokens[:7] == ["PAD", "BOS", "EOS", "SEP", "MASK_1", "MASK_2", "MASK_3"]
    assert special_tokens(0) == ["PAD", "BOS", "EOS", "SEP"]


def test_inventories_have_the_documented_sizes() -> None:
    assert len(ARPABET) == 24 + 15 * 3
    assert "AH0" in ARPABET and "AH" not in ARPABET and "NG" in ARPABET
    assert {"zh", "ang1", "v3", "e5"} <= set(PINYIN)
    inventory = phoneme_inventory()
    assert len(inventory) == len(set(inventory))
    assert {"ə", "ŋ", "tʃ"} <= set(inventory)


def test_vocabulary_has_every_chord_quality() -> None:
    vocab = RemiTokenizer().vocab
    for quality in (
        "maj",
        "min",
        "dim",
        "aug",
        "sus2",
        "sus4",
        "7",
        "maj7",
        "min7",
        "hdim7",
        "dim7",
    ):
        assert f"Chord_0_{quality}" in vocab
    assert "Chord_N" in vocab


def test_save_load_equal(tmp_path: Path) -> None:
    vocab = RemiTokenizer().vocab
    path = vocab.save(tmp_path / "vocab.json")
    loaded = Vocabulary.load(path)
    assert loaded == vocab and len(loaded) == len(vocab)
    assert loaded != Vocabulary(vocab.tokens[:-1])
    assert RemiTokenizer(RemiConfig(velocity_bins=16)).vocab != vocab


def test_encode_decode_ids_and_errors() -> None:
    vocab = Vocabulary(["PAD", "Bar", "Pitch_60"])
    ids = vocab.encode(["Bar", "Pitch_60", "PAD"])
    assert ids.dtype == np.int64 and ids.tolist() == [1, 2, 0]
    assert vocab.decode(ids) == ["Bar", "Pitch_60", "PAD"]
    with pytest.raises(ScoreTokenError, match="token 1: unknown token 'Nope'"):
        vocab.encode(["Bar", "Nope"])
    with pytest.raises(ScoreTokenError, match=re.escape("token 2: token id 3 is not in 0..2")):
        vocab.decode([0, 1, 3])
    with pytest.raises(ScoreError, match="duplicate tokens"):
        Vocabulary(["A", "B", "A"])


def test_load_rejects_malformed_json(tmp_path: Path) -> None:
    path = tmp_path / "bad.json"
    path.write_text('{"tokens": ["A"]}')
    with pytest.raises(ScoreError, match="not a seedmusic vocabulary"):
        Vocabulary.load(path)
    path.write_text("{nope")
    with pytest.raises(ScoreError, match="malformed vocabulary JSON"):
        Vocabulary.load(path)


def test_config_json_round_trip() -> None:
    config = RemiConfig(positions_per_beat=8, velocity_bins=16, tempo_decimals=1)
    assert RemiConfig.from_json(config.to_json()) == config
    assert RemiConfig.from_json(config.to_json()) != RemiConfig()
    with pytest.raises(ScoreError, match="multiple of positions_per_beat"):
        RemiConfig(positions_per_beat=7)
    with pytest.raises(ScoreError, match="malformed REMI config"):
        RemiConfig.from_json('{"positions_per_beat": 12}')


def test_score_tokens_never_imports_torch() -> None:
    code = (
        "import sys, score_tokens, score_tokens.vocab, score_tokens.remi, score_tokens.io\n"
        "for name in ('score_tokens.xval', 'score_tokens.edit'):\n"
        "    try:\n        __import__(name)\n    except ModuleNotFoundError:\n        pass\n"
        "assert 'torch' not in sys.modules, 'torch was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
