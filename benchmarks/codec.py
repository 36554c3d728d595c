"""Codec reconstruction quality, MIR preservation and speed, against Opus, on the corpus test split.

    .venv/bin/python -m benchmarks.codec --corpus data/corpus [--checkpoint checkpoints/codec
        [--label v1]] [--checkpoint runs/codec-v2/final [--label v2]] [--split test]
        [--pieces 20] [--seconds 30] [--mir-k 4,8,12] [--conditions train,timgm6mb]
        [--transcriber checkpoints/transcriber] [--threads 2]

Every piece of the split is cut to its first `--seconds` and scored in two conditions
(`--conditions`):

- `train`, "training SoundFonts (corpus mix)": the corpus mix as stored (each stem rendered with
  one of the training SoundFonts, `seedmusic.data.synth.TRAINING_SOUNDFONTS`);
- `timgm6mb`, "TimGM6mb (held out)": the same score re-rendered with TimGM6mb for every stem
  (timbres the codec never heard), the vocal sung or played as the piece had it, with the
  piece's build seed.

Systems (rows): for each `--checkpoint` (repeatable; rows are prefixed with its `--label`, by
default the checkpoint's folder name): the VAE alone (posterior mean, no quantisation) and the
RVQ tokens with the first k = 1..K codebooks, at their bitrates; then Opus (Debian
`opus-tools`, `--music --hard-cbr`) at 6, 12 and 24 kbps, computed once per condition and shared
by the checkpoints. All checkpoints are compared at the first one's sample rate (a codec at
another rate gets its input and output resampled).

Signal table, per system (mean over clips):

- log-mel L1 (80 mel bands, natural log of power + 1e-5, mean absolute difference),
- multi-resolution STFT distance (spectral convergence + log-magnitude L1, FFT 2048..128),
- SI-SDR (dB);

then, per checkpoint, the codebook perplexity of each codebook over the clips' codes and the
encode and decode real-time factors on the CPU (torch threads as set by `--threads`; encode is
VAE encoder + RVQ, decode is RVQ lookup + VAE decoder at full K).

MIR table, per system: `mir.analyze.analyze` with the note transcriber (`--transcriber`) runs on
the original clip, the VAE output, the tokens at each k in `--mir-k` (default every k) and the
three Opus round trips, and is scored against the piece's ground truth (`truth.json`) trimmed to
the clip (`trim_truth`). Means over the clips where a metric is defined:

- chords by bar: for each bar of the truth inside the clip (a downbeat to the next one; the last
  bar ends at the clip's or the truth's end), the chord covering most of the bar in the truth and
  in the analysis (time covered by no chord counts as `N`), both reduced to root + maj/min
  (`reduce_chord`: a major third makes `maj`, a minor third without a major third makes `min`,
  so `dim`/`hdim7` count as `min`, `aug` as `maj`, and chords without a third (`sus2`, `sus4`,
  `5`, `1`) as `maj` of their root; roots are compared as pitch classes, so `Db` = `C#`; `N`
  and `X` are `N`). The score is the fraction of bars whose reduced labels are equal;
- key: clips whose analysed key equals the truth's exactly (tonic pitch class and mode, as
  `mir_eval.key` parses them), shown as "n of N";
- vocal, piano, guitar, bass, drums: note onset F1 (`mir.evaluate`: onset within 50 ms, pitch
  within 50 cents; drums on the transcriber's drum classes); 0 when the truth has notes of the
  instrument in the clip and the analysis none;
- bars = orig, key = orig: agreement with the analysis of the original clip (the fraction of
  bars whose reduced chords are the same, and the clips whose key is the same; `-` on the
  original's own row).

Goal lines, per condition, for each checkpoint's VAE and full-K tokens, against the original's
row: chords by bar and key not below the original's; each onset F1 >= 0.9 x the original's;
log-mel L1 <= Opus 12 kbps; and per checkpoint encode + decode RTF < 1 (faster than real time).

Run it as a module (`python -m benchmarks.codec`): `python benchmarks/codec.py` would put
`benchmarks/` first on the path, where `benchmarks/mir.py` shadows the `mir` package.
"""

from __future__ import annotations

import argparse
import logging
import math
import subprocess
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field
from functools import cache
from pathlib import Path
from typing import TYPE_CHECKING

