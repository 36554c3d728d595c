"""Score <-> MusicXML with music21.

Export (`score_to_music21`, `write_musicxml`)
    One part per non-empty note track, named by the track ("vocal", "bass", "piano", "guitar",
    "drums") with the GM instrument of its program. The first part carries the key, the tempo
    marks, the chord symbols (`ChordSymbol`, `N.C.` for the no-chord) and the sections as
    rehearsal marks; every part carries the time signatures. Vocal notes carry their syllable as
    lyric line 1 and their phonemes (space-separated) as lyric line 2, named `phonemes` (on import
    only a line of that name is read as phonemes; another file's verse 2 is not). music21 makes the measures,
    ties and voices. Drums: a percussion part on MIDI channel 10 whose notes sit at the GM drum
    number as pitch (36 = kick shows as C2) — exact and playable, though not drawn on a
    percussion staff.

Import (`score_from_music21`, `read_musicxml`)
    Parts map onto the five tracks by part name and GM program with the same rules as MIDI
    (`score_tokens.midi.track_for_instrument`); a part on channel 10 or with a percussion
    instrument is drums. Tied notes are merged (followed by pitch and time, so crossing voices stay
    right), chords split into notes, offsets converted to
    ticks at `ticks_per_beat` (rounded; tuplets are exact only when the grid divides them). A
    chord symbol lasts until the next one or the end of the piece. What MusicXML cannot say is
    lost: chord gaps (a chord lasts until the next symbol), `end_tick`, and the program of an
    empty track.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from fractions import Fraction
from pathlib import Path

from music21 import (
    chord as m21chord,
)
from music21 import (
    converter,
    expressions,
    harmony,
    instrument,
    key,
    meter,
    note,
    stream,
    tempo,
)
from music21.musicxml.m21ToXml import GeneralObjectExporter

from score_tokens.errors import ScoreError
from score_tokens.midi import CHANNELS, Mode, key_name, parse_key, track_for_instrument
from score_tokens.score import (
    DEFAULT_PROGRAMS,
    NOTE_TRACKS,
    PITCH_CLASS_NAMES,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)

logger = logging.getLogger(__name__)

QUALITY_TO_KIND: dict[str, str] = {
    "maj": "major",
    "min": "minor",
    "dim": "diminished",
    "aug": "augmented",
    "sus2": "suspended-second",
    "sus4": "suspended-fourth",
    "7": "dominant-seventh",
    "maj7": "major-seventh",
    "min7": "minor-seventh",
    "hdim7": "half-diminished-seventh",
    "dim7": "diminished-seventh",
}
"""mir_eval chord quality -> MusicXML `<kind>`; import maps other kinds by their triad."""
KIND_TO_QUALITY: dict[str, str] = {kind: quality for quality, kind in QUALITY_TO_KIND.items()}
PHONEME_LYRIC_LINE = 2
PHONEME_LYRIC_NAME = "phonemes"
"""The `name` of the phoneme lyric line: other files' second lines (verse 2) stay lyrics."""

TickAt = Callable[[float | Fraction], int]


# ---------------------------------------------------------------------------------- export


def score_to_music21(score: Score) -> stream.Score:
    """Build a music21 `Score` from `score` (see the module docstring)."""
    score.validate()
    result = stream.Score()
    parts = [
        _build_part(score, name, score.tracks[name])
        for name in NOTE_TRACKS
        if name in score.tracks and score.tracks[name].notes
    ]
    if not parts:  # an empty score still gets one (empty) part to hold its meta data
        parts = [_build_part(score, "piano", Track(DEFAULT_PROGRAMS["piano"]))]
    _add_meta(score, parts[0])
    for part in parts:
        result.insert(0, part)
    return result


def write_musicxml(score: Score, path: Path) -> None:
    """Write `score` as uncompressed MusicXML to `path` (not atomic; `io.write_score` is)."""
    data = GeneralObjectExporter(score_to_music21(score)).parse()
    path.write_bytes(data)


