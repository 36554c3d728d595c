"""The neural renderer: a score -> its audio, through the trained DiT and the codec's VAE.

    Score ─► score frames + global vector (seedmusic.render_conditions)
          ─► LatentDiT (flow matching, Euler steps, classifier-free guidance) ─► VAE latents
          ─► Vae.decode ─► 24 kHz waveform

A song of any length renders in windows of `window` frames (the DiT's training crop): each
window after the first starts with `overlap` frames of the previous window's latents as known
frames (the DiT's inpainting input), so it continues them; the latents of the overlap are
cross-faded. Stems are separate renders of the same score with the tracks of each stem as the
condition (`vocal`, `accompaniment`, each instrument); with stems the mix is the vocal plus the
accompaniment, so the files add up.

The audio-token LM stage (codes from `checkpoints/lm`) is not in this chain yet: the DiT was
trained with its codes dropped half of the time and renders here from the score alone.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from tqdm.auto import tqdm

from renderer.codec import AudioCodec
from renderer.dit import LatentDiT
from renderer.modeling import CheckpointError
from renderer.sampling import sample_latents
from score_tokens.frames import NUM_FRAME_FEATURES, num_score_frames
from score_tokens.score import NOTE_TRACKS, Score
from seedmusic.errors import UserError
from seedmusic.render_conditions import (
    GLOBAL_DIM,
    global_width,
    reads_reference,
    reference_embedding,
    render_conditions,
)

logger = logging.getLogger(__name__)

INSTRUMENT_STEMS: tuple[str, ...] = ("bass", "piano", "guitar", "drums")
SAMPLE_RATE = 24000


@dataclass(frozen=True)
class NeuralRenderSettings:
    """Sampling settings of the neural renderer.

    Attributes:
        steps: Euler steps of the flow-matching sampler.
        guidance: classifier-free guidance scale (1 = none).
        window: frames per DiT call (its training crop).
        overlap: frames each window shares with the one before.
    """

    steps: int = 16
    guidance: float = 2.0
    window: int = 250
    overlap: int = 50

    def __post_init__(self) -> None:
        if self.steps < 1 or self.guidance <= 0:
            raise ValueError("steps must be >= 1 and guidance > 0")
        if not 0 <= self.overlap < self.window:
            raise ValueError(f"overlap must be in [0, window), got {self.overlap}")

    def window_starts(self, num_frames: int) -> list[int]:
        """The first frame of each DiT window of a `num_frames`-frame render."""
        hop = self.window - self.overlap
        return [0, *range(hop, max(num_frames - self.overlap, 1), hop)]

    def seam_frames(self, num_frames: int) -> list[int]:
        """The frames where one window's new latents follow the previous window's: each later
        window's first frame after its `overlap` known frames."""
        return [
            s + self.overlap
            for s in self.window_starts(num_frames)[1:]
            if s + self.overlap < num_frames
        ]


ENCODE_MARGIN_FRAMES = 25
"""Frames of audio encoded past each side of a stretch (1 s at 25 frames/s), so that the
encoder's edges lie outside the latents used."""
NO_REFERENCE = (
    "this DiT reads no reference audio (the shipped one does not; configs/dit/timbre.yaml "
    "trains one that does)"
)
REFERENCE_SECONDS = 60.0
REFERENCE_WINDOWS = 6
"""A reference embedding reads at most this much of its audio, in this many stretches."""


