from __future__ import annotations

from pathlib import Path

import pytest

from mir.lyrics import syllabify
from seedmusic.composer.lyrics_input import (
    Syllable,
    cmudict_pronunciations,
    parse_lyrics,
    read_lyrics_argument,
    split_phonemes,
    syllables_from_note_lyrics,
    word_syllables,
)
from seedmusic.errors import UserError
from seedmusic.lyrics import word_phonemes


def stresses(word: str, language: str = "en") -> list[int]:
    return [s.stress for s in word_syllables(word, language)]


# --- sections ---------------------------------------------------------------------------------


def test_headers_group_lines_across_blank_lines_until_the_next_header():
    sheet = parse_lyrics(
        "[Intro]\n\n[Verse 1]\nWalking down the road\n\nsinging all along\n"
        "[Pre-Chorus]\nhold on\n[CHORUS]\nOh my love\n[pre chorus 2]\nhold on\n[outro]\n"
    )
    assert [s.label for s in sheet.sections] == [
        "intro", "verse", "prechorus", "chorus", "prechorus", "outro"
    ]  # fmt: skip
    verse = sheet.sections[1]
    assert len(verse.lines) == 2
    assert verse.words_key == "walking down the road singing all along"
    assert sheet.sections[0].lines == () and sheet.sections[-1].lines == ()
    assert sheet.language == "en"


def test_line_and_word_starts_are_marked():
    (section,) = parse_lyrics("Glory hallelujah\nsing it").sections
    first, second = section.lines
    assert [s.text for s in first] == ["Glo", "ry", "hal", "le", "lu", "jah"]
    assert [s.line_start for s in first] == [True] + [False] * 5
    assert [s.word_start for s in first] == [True, False, True, False, False, False]
    assert second[0].line_start and not second[1].line_start
    assert parse_lyrics("Glory hallelujah\nsing it").num_syllables == 8


def test_stanzas_without_headers_repeated_words_are_choruses():
    text = (
        "I walked alone\nthrough the night\n\n"
        "Shine on, shine on\nmy light\n\n"
        "The day came home\nand so did I\n\n"
        "shine on shine on!\nMy light."
    )
    sheet = parse_lyrics(text)
    assert [s.label for s in sheet.sections] == ["verse", "chorus", "verse", "chorus"]


def test_single_stanza_is_a_verse_and_text_before_a_header_is_a_verse():
    assert [s.label for s in parse_lyrics("one line\nanother").sections] == ["verse"]
    sheet = parse_lyrics("first words\n\nmore words\n[chorus]\nla la")
    assert [s.label for s in sheet.sections] == ["verse", "chorus"]
    assert len(sheet.sections[0].lines) == 2


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("", "no words"),
        ("  \n\n ", "no words"),
        ("[verse]\n[chorus]\n", "no words"),
        ("[intro]\nla la la\n[verse]\nhello", "instrumental"),
        ("[verse]\nhello\n[outro]\nbye now", "[verse] or [chorus]"),
        ("[verse]\nhello\n[chorus]\n\n[bridge]\nyes", "[chorus]"),
        ("[hook]\nhello", "[pre-chorus]"),
        ("[verse 1: Ann]\nhello", "unknown section header"),
    ],
)
def test_lyric_mistakes_are_user_errors(text: str, message: str):
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace("]", r"\]")):
        parse_lyrics(text)


def test_unsupported_language_is_a_user_error():
    with pytest.raises(UserError, match="must be en or de"):
        parse_lyrics("hello", language="fr")
    with pytest.raises(UserError, match="must be en or de"):
        word_syllables("hello", "fr")


# --- language ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("text", "language"),
    [
        ("Ich liebe dich und du mich", "de"),
        ("Schön ist die Nacht", "de"),
        ("Heiß", "de"),
        ("I love you and the night", "en"),
        ("die hard in the night", "en"),
        ("Sie sagt", "en"),  # one German function word is not enough
    ],
)
def test_language_detection(text: str, language: str):
    assert parse_lyrics(text).language == language


def test_given_language_overrides_detection():
    assert parse_lyrics("Ich liebe dich und du mich", language="EN").language == "en"


# --- stress -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("morning", [1, 0]),
        ("again", [0, 1]),
        ("the", [0]),
        ("Love,", [1]),
        ("my", [0]),
        ("beautiful", [1, 0, 0]),
        ("glo-ry", [1, 0]),
        ("zorblation", [0, 1, 0]),  # not in CMUdict: before -tion
        ("zorbic", [1, 0]),  # before -ic
        ("zorbicity", [0, 1, 0, 0]),  # before -ity
        ("zorblam", [1, 0]),  # otherwise the first syllable
    ],
)
def test_english_stress(word: str, expected: list[int]):
    assert stresses(word) == expected


@pytest.mark.parametrize(
    ("word", "expected"),
    [
        ("Vergessen", [0, 1, 0]),
        ("Gesang", [0, 1]),
        ("Erinnerung", [0, 1, 0, 0]),
        ("Liebe", [1, 0]),
        ("geben", [1, 0]),  # two syllables, schwa second: prefix-like start keeps the stress
        ("Erde", [1, 0]),
        ("Herz", [1]),
        ("und", [0]),
        ("die", [0]),
    ],
)
def test_german_stress(word: str, expected: list[int]):
    assert stresses(word, "de") == expected


