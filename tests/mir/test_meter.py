from __future__ import annotations

import numpy as np

from mir.meter import MeterCandidate


def four_four_pulses(seconds: float, beat: float) -> tuple[np.ndarray, np.ndarray]:
    """Beat times every `beat` s from 0.5 s and `[F, 2]` RNN activations (0.01 elsewhere) with
    a downbeat pulse (0.8) on every 4th beat and a beat pulse on the others: clear 4/4 bars."""
    from mir.meter import ACTIVATION_FPS

    activations = np.full((int(seconds * ACTIVATION_FPS), 2), 0.01)
    beats = np.arange(0.5, seconds - 0.5, beat)
    for index, time in enumerate(beats):
        activations[round(time * ACTIVATION_FPS), 1 if index % 4 == 0 else 0] = 0.8
    return beats, activations


def test_meter_choice_keeps_bars_the_downbeat_activation_marks() -> None:
    """Every reading of the decoded 4/4 bars (halved, paired, other phases, 2, 3 or 4 beats) is
    a candidate; with the RNN's downbeat activation on every 4th beat at 100 bpm (harmony
    changing every second bar) the choice keeps 4 beats per bar on those downbeats."""
    from mir.meter import ACTIVATION_FPS, choose_meter, meter_candidates

    seconds = 40.0
    beats, activations = four_four_pulses(seconds, 0.6)
    frames = len(activations)
    novelty = np.zeros(frames)
    for time in beats[::8]:
        novelty[round(time * ACTIVATION_FPS)] = 1.0
    positions = np.arange(len(beats)) % 4 + 1
    candidates = meter_candidates(beats, positions, activations, novelty)
    assert candidates
    assert {c.beats_per_bar for c in candidates} == {2, 3, 4}
    best = choose_meter(candidates)
    assert best.score == max(c.score for c in candidates)
    assert best.beats_per_bar == 4
    downbeats = best.beats[best.positions == 1]
    np.testing.assert_allclose(downbeats[:4], [0.5, 2.9, 5.3, 7.7], atol=1e-6)


