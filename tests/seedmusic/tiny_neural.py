"""A checkpoints folder with a tiny codec and a tiny score-frame DiT (random weights)."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import torch

from renderer.codec import AudioCodec
from renderer.dit import DitConfig, LatentDiT
from renderer.rvq import ResidualVQ, RvqConfig
from renderer.vae import Vae, VaeConfig
from score_tokens.frames import NUM_FRAME_FEATURES
from seedmusic.render_conditions import global_width


def tiny_checkpoints(folder: Path, latent_dim: int = 8, reference: bool = False) -> Path:
    """`folder/codec` (8 kHz, 250 frames/s, 8 latent channels) and `folder/dit` for it (one
    that reads a reference embedding with `reference`)."""
    torch.manual_seed(0)
    AudioCodec(Vae(VaeConfig.tiny_stft()), ResidualVQ(RvqConfig.tiny())).save_pretrained(
        folder / "codec"
    )
    config = dataclasses.replace(
        DitConfig.tiny(),
        latent_dim=latent_dim,
        global_dim=global_width(latent_dim, reference),
        frame_dim=NUM_FRAME_FEATURES,
        frame_channels=8,
        patch_size=2,
    )
    LatentDiT(config).save_pretrained(folder / "dit")
    return folder
