"""`analyze`: audio -> beats, downbeats, meter, tempo, key, chords, sections (-> `Score`).

The stages run one after another: beats (madmom's networks run on the file in chunks, see
`mir.rhythm`), chords, key, sections, then, when a `Transcriber` is given, the notes of the five
instruments (`mir.transcriber`, in chunks as well) and, when lyric text is given, its syllables
placed on the transcribed vocal notes (`mir.lyrics`). Without a transcriber `notes` holds the
five instruments with empty lists. Lyrics are recognised from the audio only when a
`LyricsRecognizer` (a local Whisper checkpoint, `mir.asr`) is given and no text is; no ASR runs
by default.

`Analysis.to_json_dict()` is the `analysis.json` format of DESIGN.md §12; `Analysis.to_score()`
turns the result into a `Score`: events are placed on bars and beats by the tracked beats
(`mir.grid`), and the score's tempo map is the readable description of those beats that
`mir.tempo` fits (one tempo for a piece played at one tempo; see there why the two are kept
apart).
"""

from __future__ import annotations

import logging
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
from tqdm.auto import tqdm

from mir._madmom import MADMOM_SAMPLE_RATE, deep_chroma, is_too_quiet_or_short, madmom_signal
from mir.audio import Audio, load_audio
from mir.grid import TickGrid
from mir.harmony import ChordSequence, recognize_chords, recognize_key
from mir.memory import release_freed_memory
from mir.rhythm import MIN_SECONDS as RHYTHM_MIN_SECONDS
from mir.rhythm import BeatGrid, beats_per_bar, track_beats
from mir.structure import Sections, segment
from mir.tempo import tempo_stretches
from mir.transcriber import Transcriber, transcribe
from score_tokens.midi import parse_chord_label
from score_tokens.score import (
    DEFAULT_PROGRAMS,
    NOTE_TRACKS,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)

if TYPE_CHECKING:
    from mir.asr import LyricsRecognizer

logger = logging.getLogger(__name__)

NoteList = list[tuple[float, float, int]]
"""Notes as (start s, end s, MIDI pitch); drums use the GM drum instrument as pitch."""
CHORD_GRID_DIVISION = 2
"""Chord changes are placed on the nearest 1/2 beat (madmom's chords come at 10 frames/s)."""


def _empty_notes() -> dict[str, NoteList]:
    return {name: [] for name in NOTE_TRACKS}


