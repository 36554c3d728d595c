"""Band accompaniment from a chord chart, arranged by MMA (Musical MIDI Accompaniment).

`accompany(score, style, seed)` writes the score's chord chart as an MMA song, runs the `mma`
program (Debian package `mma`) in a temporary folder and returns a copy of the score whose bass,
piano, guitar and drums tracks hold MMA's notes. The vocal track, the chords and everything else
are kept. Nothing here writes a pattern by hand: the patterns are the grooves of MMA's library
(/usr/share/mma/lib), chosen per corpus style in `STYLES`.

The MMA song
    `RndSeed <seed>` first (MMA draws all its humanisation — RTime, RVolume, RSkip, random
    voicings — from Python's `random`, which `RndSeed` seeds), then the groove of the first bar,
    the tempo, and one chord line per bar. A chord line lists the chord sounding at the bar start
    and every change inside the bar at its beat position (`C G@3 z@4.5`); the no-chord `N` is
    MMA's rest `z` (drums keep time) inside the chart and `z!` (silence) before its first chord
    and after its last. When the meter changes to another groove family the groove is switched.

Meters
    MMA counts a bar in "beats" (its `Time`); one MMA beat is one quarter note (192 ticks) in its
    MIDI file. Each score bar is rendered as one MMA bar, so an MMA beat stands for
    `bar length / Time` score ticks: 4/4, 2/2 and 2/4 (double time, as MMA's march grooves
    advise) use a style's "4/4" groove; 3/4, 3/8 and 9/8 its "3/4" groove; 6/8 its "6/8" groove
    (MMA writes those in 6, 3 or 2 beats); 12/8 its "12/8" groove, else its "4/4" one, with a
    dotted-quarter beat. MMA's tempo is converted to MMA beats, but the notes are re-timed by
    ticks, so the score's tempo map is never touched.

Which bars are arranged
    The bars from the one holding the first chord to the one holding the last chord end. A
    pickup (a first bar shorter than the second) and bars before the first chord stay silent —
    so MMA needs no lead-in and its bar 1 is the first arranged bar — as do bars whose meter
    the style has no groove for (logged). Notes are clipped where a run of arranged bars ends
    and at the score's end.

MMA tracks -> our tracks (`mma_track_for`)
    MMA names each MIDI track after the first groove track on its channel (`Bass`, `Walk`,
    `Chord-Piano`, `Arpeggio`, `Bass-Sax`, `Plectrum` …; converted Yamaha/Casio grooves use
    `Bass-9`, `Chord-7` …). Rules, first match wins:

    1. MIDI channel 10 -> drums (MMA puts every `Drum-*` track there);
    2. a groove's main bass line, a track named exactly `Bass` or `Walk` -> bass, whatever
       instrument plays it (bossa nova's is a nylon guitar);
    3. by GM program (`score_tokens.midi.track_for_instrument` with the name left out, so a
       `Bass-Sax` riff is not taken for the bass line): 32-39 basses, 43 contrabass and 58 tuba
       -> bass; 24-31 guitars and 104-107 (sitar, banjo, shamisen, koto) -> guitar; everything
       else — pianos, organs, strings, brass, reeds, pads, choir — -> piano (never vocal: the
       vocal track is the melody's).

    Each of our tracks takes the GM program that plays most of its notes. Notes of two MMA
    tracks that land on the same tick and pitch are merged into one.
"""

from __future__ import annotations

import io
import logging
import os
import re
import shutil
import subprocess
import tempfile
from bisect import bisect_right
from collections import Counter, defaultdict
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Literal

import mido

from score_tokens.midi import track_for_instrument
from score_tokens.score import (
    DEFAULT_PROGRAMS,
    PITCH_CLASS_NAMES,
    Chord,
    Note,
    Score,
    TimeSignature,
    Track,
)
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

Meter = Literal["4/4", "3/4", "6/8", "12/8"]
"""A groove family: the meters a groove is written for (see the module docstring)."""

