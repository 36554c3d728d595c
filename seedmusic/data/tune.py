"""A source work as a `Tune`: its melody (with lyrics), harmony, meter, key and form, in ticks.

`read_tune(work)`:
1. parses the work with music21 and picks the melody part (the one named Soprano, else the
   top part);
2. expands repeats (music21's `expandRepeats`), so that the timeline is the one performed;
   where a note carries several verses of lyrics, the n-th pass of a measure sings verse n;
3. lays the measures end to end at their real lengths, shifted so that a pickup (anacrusis)
   ends exactly at a bar line; ties are merged; grace notes are dropped; a chord in the melody
   keeps its top note;
4. takes the harmony from the source: chord symbols where the ABC has them, else, for a
   multi-part work (a chorale), the chordified voices labelled beat by beat
   (`harmony.label_chord`); a bare melody gets no chords here (the arranger harmonises it);
5. takes the form from the repeats: the expanded timeline is cut where it jumps back or at a
   double bar, and equal stretches of measures get equal labels (verse, chorus, bridge ...).

A work that cannot become a tune (no notes, a meter change, an unsupported meter, too short)
raises `UnsupportedWorkError` with the reason.
"""

from __future__ import annotations

import itertools
import logging
from collections.abc import Iterator
from dataclasses import dataclass, field
from fractions import Fraction
from typing import Any, Literal

import numpy as np

from score_tokens.midi import key_name
from score_tokens.score import Chord, Note, Section
from seedmusic.data.harmony import label_chord
from seedmusic.data.sources import COLLECTIONS, Work, load_work

logger = logging.getLogger(__name__)

TICKS_PER_BEAT = 480
METERS: tuple[tuple[int, int], ...] = ((2, 4), (3, 4), (4, 4), (6, 8))
"""Meters the corpus keeps (2/2 is read as 4/4: the same bar)."""
FORM_LABELS: tuple[str, ...] = ("verse", "chorus", "bridge", "instrumental")
MIN_BARS = 4

CHORD_KINDS: dict[str, str] = {
    "major": "maj",
    "minor": "min",
    "diminished": "dim",
    "augmented": "aug",
    "dominant-seventh": "7",
    "major-seventh": "maj7",
    "minor-seventh": "min7",
    "half-diminished-seventh": "hdim7",
    "diminished-seventh": "dim7",
    "suspended-second": "sus2",
    "suspended-fourth": "sus4",
}


class UnsupportedWorkError(ValueError):
    """A work that the corpus cannot use (the message says why)."""


@dataclass
class Tune:
    """A melody with lyrics, harmony, meter, key and form, on a tick grid from bar 0.

    Attributes:
        title: the work's title.
        numerator, denominator: the meter.
        tonic, mode: the key (pitch class 0-11, "major" or "minor").
        melody: notes; vocal notes carry `lyric` (one syllable) when the source has lyrics.
        chords: the source's harmony (empty for a bare melody).
        sections: form sections at bar starts.
        end_tick: the end of the last bar.
        language: the lyrics' language (espeak-ng code) or None without lyrics.
    """

    title: str
    numerator: int
    denominator: int
    tonic: int
    mode: Literal["major", "minor"]
    melody: list[Note] = field(default_factory=list)
    chords: list[Chord] = field(default_factory=list)
    sections: list[Section] = field(default_factory=list)
    end_tick: int = 0
    language: str | None = None

    @property
    def bar_ticks(self) -> int:
        return TICKS_PER_BEAT * 4 * self.numerator // self.denominator

    @property
    def key(self) -> str:
        return key_name(self.tonic, self.mode)

    @property
    def has_lyrics(self) -> bool:
        return any(n.lyric for n in self.melody)


@dataclass
class _Measure:
    number: int
    passes: int  # how many times this measure number was seen before
    start: Fraction  # quarter notes from the first measure's start
    length: Fraction
    element: Any
    double_bar_after: bool