class NeuralRenderer:
    """Score -> audio with a trained `LatentDiT` and the codec's VAE decoder."""

    def __init__(self, dit: LatentDiT, codec: AudioCodec) -> None:
        config = dit.config
        if config.latent_dim != codec.vae.config.latent_channels:
            raise CheckpointError(
                f"the DiT makes {config.latent_dim}-channel latents but the codec's VAE reads "
                f"{codec.vae.config.latent_channels}"
            )
        widths = (GLOBAL_DIM, global_width(config.latent_dim, reference=True))
        if config.frame_dim != NUM_FRAME_FEATURES or config.global_dim not in widths:
            raise CheckpointError(
                f"the DiT reads {config.frame_dim} score features and a {config.global_dim}-wide "
                f"global vector; this version makes {NUM_FRAME_FEATURES} and {widths[0]} "
                f"({widths[1]} with a reference)"
            )
        self.takes_reference = reads_reference(config.global_dim, config.latent_dim)
        self.dit = dit.eval()
        self.codec = codec.eval()

    @classmethod
    def from_pretrained(
        cls, dit_dir: Path | None = None, codec_dir: Path | None = None
    ) -> NeuralRenderer:
        """The shipped `checkpoints/dit` and `checkpoints/codec` (or the folders given)."""
        from seedmusic.checkpoints import reference_checkpoint

        dit = LatentDiT.from_pretrained(dit_dir or reference_checkpoint("dit"))
        codec = AudioCodec.from_pretrained(codec_dir or reference_checkpoint("codec"))
        return cls(dit.float(), codec)

    @property
    def sample_rate(self) -> int:
        return self.codec.sample_rate

    def global_vector(
        self, conditions: np.ndarray, reference: torch.Tensor | None = None
    ) -> torch.Tensor:
        """`[1, G]`: the render conditions' global vector `[G0]` and, for a DiT that reads one,
        the reference embedding of `reference` (standardized latents `[1, D, T]`; None: no
        reference). A DiT without a reference input ignores `reference`."""
        vector = torch.from_numpy(conditions)[None]  # [1, G0]
        if not self.takes_reference:
            return vector
        embedding = reference_embedding(reference, 1, self.dit.config.latent_dim)
        return torch.cat([vector, embedding], dim=1)

    def render(
        self,
        score: Score,
        stems: bool = False,
        seed: int = 0,
        settings: NeuralRenderSettings | None = None,
        progress: bool | None = None,
        reference: torch.Tensor | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        """`({"mix": [S], stem: [S] ...}, info)`: 24 kHz mono float32 audio of the score; with
        `reference` (standardized latents `[1, D, T]`, `reference_latents`) the mix follows
        that audio's sound.

        Raises:
            UserError: the score has no notes; a reference with stems or for a DiT that reads
                none.
        """
        settings = settings or NeuralRenderSettings()
        if reference is not None and not self.takes_reference:
            raise UserError(NO_REFERENCE)
        if reference is not None and stems:
            raise UserError("a reference sets the sound of the mix: render it without stems")
        present: list[str] = [t for t in NOTE_TRACKS if score.notes(t)]
        if not present:
            raise UserError("the score has no notes to render")
        names = ["mix"]
        if stems:
            names = [n for n in ("vocal", "accompaniment") if _holds(n, present)]
            names += [t for t in INSTRUMENT_STEMS if t in present]
        frames = num_score_frames(score, self.codec.frame_rate)
        length = round(frames * self.codec.hop_length)
        audio: dict[str, np.ndarray] = {}
        timings = {"dit": 0.0, "vae": 0.0}
        for index, name in enumerate(tqdm(names, desc="stems", disable=not (progress and stems))):
            started = time.perf_counter()
            latents = self.render_latents(
                score, name, frames, seed + index, settings, progress, reference
            )
            timings["dit"] += time.perf_counter() - started
            started = time.perf_counter()
            audio[name] = self.decode(latents, length)
            timings["vae"] += time.perf_counter() - started
        if stems:
            parts = [audio[n] for n in ("vocal", "accompaniment") if n in audio]
            audio["mix"] = np.sum(parts, axis=0).astype(np.float32)
        info = {
            "trained": True,
            "chain": "score frames -> DiT -> VAE (the audio-token LM stage is not trained yet)",
            "steps": settings.steps,
            "guidance": settings.guidance,
            "timings": {k: round(v, 3) for k, v in timings.items()},
        }
        return audio, info

    @torch.no_grad()
    def render_latents(
        self,
        score: Score,
        stem: str,
        num_frames: int,
        seed: int,
        settings: NeuralRenderSettings,
        progress: bool | None = None,
        reference: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """VAE latents `[1, D, T]` of one stem, window after window (`reference`: see
        `render`)."""
        frames, glob = render_conditions(score, stem, self.codec.frame_rate, num_frames)
        cond = torch.from_numpy(frames)[None]  # [1, F, T]
        global_vector = self.global_vector(glob, reference)  # [1, G]
        window, overlap = settings.window, settings.overlap
        starts = settings.window_starts(num_frames)
        generator = torch.Generator().manual_seed(seed)
        out = torch.zeros(1, self.dit.config.latent_dim, num_frames)  # normalized space
        bar = tqdm(starts, desc="render", unit="window", disable=not progress)
        for start in bar:
            end = min(start + window, num_frames)
            known = torch.zeros(1, 1, end - start)
            if start > 0:
                known[..., : min(overlap, end - start)] = 1.0
            x = sample_latents(
                self.dit,
                None,
                settings.steps,
                guidance_scale=settings.guidance,
                known_latents=out[..., start:end] if start > 0 else None,
                known_mask=known if start > 0 else None,
                global_embedding=global_vector,
                generator=generator,
                progress=False,
                score_frames=cond[..., start:end],
                num_frames=end - start,
            )
            out[..., start:end] = x
        return self.dit.denormalize(out)

    def encode_frames(self, mono: np.ndarray, lo: int, hi: int) -> torch.Tensor:
        """The codec VAE's latents `[1, D, hi - lo]` of frames [lo, hi) of the song `mono`
        (`[S]` at the codec's rate), encoded from the audio around them only
        (`ENCODE_MARGIN_FRAMES` more on each side), so the cost does not grow with the song."""
        hop = self.codec.hop_length
        total = math.ceil(mono.size / hop)
        first, stop = max(0, lo - ENCODE_MARGIN_FRAMES), min(total, hi + ENCODE_MARGIN_FRAMES)
        segment = mono[first * hop : stop * hop]
        with torch.no_grad():
            wav = torch.from_numpy(np.ascontiguousarray(segment, dtype=np.float32))[None, None]
            wav = wav.expand(-1, self.codec.audio_channels, -1)  # [1, C, S]
            latents = self.codec.encode_latents(wav)  # [1, D, stop - first]
        return latents[..., lo - first : hi - first]

    def reference_latents(
        self,
        mono: np.ndarray,
        seconds: float = REFERENCE_SECONDS,
        windows: int = REFERENCE_WINDOWS,
    ) -> torch.Tensor | None:
        """Standardized latents `[1, D, T]` of the song `mono` (`[S]` at the codec's rate) for
        its reference embedding: all of it up to `seconds`, else `windows` stretches of
        `seconds / windows` spread evenly from its start to its end. None when it is shorter
        than two frames."""
        total = mono.size // self.codec.hop_length
        if total < 2:
            return None
        limit = max(2, round(seconds * self.codec.frame_rate))
        if total <= limit:
            stretches = [(0, total)]
        else:
            length = limit // windows
            firsts = np.linspace(0, total - length, windows).round().astype(int)
            stretches = [(int(f), int(f) + length) for f in firsts]
        parts = [self.encode_frames(mono, lo, hi) for lo, hi in stretches]
        return self.dit.normalize(torch.cat(parts, dim=-1))  # [1, D, T]

    def read_reference(self, path: Path) -> torch.Tensor:
        """`reference_latents` of the audio file `path` (any rate and channels).

        Raises:
            UserError: this DiT reads no reference, or the file breaks a rule of the input gate
                (`seedmusic.inputs.read_audio`) or is shorter than two frames.
        """
        from seedmusic.inputs import read_audio

        if not self.takes_reference:
            raise UserError(NO_REFERENCE)
        try:
            audio = read_audio(path, sample_rate=self.sample_rate)
        except UserError as exc:
            raise UserError(f"--reference: {exc}") from None
        latents = self.reference_latents(audio.samples)
        if latents is None:
            raise UserError(f"{path}: too short to be a reference (under 0.1 s)")
        return latents

    @torch.no_grad()
    def decode(self, latents: torch.Tensor, length: int) -> np.ndarray:
        """VAE latents `[1, D, T]` -> mono float32 audio `[length]`."""
        wav = self.codec.decode_latents(latents, length=length)  # [1, C, S]
        return wav[0].mean(dim=0).numpy().astype(np.float32)


def _holds(stem: str, present: list[str]) -> bool:
    if stem == "vocal":
        return "vocal" in present
    return any(t != "vocal" for t in present)


def render_neural(
    score: Score,
    stems: bool = False,
    seed: int = 0,
    progress: bool | None = None,
    reference: Path | None = None,
) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
    """Render `score` with the shipped neural renderer (see `NeuralRenderer.render`) into
    24 kHz audio (resampled when the codec works at another rate); with `reference`, an audio
    file whose sound the mix follows (`NeuralRenderer.reference_latents`).

    Raises:
        UserError: a reference with stems, with a DiT that reads none, or not readable.
    """
    started = time.perf_counter()
    renderer = NeuralRenderer.from_pretrained()
    loaded = time.perf_counter() - started
    latents = None
    if reference is not None:
        latents = renderer.read_reference(reference)
        loaded = time.perf_counter() - started
    audio, info = renderer.render(
        score, stems=stems, seed=seed, progress=progress, reference=latents
    )
    info["timings"]["load"] = round(loaded, 3)
    if reference is not None:
        info["reference"] = str(reference)
    if renderer.sample_rate != SAMPLE_RATE:  # a codec at another rate: songs are 24 kHz
        import librosa

        audio = {
            name: librosa.resample(wav, orig_sr=renderer.sample_rate, target_sr=SAMPLE_RATE)
            for name, wav in audio.items()
        }
    return audio, info
