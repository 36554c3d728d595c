"""Score <-> Standard MIDI File, exact at the tick grid.

Writing (`score_to_mido`, `score_to_midi`, `write_midi`)
    A type-1 file at `score.ticks_per_beat` ticks per quarter note. Track 0 (the conductor
    track) holds every tempo (`set_tempo`, microseconds per quarter rounded to an integer), every
    time signature, the key (`key_signature`), the sections as `marker` events named by the
    section label, and the chord track as `text` events:

    - `chord:<label>` at a chord's onset, with the label in mir_eval syntax (`chord:A:min`,
      `chord:N`); a chord lasts until the next `chord:` event;
    - `chord:end` where a chord ends and the next one does not start at once (and after the
      last chord);
    - `score:end` at `score.end_tick` when the score sets one.

    Then one track per non-empty note track, in the order vocal, bass, piano, guitar, drums,
    named by the track (`track_name` "vocal" …), with its GM program on its own channel; drums
    are on channel 10 (`is_drum`). The vocal track carries the lyrics as `lyrics` events at the
    onsets of the vocal notes (one event per note starting there, up to the last one with a
    syllable; an empty event stands for "no syllable"), and each note's phonemes as a `text`
    event `phonemes:<pitch>:<phoneme> <phoneme> …` at its onset. Text is UTF-8.

    pretty_midi's `PrettyMIDI` has no markers, so `score_to_midi` adds the sections to its
    `text_events` as `section:<label>`; both spellings are read back.

Reading (`score_from_midi`, `read_midi`)
    Any MIDI file is parsed with pretty_midi (one instrument per track, channel and program)
    and its instruments are mapped onto the five note tracks:

    1. an instrument on channel 10 (`is_drum`) -> drums;
    2. else by its track name (case-insensitive words): "bass" (not "bassoon") -> bass;
       "guitar" -> guitar; "voice", "vocal(s)", "vox", "melody", "soprano", "lead", "singer",
       "sing", "lyrics" -> vocal; "piano", "keys", "keyboard" -> piano;
    3. else by GM program (0-based): 52-54 (choir/voice oohs/synth voice) and 85 (voice lead)
       -> vocal; 32-39 -> bass; 24-31 -> guitar;
    4. everything else (keys, strings, brass, winds, pads …) -> piano.

    Several instruments that map onto one track are merged; the track keeps the program of the
    first. Tempos are read exactly (a bpm is snapped to the shortest decimal that gives the same
    microseconds per quarter, so 97.3 bpm stays 97.3); the first key signature becomes the key
    (later ones are dropped with a log message); time signatures, chords, sections and lyrics
    come back as written above. Lyric events that fall on no vocal-note onset go to the
    nearest free vocal onset within half a beat, else they are dropped (logged).

Exactness
    Score -> MIDI -> Score is exact (`==`) except for what MIDI cannot hold: overlapping notes
    of the same pitch on one track, programs of empty tracks (they get the default program),
    two equal consecutive tempos (collapsed), key spelling (normalised to the names in
    `score.PITCH_CLASS_NAMES`, e.g. "Db major" -> "C# major") and overlapping chords (a chord is
    cut where the next begins). MIDI -> Score -> MIDI keeps every note, tempo, meter, key and
    lyric tick-for-tick when the file's instruments map onto distinct tracks.
"""

from __future__ import annotations

import io
import logging
import os
import re
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass
from fractions import Fraction
from pathlib import Path
from typing import Any, Literal

import mido
import pretty_midi

from score_tokens.errors import ScoreError
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

CHANNELS: dict[str, int] = {"vocal": 0, "bass": 1, "piano": 2, "guitar": 3, "drums": 9}
"""MIDI channel (0-based) of each note track; drums on channel 10."""

CHORD_PREFIX = "chord:"
CHORD_END = "chord:end"
PHONEMES_PREFIX = "phonemes:"
SECTION_PREFIX = "section:"
SCORE_END = "score:end"

