"""The main job on what the repository ships today: one song through every stage.

`run_demo(out_dir)`:
1. writes the example song (written in code) as a score: JSON, MIDI, MusicXML, a picture, and
   its REMI and xVal tokens;
2. renders it with FluidSynth and a General-MIDI SoundFont to `song.wav`;
3. analyzes that audio with `mir` (beats, downbeats, tempo, key, chords, sections, and, with the
   shipped transcriber in `checkpoints/transcriber`, the notes of the five instruments with the
   song's words aligned to the vocal) into `analysis/` — the same files `seedmusic analyze`
   writes;
4. scores the analysis against the song's own ground truth with mir_eval (`evaluation.json`);
5. with the shipped codec in `checkpoints/codec`, turns `song.wav` into audio tokens and back
   (`song_codec.wav`) and measures the log-mel distance the round trip costs;
6. composes a new song from the demo's lyrics with the shipped composer
   (`checkpoints/composer`: lyrics + style -> melody, chords, sections and band) into
   `composed/` (the files `seedmusic compose` writes) and renders it, sung, with the exact synth
   renderer (FluidSynth for the band, espeak-ng + Praat for the vocal) to `composed/song.wav`;
7. runs the generation skeleton — conditions → LM audio tokens → DiT latents → VAE waveform —
   with **untrained** tiny models (`untrained_generation.wav`: noise-like, and labelled so).

Everything is written into a staging folder and moved into place at the end, so an interrupted
demo leaves no half-written files.
"""

from __future__ import annotations

import logging
import os
import shutil
import tempfile
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


@dataclass
class DemoReport:
    """What the demo made and measured."""

    out_dir: Path
    song_seconds: float = 0.0
    num_notes: int = 0
    analysis: dict[str, Any] = field(default_factory=dict)
    metrics: dict[str, float | None] = field(default_factory=dict)
    generation: dict[str, Any] = field(default_factory=dict)
    codec: dict[str, Any] = field(default_factory=dict)
    composed: dict[str, Any] = field(default_factory=dict)

    def summary_lines(self) -> list[str]:
        """A short human-readable summary."""
        lines = [
            f"example song: {self.song_seconds:.1f} s, {self.num_notes} notes "
            f"-> {self.out_dir / 'song.wav'} (FluidSynth)",
            f"analysis: tempo {self.analysis.get('tempo')} bpm, "
            f"{self.analysis.get('time_signature')}, key {self.analysis.get('key')}, "
            f"{len(self.analysis.get('chords', []))} chord segments, "
            f"{len(self.analysis.get('sections', []))} sections",
            "against the song's ground truth (mir_eval):",
        ]
        lines += [
            f"  {name:<16} {'n/a' if value is None else f'{value:.3f}'}"
            for name, value in self.metrics.items()
        ]
        if self.codec:
            lines.append(
                f"codec round trip: {self.codec['num_codebooks']}x{self.codec['num_frames']} "
                f"tokens at {self.codec['kbps']:.1f} kbps, log-mel L1 "
                f"{self.codec['log_mel_l1']:.3f} -> {self.out_dir / 'song_codec.wav'}"
            )
        if self.composed:
            lines.append(
                f"composed: {self.composed['bars']} bars in {self.composed['key']}, "
                f"{self.composed['meter']}, {self.composed['tempo_bpm']:.0f} bpm, "
                f"{self.composed['syllables']} syllables sung on {self.composed['vocal_notes']} notes, "
                f"in {self.composed['compose_seconds']:.1f} s -> {self.out_dir / 'composed'}"
            )
        if self.generation:
            lines.append(
                f"generation skeleton: {self.generation['seconds']:.1f} s of audio from "
                f"{self.generation['num_codebooks']}x{self.generation['num_frames']} tokens "
                f"-> {self.out_dir / 'untrained_generation.wav'} "
                "(UNTRAINED tiny models: noise-like by design)"
            )
        return lines


Stage = Callable[[Path, "DemoState"], None]


@dataclass
class DemoState:
    """What one stage hands to the next."""

    score: Score | None = None
    audio: np.ndarray | None = None  # [S] mono float32 at SAMPLE_RATE
    analysis: Analysis | None = None
    report: DemoReport | None = None