ACCOMPANIMENT_TRACKS: tuple[str, ...] = ("bass", "piano", "guitar", "drums")
"""The tracks that `accompany` fills; the vocal track is never touched."""

MMA_TIMEOUT_SECONDS = 600.0
_SONG_FILE = "song.mma"
_MIDI_FILE = "song.mid"
_DRUM_CHANNEL = 9
_MMA_MAX_BARS = 500  # mma's default `-m`

_MMA_QUALITIES: dict[str, str] = {
    "maj": "",
    "min": "m",
    "dim": "mb5",  # MMA's `dim` is a dim7
    "aug": "aug",
    "sus2": "sus2",
    "sus4": "sus4",
    "7": "7",
    "maj7": "M7",
    "min7": "m7",
    "hdim7": "m7b5",
    "dim7": "dim7",
}

_METERS: dict[tuple[int, int], Meter] = {
    (4, 4): "4/4",
    (2, 2): "4/4",
    (2, 4): "4/4",
    (4, 2): "4/4",
    (3, 4): "3/4",
    (3, 8): "3/4",
    (3, 2): "3/4",
    (9, 8): "3/4",
    (6, 8): "6/8",
    (12, 8): "12/8",
}

_BASS_PROGRAMS = frozenset({43, 58})  # contrabass, tuba (32-39 come from track_for_instrument)
_GUITAR_PROGRAMS = frozenset({104, 105, 106, 107})  # sitar, banjo, shamisen, koto


# ---------------------------------------------------------------------------------- styles


@dataclass(frozen=True, slots=True)
class Groove:
    """One MMA groove as used for a style.

    Attributes:
        name: the groove's name in MMA's library (case-insensitive).
        beats: MMA beats per bar (the groove's `Time`); an MMA beat spans `bar / beats` ticks.
        library: the library folder under /usr/share/mma/lib that defines it (documentation).
        missing: our tracks that the groove leaves empty.
        directives: MMA lines applied right after the groove is selected.
    """

    name: str
    beats: int
    library: str = "stdlib"
    missing: tuple[str, ...] = ()
    directives: tuple[str, ...] = ()


@dataclass(frozen=True, slots=True)
class Style:
    """A corpus style: one MMA groove per meter it supports."""

    name: str
    description: str
    grooves: dict[Meter, Groove]

    def groove_for(self, meter: Meter) -> Groove | None:
        """The groove for `meter`; 12/8 falls back to the 4/4 groove. None if unsupported."""
        if meter in self.grooves:
            return self.grooves[meter]
        if meter == "12/8":
            return self.grooves.get("4/4")
        return None


_NO_GUITAR = ("guitar",)
_NO_GUITAR_NO_DRUMS = ("guitar", "drums")

STYLE_DESCRIPTIONS: dict[str, str] = {
    "pop": "8-beat pop band; a pop waltz in 3/4",
    "rock": "clean and distorted rock guitars; a string pad on the piano track",
    "folk": "strummed acoustic guitar, piano arpeggios, light drums",
    "ballad": "slow pop ballad: piano and pads, a guitar arpeggio",
    "waltz": "a waltz (3/4 only)",
    "march": "Dixieland march (2/4 pieces play it in double time); a 6/8 march in 2",
    "swing": "swing band; a jazz waltz in 3/4",
    "country": "country swing and waltz; fiddle or flute fills ride on the piano track",
    "bossa": "bossa nova guitar and bass; a voice pad on the piano track",
    "latin": "samba; a latin waltz in 3/4; afro-cuban 6/8",
    "blues": "blues band: guitar, piano, sax, bass",
    "hymn": "chorale/hymn: organ chords and organ bass (in 3/4 a waltz without drums)",
}

