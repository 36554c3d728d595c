"""Does a codec's round trip keep the bass fundamentals? Bass stems of the corpus, note by note.

    .venv/bin/python -m benchmarks.codec_bass --corpus data/corpus [--checkpoint checkpoints/codec]
        [--checkpoint runs/x/final ...] [--pieces 8] [--start 10] [--seconds 30] [--threads 1]

For the first `--pieces` test and valid pieces that have a bass stem (in manifest order), `--seconds` of the stem
from `--start` go through each checkpoint's VAE (posterior mean, no quantisation). Per truth
bass note inside the clip (at least 0.2 s long), the energy within ±60 cents of its fundamental
and of its second harmonic is measured in an 8192-point STFT (hop 600) of the original and of
the round trip, from 50 ms after the onset to the offset. It measures level, not pitch: below
about 100 Hz the window's main lobe (±5.9 Hz) is wider than a semitone. Columns:

- f0 change: the median over notes of the round trip's fundamental level against the
  original's, in dB (0 is kept; the octave error the transcriber hears when the fundamental is
  lost shows as a large negative value);
- f0 within 3 dB: the share of notes whose fundamental level changes by less than 3 dB;
- 2f0 change: the same median for the second harmonic;
- low-band L1: the mean |log-magnitude difference| of that STFT from 30 to 300 Hz, over the
  frames where the original's low band is within 60 dB of its loudest.

It is the measure behind `configs/codec/decoder-finetune.yaml`'s A/B.
"""

from __future__ import annotations

import argparse
import json
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from renderer.codec import AudioCodec, load_audio
from seedmusic.cli import error_line, user_error_types
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.errors import UserError

N_FFT = 8192
HOP = 600
CENTS = 60.0
LOW_BAND_HZ = (30.0, 300.0)
ONSET_SKIP = 0.05
MIN_NOTE_SECONDS = 0.2


@dataclass(frozen=True)
class BassScores:
    """One checkpoint's columns (see the module docstring)."""

    notes: int
    f0_change_db: float
    f0_within_3db: float
    second_change_db: float
    low_band_l1: float


def magnitudes(wav: np.ndarray) -> np.ndarray:
    """`[S]` audio -> `[frames, N_FFT / 2 + 1]` Hann-windowed STFT magnitudes, centred frames."""
    padded = np.pad(wav, N_FFT // 2)
    frames = np.lib.stride_tricks.sliding_window_view(padded, N_FFT)[::HOP]  # [F, N_FFT]
    return np.abs(np.fft.rfft(frames * np.hanning(N_FFT), axis=1))


def band_energy(spec: np.ndarray, hz: float, start: float, end: float, sample_rate: int) -> float:
    """Energy within ±`CENTS` of `hz` between `start` and `end` seconds."""
    lo = int(np.floor(hz * 2 ** (-CENTS / 1200) * N_FFT / sample_rate))
    hi = int(np.ceil(hz * 2 ** (CENTS / 1200) * N_FFT / sample_rate)) + 1
    first = int(start * sample_rate / HOP)
    last = max(int(end * sample_rate / HOP), first + 1)
    return float((spec[first:last, lo:hi] ** 2).sum() + 1e-9)


def low_band_l1(original: np.ndarray, decoded: np.ndarray, sample_rate: int) -> float:
    """Mean |log-magnitude difference| from 30 to 300 Hz over the original's loud frames."""
    lo, hi = (int(hz * N_FFT / sample_rate) for hz in LOW_BAND_HZ)
    level = original[:, lo:hi].sum(axis=1)
    loud = level > 1e-3 * level.max()
    diff = np.log(original[loud, lo:hi] + 1e-5) - np.log(decoded[loud, lo:hi] + 1e-5)
    return float(np.abs(diff).mean())


def bass_pieces(corpus: Corpus, count: int) -> list[PieceRecord]:
    """The first `count` test and valid pieces with a bass stem, in manifest order."""
    pieces = [p for p in corpus.pieces() if p.split in ("test", "valid") and "bass" in p.stems]
    return pieces[:count]


def score_checkpoint(
    codec: AudioCodec, corpus: Corpus, pieces: list[PieceRecord], start: float, seconds: float
) -> BassScores:
    rate = codec.sample_rate
    f0, second, l1 = [], [], []
    for piece in pieces:
        wav = load_audio(corpus.stem_path(piece, "bass"), rate, 1)[0]  # [S]
        wav = wav[int(start * rate) : int((start + seconds) * rate)]
        with torch.no_grad():
            latents = codec.vae.encode(torch.from_numpy(wav)[None, None]).mean  # [1, D, T]
            decoded = codec.vae.decode(latents, length=len(wav))[0, 0].numpy()  # [S]
        original_spec, decoded_spec = magnitudes(wav), magnitudes(decoded)
        l1.append(low_band_l1(original_spec, decoded_spec, rate))
        for onset, offset, pitch in corpus.truth(piece)["notes"]["bass"]:
            if onset < start or offset > start + seconds or offset - onset < MIN_NOTE_SECONDS:
                continue
            hz = 440.0 * 2 ** ((pitch - 69) / 12)
            span = (onset - start + ONSET_SKIP, offset - start)
            for harmonic, values in ((1, f0), (2, second)):
                kept = band_energy(decoded_spec, harmonic * hz, *span, rate)
                heard = band_energy(original_spec, harmonic * hz, *span, rate)
                values.append(10 * np.log10(kept / heard))
    changes = np.asarray(f0)
    return BassScores(
        notes=len(changes),
        f0_change_db=float(np.median(changes)) if len(changes) else float("nan"),
        f0_within_3db=float(np.mean(np.abs(changes) < 3.0)) if len(changes) else float("nan"),
        second_change_db=float(np.median(second)) if second else float("nan"),
        low_band_l1=float(np.mean(l1)) if l1 else float("nan"),
    )


def table(rows: dict[str, BassScores]) -> str:
    lines = [
        "| codec | notes | f0 change | f0 within 3 dB | 2f0 change | low-band L1 |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for name, s in rows.items():
        lines.append(
            f"| {name} | {s.notes} | {s.f0_change_db:+.1f} dB | {s.f0_within_3db:.2f} | "
            f"{s.second_change_db:+.1f} dB | {s.low_band_l1:.3f} |"
        )
    return "\n".join(lines)


def _score_all(args: argparse.Namespace) -> dict[str, BassScores]:
    corpus = Corpus(args.corpus)
    pieces = bass_pieces(corpus, args.pieces)
    if not pieces:
        raise UserError(f"{args.corpus}: no test or valid piece has a bass stem")
    print(
        f"bass stems of {len(pieces)} test/valid pieces, {args.seconds:g} s from {args.start:g} s"
    )
    rows = {}
    for folder in args.checkpoint or [Path("checkpoints/codec")]:
        codec = AudioCodec.from_pretrained(folder).eval()
        rows[str(folder)] = score_checkpoint(codec, corpus, pieces, args.start, args.seconds)
    return rows


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--checkpoint", type=Path, action="append", help="repeatable")
    parser.add_argument("--pieces", type=int, default=8)
    parser.add_argument("--start", type=float, default=10.0)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--json", type=Path, help="also write the numbers here")
    args = parser.parse_args(argv)
    torch.set_num_threads(args.threads)
    try:
        rows = _score_all(args)
    except user_error_types() as exc:
        parser.exit(2, error_line(exc) + "\n")
    print(table(rows))
    if args.json is not None:
        args.json.write_text(json.dumps({k: vars(v) for k, v in rows.items()}, indent=1))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
