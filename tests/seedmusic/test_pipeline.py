"""The generation skeleton: request -> conditions -> codes -> latents -> waveform."""

from __future__ import annotations

import numpy as np
import pytest

from renderer.codec import AudioCodec
from renderer.dit import DitConfig, LatentDiT
from renderer.rvq import ResidualVQ, RvqConfig
from renderer.vae import Vae, VaeConfig
from seedmusic.lm import AudioTokenLM, LmConfig
from seedmusic.pipeline import AudioTokenPipeline, GenerateRequest


@pytest.fixture(scope="module")
def pipeline() -> AudioTokenPipeline:
    return AudioTokenPipeline.untrained_tiny(seed=0)


def test_generate_gives_the_requested_length_and_says_untrained(pipeline):
    request = GenerateRequest(lyrics="la la", style="pop, 100 bpm", duration=1.0, diffusion_steps=2)
    song = pipeline.generate(request)
    assert song.waveform.shape == (1, 24000)
    assert np.isfinite(song.waveform).all()
    assert song.codes.shape == (4, 25)
    assert song.codes.min() >= 0 and song.codes.max() < 16
    info = song.describe()
    assert info["trained"] is False and info["num_frames"] == 25 and info["seconds"] == 1.0


def test_same_seed_same_song_other_seed_other_codes(pipeline):
    request = GenerateRequest(style="rock", duration=0.4, diffusion_steps=2, seed=3)
    a, b = pipeline.generate(request), pipeline.generate(request)
    np.testing.assert_array_equal(a.codes, b.codes)
    np.testing.assert_allclose(a.waveform, b.waveform)
    c = pipeline.generate(GenerateRequest(style="rock", duration=0.4, diffusion_steps=2, seed=4))
    assert not np.array_equal(a.codes, c.codes)


def test_conditions_carry_tags_numbers_and_phonemes(pipeline):
    conditions = pipeline.conditions(
        GenerateRequest(lyrics="sing", style="jazz, 90 bpm", duration=5.0, tempo=120.0)
    )
    assert conditions.style_tags == ("jazz",)
    assert conditions.numbers == {"tempo_bpm": 120.0, "duration_s": 5.0}
    assert conditions.phonemes == ("S", "IH1", "NG")


def test_unknown_style_names_the_tag(pipeline):
    with pytest.raises(ValueError, match="kazoo"):
        pipeline.generate(GenerateRequest(style="kazoo", duration=0.2))


def test_models_that_do_not_fit_are_rejected():
    lm = AudioTokenLM(LmConfig.tiny())  # K = 4, 16 codes
    dit = LatentDiT(DitConfig.tiny())  # K = 2
    codec = AudioCodec(Vae(VaeConfig.tiny()), ResidualVQ(RvqConfig.tiny()))
    with pytest.raises(ValueError, match="num_codebooks differs"):
        AudioTokenPipeline(lm, dit, codec, trained=False)