# style, meter, groove (name, MMA beats per bar, library, tracks it leaves empty, directives)
_GROOVE_TABLE: tuple[tuple[str, Meter, Groove], ...] = (
    ("pop", "4/4", Groove("8Beat", 4)),
    ("pop", "3/4", Groove("PopWaltz", 3, "casio")),
    ("pop", "6/8", Groove("68Ballad", 6, "casio", _NO_GUITAR)),
    ("rock", "4/4", Groove("BasicRockSus", 4)),
    ("rock", "3/4", Groove("RockWaltzSus", 3)),
    ("rock", "6/8", Groove("Blues68Plus", 6)),
    ("rock", "12/8", Groove("Blues128Plus", 4)),
    ("folk", "4/4", Groove("FolkRockPlus", 4)),
    ("folk", "3/4", Groove("CountryWaltz1", 3)),
    ("folk", "6/8", Groove("68March", 2, missing=_NO_GUITAR)),
    ("ballad", "4/4", Groove("PopBalladPlus", 4)),
    ("ballad", "3/4", Groove("WaltzSus", 3, missing=_NO_GUITAR)),
    ("ballad", "6/8", Groove("Blues68Plus", 6)),
    ("ballad", "12/8", Groove("Ballad128Plus", 4, missing=_NO_GUITAR)),
    ("waltz", "3/4", Groove("PopWaltz", 3, "casio")),
    ("march", "4/4", Groove("DixieMarch", 4)),
    ("march", "6/8", Groove("68March", 2, missing=_NO_GUITAR)),
    ("swing", "4/4", Groove("Swing", 4)),
    ("swing", "3/4", Groove("JazzWaltz", 3)),
    ("swing", "6/8", Groove("68SwingPlus", 6)),
    ("country", "4/4", Groove("CountrySwing1", 4)),
    ("country", "3/4", Groove("CountryWaltz1", 3)),
    ("bossa", "4/4", Groove("BossaNovaSus", 4)),
    ("latin", "4/4", Groove("Samba", 4)),
    ("latin", "3/4", Groove("LatinWaltzPlus", 3)),
    ("latin", "6/8", Groove("Afro-Cuban", 3, missing=_NO_GUITAR)),
    ("blues", "4/4", Groove("FastBlues", 4)),
    ("blues", "6/8", Groove("Blues68Plus", 6)),
    ("blues", "12/8", Groove("Blues128Plus", 4)),
    ("hymn", "4/4", Groove("Hymn", 4, missing=_NO_GUITAR_NO_DRUMS)),
    ("hymn", "3/4", Groove("WaltzSus", 3, "stdlib", _NO_GUITAR_NO_DRUMS, ("AllTracks Drum Off",))),
)


def _build_styles() -> dict[str, Style]:
    grooves: dict[str, dict[Meter, Groove]] = defaultdict(dict)
    for style, meter, groove in _GROOVE_TABLE:
        grooves[style][meter] = groove
    return {
        name: Style(name, description, grooves[name])
        for name, description in STYLE_DESCRIPTIONS.items()
    }


STYLES: dict[str, Style] = _build_styles()
"""Corpus styles -> MMA grooves per meter (each one is rendered by the tests)."""


def get_style(name: str) -> Style:
    """The style called `name`; `UserError` for an unknown one."""
    style = STYLES.get(name)
    if style is None:
        raise UserError(f"unknown accompaniment style {name!r}; choose one of {', '.join(STYLES)}")
    return style


def meter_of(signature: TimeSignature) -> Meter | None:
    """The groove family of a time signature, or None where MMA has no grooves for it."""
    return _METERS.get((signature.numerator, signature.denominator))


def styles_for(signature: TimeSignature) -> list[str]:
    """The styles that can arrange bars in `signature`."""
    meter = meter_of(signature)
    if meter is None:
        return []
    return [name for name, style in STYLES.items() if style.groove_for(meter) is not None]


def mma_binary() -> str:
    """Path of the `mma` program; `UserError` if it is not installed."""
    binary = shutil.which("mma")
    if binary is None:
        raise UserError("the `mma` program is not installed (Debian/Ubuntu: apt-get install mma)")
    return binary


