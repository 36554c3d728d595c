"""The rule baseline composer: lyrics + style -> a plain, valid song `Score` without a model.

Form: a 2-bar intro (no vocal), every lyric section in order, a 2-bar outro. A section without
lines (an instrumental) lasts 2 bars.

Rhythm: one note per syllable on every counted beat (a quarter in x/4, a dotted quarter in
6/8), each held for one beat. Every line starts on a bar line; a line that ends before a bar
line rests until the next one.

Pitch: a seeded random walk over the key's scale (minor: natural minor) inside the voice's
register (`REGISTERS`: female vocal 62..76 around A4, male vocal 52..64 around A3), starting
on the tonic nearest the register's centre, moving by steps (weight 3) or leaps of at most a
fourth (weight 1); a note on a strong beat (`meter.is_strong`) is a tone of the bar's chord
within a fourth of the last note (the nearest chord tone in the register if there is none).

Harmony: one diatonic chord per bar (major: I IV V vi; minor: i iv V VI), drawn at random,
with the first and the last bar on the tonic chord. The accompaniment is MMA's
(`seedmusic.data.accompaniment.accompany`) in the style's genre when that genre has a groove
for the meter, else in the first style that has one.

Key, tempo and meter come from the style where set, else from the defaults. Everything is
drawn from one `numpy` generator seeded with `seed`, so a seed gives one song.
"""

from __future__ import annotations

import logging
from typing import TYPE_CHECKING

import numpy as np

from score_tokens.midi import key_name, parse_key
from score_tokens.score import Chord, Note, Score, Section, TempoChange, TimeSignature
from seedmusic.composer.meter import beat_ticks, is_strong
from seedmusic.data.harmony import TEMPLATES
from seedmusic.errors import UserError

if TYPE_CHECKING:
    from seedmusic.composer.lyrics_input import LyricSheet, Syllable
    from seedmusic.composer.style import ComposeStyle

logger = logging.getLogger(__name__)

TICKS_PER_BEAT = 480
FRAME_BARS = 2
"""Bars of the intro, the outro and a section without lines."""
REGISTERS: dict[str, tuple[int, int]] = {"female vocal": (62, 76), "male vocal": (52, 64)}
"""Lowest and highest MIDI pitch of the melody per voice."""
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)
MAJOR_CHORDS: tuple[tuple[int, str], ...] = ((0, "maj"), (5, "maj"), (7, "maj"), (9, "min"))
MINOR_CHORDS: tuple[tuple[int, str], ...] = ((0, "min"), (5, "min"), (7, "maj"), (8, "maj"))
MAX_LEAP = 5
"""A fourth, in semitones."""


def rule_song(
    sheet: LyricSheet,
    style: ComposeStyle,
    seed: int,
    default_tempo: float = 100.0,
    default_key: str = "C major",
    default_meter: tuple[int, int] = (4, 4),
    default_voice: str = "female vocal",
) -> Score:
    """The rule baseline's song for `sheet` (a `LyricSheet`) in `style` (a `ComposeStyle`).

    Raises:
        UserError: no accompaniment style has a groove for the meter, or MMA is missing.
    """
    from seedmusic.data.accompaniment import accompany

    score = rule_leadsheet(
        sheet, style, seed, default_tempo, default_key, default_meter, default_voice
    )
    groove = accompaniment_style(style.genre, score.time_signatures[0])
    logger.debug("rule baseline: accompanying in style %s", groove)
    return accompany(score, groove, seed)


def accompaniment_style(genre: str | None, signature: TimeSignature) -> str:
    """`genre` when it has a groove for `signature`, else the first style that does.

    Raises:
        UserError: no style has a groove for the meter.
    """
    from seedmusic.data.accompaniment import styles_for

    styles = styles_for(signature)
    if not styles:
        raise UserError(f"no accompaniment style for {signature.numerator}/{signature.denominator}")
    return genre if genre in styles else styles[0]


