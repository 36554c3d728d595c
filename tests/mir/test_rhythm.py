from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from mir.audio import Audio
from mir.rhythm import BeatGrid, tempo_from_beats, track_beats
from tests.mir.synth import SAMPLE_RATE, click_track


def test_click_track_tempo_within_two_percent(click_120_grid: BeatGrid) -> None:
    assert click_120_grid.tempo is not None
    assert abs(click_120_grid.tempo - 120.0) / 120.0 < 0.02


def test_click_track_beat_f_measure(click_120_grid: BeatGrid) -> None:
    reference = np.arange(0.0, 20.0, 0.5)
    score = mir_eval.beat.f_measure(
        mir_eval.beat.trim_beats(reference),
        mir_eval.beat.trim_beats(np.array(click_120_grid.beats)),
    )
    assert score > 0.9


def test_click_track_meter_and_downbeats(click_120_grid: BeatGrid) -> None:
    assert click_120_grid.time_signature == "4/4"
    downbeats = np.array(click_120_grid.downbeats)
    assert len(downbeats) >= 8
    # accented clicks every 2 s: each tracked downbeat sits on one of them
    assert np.all(np.abs(downbeats - 2.0 * np.round(downbeats / 2.0)) < 0.07)
    positions = click_120_grid.beat_positions
    assert len(positions) == len(click_120_grid.beats) and set(positions) <= {1, 2, 3, 4}


def test_waltz_is_three_four() -> None:
    grid = track_beats(Audio(click_track(150.0, 14.0, beats_per_bar=3), SAMPLE_RATE))
    assert grid.time_signature == "3/4"
    assert grid.tempo is not None and abs(grid.tempo - 150.0) / 150.0 < 0.02


@pytest.mark.parametrize("seconds", [0.0, 0.5, 5.0])
def test_silence_and_short_clips_give_an_empty_grid(seconds: float) -> None:
    grid = track_beats(Audio(np.zeros(int(seconds * SAMPLE_RATE), dtype=np.float32), SAMPLE_RATE))
    assert grid == BeatGrid() and grid.is_empty and grid.tempo is None


def test_from_beats_derives_downbeats_meter_and_tempo() -> None:
    grid = BeatGrid.from_beats([0.5, 1.0, 1.5, 2.0, 2.5, 3.0], [2, 3, 1, 2, 3, 1])
    assert grid.downbeats == (1.5, 3.0)
    assert grid.time_signature == "3/4" and grid.beats_per_bar == 3
    assert grid.tempo == 120.0
    with pytest.raises(ValueError, match="positions"):
        BeatGrid.from_beats([0.5], [])


def test_tempo_from_beats_needs_two_beats() -> None:
    assert tempo_from_beats([]) is None and tempo_from_beats([1.0]) is None
    assert tempo_from_beats([0.0, 0.6, 1.2, 1.8]) == 100.0


def _frame_energy(signal) -> np.ndarray:
    """A stand-in network with madmom's framing: one row per 441-sample hop. `[frames, 2]`"""
    samples = np.asarray(signal, dtype=np.float64)
    frames = -(-samples.size // 441)
    padded = np.zeros(frames * 441)
    padded[: samples.size] = samples
    energy = padded.reshape(frames, 441).mean(axis=1)
    return np.stack([energy, -energy], axis=1)


def test_chunked_activations_match_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    import mir.rhythm as rhythm

    monkeypatch.setattr(rhythm, "CHUNK_SECONDS", 1.0)
    monkeypatch.setattr(rhythm, "CONTEXT_SECONDS", 0.25)
    signal = (
        np.random.default_rng(3).standard_normal(int(4.7 * SAMPLE_RATE) + 123).astype(np.float32)
    )
    chunked = rhythm.downbeat_activations(signal, _frame_energy)
    np.testing.assert_allclose(chunked, _frame_energy(signal), atol=1e-6)


def test_windowed_dbn_decoding_matches_one_pass(monkeypatch: pytest.MonkeyPatch) -> None:
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor

    import mir.rhythm as rhythm

    frames = 60 * 100  # 60 s of synthetic activations at 100 fps: 120 bpm, downbeat every 4th beat
    activations = np.full((frames, 2), 0.01, dtype=np.float32)
    for index, frame in enumerate(range(30, frames, 50)):
        activations[frame, 0 if index % 4 else 1] = 0.9
    tracker = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=100)
    whole = np.asarray(tracker(activations))
    monkeypatch.setattr(rhythm, "DBN_CHUNK_SECONDS", 20.0)
    monkeypatch.setattr(rhythm, "DBN_OVERLAP_SECONDS", 5.0)
    windowed = rhythm.decode_downbeats(activations, tracker)
    assert windowed.shape == whole.shape
    np.testing.assert_allclose(windowed[:, 0], whole[:, 0], atol=0.011)
    np.testing.assert_array_equal(windowed[:, 1], whole[:, 1])