# ---------------------------------------------------------------------------------- chart


@dataclass(frozen=True, slots=True)
class ArrangedBar:
    """One score bar rendered as one MMA bar.

    Attributes:
        index: the bar's index in the score (0 = the bar at tick 0).
        start: the bar's first tick in the score.
        length: the bar's length in score ticks.
        groove: the groove that plays it.
        chords: the MMA chord line, e.g. `C G@3` or `z! F@2.5`.
    """

    index: int
    start: int
    length: int
    groove: Groove
    chords: str


def plan_bars(score: Score, style: Style) -> list[ArrangedBar]:
    """The bars to arrange, with their grooves and MMA chord lines (see the module docstring).

    Raises:
        UserError: the score has no chords, or no chord bar is in a meter the style supports.
    """
    chords = sorted((c for c in score.chords if c.root is not None), key=lambda c: c.tick)
    if not chords:
        raise UserError("the score has no chords to accompany")
    first = chords[0].tick
    last = max(c.tick + c.duration for c in chords)
    starts = score.bar_starts()
    lengths = [score.bar_length(score.signature_at(tick)) for tick in starts]
    bars: list[ArrangedBar] = []
    unsupported: set[str] = set()
    for index, (start, length) in enumerate(zip(starts, lengths, strict=True)):
        if start + length <= first or start >= last:
            continue
        if index == 0 and len(lengths) > 1 and length < lengths[1]:
            logger.debug("bar 0 is a pickup (%d < %d ticks): left silent", length, lengths[1])
            continue
        signature = score.signature_at(start)
        meter = meter_of(signature)
        groove = style.groove_for(meter) if meter is not None else None
        if groove is None:
            unsupported.add(f"{signature.numerator}/{signature.denominator}")
            continue
        line = chord_line(chords, start, length, groove.beats, (first, last))
        bars.append(ArrangedBar(index, start, length, groove, line))
    if unsupported:
        logger.info(
            "style %s has no groove for %s: those bars stay silent", style.name, unsupported
        )
    if not bars:
        meters = ", ".join(sorted(unsupported)) or "its meter"
        raise UserError(
            f"style {style.name!r} has no groove for {meters} "
            f"(it supports {', '.join(style.grooves)})"
        )
    return bars


def chord_line(
    chords: list[Chord], start: int, length: int, beats: int, span: tuple[int, int]
) -> str:
    """The MMA chord line of the bar [start, start + length) that MMA plays in `beats` beats.

    `chords` are the real chords (no N) sorted by tick; `span` is (first chord tick, last chord
    end): no chord inside it is `z`, outside it `z!`.
    """
    end = start + length
    boundaries = {start}
    for chord in chords:
        boundaries.update(t for t in (chord.tick, chord.tick + chord.duration) if start < t < end)
    tokens: list[tuple[str, str]] = []  # (position text, symbol)
    previous = None
    for tick in sorted(boundaries):
        symbol = _symbol_at(chords, tick, span)
        if symbol == previous:
            continue
        previous = symbol
        position = _beat_position(tick - start, length, beats)
        if position is None:
            continue
        if tokens and tokens[-1][0] == position:
            tokens.pop()  # two changes closer than the resolution: the later one wins
        tokens.append((position, symbol))
    return " ".join(symbol if pos == "1" else f"{symbol}@{pos}" for pos, symbol in tokens)


def _symbol_at(chords: list[Chord], tick: int, span: tuple[int, int]) -> str:
    """The MMA name of the chord sounding at `tick` (the latest one started), or a rest."""
    sounding = [c for c in chords if c.tick <= tick < c.tick + c.duration]
    if sounding:
        chord = sounding[-1]
        assert chord.root is not None
        return PITCH_CLASS_NAMES[chord.root] + _MMA_QUALITIES[chord.quality]
    return "z" if span[0] <= tick < span[1] else "z!"