_NAME_RULES: tuple[tuple[str, re.Pattern[str]], ...] = (
    ("bass", re.compile(r"\bbass\b|\bbass(?!oon)|contrabass")),
    ("guitar", re.compile(r"guitar|\bgtr\b")),
    ("vocal", re.compile(r"\b(voice|vocals?|vox|melody|soprano|lead|singer|sing|lyrics?)\b")),
    ("piano", re.compile(r"piano|\bkeys\b|keyboard")),
)
_VOCAL_PROGRAMS = frozenset({52, 53, 54, 85})

_KEY_PATTERN = re.compile(
    r"^\s*([A-Ga-g])\s*([#♯b♭-]*)\s*(major|minor|maj|min|m)?\s*$", re.IGNORECASE
)
_LETTER_PITCH = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}

Mode = Literal["major", "minor"]


# ---------------------------------------------------------------------------------- keys


def parse_key(key: str) -> tuple[int, Mode]:
    """Parse a key like "A minor", "Bb major", "F# min", "c#m" into (tonic pitch class, mode).

    Raises:
        ScoreError: the text is not a key.
    """
    match = _KEY_PATTERN.match(key)
    if match is None:
        raise ScoreError(f"cannot read key {key!r}; write it like 'A minor' or 'Bb major'")
    letter, accidentals, mode = match.groups()
    pitch_class = _LETTER_PITCH[letter.upper()]
    pitch_class += accidentals.count("#") + accidentals.count("♯")
    pitch_class -= accidentals.count("b") + accidentals.count("♭") + accidentals.count("-")
    is_minor = mode is not None and mode.lower() in ("minor", "min", "m")
    return pitch_class % 12, "minor" if is_minor else "major"


def key_name(pitch_class: int, mode: Mode) -> str:
    """The canonical key name, e.g. `key_name(9, "minor") == "A minor"`."""
    return f"{PITCH_CLASS_NAMES[pitch_class % 12]} {mode}"


def _key_to_mido(key: str) -> str:
    pitch_class, mode = parse_key(key)
    return PITCH_CLASS_NAMES[pitch_class] + ("m" if mode == "minor" else "")


def _key_number_to_name(key_number: int) -> str:
    """pretty_midi's key number (0-11 major, 12-23 minor) -> canonical key name."""
    return key_name(key_number % 12, "minor" if key_number >= 12 else "major")


# ---------------------------------------------------------------------------------- tempo


def bpm_to_microseconds(bpm: float) -> int:
    """MIDI tempo (microseconds per quarter note) for `bpm`, rounded to the nearest integer."""
    return max(1, min(0xFFFFFF, round(60_000_000 / bpm)))


def microseconds_to_bpm(microseconds: int) -> float:
    """The shortest-decimal bpm whose `bpm_to_microseconds` is `microseconds` (exact round trip)."""
    exact = 60_000_000 / microseconds
    for digits in range(0, 7):
        candidate = round(exact, digits)
        if candidate > 0 and bpm_to_microseconds(candidate) == microseconds:
            return float(candidate)
    return exact


# ---------------------------------------------------------------------------------- writing


@dataclass(frozen=True, slots=True)
class _Event:
    """An event at an absolute tick; `order` breaks ties (lower first)."""

    tick: int
    order: int
    message: mido.Message | mido.MetaMessage


# Tie order within one tick: names and programs, then note-offs, then text, then note-ons.
_ORDER_SETUP, _ORDER_META, _ORDER_OFF, _ORDER_TEXT, _ORDER_ON = range(5)


