"""The audio-token generation pipeline: conditions -> LM codes -> DiT latents -> VAE waveform.

    request (lyrics, style, duration, tempo, seed)
      -> Conditions (style tags, xVal numbers, lyric phonemes)
      -> AudioTokenLM.generate            codes   [1, K, T]   (delay pattern inside)
      -> sample_latents(LatentDiT, codes) latents [1, D, T]   (flow matching, Euler steps)
      -> Vae.decode                       audio   [1, C, S]

T is `duration * frame_rate` of the codec. The three models must agree on K, the codebook size
and the latent width; the constructor checks it. `AudioTokenPipeline.untrained_tiny()` builds
random tiny models with the right shapes: the walking skeleton, whose audio is noise-like and
whose every output says `"trained": false`.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from renderer.codec import AudioCodec
from renderer.dit import DitConfig, LatentDiT
from renderer.rvq import ResidualVQ, RvqConfig
from renderer.sampling import sample_latents
from renderer.vae import Vae, VaeConfig
from seedmusic.conditioning import Conditions, parse_style
from seedmusic.lm import AudioTokenLM, LmConfig
from seedmusic.lyrics import lyrics_to_phonemes

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class GenerateRequest:
    """What to generate.

    Attributes:
        lyrics: the words to sing (English; phonemes from CMUdict).
        style: comma-separated style tags and numbers, e.g. `"pop, female vocal, 100 bpm"`.
        duration: seconds of audio.
        tempo: bpm (overrides a tempo given in `style`).
        seed: random seed of every sampling step.
        temperature: LM sampling temperature (0 = greedy).
        top_k: LM top-k sampling (None = off).
        lm_guidance: LM classifier-free guidance scale (1 = off).
        diffusion_steps: Euler steps of the DiT sampler.
        dit_guidance: DiT classifier-free guidance scale (1 = off).
    """

    lyrics: str = ""
    style: str = ""
    duration: float = 10.0
    tempo: float | None = None
    seed: int = 0
    temperature: float = 1.0
    top_k: int | None = 250
    lm_guidance: float = 1.0
    diffusion_steps: int = 16
    dit_guidance: float = 1.0


@dataclass
class Song:
    """A generated piece: the waveform and the audio tokens it was rendered from."""

    waveform: np.ndarray  # [C, S] float32
    sample_rate: int
    codes: np.ndarray  # [K, T] int64
    trained: bool

    def describe(self) -> dict[str, Any]:
        """A JSON-ready summary."""
        return {
            "seconds": round(self.waveform.shape[1] / self.sample_rate, 3),
            "sample_rate": self.sample_rate,
            "num_codebooks": int(self.codes.shape[0]),
            "num_frames": int(self.codes.shape[1]),
            "trained": self.trained,
        }


class AudioTokenPipeline:
    """LM + DiT + codec, checked to fit together (see the module docstring).

    Args:
        lm: conditions -> codes.
        dit: codes -> VAE latents.
        codec: the VAE whose decoder makes the waveform (and the RVQ that defines the codes).
        trained: whether the models were trained (written into every output).
    """

    def __init__(self, lm: AudioTokenLM, dit: LatentDiT, codec: AudioCodec, trained: bool) -> None:
        _check_fit(lm, dit, codec)
        self.lm = lm.eval()
        self.dit = dit.eval()
        self.codec = codec.eval()
        self.trained = trained

    @classmethod
    def untrained_tiny(cls, seed: int = 0) -> AudioTokenPipeline:
        """Random tiny models at 24 kHz, 25 frames/s, K = 4 codebooks of 16 codes."""
        torch.manual_seed(seed)
        vae = Vae(
            VaeConfig(
                sample_rate=24000,
                encoder_hidden_size=8,
                decoder_channels=8,
                downsampling_ratios=(4, 4, 6, 10),
                channel_multiples=(1, 2, 2, 4),
                latent_channels=8,
            )
        )
        lm_config = LmConfig.tiny()
        rvq = ResidualVQ(
            RvqConfig(
                dim=8, num_codebooks=lm_config.num_codebooks, codebook_size=lm_config.codebook_size
            )
        )
        dit = LatentDiT(
            DitConfig(
                **{
                    **vars(DitConfig.tiny()),
                    "num_codebooks": lm_config.num_codebooks,
                    "codebook_size": lm_config.codebook_size,
                }
            )
        )
        return cls(AudioTokenLM(lm_config), dit, AudioCodec(vae, rvq), trained=False)

    def conditions(self, request: GenerateRequest) -> Conditions:
        """The LM conditions of `request`; a `ValueError` names an unknown tag or bad number."""
        config = self.lm.config.conditions
        tags, numbers = parse_style(request.style, config)
        if request.tempo is not None:
            numbers["tempo_bpm"] = float(request.tempo)
        numbers["duration_s"] = float(request.duration)
        numbers = {name: value for name, value in numbers.items() if name in config.number_names}
        return Conditions(
            style_tags=tags, numbers=numbers, phonemes=lyrics_to_phonemes(request.lyrics)
        )

    @torch.no_grad()
    def generate(self, request: GenerateRequest, progress: bool = False) -> Song:
        """Generate `request.duration` seconds of audio."""
        if not request.duration > 0:
            raise ValueError(f"duration must be positive, got {request.duration}")
        conditions = self.conditions(request)
        num_frames = max(1, math.ceil(request.duration * self.codec.frame_rate))
        generator = torch.Generator(device=self.lm.device).manual_seed(request.seed)
        codes = self.lm.generate(
            [conditions],
            num_frames,
            temperature=request.temperature,
            top_k=request.top_k,
            guidance_scale=request.lm_guidance,
            generator=generator,
            progress=progress,
        )  # [1, K, T]
        latents = sample_latents(
            self.dit,
            codes,
            num_steps=request.diffusion_steps,
            guidance_scale=request.dit_guidance,
            generator=torch.Generator().manual_seed(request.seed),
            progress=progress,
        )  # [1, D, T]
        length = round(request.duration * self.codec.sample_rate)
        waveform = self.codec.decode_latents(latents, length=length)  # [1, C, S]
        if not self.trained:
            logger.warning("generated with UNTRAINED models: the audio is noise-like by design")
        return Song(
            waveform=waveform[0].float().cpu().numpy(),
            sample_rate=self.codec.sample_rate,
            codes=codes[0].cpu().numpy(),
            trained=self.trained,
        )


def _check_fit(lm: AudioTokenLM, dit: LatentDiT, codec: AudioCodec) -> None:
    """Raise `ValueError` when the three models disagree on K, codebook size or latent width."""
    shapes = {
        "num_codebooks": (lm.config.num_codebooks, dit.config.num_codebooks, codec.num_codebooks),
        "codebook_size": (lm.config.codebook_size, dit.config.codebook_size, codec.codebook_size),
    }
    for name, (of_lm, of_dit, of_codec) in shapes.items():
        if not of_lm == of_dit == of_codec:
            raise ValueError(f"{name} differs: LM {of_lm}, DiT {of_dit}, codec {of_codec}")
    if dit.config.latent_dim != codec.vae.latent_channels:
        raise ValueError(
            f"the DiT makes {dit.config.latent_dim}-dim latents but the VAE decodes "
            f"{codec.vae.latent_channels}"
        )