def _beat_position(offset: int, length: int, beats: int) -> str | None:
    """MMA's 1-based beat position of `offset` ticks into a bar of `length` ticks.

    Written with up to three decimals; None where that rounds onto the bar's end.
    """
    position = round(1 + Fraction(offset * beats, length), 3)
    if position >= beats + 1:
        return None
    if position.denominator == 1:
        return str(position.numerator)
    return f"{float(position):.3f}".rstrip("0")


def mma_song(score: Score, bars: list[ArrangedBar], seed: int) -> str:
    """The MMA source that arranges `bars` of `score` with random seed `seed`."""
    lines = [
        "// seedmusic accompaniment: written by seedmusic.data.accompaniment",
        f"RndSeed {seed}",
    ]
    groove: Groove | None = None
    tempo: str | None = None
    following = None
    for bar in bars:
        if following is not None and bar.index != following:
            lines.append(f"// bars {following + 1}-{bar.index} are left out")
        if bar.groove != groove:
            if groove is not None:
                lines.append("AllTracks On")
            lines.append(f"Groove {bar.groove.name}")
            lines.extend(bar.groove.directives)
            groove = bar.groove
        bar_tempo = _mma_tempo(score, bar)
        if bar_tempo != tempo:
            lines.append(f"Tempo {bar_tempo}")
            tempo = bar_tempo
        lines.append(f"{bar.index + 1} {bar.chords}")
        following = bar.index + 1
    return "\n".join(lines) + "\n"


def _mma_tempo(score: Score, bar: ArrangedBar) -> str:
    """The score's tempo at the bar start, in MMA beats per minute (two decimals)."""
    bpm = next(t.bpm for t in sorted(score.tempos, key=lambda t: -t.tick) if t.tick <= bar.start)
    beat_ticks = Fraction(bar.length, bar.groove.beats)
    return f"{float(bpm * score.ticks_per_beat / beat_ticks):.2f}".rstrip("0").rstrip(".")


# ---------------------------------------------------------------------------------- running


def run_mma(song: str, bars: int = 0) -> bytes:
    """Run `mma` on the source `song` in a temporary folder and return the MIDI file's bytes.

    `bars` raises MMA's limit on the number of bars (500 by default) where needed.

    `PYTHONHASHSEED` is fixed for the child so that nothing in it depends on hash order.

    Raises:
        UserError: `mma` is not installed.
        RuntimeError: `mma` failed (with MMA's error message) or wrote no MIDI file.
    """
    binary = mma_binary()
    env = {**os.environ, "PYTHONHASHSEED": "0"}
    with tempfile.TemporaryDirectory(prefix="seedmusic-mma-") as folder:
        workdir = Path(folder)
        (workdir / _SONG_FILE).write_text(song, encoding="utf-8")
        command = [binary, "-m", str(max(_MMA_MAX_BARS, bars + 1)), "-f", _MIDI_FILE, _SONG_FILE]
        try:
            result = subprocess.run(
                command,
                cwd=workdir,
                env=env,
                capture_output=True,
                text=True,
                timeout=MMA_TIMEOUT_SECONDS,
                check=False,
            )
        except subprocess.TimeoutExpired:
            raise RuntimeError(f"mma ran longer than {MMA_TIMEOUT_SECONDS:.0f} s") from None
        output = (result.stdout + result.stderr).strip()
        logger.debug("mma output: %s", output)
        midi = workdir / _MIDI_FILE
        if result.returncode != 0 or not midi.is_file():
            raise RuntimeError(f"mma failed (exit {result.returncode}): {_mma_error(output)}")
        return midi.read_bytes()


def _mma_error(output: str) -> str:
    """MMA's error message on one line (from `Error:` on), else its last output line."""
    index = output.find("Error:")
    text = output[index:] if index >= 0 else (output.splitlines() or ["no output"])[-1]
    return re.sub(r"\s+", " ", text).strip()


# ---------------------------------------------------------------------------------- reading


