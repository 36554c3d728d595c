"""The renderer's conditions: the global vector and the reference embedding."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from score_tokens.score import NOTE_TRACKS
from seedmusic.render_conditions import (
    GLOBAL_DIM,
    global_condition,
    global_width,
    reference_embedding,
    reference_width,
)


def test_the_global_vector_says_which_tracks_sound_and_the_tempo() -> None:
    vector = global_condition(["vocal", "bass"], sung_vocal=True, tempo_bpm=90.0)
    assert vector.shape == (GLOBAL_DIM,) and vector.dtype == np.float32
    expected = [1.0 if t in ("vocal", "bass") else 0.0 for t in NOTE_TRACKS] + [1.0, 0.75]
    np.testing.assert_allclose(vector, expected)


def test_the_reference_embedding_is_a_flag_and_the_mean_and_std_of_each_channel() -> None:
    torch.manual_seed(0)
    latents = torch.randn(2, 4, 300) * torch.tensor([1.0, 2.0, 0.5, 3.0])[None, :, None] + 5.0
    embedding = reference_embedding(latents, 2, 4)
    assert embedding.shape == (2, reference_width(4)) == (2, 9)
    assert bool((embedding[:, 0] == 1).all())
    np.testing.assert_allclose(embedding[:, 1:5].numpy(), 5.0, atol=0.4)
    np.testing.assert_allclose(embedding[0, 5:].numpy(), [1.0, 2.0, 0.5, 3.0], rtol=0.15)
    # no reference: all zeros, the flag too
    assert bool((reference_embedding(None, 3, 4) == 0).all())
    assert reference_embedding(None, 3, 4).shape == (3, 9)
    assert global_width(4, reference=False) == GLOBAL_DIM
    assert global_width(4, reference=True) == GLOBAL_DIM + 9


@pytest.mark.parametrize("shape", [(1, 4, 1), (2, 4, 10), (1, 3, 10), (4, 10)])
def test_reference_latents_of_the_wrong_shape_are_refused(shape: tuple[int, ...]) -> None:
    with pytest.raises(ValueError, match="reference latents"):
        reference_embedding(torch.zeros(shape), 1, 4)


def test_the_song_tempo_is_the_longest_lasting_not_a_lead_in() -> None:
    from score_tokens.score import TempoChange
    from seedmusic.data.example_song import example_song
    from seedmusic.render_conditions import score_tempo

    score = example_song()
    assert score_tempo(score) == score.tempos[0].bpm
    song_bpm = score.tempos[0].bpm
    score.tempos = [TempoChange(0, 187.0), TempoChange(score.ticks_per_beat, song_bpm)]
    assert score_tempo(score) == song_bpm  # an analyzed recording's lead-in comes first
