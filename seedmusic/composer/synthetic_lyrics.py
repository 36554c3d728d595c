"""Words for melodies that have no lyrics: training data that looks like users' lyrics.

`synthetic_syllables` sings real English words (`SONG_WORDS`, all in CMUdict) on a melody's
notes, in lines (phrases) like a lyric sheet, with word stress placed on strong beats most of
the time, and occasional melismas. The syllables are built by
`seedmusic.composer.lyrics_input.word_syllables`, exactly as users' lyrics are.

This module never imports torch.
"""

from __future__ import annotations

import functools
import logging
import random
from collections.abc import Sequence
from dataclasses import replace

from score_tokens.score import Note
from seedmusic.composer.lyrics_input import Syllable, word_syllables
from seedmusic.composer.meter import beat_ticks, metrical_weight

logger = logging.getLogger(__name__)

ALIGNED_PROBABILITY = 0.85
"""Share of words chosen to put stress on strong notes (weight >= 2); the rest are any word."""
LENGTH_PRIOR: dict[int, float] = {1: 0.55, 2: 0.32, 3: 0.13}
"""Relative chance of a 1-, 2- or 3-syllable word."""
LINE_MAX_BARS = 4
"""A line that has run this many bars ends at the next bar line."""

SONG_WORDS: tuple[str, ...] = (
    # one syllable: function words (sung unstressed) ...
    "the", "a", "and", "to", "my", "your", "in", "on", "of", "for", "with", "we", "you", "I",
    "me", "oh", "so", "but", "at", "from", "by", "as", "is", "are", "was", "be", "it", "our",
    "her", "his", "can", "will", "no", "that", "this", "they", "she", "he", "us", "all",
    # ... and stressed words
    "love", "heart", "night", "day", "sun", "moon", "light", "sky", "sea", "home", "road",
    "rain", "dream", "song", "sing", "fly", "free", "hold", "hand", "dance", "fire", "star",
    "wind", "blue", "gold", "green", "hill", "field", "town", "friend", "way", "time", "soul",
    "know", "see", "go", "come", "stay", "run", "walk", "call", "fall", "rise", "shine", "glow",
    "sweet", "dear", "true", "old", "new", "bright", "wild", "long", "far", "near", "high",
    "low", "now", "here", "there", "one", "when", "where", "why", "sleep", "wake", "spring",
    "bird", "tree", "rose", "snow", "boat", "shore", "eyes", "kiss", "smile", "tears", "cry",
    "youth", "years", "dark", "cold", "warm", "soft", "deep", "wide", "lost", "found",
    "hope", "faith", "grace", "peace", "joy", "pain", "life", "world", "earth", "stone", "sand",
    "wave", "storm", "cloud", "dawn", "dusk", "voice", "name", "door", "room", "bed",
    "wine", "bread", "lord", "king", "queen", "child", "mind", "touch", "feel", "need",
    "want", "give", "take", "keep", "leave", "turn", "burn", "break", "live", "die",
    "fight", "wait", "hear", "say", "tell", "play", "pray", "ride", "roam", "drift", "fade",
    # two syllables, stressed on the first ...
    "morning", "evening", "river", "heaven", "shadow", "golden", "silver", "yellow", "summer",
    "winter", "autumn", "water", "mother", "father", "brother", "sister", "baby", "lady",
    "darling", "honey", "lover", "mountain", "valley", "ocean", "island", "window", "garden",
    "highway", "story", "glory", "sorrow", "spirit", "angel", "wonder", "thunder", "whisper",
    "candle", "silence", "freedom", "kingdom", "journey", "moonlight", "sunshine", "sunlight",
    "rainbow", "harbor", "meadow", "willow", "little", "gentle", "tender", "lonely", "happy",
    "pretty", "empty", "only", "even", "ever", "never", "always", "over", "under", "into",
    "dancing", "singing", "falling", "shining", "flying", "dreaming", "running", "calling",
    "burning", "waiting", "holding", "crying", "rolling", "fading", "music",
    "memory", "city", "country", "homeward", "forward", "open", "broken", "frozen", "chosen",
    # ... stressed on the second
    "again", "away", "alone", "believe", "forget", "tonight", "today", "above", "before",
    "begin", "beyond", "return", "along", "around", "among", "awake", "alive", "ablaze",
    "afraid", "arise", "behind", "below", "between", "become", "belong", "because", "upon",
    "within", "without", "receive", "release", "remain", "goodbye", "hello", "embrace",
    "delight", "divine", "despair", "decide", "explain", "unknown", "untold", "surprise",
    # three syllables
    "beautiful", "wonderful", "yesterday", "everything", "everyone", "somebody", "evermore",
    "tenderly", "carefully", "mystery", "melody", "harmony", "destiny", "paradise",
    "butterfly", "innocent", "wandering", "whispering", "shimmering", "glittering",
    "remember", "together", "forever", "tomorrow", "believing", "surrender", "December",
    "September", "November", "horizon", "another", "imagine", "religion", "salvation",
    "emotion", "devotion", "forgiven", "deliver", "discover", "amazing", "understand",
    "afternoon", "tennessee", "serenade", "lullaby", "memories", "galaxy", "family",
    "holiday", "honestly", "evergreen", "fantasy", "silently", "gentleman", "elephant",
    "adventure", "departure", "believer", "umbrella", "vanilla", "romantic",
)  # fmt: skip
"""Common English song words of one to three sung syllables (all in CMUdict)."""


