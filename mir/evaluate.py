"""Score an `Analysis` against a ground-truth `Score` with mir_eval.

The ground truth comes from the score the audio was rendered from (the example song, the open
corpus): beats every quarter note (every `1/denominator` note), downbeats at bar starts, chord
segments, key, section boundaries and the notes of each instrument, all converted to seconds
through the score's tempo map.

Metrics (mir_eval, default tolerances):
- `beat_f`, `downbeat_f`: `mir_eval.beat.f_measure` (±70 ms), no trimming of the first 5 s;
  the reference beats are the counted beats (`counted_beats`): every `1/denominator` note, but
  the dotted quarter in compound meters (6/8, 9/8, 12/8), the level listeners tap and
  `mir.rhythm` reports;
- `tempo_accuracy`: 1 when the estimated tempo is within 4 % of the score's (first) tempo in
  counted beats per minute (dotted quarters in 6/8);
- `key_weighted`: `mir_eval.key.weighted_score` (fifths 0.5, relative 0.3, parallel 0.2);
- `chord_majmin`, `chord_sevenths`: weighted chord symbol recall from `mir_eval.chord.evaluate`;
- `section_f05`, `section_f3`: boundary hit rate F-measure at ±0.5 s and ±3 s;
- `notes_<track>_onset_f1`: `mir_eval.transcription.precision_recall_f1_overlap` with
  `offset_ratio=None` (onset within 50 ms and pitch within 50 cents), and
  `notes_<track>_onset_offset_f1` with the default offset rule (offset within 20 % of the
  reference note's length or 50 ms), only for tracks the analysis transcribed. Drums are scored
  on onsets only, the reference hits mapped onto the transcriber's drum classes first
  (`mir.transcriber.drum_class_notes`: kick, snare, hi-hat, toms, cymbals, other).
A metric is None when it is undefined (no reference events of that kind).
"""

from __future__ import annotations

import logging
import warnings
from dataclasses import dataclass, field
from typing import Any

import mir_eval
import numpy as np

from mir.analyze import Analysis
from mir.transcriber import drum_class_notes
from score_tokens.score import NOTE_TRACKS, Note, Score

logger = logging.getLogger(__name__)

TEMPO_TOLERANCE = 0.04
Segments = list[tuple[float, float, str]]
NoteEvents = list[tuple[float, float, int]]


@dataclass(frozen=True)
class GroundTruth:
    """Reference annotations in seconds, derived from a score."""

    duration: float
    tempo: float
    beats: list[float]
    downbeats: list[float]
    key: str
    chords: Segments
    sections: Segments
    notes: dict[str, NoteEvents] = field(default_factory=dict)
    time_signature: str = "4/4"
    lyrics: Segments = field(default_factory=list)

    def to_json_dict(self) -> dict[str, Any]:
        """The ground truth in the `analysis.json` format (DESIGN.md §12), JSON-ready."""
        return Analysis(
            duration=self.duration,
            tempo=self.tempo,
            beats=self.beats,
            downbeats=self.downbeats,
            time_signature=self.time_signature,
            key=self.key,
            chords=self.chords,
            sections=self.sections,
            notes=self.notes,
            lyrics=self.lyrics,
        ).to_json_dict()

    @classmethod
    def from_json_dict(cls, data: dict[str, Any]) -> GroundTruth:
        """Read back `to_json_dict` output (e.g. a corpus piece's `truth.json`)."""
        return cls(
            duration=float(data["duration"]),
            tempo=float(data["tempo"]),
            beats=[float(t) for t in data["beats"]],
            downbeats=[float(t) for t in data["downbeats"]],
            key=str(data["key"]),
            chords=[(float(a), float(b), str(label)) for a, b, label in data["chords"]],
            sections=[(float(a), float(b), str(label)) for a, b, label in data["sections"]],
            notes={
                name: [(float(a), float(b), int(p)) for a, b, p in notes]
                for name, notes in data["notes"].items()
            },
            time_signature=str(data["time_signature"]),
            lyrics=[(float(a), float(b), str(text)) for a, b, text in data["lyrics"]],
        )