import librosa
import numpy as np
import soundfile as sf
import torch

from benchmarks.adherence import (
    MIR_TRACKS,
    Analyse,
    MirScores,
    analyser,
    bar_agreement,
    bar_chords,
    bar_spans,
    chords_by_bar,
    load_transcriber,
    onset_f1s,
    same_key,
    trim_truth,
)
from mir.analyze import Analysis
from mir.evaluate import GroundTruth, evaluate
from seedmusic.data.build import piece_seed
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.data.render import render_stems
from seedmusic.errors import UserError

if TYPE_CHECKING:  # renderer (diffusers) is imported when a codec is loaded: tests stay fast
    from renderer.codec import AudioCodec
    from renderer.losses import MultiResolutionStftLoss

logger = logging.getLogger(__name__)

OPUS_KBPS = (6, 12, 24)
GOAL_OPUS_KBPS = 12
"""The log-mel L1 goal: no worse than Opus at this bitrate."""
SECOND_SOUNDFONT = "timgm6mb"
CONDITIONS: dict[str, str] = {
    "train": "training SoundFonts (corpus mix)",
    SECOND_SOUNDFONT: "TimGM6mb (held out)",
}
ORIGINAL = "original"
ONSET_F1_RATIO = 0.9
"""The onset F1 goal: at least this fraction of the original's."""


# --- signal metrics -------------------------------------------------------------------------