def test_german_syllables_have_no_phonemes():
    assert all(s.phonemes == () for s in word_syllables("Vergessen", "de"))


def test_word_syllables_match_syllabify():
    for word in ["hallelujah", "every", "fire", "rhythm", "twenty-one", "don't"]:
        assert [s.text for s in word_syllables(word, "en")] == syllabify(word, "en")
    syllables = word_syllables("morning", "en")
    assert syllables[0].word_start and not syllables[1].word_start
    assert not any(s.line_start for s in syllables)
    assert word_syllables("...", "en") == []


# --- phonemes ---------------------------------------------------------------------------------


def test_morning_phonemes_split_at_the_consonant_cluster():
    assert [s.phonemes for s in word_syllables("morning", "en")] == [
        ("M", "AO1", "R"),
        ("N", "IH0", "NG"),
    ]


@pytest.mark.parametrize(
    "word", ["morning", "hallelujah", "beautiful", "every", "yesterday", "zorblation", "rhythm"]
)
def test_phoneme_split_covers_the_word_in_order(word: str):
    syllables = word_syllables(word, "en")
    joined = [p for s in syllables for p in s.phonemes]
    assert all(s.phonemes for s in syllables)
    assert len(joined) >= len(syllables)
    pronunciations = cmudict_pronunciations(word) or [word_phonemes(word)]
    assert joined in pronunciations


@pytest.mark.parametrize("count", [1, 2, 3, 4, 5])
def test_split_phonemes_gives_count_nonempty_groups(count: int):
    phonemes = ["HH", "AE2", "L", "AH0", "L", "UW1", "Y", "AH0"]
    groups = split_phonemes(phonemes, count)
    assert len(groups) == count
    assert [p for g in groups for p in g] == phonemes
    assert all(groups)


def test_split_phonemes_consonant_rule():
    # one consonant goes to the next syllable, of two the first stays
    assert split_phonemes(["B", "EY1", "B", "IY0"], 2) == [("B", "EY1"), ("B", "IY0")]
    assert split_phonemes(["W", "IH1", "N", "T", "ER0"], 2) == [("W", "IH1", "N"), ("T", "ER0")]


# --- note lyrics ------------------------------------------------------------------------------


def test_note_lyrics_to_syllables():
    result = syllables_from_note_lyrics(
        ["Glo", "ry", None, "sing", "the", "song!", "mor", "ning"], "en"
    )
    assert result[2] is None
    texts = [s.text if s else None for s in result]
    assert texts == ["Glo", "ry", None, "sing", "the", "song", "mor", "ning"]
    assert [s.line_start for s in result if s] == [True, False, False, False, False, True, False]
    glo, ry, _, sing, the, song, mor, _ = result
    assert isinstance(glo, Syllable) and glo.word_start and glo.stress >= 1
    assert ry is not None and not ry.word_start and ry.stress == 0
    assert the is not None and the.word_start and the.stress == 0
    assert sing is not None and sing.stress == 1 and sing.phonemes == ("S", "IH1", "NG")
    assert song is not None and song.word_start
    assert mor is not None and mor.line_start and mor.word_start


def test_german_note_lyrics():
    result = syllables_from_note_lyrics(["Ver", "ges", "sen", "und", "Lie", "be."], "de")
    assert [(s.stress, s.word_start) for s in result if s] == [
        (0, True), (1, True), (1, True), (0, True), (1, True), (0, True)
    ]  # fmt: skip
    # "be" is an unstressed prefix; "ten" a suffix (no word boundary in a score)
    suffix = syllables_from_note_lyrics(["Lie", "be", "ten"], "de")
    assert suffix[2] is not None and suffix[2].stress == 0 and not suffix[2].word_start
    assert all(s is not None and s.phonemes == () for s in result)


def test_punctuation_only_note_lyric_is_a_continuation_that_ends_the_line():
    result = syllables_from_note_lyrics(["la", ",", "la"], "en")
    assert result[1] is None
    assert result[2] is not None and result[2].line_start


# --- the --lyrics argument --------------------------------------------------------------------


def test_read_lyrics_argument_reads_files_and_text(tmp_path: Path):
    path = tmp_path / "song.txt"
    path.write_text("[verse]\nhällo\n", encoding="utf-8")
    assert read_lyrics_argument(str(path)) == "[verse]\nhällo\n"
    assert read_lyrics_argument(r"[verse]\nhello there\nagain") == "[verse]\nhello there\nagain"


def test_read_lyrics_argument_errors(tmp_path: Path):
    bad = tmp_path / "bad.txt"
    bad.write_bytes(b"\xff\xfe\x00bad")
    with pytest.raises(UserError, match="not UTF-8"):
        read_lyrics_argument(str(bad))
    with pytest.raises(UserError, match="directory"):
        read_lyrics_argument(str(tmp_path))
    with pytest.raises(UserError, match="not found"):
        read_lyrics_argument(str(tmp_path / "missing.txt"))