def test_the_bass_root_moves_bars_the_network_reads_from_beat_three() -> None:
    """A groove whose accents put the RNN's downbeat on beat 3 (MMA's folk-rock: snare on 2 and
    3), one chord a bar, and a bass playing the root on beat 1 and the fifth on beat 3: with the
    bass cue the bar lines are on beat 1, and the cue widens the lead of that reading over the
    network's (bars from beat 3)."""
    from mir.bassline import BASS_FPS
    from mir.meter import ACTIVATION_FPS, choose_meter, meter_candidates
    from mir.rhythm import CHROMA_FPS, harmonic_novelty

    seconds, beat = 40.0, 0.625
    frames = int(seconds * ACTIVATION_FPS)
    beats = np.arange(0.0, seconds - 1.0, beat)  # bar lines on beats 0, 4, 8, ...
    activations = np.full((frames, 2), 0.01)
    for index, time in enumerate(beats):  # the RNN: downbeat 0.3 on beat 1, 0.7 on beat 3
        down = {0: 0.3, 2: 0.7}.get(index % 4, 0.0)
        activations[round(time * ACTIVATION_FPS)] = [0.8 - down, down]
    chroma = np.zeros((int(seconds * CHROMA_FPS), 12))
    bass = np.zeros((int(seconds * BASS_FPS), 12))
    roots = [0, 5, 7, 9]  # C F G A, a bar each
    for index, time in enumerate(beats):
        root = roots[(index // 4) % 4]
        lo = round(time * CHROMA_FPS)
        chroma[lo : lo + round(beat * CHROMA_FPS) + 1, [root, (root + 4) % 12, (root + 7) % 12]] = 1
        if index % 2 == 0:  # bass on beats 1 and 3: the root, then a fifth
            note = root if index % 4 == 0 else (root + 7) % 12
            frame = round(time * BASS_FPS)
            bass[frame : frame + round(0.9 * beat * BASS_FPS), note] = 1.0
    novelty = harmonic_novelty(chroma, frames)
    positions = (np.arange(len(beats)) + 2) % 4 + 1  # the DBN's reading: bars from beat 3
    bar_lines = beats[::4]
    with_bass = choose_meter(
        meter_candidates(beats, positions, activations, novelty, (2, 3, 4), (chroma, bass))
    )
    assert with_bass.beats_per_bar == 4
    np.testing.assert_allclose(
        with_bass.beats[with_bass.positions == 1][: len(bar_lines)], bar_lines
    )

    def lead(candidates: list[MeterCandidate]) -> float:
        """Score of the 4/4 reading on beat 1 minus that of the 4/4 reading on beat 3."""
        scores: dict[int, float] = {}
        for c in candidates:
            if c.beats_per_bar == 4 and abs(np.median(np.diff(c.beats)) - beat) < 0.01:
                phase = round(float(c.beats[c.positions == 1][0] - beats[0]) / beat) % 4
                scores[phase] = max(scores.get(phase, -np.inf), c.score)
        return scores[0] - scores[2]

    without = meter_candidates(beats, positions, activations, novelty)
    with_cue = meter_candidates(beats, positions, activations, novelty, (2, 3, 4), (chroma, bass))
    assert lead(with_cue) > lead(without) + 1.0


def _pulse_activations(seconds: float, hits: dict[float, tuple[float, float]]) -> np.ndarray:
    """`[F, 2]` activations at 0.01 with the (beat, downbeat) values of `hits` at their times."""
    from mir.meter import ACTIVATION_FPS

    activations = np.full((int(seconds * ACTIVATION_FPS), 2), 0.01)
    for time, values in hits.items():
        activations[round(time * ACTIVATION_FPS)] = values
    return activations


def test_two_beat_readings_compete_as_two_four_and_six_eight() -> None:
    """Each two-beat reading is a candidate twice, simple (2/4) and compound (6/8), with only its
    own meter's tempo prior."""
    from mir.meter import FEATURES, NO_PRIOR, meter_candidates

    beats = np.arange(0.5, 29.5, 0.5)
    hits = {t: (0.8, 0.0) if i % 2 else (0.0, 0.8) for i, t in enumerate(beats)}
    candidates = meter_candidates(
        beats, np.arange(len(beats)) % 2 + 1, _pulse_activations(30.0, hits), np.zeros(3000)
    )
    two = [c for c in candidates if c.beats_per_bar == 2]
    assert sum(c.compound for c in two) == sum(not c.compound for c in two) > 0
    for candidate in two:
        own, other = (
            ("prior_6/8", "prior_2/4") if candidate.compound else ("prior_2/4", "prior_6/8")
        )
        assert candidate.features[FEATURES.index(own)] != NO_PRIOR
        assert candidate.features[FEATURES.index(other)] == NO_PRIOR
    assert not any(c.compound for c in candidates if c.beats_per_bar != 2)


def test_six_eight_bars_decoded_as_three_beats_are_read_as_six_eight() -> None:
    """Bars of 1.5 s with strong hits on their two dotted quarters and weak ones on the other
    eighths, decoded by the DBN as three quarter notes (3/4): the choice is 6/8 on the same
    bars."""
    from mir.meter import choose_meter, meter_candidates
    from mir.rhythm import BeatGrid

    seconds, bar = 36.0, 1.5
    hits: dict[float, tuple[float, float]] = {}
    for start in np.arange(0.5, seconds - 2.0, bar):
        for eighth in range(6):
            strength = {0: (0.2, 0.7), 3: (0.8, 0.05)}.get(eighth, (0.25, 0.0))
            hits[round(start + eighth * bar / 6, 4)] = strength
    beats = np.arange(0.5, seconds - 2.0, bar / 3)  # the DBN's quarter notes, 3 a bar
    positions = np.arange(len(beats)) % 3 + 1
    best = choose_meter(
        meter_candidates(beats, positions, _pulse_activations(seconds, hits), np.zeros(3600))
    )
    grid = BeatGrid.from_beats(best.beats.tolist(), best.positions.tolist(), best.compound)
    assert grid.time_signature == "6/8"
    np.testing.assert_allclose(grid.downbeats[:4], [0.5, 2.0, 3.5, 5.0], atol=1e-6)


def test_onset_strength_peaks_at_noise_bursts() -> None:
    """Bursts of white noise (a hi-hat) every 0.5 s: one frame per 441 samples, and the onset
    strength peaks within 20 ms of each burst."""
    from mir.meter import onset_strength

    rate, seconds = 44100, 4.0
    signal = np.zeros(int(rate * seconds) + 100, dtype=np.float32)
    noise = np.random.default_rng(0).normal(0.0, 0.3, 2000).astype(np.float32)
    starts = np.arange(0.25, seconds - 0.1, 0.5)
    for start in starts:
        signal[int(start * rate) : int(start * rate) + len(noise)] += noise
    onsets = onset_strength(signal)
    assert onsets.shape == (-(-len(signal) // 441),)
    peaks = [int(np.argmax(onsets[round(s * 100) - 20 : round(s * 100) + 20])) - 20 for s in starts]
    assert max(abs(p) for p in peaks) <= 2
    assert onsets[round(0.5 * 100) : round(0.7 * 100)].max() < 0.1 * onsets.max()


def test_distance_to_nearest_matches_the_pairwise_minimum() -> None:
    from mir.meter import _distance_to_nearest

    rng = np.random.default_rng(3)
    for _ in range(50):
        times = np.sort(rng.uniform(0, 60, rng.integers(1, 200)))
        points = np.sort(rng.uniform(0, 60, rng.integers(1, 40)))
        pairwise = np.min(np.abs(times[:, None] - points[None, :]), axis=1)
        np.testing.assert_array_equal(_distance_to_nearest(times, points), pairwise)


def test_onset_strength_is_the_flux_of_centred_zero_padded_frames() -> None:
    from mir.meter import ONSET_FFT, ONSET_LOWEST_HZ, onset_strength

    signal = np.random.default_rng(4).standard_normal(44_100 * 3 + 17).astype(np.float32)
    hop, half = 441, ONSET_FFT // 2
    frames = -(-len(signal) // hop)
    padded = np.pad(signal, (half, ONSET_FFT))
    block = np.stack([padded[i * hop : i * hop + ONSET_FFT] for i in range(frames)])
    bins = np.fft.rfftfreq(ONSET_FFT, 1 / 44_100) >= ONSET_LOWEST_HZ
    window = np.hanning(ONSET_FFT).astype(np.float32)
    spectrum = np.log1p(10.0 * np.abs(np.fft.rfft(block * window, axis=1)[:, bins]))
    flux = np.maximum(0.0, np.diff(spectrum, axis=0, prepend=spectrum[:1])).mean(axis=1)
    np.testing.assert_allclose(onset_strength(signal), flux, rtol=1e-5, atol=1e-6)