@dataclass
class Scores:
    """Sums of one system's signal metrics over clips."""

    mel_l1: float = 0.0
    stft: float = 0.0
    si_sdr: float = 0.0
    clips: int = 0

    def add(self, reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> None:
        from renderer.codec import log_mel_l1

        self.mel_l1 += log_mel_l1(reference, estimate, sample_rate)
        self.stft += stft_distance(reference, estimate)
        self.si_sdr += si_sdr(reference, estimate)
        self.clips += 1

    def means(self) -> tuple[float, float, float]:
        n = max(self.clips, 1)
        return self.mel_l1 / n, self.stft / n, self.si_sdr / n


@cache
def _stft_loss() -> MultiResolutionStftLoss:
    from renderer.losses import MultiResolutionStftLoss

    return MultiResolutionStftLoss((2048, 1024, 512, 256, 128))


def stft_distance(reference: np.ndarray, estimate: np.ndarray) -> float:
    with torch.no_grad():
        pair = [torch.from_numpy(x.astype(np.float32))[None, None] for x in (estimate, reference)]
        return float(_stft_loss()(*pair))


def si_sdr(reference: np.ndarray, estimate: np.ndarray) -> float:
    """Scale-invariant signal-to-distortion ratio in dB."""
    ref = reference - reference.mean()
    est = estimate - estimate.mean()
    scale = np.dot(est, ref) / max(np.dot(ref, ref), 1e-12)
    target = scale * ref
    noise = est - target
    return float(
        10 * np.log10(max(np.dot(target, target), 1e-12) / max(np.dot(noise, noise), 1e-12))
    )


def opus_round_trip(audio: np.ndarray, sample_rate: int, kbps: int) -> np.ndarray:
    """Encode with opusenc at `kbps` (hard CBR, music) and decode back to `sample_rate`."""
    with tempfile.TemporaryDirectory() as tmp:
        source, coded, decoded = (Path(tmp) / n for n in ("in.wav", "x.opus", "out.wav"))
        sf.write(source, audio, sample_rate, subtype="PCM_16")
        subprocess.run(
            [
                "opusenc",
                "--quiet",
                "--music",
                "--hard-cbr",
                "--bitrate",
                str(kbps),
                str(source),
                str(coded),
            ],
            check=True,
            capture_output=True,
        )
        subprocess.run(
            ["opusdec", "--quiet", "--rate", str(sample_rate), str(coded), str(decoded)],
            check=True,
            capture_output=True,
        )
        out, rate = sf.read(decoded, dtype="float32", always_2d=True)
    assert rate == sample_rate
    return fit_length(out.mean(axis=1), audio.size)


def fit_length(audio: np.ndarray, length: int) -> np.ndarray:
    """`audio` cut or zero-padded to `length` samples (float32)."""
    result = np.zeros(length, dtype=np.float32)
    result[: min(length, audio.size)] = audio[:length]
    return result


def resample(audio: np.ndarray, rate_from: int, rate_to: int) -> np.ndarray:
    if rate_from == rate_to:
        return audio
    return librosa.resample(audio, orig_sr=rate_from, target_sr=rate_to).astype(np.float32)


# --- MIR metrics ----------------------------------------------------------------------------


def mir_metrics(
    analysis: Analysis, truth: GroundTruth, original: Analysis | None = None
) -> dict[str, float | None]:
    """The MIR table's metrics of one clip's `analysis` against its trimmed `truth`, and its
    agreement with the analysis of the `original` clip (when given)."""
    scores = evaluate(analysis, truth)
    metrics: dict[str, float | None] = {
        "chords_by_bar": chords_by_bar(truth, analysis.chords),
        "key": float(same_key(truth.key, analysis.key)),
        **onset_f1s(scores, truth),
    }
    if original is not None:
        bars = bar_spans(truth)
        metrics["bars_agree"] = bar_agreement(
            bar_chords(original.chords, bars), bar_chords(analysis.chords, bars)
        )
        metrics["key_agree"] = float(same_key(original.key, analysis.key))
    return metrics


# --- clips ------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Clip:
    """The first seconds of one piece in one condition, with its trimmed ground truth."""

    name: str
    audio: np.ndarray  # [S]
    truth: GroundTruth


def clips_for(
    corpus: Corpus, pieces: list[PieceRecord], sample_rate: int, seconds: float, condition: str
) -> Iterator[Clip]:
    """The first `seconds` of each piece's mix (`train`) or of its TimGM6mb render."""
    length = int(seconds * sample_rate)
    build_seed = int(corpus.info().get("seed", 0))
    for piece in pieces:
        if condition == SECOND_SOUNDFONT:
            mix, _ = render_stems(
                corpus.score(piece),
                sample_rate,
                piece.language,
                piece_seed(build_seed, piece.work),
                soundfont=SECOND_SOUNDFONT,
                sung_vocal=piece.vocal == "sung",
            )
        else:
            mix, rate = sf.read(corpus.mix_path(piece), dtype="float32")
            mix = resample(mix, rate, sample_rate)
        audio = mix[:length].astype(np.float32)
        truth = GroundTruth.from_json_dict(corpus.truth(piece))
        yield Clip(piece.id, audio, trim_truth(truth, audio.size / sample_rate))


# --- systems ----------------------------------------------------------------------------------


@dataclass
class Results:
    """Everything measured in one condition."""

    signal: dict[str, Scores] = field(default_factory=dict)
    mir: dict[str, MirScores] = field(default_factory=dict)
    figures: dict[str, dict[str, float]] = field(default_factory=dict)  # per checkpoint label

    def add(
        self,
        name: str,
        clip: Clip,
        out: np.ndarray,
        sample_rate: int,
        analyse: Analyse | None,
        original: Analysis | None,
    ) -> None:
        """Score `out` (the system `name`'s version of `clip`); analyse it when `analyse` is
        given."""
        self.signal.setdefault(name, Scores()).add(clip.audio, out, sample_rate)
        if analyse is not None:
            metrics = mir_metrics(analyse(out), clip.truth, original)
            self.mir.setdefault(name, MirScores()).add(metrics)


def evaluate_references(
    clips: list[Clip], sample_rate: int, analyse: Analyse, results: Results
) -> dict[str, Analysis]:
    """Analyse the original clips and score the Opus rows (once per condition, shared by every
    checkpoint); returns the original clips' analyses by clip name."""
    originals: dict[str, Analysis] = {}
    for clip in clips:
        originals[clip.name] = analyse(clip.audio)
        results.mir.setdefault(ORIGINAL, MirScores()).add(
            mir_metrics(originals[clip.name], clip.truth)
        )
        for kbps in OPUS_KBPS:
            out = opus_round_trip(clip.audio, sample_rate, kbps)
            results.add(opus_name(kbps), clip, out, sample_rate, analyse, originals[clip.name])
    return originals


def opus_name(kbps: int) -> str:
    return f"Opus {kbps} kbps"


def vae_name(label: str) -> str:
    return f"{label} VAE"


def tokens_name(label: str, codec: AudioCodec, k: int) -> str:
    kbps = codec.frame_rate * k * math.log2(codec.codebook_size) / 1000
    return f"{label} tokens K={k} ({kbps:.2f} kbps)"


def evaluate_codec(
    codec: AudioCodec,
    label: str,
    clips: list[Clip],
    sample_rate: int,
    mir_k: set[int],
    analyse: Analyse,
    originals: dict[str, Analysis],
    results: Results,
) -> None:
    """Score the checkpoint's VAE and tokens k = 1..K on every clip (analysing the VAE and the
    k in `mir_k`), and record its timing and codebook perplexity in `results.figures`."""
    histograms = np.zeros((codec.num_codebooks, codec.codebook_size))
    encode_s = decode_s = audio_s = 0.0
    for clip in clips:
        audio = resample(clip.audio, sample_rate, codec.sample_rate)
        wav = torch.from_numpy(audio)[None, None]  # [1, 1, S]
        with torch.no_grad():
            start = time.perf_counter()
            latents = codec.encode_latents(wav)
            codes = codec.rvq.encode(latents)  # [1, K, T]
            encode_s += time.perf_counter() - start
            start = time.perf_counter()
            full = codec.decode(codes, length=audio.size)[0, 0].numpy()
            decode_s += time.perf_counter() - start
            audio_s += audio.size / codec.sample_rate
            outputs = {vae_name(label): codec.vae.decode(latents, length=audio.size)[0, 0].numpy()}
            for k in range(1, codec.num_codebooks + 1):
                outputs[tokens_name(label, codec, k)] = (
                    full
                    if k == codec.num_codebooks
                    else codec.decode(codes[:, :k], length=audio.size)[0, 0].numpy()
                )
        for k in range(codec.num_codebooks):
            histograms[k] += np.bincount(codes[0, k].numpy(), minlength=codec.codebook_size)
        analysed = {vae_name(label)} | {tokens_name(label, codec, k) for k in mir_k}
        for name, out in outputs.items():
            out = fit_length(resample(out, codec.sample_rate, sample_rate), clip.audio.size)
            results.add(
                name,
                clip,
                out,
                sample_rate,
                analyse if name in analysed else None,
                originals[clip.name],
            )
    p = histograms / np.maximum(histograms.sum(axis=1, keepdims=True), 1)
    perplexity = np.exp(-(p * np.log(np.maximum(p, 1e-12))).sum(axis=1))
    results.figures[label] = {
        "encode_rtf": encode_s / max(audio_s, 1e-9),
        "decode_rtf": decode_s / max(audio_s, 1e-9),
        **{f"perplexity_k{k + 1}": float(v) for k, v in enumerate(perplexity)},
    }


# --- tables -----------------------------------------------------------------------------------


def _fmt(value: float | None) -> str:
    return "-" if value is None else f"{value:.2f}"


def _count(scores: MirScores, name: str) -> str:
    hits, total = scores.count(name)
    return f"{hits} of {total}" if total else "-"


def print_signal_table(title: str, systems: dict[str, Scores]) -> None:
    width = max([28, *map(len, systems)])
    print(f"\n{title}")
    print(f"| {'system':<{width}} | log-mel L1 | MR-STFT | SI-SDR dB |")
    print(f"|{'-' * (width + 2)}|-----------:|--------:|----------:|")
    for name, scores in systems.items():
        mel, stft, sdr = scores.means()
        print(f"| {name:<{width}} | {mel:10.3f} | {stft:7.3f} | {sdr:9.2f} |")


def print_mir_table(title: str, systems: dict[str, MirScores]) -> None:
    width = max([28, *map(len, systems)])
    rows = {name: mir_cells(scores) for name, scores in systems.items()}
    columns = ("chords by bar", "key", *MIR_TRACKS, "bars = orig", "key = orig")
    widths = [
        max([len(c), *(len(cells[i]) for cells in rows.values())]) for i, c in enumerate(columns)
    ]
    print(f"\n{title}: MIR of the round trip against the truth")
    print(
        f"| {'system':<{width}} | "
        + " | ".join(f"{c:>{w}}" for c, w in zip(columns, widths, strict=True))
        + " |"
    )
    print(f"|{'-' * (width + 2)}|" + "|".join("-" * (w + 1) + ":" for w in widths) + "|")
    for name, cells in rows.items():
        row = " | ".join(f"{cell:>{w}}" for cell, w in zip(cells, widths, strict=True))
        print(f"| {name:<{width}} | {row} |")


def mir_cells(scores: MirScores) -> list[str]:
    """The MIR table's cells of one system, in column order."""
    return [
        _fmt(scores.mean("chords_by_bar")),
        _count(scores, "key"),
        *(_fmt(scores.mean(track)) for track in MIR_TRACKS),
        _fmt(scores.mean("bars_agree")),
        _count(scores, "key_agree"),
    ]


def goal_line(name: str, results: Results) -> str:
    """Which goals the system `name` meets relative to the original's row (module docstring)."""
    parts: list[str] = []
    mir, original = results.mir.get(name), results.mir.get(ORIGINAL)
    if mir is None or original is None:
        parts.append("MIR not analysed (add its K to --mir-k)")
    else:
        ours, theirs = mir.mean("chords_by_bar"), original.mean("chords_by_bar")
        if ours is None or theirs is None:
            parts.append("chords by bar n/a")
        else:
            parts.append(
                f"chords by bar {_yes(ours >= theirs - 1e-9)} ({ours:.2f} vs {theirs:.2f})"
            )
        (hits, total), (orig_hits, _) = mir.count("key"), original.count("key")
        parts.append(f"key {_yes(hits >= orig_hits)} ({hits} vs {orig_hits} of {total})")
        onsets = []
        for track in MIR_TRACKS:
            ours, theirs = mir.mean(track), original.mean(track)
            if ours is None or theirs is None:
                onsets.append(f"{track} n/a")
            else:
                met = ours >= ONSET_F1_RATIO * theirs - 1e-9
                onsets.append(f"{track} {_yes(met)} ({ours:.2f} vs {theirs:.2f})")
        parts.append(f"onset F1 >= {ONSET_F1_RATIO:g} x original: " + ", ".join(onsets))
    mel = results.signal[name].means()[0]
    opus = results.signal[opus_name(GOAL_OPUS_KBPS)].means()[0]
    parts.append(
        f"log-mel L1 <= Opus {GOAL_OPUS_KBPS} kbps {_yes(mel <= opus)} ({mel:.3f} vs {opus:.3f})"
    )
    return f"  {name}: " + "; ".join(parts)


def _yes(met: bool) -> str:
    return "yes" if met else "NO"


def print_goals(title: str, results: Results, codecs: dict[str, AudioCodec]) -> None:
    print(f"\ngoals, {title}:")
    for label, codec in codecs.items():
        for name in (tokens_name(label, codec, codec.num_codebooks), vae_name(label)):
            print(goal_line(name, results))
        figures = results.figures[label]
        total = figures["encode_rtf"] + figures["decode_rtf"]
        print(
            f"  {label} encode + decode RTF {figures['encode_rtf']:.3f} + "
            f"{figures['decode_rtf']:.3f} = {total:.3f}: faster than real time {_yes(total < 1)}"
        )


def print_figures(results: Results, codecs: dict[str, AudioCodec]) -> None:
    for label, codec in codecs.items():
        figures = results.figures[label]
        perplexities = ", ".join(
            f"{v:.0f}" for k, v in figures.items() if k.startswith("perplexity")
        )
        print(
            f"{label}: codebook perplexity (of {codec.codebook_size}): {perplexities}; "
            f"encode RTF {figures['encode_rtf']:.3f}, decode RTF {figures['decode_rtf']:.3f}"
        )


# --- command line -----------------------------------------------------------------------------


def parse_ks(text: str) -> set[int] | None:
    """`--mir-k`: "all" (None: every k of each checkpoint) or comma-separated k >= 1."""
    if text.strip().lower() == "all":
        return None
    try:
        ks = {int(part) for part in text.split(",") if part.strip()}
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a list of K: {text!r}") from None
    if not ks or min(ks) < 1:
        raise argparse.ArgumentTypeError(f"K must be >= 1: {text!r}")
    return ks


def parse_conditions(text: str) -> list[str]:
    names = [part.strip() for part in text.split(",") if part.strip()]
    unknown = [name for name in names if name not in CONDITIONS]
    if not names or unknown:
        raise argparse.ArgumentTypeError(
            f"unknown condition(s) {', '.join(unknown) or text!r} (known: {', '.join(CONDITIONS)})"
        )
    return list(dict.fromkeys(names))


def load_codecs(checkpoints: list[Path], labels: list[str] | None) -> dict[str, AudioCodec]:
    """The codecs by row label (`labels`, else the checkpoint folder names)."""
    from renderer.codec import AudioCodec

    if labels is not None and len(labels) != len(checkpoints):
        raise UserError(f"{len(labels)} --label for {len(checkpoints)} --checkpoint")
    names = labels if labels is not None else [path.name for path in checkpoints]
    if len(set(names)) != len(names):
        raise UserError(f"checkpoint labels must differ ({', '.join(names)}): pass --label")
    return {
        name: AudioCodec.from_pretrained(path)
        for name, path in zip(names, checkpoints, strict=True)
    }


def main() -> None:
    from seedmusic.cli import error_line, user_error_types  # the CLI imports every command

    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument(
        "--checkpoint", type=Path, action="append", help="repeatable (default checkpoints/codec)"
    )
    parser.add_argument("--label", action="append", help="row label per --checkpoint, in order")
    parser.add_argument("--split", default="test")
    parser.add_argument("--pieces", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument(
        "--mir-k", type=parse_ks, default=None, help="K analysed, e.g. 4,8,12 (default: all)"
    )
    parser.add_argument(
        "--conditions", type=parse_conditions, default=list(CONDITIONS), help="train,timgm6mb"
    )
    parser.add_argument("--transcriber", type=Path, default=Path("checkpoints/transcriber"))
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    logger.setLevel(logging.INFO)
    torch.set_num_threads(args.threads)
    try:
        codecs = load_codecs(args.checkpoint or [Path("checkpoints/codec")], args.label)
        transcriber = load_transcriber(args.transcriber)
        corpus = Corpus(args.corpus)
        pieces = corpus.pieces(args.split)[: args.pieces]
    except user_error_types() as exc:
        parser.exit(2, error_line(exc) + "\n")
    if not pieces:
        parser.exit(2, f"error: no {args.split} pieces in {args.corpus}\n")
    sample_rate = next(iter(codecs.values())).sample_rate
    for label, codec in codecs.items():
        print(
            f"codec {label}: {codec.sample_rate} Hz, {codec.frame_rate:g} frames/s, "
            f"K={codec.num_codebooks} x {codec.codebook_size}, {codec.bitrate / 1000:.2f} kbps"
        )
    print(
        f"{len(pieces)} {args.split} pieces x {args.seconds:g} s at {sample_rate} Hz; "
        f"CPU, {args.threads} threads; transcriber {args.transcriber}"
    )
    analyse = analyser(transcriber, sample_rate)
    for condition in args.conditions:
        title = CONDITIONS[condition]
        started = time.perf_counter()
        logger.info("%s: preparing %d clips", title, len(pieces))
        clips = list(clips_for(corpus, pieces, sample_rate, args.seconds, condition))
        results = Results()
        logger.info("%s: original and Opus", title)
        originals = evaluate_references(clips, sample_rate, analyse, results)
        codec_rows = Results(mir={ORIGINAL: results.mir[ORIGINAL]})
        for label, codec in codecs.items():
            logger.info("%s: codec %s", title, label)
            ks = set(range(1, codec.num_codebooks + 1))
            mir_k = ks if args.mir_k is None else args.mir_k & ks
            if args.mir_k is not None and args.mir_k - ks:
                skipped = ",".join(map(str, sorted(args.mir_k - ks)))
                logger.warning("%s has K=%d: --mir-k %s skipped", label, len(ks), skipped)
            evaluate_codec(codec, label, clips, sample_rate, mir_k, analyse, originals, codec_rows)
        codec_rows.signal.update(results.signal)  # the Opus rows after the codecs'
        codec_rows.mir.update(results.mir)
        print_signal_table(title, codec_rows.signal)
        print_figures(codec_rows, codecs)
        print_mir_table(title, codec_rows.mir)
        print_goals(title, codec_rows, codecs)
        print(f"({title}: {time.perf_counter() - started:.0f} s)")


if __name__ == "__main__":
    main()
