"""The main job on the shipped checkpoints: lyrics + style -> a sung song, then checked.

`run_demo(out_dir)`:
1. composes a song from the demo's lyrics and style with the shipped composer
   (`checkpoints/composer`): `score.json`, `score.mid`, `score.musicxml`, `score.png`,
   `tokens.json`;
2. renders it with the trained neural renderer (score frames -> `checkpoints/dit` -> the codec's
   VAE in `checkpoints/codec`) into `song.wav` and `stems/` (vocal, accompaniment, each
   instrument);
3. analyzes `song.wav` with `mir` (beats, key, chords, sections, and the notes of the five
   instruments with the shipped transcriber, the lyrics placed on the vocal) into `analysis/`,
   and scores that analysis against the song's own score: the song's **adherence**, the self-check
   of the renderer;
4. renders the same score with the exact synth renderer (FluidSynth + espeak-ng/Praat singer)
   into `song_synth.wav` and measures its adherence the same way: the ceiling;
5. round-trips `song.wav` through the shipped codec's 3 kbps tokens (`song_codec.wav`);
6. the MIR showcase (`example/`): the example song written in code, rendered with FluidSynth,
   analyzed, and scored against its ground truth (`example/evaluation.json`).

Everything is written into a staging folder and moved into place at the end, so an interrupted
demo leaves no half-written files.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
from tqdm.auto import tqdm

from mir.analyze import Analysis, analyze
from mir.audio import Audio
from mir.evaluate import evaluate, ground_truth_from_score
from score_tokens.io import write_score
from score_tokens.score import Score
from score_tokens.tokens_file import tokens_document
from seedmusic.outputs import write_analysis_outputs, write_json

logger = logging.getLogger(__name__)

SAMPLE_RATE = 24000
SCORE_FILES = ("score.json", "score.mid", "score.musicxml", "score.png")
ADHERENCE_KEYS = (
    "beat_f",
    "downbeat_f",
    "key_weighted",
    "chord_majmin",
    "notes_vocal_onset_f1",
    "notes_piano_onset_f1",
    "notes_guitar_onset_f1",
    "notes_bass_onset_f1",
    "notes_drums_onset_f1",
)

DEMO_LYRICS = """[verse]
Down by the harbour the lanterns are low
the boats are all sleeping and nowhere to go

[chorus]
Sing me the river, sing me the sea
carry the morning home to me

[verse]
Over the water the gulls call my name
the tide brings me back and it never is the same