def test_smooth_beats_removes_jitter_but_keeps_a_tempo_change() -> None:
    from mir.rhythm import smooth_beats

    periods = np.concatenate([np.full(60, 0.5), np.linspace(0.5, 0.4, 40), np.full(60, 0.4)])
    clean = np.concatenate([[1.0], 1.0 + np.cumsum(periods)])
    jitter = np.random.default_rng(0).uniform(-0.015, 0.015, clean.size)
    smoothed = smooth_beats(clean + jitter)
    assert np.abs(smoothed - clean).mean() < 0.75 * np.abs(jitter).mean()
    assert np.abs(smoothed - clean).max() < 0.025  # a straight-line fit lags ~0.2 s in the ramp
    assert np.all(np.diff(smoothed) > 0)
    np.testing.assert_allclose(np.diff(smoothed)[-20:], 0.4, atol=0.01)


def test_harmonic_novelty_peaks_at_a_chord_change() -> None:
    from mir.rhythm import ACTIVATION_FPS, CHROMA_FPS, harmonic_novelty

    chroma = np.zeros((40, 12))
    chroma[:20, [0, 4, 7]] = 1.0  # C major for 2 s
    chroma[20:, [2, 5, 9]] = 1.0  # D minor for 2 s
    novelty = harmonic_novelty(chroma, 4 * ACTIVATION_FPS)
    assert abs(int(np.argmax(novelty)) / ACTIVATION_FPS - 20 / CHROMA_FPS) <= 0.1
    assert novelty[:ACTIVATION_FPS].max() == pytest.approx(0.0, abs=1e-6)


def test_harmonic_emphasis_keeps_each_frames_total() -> None:
    from mir.rhythm import emphasize_harmonic_changes

    rng = np.random.default_rng(1)
    activations = rng.uniform(0, 0.5, (200, 2)).astype(np.float32)
    novelty = np.zeros(200)
    novelty[98:103] = 1.0  # a chord change
    emphasized = emphasize_harmonic_changes(activations, novelty, weight=0.5)
    np.testing.assert_allclose(emphasized.sum(axis=1), activations.sum(axis=1), rtol=1e-5)
    assert emphasized[100, 1] > activations[100, 1]


def test_long_activations_are_decoded_in_shorter_windows(monkeypatch: pytest.MonkeyPatch) -> None:
    import mir.rhythm as rhythm

    lengths: list[int] = []

    def tracker(activations: np.ndarray) -> np.ndarray:
        lengths.append(len(activations))
        return np.empty((0, 2))

    monkeypatch.setattr(rhythm, "DBN_LONG_SECONDS", 100.0)
    rhythm.decode_downbeats(np.zeros((90 * 100, 2), np.float32), tracker)  # 90 s: one window
    assert lengths == [9000]
    lengths.clear()
    rhythm.decode_downbeats(np.zeros((400 * 100, 2), np.float32), tracker)  # 400 s: long
    longest = (rhythm.DBN_LONG_CHUNK_SECONDS + 2 * rhythm.DBN_OVERLAP_SECONDS) * 100
    assert len(lengths) > 1 and max(lengths) == longest