def run_demo(out_dir: Path, seed: int = 0, progress: bool = True) -> DemoReport:
    """Run every stage into `out_dir` (created; existing demo files are replaced)."""
    if out_dir.exists() and not out_dir.is_dir():
        raise NotADirectoryError(f"cannot write into {str(out_dir)!r}: it is a file")
    out_dir.mkdir(parents=True, exist_ok=True)
    state = DemoState(report=DemoReport(out_dir=out_dir))
    stages: list[tuple[str, Stage]] = [
        ("example song", _write_example_song),
        ("FluidSynth render", _render_song),
        ("analysis", _analyze_song),
        ("evaluation", _evaluate_analysis),
        ("codec round trip", _codec_round_trip),
        ("composer", lambda folder, st: _compose_song(folder, st, seed)),
        ("generation skeleton", lambda folder, st: _generate_untrained(folder, st, seed)),
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


def _write_example_song(folder: Path, state: DemoState) -> None:
    from seedmusic.data.example_song import example_song

    score = example_song()
    for name in SCORE_FILES:
        write_score(score, folder / name)
    for encoding in ("remi", "xval"):
        write_json(folder / f"tokens_{encoding}.json", tokens_document(score, encoding))
    state.score = score
    assert state.report is not None
    state.report.num_notes = score.num_notes()
    state.report.song_seconds = score.duration_seconds()


def _render_song(folder: Path, state: DemoState) -> None:
    from seedmusic.data.synth import render_score

    assert state.score is not None
    audio = render_score(state.score, sample_rate=SAMPLE_RATE)  # [S]
    sf.write(folder / "song.wav", audio, SAMPLE_RATE, subtype="PCM_16")
    state.audio = audio


def _analyze_song(folder: Path, state: DemoState) -> None:
    assert state.audio is not None and state.report is not None and state.score is not None
    transcriber = _shipped_transcriber()
    words = " ".join(note.lyric for note in state.score.notes("vocal") if note.lyric)
    analysis = analyze(
        Audio(state.audio[np.newaxis, :], SAMPLE_RATE),
        progress=False,
        transcriber=transcriber,
        lyrics=words if transcriber is not None else None,
    )
    score = analysis.to_score()
    write_analysis_outputs(
        folder / "analysis", analysis.to_json_dict(), score, tokens_document(score, "remi")
    )
    state.analysis = analysis
    state.report.analysis = analysis.to_json_dict()


def _shipped_transcriber() -> Any:
    """The reference transcriber, or None (with a log line) when it is not there."""
    from mir.transcriber import Transcriber
    from seedmusic.checkpoints import optional_reference_checkpoint

    folder = optional_reference_checkpoint("transcriber", "the demo's analysis has no notes")
    return None if folder is None else Transcriber.from_pretrained(folder).eval()


def _evaluate_analysis(folder: Path, state: DemoState) -> None:
    assert state.analysis is not None and state.score is not None and state.report is not None
    metrics = evaluate(state.analysis, ground_truth_from_score(state.score))
    write_json(folder / "evaluation.json", metrics)
    state.report.metrics = metrics


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


def _compose_song(folder: Path, state: DemoState, seed: int) -> None:
    from seedmusic.commands.compose import write_compose_outputs
    from seedmusic.composer.lyrics_input import parse_lyrics
    from seedmusic.composer.pipeline import Composer, ComposeRequest
    from seedmusic.composer.style import parse_style
    from seedmusic.data.render import render_stems

    assert state.report is not None
    composer = Composer.from_pretrained()
    result = composer.compose(
        ComposeRequest(parse_lyrics(DEMO_LYRICS), parse_style(DEMO_STYLE), seed=seed)
    )
    write_compose_outputs(folder / "composed", result)
    mix, _ = render_stems(result.score, SAMPLE_RATE, "en", seed)
    sf.write(folder / "composed" / "song.wav", mix, SAMPLE_RATE)
    state.report.composed = result.summary


def _generate_untrained(folder: Path, state: DemoState, seed: int) -> None:
    from seedmusic.pipeline import AudioTokenPipeline, GenerateRequest

    assert state.report is not None
    pipeline = AudioTokenPipeline.untrained_tiny(seed=seed)
    result = pipeline.generate(
        GenerateRequest(style="pop", lyrics="la la la", duration=4.0, tempo=100.0, seed=seed)
    )
    sf.write(folder / "untrained_generation.wav", result.waveform.T, result.sample_rate)
    info = result.describe()
    write_json(folder / "untrained_generation.json", info)
    state.report.generation = info


def _move_into_place(staging: Path, out_dir: Path) -> None:
    for path in sorted(staging.iterdir()):
        target = out_dir / path.name
        if target.is_dir():
            shutil.rmtree(target)
        os.replace(path, target)


def _report_json(report: DemoReport) -> dict[str, Any]:
    return {
        "song_seconds": round(report.song_seconds, 3),
        "num_notes": report.num_notes,
        "metrics": report.metrics,
        "codec": report.codec,
        "generation": report.generation,
        "composed": report.composed,
        "summary": report.summary_lines(),
    }