def ground_truth_from_score(score: Score) -> GroundTruth:
    """Beats, downbeats, chords, sections, key and notes of `score` in seconds."""
    duration = score.duration_seconds()
    bar_starts = score.bar_starts()
    beats: list[float] = []
    for start in bar_starts:
        signature = score.signature_at(start)
        step = score.ticks_per_beat * 4 // signature.denominator
        beats += [score.tick_to_seconds(start + i * step) for i in range(signature.numerator)]
    seconds = score.tick_to_seconds
    chords = [(seconds(c.tick), seconds(c.tick + c.duration), c.label) for c in score.chords]
    section_ends = ([s.tick for s in score.sections[1:]] + [bar_starts[-1] + 10**9])[
        : len(score.sections)
    ]
    sections = [
        (seconds(s.tick), min(seconds(end), duration), s.label)
        for s, end in zip(score.sections, section_ends, strict=True)
    ]
    notes: dict[str, NoteEvents] = {
        name: [(seconds(n.tick), seconds(n.end), n.pitch) for n in score.notes(name)]
        for name in NOTE_TRACKS
    }
    vocal = score.notes("vocal")
    lyrics = [
        (seconds(n.tick), seconds(_syllable_end(vocal, i)), n.lyric)
        for i, n in enumerate(vocal)
        if n.lyric
    ]
    first = score.time_signatures[0]
    return GroundTruth(
        time_signature=f"{first.numerator}/{first.denominator}",
        lyrics=lyrics,
        duration=duration,
        tempo=sorted(score.tempos, key=lambda t: t.tick)[0].bpm,
        beats=[b for b in beats if b < duration],
        downbeats=[seconds(start) for start in bar_starts],
        key=score.key,
        chords=chords,
        sections=sections,
        notes=notes,
    )


def _syllable_end(vocal: list[Note], index: int) -> int:
    """Where the syllable starting at note `index` ends: after its melisma notes."""
    end = vocal[index].end
    for note in vocal[index + 1 :]:
        if note.lyric or note.tick > end:
            break
        end = max(end, note.end)
    return end


def evaluate(analysis: Analysis, truth: GroundTruth) -> dict[str, float | None]:
    """Every metric listed in the module docstring, keyed by name."""
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mir_eval warns about short or empty annotations
        metrics: dict[str, float | None] = {
            "beat_f": _beat_f(counted_beats(truth), analysis.beats),
            "downbeat_f": _beat_f(truth.downbeats, analysis.downbeats),
            "tempo_accuracy": _tempo_accuracy(counted_tempo(truth), analysis.tempo),
            "key_weighted": float(mir_eval.key.weighted_score(truth.key, analysis.key)),
        }
        metrics.update(_chord_scores(truth.chords, analysis.chords))
        metrics.update(_section_scores(truth.sections, analysis.sections))
        for name in NOTE_TRACKS:
            estimated = analysis.notes.get(name, [])
            if not estimated:
                continue
            reference = truth.notes.get(name, [])
            if name == "drums":
                reference = drum_class_notes(reference)
            metrics[f"notes_{name}_onset_f1"] = note_f1(reference, estimated, offsets=False)
            if name != "drums":
                metrics[f"notes_{name}_onset_offset_f1"] = note_f1(reference, estimated, True)
    return metrics


def _compound_group(time_signature: str) -> int:
    """Reference beats per counted beat: 3 in compound meters (6/8, 9/8, 12/8), else 1."""
    numerator, denominator = (int(part) for part in time_signature.split("/"))
    return 3 if denominator == 8 and numerator % 3 == 0 else 1


