"""The `Score`: Seed-Music's symbolic representation of a song.

A score holds a tempo map, time signatures, a key, sections, a chord track and five note tracks
(vocal, bass, piano, guitar, drums). Lyrics are not a separate list: each vocal note carries its
syllable text and phonemes, so lyrics are aligned to the melody by construction (the "lyrics"
track of the token encodings is derived from them).

Time is counted in integer ticks at `ticks_per_beat` ticks per quarter note (as in MIDI), so that
every conversion on the grid is exact. Bars follow from the time signatures.

This module never imports torch.
"""

from __future__ import annotations

import copy
from dataclasses import asdict, dataclass, field, replace
from typing import Any, Literal

from score_tokens.errors import ScoreError

TrackName = Literal["vocal", "bass", "piano", "guitar", "drums"]
NOTE_TRACKS: tuple[TrackName, ...] = ("vocal", "bass", "piano", "guitar", "drums")
"""The five note tracks, in the order they are interleaved within a bar."""

ALL_TRACKS: tuple[str, ...] = ("lyrics", "chord", *NOTE_TRACKS)
"""Seed-Music's seven tracks: lyrics and chords plus the five note tracks."""

DEFAULT_PROGRAMS: dict[str, int] = {
    "vocal": 53,  # Voice Oohs (GM programs are 0-based here, as in pretty_midi)
    "bass": 33,  # Electric Bass (finger)
    "piano": 0,  # Acoustic Grand Piano
    "guitar": 25,  # Acoustic Guitar (steel)
    "drums": 0,  # Standard kit on channel 10
}

CHORD_QUALITIES: tuple[str, ...] = (
    "maj",
    "min",
    "dim",
    "aug",
    "sus2",
    "sus4",
    "7",
    "maj7",
    "min7",
    "hdim7",
    "dim7",
)
"""Chord qualities in mir_eval shorthand; a chord with root None is the no-chord `N`."""

PITCH_CLASS_NAMES: tuple[str, ...] = (
    "C",
    "C#",
    "D",
    "Eb",
    "E",
    "F",
    "F#",
    "G",
    "Ab",
    "A",
    "Bb",
    "B",
)

SECTION_LABELS: tuple[str, ...] = (
    "intro",
    "verse",
    "prechorus",
    "chorus",
    "bridge",
    "instrumental",
    "outro",
)


@dataclass(slots=True)
class Note:
    """One note. `pitch` is a MIDI pitch, or the GM drum instrument on the drum track."""

    tick: int
    duration: int
    pitch: int
    velocity: int = 96
    lyric: str | None = None
    """Vocal notes only: the syllable sung on this note (None for a melisma continuation)."""
    phonemes: tuple[str, ...] = ()
    """Vocal notes only: the syllable's phonemes (ARPAbet, espeak IPA or pinyin parts)."""

    @property
    def end(self) -> int:
        return self.tick + self.duration


@dataclass(slots=True)
class Track:
    """A note track with its General MIDI program (0-based)."""

    program: int
    notes: list[Note] = field(default_factory=list)


@dataclass(slots=True)
class Chord:
    """A chord symbol sounding from `tick` for `duration` ticks. `root` None means no chord (N)."""

    tick: int
    duration: int
    root: int | None
    quality: str = "maj"

    @property
    def label(self) -> str:
        """The chord in mir_eval syntax, e.g. `C:maj`, `Bb:min7`, `N`."""
        if self.root is None:
            return "N"
        return f"{PITCH_CLASS_NAMES[self.root]}:{self.quality}"


@dataclass(slots=True)
class TempoChange:
    tick: int
    bpm: float


@dataclass(slots=True)
class TimeSignature:
    tick: int
    numerator: int = 4
    denominator: int = 4


@dataclass(slots=True)
class Section:
    """A section starting at `tick`; it lasts until the next section starts or the score ends."""

    tick: int
    label: str


