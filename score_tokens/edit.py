"""Edit operations on a `Score`: bar ranges, transposition, chords, lyrics, notes, and diff.

Every operation returns a new, validated score and leaves its input untouched. Bars are counted
from 0 as in `Score.bar_starts()`; a range is [start, stop). An event belongs to the bar holding
its onset.

This module never imports torch.
"""

from __future__ import annotations

import bisect
from collections.abc import Callable, Iterable, Sequence
from typing import TypeVar

from score_tokens.errors import ScoreError
from score_tokens.score import (
    NOTE_TRACKS,
    PITCH_CLASS_NAMES,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
)

_Timed = TypeVar("_Timed", TempoChange, TimeSignature, Section)

PITCHED_TRACKS: tuple[str, ...] = tuple(t for t in NOTE_TRACKS if t != "drums")


def bar_ticks(score: Score, start: int, stop: int) -> tuple[int, int]:
    """Tick span [first, last) of bars [start, stop); a `ScoreError` for an illegal range."""
    starts = score.bar_starts()
    if not 0 <= start < stop <= len(starts):
        raise ScoreError(f"bar range [{start}, {stop}) is outside the score's {len(starts)} bars")
    end = (
        starts[stop]
        if stop < len(starts)
        else starts[-1] + score.bar_length(score.signature_at(starts[-1]))
    )
    return starts[start], end


def select_bars(score: Score, start: int, stop: int) -> Score:
    """Bars [start, stop) as a score of their own, starting at tick 0.

    Notes and chords starting in the range are kept whole (they may sound past its end, so that
    `replace_bars(score, a, b, select_bars(score, a, b))` is the identity); the tempo, time
    signature and section in force at the range start are carried to tick 0, and `end_tick`
    closes the selection.
    """
    first, last = bar_ticks(score, start, stop)
    out = score.copy()
    out.tempos = _carry(score.tempos, first, last, lambda t, tick: TempoChange(tick, t.bpm))
    out.time_signatures = _carry(
        score.time_signatures,
        first,
        last,
        lambda t, tick: TimeSignature(tick, t.numerator, t.denominator),
    )
    out.sections = _carry(
        score.sections, first, last, lambda s, tick: Section(tick, s.label), required=False
    )
    out.chords = [
        Chord(c.tick - first, c.duration, c.root, c.quality)
        for c in score.chords
        if first <= c.tick < last
    ]
    for name, track in out.tracks.items():
        track.notes = [
            Note(n.tick - first, n.duration, n.pitch, n.velocity, n.lyric, n.phonemes)
            for n in score.tracks[name].notes
            if first <= n.tick < last
        ]
    out.end_tick = last - first
    return out.sort().validate()


def replace_bars(score: Score, start: int, stop: int, part: Score) -> Score:
    """Replace the notes, chords, lyrics and sections of bars [start, stop) by those of `part`.

    `part` must span exactly as many ticks as the range (e.g. from `select_bars` of the same
    meter); the tempo map and time signatures of `score` stay. Events starting before the range
    are kept whole, so replacing bars by their own selection changes nothing.
    """
    first, last = bar_ticks(score, start, stop)
    part_starts = part.bar_starts()
    part_end = part_starts[-1] + part.bar_length(part.signature_at(part_starts[-1]))
    part_end = part.end_tick if part.end_tick is not None else part_end
    if part_end != last - first or part.ticks_per_beat != score.ticks_per_beat:
        raise ScoreError(
            f"the replacement spans {part_end} ticks but bars [{start}, {stop}) span {last - first}"
        )
    out = score.copy()
    out.chords = [c for c in out.chords if not first <= c.tick < last]
    out.chords += [Chord(c.tick + first, c.duration, c.root, c.quality) for c in part.chords]
    out.sections = [s for s in out.sections if not first <= s.tick < last]
    in_force = [s.label for s in sorted(out.sections, key=lambda s: s.tick) if s.tick < first]
    out.sections += [
        Section(s.tick + first, s.label)
        for s in part.sections
        if not (s.tick == 0 and in_force and in_force[-1] == s.label)  # carried by select_bars
    ]
    for name, track in out.tracks.items():
        kept = [n for n in track.notes if not first <= n.tick < last]
        added = [
            Note(n.tick + first, n.duration, n.pitch, n.velocity, n.lyric, n.phonemes)
            for n in (part.tracks[name].notes if name in part.tracks else [])
        ]
        track.notes = kept + added
    return out.sort().validate()


