from __future__ import annotations

import itertools

import numpy as np
import pytest

from mir.audio import Audio
from mir.structure import (
    Sections,
    beat_synchronous_features,
    checkerboard_novelty,
    feature_novelty,
    name_clusters,
    segment,
    self_similarity,
    vocal_edges,
    vocal_span,
)
from tests.mir.synth import SAMPLE_RATE


@pytest.fixture(scope="module")
def abab_sections(abab: Audio) -> Sections:
    beats = np.arange(0.0, abab.duration, 0.5)
    return segment(abab, beats.tolist(), beats[::4].tolist())


def test_abab_boundaries_are_found(abab_sections: Sections) -> None:
    assert len(abab_sections) == 4
    assert np.allclose(abab_sections.boundaries, [8.0, 16.0, 24.0], atol=1.0)


def test_abab_labels_repeat_with_the_parts(abab_sections: Sections) -> None:
    labels = abab_sections.labels
    assert labels[0] == labels[2] and labels[1] == labels[3] and labels[0] != labels[1]
    assert set(labels) == {"verse", "chorus"}


def test_sections_cover_the_clip_without_gaps(abab: Audio, abab_sections: Sections) -> None:
    segments = abab_sections.segments
    assert segments[0][0] == 0.0 and segments[-1][1] == pytest.approx(abab.duration)
    assert all(a[1] == b[0] for a, b in itertools.pairwise(segments))


def test_segmentation_without_beats_uses_fixed_frames(abab: Audio) -> None:
    sections = segment(abab, [])
    assert np.allclose(sections.boundaries, [8.0, 16.0, 24.0], atol=1.0)


def test_silence_gives_no_sections_and_a_short_clip_one(silence: Audio) -> None:
    assert len(segment(silence, [])) == 0
    tone = np.sin(np.arange(3 * SAMPLE_RATE) * 0.05).astype(np.float32)
    short = segment(Audio(tone, SAMPLE_RATE), [])
    assert short.segments == ((0.0, 3.0, "verse"),)


@pytest.mark.parametrize(
    ("clusters", "names"),
    [
        ([1, 2, 3, 2, 3, 4], ["intro", "verse", "chorus", "verse", "chorus", "outro"]),
        ([1, 2, 1, 2, 3, 2], ["verse", "chorus", "verse", "chorus", "bridge", "chorus"]),
        ([1], ["verse"]),
        ([1, 2], ["intro", "outro"]),
    ],
)
def test_clusters_are_named_by_repetition_and_position(
    clusters: list[int], names: list[str]
) -> None:
    assert name_clusters(clusters) == names


def test_novelty_peaks_at_a_block_change() -> None:
    similarity = np.zeros((40, 40))
    similarity[:20, :20] = 1.0
    similarity[20:, 20:] = 1.0
    novelty = checkerboard_novelty(similarity, 4)
    assert int(np.argmax(novelty)) in (19, 20) and novelty.max() == 1.0


def _sung(start: float, end: float) -> list[tuple[float, float, int]]:
    """Vocal notes every half second from `start` to `end`."""
    return [(t, t + 0.4, 67) for t in np.arange(start, end - 0.4, 0.5)]


def test_the_vocal_marks_the_intro_and_the_outro(abab: Audio) -> None:
    beats = np.arange(0.0, abab.duration, 0.5)
    bars = beats[::4]  # 2-s bars
    # singing from a pickup just before the bar at 4 s to 27.5 s: the outro from the bar at 28 s
    vocal = [(3.95, 4.4, 64), *_sung(4.5, 27.5)]
    sections = segment(abab, beats.tolist(), bars.tolist(), vocal=vocal)
    assert sections.segments[0] == (0.0, 4.0, "intro")
    assert sections.segments[-1][:1] == (28.0,) and sections.labels[-1] == "outro"
    assert sections.segments[-1][1] == pytest.approx(abab.duration)
    inner = sections.boundaries[1:-1]
    assert np.allclose(inner, [8.0, 16.0, 24.0], atol=1.0), "the parts' changes are still found"
    assert all(a[1] == b[0] for a, b in itertools.pairwise(sections.segments))


@pytest.mark.parametrize(
    ("vocal", "span"),
    [
        ([], None),
        ([(1.0, 1.5, 60), (2.0, 2.5, 62)], None),  # two notes are not a song
        ([(0.5, 0.9, 60), *_sung(10.0, 20.0), (29.0, 29.4, 60)], (10.0, 19.9)),  # strays ignored
        (_sung(0.0, 30.0), (0.0, 29.9)),
    ],
)
def test_the_singing_is_a_run_of_notes(
    vocal: list[tuple[float, float, int]], span: tuple[float, float] | None
) -> None:
    found = vocal_span(vocal)
    assert found == span if span is None else np.allclose(found, span)


def test_a_song_sung_from_the_start_to_the_end_has_no_intro_or_outro() -> None:
    bars = np.arange(0.0, 32.0, 2.0).tolist()
    assert vocal_edges(_sung(0.0, 31.8), bars, 32.0) == (0.0, 32.0)
    assert vocal_edges(_sung(6.3, 20.0), bars, 32.0) == (8.0, 20.0)
    assert vocal_edges([], bars, 32.0) == (0.0, 32.0)


def test_the_banded_novelty_equals_the_full_matrix_one() -> None:
    rng = np.random.default_rng(0)
    features = np.repeat(rng.standard_normal((25, 6)), 20, axis=1)  # six blocks of 20 frames
    features += 0.1 * rng.standard_normal(features.shape)
    full = checkerboard_novelty(self_similarity(features), 6)
    np.testing.assert_allclose(feature_novelty(features, 6), full, atol=1e-10)


def test_long_audio_gets_its_features_in_blocks_as_whole(
    abab: Audio, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mir.structure as structure

    beats = np.arange(0.0, abab.duration, 0.5).tolist()
    whole = beat_synchronous_features(abab, beats)
    monkeypatch.setattr(structure, "BLOCK_SECONDS", 7.0)  # 32 s of song in five blocks
    blocked = beat_synchronous_features(abab, beats)
    np.testing.assert_array_equal(blocked[0], whole[0])
    np.testing.assert_allclose(blocked[1], whole[1], atol=1e-4)
