"""Editing a song's score and re-rendering only what changed: preservation, compliance, seams,
speed.

    .venv/bin/python -m benchmarks.edit [--corpus data/corpus] [--recordings PATH [PATH ...]]
        [--max-recordings N] [--dit checkpoints/dit] [--codec checkpoints/codec] [--split test]
        [--pieces 4] [--seconds 30] [--long-seconds 180] [--steps 16] [--guidance 2.0]
        [--seed 0] [--threads 1] [--transcriber checkpoints/transcriber] [--no-reference]
        [--no-spectral-match] [--json OUT]

(at least one of `--corpus` and `--recordings`).

Sources: each of the first `--pieces` pieces of the split cut to its first whole bars covering
`--seconds` (`benchmarks.render.prepare_clip`), as two songs: its **real audio** (the corpus's
render; its score is the piece's own) and its **neural render** (`NeuralRenderer.render` of that
score).

With `--recordings`, each audio file given (a folder: its .wav, .flac, .ogg, .opus and .mp3
files, recursively, sorted; the first `--max-recordings` that read) is a third song, a
**recording** you did not make: loaded mono at the renderer's rate (`mir.audio.load_audio`;
an unreadable file is a warning and skipped), whole. Its score is our MIR's analysis of it
(`analyze` + transcriber, `.to_score()`), as `seedmusic edit` makes for an audio file, and its
truth is that score's (`ground_truth_from_score`, cut at the recording's end): the unedited
column is our MIR's agreement with itself through the score's grid, and the edited column how
well the re-rendered bars are heard as the edited analysis. The analysis finds no lyrics (no
ASR), so a recording gets no lyrics edit, and a chord edit only where an analyzed chord starts
in bar 5.

Three edits of each song, made with `seedmusic score edit`'s operations
(`seedmusic.score_edit`) and re-rendered by `seedmusic.edit.edit_song` exactly as `seedmusic
edit` does:

- transpose: bars 3-4 (1-based) up 2 semitones, every pitched track;
- chord: bar 5's first chord a fifth up, where it starts (its quality kept);
- lyrics: the first sung bar from bar 2 on gets new words with as many syllables ("la" and "na"
  alternating), so the composer is not needed and only the phonemes change (a recording's
  analysis has no words: each onset of its vocal notes counts as a syllable).

Metrics (means over songs × edits where defined):

- preservation: max |edited - source| outside the re-rendered spans (goal: exactly 0), and the
  log-mel L1 (`renderer.codec.log_mel_l1`) between edited and source over the 0.2 s around each
  seam, where the crossfades are;
- compliance, inside the spans: our MIR (`analyze` + transcriber, on the whole edited clip) against
  the **edited** score: note onset F1 of the pitched tracks that play in the span, chords by bar
  (majority chord, root + maj/min), and for transposes whether the semitone shift that best
  maps the source's chroma in the span onto the edit's is the one asked for. Beside it the same
  span metrics of a **retake** — the same bars re-rendered from the unedited score
  (`edit_song(spans=...)`), against that score: the renderer's own adherence on those bars of
  that song; goal: within 5 % of it. In brackets, the unedited source against its score (for a
  recording, our MIR's agreement with its own analysis);
- timbre: inside the spans, the distance between the mean MFCCs (1-19) of the edited audio and
  of the source (`span_timbre`): how far the re-rendered bars sound from the song they sit in
  (the edit itself moves it a little: a transposition, other words); in brackets the retake's;
- seams: the spectral jump (`benchmarks.render_metrics.spectral_jumps`) at the spans' edges
  against the jump at the song's bar lines outside the spans; goal: no larger;
- speed: re-rendering 4 bars (3-6, transposed) of a song against rendering the whole song with
  the same renderer; the song is the split's longest piece, cut to `--long-seconds` if longer;
  goal <= 10 % (needs `--corpus`).

The tables show only the sources that have songs. `--json` writes every song × edit as a row
(`piece`: the corpus piece's id or the recording's file name).

Run it as a module (`python -m benchmarks.edit`).
"""

from __future__ import annotations

import argparse
import json
import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import librosa
import numpy as np
import torch
from tqdm.auto import tqdm

