"""Codec reconstruction quality and speed, against Opus, on the corpus test split.

    .venv/bin/python -m benchmarks.codec --corpus data/corpus [--checkpoint checkpoints/codec]
        [--pieces 20] [--seconds 10]

For each test piece (the first `--seconds` of its mix) and for the same piece re-rendered with
a second SoundFont (TimGM6mb instead of FluidR3: timbres the codec never heard), it reports

- log-mel L1 (80 mel bands, natural log of power + 1e-5, mean absolute difference),
- multi-resolution STFT distance (spectral convergence + log-magnitude L1, FFT 2048..128),
- SI-SDR (dB),

for: the VAE alone (posterior mean, no quantisation); the RVQ tokens with the first k = 1..K
codebooks, at their bitrates; Opus (Debian `opus-tools`, `--music --hard-cbr`) at 6 and
12 kbps. Also the codebook perplexity of each codebook over the test codes and the encode and
decode real-time factor on the CPU (torch threads as set by `--threads`).
"""

from __future__ import annotations

import argparse
import logging
import math
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import librosa
import numpy as np
import soundfile as sf
import torch

from renderer.codec import AudioCodec, log_mel_l1
from renderer.losses import MultiResolutionStftLoss
from seedmusic.cli import error_line, user_error_types
from seedmusic.data.build import piece_seed
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.data.render import render_stems

logger = logging.getLogger(__name__)

OPUS_KBPS = (6, 12)
SECOND_SOUNDFONT = "timgm6mb"


@dataclass
class Scores:
    """Sums of one system's metrics over clips."""

    mel_l1: float = 0.0
    stft: float = 0.0
    si_sdr: float = 0.0
    clips: int = 0

    def add(self, reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> None:
        self.mel_l1 += log_mel_l1(reference, estimate, sample_rate)
        self.stft += stft_distance(reference, estimate)
        self.si_sdr += si_sdr(reference, estimate)
        self.clips += 1

    def means(self) -> tuple[float, float, float]:
        n = max(self.clips, 1)
        return self.mel_l1 / n, self.stft / n, self.si_sdr / n


_STFT = MultiResolutionStftLoss((2048, 1024, 512, 256, 128))


def stft_distance(reference: np.ndarray, estimate: np.ndarray) -> float:
    with torch.no_grad():
        pair = [torch.from_numpy(x.astype(np.float32))[None, None] for x in (estimate, reference)]
        return float(_STFT(*pair))


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
        quiet = {"check": True, "capture_output": True}
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
            **quiet,
        )
        subprocess.run(
            ["opusdec", "--quiet", "--rate", str(sample_rate), str(coded), str(decoded)], **quiet
        )
        out, rate = sf.read(decoded, dtype="float32", always_2d=True)
    assert rate == sample_rate
    mono = out.mean(axis=1)
    result = np.zeros_like(audio)
    result[: min(audio.size, mono.size)] = mono[: audio.size]
    return result


def clips_for(
    corpus: Corpus, pieces: list[PieceRecord], sample_rate: int, seconds: float, second_font: bool
):
    """(name, audio [S]) of the first `seconds` of each piece's mix, or of its second-font render."""
    length = int(seconds * sample_rate)
    build_seed = int(corpus.info().get("seed", 0))
    for piece in pieces:
        if second_font:
            mix, _ = render_stems(
                corpus.score(piece),
                sample_rate,
                piece.language,
                piece_seed(build_seed, piece.work),
                soundfont=SECOND_SOUNDFONT,
            )
        else:
            mix, rate = sf.read(corpus.mix_path(piece), dtype="float32")
            if rate != sample_rate:
                mix = librosa.resample(mix, orig_sr=rate, target_sr=sample_rate)
        yield piece.id, mix[:length]