def _quarters(ticks: int, ticks_per_beat: int) -> Fraction:
    return Fraction(ticks, ticks_per_beat)


def _build_part(score: Score, name: str, track: Track) -> stream.Part:
    part = stream.Part()
    part.partName = name
    part.id = name
    part.insert(0, _instrument(name, track.program))
    for ts in score.time_signatures:
        offset = _quarters(ts.tick, score.ticks_per_beat)
        part.insert(offset, meter.TimeSignature(f"{ts.numerator}/{ts.denominator}"))
    voices = _split_voices(track.notes)
    if len(voices) == 1:
        for source in voices[0]:
            part.insert(
                _quarters(source.tick, score.ticks_per_beat), _note(source, score.ticks_per_beat)
            )
        return part
    for number, notes in enumerate(voices, start=1):
        voice = stream.Voice(id=str(number))
        for source in notes:
            voice.insert(
                _quarters(source.tick, score.ticks_per_beat), _note(source, score.ticks_per_beat)
            )
        part.insert(0, voice)
    return part


def _split_voices(notes: list[Note]) -> list[list[Note]]:
    """Share notes out onto voices so that no two notes of one voice overlap (greedy, by onset)."""
    voices: list[list[Note]] = []
    for source in sorted(notes, key=lambda n: (n.tick, -n.duration, n.pitch)):
        for voice in voices:
            if voice[-1].end <= source.tick:
                voice.append(source)
                break
        else:
            voices.append([source])
    return voices


def _instrument(name: str, program: int) -> instrument.Instrument:
    if name == "drums":
        result: instrument.Instrument = instrument.UnpitchedPercussion()
        result.midiChannel = CHANNELS["drums"]
    else:
        result = instrument.instrumentFromMidiProgram(program)
        result.midiChannel = CHANNELS[name]
    result.midiProgram = program
    result.partName = name
    return result


def _note(source: Note, ticks_per_beat: int) -> note.Note:
    result = note.Note(source.pitch, quarterLength=_quarters(source.duration, ticks_per_beat))
    result.volume.velocity = source.velocity
    if source.lyric:
        result.lyrics.append(note.Lyric(source.lyric, number=1, applyRaw=True))
    if source.phonemes:
        line = note.Lyric(
            " ".join(source.phonemes),
            number=PHONEME_LYRIC_LINE,
            applyRaw=True,
            identifier=PHONEME_LYRIC_NAME,
        )
        result.lyrics.append(line)
    return result


def _add_meta(score: Score, part: stream.Part) -> None:
    tonic, mode = parse_key(score.key)
    part.insert(0, key.Key(_m21_name(tonic), mode))
    for change in score.tempos:
        mark = tempo.MetronomeMark(number=change.bpm)
        part.insert(_quarters(change.tick, score.ticks_per_beat), mark)
    for chord in score.chords:
        symbol: harmony.Harmony
        if chord.root is None:
            symbol = harmony.NoChord()
        else:
            symbol = harmony.ChordSymbol(
                root=_m21_name(chord.root), kind=QUALITY_TO_KIND[chord.quality]
            )
            symbol.writeAsChord = False
        part.insert(_quarters(chord.tick, score.ticks_per_beat), symbol)
    for section in score.sections:
        part.insert(
            _quarters(section.tick, score.ticks_per_beat), expressions.RehearsalMark(section.label)
        )


def _m21_name(pitch_class: int) -> str:
    """music21 spells flats with '-' ("B-")."""
    return PITCH_CLASS_NAMES[pitch_class % 12].replace("b", "-")


# ---------------------------------------------------------------------------------- import


def read_musicxml(path: Path) -> Score:
    """Read a `.musicxml`, `.xml` or compressed `.mxl` file (raises `ScoreError`)."""
    try:
        parsed = converter.parse(str(path), format="musicxml", forceSource=True)
    except Exception as exc:  # music21 raises many unrelated types on malformed input
        first_line = (str(exc).strip().splitlines() or [type(exc).__name__])[0]
        raise ScoreError(f"{path.name}: not a readable MusicXML file ({first_line})") from None
    if not isinstance(parsed, stream.Score):
        wrapper = stream.Score()
        wrapper.insert(0, parsed)
        parsed = wrapper
    return score_from_music21(parsed)


