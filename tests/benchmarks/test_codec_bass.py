"""The bass-fundamental measure of `benchmarks.codec_bass` on tones with known content."""

from __future__ import annotations

import numpy as np

from benchmarks.codec_bass import band_energy, low_band_l1, magnitudes

RATE = 24000


def _tone(*partials: tuple[float, float], seconds: float = 2.0) -> np.ndarray:
    t = np.arange(int(seconds * RATE)) / RATE
    return sum(amp * np.sin(2 * np.pi * hz * t) for hz, amp in partials)  # type: ignore[return-value]


def test_a_kept_fundamental_is_0_db_and_a_lost_one_far_below() -> None:
    bass = magnitudes(_tone((55.0, 0.5), (110.0, 0.3)))
    octave_up = magnitudes(_tone((110.0, 0.3)))  # the fundamental gone: heard an octave up
    alone = magnitudes(_tone((55.0, 0.5)))  # the same fundamental without its harmonic
    kept = band_energy(alone, 55.0, 0.5, 1.5, RATE) / band_energy(bass, 55.0, 0.5, 1.5, RATE)
    lost = band_energy(octave_up, 55.0, 0.5, 1.5, RATE) / band_energy(bass, 55.0, 0.5, 1.5, RATE)
    assert abs(10 * np.log10(kept)) < 0.1, "the fundamental's band holds the fundamental only"
    assert 10 * np.log10(lost) < -30.0
    second = band_energy(octave_up, 110.0, 0.5, 1.5, RATE) / band_energy(
        bass, 110.0, 0.5, 1.5, RATE
    )
    assert abs(10 * np.log10(second)) < 0.5, "the second harmonic is the same in both"


def test_the_low_band_distance_is_zero_for_the_same_audio_and_grows_with_a_change() -> None:
    bass = magnitudes(_tone((55.0, 0.5), (110.0, 0.3)))
    assert low_band_l1(bass, bass, RATE) == 0.0
    assert low_band_l1(bass, magnitudes(_tone((110.0, 0.3))), RATE) > 1.0
