from __future__ import annotations

import random

import pytest

from score_tokens.score import Note
from seedmusic.composer import synthetic_lyrics
from seedmusic.composer.lyrics_input import Syllable, cmudict_pronunciations, word_syllables
from seedmusic.composer.meter import metrical_weight
from seedmusic.composer.synthetic_lyrics import SONG_WORDS, synthetic_syllables

TPB = 480


def melody(durations: list[int], rests_after: frozenset[int] = frozenset()) -> list[Note]:
    notes, tick = [], 0
    for i, duration in enumerate(durations):
        notes.append(Note(tick, duration, 60))
        tick += duration + (TPB if i in rests_after else 0)
    return notes


def stress_on_strong(
    notes: list[Note], syllables: list[Syllable | None], num: int, den: int
) -> float:
    weights = [
        metrical_weight(n.tick, num, den, TPB)
        for n, s in zip(notes, syllables, strict=True)
        if s is not None and s.stress >= 1
    ]
    return sum(w >= 2 for w in weights) / len(weights)


def test_song_words_are_cmudict_words_of_one_to_three_syllables():
    assert len(set(SONG_WORDS)) == len(SONG_WORDS) >= 300
    for word in SONG_WORDS:
        assert cmudict_pronunciations(word.lower()), word
        assert 1 <= len(word_syllables(word, "en")) <= 3, word


def test_every_note_gets_a_full_syllable_or_none():
    notes = melody([TPB, TPB // 2, TPB // 2, 2 * TPB] * 8, frozenset({7}))
    syllables = synthetic_syllables(notes, 4, 4, TPB, random.Random(0), melisma_rate=0.5)
    assert len(syllables) == len(notes)
    assert syllables[0] is not None and syllables[0].line_start and syllables[0].word_start
    sung = [s for s in syllables if s is not None]
    assert len(sung) < len(notes)  # some melismas at this rate
    assert all(s.text and s.phonemes and s.stress in (0, 1, 2) for s in sung)


def test_deterministic_for_a_given_rng_state():
    notes = melody([TPB] * 32)
    first = synthetic_syllables(notes, 4, 4, TPB, random.Random(7))
    assert first == synthetic_syllables(notes, 4, 4, TPB, random.Random(7))
    assert first != synthetic_syllables(notes, 4, 4, TPB, random.Random(8))


def test_line_starts_after_rests_long_notes_and_four_bars():
    durations = [TPB] * 6 + [2 * TPB] + [TPB] * 40
    notes = melody(durations, frozenset({2}))
    syllables = synthetic_syllables(notes, 4, 4, TPB, random.Random(1), melisma_rate=0.0)
    starts = [i for i, s in enumerate(syllables) if s is not None and s.line_start]
    # note 3 follows a rest of a beat, note 7 a half note; then every 4 bars at a bar line
    assert starts[:3] == [0, 3, 7]
    later = [notes[i].tick for i in starts[3:]]
    assert later and all(tick % (4 * TPB) == 0 for tick in later)
    assert all(b - a <= 4 * 4 * TPB for a, b in zip([notes[7].tick, *later], later, strict=False))


def test_words_do_not_cross_lines():
    notes = melody([TPB, TPB, 2 * TPB] * 10)
    syllables = synthetic_syllables(notes, 4, 4, TPB, random.Random(3), melisma_rate=0.0)
    for syllable in syllables:
        assert syllable is not None
        if syllable.line_start:
            assert syllable.word_start


def test_melisma_only_on_close_non_line_start_notes():
    notes = melody([2 * TPB, TPB // 2] * 20)
    syllables = synthetic_syllables(notes, 4, 4, TPB, random.Random(2), melisma_rate=0.5)
    for i, syllable in enumerate(syllables):
        if syllable is None:
            assert notes[i].tick - notes[i - 1].tick <= TPB
    assert syllables[0] is not None


@pytest.mark.parametrize(
    ("durations", "num", "den", "bound"),
    [([TPB] * 64, 4, 4, 0.75), ([TPB // 2] * 64, 4, 4, 0.6), ([TPB] * 48, 3, 4, 0.6)],
)
def test_stress_falls_on_strong_beats(durations: list[int], num: int, den: int, bound: float):
    notes = melody(durations)
    for seed in range(3):
        syllables = synthetic_syllables(notes, num, den, TPB, random.Random(seed))
        assert stress_on_strong(notes, syllables, num, den) > bound


def test_alignment_beats_random_word_choice(monkeypatch: pytest.MonkeyPatch):
    notes = melody([TPB] * 64)

    def mean_ratio() -> float:
        ratios = []
        for seed in range(4):
            syllables = synthetic_syllables(notes, 4, 4, TPB, random.Random(seed))
            ratios.append(stress_on_strong(notes, syllables, 4, 4))
        return sum(ratios) / len(ratios)

    aligned = mean_ratio()
    monkeypatch.setattr(synthetic_lyrics, "ALIGNED_PROBABILITY", 0.0)
    assert aligned > mean_ratio() + 0.2