@functools.cache
def _vocabulary() -> dict[int, tuple[tuple[Syllable, ...], ...]]:
    """The song words' syllables, grouped by syllable count (1, 2, 3)."""
    by_length: dict[int, list[tuple[Syllable, ...]]] = {1: [], 2: [], 3: []}
    for word in dict.fromkeys(SONG_WORDS):
        syllables = tuple(word_syllables(word, "en"))
        if len(syllables) in by_length:
            by_length[len(syllables)].append(syllables)
    return {length: tuple(words) for length, words in by_length.items()}


def synthetic_syllables(
    melody: Sequence[Note],
    numerator: int,
    denominator: int,
    ticks_per_beat: int,
    rng: random.Random,
    melisma_rate: float = 0.08,
) -> list[Syllable | None]:
    """Words from `SONG_WORDS` sung on `melody`, one syllable per note (None: a melisma note).

    - Lines: a line starts at the first note, after a rest of at least one beat, after a note
      of at least two beats, and otherwise at the first note of the bar `LINE_MAX_BARS` (4)
      bars after the bar the line started in. Words never cross a line.
    - Melismas: a note that starts no line and starts within one beat of the previous note's
      onset continues the previous syllable (None) with probability `melisma_rate`.
    - Words: at each sung note a word length (1 to 3, `LENGTH_PRIOR`, no longer than the notes
      left in the line) and word are drawn. With probability `ALIGNED_PROBABILITY` (0.85) only
      words with the fewest stress mismatches on the next notes are eligible: a stressed
      syllable (stress >= 1) on a note of metrical weight < 2 or an unstressed one on weight
      >= 2 is a mismatch; otherwise any word of the drawn length.

    The beat is the counted beat (`meter.beat_ticks`: a dotted quarter in 6/8); ticks count
    from a bar line. The result depends only on the inputs and `rng`'s state.

    Args:
        melody: `[N]` vocal notes in time order.
        numerator: time-signature numerator.
        denominator: time-signature denominator.
        ticks_per_beat: ticks per quarter note.
        rng: the random source (advanced).
        melisma_rate: probability of a melisma on an eligible note.

    Returns:
        `[N]` syllables (line starts marked), None on melisma notes; the first note always
        has a syllable.
    """
    line_starts = _line_starts(melody, numerator, denominator, ticks_per_beat)
    sung = _sung(
        melody, line_starts, beat_ticks(numerator, denominator, ticks_per_beat), rng, melisma_rate
    )
    weights = [metrical_weight(n.tick, numerator, denominator, ticks_per_beat) for n in melody]
    result: list[Syllable | None] = [None] * len(melody)
    lines = _lines([i for i in range(len(melody)) if sung[i]], line_starts)
    for line in lines:
        position = 0
        while position < len(line):
            remaining = [weights[i] for i in line[position:]]
            word = _choose_word(remaining, rng)
            for offset, syllable in enumerate(word):
                result[line[position + offset]] = syllable
            position += len(word)
        first = result[line[0]]
        assert first is not None
        result[line[0]] = replace(first, line_start=True)
    return result