def evaluate_codec(
    codec: AudioCodec, clips: list[tuple[str, np.ndarray]]
) -> tuple[dict[str, Scores], dict[str, float]]:
    """Scores per system and timing/perplexity figures."""
    sr = codec.sample_rate
    systems: dict[str, Scores] = {}
    histograms = np.zeros((codec.num_codebooks, codec.codebook_size))
    encode_s = decode_s = audio_s = 0.0
    for _, audio in clips:
        wav = torch.from_numpy(audio)[None, None]  # [1, 1, S]
        with torch.no_grad():
            start = time.perf_counter()
            latents = codec.encode_latents(wav)
            codes = codec.rvq.encode(latents)  # [1, K, T]
            encode_s += time.perf_counter() - start
            start = time.perf_counter()
            full = codec.decode(codes, length=audio.size)[0, 0].numpy()
            decode_s += time.perf_counter() - start
            audio_s += audio.size / sr
            vae_only = codec.vae.decode(latents, length=audio.size)[0, 0].numpy()
            systems.setdefault("VAE (no quantisation)", Scores()).add(audio, vae_only, sr)
            for k in range(1, codec.num_codebooks + 1):
                out = (
                    full
                    if k == codec.num_codebooks
                    else codec.decode(codes[:, :k], length=audio.size)[0, 0].numpy()
                )
                kbps = codec.frame_rate * k * math.log2(codec.codebook_size) / 1000
                systems.setdefault(f"tokens K={k} ({kbps:.2f} kbps)", Scores()).add(audio, out, sr)
        for k in range(codec.num_codebooks):
            histograms[k] += np.bincount(codes[0, k].numpy(), minlength=codec.codebook_size)
        for kbps in OPUS_KBPS:
            systems.setdefault(f"Opus {kbps} kbps", Scores()).add(
                audio, opus_round_trip(audio, sr, kbps), sr
            )
    p = histograms / np.maximum(histograms.sum(axis=1, keepdims=True), 1)
    perplexity = np.exp(-(p * np.log(np.maximum(p, 1e-12))).sum(axis=1))
    figures = {
        "encode_rtf": encode_s / max(audio_s, 1e-9),
        "decode_rtf": decode_s / max(audio_s, 1e-9),
        **{f"perplexity_k{k + 1}": float(v) for k, v in enumerate(perplexity)},
    }
    return systems, figures


def print_table(title: str, systems: dict[str, Scores]) -> None:
    print(f"\n{title}")
    print(f"| {'system':<28} | log-mel L1 | MR-STFT | SI-SDR dB |")
    print(f"|{'-' * 30}|-----------:|--------:|----------:|")
    for name, scores in systems.items():
        mel, stft, sdr = scores.means()
        print(f"| {name:<28} | {mel:10.3f} | {stft:7.3f} | {sdr:9.2f} |")


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, required=True)
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/codec"))
    parser.add_argument("--split", default="test")
    parser.add_argument("--pieces", type=int, default=20)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--threads", type=int, default=2)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    torch.set_num_threads(args.threads)
    try:
        codec = AudioCodec.from_pretrained(args.checkpoint)
        corpus = Corpus(args.corpus)
        pieces = corpus.pieces(args.split)[: args.pieces]
    except user_error_types() as exc:
        parser.exit(2, error_line(exc) + "\n")
    print(
        f"codec {args.checkpoint}: {codec.sample_rate} Hz, {codec.frame_rate:g} frames/s, "
        f"K={codec.num_codebooks} x {codec.codebook_size}, {codec.bitrate / 1000:.2f} kbps; "
        f"{len(pieces)} {args.split} pieces x {args.seconds:g} s; CPU, {args.threads} threads"
    )
    for title, second in (
        ("FluidR3 (training SoundFont)", False),
        ("TimGM6mb (second SoundFont)", True),
    ):
        clips = list(clips_for(corpus, pieces, codec.sample_rate, args.seconds, second))
        systems, figures = evaluate_codec(codec, clips)
        print_table(title, systems)
        perplexities = ", ".join(
            f"{v:.0f}" for k, v in figures.items() if k.startswith("perplexity")
        )
        print(
            f"codebook perplexity (of {codec.codebook_size}): {perplexities}; "
            f"encode RTF {figures['encode_rtf']:.3f}, decode RTF {figures['decode_rtf']:.3f}"
        )


if __name__ == "__main__":
    main()