def transpose(score: Score, semitones: int, tracks: Iterable[str] = PITCHED_TRACKS) -> Score:
    """Shift the pitches of `tracks` by `semitones`; the drum track is never changed.

    When every pitched track moves, chords and the key move with them.
    """
    chosen = set(tracks)
    unknown = chosen - set(NOTE_TRACKS)
    if unknown:
        raise ScoreError(f"unknown track(s) {sorted(unknown)}; tracks are {list(NOTE_TRACKS)}")
    out = score.copy()
    for name in chosen - {"drums"}:
        for note in out.tracks[name].notes:
            note.pitch += semitones
            if not 0 <= note.pitch <= 127:
                raise ScoreError(f"transposing {name} by {semitones} puts a note outside 0..127")
    if set(PITCHED_TRACKS) <= chosen:
        for chord in out.chords:
            if chord.root is not None:
                chord.root = (chord.root + semitones) % 12
        out.key = _transpose_key(out.key, semitones)
    return out.validate()


def parse_chord_label(label: str) -> tuple[int | None, str]:
    """ "Bb:min7" -> (10, "min7"); "N" -> (None, "maj"); a `ScoreError` otherwise."""
    if label == "N":
        return None, "maj"
    root_name, _, quality = label.partition(":")
    aliases = {"Db": "C#", "D#": "Eb", "Gb": "F#", "G#": "Ab", "A#": "Bb"}
    root_name = aliases.get(root_name, root_name)
    if root_name not in PITCH_CLASS_NAMES:
        raise ScoreError(f"chord {label!r}: unknown root {root_name!r}")
    return PITCH_CLASS_NAMES.index(root_name), quality or "maj"


def set_chord(score: Score, bar: int, beat: float, label: str) -> Score:
    """Put chord `label` (e.g. "A:min", "N") at `beat` (quarter notes) of `bar`.

    The new chord lasts until the next chord starts, or to the end of the chord it splits, or to
    the end of the bar; a chord sounding at that point is cut there.
    """
    first, last = bar_ticks(score, bar, bar + 1)
    tick = first + round(beat * score.ticks_per_beat)
    if not first <= tick < last:
        raise ScoreError(f"beat {beat} is outside bar {bar}")
    root, quality = parse_chord_label(label)
    out = score.copy()
    covering = [c for c in out.chords if c.tick <= tick < c.tick + c.duration]
    later = [c.tick for c in out.chords if c.tick > tick]
    end = covering[0].tick + covering[0].duration if covering else last
    end = min([end, *later])
    out.chords = [_cut_chord(c, tick) for c in out.chords if c.tick != tick]
    out.chords.append(Chord(tick, end - tick, root, quality))
    return out.sort().validate()


def split_chords(score: Score, ticks: Iterable[int]) -> Score:
    """`score` with each chord sounding across one of `ticks` cut in two there (same label)."""
    out = score.copy()
    for tick in sorted(set(ticks)):
        pieces = []
        for chord in out.chords:
            if chord.tick < tick < chord.tick + chord.duration:
                end = chord.tick + chord.duration
                pieces.append(Chord(tick, end - tick, chord.root, chord.quality))
                _cut_chord(chord, tick)
        out.chords += pieces
    return out.sort().validate()


def set_lyric(score: Score, note: int, text: str | None, phonemes: Sequence[str] = ()) -> Score:
    """Set the syllable (None: a melisma) and phonemes of the `note`-th vocal note (time order)."""
    out = score.copy().sort()
    notes = out.tracks["vocal"].notes
    if not 0 <= note < len(notes):
        raise ScoreError(f"there is no vocal note {note} (the score has {len(notes)})")
    notes[note].lyric = text
    notes[note].phonemes = tuple(phonemes)
    return out.validate()


def change_notes(
    score: Score, track: str, start_tick: int, stop_tick: int, notes: Iterable[Note]
) -> Score:
    """Replace the notes of `track` starting in [start_tick, stop_tick) by `notes`."""
    if track not in NOTE_TRACKS:
        raise ScoreError(f"unknown track {track!r}; tracks are {list(NOTE_TRACKS)}")
    out = score.copy()
    kept = [n for n in out.tracks[track].notes if not start_tick <= n.tick < stop_tick]
    out.tracks[track].notes = kept + [
        Note(n.tick, n.duration, n.pitch, n.velocity, n.lyric, tuple(n.phonemes)) for n in notes
    ]
    return out.sort().validate()