def _line_starts(
    melody: Sequence[Note], numerator: int, denominator: int, ticks_per_beat: int
) -> list[bool]:
    """Whether each note starts a line (rules in `synthetic_syllables`)."""
    beat = beat_ticks(numerator, denominator, ticks_per_beat)
    bar = ticks_per_beat * 4 // denominator * numerator
    starts: list[bool] = []
    line_bar = 0
    for i, note in enumerate(melody):
        previous = melody[i - 1] if i else None
        start = (
            previous is None
            or note.tick - previous.end >= beat
            or previous.duration >= 2 * beat
            or note.tick // bar >= line_bar + LINE_MAX_BARS
        )
        if start:
            line_bar = note.tick // bar
        starts.append(start)
    return starts


def _sung(
    melody: Sequence[Note], line_starts: Sequence[bool], beat: int, rng: random.Random, rate: float
) -> list[bool]:
    """Whether each note starts a syllable (False: a melisma continuation)."""
    sung: list[bool] = []
    for i, note in enumerate(melody):
        eligible = not line_starts[i] and note.tick - melody[i - 1].tick <= beat
        sung.append(not (eligible and rng.random() < rate))
    return sung


def _lines(sung: Sequence[int], line_starts: Sequence[bool]) -> list[list[int]]:
    """Indices of sung notes grouped into lines."""
    lines: list[list[int]] = []
    for index in sung:
        if line_starts[index] or not lines:
            lines.append([])
        lines[-1].append(index)
    return lines


def _mismatches(word: Sequence[Syllable], strong: Sequence[bool]) -> int:
    """Syllables whose stress disagrees with their note's strength (strong: weight >= 2)."""
    return sum((s.stress >= 1) != is_strong for s, is_strong in zip(word, strong, strict=False))


@functools.cache
def _aligned_words(strong: tuple[bool, ...]) -> dict[int, tuple[tuple[Syllable, ...], ...]]:
    """Per length, the words with the fewest mismatches on notes of this strength (over all
    lengths that fit: lengths whose best is worse are left out)."""
    vocabulary = _vocabulary()
    costs = {
        n: [_mismatches(word, strong) for word in vocabulary[n]]
        for n in LENGTH_PRIOR
        if n <= len(strong) and vocabulary[n]
    }
    best = min(min(c) for c in costs.values())
    return {
        n: tuple(w for w, c in zip(vocabulary[n], costs[n], strict=True) if c == best)
        for n in costs
        if min(costs[n]) == best
    }


def _choose_word(weights: Sequence[int], rng: random.Random) -> tuple[Syllable, ...]:
    """A word for the notes with these metrical weights (at most `len(weights)` syllables)."""
    if rng.random() < ALIGNED_PROBABILITY:
        strong = tuple(w >= 2 for w in weights[: max(LENGTH_PRIOR)])
        words = _aligned_words(strong)
    else:
        vocabulary = _vocabulary()
        words = {n: vocabulary[n] for n in LENGTH_PRIOR if n <= len(weights) and vocabulary[n]}
    lengths = sorted(words)
    length = rng.choices(lengths, weights=[LENGTH_PRIOR[n] for n in lengths])[0]
    return rng.choice(words[length])
