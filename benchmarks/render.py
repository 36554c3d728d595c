"""The neural renderer against the corpus's own render: score adherence, vocal, speed, memory.

    .venv/bin/python -m benchmarks.render --corpus data/corpus [--dit checkpoints/dit]
        [--codec checkpoints/codec] [--latents data/latents] [--split test] [--pieces 10]
        [--seconds 30] [--composed 4] [--steps 16] [--guidance 2.0] [--seed 0] [--threads 2]
        [--transcriber checkpoints/transcriber] [--json OUT]

Each of the first `--pieces` pieces of the split is cut to its first `--seconds`: the score to
the whole bars that cover them (`select_bars`; notes keep their length, so the rendered clip is
the start of the piece's render), the audio of every system and the truth (`trim_truth`) to the
seconds themselves. Everything is compared at the renderer's sample rate.

Systems (rows):

- ceiling: the corpus's own render of the score (`mix.flac`: FluidSynth + the sung vocal), the
  reference every other row is measured against;
- codec round trip: the codec's VAE decoder on the corpus's stored latents of the mix
  (`--latents`, made by `seedmusic data latents` with this codec; the mix is re-encoded when
  they are missing or of another codec): the best the DiT's latent space can sound;
- neural: `NeuralRenderer.render(score)`, the DiT from the score (`--steps`, `--guidance`,
  `--seed`) and the VAE decoder;
- neural + reference (a DiT that reads a reference embedding, corpus pieces only): the same,
  with the reference embedding of the piece's own audio *after* the clip (up to
  `REFERENCE_SECONDS`, at least `MIN_REFERENCE_SECONDS`; `render --reference` does this with a
  recording): how much closer to the piece's sound another stretch of it brings the render;
- floor: the same chain with every condition dropped (the DiT's learned null embeddings for the
  codes, score frames, context and global vector in every call; the previous window's latents
  still continue each window), what the DiT renders knowing nothing of the score.

Score adherence (`benchmarks.render_metrics` defines every column): our MIR with the note
transcriber (`--transcriber`) on each row's audio against the piece's truth (beat F, downbeat F,
key, chords majmin, chords by bar, note onset F1 per instrument), means over the clips where a
metric is defined, and each row's log-mel L1 to the ceiling; a second table gives each row's
means as a share of the ceiling's. Goal lines (neural): at least 95 % of the ceiling on beat F,
downbeat F, key, chords majmin and chords by bar; at least 85 % on each note onset F1.

Vocal, neural (the DiT's `vocal` stem render) against the ceiling (the corpus's vocal stem):
voiced frames, on-pitch frames (goal >= 0.8) and syllable onsets (goal >= 0.9) against the
score's vocal line, over the clips with a vocal note ("n (m sung)": in the others the corpus
plays the line on a GM instrument, often a choir pad whose overlapping releases and slow
attacks score lower, while the neural renderer always sings).

Composer outputs (`--composed N`, `benchmarks.render_prompts`): the same tables again on the
shipped composer's songs for the first N test prompts (a test piece's lyrics and style), cut the
same way; their truth is the composed score and their ceiling its exact synth render (FluidSynth
and the espeak-ng + Praat singer); the codec row re-encodes that render.

Seams (`benchmarks.render_metrics.seam_metrics`): a clip longer than one DiT window (250 frames,
10 s at 25 frames/s) is rendered in windows that continue each other; the neural mix's spectral
jump (mean |dB| change of the log-mel spectrum between the 100 ms before and after) at the
windows' seams, against its jump at the score's bar lines (where music changes by itself) and
the ceiling's at the seams. Goal: no larger at the seams than at the bar lines.

Speed and memory (neural mix renders): seconds of compute per second of rendered audio, DiT and
VAE decoder apart (`info["timings"]`), with `--threads` torch threads; goal <= 1.0 together. Peak
RSS (`ru_maxrss`) once every neural mix is rendered (goal <= 2 GB; nothing but the clips'
audio, the renderer and the transcriber is loaded by then) and at the end of the run.

Run it as a module (`python -m benchmarks.render`): `python benchmarks/render.py` would put
`benchmarks/` first on the path, where `benchmarks/mir.py` shadows the `mir` package.
"""

from __future__ import annotations