def score_to_mido(score: Score) -> mido.MidiFile:
    """Encode `score` as a type-1 `mido.MidiFile` (see the module docstring for the layout).

    Raises:
        ScoreError: the score is illegal or its resolution does not fit a MIDI file.
    """
    score.validate()
    if score.ticks_per_beat > 0x7FFF:
        raise ScoreError(
            f"ticks_per_beat {score.ticks_per_beat} does not fit a MIDI file (max 32767)"
        )
    midi = mido.MidiFile(type=1, ticks_per_beat=score.ticks_per_beat, charset="utf-8")
    midi.tracks.append(_to_track(_conductor_events(score)))
    for name in NOTE_TRACKS:
        track = score.tracks.get(name)
        if track is not None and track.notes:
            midi.tracks.append(_to_track(_note_track_events(name, track)))
    return midi


def score_to_midi(score: Score) -> pretty_midi.PrettyMIDI:
    """Encode `score` as a `pretty_midi.PrettyMIDI` (sections ride as `section:` text events).

    Prefer `write_midi` to save a file: pretty_midi's own writer truncates tempos to whole
    microseconds and has no markers; `score_from_midi` reads its output all the same.
    """
    midi = pretty_midi.PrettyMIDI(mido_object=score_to_mido(score))
    for section in score.sections:
        seconds = float(midi.tick_to_time(section.tick))
        midi.text_events.append(pretty_midi.Text(SECTION_PREFIX + section.label, seconds))
    midi.text_events.sort(key=lambda event: event.time)
    return midi


def write_midi(score: Score, path: Path) -> None:
    """Write `score` as a MIDI file to `path` (not atomic; `io.write_score` is)."""
    score_to_mido(score).save(filename=str(path))


def _conductor_events(score: Score) -> list[_Event]:
    events = [
        _Event(0, _ORDER_SETUP, mido.MetaMessage("key_signature", key=_key_to_mido(score.key))),
    ]
    for tempo in score.tempos:
        message = mido.MetaMessage("set_tempo", tempo=bpm_to_microseconds(tempo.bpm))
        events.append(_Event(tempo.tick, _ORDER_META, message))
    for ts in score.time_signatures:
        message = mido.MetaMessage(
            "time_signature", numerator=ts.numerator, denominator=ts.denominator
        )
        events.append(_Event(ts.tick, _ORDER_META, message))
    for section in score.sections:
        events.append(
            _Event(section.tick, _ORDER_TEXT, mido.MetaMessage("marker", text=section.label))
        )
    events.extend(_chord_events(score.chords))
    if score.end_tick is not None:
        events.append(_Event(score.end_tick, _ORDER_TEXT, mido.MetaMessage("text", text=SCORE_END)))
    return events


def _chord_events(chords: list[Chord]) -> list[_Event]:
    events: list[_Event] = []
    ordered = sorted(chords, key=lambda c: c.tick)
    for index, chord in enumerate(ordered):
        following = ordered[index + 1] if index + 1 < len(ordered) else None
        events.append(
            _Event(
                chord.tick, _ORDER_TEXT, mido.MetaMessage("text", text=CHORD_PREFIX + chord.label)
            )
        )
        end = chord.tick + chord.duration
        if following is not None and following.tick < end:
            logger.warning(
                "chord %s at tick %d overlaps the next one; it is cut", chord.label, chord.tick
            )
        elif following is None or following.tick > end:
            # `chord:end` sorts before a chord starting at the same tick (same order, earlier index)
            events.append(_Event(end, _ORDER_TEXT - 1, mido.MetaMessage("text", text=CHORD_END)))
    return events


def _note_track_events(name: str, track: Track) -> list[_Event]:
    channel = CHANNELS[name]
    events = [
        _Event(0, _ORDER_SETUP, mido.MetaMessage("track_name", name=name)),
        _Event(
            0, _ORDER_SETUP, mido.Message("program_change", channel=channel, program=track.program)
        ),
    ]
    for note in track.notes:
        on = mido.Message("note_on", channel=channel, note=note.pitch, velocity=note.velocity)
        off = mido.Message("note_off", channel=channel, note=note.pitch, velocity=0)
        events.append(_Event(note.tick, _ORDER_ON, on))
        events.append(_Event(note.end, _ORDER_OFF, off))
    if name == "vocal":
        events.extend(_lyric_events(track.notes))
    return events


