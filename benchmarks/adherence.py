"""Scoring audio against a corpus piece's ground truth: what the codec and renderer
benchmarks share.

`analyser` runs our MIR (`mir.analyze.analyze` with the note transcriber) on a mono clip;
`trim_truth` cuts a piece's truth to the clip; `evaluate` (in `mir.evaluate`) scores the analysis,
and the helpers here add what the benchmarks report beside it:

- chords by bar (`chords_by_bar`): for each bar of the truth (a downbeat to the next one; the last
  bar ends at the truth's end), the chord covering most of the bar in the truth and in the
  analysis (time covered by no chord counts as `N`), both reduced to root + maj/min
  (`reduce_chord`: a major third makes `maj`, a minor third without a major third makes `min`,
  so `dim`/`hdim7` count as `min`, `aug` as `maj`, and chords without a third (`sus2`, `sus4`,
  `5`, `1`) as `maj` of their root; roots are compared as pitch classes, so `Db` = `C#`; `N`
  and `X` are `N`); the fraction of bars whose reduced labels are equal;
- `same_key`: tonic pitch class and mode equal, as `mir_eval.key` parses them;
- `onset_f1s`: note onset F1 per instrument (`evaluate`'s `notes_<track>_onset_f1`), 0 where the
  truth has notes of the instrument in the clip and the analysis none (`evaluate` leaves those
  out).

`MirScores` collects one system's metrics over clips.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import mir_eval
import numpy as np

from mir.analyze import Analysis, analyze
from mir.audio import Audio
from mir.evaluate import GroundTruth, Segments
from mir.transcriber import Transcriber
from score_tokens.score import PITCH_CLASS_NAMES
from seedmusic.errors import UserError

MIR_TRACKS = ("vocal", "piano", "guitar", "bass", "drums")

Analyse = Callable[[np.ndarray], Analysis]


def trim_truth(truth: GroundTruth, seconds: float) -> GroundTruth:
    """The ground truth of the first `seconds`: the beats, downbeats, segments (chords, sections,
    lyrics) and notes that start before the end, segments and notes cut at the end."""
    end = min(truth.duration, seconds)

    def segments(items: Segments) -> Segments:
        return [(start, min(stop, end), label) for start, stop, label in items if start < end]

    return dataclasses.replace(
        truth,
        duration=end,
        beats=[t for t in truth.beats if t < end],
        downbeats=[t for t in truth.downbeats if t < end],
        chords=segments(truth.chords),
        sections=segments(truth.sections),
        lyrics=segments(truth.lyrics),
        notes={
            name: [(start, min(stop, end), pitch) for start, stop, pitch in notes if start < end]
            for name, notes in truth.notes.items()
        },
    )


def reduce_chord(label: str) -> str:
    """A mir_eval chord label reduced to `root:maj`, `root:min` or `N` (see the module
    docstring): `C:maj7` -> `C:maj`, `A:min7` -> `A:min`, `Db:7` -> `C#:maj`, `B:dim` ->
    `B:min`, `G:sus4` -> `G:maj`, `X` -> `N`."""
    root, semitones, _ = mir_eval.chord.encode(label)
    if root < 0:
        return "N"
    minor = bool(semitones[3]) and not semitones[4]
    return f"{PITCH_CLASS_NAMES[root]}:{'min' if minor else 'maj'}"


def bar_spans(truth: GroundTruth) -> list[tuple[float, float]]:
    """(start, end) of each bar of `truth`: a downbeat to the next one, the last to the end."""
    if not truth.downbeats:
        return []
    ends = [*truth.downbeats[1:], truth.duration]
    spans = [
        (start, min(end, truth.duration)) for start, end in zip(truth.downbeats, ends, strict=True)
    ]
    return [(start, end) for start, end in spans if end > start]


def bar_chord(segments: Segments, start: float, end: float) -> str:
    """The reduced chord covering most of `[start, end)` (uncovered time counts as `N`; a tie
    goes to the chord heard first)."""
    cover: dict[str, float] = {}
    for a, b, label in segments:
        overlap = min(b, end) - max(a, start)
        if overlap > 0:
            name = reduce_chord(label)
            cover[name] = cover.get(name, 0.0) + overlap
    silence = (end - start) - sum(cover.values())
    if silence > 0:
        cover["N"] = cover.get("N", 0.0) + silence
    return max(cover, key=lambda name: cover[name]) if cover else "N"


def bar_chords(segments: Segments, bars: list[tuple[float, float]]) -> list[str]:
    return [bar_chord(segments, start, end) for start, end in bars]


def chords_by_bar(truth: GroundTruth, chords: Segments) -> float | None:
    """The fraction of the truth's bars whose reduced chord (the one covering most of the bar)
    is the same in `chords`; None when the truth has no bar."""
    bars = bar_spans(truth)
    if not bars:
        return None
    return bar_agreement(bar_chords(truth.chords, bars), bar_chords(chords, bars))


def bar_agreement(reference: list[str], estimate: list[str]) -> float | None:
    if not reference:
        return None
    return sum(a == b for a, b in zip(reference, estimate, strict=True)) / len(reference)


def same_key(reference: str, estimate: str) -> bool:
    """Whether two keys ("C# major", "Db major", "A minor") have the same tonic and mode."""
    try:
        return mir_eval.key.split_key_string(reference) == mir_eval.key.split_key_string(estimate)
    except (ValueError, KeyError):
        return reference.strip().lower() == estimate.strip().lower()


def onset_f1s(scores: dict[str, float | None], truth: GroundTruth) -> dict[str, float | None]:
    """Note onset F1 per track of `MIR_TRACKS` from `evaluate`'s `scores`: 0 when the truth has
    notes of the track and the analysis none (`evaluate` leaves it out), None when the truth has
    none."""
    values: dict[str, float | None] = {}
    for track in MIR_TRACKS:
        value = scores.get(f"notes_{track}_onset_f1")
        if value is None and truth.notes.get(track):
            value = 0.0  # the truth has notes here and the analysis none
        values[track] = value
    return values


@dataclass
class MirScores:
    """One system's MIR metrics over clips (None values left out)."""

    values: dict[str, list[float]] = field(default_factory=dict)

    def add(self, metrics: dict[str, float | None]) -> None:
        for name, value in metrics.items():
            if value is not None:
                self.values.setdefault(name, []).append(value)

    def mean(self, name: str) -> float | None:
        values = self.values.get(name)
        return float(np.mean(values)) if values else None

    def count(self, name: str) -> tuple[int, int]:
        """(how many clips scored 1, how many were scored)."""
        values = self.values.get(name, [])
        return round(sum(values)), len(values)


def analyser(transcriber: Transcriber, sample_rate: int) -> Analyse:
    """`analyze` with the transcriber, on a mono clip at `sample_rate`."""

    def analyse(audio: np.ndarray) -> Analysis:
        return analyze(Audio(audio, sample_rate), progress=False, transcriber=transcriber)

    return analyse


def load_transcriber(path: Path) -> Transcriber:
    if not path.is_dir():
        raise UserError(f"no transcriber checkpoint at {path}")
    return Transcriber.from_pretrained(path).eval()