import argparse
import dataclasses
import json
import logging
import math
import resource
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from tqdm.auto import tqdm

from benchmarks.adherence import (
    MIR_TRACKS,
    Analyse,
    MirScores,
    analyser,
    load_transcriber,
    trim_truth,
)
from benchmarks.codec import fit_length, resample
from benchmarks.render_metrics import (
    ADHERENCE,
    SEAMS,
    VOCAL,
    adherence_metrics,
    score_vocal_notes,
    seam_metrics,
    vocal_metrics,
)
from mir.evaluate import GroundTruth
from renderer.codec import AudioCodec, log_mel_l1
from renderer.dit import LatentDiT
from score_tokens.edit import bar_ticks, select_bars
from score_tokens.frames import num_score_frames
from score_tokens.score import Score
from seedmusic.checkpoints import TRAIN_COMMANDS, reference_checkpoint
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.data.latents import codec_fingerprint, load_stem, read_info, stem_audio
from seedmusic.errors import UserError
from seedmusic.neural_render import NeuralRenderer, NeuralRenderSettings

logger = logging.getLogger(__name__)

CEILING, CODEC, NEURAL, FLOOR = "ceiling", "codec round trip", "neural", "floor"
NEURAL_REFERENCE = "neural + reference"
ROWS = (CEILING, CODEC, NEURAL, NEURAL_REFERENCE, FLOOR)
REFERENCE_SECONDS = 60.0
MIN_REFERENCE_SECONDS = 5.0
VOCAL_ROWS = (CEILING, NEURAL)
MEL = "log_mel_l1"
RATIO_GOALS: dict[str, float] = {
    "beat_f": 0.95,
    "downbeat_f": 0.95,
    "key_weighted": 0.95,
    "chord_majmin": 0.95,
    "chords_by_bar": 0.95,
    **dict.fromkeys(MIR_TRACKS, 0.85),
}
"""The neural row's goal per metric: at least this share of the ceiling's mean."""
VOCAL_GOALS: dict[str, float] = {"on_pitch": 0.8, "syllable_onsets": 0.9}
SECONDS_PER_SECOND_GOAL = 1.0
RSS_GOAL_GB = 2.0

DECODE_MARGIN_FRAMES = 8
"""Latent frames decoded past the clip's end, so that the decoder's edge lies outside it."""


# --- clips ------------------------------------------------------------------------------------


def cut_score(score: Score, seconds: float) -> Score:
    """The score's first whole bars that cover `seconds` (the whole score when shorter)."""
    stops = len(score.bar_starts())
    for stop in range(1, stops + 1):
        _, end = bar_ticks(score, 0, stop)
        if score.tick_to_seconds(end) >= seconds - 1e-9:
            return select_bars(score, 0, stop)
    return select_bars(score, 0, stops)


@dataclass(frozen=True)
class Clip:
    """The first seconds of one piece: its score cut to whole bars, its truth and the corpus's
    audio trimmed to the seconds (at the renderer's rate)."""

    piece: PieceRecord
    score: Score
    truth: GroundTruth
    mix: np.ndarray  # [S] the ceiling
    vocal: np.ndarray | None  # [S] the corpus's vocal stem, None without a vocal note in it
    after: np.ndarray | None = None  # [S'] the piece's audio after the clip (the reference)

    @property
    def length(self) -> int:
        return int(self.mix.size)


def prepare_clip(
    corpus: Corpus, piece: PieceRecord, seconds: float, sample_rate: int
) -> Clip | None:
    """The clip of `piece` (None when its first bars hold no note)."""
    score = cut_score(corpus.score(piece), seconds)
    if not any(track.notes for track in score.tracks.values()):
        return None
    corpus_rate = int(corpus.info().get("sample_rate", 24000))
    full = stem_audio(corpus, piece, "mix")
    assert full is not None
    mix = resample(full, corpus_rate, sample_rate)
    length = round(min(seconds, score.duration_seconds()) * sample_rate)
    mix = fit_length(mix, min(length, mix.size))
    sings = bool(score_vocal_notes(score, mix.size / sample_rate))
    vocal = stem_audio(corpus, piece, "vocal") if sings else None
    if vocal is not None:
        vocal = fit_length(resample(vocal, corpus_rate, sample_rate), mix.size)
    truth = trim_truth(GroundTruth.from_json_dict(corpus.truth(piece)), mix.size / sample_rate)
    start = round(mix.size / sample_rate * corpus_rate)
    after = full[start : start + round(REFERENCE_SECONDS * corpus_rate)]
    if after.size < MIN_REFERENCE_SECONDS * corpus_rate:
        return Clip(piece, score, truth, mix, vocal)
    return Clip(piece, score, truth, mix, vocal, resample(after, corpus_rate, sample_rate))