def score_from_music21(source: stream.Score, ticks_per_beat: int = 480) -> Score:
    """Map a music21 score onto a `Score` at `ticks_per_beat` (see the module docstring).

    Raises:
        ScoreError: the score has no parts or the result is not a legal score.
    """
    parts = list(source.parts)
    if not parts:
        raise ScoreError("the MusicXML score has no parts")

    def tick_at(offset: float | Fraction) -> int:
        return round(Fraction(offset).limit_denominator(10_000) * ticks_per_beat)

    score = Score(ticks_per_beat=ticks_per_beat)
    score.tracks = _read_parts(parts, tick_at)
    flat_parts = [part.flatten() for part in parts]
    score.tempos = _read_tempos(flat_parts, tick_at)
    score.time_signatures = _read_time_signatures(flat_parts[0], tick_at)
    score.key = _read_key(flat_parts, score.key)
    end = tick_at(max(part.highestTime for part in parts))
    score.chords = _read_chords(flat_parts, tick_at, end)
    marks = {
        (tick_at(mark.getOffsetInHierarchy(part)), str(mark.content).strip())
        for part in parts
        for mark in part.recurse().getElementsByClass(expressions.RehearsalMark)
    }
    score.sections = [Section(tick, label) for tick, label in sorted(marks) if label]
    return score.sort().validate()


def _read_parts(parts: list[stream.Part], tick_at: TickAt) -> dict[str, Track]:
    tracks: dict[str, Track] = {name: Track(DEFAULT_PROGRAMS[name]) for name in NOTE_TRACKS}
    claimed: set[str] = set()
    for part in parts:
        part_instrument = part.getInstrument(returnDefault=True) or instrument.Piano()
        program = part_instrument.midiProgram if part_instrument.midiProgram is not None else 0
        channel = part_instrument.midiChannel
        is_drum = channel == CHANNELS["drums"] or (
            channel is None and isinstance(part_instrument, instrument.UnpitchedPercussion)
        )
        name = track_for_instrument(part.partName or "", int(program), is_drum)
        if name not in claimed:
            tracks[name].program = int(program)
            claimed.add(name)
        tracks[name].notes.extend(_part_notes(part, name, tick_at))
    return tracks


def _part_notes(part: stream.Part, track: str, tick_at: TickAt) -> list[Note]:
    """The part's notes in ticks, tied notes merged.

    Ties are followed by pitch and time (a tie continues into the note of the same pitch that
    starts where the tied note ends), which stays right across voices, unlike music21's
    `stripTies` on a flattened part with crossing voices.
    """
    notes: list[Note] = []
    open_ties: dict[tuple[int, int], Note] = {}  # (pitch, end tick) -> note a tie continues
    for element in part.flatten().notes:
        if isinstance(element, harmony.Harmony):
            continue
        tick = tick_at(element.offset)
        duration = tick_at(element.offset + element.quarterLength) - tick
        if duration <= 0:
            continue  # grace notes
        velocity = element.volume.velocity if element.volume.velocity is not None else 96
        for pitch, tie in _pitches_and_ties(element):
            current = open_ties.pop((pitch, tick), None) if tie in ("stop", "continue") else None
            if current is None:
                current = Note(tick, duration, pitch, max(1, min(127, int(velocity))))
                if track == "vocal":
                    _copy_lyrics(element, current)
                notes.append(current)
            else:
                current.duration += duration
            if tie in ("start", "continue"):
                open_ties[(pitch, current.end)] = current
    return notes


