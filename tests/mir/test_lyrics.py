from __future__ import annotations

import pytest

from mir.lyrics import align_lyrics, align_syllables, syllabify


def test_syllabify_english_counts_from_cmudict() -> None:
    assert syllabify("Glory, glory hallelujah") == [
        "Glo",
        "ry",
        "glo",
        "ry",
        "hal",
        "le",
        "lu",
        "jah",
    ]


def test_syllabify_unknown_word_by_vowel_groups() -> None:
    assert syllabify("florbix") == ["flor", "bix"]
    assert syllabify("zzz") == ["zzz"]  # no vowel: still one syllable


def test_syllabify_explicit_hyphens() -> None:
    assert syllabify("glo-ry Herr-lich!", "en") == ["glo", "ry", "Herr", "lich"]
    assert syllabify("twenty-one") == ["twen", "ty", "one"]  # a many-vowel piece is split too


def test_syllabify_german_rule() -> None:
    assert syllabify("Herrlich Freude", "de") == ["Herr", "lich", "Freu", "de"]
    assert syllabify("schreien Bücher", "de") == ["schrei", "en", "Bü", "cher"]


def test_syllabify_drops_punctuation_and_empty() -> None:
    assert syllabify("  ... 42 -- !") == []
    assert syllabify("(Oh), don't!") == ["Oh", "don't"]


NOTES = [(0.0, 0.5, 60), (0.5, 1.0, 62), (1.0, 1.5, 64), (1.5, 2.0, 65)]


def test_align_exact_notes_one_to_one() -> None:
    assert align_lyrics("glo-ry to god", NOTES) == [
        (0.0, 0.5, "glo"),
        (0.5, 1.0, "ry"),
        (1.0, 1.5, "to"),
        (1.5, 2.0, "god"),
    ]


def test_align_skips_extra_short_note() -> None:
    notes = [(0.0, 0.45, 60), (0.45, 0.5, 71), *NOTES[1:]]
    aligned = align_lyrics("glo-ry to god", notes)
    assert [start for start, _, _ in aligned] == [0.0, 0.5, 1.0, 1.5]
    assert aligned[0][1] == pytest.approx(0.5)  # the skipped note belongs to "glo"


def test_align_melisma_on_first_note() -> None:
    # quarters, then two legato eighths a step apart on one syllable, then quarters
    notes = [(0.0, 0.5, 60), (0.5, 1.0, 62), (1.0, 1.5, 64), (1.5, 1.75, 65), (1.75, 2.0, 64)]
    notes += [(2.0, 2.5, 62), (2.5, 3.0, 60)]
    assert align_syllables(list("abcdef"), notes) == [0, 1, 2, 3, 5, 6]
    aligned = align_lyrics("a b c d e f", notes)
    assert aligned[3] == (1.5, 2.0, "d")  # the syllable lasts over its melisma


def test_align_more_syllables_than_notes_drops_excess() -> None:
    aligned = align_lyrics("one two three four five six", NOTES)
    assert len(aligned) == len(NOTES)
    assert [start for start, _, _ in aligned] == [0.0, 0.5, 1.0, 1.5]


def test_align_drops_syllable_into_missing_note() -> None:
    notes = [(0.5 * k, 0.5 * k + 0.5, 60 + k) for k in range(8) if k != 4]
    placement = align_syllables([str(k) for k in range(8)], notes)
    assert placement == [0, 1, 2, 3, None, 4, 5, 6]


def test_align_empty_inputs() -> None:
    assert align_lyrics("", NOTES) == []
    assert align_lyrics("some words", []) == []
    assert align_lyrics("!!", NOTES) == []
    assert align_syllables([], NOTES) == []