[chorus]
Sing me the river, sing me the sea
carry the morning home to me
"""
DEMO_STYLE = "folk, female vocal, 96 bpm"


@dataclass
class DemoReport:
    """What the demo made and measured."""

    out_dir: Path
    composed: dict[str, Any] = field(default_factory=dict)
    render: dict[str, Any] = field(default_factory=dict)
    adherence: dict[str, float | None] = field(default_factory=dict)
    synth_adherence: dict[str, float | None] = field(default_factory=dict)
    analysis: dict[str, Any] = field(default_factory=dict)
    codec: dict[str, Any] = field(default_factory=dict)
    example: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        """A short human-readable summary."""
        out = self.out_dir
        lines = []
        if self.composed:
            lines.append(
                f"composed: {self.composed['bars']} bars in {self.composed['key']}, "
                f"{self.composed['meter']}, {self.composed['tempo_bpm']:.0f} bpm, "
                f"{self.composed['syllables']} syllables on {self.composed['vocal_notes']} "
                f"notes -> {out / 'score.png'}"
            )
        if self.render:
            lines.append(
                f"song: {self.render['seconds']:.1f} s sung by the trained neural renderer "
                f"(score frames -> DiT -> VAE), rendered with its stems in "
                f"{self.render['timings']['render']:.1f} s "
                f"-> {out / 'song.wav'} and {out / 'stems'}"
            )
        if self.adherence:
            lines.append("self-check: our MIR on the song against its score (neural | synth)")
            lines += [
                f"  {name:<22} {_fmt(self.adherence.get(name))} | "
                f"{_fmt(self.synth_adherence.get(name))}"
                for name in ADHERENCE_KEYS
            ]
        if self.analysis:
            lines.append(
                f"analysis of the song: tempo {self.analysis.get('tempo')} bpm, "
                f"{self.analysis.get('time_signature')}, key {self.analysis.get('key')}, "
                f"{len(self.analysis.get('chords', []))} chord segments -> {out / 'analysis'}"
            )
        if self.codec:
            lines.append(
                f"codec round trip: {self.codec['num_codebooks']}x{self.codec['num_frames']} "
                f"tokens at {self.codec['kbps']:.1f} kbps, log-mel L1 "
                f"{self.codec['log_mel_l1']:.3f} -> {out / 'song_codec.wav'}"
            )
        if self.example:
            lines.append(
                f"MIR showcase: the example song ({self.example['seconds']:.1f} s, "
                f"{self.example['notes']} notes, FluidSynth) analyzed against its ground truth "
                f"-> {out / 'example'}"
            )
            lines += [
                f"  {name:<22} {_fmt(value)}"
                for name, value in self.metrics.items()
                if name in ADHERENCE_KEYS
            ]
        return lines


def _fmt(value: float | None) -> str:
    return "  n/a" if value is None else f"{value:.3f}"


Stage = Callable[[Path, "DemoState"], None]


@dataclass
class DemoState:
    """What one stage hands to the next."""

    seed: int = 0
    score: Score | None = None
    audio: np.ndarray | None = None  # [S] mono float32 at SAMPLE_RATE: the generated song
    report: DemoReport | None = None


def run_demo(out_dir: Path, seed: int = 0, progress: bool = True) -> DemoReport:
    """Run every stage into `out_dir` (created; existing demo files are replaced)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"cannot write into {str(out_dir)!r}: it is a file")
    out_dir.mkdir(parents=True, exist_ok=True)
    state = DemoState(seed=seed, report=DemoReport(out_dir=out_dir))
    stages: list[tuple[str, Stage]] = [
        ("composer", _compose_song),
        ("neural render", _render_neural),
        ("analysis", _analyze_song),
        ("synth render", _render_synth),
        ("codec round trip", _codec_round_trip),
        ("MIR showcase", _example_song),
    ]
    staging = Path(tempfile.mkdtemp(prefix=".demo.", dir=out_dir))
    try:
        bar = tqdm(stages, desc="demo", unit="stage", disable=not progress)
        for name, stage in bar:
            bar.set_postfix_str(name)
            stage(staging, state)
        _move_into_place(staging, out_dir)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
    assert state.report is not None
    write_json(out_dir / "summary.json", _report_json(state.report))
    return state.report


def _compose_song(folder: Path, state: DemoState) -> None:
    from seedmusic.commands.compose import write_compose_outputs
    from seedmusic.composer.lyrics_input import parse_lyrics
    from seedmusic.composer.pipeline import Composer, ComposeRequest
    from seedmusic.composer.style import parse_style

    assert state.report is not None
    composer = Composer.from_pretrained()
    result = composer.compose(
        ComposeRequest(parse_lyrics(DEMO_LYRICS), parse_style(DEMO_STYLE), seed=state.seed)
    )
    write_compose_outputs(folder, result)
    (folder / "summary.json").unlink()  # the demo's own summary.json replaces the composer's
    state.score = result.score
    state.report.composed = result.summary


def _render_neural(folder: Path, state: DemoState) -> None:
    from seedmusic.song import RenderRequest, render_song, song_summary, song_writers

    assert state.score is not None and state.report is not None
    song = render_song(
        state.score, RenderRequest("neural", stems=True, seed=state.seed, adherence=False)
    )
    for name, write in song_writers(song, state.score).items():
        if not name.startswith("score."):
            (folder / name).parent.mkdir(parents=True, exist_ok=True)
            write(folder / name)
    state.audio = song.mix
    state.report.render = song_summary(song)


def _analyze_song(folder: Path, state: DemoState) -> None:
    """Analyze the generated song (with its words) and score it against its own score."""
    assert state.audio is not None and state.score is not None and state.report is not None
    started = time.perf_counter()
    analysis = _analysis(state.audio, state.score)
    score = analysis.to_score()
    write_analysis_outputs(
        folder / "analysis", analysis.to_json_dict(), score, tokens_document(score, "remi")
    )
    state.report.analysis = analysis.to_json_dict()
    state.report.adherence = evaluate(analysis, ground_truth_from_score(state.score))
    state.report.render["timings"]["adherence"] = round(time.perf_counter() - started, 3)