from benchmarks.adherence import (
    Analyse,
    MirScores,
    analyser,
    bar_agreement,
    bar_chords,
    load_transcriber,
    trim_truth,
)
from benchmarks.codec import fit_length
from benchmarks.recordings import (
    add_recording_arguments,
    check_recording_arguments,
    load_recordings,
    recording_paths,
)
from benchmarks.render import Clip, cut_score, dit_checkpoint, markdown_table, prepare_clip
from benchmarks.render_metrics import spectral_jumps
from mir.analyze import Analysis
from mir.evaluate import GroundTruth, ground_truth_from_score, note_f1
from renderer.codec import log_mel_l1
from score_tokens.score import PITCH_CLASS_NAMES, Score
from seedmusic.checkpoints import reference_checkpoint
from seedmusic.data.corpus import Corpus
from seedmusic.edit import EditedSong, Span, edit_song
from seedmusic.errors import UserError
from seedmusic.neural_render import NeuralRenderer, NeuralRenderSettings
from seedmusic.score_edit import EditOp, apply_edits

logger = logging.getLogger(__name__)

PITCHED = ("vocal", "piano", "guitar", "bass")
EDITS = ("transpose", "chord", "lyrics")
SOURCES = ("real audio", "neural render", "recording")
SEAM_WINDOW_S = 0.1
"""Seconds on each side of a seam over which preservation's log-mel L1 is taken."""
COMPLIANCE: dict[str, str] = {
    "notes": "note onset F1",
    "chords": "chords by bar",
    "shift": "transposition heard",
}
SPEED_GOAL = 0.10


# --- edits ------------------------------------------------------------------------------------


def edit_ops(score: Score, kind: str) -> list[EditOp] | None:
    """The benchmark's edit of `kind` for `score` (module docstring); None when it has no
    place for it (too few bars, no chord in bar 5, no sung bar)."""
    bars = len(score.bar_starts())
    if kind == "transpose":
        return [EditOp.parse("transpose", "3-4:2")] if bars >= 4 else None
    if kind == "chord":
        if bars < 5:
            return None
        start, stop = _bar_ticks(score, 4)
        chords = [c for c in score.chords if start <= c.tick < stop]
        if not chords or chords[0].root is None:
            return None
        root = PITCH_CLASS_NAMES[(chords[0].root + 7) % 12]
        suffix = "m" if chords[0].quality.startswith("min") else ""
        denominator = score.signature_at(start).denominator  # the op's beats are the meter's
        beat = 1 + (chords[0].tick - start) / score.ticks_per_beat * denominator / 4
        return [EditOp.parse("chord", f"5.{beat:.6f}:{root}{suffix}")]
    worded = any(n.lyric for n in score.notes("vocal"))  # else each vocal onset is a syllable's
    for bar in range(1, bars):
        start, stop = _bar_ticks(score, bar)
        sung = {n.tick for n in score.notes("vocal") if start <= n.tick < stop and n.lyric}
        if not worded:
            sung = {n.tick for n in score.notes("vocal") if start <= n.tick < stop}
        if sung:
            words = " ".join("la" if i % 2 == 0 else "na" for i in range(len(sung)))
            return [EditOp.parse("lyrics", f"{bar + 1}:{words}")]
    return None


def _bar_ticks(score: Score, bar: int) -> tuple[int, int]:
    starts = score.bar_starts()
    stop = starts[bar + 1] if bar + 1 < len(starts) else score.last_event_tick() + 1
    return starts[bar], stop


# --- metrics ----------------------------------------------------------------------------------


def outside_difference(source: np.ndarray, edited: EditedSong) -> float:
    """max |edited - source| over the samples outside every span."""
    mask = np.ones(source.shape[-1], dtype=bool)
    for span in edited.spans:
        mask[round(span.start * edited.sample_rate) : round(span.end * edited.sample_rate)] = False
    if not mask.any():
        return 0.0
    return float(np.abs(edited.audio[..., mask] - source[..., mask]).max())


def seam_times(spans: Sequence[Span], seconds: float) -> list[float]:
    """The spans' edges inside the song (a span's start at 0 or end at the end is no seam)."""
    return [t for s in spans for t in (s.start, s.end) if 0.0 < t < seconds - 1e-6]