def _lyric_events(notes: list[Note]) -> list[_Event]:
    """Lyric and phoneme events at the vocal onsets (see the module docstring)."""
    by_onset: dict[int, list[Note]] = defaultdict(list)
    for note in notes:
        by_onset[note.tick].append(note)
    events: list[_Event] = []
    for tick, group in by_onset.items():
        group.sort(key=lambda n: (n.pitch, n.duration))
        with_lyric = [i for i, n in enumerate(group) if n.lyric]
        for note in group[: with_lyric[-1] + 1] if with_lyric else []:
            events.append(
                _Event(tick, _ORDER_TEXT, mido.MetaMessage("lyrics", text=note.lyric or ""))
            )
        for note in group:
            if note.phonemes:
                text = f"{PHONEMES_PREFIX}{note.pitch}:{' '.join(note.phonemes)}"
                events.append(_Event(tick, _ORDER_TEXT, mido.MetaMessage("text", text=text)))
    return events


def _to_track(events: list[_Event]) -> mido.MidiTrack:
    """Sort absolute-time events (stable, by tick then order) into a track with delta times."""
    track = mido.MidiTrack()
    now = 0
    for event in sorted(events, key=lambda e: (e.tick, e.order)):
        track.append(event.message.copy(time=event.tick - now))
        now = event.tick
    track.append(mido.MetaMessage("end_of_track", time=0))
    return track


# ---------------------------------------------------------------------------------- reading


def read_midi(path: Path) -> Score:
    """Read a MIDI file into a `Score` at the file's resolution (raises `ScoreError`)."""
    return score_from_midi(path)


def score_from_midi(
    midi: pretty_midi.PrettyMIDI | str | os.PathLike[str], ticks_per_beat: int | None = None
) -> Score:
    """Map a MIDI file (or a `PrettyMIDI`) onto a `Score` (see the module docstring).

    Args:
        midi: a `PrettyMIDI` or the path of a MIDI file.
        ticks_per_beat: resolution of the score; None keeps the file's resolution (exact).
            Another value rescales every tick, rounding to the nearest tick.

    Raises:
        ScoreError: the file is missing, empty or corrupt, or the result is not a legal score.
    """
    markers: list[tuple[int, str]] = []
    if not isinstance(midi, pretty_midi.PrettyMIDI):
        midi, markers = _load(Path(midi))
    resolution = int(midi.resolution)
    target = resolution if ticks_per_beat is None else ticks_per_beat
    if target <= 0:
        raise ScoreError(f"ticks_per_beat must be positive, got {ticks_per_beat}")
    scale = Fraction(target, resolution)

    def tick_at(seconds: float) -> int:
        return round(int(midi.time_to_tick(seconds)) * scale)

    score = Score(ticks_per_beat=target)
    score.tempos = _read_tempos(midi, tick_at)
    score.time_signatures = _read_time_signatures(midi, tick_at)
    if midi.key_signature_changes:
        score.key = _key_number_to_name(midi.key_signature_changes[0].key_number)
        if len(midi.key_signature_changes) > 1:
            logger.info("kept the first of %d key signatures", len(midi.key_signature_changes))
    score.tracks = _read_tracks(midi.instruments, tick_at)
    texts = [(tick_at(t.time), t.text) for t in midi.text_events]
    sections = [(round(tick * scale), label) for tick, label in markers]
    sections += [
        (tick, text[len(SECTION_PREFIX) :])
        for tick, text in texts
        if text.startswith(SECTION_PREFIX)
    ]
    score.sections = [
        Section(tick, label) for tick, label in sorted(set(sections)) if label.strip()
    ]
    score.chords = _read_chords(texts)
    ends = [tick for tick, text in texts if text == SCORE_END]
    score.end_tick = ends[-1] if ends else None
    _attach_lyrics(score, [(tick_at(lyric.time), lyric.text) for lyric in midi.lyrics], texts)
    return score.sort().validate()