@dataclass(frozen=True, slots=True)
class MmaNote:
    """A note of MMA's MIDI file, in MMA ticks, with the track that played it."""

    tick: int
    end: int
    pitch: int
    velocity: int
    track: str
    program: int
    channel: int


def read_mma_notes(data: bytes) -> tuple[int, list[MmaNote]]:
    """(ticks per quarter, notes) of an MMA MIDI file, each note with its track and program."""
    midi = mido.MidiFile(file=io.BytesIO(data))
    notes: list[MmaNote] = []
    for track in midi.tracks:
        notes.extend(_track_notes(track))
    return int(midi.ticks_per_beat), notes


def _track_notes(track: mido.MidiTrack) -> list[MmaNote]:
    """Pair note-ons with note-offs (first in, first out per channel and pitch)."""
    name = ""
    programs: dict[int, int] = defaultdict(int)
    sounding: dict[tuple[int, int], list[tuple[int, int, int]]] = defaultdict(list)
    notes: list[MmaNote] = []
    now = 0
    for message in track:
        now += message.time
        if message.type == "track_name":
            name = message.name
        elif message.type == "program_change":
            programs[message.channel] = message.program
        elif message.type == "note_on" and message.velocity > 0:
            key = (message.channel, message.note)
            sounding[key].append((now, message.velocity, programs[message.channel]))
        elif message.type in ("note_on", "note_off") and sounding[(message.channel, message.note)]:
            tick, velocity, program = sounding[(message.channel, message.note)].pop(0)
            notes.append(MmaNote(tick, now, message.note, velocity, name, program, message.channel))
    return notes


def mma_track_for(name: str, program: int, is_drum: bool) -> str:
    """Which of our tracks an MMA track feeds (rules in the module docstring)."""
    if is_drum:
        return "drums"
    if name.strip().lower() in ("bass", "walk"):
        return "bass"
    if program in _BASS_PROGRAMS:
        return "bass"
    if program in _GUITAR_PROGRAMS:
        return "guitar"
    track = track_for_instrument("", program, False)
    return "piano" if track == "vocal" else track


# ---------------------------------------------------------------------------------- re-timing


class _Retimer:
    """Maps MMA ticks onto score ticks, bar by bar (one MMA bar per arranged score bar)."""

    def __init__(self, bars: list[ArrangedBar], mma_ticks_per_beat: int) -> None:
        self._bars = bars
        self._mma_starts: list[int] = []
        self._run_ends: list[int] = []
        tick = 0
        for bar in bars:
            self._mma_starts.append(tick)
            tick += bar.groove.beats * mma_ticks_per_beat
        self._mma_ticks_per_beat = mma_ticks_per_beat
        self._early = mma_ticks_per_beat // 8
        run_end = bars[-1].start + bars[-1].length
        for index in range(len(bars) - 1, -1, -1):
            bar = bars[index]
            if index + 1 < len(bars) and bars[index + 1].start != bar.start + bar.length:
                run_end = bar.start + bar.length
            self._run_ends.append(run_end)
        self._run_ends.reverse()

    def bar_index(self, mma_tick: int) -> int:
        """Index of the arranged bar that holds `mma_tick` (clamped to the first and last)."""
        return max(0, bisect_right(self._mma_starts, mma_tick) - 1)

    def onset_bar_index(self, mma_tick: int) -> int:
        """Like `bar_index`, but a note humanised to just before a bar start belongs to it."""
        return self.bar_index(mma_tick + self._early)

    def to_score(self, mma_tick: int, index: int) -> int:
        """`mma_tick` on the score grid, measured from arranged bar `index`."""
        bar = self._bars[index]
        offset = Fraction(mma_tick - self._mma_starts[index], self._mma_ticks_per_beat)
        return bar.start + round(offset * Fraction(bar.length, bar.groove.beats))

    def span(self, tick: int, end: int) -> tuple[int, int] | None:
        """A note's (onset, end) in score ticks, the end clipped where its run of bars ends.

        None for a note that starts after the run (MMA's ring-out past the last bar).
        """
        index = self.onset_bar_index(tick)
        onset = max(0, self.to_score(tick, index))
        if onset >= self._run_ends[index]:
            return None
        end_index = self.bar_index(max(tick, end - 1))
        offset = self.to_score(end, end_index)
        return onset, min(offset, self._run_ends[index])


