"""The composer's style input: "pop, female vocal, happy, 100 bpm, D major, 4/4" -> `ComposeStyle`.

The style text is a comma-separated list of items, case-insensitive and whitespace-tolerant:

- a genre (`GENRES`; also "bossa nova" -> bossa, "chorale" -> hymn, "jazz" -> swing),
- a voice (`VOICES`; also "female", "female voice", "female vocals", "female singer", and
  the same for male),
- moods (`MOODS`, any number),
- a tempo, `N bpm` (20 to 300),
- a key (`parse_key`: "D major", "A minor", "Am", "d-moll", ...),
- a meter (`parse_meter`: 2/4, 3/4, 4/4, 6/8; 2/2 is read as 4/4).

Anything left unset (None) is the model's choice. This module never imports torch.
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass, replace
from typing import Any

from score_tokens.score import PITCH_CLASS_NAMES
from seedmusic.errors import UserError

GENRES: tuple[str, ...] = (
    "pop",
    "rock",
    "folk",
    "ballad",
    "waltz",
    "march",
    "swing",
    "country",
    "bossa",
    "latin",
    "blues",
    "hymn",
)
VOICES: tuple[str, ...] = ("female vocal", "male vocal")
MOODS: tuple[str, ...] = ("happy", "sad", "calm", "energetic", "slow", "upbeat")
METERS: tuple[tuple[int, int], ...] = ((2, 4), (3, 4), (4, 4), (6, 8))
TEMPO_RANGE: tuple[float, float] = (20.0, 300.0)

_GENRE_ALIASES: dict[str, str] = {
    **{genre: genre for genre in GENRES},
    "bossa nova": "bossa",
    "chorale": "hymn",
    "jazz": "swing",
}
_VOICE_ALIASES: dict[str, str] = {
    f"{sex}{suffix}": f"{sex} vocal"
    for sex in ("female", "male")
    for suffix in ("", " vocal", " vocals", " voice", " singer")
}
_BPM = re.compile(r"([+-]?\d+(?:\.\d*)?|[+-]?\.\d+)\s*bpm")
_METER = re.compile(r"\d+\s*/\s*\d+")
_KEY = re.compile(
    r"(?P<letter>[a-h])\s*(?P<accidental>#|♯|♭|b|is|es|s|-?sharp|-?flat)?"
    r"\s*-?\s*(?P<mode>major|maj|dur|minor|min|moll|m)?"
)
_LETTERS = {"c": 0, "d": 2, "e": 4, "f": 5, "g": 7, "a": 9, "b": 11, "h": 11}
_SHARP = ("#", "♯", "is", "sharp", "-sharp")
_FLAT = ("b", "♭", "es", "s", "flat", "-flat")
_MINOR = ("minor", "min", "moll", "m")
_KNOWN = (
    f"{', '.join(GENRES)}, {', '.join(VOICES)}, {', '.join(MOODS)}, "
    "'<N> bpm', a key like 'D major', a meter like 3/4"
)


@dataclass(frozen=True)
class ComposeStyle:
    """What the user asked for; None (or no moods) leaves it to the model."""

    genre: str | None = None
    """One of `GENRES`."""
    voice: str | None = None
    """One of `VOICES`."""
    tempo: float | None = None
    """Quarter notes per minute, 20..300."""
    key: str | None = None
    """Normalised like "D major", "F# minor", spelled with `PITCH_CLASS_NAMES`."""
    meter: tuple[int, int] | None = None
    """One of `METERS`."""
    moods: tuple[str, ...] = ()
    """Of `MOODS`, in the order given, without repeats."""

    def tags(self) -> tuple[str, ...]:
        """The genre, the voice and the moods that are set, in that order."""
        return tuple(t for t in (self.genre, self.voice) if t is not None) + self.moods


def parse_style(
    text: str, tempo: float | None = None, key: str | None = None, meter: str | None = None
) -> ComposeStyle:
    """Style text plus the CLI's --tempo/--key/--meter values -> a `ComposeStyle`.

    Args:
        text: comma-separated style items (module docstring); may be empty.
        tempo: --tempo in bpm, or None.
        key: --key text (`parse_key`), or None.
        meter: --meter text (`parse_meter`), or None.

    Raises:
        UserError: unknown items (one error naming them and listing the known ones), two
            different genres, voices, tempos, keys or meters in the text, a tempo out of range,
            an unknown key or meter, or a flag that contradicts the text.
    """
    style = ComposeStyle()
    unknown: list[str] = []
    for raw in text.split(","):
        item = " ".join(raw.lower().split())
        if not item:
            continue
        field, value = _classify(item)
        if field is None:
            unknown.append(raw.strip())
        elif field == "moods":
            if value not in style.moods:
                style = replace(style, moods=(*style.moods, value))
        else:
            style = _set(style, field, value)
    if unknown:
        quoted = ", ".join(repr(item) for item in unknown)
        noun = "style" if len(unknown) == 1 else "styles"
        raise UserError(f"unknown {noun} {quoted} (known: {_KNOWN})")
    flags: list[tuple[str, str, Any]] = []
    if tempo is not None:
        flags.append(("tempo", "--tempo", _checked_tempo(tempo)))
    if key is not None:
        flags.append(("key", "--key", parse_key(key)))
    if meter is not None:
        flags.append(("meter", "--meter", parse_meter(meter)))
    for field, flag, value in flags:
        current = getattr(style, field)
        if current is not None and current != value:
            raise UserError(
                f"the style says {_format(field, current)} but {flag} says {_format(field, value)}"
            )
        style = replace(style, **{field: value})
    return style


def _classify(item: str) -> tuple[str | None, Any]:
    """(field, value) of one normalised style item; (None, None) when it is unknown."""
    if item in _GENRE_ALIASES:
        return "genre", _GENRE_ALIASES[item]
    if item in _VOICE_ALIASES:
        return "voice", _VOICE_ALIASES[item]
    if item in MOODS:
        return "moods", item
    bpm = _BPM.fullmatch(item)
    if bpm:
        return "tempo", _checked_tempo(float(bpm.group(1)))
    if _METER.fullmatch(item):
        return "meter", parse_meter(item)
    key = _key_or_none(item)
    if key is not None:
        return "key", key
    return None, None


def _set(style: ComposeStyle, field: str, value: Any) -> ComposeStyle:
    """`style` with `field` set; a second, different value for it is an error."""
    current = getattr(style, field)
    if current is not None and current != value:
        noun = {"genre": "genres", "voice": "voices", "tempo": "tempos", "key": "keys"}
        raise UserError(
            f"two {noun.get(field, 'meters')} in the style: "
            f"{_format(field, current)} and {_format(field, value)} (give one)"
        )
    return replace(style, **{field: value})


def _format(field: str, value: object) -> str:
    """A field's value as the user would write it."""
    if field == "tempo" and isinstance(value, float):
        return f"{value:g} bpm"
    if field == "meter" and isinstance(value, tuple):
        return f"{value[0]}/{value[1]}"
    return repr(value)