def _load(path: Path) -> tuple[pretty_midi.PrettyMIDI, list[tuple[int, str]]]:
    """Parse a MIDI file (UTF-8 text, else Latin-1); also return its markers (tick, text)."""
    if not path.is_file():
        raise ScoreError(f"cannot read MIDI file {str(path)!r}: it does not exist")
    data = path.read_bytes()
    if not data:
        raise ScoreError(f"cannot read MIDI file {path.name!r}: the file is empty")
    file: mido.MidiFile | None = None
    for charset in ("utf-8", "latin1"):
        try:
            file = mido.MidiFile(file=io.BytesIO(data), charset=charset)
            break
        except UnicodeDecodeError:
            continue
        except (OSError, EOFError, ValueError, KeyError, IndexError, TypeError) as exc:
            raise ScoreError(f"{path.name}: not a readable MIDI file ({_reason(exc)})") from None
    if file is None or not file.tracks:
        raise ScoreError(f"{path.name}: not a readable MIDI file (no tracks)")
    if file.type == 2:
        raise ScoreError(f"{path.name}: MIDI type 2 (independent sequences) is not supported")
    markers = _markers(file)  # before pretty_midi turns the delta times into absolute ones
    try:
        midi = pretty_midi.PrettyMIDI(mido_object=file)
    except (ValueError, IndexError, KeyError, ZeroDivisionError) as exc:
        raise ScoreError(f"{path.name}: not a readable MIDI file ({_reason(exc)})") from None
    return midi, markers


def _reason(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0] if text else type(exc).__name__


def _markers(file: mido.MidiFile) -> list[tuple[int, str]]:
    markers: list[tuple[int, str]] = []
    for track in file.tracks:
        tick = 0
        for message in track:
            tick += message.time
            if message.type == "marker":
                markers.append((tick, message.text.strip()))
    return markers


def _read_tempos(midi: pretty_midi.PrettyMIDI, tick_at: Any) -> list[TempoChange]:
    times, bpms = midi.get_tempo_changes()
    tempos: list[TempoChange] = []
    for seconds, bpm in zip(times, bpms, strict=True):
        tick = tick_at(float(seconds))
        value = microseconds_to_bpm(bpm_to_microseconds(float(bpm)))
        if tempos and tempos[-1].tick == tick:
            tempos[-1] = TempoChange(tick, value)
        elif not tempos or tempos[-1].bpm != value:
            tempos.append(TempoChange(tick, value))
    if not tempos or tempos[0].tick != 0:
        tempos.insert(0, TempoChange(0, 120.0))
    return tempos


def _read_time_signatures(midi: pretty_midi.PrettyMIDI, tick_at: Any) -> list[TimeSignature]:
    signatures: list[TimeSignature] = []
    for change in midi.time_signature_changes:
        signature = TimeSignature(tick_at(change.time), change.numerator, change.denominator)
        if signatures and signatures[-1].tick == signature.tick:
            signatures[-1] = signature
        else:
            signatures.append(signature)
    if not signatures or signatures[0].tick != 0:
        signatures.insert(0, TimeSignature(0, 4, 4))
    return signatures


def track_for_instrument(name: str, program: int, is_drum: bool) -> str:
    """Which of the five note tracks a MIDI instrument goes to (rules in the module docstring)."""
    if is_drum:
        return "drums"
    lowered = name.lower()
    for track, pattern in _NAME_RULES:
        if pattern.search(lowered):
            return track
    if program in _VOCAL_PROGRAMS:
        return "vocal"
    if 32 <= program <= 39:
        return "bass"
    if 24 <= program <= 31:
        return "guitar"
    return "piano"