def _pitches_and_ties(element: note.GeneralNote) -> list[tuple[int, str | None]]:
    """(MIDI pitch, tie type or None) for each sounding pitch of a note, chord or unpitched note."""
    if isinstance(element, m21chord.Chord):
        result = []
        for component in element.notes:
            tie = component.tie or element.tie
            result.append((int(component.pitch.midi), tie.type if tie is not None else None))
        return sorted(set(result))
    tie_type = element.tie.type if element.tie is not None else None
    return [(pitch, tie_type) for pitch in _pitches(element)]


def _pitches(element: note.GeneralNote) -> list[int]:
    if isinstance(element, note.Unpitched):
        mapped = getattr(element.storedInstrument, "percMapPitch", None)
        if mapped is not None:
            return [int(mapped)]
        return [int(element.displayPitch().midi)]
    if isinstance(element, m21chord.Chord):
        return sorted({int(p.midi) for p in element.pitches})
    if isinstance(element, note.Note):
        return [int(element.pitch.midi)]
    return []


def _copy_lyrics(element: note.GeneralNote, target: Note) -> None:
    for lyric in element.lyrics:
        text = (lyric.text or "").strip()
        if lyric.identifier == PHONEME_LYRIC_NAME:
            target.phonemes = tuple(text.split())
        elif text and target.lyric is None:
            target.lyric = text


def _read_tempos(flat_parts: Sequence[stream.Stream], tick_at: TickAt) -> list[TempoChange]:
    changes: dict[int, float] = {}
    for part in flat_parts:
        for mark in part.getElementsByClass(tempo.MetronomeMark):
            bpm = mark.getQuarterBPM()
            if bpm:
                changes.setdefault(tick_at(mark.offset), round(float(bpm), 6))
    tempos = [TempoChange(tick, bpm) for tick, bpm in sorted(changes.items())]
    if not tempos or tempos[0].tick != 0:
        tempos.insert(0, TempoChange(0, 120.0))
    return tempos


def _read_time_signatures(part: stream.Stream, tick_at: TickAt) -> list[TimeSignature]:
    signatures: dict[int, TimeSignature] = {}
    for ts in part.getElementsByClass(meter.TimeSignature):
        tick = tick_at(ts.offset)
        signatures[tick] = TimeSignature(tick, int(ts.numerator), int(ts.denominator))
    result = [signatures[tick] for tick in sorted(signatures)]
    if not result or result[0].tick != 0:
        result.insert(0, TimeSignature(0, 4, 4))
    return result


def _read_key(flat_parts: Sequence[stream.Stream], default: str) -> str:
    for part in flat_parts:
        for signature in part.getElementsByClass(key.KeySignature):
            found = signature if isinstance(signature, key.Key) else signature.asKey("major")
            mode: Mode = "minor" if found.mode == "minor" else "major"
            return key_name(found.tonic.pitchClass, mode)
    return default


def _read_chords(flat_parts: Sequence[stream.Stream], tick_at: TickAt, end: int) -> list[Chord]:
    symbols: dict[int, tuple[int | None, str]] = {}
    for part in flat_parts:
        for symbol in part.getElementsByClass(harmony.Harmony):
            tick = tick_at(symbol.offset)
            symbols.setdefault(tick, _chord_of(symbol))
    ticks = sorted(symbols)
    chords: list[Chord] = []
    for index, tick in enumerate(ticks):
        stop = ticks[index + 1] if index + 1 < len(ticks) else max(end, tick + 1)
        root, quality = symbols[tick]
        chords.append(Chord(tick, stop - tick, root, quality))
    return chords


def _chord_of(symbol: harmony.Harmony) -> tuple[int | None, str]:
    if isinstance(symbol, harmony.NoChord) or symbol.root() is None:
        return None, "maj"
    kind = getattr(symbol, "chordKind", "major") or "major"
    quality = KIND_TO_QUALITY.get(kind)
    if quality is None:
        quality = "min" if kind.startswith("minor") else "maj"
        logger.debug("chord kind %r read as %s", kind, quality)
    return int(symbol.root().pitchClass), quality
