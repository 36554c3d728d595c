"""The shipped reference codec (`checkpoints/codec`) on audio it was not trained on: the example
song written in code, rendered with the second (TimGM6mb) SoundFont, which the corpus never used."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from renderer.codec import AudioCodec, log_mel_l1
from renderer.vae import VaeConfig
from seedmusic.checkpoints import checkpoints_dir

SECONDS = 8.0


@pytest.fixture(scope="module")
def codec() -> AudioCodec:
    folder = checkpoints_dir() / "codec"
    assert folder.is_dir(), f"the reference codec should ship in {folder}"
    return AudioCodec.from_pretrained(folder)


@pytest.fixture(scope="module")
def song(codec: AudioCodec) -> np.ndarray:
    from seedmusic.data.example_song import example_song
    from seedmusic.data.synth import render_score

    audio = render_score(example_song(), codec.sample_rate, soundfont="timgm6mb")
    return audio[: int(SECONDS * codec.sample_rate)]  # [S]


def test_reference_codec_is_small_at_25_frames_and_2_kbps(codec: AudioCodec) -> None:
    assert codec.vae.config == VaeConfig.reference()
    assert (codec.sample_rate, codec.audio_channels, codec.frame_rate) == (24000, 1, 25.0)
    assert codec.bitrate <= 3000
    weights = sum(p.numel() * p.element_size() for p in codec.parameters())
    assert weights < 20e6


def test_unseen_song_round_trips_closer_than_silence_or_noise(
    codec: AudioCodec, song: np.ndarray
) -> None:
    with torch.no_grad():
        codes = codec.encode(torch.from_numpy(song)[None, None], codec.sample_rate)
        decoded = codec.decode(codes, length=song.size)[0, 0].numpy()
    assert codes.shape == (1, codec.num_codebooks, int(SECONDS * codec.frame_rate))
    tokens = log_mel_l1(song, decoded, codec.sample_rate)
    rng = np.random.default_rng(0)
    noise = (rng.standard_normal(song.size) * song.std()).astype(np.float32)
    assert tokens < 0.5 * log_mel_l1(song, noise, codec.sample_rate)
    assert tokens < 0.5 * log_mel_l1(song, np.zeros_like(song), codec.sample_rate)


def test_more_codebooks_reconstruct_better(codec: AudioCodec, song: np.ndarray) -> None:
    with torch.no_grad():
        codes = codec.encode(torch.from_numpy(song)[None, None])
        errors = [
            log_mel_l1(
                song, codec.decode(codes[:, :k], length=song.size)[0, 0].numpy(), codec.sample_rate
            )
            for k in (1, codec.num_codebooks)
        ]
    assert errors[1] < errors[0]