@dataclass
class Analysis:
    """Everything MIR found in one recording (times in seconds).

    Attributes:
        duration: length of the audio.
        tempo: median tempo in bpm; None when no beats were found.
        beats, downbeats: beat and bar-start times.
        beat_positions: each beat's position in its bar (1 = downbeat).
        time_signature: "3/4" or "4/4".
        key: e.g. "A minor".
        chords: (start, end, label) in mir_eval syntax.
        sections: (start, end, label) with labels like "verse", "chorus".
        notes: per instrument (vocal, piano, guitar, bass, drums), (start, end, pitch).
        lyrics: (start, end, text).
    """

    duration: float
    tempo: float | None = None
    beats: list[float] = field(default_factory=list)
    downbeats: list[float] = field(default_factory=list)
    beat_positions: list[int] = field(default_factory=list)
    time_signature: str = "4/4"
    key: str = "C major"
    chords: list[tuple[float, float, str]] = field(default_factory=list)
    sections: list[tuple[float, float, str]] = field(default_factory=list)
    notes: dict[str, NoteList] = field(default_factory=_empty_notes)
    lyrics: list[tuple[float, float, str]] = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        """The `analysis.json` contents (DESIGN.md §12), JSON-ready."""
        return {
            "duration": round(self.duration, 4),
            "tempo": self.tempo,
            "beats": list(self.beats),
            "downbeats": list(self.downbeats),
            "time_signature": self.time_signature,
            "key": self.key,
            "chords": [[start, end, label] for start, end, label in self.chords],
            "sections": [[start, end, label] for start, end, label in self.sections],
            "notes": {
                name: [[start, end, int(pitch)] for start, end, pitch in self.notes.get(name, [])]
                for name in ("vocal", "piano", "guitar", "bass", "drums")
            },
            "lyrics": [[start, end, text] for start, end, text in self.lyrics],
        }

    def beat_grid(self) -> BeatGrid:
        return BeatGrid(
            tuple(self.beats),
            tuple(self.downbeats),
            tuple(self.beat_positions),
            self.time_signature,
            self.tempo,
        )

    def tick_grid(self, ticks_per_beat: int = 480) -> TickGrid:
        """The seconds -> ticks map this analysis puts its score on (anchored at every tracked
        downbeat, so events land on the bar and beat they were heard against)."""
        _, beat_ticks = _meter(self.time_signature, ticks_per_beat)
        if not self._has_beat_grid():
            tempo = None if self.tempo is None else self.tempo * beat_ticks / ticks_per_beat
            return TickGrid.constant(tempo, ticks_per_beat)
        return TickGrid.from_beats(
            self.beats,
            self.beat_positions,
            beats_per_bar(self.time_signature),
            ticks_per_beat,
            beat_ticks,
        )

    def tempo_map(self, grid: TickGrid) -> list[TempoChange]:
        """The score's tempo map: `mir.tempo`'s stretches of constant tempo, each starting on
        its first beat's tick in `grid` (from `tick_grid`), in quarter notes per minute rounded
        to 0.1 (a 6/8 beat is a dotted quarter). One tempo for a piece played at one tempo.

        When the first beat is not a downbeat at time 0, the grid's lead-in comes first, at its
        own tempo (`TickGrid.lead_in_bpm`), and the first stretch starts where it ends: so the
        score reaches the first beat when the audio does, and its seconds follow the audio from
        there (within the stretches' fit)."""
        if not self._has_beat_grid():
            return [TempoChange(0, round(grid.final_bpm, 1))]
        _, beat_ticks = _meter(self.time_signature, grid.ticks_per_beat)
        quarters_per_beat = beat_ticks / grid.ticks_per_beat
        lead_in = grid.lead_in_bpm()
        changes = [] if lead_in is None else [TempoChange(0, lead_in)]
        for index, stretch in enumerate(tempo_stretches(self.beats, self.beat_positions)):
            bpm = round(stretch.bpm * quarters_per_beat, 1)
            tick = grid.beat_tick(self.beats[stretch.first], beat_ticks) if index else 0
            tick = max(tick, grid.lead_ticks)  # the first stretch starts after the lead-in
            if changes and (bpm == changes[-1].bpm or tick <= changes[-1].tick):
                continue
            changes.append(TempoChange(tick, bpm))
        return changes or [TempoChange(0, round(grid.final_bpm, 1))]

    def to_score(self, ticks_per_beat: int = 480) -> Score:
        """The analysis as a validated `Score`: events on the tracked beats' bars and beats,
        under the readable tempo map of `tempo_map`."""
        grid = self.tick_grid(ticks_per_beat)
        numerator, denominator = (int(part) for part in self.time_signature.split("/"))
        score = Score(
            ticks_per_beat=ticks_per_beat,
            tempos=self.tempo_map(grid),
            time_signatures=[TimeSignature(0, numerator, denominator)],
            key=self.key,
            sections=_sections_on_grid(self.sections, grid),
            chords=_chords_on_grid(self.chords, grid),
            tracks={
                name: Track(DEFAULT_PROGRAMS[name], _notes_on_grid(self.notes.get(name, []), grid))
                for name in NOTE_TRACKS
            },
            end_tick=max(grid.to_tick(self.duration), 1),
        )
        _attach_lyrics(score.tracks["vocal"].notes, self.lyrics, grid)
        return score.sort().validate()

    def _has_beat_grid(self) -> bool:
        return len(self.beats) >= 2 and len(self.beat_positions) == len(self.beats)


def _meter(time_signature: str, ticks_per_beat: int) -> tuple[int, int]:
    """Ticks per bar and per counted beat of `time_signature` (a 6/8 beat is a dotted quarter)."""
    numerator, denominator = (int(part) for part in time_signature.split("/"))
    bar_ticks = ticks_per_beat * 4 * numerator // denominator
    return bar_ticks, bar_ticks // beats_per_bar(time_signature)