@dataclass
class Score:
    """A song as score: tempo map, meter, key, sections, chords and five note tracks."""

    ticks_per_beat: int = 480
    tempos: list[TempoChange] = field(default_factory=lambda: [TempoChange(0, 120.0)])
    time_signatures: list[TimeSignature] = field(default_factory=lambda: [TimeSignature(0, 4, 4)])
    key: str = "C major"
    sections: list[Section] = field(default_factory=list)
    chords: list[Chord] = field(default_factory=list)
    tracks: dict[str, Track] = field(
        default_factory=lambda: {name: Track(DEFAULT_PROGRAMS[name]) for name in NOTE_TRACKS}
    )
    end_tick: int | None = None
    """Where the score ends; None means at the end of the bar holding the last event."""

    # ------------------------------------------------------------------ time grid

    def last_event_tick(self) -> int:
        """The tick after the last note or chord ends (0 for an empty score)."""
        ends = [n.end for t in self.tracks.values() for n in t.notes]
        ends += [c.tick + c.duration for c in self.chords]
        ends += [s.tick for s in self.sections]
        return max(ends, default=0)

    def bar_starts(self) -> list[int]:
        """Tick of every bar start, from 0 to the last bar that holds an event (or `end_tick`)."""
        end = self.end_tick if self.end_tick is not None else self.last_event_tick()
        starts: list[int] = []
        signatures = sorted(self.time_signatures, key=lambda ts: ts.tick)
        tick = 0
        index = 0
        while tick < end or not starts:
            while index + 1 < len(signatures) and signatures[index + 1].tick <= tick:
                index += 1
            starts.append(tick)
            tick += self.bar_length(signatures[index])
        return starts

    def bar_length(self, signature: TimeSignature) -> int:
        """Length of one bar in ticks under `signature`."""
        return self.ticks_per_beat * 4 * signature.numerator // signature.denominator

    def tick_to_seconds(self, tick: float) -> float:
        """Seconds at `tick` under the tempo map."""
        seconds = 0.0
        tempos = sorted(self.tempos, key=lambda t: t.tick)
        for current, following in zip(tempos, [*tempos[1:], None], strict=True):
            segment_end = tick if following is None else min(tick, following.tick)
            if segment_end > current.tick:
                seconds += (segment_end - current.tick) / self.ticks_per_beat * 60.0 / current.bpm
            if following is None or tick <= following.tick:
                break
        return seconds

    def duration_seconds(self) -> float:
        """Length of the score in seconds, to the end of its last bar."""
        starts = self.bar_starts()
        signature = self.signature_at(starts[-1])
        return self.tick_to_seconds(starts[-1] + self.bar_length(signature))

    def signature_at(self, tick: int) -> TimeSignature:
        """The time signature in force at `tick`."""
        active = self.time_signatures[0]
        for ts in sorted(self.time_signatures, key=lambda ts: ts.tick):
            if ts.tick <= tick:
                active = ts
        return active

    # ------------------------------------------------------------------ helpers

    def notes(self, track: str) -> list[Note]:
        """The notes of a note track (a KeyError names the unknown track)."""
        return self.tracks[track].notes

    def num_notes(self) -> int:
        return sum(len(t.notes) for t in self.tracks.values())

    def lyrics(self) -> list[tuple[int, str]]:
        """(tick, syllable) for every vocal note that starts a syllable."""
        return [(n.tick, n.lyric) for n in self.tracks["vocal"].notes if n.lyric]

    def copy(self) -> Score:
        return copy.deepcopy(self)

    def sort(self) -> Score:
        """Sort every list by time (then pitch), in place; returns self for chaining."""
        self.tempos.sort(key=lambda t: t.tick)
        self.time_signatures.sort(key=lambda t: t.tick)
        self.sections.sort(key=lambda s: s.tick)
        self.chords.sort(key=lambda c: c.tick)
        for track in self.tracks.values():
            track.notes.sort(key=lambda n: (n.tick, n.pitch, n.duration))
        return self

    # ------------------------------------------------------------------ validation

    def validate(self) -> Score:
        """Raise `ScoreError` with a clear message if the score is not well formed."""
        if self.ticks_per_beat <= 0:
            raise ScoreError(f"ticks_per_beat must be positive, got {self.ticks_per_beat}")
        if not self.tempos or self.tempos[0].tick != 0:
            raise ScoreError("the tempo map must start with a tempo at tick 0")
        for tempo in self.tempos:
            if not 1.0 <= tempo.bpm <= 1000.0:
                raise ScoreError(f"tempo {tempo.bpm} bpm at tick {tempo.tick} is outside 1..1000")
        if not self.time_signatures or self.time_signatures[0].tick != 0:
            raise ScoreError("the time signatures must start with one at tick 0")
        for ts in self.time_signatures:
            if ts.numerator < 1 or ts.denominator not in (1, 2, 4, 8, 16, 32):
                raise ScoreError(
                    f"illegal time signature {ts.numerator}/{ts.denominator} at tick {ts.tick}"
                )
        unknown = set(self.tracks) - set(NOTE_TRACKS)
        if unknown:
            raise ScoreError(f"unknown track(s) {sorted(unknown)}; tracks are {list(NOTE_TRACKS)}")
        for name, track in self.tracks.items():
            if not 0 <= track.program <= 127:
                raise ScoreError(f"{name}: GM program {track.program} is outside 0..127")
            for note in track.notes:
                _validate_note(name, note)
        for chord in self.chords:
            if chord.tick < 0 or chord.duration <= 0:
                raise ScoreError(f"chord at tick {chord.tick} has an illegal time or duration")
            if chord.root is not None and not (
                0 <= chord.root <= 11 and chord.quality in CHORD_QUALITIES
            ):
                raise ScoreError(
                    f"chord at tick {chord.tick}: illegal {chord.root}:{chord.quality}"
                )
        for section in self.sections:
            if section.tick < 0 or not section.label:
                raise ScoreError(f"section at tick {section.tick} has no label or a negative tick")
        return self

    # ------------------------------------------------------------------ JSON

    def to_dict(self) -> dict[str, Any]:
        """A JSON-ready dict (see `from_dict`)."""
        data = asdict(self)
        for track in data["tracks"].values():
            for note in track["notes"]:
                note["phonemes"] = list(note["phonemes"])
        data["format"] = "seedmusic.score/1"
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Score:
        """Build a score from `to_dict` output; raises `ScoreError` on anything malformed."""
        try:
            if data.get("format", "seedmusic.score/1") != "seedmusic.score/1":
                raise ScoreError(f"unknown score format {data.get('format')!r}")
            tracks = {
                name: Track(
                    program=int(t["program"]),
                    notes=[
                        Note(
                            tick=int(n["tick"]),
                            duration=int(n["duration"]),
                            pitch=int(n["pitch"]),
                            velocity=int(n.get("velocity", 96)),
                            lyric=None if n.get("lyric") is None else str(n["lyric"]),
                            phonemes=tuple(str(p) for p in n.get("phonemes", ())),
                        )
                        for n in t["notes"]
                    ],
                )
                for name, t in data["tracks"].items()
            }
            score = cls(
                ticks_per_beat=int(data["ticks_per_beat"]),
                tempos=[TempoChange(int(t["tick"]), float(t["bpm"])) for t in data["tempos"]],
                time_signatures=[
                    TimeSignature(int(t["tick"]), int(t["numerator"]), int(t["denominator"]))
                    for t in data["time_signatures"]
                ],
                key=str(data.get("key", "C major")),
                sections=[
                    Section(int(s["tick"]), str(s["label"])) for s in data.get("sections", [])
                ],
                chords=[
                    Chord(
                        int(c["tick"]),
                        int(c["duration"]),
                        None if c["root"] is None else int(c["root"]),
                        str(c.get("quality", "maj")),
                    )
                    for c in data.get("chords", [])
                ],
                tracks=tracks,
                end_tick=None if data.get("end_tick") is None else int(data["end_tick"]),
            )
            return score.validate()
        except (KeyError, TypeError, ValueError, AttributeError, OverflowError) as exc:
            raise ScoreError(f"malformed score JSON: {type(exc).__name__}: {exc}") from None