# ---------------------------------------------------------------------------------- assembly


def arrange_midi(score: Score, style: str, seed: int) -> bytes:
    """MMA's MIDI file for the score's chord chart: byte-identical for the same inputs."""
    bars = plan_bars(score, get_style(style))
    return run_mma(mma_song(score, bars, _check_seed(seed)), len(bars))


def accompany(score: Score, style: str, seed: int) -> Score:
    """A copy of `score` whose bass, piano, guitar and drums tracks hold MMA's arrangement.

    Args:
        score: the piece, with its chord chart in `score.chords`.
        style: a key of `STYLES` (`pop`, `rock`, `folk`, `ballad`, `waltz`, …).
        seed: MMA's random seed (`RndSeed`); the same inputs give the same notes.

    Raises:
        UserError: unknown style, no `mma` program, no chords, or no bar in a meter the style
            supports.
        RuntimeError: `mma` failed (the message is MMA's).
    """
    chosen = get_style(style)
    score.validate()
    bars = plan_bars(score, chosen)
    data = run_mma(mma_song(score, bars, _check_seed(seed)), len(bars))
    mma_ticks_per_beat, mma_notes = read_mma_notes(data)
    retimer = _Retimer(bars, mma_ticks_per_beat)
    result = score.copy()
    tracks = _collect_tracks(mma_notes, retimer, _score_end(score))
    for name in ACCOMPANIMENT_TRACKS:
        previous = score.tracks.get(name)
        program = previous.program if previous is not None else DEFAULT_PROGRAMS[name]
        result.tracks[name] = tracks.get(name, Track(program))
    logger.debug(
        "arranged %d bars in style %s: %s",
        len(bars),
        style,
        {name: len(result.tracks[name].notes) for name in ACCOMPANIMENT_TRACKS},
    )
    return result.sort().validate()


def _check_seed(seed: int) -> int:
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise UserError(f"the accompaniment seed must be a non-negative integer, got {seed!r}")
    return seed


def _score_end(score: Score) -> int:
    """The score's end tick: `end_tick`, else the end of its last bar."""
    if score.end_tick is not None:
        return score.end_tick
    last = score.bar_starts()[-1]
    return last + score.bar_length(score.signature_at(last))


def _collect_tracks(notes: list[MmaNote], retimer: _Retimer, end: int) -> dict[str, Track]:
    """Our tracks from MMA's notes: re-timed, clipped at `end`, merged, programs chosen."""
    merged: dict[str, dict[tuple[int, int], Note]] = defaultdict(dict)
    programs: dict[str, Counter[int]] = defaultdict(Counter)
    for mma_note in notes:
        is_drum = mma_note.channel == _DRUM_CHANNEL
        name = mma_track_for(mma_note.track, mma_note.program, is_drum)
        span = retimer.span(mma_note.tick, mma_note.end)
        if span is None or span[0] >= end:
            continue
        onset, offset = span[0], min(span[1], end)
        note = Note(onset, max(1, offset - onset), mma_note.pitch, max(1, mma_note.velocity))
        programs[name][0 if is_drum else mma_note.program] += 1
        key = (note.tick, note.pitch)
        kept = merged[name].get(key)
        if kept is not None:
            note.duration = max(note.duration, kept.duration)
            note.velocity = max(note.velocity, kept.velocity)
        merged[name][key] = note
    return {
        name: Track(programs[name].most_common(1)[0][0], list(by_key.values()))
        for name, by_key in merged.items()
    }