def crossfade_mel(
    source: np.ndarray, edited: np.ndarray, rate: int, seams: list[float]
) -> float | None:
    """Mean log-mel L1 between edited and source over the `SEAM_WINDOW_S` around each seam."""
    values = []
    for t in seams:
        a, b = max(0, round((t - SEAM_WINDOW_S) * rate)), round((t + SEAM_WINDOW_S) * rate)
        if b - a >= rate // 10:
            values.append(log_mel_l1(source[a:b], edited[a:b], rate))
    return float(np.mean(values)) if values else None


def span_truth(
    truth: GroundTruth, spans: Sequence[Span]
) -> tuple[dict[str, list[Any]], list[tuple[float, float]]]:
    """The truth's pitched notes starting inside the spans, and its bars inside them."""
    inside = lambda t: any(s.start - 1e-6 <= t < s.end for s in spans)  # noqa: E731
    notes = {name: [n for n in truth.notes.get(name, []) if inside(n[0])] for name in PITCHED}
    ends = [*truth.downbeats[1:], truth.duration]
    bars = [(a, b) for a, b in zip(truth.downbeats, ends, strict=True) if inside(a) and b > a]
    return notes, bars


def span_compliance(
    analysis: Analysis, truth: GroundTruth, spans: Sequence[Span]
) -> dict[str, float | None]:
    """Note onset F1 (pitched tracks that play in the spans, notes pooled) and chords by bar of
    `analysis` against `truth`, inside `spans`."""
    notes, bars = span_truth(truth, spans)
    inside = lambda t: any(s.start - 1e-6 <= t < s.end for s in spans)  # noqa: E731
    playing = [name for name in PITCHED if notes[name]]
    reference = sorted(n for name in playing for n in notes[name])
    estimate = sorted(n for name in playing for n in analysis.notes.get(name, []) if inside(n[0]))
    f1 = note_f1(reference, estimate, False) if reference else None
    chords = bar_agreement(bar_chords(truth.chords, bars), bar_chords(analysis.chords, bars))
    return {"notes": f1, "chords": chords}


def span_timbre(source: np.ndarray, edited: np.ndarray, rate: int, spans: Sequence[Span]) -> float:
    """Euclidean distance between the mean MFCCs (coefficients 1-19) of `source` and `edited`
    inside the spans."""

    def mean_mfcc(audio: np.ndarray) -> np.ndarray:
        parts = [audio[round(s.start * rate) : round(s.end * rate)] for s in spans]
        joined = np.concatenate(parts).astype(np.float32)
        return librosa.feature.mfcc(y=joined, sr=rate, n_mfcc=20)[1:].mean(axis=1)  # [19]

    return float(np.linalg.norm(mean_mfcc(source) - mean_mfcc(edited)))


def chroma_shift(source: np.ndarray, edited: np.ndarray, rate: int, spans: Sequence[Span]) -> int:
    """The semitone shift (-5..6) that best maps the source's mean chroma inside the spans onto
    the edited audio's."""

    def mean_chroma(audio: np.ndarray) -> np.ndarray:
        parts = [audio[round(s.start * rate) : round(s.end * rate)] for s in spans]
        joined = np.concatenate(parts).astype(np.float32)
        return librosa.feature.chroma_stft(y=joined, sr=rate, n_fft=4096).mean(axis=1)  # [12]

    a, b = mean_chroma(source), mean_chroma(edited)
    a, b = a - a.mean(), b - b.mean()
    scores = {shift: float(np.dot(np.roll(a, shift), b)) for shift in range(-5, 7)}
    return max(scores, key=lambda shift: scores[shift])


# --- running ----------------------------------------------------------------------------------


@dataclass
class Results:
    """Per source, per edit: the metrics' values."""

    edited: dict[str, dict[str, MirScores]] = field(
        default_factory=lambda: {s: {e: MirScores() for e in EDITS} for s in SOURCES}
    )
    unedited: dict[str, dict[str, MirScores]] = field(
        default_factory=lambda: {s: {e: MirScores() for e in EDITS} for s in SOURCES}
    )
    retake: dict[str, dict[str, MirScores]] = field(
        default_factory=lambda: {s: {e: MirScores() for e in EDITS} for s in SOURCES}
    )
    rows: list[dict[str, Any]] = field(default_factory=list)
    speed: dict[str, float] = field(default_factory=dict)