def read_tune(work: Work) -> Tune:
    """The work as a `Tune` (see the module docstring); `UnsupportedWorkError` if it cannot be one."""
    source = load_work(work)
    parts = list(source.parts) or [source]
    melody_part = _melody_part(parts)
    numerator, denominator = _meter(melody_part)
    expanded = _expand(source)
    expanded_parts = list(expanded.parts) or [expanded]
    measures = list(_measures(expanded_parts[parts.index(melody_part)]))
    if not measures:
        raise UnsupportedWorkError("no measures")
    bar = Fraction(4 * numerator, denominator)
    shift = (bar - measures[0].length) % bar  # a pickup ends at the first bar line
    tonic, mode = _key(source)
    tune = Tune(
        title=_title(source, work),
        numerator=numerator,
        denominator=denominator,
        tonic=tonic,
        mode=mode,
        language="de" if work.collection == "bach-chorales" else "en",
    )
    tune.melody = _melody_notes(measures, shift)
    if not tune.melody:
        raise UnsupportedWorkError("the melody has no notes")
    total = shift + measures[-1].start + measures[-1].length
    bar_ticks = _ticks(bar)
    tune.end_tick = -(-_ticks(total) // bar_ticks) * bar_ticks
    if tune.end_tick < MIN_BARS * bar_ticks:
        raise UnsupportedWorkError(f"shorter than {MIN_BARS} bars")
    tune.chords = _source_chords(expanded_parts, melody_part, parts, shift, tune.end_tick)
    tune.sections = _form(measures, shift, bar_ticks)
    if not tune.has_lyrics:
        tune.language = None
    return tune


def _ticks(quarters: Fraction | float) -> int:
    return round(Fraction(quarters) * TICKS_PER_BEAT)


def _melody_part(parts: list[Any]) -> Any:
    for part in parts:
        if (part.partName or "").strip().lower() in ("soprano", "melody", "voice"):
            return part
    return parts[0]


def _meter(part: Any) -> tuple[int, int]:
    from music21 import meter

    signatures = list(part.recurse().getElementsByClass(meter.TimeSignature))
    ratios = {(ts.numerator, ts.denominator) for ts in signatures}
    if not ratios:
        return 4, 4
    if len(ratios) > 1:
        raise UnsupportedWorkError(f"meter changes ({sorted(ratios)})")
    numerator, denominator = ratios.pop()
    if (numerator, denominator) == (2, 2):
        numerator, denominator = 4, 4
    if (numerator, denominator) not in METERS:
        raise UnsupportedWorkError(f"meter {numerator}/{denominator} is not one of {METERS}")
    return numerator, denominator


def _expand(source: Any) -> Any:
    try:
        return source.expandRepeats()
    except Exception as exc:  # music21 raises several types on malformed repeats
        logger.debug("repeats not expanded (%s); using the written order", exc)
        return source


def _measures(part: Any) -> Iterator[_Measure]:
    from music21 import bar as m21bar
    from music21 import stream

    seen: dict[int, int] = {}
    start = Fraction(0)
    for element in part.getElementsByClass(stream.Measure):
        length = Fraction(element.duration.quarterLength)
        right = element.rightBarline
        double = isinstance(right, m21bar.Barline) and right.type in (
            "double",
            "final",
            "light-heavy",
        )
        number = int(element.number)
        yield _Measure(number, seen.get(number, 0), start, length, element, double)
        seen[number] = seen.get(number, 0) + 1
        start += length


def _melody_notes(measures: list[_Measure], shift: Fraction) -> list[Note]:
    notes: list[Note] = []
    tied = False
    for measure in measures:
        for element in measure.element.recurse().notes:
            if element.duration.isGrace or element.duration.quarterLength == 0:
                continue
            pitches = [p.midi for p in getattr(element, "pitches", [])]
            if not pitches:
                continue
            onset = shift + measure.start + Fraction(element.getOffsetInHierarchy(measure.element))
            tick, duration = _ticks(onset), _ticks(element.duration.quarterLength)
            if duration <= 0:
                continue
            pitch = max(pitches)
            if tied and notes and notes[-1].pitch == pitch and notes[-1].end == tick:
                notes[-1].duration += duration
            else:
                notes.append(Note(tick, duration, pitch, 96, lyric=_lyric(element, measure.passes)))
            tie = element.tie
            tied = tie is not None and tie.type in ("start", "continue")
    return _without_overlaps(notes)


def _without_overlaps(notes: list[Note]) -> list[Note]:
    notes.sort(key=lambda n: n.tick)
    kept: list[Note] = []
    for note in notes:
        if kept and note.tick < kept[-1].end:
            if note.tick == kept[-1].tick:
                continue
            kept[-1].duration = note.tick - kept[-1].tick
        kept.append(note)
    return kept


def _lyric(element: Any, passes: int) -> str | None:
    lyrics = [lyric for lyric in element.lyrics if (lyric.text or "").strip()]
    if not lyrics:
        return None
    lyrics.sort(key=lambda lyric: lyric.number)
    text = lyrics[min(passes, len(lyrics) - 1)].text.strip()
    return text.strip("-_ ") or None


def _key(source: Any) -> tuple[int, Literal["major", "minor"]]:
    from music21 import key

    found = list(source.recurse().getElementsByClass(key.Key))
    detected = found[0] if found else source.analyze("key")
    mode: Literal["major", "minor"] = "minor" if detected.mode == "minor" else "major"
    return detected.tonic.pitchClass, mode


def _title(source: Any, work: Work) -> str:
    metadata = source.metadata
    title = (metadata.title if metadata is not None else None) or ""
    if not title and work.collection == "bach-chorales":
        title = "Chorale " + work.path.stem.upper().replace("BWV", "BWV ")
    return title.strip() or f"{COLLECTIONS[work.collection].description} ({work.id})"


def _source_chords(
    expanded_parts: list[Any], melody: Any, parts: list[Any], shift: Fraction, end_tick: int
) -> list[Chord]:
    symbols = _chord_symbols(expanded_parts[parts.index(melody)], shift)
    if symbols:
        return _close(symbols, end_tick)
    if len(expanded_parts) > 1:
        return _chordified(expanded_parts, shift, end_tick)
    return []


def _chord_symbols(part: Any, shift: Fraction) -> list[Chord]:
    from music21 import harmony

    chords = []
    for symbol in part.flatten().getElementsByClass(harmony.ChordSymbol):
        if isinstance(symbol, harmony.NoChord) or symbol.root() is None:
            continue
        quality = CHORD_KINDS.get(symbol.chordKind)
        root = symbol.root().pitchClass
        if quality is None:
            weights = np.zeros(12)
            weights[[p.pitchClass for p in symbol.pitches]] = 1.0
            label = label_chord(weights, root)
            if label is None:
                continue
            root, quality = label
        chords.append(Chord(_ticks(shift + Fraction(symbol.offset)), 1, root, quality))
    return chords


def _close(chords: list[Chord], end_tick: int) -> list[Chord]:
    """Give each chord the duration up to the next one (the last up to `end_tick`)."""
    chords.sort(key=lambda c: c.tick)
    closed: list[Chord] = []
    for chord, following in zip(chords, [*chords[1:], None], strict=True):
        stop = end_tick if following is None else following.tick
        if stop <= chord.tick:
            continue
        if closed and (closed[-1].root, closed[-1].quality) == (chord.root, chord.quality):
            closed[-1].duration = stop - closed[-1].tick
            continue
        closed.append(Chord(chord.tick, stop - chord.tick, chord.root, chord.quality))
    return closed


def _chordified(parts: list[Any], shift: Fraction, end_tick: int) -> list[Chord]:
    """Label the sounding voices beat by beat (duration-weighted pitch classes, bass as hint)."""
    beat = TICKS_PER_BEAT
    num_beats = -(-end_tick // beat)
    weights = np.zeros((num_beats, 12))
    lowest = np.full(num_beats, 200)
    for part in parts:
        for element in part.flatten().notes:
            onset = _ticks(shift + Fraction(element.offset))
            stop = onset + _ticks(element.duration.quarterLength)
            for b in range(max(0, onset // beat), min(num_beats, -(-stop // beat))):
                overlap = min(stop, (b + 1) * beat) - max(onset, b * beat)
                for pitch in element.pitches:
                    weights[b, pitch.pitchClass] += overlap
                    lowest[b] = min(lowest[b], pitch.midi)
    chords = []
    for b in range(num_beats):
        label = label_chord(weights[b], int(lowest[b]) if lowest[b] < 200 else None)
        if label is not None:
            chords.append(Chord(b * beat, 1, *label))
    return _close(chords, end_tick)


def _form(measures: list[_Measure], shift: Fraction, bar_ticks: int) -> list[Section]:
    """Sections where the performed order jumps back or a double bar ends a strain."""
    segments: list[list[_Measure]] = [[measures[0]]]
    for previous, measure in itertools.pairwise(measures):
        if measure.number <= previous.number or previous.double_bar_after:
            segments.append([])
        segments[-1].append(measure)
    labels: dict[tuple[int, ...], str] = {}
    sections: list[Section] = []
    for segment in segments:
        signature = tuple(m.number for m in segment)
        if signature not in labels:
            labels[signature] = FORM_LABELS[min(len(labels), len(FORM_LABELS) - 1)]
        tick = round(_ticks(shift + segment[0].start) / bar_ticks) * bar_ticks
        if sections and sections[-1].tick >= tick:
            continue
        sections.append(Section(tick, labels[signature]))
    if sections:
        sections[0].tick = 0
    return sections