def rule_leadsheet(
    sheet: LyricSheet,
    style: ComposeStyle,
    seed: int,
    default_tempo: float = 100.0,
    default_key: str = "C major",
    default_meter: tuple[int, int] = (4, 4),
    default_voice: str = "female vocal",
) -> Score:
    """The rule baseline's melody, lyrics, sections and chords, without accompaniment."""
    rng = np.random.default_rng(seed)
    numerator, denominator = style.meter or default_meter
    tonic, mode = parse_key(style.key or default_key)
    voice = style.voice or default_voice
    if voice not in REGISTERS:
        raise UserError(f"unknown voice {voice!r}; choose one of {', '.join(REGISTERS)}")
    score = Score(
        ticks_per_beat=TICKS_PER_BEAT,
        tempos=[TempoChange(0, float(style.tempo or default_tempo))],
        time_signatures=[TimeSignature(0, numerator, denominator)],
        key=key_name(tonic, mode),
    )
    bar = score.bar_length(score.time_signatures[0])
    beat = beat_ticks(numerator, denominator, TICKS_PER_BEAT)
    timed = _timeline(sheet, bar, beat)
    bars = timed.end // bar
    score.sections = timed.sections
    score.chords = _chord_chart(rng, bars, bar, tonic, mode)
    walker = _Walker(rng, tonic, mode, REGISTERS[voice])
    for tick, syllable in timed.notes:
        chord = score.chords[tick // bar]
        strong = is_strong(tick % bar, numerator, denominator, TICKS_PER_BEAT)
        pitch = walker.next(chord if strong else None)
        note = Note(tick, beat, pitch, lyric=syllable.text, phonemes=tuple(syllable.phonemes))
        score.tracks["vocal"].notes.append(note)
    score.end_tick = timed.end
    return score.sort().validate()


class _Timeline:
    """Where the sections start and where each syllable is sung."""

    def __init__(self) -> None:
        self.sections: list[Section] = []
        self.notes: list[tuple[int, Syllable]] = []
        self.end = 0


def _timeline(sheet: LyricSheet, bar: int, beat: int) -> _Timeline:
    """Intro, the sections line by line (each line from a bar line, one beat a syllable), outro."""
    timed = _Timeline()
    timed.sections.append(Section(0, "intro"))
    timed.end = FRAME_BARS * bar
    for section in sheet.sections:
        timed.sections.append(Section(timed.end, section.label))
        lines = [line for line in section.lines if len(line)]
        if not lines:
            timed.end += FRAME_BARS * bar
        for line in lines:
            for index, syllable in enumerate(line):
                timed.notes.append((timed.end + index * beat, syllable))
            timed.end += -(-len(line) * beat // bar) * bar  # rest to the next bar line
    timed.sections.append(Section(timed.end, "outro"))
    timed.end += FRAME_BARS * bar
    return timed


def _chord_chart(
    rng: np.random.Generator, bars: int, bar: int, tonic: int, mode: str
) -> list[Chord]:
    """One diatonic chord per bar, random, the first and the last on the tonic chord."""
    palette = MAJOR_CHORDS if mode == "major" else MINOR_CHORDS
    picks = rng.integers(0, len(palette), size=bars)
    picks[0] = picks[-1] = 0
    return [
        Chord(i * bar, bar, (tonic + palette[p][0]) % 12, palette[p][1])
        for i, p in enumerate(picks.tolist())
    ]


class _Walker:
    """The melody's random walk over the scale inside a register."""

    def __init__(
        self, rng: np.random.Generator, tonic: int, mode: str, register: tuple[int, int]
    ) -> None:
        scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
        low, high = register
        self.rng = rng
        self.scale = [p for p in range(low, high + 1) if (p - tonic) % 12 in scale]
        centre = (low + high) / 2
        tonics = [p for p in range(low, high + 1) if (p - tonic) % 12 == 0]
        self.pitch = min(tonics or self.scale, key=lambda p: abs(p - centre))
        self.first = True

    def next(self, chord: Chord | None) -> int:
        """The next pitch: a chord tone when `chord` is given, else a scale step or leap."""
        if self.first:
            self.first = False
            if chord is None or self.pitch % 12 in _tones(chord):
                return self.pitch
        if chord is not None:
            self.pitch = self._chord_tone(_tones(chord))
        else:
            self.pitch = self._step()
        return self.pitch

    def _step(self) -> int:
        moves = [p for p in self.scale if 0 < abs(p - self.pitch) <= MAX_LEAP]
        weights = np.asarray([3.0 if abs(p - self.pitch) <= 2 else 1.0 for p in moves])
        return int(moves[self.rng.choice(len(moves), p=weights / weights.sum())])

    def _chord_tone(self, tones: frozenset[int]) -> int:
        register = range(self.scale[0], self.scale[-1] + 1)
        near = [p for p in register if p % 12 in tones and abs(p - self.pitch) <= MAX_LEAP]
        if near:
            return int(near[self.rng.integers(len(near))])
        candidates = [p for p in register if p % 12 in tones]
        return min(candidates, key=lambda p: abs(p - self.pitch))


def _tones(chord: Chord) -> frozenset[int]:
    assert chord.root is not None
    return frozenset((chord.root + step) % 12 for step in TEMPLATES[chord.quality])