@dataclass(frozen=True)
class Editing:
    """How the benchmark edits and listens: the renderer and `edit_song`'s options, and our MIR."""

    renderer: NeuralRenderer
    analyse: Analyse
    seed: int
    settings: NeuralRenderSettings
    reference: bool = True
    match_spectrum: bool = True

    def edit(
        self, audio: np.ndarray, score: Score, edited: Score, spans: Sequence[Span] | None = None
    ) -> EditedSong:
        """`edit_song` on `audio` (`[S]` at the renderer's rate) with these options."""
        return edit_song(
            self.renderer, audio[None].astype(np.float64), self.renderer.sample_rate, score,
            edited, self.seed, self.settings, reference=self.reference, spans=spans,
            match_spectrum=self.match_spectrum,
        )  # fmt: skip


def run_song(
    results: Results,
    source_name: str,
    song_id: str,
    score: Score,
    truth: GroundTruth,
    audio: np.ndarray,
    editing: Editing,
    analysis: Analysis | None = None,
) -> None:
    """Every edit of one song (`audio` `[S]` at the renderer's rate, `score` its score and
    `truth` what the unedited column is scored against), scored into `results` under
    `song_id` (`analysis`: `editing.analyse(audio)` when already made)."""
    analyse = editing.analyse
    rate = editing.renderer.sample_rate
    seconds = audio.size / rate
    source_analysis = analysis if analysis is not None else analyse(audio)
    for kind in EDITS:
        ops = edit_ops(score, kind)
        if ops is None:
            continue
        try:
            edited_score = apply_edits(score, ops)
            edited = editing.edit(audio, score, edited_score)
        except UserError as exc:
            logger.warning("%s, %s: %s", song_id, kind, exc)
            continue
        out = edited.audio[0].astype(np.float32)
        seams = seam_times(edited.spans, seconds)
        edited_truth = trim_truth(ground_truth_from_score(edited_score), seconds)
        metrics = span_compliance(analyse(out), edited_truth, edited.spans)
        if kind == "transpose":
            metrics["shift"] = float(chroma_shift(audio, out, rate, edited.spans) == 2)
        bar_lines = [t for t in truth.downbeats if all(abs(t - s) > 0.25 for s in seams)]
        inside_bars = [t for t in bar_lines if not any(s.start <= t < s.end for s in edited.spans)]
        jumps_seam = spectral_jumps(out, rate, seams)
        jumps_bar = spectral_jumps(out, rate, inside_bars)
        metrics |= {
            "outside_max_diff": outside_difference(audio[None], edited),
            "crossfade_mel": crossfade_mel(audio, out, rate, seams),
            "timbre": span_timbre(audio, out, rate, edited.spans),
            "seam_jump": float(np.mean(jumps_seam)) if jumps_seam else None,
            "bar_jump": float(np.mean(jumps_bar)) if jumps_bar else None,
        }
        results.edited[source_name][kind].add(metrics)
        before = span_compliance(source_analysis, truth, edited.spans)
        if kind == "transpose":
            before["shift"] = float(chroma_shift(audio, audio, rate, edited.spans) == 0)
        results.unedited[source_name][kind].add(before)
        again = retake_metrics(editing, audio, score, truth, edited.spans, kind == "transpose")
        results.retake[source_name][kind].add(again)
        results.rows.append(
            {"piece": song_id, "source": source_name, "edit": kind,
             "spans": [s.to_json() for s in edited.spans], "edited": metrics, "unedited": before,
             "retake": again}
        )  # fmt: skip


def retake_metrics(
    editing: Editing,
    audio: np.ndarray,
    score: Score,
    truth: GroundTruth,
    spans: Sequence[Span],
    transposed: bool,
) -> dict[str, float | None]:
    """The spans of `audio` re-rendered from the unedited `score` (a retake: `edit_song` with
    `spans`), scored against `truth` as an edit is against the edited score: the renderer's own
    adherence on those bars in that song, which the edit's compliance is held to. With
    `transposed`, `shift` says whether the retake keeps the source's key (chroma shift 0)."""
    rate = editing.renderer.sample_rate
    out = editing.edit(audio, score, score, spans).audio[0].astype(np.float32)
    metrics = span_compliance(editing.analyse(out), truth, spans)
    if transposed:
        metrics["shift"] = float(chroma_shift(audio, out, rate, spans) == 0)
    metrics["timbre"] = span_timbre(audio, out, rate, spans)
    return metrics


