from __future__ import annotations

import pytest

from seedmusic.composer.style import (
    GENRES,
    MOODS,
    ComposeStyle,
    parse_key,
    parse_meter,
    parse_style,
)
from seedmusic.errors import UserError


def test_full_style_text():
    style = parse_style("Pop ,  Female, happy, 100 BPM, d-moll, 3/4, upbeat, happy")
    assert style == ComposeStyle(
        genre="pop",
        voice="female vocal",
        tempo=100.0,
        key="D minor",
        meter=(3, 4),
        moods=("happy", "upbeat"),
    )
    assert style.tags() == ("pop", "female vocal", "happy", "upbeat")


def test_empty_style_leaves_everything_to_the_model():
    assert parse_style("") == ComposeStyle()
    assert parse_style(" , ").tags() == ()


@pytest.mark.parametrize(
    ("text", "genre"),
    [("bossa nova", "bossa"), ("Chorale", "hymn"), ("jazz", "swing"), *[(g, g) for g in GENRES]],
)
def test_genres_and_aliases(text: str, genre: str):
    assert parse_style(text).genre == genre


@pytest.mark.parametrize("text", ["male", "Male Vocal", "male voice", "  MALE   vocals "])
def test_voice_aliases(text: str):
    assert parse_style(text).voice == "male vocal"


def test_moods_and_tags_order():
    style = parse_style(", ".join(MOODS) + ", male, waltz")
    assert style.tags() == ("waltz", "male vocal", *MOODS)


def test_flags_fill_fields_and_agree_with_the_text():
    style = parse_style("120 bpm, D major", tempo=120, key="D", meter="2/2")
    assert (style.tempo, style.key, style.meter) == (120.0, "D major", (4, 4))
    assert parse_style("", tempo=90.5).tempo == 90.5


@pytest.mark.parametrize(
    ("text", "flags", "message"),
    [
        ("dubstep", {}, "unknown style 'dubstep' \\(known: pop, rock"),
        ("pop, dubstep, metal", {}, "unknown styles 'dubstep', 'metal'"),
        ("pop, rock", {}, "two genres"),
        ("pop, pop, female, male", {}, "two voices"),
        ("100 bpm, 120 bpm", {}, "two tempos"),
        ("D major, Am", {}, "two keys"),
        ("3/4, 6/8", {}, "two meters"),
        ("10 bpm", {}, "between 20 and 300 bpm"),
        ("301 bpm", {}, "between 20 and 300 bpm"),
        ("0 bpm", {}, "between 20 and 300 bpm"),
        ("-5 bpm", {}, "between 20 and 300 bpm"),
        ("5/4", {}, "supported: 2/4, 3/4, 4/4, 6/8"),
        ("", {"tempo": 0}, "between 20 and 300 bpm"),
        ("", {"tempo": -90}, "between 20 and 300 bpm"),
        ("", {"tempo": float("nan")}, "between 20 and 300 bpm"),
        ("", {"key": "X major"}, "unknown key"),
        ("", {"meter": "7/8"}, "supported"),
        ("120 bpm", {"tempo": 100}, "120 bpm but --tempo says 100 bpm"),
        ("D major", {"key": "d minor"}, "--key"),
        ("3/4", {"meter": "4/4"}, "--meter"),
    ],
)
def test_style_mistakes_are_user_errors(text: str, flags: dict, message: str):
    with pytest.raises(UserError, match=message):
        parse_style(text, **flags)


def test_unknown_item_message_lists_everything_known():
    with pytest.raises(UserError) as info:
        parse_style("pop, dubstep")
    message = str(info.value)
    assert "\n" not in message
    for known in (*GENRES, "female vocal", "male vocal", *MOODS, "bpm", "D major", "3/4"):
        assert known in message


@pytest.mark.parametrize(
    ("text", "key"),
    [
        ("d major", "D major"),
        ("D", "D major"),
        ("Dm", "D minor"),
        ("D minor", "D minor"),
        ("d-moll", "D minor"),
        ("Db major", "C# major"),
        ("A#m", "Bb minor"),
        ("F# minor", "F# minor"),
        ("fis-moll", "F# minor"),
        ("Es-Dur", "Eb major"),
        ("h-moll", "B minor"),
        ("Bb", "Bb major"),
        ("Cb", "B major"),
        ("  g   MINOR ", "G minor"),
    ],
)
def test_key_normalisation(text: str, key: str):
    assert parse_key(text) == key


@pytest.mark.parametrize("text", ["", "major", "X", "D dorian", "C##"])
def test_bad_keys(text: str):
    with pytest.raises(UserError, match="unknown key"):
        parse_key(text)


@pytest.mark.parametrize(
    ("text", "meter"),
    [("2/4", (2, 4)), ("3/4", (3, 4)), (" 4 / 4 ", (4, 4)), ("6/8", (6, 8)), ("2/2", (4, 4))],
)
def test_meters(text: str, meter: tuple[int, int]):
    assert parse_meter(text) == meter


@pytest.mark.parametrize("text", ["5/4", "3/8", "4", "four", "12/8"])
def test_bad_meters(text: str):
    with pytest.raises(UserError, match="supported: 2/4, 3/4, 4/4, 6/8"):
        parse_meter(text)