def diff(a: Score, b: Score) -> list[tuple[int, int]]:
    """Bar ranges [start, stop) whose content differs between `a` and `b`, merged and sorted."""
    bars_a, bars_b = _bar_contents(a), _bar_contents(b)
    count = max(len(bars_a), len(bars_b))
    changed = [
        i for i in range(count) if i >= len(bars_a) or i >= len(bars_b) or bars_a[i] != bars_b[i]
    ]
    ranges: list[tuple[int, int]] = []
    for index in changed:
        if ranges and ranges[-1][1] == index:
            ranges[-1] = (ranges[-1][0], index + 1)
        else:
            ranges.append((index, index + 1))
    return ranges


# ---------------------------------------------------------------------- helpers


def _bar_contents(score: Score) -> list[list[tuple[object, ...]]]:
    """Per bar: its start, length and every event (times in beats from the bar start); a chord
    appears in each bar it sounds in, with the part of it heard there, so a chord cut short at a
    bar line leaves the bar before unchanged (and a chord held is the same as the same chord
    struck again: chord labels are what the score says is heard, the notes play it)."""
    starts = score.bar_starts()
    tpb = score.ticks_per_beat
    ends = [start + score.bar_length(score.signature_at(start)) for start in starts]
    bars: list[list[tuple[object, ...]]] = [
        [("bar", start / tpb, (end - start) / tpb)] for start, end in zip(starts, ends, strict=True)
    ]

    def add(tick: int, item: tuple[object, ...]) -> None:
        index = max(bisect.bisect_right(starts, tick) - 1, 0)
        bars[index].append(((tick - starts[index]) / tpb, *item))

    for tempo in score.tempos:
        add(tempo.tick, ("tempo", tempo.bpm))
    for section in score.sections:
        add(section.tick, ("section", section.label))
    for chord in _merged_chords(score.chords):  # heard in every bar it sounds in
        chord_end = chord.tick + chord.duration
        first = max(bisect.bisect_right(starts, chord.tick) - 1, 0)
        for index in range(first, len(starts)):
            if index > first and starts[index] >= chord_end:
                break
            start = max(chord.tick, starts[index])
            heard = min(chord_end, max(ends[index], start)) - start  # past the last bar: 0
            add(start, ("chord", heard / tpb, chord.root, chord.quality))
    for name, track in score.tracks.items():
        for n in track.notes:
            add(
                n.tick,
                (name, track.program, n.duration / tpb, n.pitch, n.velocity, n.lyric, n.phonemes),
            )
    return [sorted(bar, key=repr) for bar in bars]


def _carry(
    items: Sequence[_Timed],
    first: int,
    last: int,
    make: Callable[[_Timed, int], _Timed],
    required: bool = True,
) -> list[_Timed]:
    """Items of a time-ordered list inside [first, last), shifted, with the one in force at `first`."""
    ordered = sorted(items, key=lambda item: item.tick)
    before = [item for item in ordered if item.tick <= first]
    inside: list[_Timed] = [
        make(item, item.tick - first) for item in ordered if first < item.tick < last
    ]
    if not before and not required:
        return inside
    result: list[_Timed] = [make(before[-1] if before else ordered[0], 0)]
    result.extend(inside)
    return result


def _merged_chords(chords: Sequence[Chord]) -> list[Chord]:
    """The chords in time order, each run of one label whose chords meet merged into one."""
    merged: list[Chord] = []
    for chord in sorted(chords, key=lambda c: c.tick):
        last = merged[-1] if merged else None
        if (
            last is not None
            and last.tick + last.duration == chord.tick
            and (last.root, last.quality) == (chord.root, chord.quality)
        ):
            merged[-1] = Chord(last.tick, last.duration + chord.duration, last.root, last.quality)
        else:
            merged.append(chord)
    return merged


def _cut_chord(chord: Chord, at: int) -> Chord:
    if chord.tick < at < chord.tick + chord.duration:
        chord.duration = at - chord.tick
    return chord


def _transpose_key(key: str, semitones: int) -> str:
    parts = key.split()
    if len(parts) != 2 or parts[0] not in PITCH_CLASS_NAMES:
        return key
    return f"{PITCH_CLASS_NAMES[(PITCH_CLASS_NAMES.index(parts[0]) + semitones) % 12]} {parts[1]}"
