"""Source works from music21's corpus read as tunes: repeats, pickups, lyrics, harmony, form."""

from __future__ import annotations

import pytest

from seedmusic.data.sources import (
    COLLECTIONS,
    abc_tune_numbers,
    abc_tune_text,
    list_works,
)
from seedmusic.data.tune import read_tune
from seedmusic.errors import UserError

ABC = """%% a file header
X: 1
T: One
K: C
CDEF|
X: 7
T: Seven
K: G
GABc|
"""


def test_abc_tunes_are_found_and_cut_with_the_file_header():
    assert abc_tune_numbers(ABC) == [1, 7]
    text = abc_tune_text(ABC, 7)
    assert text.startswith("%% a file header") and "T: Seven" in text and "T: One" not in text
    with pytest.raises(ValueError, match="X:3"):
        abc_tune_text(ABC, 3)


def test_works_are_filtered_by_licence_and_have_unique_ids():
    public = list_works(licences=("public-domain",))
    assert public and all(COLLECTIONS[w.collection].licence == "public-domain" for w in public)
    assert not any(w.collection == "essen" for w in public)
    assert len({w.id for w in public}) == len(public)
    with pytest.raises(UserError, match="unknown collection"):
        list_works(("nope",))


def _work(collection: str, stem: str):
    return next(w for w in list_works((collection,)) if w.path.stem == stem)


def test_a_repeated_tune_is_expanded_with_its_pickup_on_the_bar_line():
    tune = read_tune(_work("ryans-mammoth", "AcrobatsHornpipe"))
    bar = tune.bar_ticks
    assert (tune.numerator, tune.denominator, tune.key) == (4, 4, "Bb major")
    # |: pickup + 8 bars :| |: 8 bars :|  -> 4 strains of 8 bars after a pickup bar.
    assert tune.end_tick == 33 * bar
    assert tune.melody[0].tick == bar - bar // 4  # a one-beat pickup ends at bar 1
    assert [(s.tick // bar, s.label) for s in tune.sections] == [
        (0, "verse"),
        (9, "verse"),
        (17, "chorus"),
        (25, "chorus"),
    ]
    assert not tune.has_lyrics and tune.chords == []


def test_a_chorale_keeps_its_lyrics_and_gets_its_harmony_from_the_voices():
    tune = read_tune(_work("bach-chorales", "bwv265"))
    assert tune.language == "de" and tune.key == "A minor"
    lyrics = [n.lyric for n in tune.melody if n.lyric]
    assert lyrics[:4] == ["Als", "Je", "sus", "Chri"]
    assert len(tune.chords) > 10
    assert {c.quality for c in tune.chords} <= {
        "maj", "min", "dim", "aug", "sus2", "sus4", "7", "maj7", "min7", "hdim7", "dim7"
    }  # fmt: skip
    ticks = [c.tick for c in tune.chords]
    assert ticks == sorted(ticks) and ticks[-1] + tune.chords[-1].duration == tune.end_tick