def _analysis(audio: np.ndarray, score: Score) -> Analysis:
    transcriber = _shipped_transcriber()
    words = " ".join(note.lyric for note in score.notes("vocal") if note.lyric)
    return analyze(
        Audio(audio[np.newaxis, :], SAMPLE_RATE),
        progress=False,
        transcriber=transcriber,
        lyrics=words if transcriber is not None and words else None,
    )


def _shipped_transcriber() -> Any:
    """The reference transcriber, or None (with a log line) when it is not there."""
    from mir.transcriber import Transcriber
    from seedmusic.checkpoints import optional_reference_checkpoint

    folder = optional_reference_checkpoint("transcriber", "the demo's analysis has no notes")
    return None if folder is None else Transcriber.from_pretrained(folder).eval()


def _render_synth(folder: Path, state: DemoState) -> None:
    """The same score through the exact synth renderer, and its adherence: the ceiling."""
    from seedmusic.song import RenderRequest, render_song

    assert state.score is not None and state.report is not None
    song = render_song(state.score, RenderRequest("synth", seed=state.seed, adherence=False))
    sf.write(folder / "song_synth.wav", song.mix, SAMPLE_RATE, subtype="PCM_16")
    analysis = _analysis(song.mix, state.score)
    state.report.synth_adherence = evaluate(analysis, ground_truth_from_score(state.score))


def _codec_round_trip(folder: Path, state: DemoState) -> None:
    """Song -> the shipped codec's tokens -> `song_codec.wav` (skipped without a codec)."""
    import torch

    from renderer.codec import AudioCodec, log_mel_l1, write_audio
    from seedmusic.checkpoints import optional_reference_checkpoint

    assert state.audio is not None and state.report is not None
    checkpoint = optional_reference_checkpoint("codec", "the demo skips the codec round trip")
    if checkpoint is None:
        return
    codec = AudioCodec.from_pretrained(checkpoint)
    with torch.no_grad():
        wav = torch.from_numpy(state.audio)[None, None].expand(-1, codec.audio_channels, -1)
        codes = codec.encode(wav, SAMPLE_RATE)  # [1, K, T]
        decoded = codec.decode(codes, length=wav.shape[-1])[0].numpy()  # [C, S]
    write_audio(folder / "song_codec.wav", decoded, SAMPLE_RATE)
    state.report.codec = {
        "num_codebooks": int(codes.shape[1]),
        "num_frames": int(codes.shape[2]),
        "kbps": codec.bitrate / 1000,
        "log_mel_l1": log_mel_l1(state.audio, decoded.mean(axis=0), SAMPLE_RATE),
    }


def _example_song(folder: Path, state: DemoState) -> None:
    """The example song written in code: FluidSynth render, analysis, evaluation."""
    from seedmusic.data.example_song import example_song
    from seedmusic.data.synth import render_score

    assert state.report is not None
    example = folder / "example"
    example.mkdir()
    score = example_song()
    for name in SCORE_FILES:
        write_score(score, example / name)
    for encoding in ("remi", "xval"):
        write_json(example / f"tokens_{encoding}.json", tokens_document(score, encoding))
    audio = render_score(score, sample_rate=SAMPLE_RATE)  # [S]
    sf.write(example / "song.wav", audio, SAMPLE_RATE, subtype="PCM_16")
    analysis = _analysis(audio, score)
    result = analysis.to_score()
    write_analysis_outputs(
        example / "analysis", analysis.to_json_dict(), result, tokens_document(result, "remi")
    )
    metrics = evaluate(analysis, ground_truth_from_score(score))
    write_json(example / "evaluation.json", metrics)
    state.report.metrics = metrics
    state.report.example = {"seconds": score.duration_seconds(), "notes": score.num_notes()}


def _move_into_place(staging: Path, out_dir: Path) -> None:
    for path in sorted(staging.iterdir()):
        target = out_dir / path.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(path, target)


def _report_json(report: DemoReport) -> dict[str, Any]:
    return {
        "composed": report.composed,
        "render": report.render,
        "adherence": report.adherence,
        "synth_adherence": report.synth_adherence,
        "codec": report.codec,
        "example": {**report.example, "metrics": report.metrics},
        "summary": report.summary_lines(),
    }