def _checked_tempo(tempo: float) -> float:
    low, high = TEMPO_RANGE
    value = float(tempo)
    if not math.isfinite(value) or not low <= value <= high:
        raise UserError(f"tempo must be between {low:g} and {high:g} bpm (got {tempo:g})")
    return value


def parse_key(text: str) -> str:
    """A key as users write it -> "<pitch class> major|minor" spelled with `PITCH_CLASS_NAMES`.

    Accepted: "D", "d major", "D maj", "Dm", "D minor", "d-moll", "Es-Dur", "F#m", "Bb major";
    enharmonics are respelled ("Db major" -> "C# major", "A#m" -> "Bb minor").

    Raises:
        UserError: `text` is not a key.
    """
    key = _key_or_none(" ".join(text.lower().split()))
    if key is None:
        raise UserError(
            f"unknown key {text!r} (write a key like 'D major', 'F# minor', 'Am' or 'd-moll')"
        )
    return key


def _key_or_none(item: str) -> str | None:
    match = _KEY.fullmatch(item)
    if not match:
        return None
    letter, accidental, mode = match.group("letter", "accidental", "mode")
    if accidental == "s" and letter not in "ae":  # German "es" (Eb) and "as" (Ab) only
        return None
    pitch = _LETTERS[letter]
    if accidental in _SHARP:
        pitch += 1
    elif accidental in _FLAT:
        pitch -= 1
    return f"{PITCH_CLASS_NAMES[pitch % 12]} {'minor' if mode in _MINOR else 'major'}"


def parse_meter(text: str) -> tuple[int, int]:
    """A meter "N/D" -> (N, D), one of `METERS`; "2/2" (cut time) is read as (4, 4).

    Raises:
        UserError: not a meter, or one the composer does not write.
    """
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", text)
    meter = (int(match.group(1)), int(match.group(2))) if match else None
    if meter == (2, 2):
        return (4, 4)
    if meter not in METERS:
        supported = ", ".join(f"{n}/{d}" for n, d in METERS)
        raise UserError(f"unsupported meter {text.strip()!r} (supported: {supported})")
    assert meter is not None
    return meter
