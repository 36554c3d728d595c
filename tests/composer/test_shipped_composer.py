"""The shipped composer (checkpoints/composer) on lyrics it never saw: every word is sung."""

from __future__ import annotations

import pytest

from seedmusic.composer.lyrics_input import parse_lyrics
from seedmusic.composer.pipeline import Composer, ComposeRequest
from seedmusic.composer.style import parse_style

ENGLISH = """[intro]

[verse]
I walked along the river when the light was turning grey
the water told me stories of a town so far away

[chorus]
Hold on, hold on, the night is almost gone
hold on, hold on, we sing until the dawn

[verse]
The windows on the hillside started burning one by one
and every little shadow was a promise to the sun

[chorus]
Hold on, hold on, the night is almost gone
hold on, hold on, we sing until the dawn

[outro]
"""

GERMAN = """[verse]
Der Abend kommt so leise
und alle Vögel ruhn

[chorus]
Wir singen unsre Weise
und haben nichts zu tun

[chorus]
Wir singen unsre Weise
und haben nichts zu tun
"""


@pytest.fixture(scope="module")
def composer() -> Composer:
    return Composer.from_pretrained()


def sung(score):  # type: ignore[no-untyped-def]
    return [n.lyric for n in score.notes("vocal") if n.lyric]


def chorus_melodies(score):  # type: ignore[no-untyped-def]
    sections = sorted(score.sections, key=lambda s: s.tick)
    melodies = []
    for index, section in enumerate(sections):
        if section.label != "chorus":
            continue
        end = sections[index + 1].tick
        melodies.append(
            [
                (n.tick - section.tick, n.pitch, n.lyric)
                for n in score.notes("vocal")
                if section.tick <= n.tick < end
            ]
        )
    return melodies


@pytest.mark.slow
@pytest.mark.parametrize(
    ("lyrics", "style", "meter"),
    [
        (ENGLISH, "pop, female vocal, 104 bpm, E major, 4/4", (4, 4)),
        (ENGLISH, "waltz, male vocal, 3/4", (3, 4)),
        (GERMAN, "folk, male vocal, 6/8, D major", (6, 8)),
        (GERMAN, "hymn, female vocal, 4/4", (4, 4)),
    ],
)
def test_every_word_is_sung_and_the_chorus_repeats(
    composer: Composer, lyrics: str, style: str, meter: tuple[int, int]
) -> None:
    sheet = parse_lyrics(lyrics)
    request = ComposeRequest(sheet, parse_style(style), seed=7)
    score = composer.compose(request).score
    assert sung(score) == [s.text for section in sheet.sections for s in section.syllables]
    signature = score.time_signatures[0]
    assert (signature.numerator, signature.denominator) == meter
    labels = [s.label for s in sorted(score.sections, key=lambda s: s.tick)]
    assert labels[0] == "intro" and labels[-1] == "outro"
    intro_end = sorted(score.sections, key=lambda s: s.tick)[1].tick
    outro_start = sorted(score.sections, key=lambda s: s.tick)[-1].tick
    assert all(intro_end <= n.tick < outro_start for n in score.notes("vocal"))
    first, *others = chorus_melodies(score)
    assert all(other == first for other in others)
    assert sum(bool(score.notes(track)) for track in ("bass", "piano", "guitar", "drums")) >= 2


@pytest.mark.slow
def test_the_same_seed_composes_the_same_song(composer: Composer) -> None:
    request = ComposeRequest(parse_lyrics(GERMAN), parse_style("folk, 3/4"), seed=3)
    a, b = composer.compose(request), composer.compose(request)
    assert a.tokens == b.tokens


@pytest.mark.slow
def test_a_prompt_is_embedded_and_conditions_the_song(composer: Composer) -> None:
    request = ComposeRequest(
        parse_lyrics(GERMAN), parse_style(""), prompt="a slow, gentle waltz about the sea", seed=1
    )
    result = composer.compose(request)
    assert sung(result.score) and result.summary["prompt"] == "a slow, gentle waltz about the sea"
