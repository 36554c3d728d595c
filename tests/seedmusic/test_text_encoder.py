"""The packaged all-MiniLM-L6-v2 sentence encoder: offline, unit vectors, meaning-aware."""

from __future__ import annotations

import numpy as np
import pytest

from seedmusic.errors import UserError
from seedmusic.text_encoder import SentenceEncoder, packaged_encoder


@pytest.mark.slow
def test_similar_descriptions_are_closer_than_different_ones() -> None:
    vectors = packaged_encoder().encode(
        [
            "a slow, gentle waltz about the sea",
            "A tender waltz in three, slow and calm",
            "a fast, loud rock song",
        ]
    )
    assert vectors.shape == (3, 384)
    assert np.allclose(np.linalg.norm(vectors, axis=1), 1.0, atol=1e-5)
    assert vectors[0] @ vectors[1] > vectors[0] @ vectors[2] + 0.2


def test_a_folder_without_a_model_is_a_user_error(tmp_path) -> None:  # type: ignore[no-untyped-def]
    with pytest.raises(UserError, match="cannot load a sentence encoder"):
        SentenceEncoder(tmp_path)