def run_recording(results: Results, path: Path, audio: np.ndarray, editing: Editing) -> None:
    """Every edit of a recording (`audio` `[S]` at the renderer's rate), its score our MIR's
    analysis of it and its truth that score's (module docstring)."""
    analysis = editing.analyse(audio)
    score = analysis.to_score()
    truth = trim_truth(ground_truth_from_score(score), audio.size / editing.renderer.sample_rate)
    run_song(results, "recording", path.name, score, truth, audio, editing, analysis)


def measure_speed(
    renderer: NeuralRenderer,
    score: Score,
    seconds: float,
    seed: int,
    settings: NeuralRenderSettings,
) -> dict[str, float]:
    """Seconds to render `score` cut to `seconds` whole, and to re-render its bars 3-6 (fewer
    in a song of fewer bars)."""
    song = cut_score(score, seconds)
    started = time.perf_counter()
    audio, _ = renderer.render(song, seed=seed, settings=settings)
    whole = time.perf_counter() - started
    bars = len(song.bar_starts())
    first = min(3, bars)
    last = min(first + 3, bars)  # bars 3-6, or as many as a short song has
    edited_score = apply_edits(song, [EditOp.parse("transpose", f"{first}-{last}:2")])
    started = time.perf_counter()
    edit_song(
        renderer,
        audio["mix"][None].astype(np.float64),
        renderer.sample_rate,
        song,
        edited_score,
        seed,
        settings,
    )
    part = time.perf_counter() - started
    return {
        "bars": float(last - first + 1),
        "song_seconds": audio["mix"].size / renderer.sample_rate,
        "render_s": whole,
        "edit_4_bars_s": part,
        "ratio": part / whole,
    }


# --- tables -----------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def tables(results: Results) -> str:
    """The preservation/seams and compliance tables (the sources with songs), and the speed
    line when measured."""
    sources = [s for s in SOURCES if any(row["source"] == s for row in results.rows)]
    lines = ["preservation and seams (means over songs)"]
    header = ["source", "edit", "edits", "max |diff| outside", "log-mel L1 at the crossfades",
              "timbre distance in the spans (retake)", "jump at seams (dB)",
              "jump at bar lines (dB)"]  # fmt: skip
    rows = []
    for source in sources:
        for kind in EDITS:
            scores = results.edited[source][kind]
            count = len(scores.values.get("outside_max_diff", []))
            diffs = scores.values.get("outside_max_diff", [])
            rows.append([source, kind, str(count), _fmt(max(diffs) if diffs else None, 6),
                         _fmt(scores.mean("crossfade_mel"), 3),
                         f"{_fmt(scores.mean('timbre'))} "
                         f"({_fmt(results.retake[source][kind].mean('timbre'))})",
                         _fmt(scores.mean("seam_jump")),
                         _fmt(scores.mean("bar_jump"))])  # fmt: skip
    lines.append(markdown_table(header, rows))
    lines.append(
        "\ncompliance inside the spans: edited song vs the edited score / the same bars re-rendered"
        " unedited (a retake) vs the score; goal: within 5 % of the retake (in brackets: the"
        " source vs its score)"
    )
    header = ["source", "edit", *COMPLIANCE.values()]
    rows = []
    for source in sources:
        for kind in EDITS:
            cells = []
            for metric in COMPLIANCE:
                after = results.edited[source][kind].mean(metric)
                again = results.retake[source][kind].mean(metric)
                before = results.unedited[source][kind].mean(metric)
                cells.append(
                    "-" if after is None else f"{_fmt(after)} / {_fmt(again)} ({_fmt(before)})"
                )
            rows.append([source, kind, *cells])
    lines.append(markdown_table(header, rows))
    if results.speed:
        s = results.speed
        lines.append(
            f"\nspeed: re-rendering {s['bars']:.0f} bars of a {s['song_seconds']:.0f}-s song took "
            f"{s['edit_4_bars_s']:.1f} s, rendering the whole song {s['render_s']:.1f} s: "
            f"{100 * s['ratio']:.0f} % (goal <= {100 * SPEED_GOAL:.0f} %)"
        )
    return "\n".join(lines)