# --- systems ----------------------------------------------------------------------------------


class UnconditionalDiT(LatentDiT):
    """A `LatentDiT` whose every call drops every condition: codes, score frames, context and
    global embedding are its learned null embeddings (the unconditional half of classifier-free
    guidance). The inpainting inputs (known latents and mask) are kept."""

    @classmethod
    def of(cls, dit: LatentDiT) -> UnconditionalDiT:
        """A copy of `dit` (weights and latent statistics) that renders unconditionally."""
        floor = cls(dit.config)
        floor.load_state_dict(dit.state_dict())
        return floor.eval()

    def forward(
        self,
        noisy: torch.Tensor,
        t: torch.Tensor,
        codes: torch.Tensor | None = None,
        known_latents: torch.Tensor | None = None,
        known_mask: torch.Tensor | None = None,
        context: torch.Tensor | None = None,
        context_mask: torch.Tensor | None = None,
        global_embedding: torch.Tensor | None = None,
        drop_conditions: torch.Tensor | None = None,
        score_frames: torch.Tensor | None = None,
        drop_codes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """`LatentDiT.forward` with `drop_conditions` all True."""
        drop = torch.ones(noisy.shape[0], dtype=torch.bool, device=noisy.device)
        return super().forward(
            noisy,
            t,
            codes,
            known_latents,
            known_mask,
            context,
            context_mask,
            global_embedding,
            drop,
            score_frames,
            drop_codes,
        )


def stored_latents_dir(latents_dir: Path, codec_dir: Path) -> Path | None:
    """`latents_dir` when it holds latents of this codec; else None, with a warning."""
    try:
        made_with = read_info(latents_dir).get("codec")
    except UserError:
        logger.warning(
            "no corpus latents in %s: the codec round trip re-encodes each mix", latents_dir
        )
        return None
    if made_with != codec_fingerprint(codec_dir):
        logger.warning(
            "%s holds latents of another codec: the codec round trip re-encodes each mix",
            latents_dir,
        )
        return None
    return latents_dir


@torch.no_grad()
def codec_round_trip(codec: AudioCodec, clip: Clip, latents_dir: Path | None) -> np.ndarray:
    """The VAE decoder's audio `[S]` of the clip's stored mix latents (or of the clip's mix,
    encoded, when there are none)."""
    stored = None if latents_dir is None else load_stem(latents_dir, "mix", clip.piece.id)
    if stored is None:
        wav = torch.from_numpy(clip.mix)[None, None].expand(-1, codec.audio_channels, -1)
        latents = codec.encode_latents(wav)  # [1, D, T]
    else:
        frames = math.ceil(clip.length / codec.hop_length) + DECODE_MARGIN_FRAMES
        latents = torch.from_numpy(stored[0][:, :frames])[None]  # [1, D, T]
    length = min(clip.length, latents.shape[-1] * codec.hop_length)
    wav = codec.vae.decode(latents, length=length)  # [1, C, S]
    return fit_length(wav[0].mean(dim=0).numpy(), clip.length)


@dataclass
class Speed:
    """Seconds of neural rendering and of the audio it made."""

    dit_s: float = 0.0
    vae_s: float = 0.0
    audio_s: float = 0.0

    def per_second(self) -> dict[str, float]:
        audio = max(self.audio_s, 1e-9)
        return {
            "dit_s_per_s": self.dit_s / audio,
            "vae_s_per_s": self.vae_s / audio,
            "total_s_per_s": (self.dit_s + self.vae_s) / audio,
        }


def render_mix(
    renderer: NeuralRenderer,
    clip: Clip,
    seed: int,
    settings: NeuralRenderSettings,
    speed: Speed,
    reference: np.ndarray | None = None,
) -> np.ndarray:
    """The renderer's mix `[S]` of the clip's score (following `reference` audio `[S']` at
    the renderer's rate, if given), its timings added to `speed`."""
    latents = None if reference is None else renderer.reference_latents(reference)
    audio, info = renderer.render(clip.score, seed=seed, settings=settings, reference=latents)
    speed.dit_s += info["timings"]["dit"]
    speed.vae_s += info["timings"]["vae"]
    speed.audio_s += audio["mix"].size / renderer.sample_rate
    return fit_length(audio["mix"], clip.length)


def render_vocal(
    renderer: NeuralRenderer, clip: Clip, seed: int, settings: NeuralRenderSettings
) -> np.ndarray:
    """The neural `vocal` stem `[S]` of the clip's score."""
    frames = num_score_frames(clip.score, renderer.codec.frame_rate)
    latents = renderer.render_latents(clip.score, "vocal", frames, seed, settings)
    return fit_length(
        renderer.decode(latents, round(frames * renderer.codec.hop_length)), clip.length
    )


def window_seams(
    clip: Clip, renderer: NeuralRenderer, settings: NeuralRenderSettings
) -> list[float]:
    """The seconds inside the clip where the renderer's windows join."""
    frame_rate = renderer.codec.frame_rate
    frames = num_score_frames(clip.score, frame_rate)
    seconds = clip.length / renderer.sample_rate
    return [f / frame_rate for f in settings.seam_frames(frames) if f / frame_rate < seconds]


# --- results ----------------------------------------------------------------------------------


@dataclass
class Results:
    """Every row's metrics over the clips."""

    adherence: dict[str, MirScores] = field(default_factory=lambda: {r: MirScores() for r in ROWS})
    vocal: dict[str, MirScores] = field(
        default_factory=lambda: {r: MirScores() for r in VOCAL_ROWS}
    )
    seams: MirScores = field(default_factory=MirScores)
    """The neural mix's `seam_metrics`, over the clips longer than one window."""
    per_clip: dict[str, dict[str, dict[str, float | None]]] = field(default_factory=dict)
    speed: Speed = field(default_factory=Speed)
    rss_after_render: int = 0

    def add(
        self,
        clip: str,
        row: str,
        table: Literal["adherence", "vocal", "seams"],
        metrics: dict[str, float | None],
    ) -> None:
        if table == "seams":
            self.seams.add(metrics)
        else:
            (self.adherence if table == "adherence" else self.vocal)[row].add(metrics)
        self.per_clip.setdefault(clip, {}).setdefault(f"{row} {table}", {}).update(metrics)

    def mean(self, row: str, metric: str) -> float | None:
        return self.adherence[row].mean(metric)

    def ratio(self, row: str, metric: str) -> float | None:
        """The row's mean as a share of the ceiling's (None when either is undefined or the
        ceiling's is 0)."""
        ours, ceiling = self.mean(row, metric), self.mean(CEILING, metric)
        if ours is None or not ceiling:
            return None
        return ours / ceiling


def peak_rss() -> int:
    """The process's peak resident set size in bytes (Linux reports KiB)."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024


def run(
    clips: list[Clip],
    renderer: NeuralRenderer,
    latents_dir: Path | None,
    analyse: Analyse,
    seed: int,
    settings: NeuralRenderSettings,
) -> Results:
    """Render every row of every clip, then analyse and score them."""
    results = Results()
    rate = renderer.sample_rate
    neural: dict[str, np.ndarray] = {}
    for clip in tqdm(clips, desc="neural mix", unit="clip"):
        neural[clip.piece.id] = render_mix(renderer, clip, seed, settings, results.speed)
    results.rss_after_render = peak_rss()
    floor = NeuralRenderer(UnconditionalDiT.of(renderer.dit), renderer.codec)
    unguided = dataclasses.replace(settings, guidance=1.0)  # no condition: guidance is moot
    for clip in tqdm(clips, desc="other rows, vocal", unit="clip"):
        rows = {
            CEILING: clip.mix,
            CODEC: codec_round_trip(renderer.codec, clip, latents_dir),
            NEURAL: neural.pop(clip.piece.id),
            FLOOR: render_mix(floor, clip, seed, unguided, Speed()),
        }
        if renderer.takes_reference and clip.after is not None:
            rows[NEURAL_REFERENCE] = render_mix(
                renderer, clip, seed, settings, Speed(), reference=clip.after
            )
        for row, audio in rows.items():
            metrics = adherence_metrics(analyse(audio), clip.truth)
            if row != CEILING:
                metrics[MEL] = log_mel_l1(clip.mix, audio, rate)
            results.add(clip.piece.id, row, "adherence", metrics)
        seams = window_seams(clip, renderer, settings)
        if seams:
            bar_lines = list(clip.truth.downbeats)
            metrics = seam_metrics(rows[NEURAL], clip.mix, rate, seams, bar_lines)
            results.add(clip.piece.id, NEURAL, "seams", metrics)
        if clip.vocal is not None:
            seconds = clip.length / rate
            stems = {CEILING: clip.vocal, NEURAL: render_vocal(renderer, clip, seed, settings)}
            for row, audio in stems.items():
                results.add(
                    clip.piece.id, row, "vocal", vocal_metrics(clip.score, audio, rate, seconds)
                )
    return results


# --- tables -----------------------------------------------------------------------------------


def _fmt(value: float | None, digits: int = 2) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _percent(value: float | None) -> str:
    return "-" if value is None else f"{100 * value:.0f} %"


def _yes(met: bool) -> str:
    return "yes" if met else "NO"


def markdown_table(header: Sequence[str], rows: Sequence[Sequence[str]]) -> str:
    """A markdown table: the first column left-aligned, the others right-aligned."""
    widths = [max(len(row[i]) for row in [header, *rows]) for i in range(len(header))]

    def line(cells: Sequence[str]) -> str:
        parts = [
            f"{cell:<{w}}" if i == 0 else f"{cell:>{w}}"
            for i, (cell, w) in enumerate(zip(cells, widths, strict=True))
        ]
        return "| " + " | ".join(parts) + " |"

    rule = (
        "|"
        + "|".join("-" * (w + 2) if i == 0 else "-" * (w + 1) + ":" for i, w in enumerate(widths))
        + "|"
    )
    return "\n".join([line(header), rule, *(line(row) for row in rows)])


def measured_rows(results: Results) -> list[str]:
    """The rows with any adherence figure (no reference row for a DiT that reads none)."""
    return [row for row in ROWS if results.adherence[row].values]


def adherence_table(results: Results) -> str:
    header = ["system", *ADHERENCE.values(), "log-mel L1"]
    rows = [
        [row, *(_fmt(results.mean(row, m)) for m in ADHERENCE), _fmt(results.mean(row, MEL), 3)]
        for row in measured_rows(results)
    ]
    return markdown_table(header, rows)


def ratio_table(results: Results) -> str:
    header = ["system", *ADHERENCE.values()]
    rows = [
        [row, *(_percent(results.ratio(row, m)) for m in ADHERENCE)]
        for row in measured_rows(results)
    ]
    return markdown_table(header, rows)


def vocal_table(results: Results, clips: list[Clip]) -> str:
    with_vocal = [clip for clip in clips if clip.vocal is not None]
    sung = sum(clip.piece.vocal == "sung" for clip in with_vocal)
    count = f"{len(with_vocal)} ({sung} sung)"
    header = ["system", "clips", *VOCAL.values()]
    rows = [[row, count, *(_fmt(results.vocal[row].mean(m)) for m in VOCAL)] for row in VOCAL_ROWS]
    return markdown_table(header, rows)


def seam_table(results: Results) -> str:
    count = len(results.seams.values.get("at_seams", []))
    header = ["neural mix", "clips", *SEAMS.values()]
    row = ["spectral jump (dB)", str(count), *(_fmt(results.seams.mean(m)) for m in SEAMS)]
    return markdown_table(header, [row])


def speed_table(results: Results, threads: int) -> str:
    figures = results.speed.per_second()
    header = [
        "threads",
        "audio s",
        "DiT s/s",
        "VAE s/s",
        "total s/s",
        "peak RSS after render",
        "peak RSS at end",
    ]
    row = [
        str(threads),
        f"{results.speed.audio_s:.1f}",
        f"{figures['dit_s_per_s']:.3f}",
        f"{figures['vae_s_per_s']:.3f}",
        f"{figures['total_s_per_s']:.3f}",
        f"{results.rss_after_render / 2**30:.2f} GB",
        f"{peak_rss() / 2**30:.2f} GB",
    ]
    return markdown_table(header, [row])


def goals(results: Results) -> dict[str, tuple[bool | None, str]]:
    """Each goal: (met, None when it cannot be judged; the line that says so)."""
    lines: dict[str, tuple[bool | None, str]] = {}
    for metric, share in RATIO_GOALS.items():
        ours, ceiling = results.mean(NEURAL, metric), results.mean(CEILING, metric)
        name = f"{ADHERENCE[metric]} >= {100 * share:.0f} % of the ceiling"
        ratio = results.ratio(NEURAL, metric)
        if ours is None or ceiling is None:
            lines[metric] = (None, f"{name}: n/a")
        elif ceiling == 0:
            lines[metric] = (None, f"{name}: n/a (the ceiling scores 0; neural {ours:.2f})")
        else:
            met = ours >= share * ceiling - 1e-9
            lines[metric] = (
                met,
                f"{name}: {_yes(met)} ({ours:.2f} vs {ceiling:.2f}, {_percent(ratio)})",
            )
    for metric, goal in VOCAL_GOALS.items():
        value = results.vocal[NEURAL].mean(metric)
        name = f"vocal {VOCAL[metric]} >= {goal:g}"
        if value is None:
            lines[f"vocal_{metric}"] = (None, f"{name}: n/a")
        else:
            met = value >= goal
            lines[f"vocal_{metric}"] = (met, f"{name}: {_yes(met)} ({value:.2f})")
    seams, bars = results.seams.mean("at_seams"), results.seams.mean("at_bar_lines")
    name = "spectral jump at window seams <= at bar lines"
    if seams is None or bars is None:
        lines["seams"] = (None, f"{name}: n/a (no clip longer than one window)")
    else:
        met = seams <= bars
        lines["seams"] = (met, f"{name}: {_yes(met)} ({seams:.2f} vs {bars:.2f} dB)")
    total = results.speed.per_second()["total_s_per_s"]
    met = total <= SECONDS_PER_SECOND_GOAL
    lines["speed"] = (
        met,
        f"compute <= {SECONDS_PER_SECOND_GOAL:g} s per s of audio: {_yes(met)} ({total:.3f})",
    )
    gb = results.rss_after_render / 2**30
    met = gb <= RSS_GOAL_GB
    lines["memory"] = (met, f"peak RSS <= {RSS_GOAL_GB:g} GB: {_yes(met)} ({gb:.2f} GB)")
    return lines


def report(results: Results, clips: list[Clip], threads: int) -> None:
    """Print every table and the goal lines."""
    n = len(clips)
    print(f"\nscore adherence: our MIR against the truth, means over {n} clips")
    print(adherence_table(results))
    print("\nshare of the ceiling")
    print(ratio_table(results))
    print("\nvocal: the vocal stem against the score's vocal line")
    print(vocal_table(results, clips))
    print("\nseams: the neural mix's spectral jump where its windows join")
    print(seam_table(results))
    print("\nspeed and memory of the neural mix renders")
    print(speed_table(results, threads))
    print("\ngoals (neural):")
    for _, line in goals(results).values():
        print(f"  {line}")


def to_json(results: Results, clips: list[Clip], settings: dict[str, Any]) -> dict[str, Any]:
    return {
        "settings": settings,
        "clips": [
            {"piece": c.piece.id, "seconds": c.length / settings["sample_rate"]} for c in clips
        ],
        "adherence": {row: {m: results.mean(row, m) for m in [*ADHERENCE, MEL]} for row in ROWS},
        "ratio_to_ceiling": {row: {m: results.ratio(row, m) for m in ADHERENCE} for row in ROWS},
        "vocal": {row: {m: results.vocal[row].mean(m) for m in VOCAL} for row in VOCAL_ROWS},
        "seams": {m: results.seams.mean(m) for m in SEAMS},
        "speed": {
            **results.speed.per_second(),
            "audio_seconds": results.speed.audio_s,
            "peak_rss_gb_after_render": results.rss_after_render / 2**30,
            "peak_rss_gb": peak_rss() / 2**30,
        },
        "goals": {name: met for name, (met, _) in goals(results).items()},
        "per_clip": results.per_clip,
    }


# --- command line -----------------------------------------------------------------------------


def dit_checkpoint(path: Path | None) -> Path:
    """`--dit`, or the shipped `checkpoints/dit`; a `UserError` when it is not there."""
    if path is None:
        return reference_checkpoint("dit")
    if not path.is_dir():
        raise UserError(f"no DiT checkpoint at {path}; train one with `{TRAIN_COMMANDS['dit']}`")
    return path


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.render",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--dit", type=Path, help="default checkpoints/dit")
    parser.add_argument("--codec", type=Path, help="default checkpoints/codec")
    parser.add_argument("--latents", type=Path, default=Path("data/latents"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--pieces", type=int, default=10)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--composed",
        type=int,
        default=4,
        help="also the composer's songs for the first N test prompts (0: none)",
    )
    parser.add_argument("--steps", type=int, default=16)
    parser.add_argument("--guidance", type=float, default=2.0)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--transcriber", type=Path, help="default checkpoints/transcriber")
    parser.add_argument("--json", type=Path, help="also write the results here")
    return parser


def main(argv: Sequence[str] | None = None) -> None:
    from seedmusic.cli import error_line, user_error_types  # the CLI imports every command

    parser = build_parser()
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.WARNING)
    logger.setLevel(logging.INFO)
    torch.set_num_threads(args.threads)
    started = time.perf_counter()
    try:
        settings = NeuralRenderSettings(steps=args.steps, guidance=args.guidance)
    except ValueError as exc:
        parser.exit(2, f"error: {exc}\n")
    try:
        dit_dir = dit_checkpoint(args.dit)
        codec_dir = args.codec or reference_checkpoint("codec")
        renderer = NeuralRenderer.from_pretrained(dit_dir, codec_dir)
        transcriber = load_transcriber(args.transcriber or reference_checkpoint("transcriber"))
        corpus = Corpus(args.corpus)
        pieces = corpus.pieces(args.split)[: args.pieces]
    except user_error_types() as exc:
        parser.exit(2, error_line(exc) + "\n")
    rate = renderer.sample_rate
    clips = []
    for piece in tqdm(pieces, desc="clips", unit="piece"):
        clip = prepare_clip(corpus, piece, args.seconds, rate)
        if clip is None:
            logger.warning("%s: no note in its first %g s; left out", piece.id, args.seconds)
        else:
            clips.append(clip)
    if not clips:
        parser.exit(2, f"error: no {args.split} piece with notes in {args.corpus}\n")
    latents_dir = stored_latents_dir(args.latents, codec_dir)
    print(
        f"{len(clips)} {args.split} pieces x {args.seconds:g} s at {rate} Hz; DiT {dit_dir}, "
        f"codec {codec_dir} ({'stored' if latents_dir else 're-encoded'} latents); "
        f"{args.steps} steps, guidance {args.guidance:g}, seed {args.seed}; "
        f"CPU, {args.threads} threads"
    )
    analyse = analyser(transcriber, rate)
    results = run(clips, renderer, latents_dir, analyse, args.seed, settings)
    print(f"\n## corpus scores: {len(clips)} {args.split} pieces, ceiling = the corpus's render")
    report(results, clips, args.threads)
    composed: list[Clip] = []
    composed_results = None
    if args.composed > 0:
        from benchmarks.render_prompts import composed_clips

        composed = composed_clips(corpus, pieces, args.composed, args.seconds, rate, args.seed)
        composed_results = run(composed, renderer, None, analyse, args.seed, settings)
        print(
            f"\n## composer outputs: {len(composed)} test prompts (lyrics + style of a test "
            "piece), ceiling = the exact synth render of the composed score"
        )
        report(composed_results, composed, args.threads)
    print(f"({time.perf_counter() - started:.0f} s)")
    if args.json is not None:
        record = {
            key: str(value) if isinstance(value, Path) else value
            for key, value in vars(args).items()
        }
        record |= {"dit": str(dit_dir), "codec": str(codec_dir), "sample_rate": rate}
        record["latents_used"] = latents_dir is not None
        args.json.parent.mkdir(parents=True, exist_ok=True)
        data = to_json(results, clips, record)
        if composed_results is not None:
            data["composed"] = to_json(composed_results, composed, record)
        args.json.write_text(json.dumps(data, indent=1) + "\n")


if __name__ == "__main__":
    main()