def repair_overlaps(score: Score) -> dict[str, tuple[int, int]]:
    """Make notes of one pitch on one track never sound at once: the earlier note ends where
    the later starts; a second note on the same onset is dropped (its syllable kept when the
    first has none). In place on `score`'s note lists; the `Note` objects are never changed
    (a repaired note is a new one).

    Returns:
        `{track: (shortened, dropped)}` for each track repaired (empty when none was).
    """
    repaired: dict[str, tuple[int, int]] = {}
    for name, track in score.tracks.items():
        notes, shortened, dropped = _without_overlaps(track.notes)
        if shortened or dropped:
            track.notes = notes
            repaired[name] = (shortened, dropped)
    return repaired


def _without_overlaps(notes: list[Note]) -> tuple[list[Note], int, int]:
    """`(notes, shortened, dropped)`: `notes` repaired as `repair_overlaps` says, in
    `Score.sort` order."""
    last: dict[int, int] = {}  # pitch -> index in `kept` of its latest note
    kept: list[Note] = []
    shortened = dropped = 0
    for note in sorted(notes, key=lambda n: (n.tick, -n.duration)):  # the longest onset first
        index = last.get(note.pitch)
        if index is not None and note.tick < kept[index].end:
            previous = kept[index]
            if note.tick == previous.tick:
                if previous.lyric is None and note.lyric is not None:
                    kept[index] = replace(previous, lyric=note.lyric, phonemes=note.phonemes)
                dropped += 1
                continue
            kept[index] = replace(previous, duration=note.tick - previous.tick)
            shortened += 1
        last[note.pitch] = len(kept)
        kept.append(note)
    kept.sort(key=lambda n: (n.tick, n.pitch, n.duration))  # as `Score.sort`
    return kept, shortened, dropped


def _validate_note(track: str, note: Note) -> None:
    where = f"{track} note at tick {note.tick}"
    if note.tick < 0:
        raise ScoreError(f"{where}: negative onset")
    if note.duration <= 0:
        raise ScoreError(f"{where}: duration must be positive, got {note.duration}")
    if not 0 <= note.pitch <= 127:
        raise ScoreError(f"{where}: pitch {note.pitch} is outside 0..127")
    if not 1 <= note.velocity <= 127:
        raise ScoreError(f"{where}: velocity {note.velocity} is outside 1..127")
    if track != "vocal" and (note.lyric or note.phonemes):
        raise ScoreError(f"{where}: only vocal notes carry lyrics")