# --- command line -----------------------------------------------------------------------------


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.edit",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", type=Path, help="the corpus's pieces and the speed row")
    add_recording_arguments(
        parser, "audio files, or folders searched for them: each a recording song"
    )
    parser.add_argument("--dit", type=Path, help="default checkpoints/dit")
    parser.add_argument("--codec", type=Path, help="default checkpoints/codec")
    parser.add_argument("--split", default="test")
    parser.add_argument("--pieces", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--long-seconds", type=float, default=180.0, help="0: no speed row")
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--guidance", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--transcriber", type=Path, help="default checkpoints/transcriber")
    parser.add_argument(
        "--no-reference",
        action="store_true",
        help="give a DiT that reads a reference embedding none (what the reference does)",
    )
    parser.add_argument(
        "--no-spectral-match",
        action="store_true",
        help="keep the renderer's spectral balance in the re-rendered bars (edit_song's default"
        " matches the source's)",
    )
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    from seedmusic.cli import error_line, user_error_types

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    check_recording_arguments(parser, args)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    try:
        settings = NeuralRenderSettings(steps=args.steps, guidance=args.guidance)
        renderer = NeuralRenderer.from_pretrained(
            dit_checkpoint(args.dit), args.codec or reference_checkpoint("codec")
        )
        transcriber = load_transcriber(args.transcriber or reference_checkpoint("transcriber"))
        corpus = None if args.corpus is None else Corpus(args.corpus)
        pieces = [] if corpus is None else corpus.pieces(args.split)[: args.pieces]
    except (ValueError, UserError) as exc:
        parser.exit(2, f"error: {exc}\n")
    except user_error_types() as exc:
        parser.exit(2, error_line(exc) + "\n")
    rate = renderer.sample_rate
    analyse = analyser(transcriber, rate)
    results = Results()
    recordings: list[tuple[Path, np.ndarray]] = []
    if args.recordings:
        recordings = load_recordings(recording_paths(args.recordings), rate, args.max_recordings)
        if not recordings:
            named = " ".join(str(path) for path in args.recordings)
            parser.exit(2, f"error: no readable recording in {named}\n")
    clips: list[Clip] = []
    if corpus is not None:
        clips = [
            c for p in pieces if (c := prepare_clip(corpus, p, args.seconds, rate)) is not None
        ]
        if not clips:
            parser.exit(2, f"error: no {args.split} piece with notes in {args.corpus}\n")
    editing = Editing(
        renderer, analyse, args.seed, settings, reference=not args.no_reference,
        match_spectrum=not args.no_spectral_match,
    )  # fmt: skip
    for clip in tqdm(clips, desc="songs", unit="piece", disable=not clips):
        neural, _ = renderer.render(clip.score, seed=args.seed, settings=settings)
        songs = {"real audio": clip.mix, "neural render": fit_length(neural["mix"], clip.length)}
        for name, audio in songs.items():
            run_song(results, name, clip.piece.id, clip.score, clip.truth, audio, editing)
    for path, audio in tqdm(recordings, desc="recordings", unit="file"):
        run_recording(results, path, audio, editing)
    if corpus is not None and args.long_seconds > 0:
        longest = max(corpus.pieces(args.split), key=lambda piece: piece.seconds)
        results.speed = measure_speed(
            renderer, corpus.score(longest), args.long_seconds, args.seed, settings
        )
    parts: list[str] = []
    if clips:
        parts.append(f"{len(clips)} {args.split} pieces x {args.seconds:g} s (2 sources)")
    if recordings:
        mean = float(np.mean([audio.size for _, audio in recordings])) / rate
        parts.append(f"{len(recordings)} recordings (mean {mean:.0f} s)")
    print(
        f"{', '.join(parts)} x {len(EDITS)} edits; {args.steps} steps, guidance "
        f"{args.guidance:g}; CPU, {args.threads} threads"
    )
    print(tables(results))
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(
            json.dumps({"rows": results.rows, "speed": results.speed}, indent=1) + "\n"
        )


if __name__ == "__main__":
    main()
