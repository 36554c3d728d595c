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
from score_tokens.score import Score
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


def example_bars(bars: int) -> Score:
    """The example song's first `bars` bars of 4/4 (notes, chords and sections starting in them)."""
    from seedmusic.data.example_song import example_song

    score = example_song()
    end = bars * 4 * score.ticks_per_beat
    for track in score.tracks.values():
        track.notes[:] = [note for note in track.notes if note.tick < end]
    score.chords = [chord for chord in score.chords if chord.tick < end]
    score.sections = [section for section in score.sections if section.tick < end]
    score.end_tick = end
    return score.validate()