def _chords_on_grid(chords: list[tuple[float, float, str]], grid: TickGrid) -> list[Chord]:
    placed: list[Chord] = []
    step = max(1, grid.ticks_per_beat // CHORD_GRID_DIVISION)
    for start, end, label in chords:
        tick, stop = _snap(grid.to_tick(start), step), _snap(grid.to_tick(end), step)
        if placed:
            tick = max(tick, placed[-1].tick + placed[-1].duration)
        if stop <= tick:
            continue
        root, quality = parse_chord_label(label)
        placed.append(Chord(tick, stop - tick, root, quality))
    return placed


def _snap(tick: int, step: int) -> int:
    return round(tick / step) * step


def _sections_on_grid(sections: list[tuple[float, float, str]], grid: TickGrid) -> list[Section]:
    placed: list[Section] = []
    for start, _, label in sections:
        tick = grid.to_tick(start)
        if placed and tick <= placed[-1].tick:
            continue
        placed.append(Section(tick, label))
    return placed


def _notes_on_grid(notes: NoteList, grid: TickGrid) -> list[Note]:
    placed = []
    for start, end, pitch in notes:
        tick = grid.to_tick(start)
        placed.append(Note(tick, max(1, grid.to_tick(end) - tick), int(pitch)))
    return placed


def _attach_lyrics(
    vocal: list[Note], lyrics: list[tuple[float, float, str]], grid: TickGrid
) -> None:
    """Put each lyric on the vocal note whose onset is nearest to the lyric's start."""
    if not vocal:
        if lyrics:
            logger.info(
                "%d lyric lines have no vocal notes to sit on; they are not in the score",
                len(lyrics),
            )
        return
    for start, _, text in lyrics:
        tick = grid.to_tick(start)
        note = min(vocal, key=lambda n: abs(n.tick - tick))
        note.lyric = f"{note.lyric} {text}" if note.lyric else text


def analyze(
    source: str | os.PathLike[str] | Audio,
    progress: bool = True,
    transcriber: Transcriber | None = None,
    lyrics: str | None = None,
    language: str = "en",
    asr: LyricsRecognizer | None = None,
) -> Analysis:
    """Run every MIR stage on a recording.

    Args:
        source: an audio file path or loaded `Audio`.
        progress: show a tqdm bar over the stages.
        transcriber: a trained five-instrument transcriber; None leaves `notes` empty.
        lyrics: the song's lyric text, aligned syllable by syllable to the vocal notes (needs a
            transcriber); None leaves `lyrics` empty.
        language: of the lyrics, "en" or "de" (how words split into syllables).
        asr: recognises the lyric text from the audio when `lyrics` is not given (the text is
            then aligned like given text); None runs no ASR.

    Returns:
        The `Analysis` (use `.to_score()` for the `Score`).

    Raises:
        AudioError: the file cannot be read.
    """
    audio = source if isinstance(source, Audio) else load_audio(source)
    audio = audio.to_mono()
    madmom_audio = audio.resample(MADMOM_SAMPLE_RATE)  # once for every madmom stage
    state: dict[str, Any] = {"notes": _empty_notes(), "lyrics": [], "chroma": None}
    stages: list[tuple[str, Callable[[], None]]] = [
        ("chroma", lambda: state.update(chroma=_shared_chroma(madmom_audio))),
        (
            "beats",
            lambda: state.update(grid=track_beats(madmom_audio, chroma=state["chroma"])),
        ),
        (
            "chords",
            lambda: state.update(chords=recognize_chords(madmom_audio, chroma=state["chroma"])),
        ),
        ("key", lambda: state.update(key=recognize_key(madmom_audio))),
    ]
    if transcriber is not None:  # before the sections: the vocal marks the intro and outro
        stages.append(("notes", lambda: state.update(notes=transcribe(transcriber, audio))))
    stages.append(
        (
            "sections",
            lambda: state.update(
                sections=segment(
                    audio,
                    state["grid"].beats,
                    state["grid"].downbeats,
                    vocal=state["notes"]["vocal"],
                )
            ),
        )
    )
    state["lyrics_text"] = lyrics if lyrics and lyrics.strip() else None
    wants_lyrics = state["lyrics_text"] is not None or asr is not None
    if wants_lyrics and transcriber is None:
        logger.warning("lyrics need vocal notes to sit on: pass a transcriber to align them")
    elif wants_lyrics:
        if state["lyrics_text"] is None and asr is not None:
            recognise = asr.transcribe
            stages.append(
                ("lyrics ASR", lambda: state.update(lyrics_text=recognise(audio, language)))
            )
        stages.append(
            ("lyrics", lambda: state.update(lyrics=_align(state["lyrics_text"], state, language)))
        )
    with tqdm(stages, desc="analyze", unit="stage", disable=not progress, leave=False) as bar:
        for name, run in bar:
            bar.set_postfix_str(name)
            run()
            release_freed_memory()
    return _assemble(audio, state)


def _shared_chroma(audio: Audio) -> np.ndarray | None:
    """The deep chroma that beat tracking and chord recognition both use, computed once; None
    for clips those stages skip anyway (they then compute nothing)."""
    if is_too_quiet_or_short(audio, RHYTHM_MIN_SECONDS):
        return None
    return deep_chroma(madmom_signal(audio))  # [C, 12]


def _align(text: str, state: dict[str, Any], language: str) -> list[tuple[float, float, str]]:
    from mir.lyrics import align_lyrics

    return align_lyrics(text, state["notes"].get("vocal", []), language)


def _assemble(audio: Audio, state: dict[str, Any]) -> Analysis:
    grid: BeatGrid = state["grid"]
    chords: ChordSequence = state["chords"]
    sections: Sections = state["sections"]
    return Analysis(
        duration=round(audio.duration, 4),
        tempo=grid.tempo,
        beats=list(grid.beats),
        downbeats=list(grid.downbeats),
        beat_positions=list(grid.beat_positions),
        time_signature=grid.time_signature,
        key=state["key"],
        chords=list(chords.segments),
        sections=list(sections.segments),
        notes={name: list(state["notes"].get(name, [])) for name in NOTE_TRACKS},
        lyrics=list(state["lyrics"]),
    )