def counted_beats(truth: GroundTruth) -> list[float]:
    """The reference beats at the counted level: in compound meters every third beat from each
    downbeat (the dotted quarters); otherwise all of them."""
    group = _compound_group(truth.time_signature)
    if group == 1 or not truth.downbeats:
        return list(truth.beats)
    downbeats = np.asarray(truth.downbeats)
    beats = np.asarray(truth.beats)
    bar = np.searchsorted(downbeats, beats + 1e-6) - 1  # [N] the bar of each beat
    index_in_bar = np.zeros(len(beats), dtype=int)
    for i in range(1, len(beats)):
        index_in_bar[i] = index_in_bar[i - 1] + 1 if bar[i] == bar[i - 1] else 0
    return [float(t) for t, k in zip(beats, index_in_bar, strict=True) if k % group == 0]


def counted_tempo(truth: GroundTruth) -> float:
    """The score's first tempo (quarter notes per minute) in counted beats per minute."""
    denominator = int(truth.time_signature.split("/")[1])
    return truth.tempo * denominator / 4 / _compound_group(truth.time_signature)


def _beat_f(reference: list[float], estimated: list[float]) -> float | None:
    if not reference:
        return None
    return float(mir_eval.beat.f_measure(np.asarray(reference), np.asarray(estimated)))


def _tempo_accuracy(reference: float, estimated: float | None) -> float:
    if estimated is None:
        return 0.0
    return float(abs(estimated - reference) <= TEMPO_TOLERANCE * reference)


def _intervals(segments: Segments) -> tuple[np.ndarray, list[str]]:
    intervals = np.array([[start, end] for start, end, _ in segments], dtype=float).reshape(-1, 2)
    return intervals, [label for _, _, label in segments]


def _chord_scores(reference: Segments, estimated: Segments) -> dict[str, float | None]:
    if not reference:
        return {"chord_majmin": None, "chord_sevenths": None}
    if not estimated:
        return {"chord_majmin": 0.0, "chord_sevenths": 0.0}
    ref_intervals, ref_labels = _intervals(reference)
    est_intervals, est_labels = _intervals(estimated)
    scores = mir_eval.chord.evaluate(ref_intervals, ref_labels, est_intervals, est_labels)
    return {"chord_majmin": float(scores["majmin"]), "chord_sevenths": float(scores["sevenths"])}


def _section_scores(reference: Segments, estimated: Segments) -> dict[str, float | None]:
    if len(reference) < 2:
        return {"section_f05": None, "section_f3": None}
    if not estimated:
        return {"section_f05": 0.0, "section_f3": 0.0}
    ref_intervals, _ = _intervals(reference)
    est_intervals, _ = _intervals(estimated)
    return {
        f"section_f{name}": float(
            mir_eval.segment.detection(ref_intervals, est_intervals, window=window)[2]
        )
        for name, window in (("05", 0.5), ("3", 3.0))
    }


def note_f1(reference: NoteEvents, estimated: NoteEvents, offsets: bool) -> float | None:
    """mir_eval note F1: onset within 50 ms and pitch within 50 cents; with `offsets`, the offset
    too (within 20 % of the reference note's length or 50 ms). None for an empty reference."""
    if not reference:
        return None
    if not estimated:
        return 0.0
    ref_intervals, ref_pitches = _note_arrays(reference)
    est_intervals, est_pitches = _note_arrays(estimated)
    _, _, f1, _ = mir_eval.transcription.precision_recall_f1_overlap(
        ref_intervals,
        ref_pitches,
        est_intervals,
        est_pitches,
        offset_ratio=0.2 if offsets else None,
    )
    return float(f1)


def _note_arrays(notes: NoteEvents) -> tuple[np.ndarray, np.ndarray]:
    intervals = np.array([[start, max(end, start + 1e-3)] for start, end, _ in notes], dtype=float)
    pitches = np.array([mir_eval.util.midi_to_hz(pitch) for _, _, pitch in notes], dtype=float)
    return intervals.reshape(-1, 2), pitches
