"""Token vocabularies: the token <-> id map, special tokens, chord qualities and phoneme sets.

The phoneme inventory is the union of three static lists written here (so that it never depends
on which espeak-ng build is installed): ARPAbet's 39 phonemes with stress 0/1/2 on the vowels,
espeak-ng's English IPA phonemes, and Mandarin pinyin initials and finals with tones 1-5.

This module never imports torch.
"""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Sequence
from pathlib import Path

import numpy as np

from score_tokens.errors import ScoreError, ScoreTokenError
from score_tokens.score import CHORD_QUALITIES

PAD, BOS, EOS, SEP = "PAD", "BOS", "EOS", "SEP"


def special_tokens(num_mask_tokens: int) -> list[str]:
    """PAD (id 0), BOS, EOS, SEP and MASK_1..MASK_n, in that order."""
    return [PAD, BOS, EOS, SEP, *(f"MASK_{i}" for i in range(1, num_mask_tokens + 1))]


CHORD_LABELS: tuple[str, ...] = (*CHORD_QUALITIES, "N")
"""Chord qualities of the vocabulary: mir_eval shorthand plus the no-chord N."""

ARPABET_VOWELS: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW",
)  # fmt: skip
ARPABET_CONSONANTS: tuple[str, ...] = (
    "B", "CH", "D", "DH", "F", "G", "HH", "JH", "K", "L", "M", "N", "NG", "P", "R", "S", "SH",
    "T", "TH", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
ARPABET: tuple[str, ...] = (
    *ARPABET_CONSONANTS,
    *(f"{vowel}{stress}" for vowel in ARPABET_VOWELS for stress in (0, 1, 2)),
)
"""ARPAbet (CMUdict): 24 consonants and 15 vowels, each vowel with stress 0, 1 or 2."""

ESPEAK_ENGLISH_IPA: tuple[str, ...] = (
    "a", "aɪ", "aʊ", "b", "d", "dʒ", "e", "eɪ", "f", "h", "i", "iː", "j", "k", "l", "m", "n",
    "o", "oʊ", "p", "r", "s", "t", "tʃ", "u", "uː", "v", "w", "z", "æ", "ð", "ŋ", "ɐ", "ɑ", "ɑː",
    "ɑːɹ", "ɔ", "ɔː", "ɔːɹ", "ɔɪ", "ə", "əl", "əʊ", "ɚ", "ɛ", "ɛɹ", "ɜː", "ɡ", "ɪ", "ɪɹ", "ɹ",
    "ɾ", "ʃ", "ʊ", "ʊɹ", "ʌ", "ʒ", "ʔ", "θ", "x", "ᵻ", "l̩", "n̩",
)  # fmt: skip
"""English phonemes as espeak-ng writes them in IPA (`espeak-ng -q --ipa`), stress marks removed."""

PINYIN_INITIALS: tuple[str, ...] = (
    "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "zh", "ch", "sh", "r",
    "z", "c", "s", "y", "w",
)  # fmt: skip
PINYIN_FINALS: tuple[str, ...] = (
    "a", "o", "e", "i", "u", "v", "ai", "ei", "ui", "ao", "ou", "iu", "ie", "ve", "er", "an",
    "en", "in", "un", "vn", "ang", "eng", "ing", "ong", "ia", "iao", "ian", "iang", "iong", "ua",
    "uo", "uai", "uan", "uang", "ue", "van", "io",
)  # fmt: skip
PINYIN: tuple[str, ...] = (
    *PINYIN_INITIALS,
    *(f"{final}{tone}" for final in PINYIN_FINALS for tone in range(1, 6)),
)
"""Mandarin pinyin: initials, and finals with tone 1-4 (5 = neutral tone); `v` stands for ü."""


def phoneme_inventory() -> tuple[str, ...]:
    """Every phoneme of ARPAbet, espeak-ng English IPA and pinyin, deduplicated, order kept."""
    return tuple(dict.fromkeys((*ARPABET, *ESPEAK_ENGLISH_IPA, *PINYIN)))


class Vocabulary:
    """A bijection between token strings and ids 0..n-1 (PAD, if present, should be id 0)."""

    def __init__(self, tokens: Iterable[str]) -> None:
        self.tokens: list[str] = list(tokens)
        self.token_to_id: dict[str, int] = {token: i for i, token in enumerate(self.tokens)}
        if len(self.token_to_id) != len(self.tokens):
            duplicates = sorted({t for t in self.tokens if self.tokens.count(t) > 1})
            raise ScoreError(f"duplicate tokens in vocabulary: {duplicates[:5]}")

    def __len__(self) -> int:
        return len(self.tokens)

    def __contains__(self, token: object) -> bool:
        return token in self.token_to_id

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Vocabulary) and self.tokens == other.tokens

    def __hash__(self) -> int:
        return hash(tuple(self.tokens))

    def __repr__(self) -> str:
        return f"Vocabulary({len(self)} tokens)"

    def id(self, token: str) -> int:
        """The id of `token` (a `ScoreTokenError` at position -1 if unknown)."""
        try:
            return self.token_to_id[token]
        except KeyError:
            raise ScoreTokenError(-1, f"unknown token {token!r}") from None

    def encode(self, tokens: Sequence[str]) -> np.ndarray:
        """Token strings -> ids.  # [N] int64; an unknown token raises `ScoreTokenError`."""
        lookup = self.token_to_id
        ids = np.empty(len(tokens), dtype=np.int64)
        for position, token in enumerate(tokens):
            index = lookup.get(token)
            if index is None:
                raise ScoreTokenError(position, f"unknown token {token!r}")
            ids[position] = index
        return ids

    def decode(self, ids: Sequence[int] | np.ndarray) -> list[str]:
        """Ids -> token strings; an id outside 0..n-1 raises `ScoreTokenError`."""
        array = np.asarray(ids)
        if array.ndim != 1 or (array.size and not np.issubdtype(array.dtype, np.integer)):
            raise ScoreTokenError(0, f"token ids must be a 1-D integer array, got {array.dtype}")
        bad = np.flatnonzero((array < 0) | (array >= len(self.tokens)))
        if bad.size:
            position = int(bad[0])
            raise ScoreTokenError(
                position, f"token id {int(array[position])} is not in 0..{len(self) - 1}"
            )
        tokens = self.tokens
        return [tokens[i] for i in array.tolist()]

    def to_json(self) -> str:
        return json.dumps(
            {"format": "seedmusic.vocab/1", "tokens": self.tokens}, ensure_ascii=False
        )

    @classmethod
    def from_json(cls, text: str) -> Vocabulary:
        try:
            data = json.loads(text)
            if data.get("format") != "seedmusic.vocab/1":
                raise ScoreError(f"not a seedmusic vocabulary (format {data.get('format')!r})")
            tokens = data["tokens"]
            if not all(isinstance(t, str) for t in tokens):
                raise ScoreError("vocabulary tokens must be strings")
        except (ValueError, KeyError, TypeError, AttributeError) as exc:
            if isinstance(exc, ScoreError):
                raise
            raise ScoreError(f"malformed vocabulary JSON: {exc}") from None
        return cls(tokens)

    def save(self, path: str | os.PathLike[str]) -> Path:
        """Write the vocabulary as JSON, atomically."""
        from score_tokens.io import atomic_write

        target = Path(path)
        text = self.to_json()
        atomic_write(target, lambda temp: _write_text(temp, text))
        return target

    @classmethod
    def load(cls, path: str | os.PathLike[str]) -> Vocabulary:
        return cls.from_json(Path(path).read_text(encoding="utf-8"))


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