def _read_tracks(instruments: Iterable[pretty_midi.Instrument], tick_at: Any) -> dict[str, Track]:
    tracks: dict[str, Track] = {name: Track(DEFAULT_PROGRAMS[name]) for name in NOTE_TRACKS}
    claimed: set[str] = set()
    for instrument in instruments:
        name = track_for_instrument(
            instrument.name, int(instrument.program), bool(instrument.is_drum)
        )
        if name not in claimed:
            tracks[name].program = int(instrument.program)
            claimed.add(name)
        logger.debug("instrument %r (program %d) -> %s", instrument.name, instrument.program, name)
        for note in instrument.notes:
            tick = tick_at(note.start)
            end = tick_at(note.end)
            if end <= tick:
                logger.debug("dropped a zero-length %s note at tick %d", name, tick)
                continue
            tracks[name].notes.append(
                Note(tick, end - tick, int(note.pitch), max(1, int(note.velocity)))
            )
    return tracks


def _read_chords(texts: list[tuple[int, str]]) -> list[Chord]:
    """Chords from `chord:<label>` / `chord:end` text events."""
    chords: list[Chord] = []
    open_chord: tuple[int, int | None, str] | None = None
    for tick, text in sorted(texts, key=lambda item: item[0]):
        if not text.startswith(CHORD_PREFIX):
            continue
        if open_chord is not None and tick > open_chord[0]:
            chords.append(Chord(open_chord[0], tick - open_chord[0], open_chord[1], open_chord[2]))
        open_chord = None
        if text != CHORD_END:
            root, quality = parse_chord_label(text[len(CHORD_PREFIX) :])
            open_chord = (tick, root, quality)
    if open_chord is not None:
        logger.info("the last chord at tick %d has no end; dropped", open_chord[0])
    return chords


def parse_chord_label(label: str) -> tuple[int | None, str]:
    """Parse a mir_eval-style chord label ("A:min", "Bb:7", "N") into (root, quality).

    Raises:
        ScoreError: the label is not a chord.
    """
    label = label.strip()
    if label in ("N", "X"):
        return None, "maj"
    root_text, _, quality = label.partition(":")
    try:
        root, _ = parse_key(root_text)
    except ScoreError:
        raise ScoreError(f"cannot read chord {label!r}; write it like 'A:min' or 'N'") from None
    return root, quality or "maj"


def _attach_lyrics(
    score: Score, lyrics: list[tuple[int, str]], texts: list[tuple[int, str]]
) -> None:
    """Put lyric syllables and `phonemes:` text onto the vocal notes (see the module docstring)."""
    vocal = sorted(score.tracks["vocal"].notes, key=lambda n: (n.tick, n.pitch, n.duration))
    by_onset: dict[int, list[Note]] = defaultdict(list)
    for note in vocal:
        by_onset[note.tick].append(note)
    used: set[int] = set()
    dropped = 0
    for tick, text in lyrics:
        target = _free_note(by_onset, used, tick, score.ticks_per_beat // 2)
        if target is None:
            dropped += 1
            continue
        used.add(id(target))
        target.lyric = text.strip() or None
    if dropped:
        logger.warning("dropped %d lyric event(s) that fall on no vocal note", dropped)
    for tick, text in texts:
        if not text.startswith(PHONEMES_PREFIX):
            continue
        pitch_text, _, phonemes = text[len(PHONEMES_PREFIX) :].partition(":")
        for note in by_onset.get(tick, []):
            if pitch_text.strip() == str(note.pitch) and not note.phonemes:
                note.phonemes = tuple(phonemes.split())
                break


def _free_note(
    by_onset: dict[int, list[Note]], used: set[int], tick: int, window: int
) -> Note | None:
    """The first vocal note at `tick` without a syllable yet, else the nearest within `window`."""
    for note in by_onset.get(tick, []):
        if id(note) not in used:
            return note
    candidates = [
        (abs(onset - tick), note)
        for onset, notes in by_onset.items()
        if abs(onset - tick) <= window
        for note in notes
        if id(note) not in used
    ]
    return min(candidates, key=lambda item: item[0])[1] if candidates else None
