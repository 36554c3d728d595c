"""The readable tempo map (`mir.tempo`) and the scores `Analysis.to_score` writes with it."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pytest
import soundfile

from mir.analyze import Analysis
from mir.grid import MAX_BPM, MIN_BPM
from mir.rhythm import beats_per_bar
from mir.tempo import smooth_beats, tempo_stretches
from score_tokens.score import Chord, Note, Score, TempoChange, TimeSignature, Track

TPB = 480


def _jittered(bpms: np.ndarray, seed: int, jitter: float = 0.02) -> np.ndarray:
    """Beat times `[len(bpms) + 1]` for per-beat tempos, each beat moved by up to +-`jitter`
    of its period."""
    periods = 60.0 / bpms
    times = np.concatenate([[0.0], np.cumsum(periods)])
    noise = np.random.default_rng(seed).uniform(-jitter, jitter, len(times))
    return times + noise * np.concatenate([periods, periods[-1:]])


def _analysis(times: np.ndarray, per_bar: int = 4, time_signature: str = "4/4") -> Analysis:
    """An analysis of beats starting on a downbeat, with a note on every beat."""
    positions = [i % per_bar + 1 for i in range(len(times))]
    beats = [float(t) for t in times]
    bass = [(t, t + 0.1, 36) for t in beats]
    return Analysis(
        duration=beats[-1] + 0.5,
        tempo=float(60.0 / np.median(np.diff(times))),
        beats=beats,
        downbeats=[t for t, p in zip(beats, positions, strict=True) if p == 1],
        beat_positions=positions,
        time_signature=time_signature,
        notes={"vocal": [], "piano": [], "guitar": [], "bass": bass, "drums": []},
    )


@pytest.mark.parametrize("seed", range(5))
def test_a_constant_tempo_with_jitter_is_one_tempo(seed: int) -> None:
    times = _jittered(np.full(127, 96.0), seed)
    score = _analysis(times).to_score()
    assert [(t.tick, t.bpm) for t in score.tempos] == [(0, 96.0)]
    # every note (one per beat) still lands on its beat, and the score's seconds follow the audio
    ticks = np.array([n.tick for n in score.notes("bass")])
    assert np.all(np.abs(ticks - TPB * np.arange(len(times))) <= 0.05 * TPB)
    seconds = np.array([score.tick_to_seconds(TPB * i) for i in range(len(times))])
    assert np.max(np.abs(seconds - times)) < 0.03 * 60.0 / 96.0


def test_a_tempo_step_at_a_section_keeps_both_tempos_at_its_bar() -> None:
    times = _jittered(np.concatenate([np.full(32, 90.0), np.full(48, 120.0)]), seed=1)
    score = _analysis(times).to_score()
    assert len(score.tempos) == 2
    first, second = score.tempos
    assert first.tick == 0 and abs(first.bpm - 90.0) < 0.5
    assert second.tick == 32 * TPB and abs(second.bpm - 120.0) < 0.5
    assert all(t.bpm == round(t.bpm, 1) for t in score.tempos)
    seconds = np.array([score.tick_to_seconds(TPB * i) for i in range(len(times))])
    assert np.max(np.abs(seconds - times)) < 0.03 * 60.0 / 90.0


def test_an_accelerando_becomes_increasing_tempos_at_most_one_per_bar() -> None:
    bpms = np.concatenate([np.full(16, 80.0), np.linspace(80.0, 120.0, 64), np.full(16, 120.0)])
    times = _jittered(bpms, seed=2)
    tempos = _analysis(times).to_score().tempos
    values = [t.bpm for t in tempos]
    assert len(tempos) >= 4 and np.all(np.diff(values) > 0)
    assert abs(values[0] - 80.0) < 2.0 and abs(values[-1] - 120.0) < 2.0
    ticks = [t.tick for t in tempos]
    assert all(tick % (4 * TPB) == 0 for tick in ticks) and np.all(np.diff(ticks) >= 4 * TPB)
    assert all(v == round(v, 1) for v in values)


def test_stretches_cover_the_beats_and_merge_a_slow_drift() -> None:
    bpms = np.linspace(100.0, 101.5, 200)  # 1.5 % over 50 bars: one tempo
    stretches = tempo_stretches(_jittered(bpms, seed=3), [i % 4 + 1 for i in range(201)])
    assert [(s.first, s.last) for s in stretches] == [(0, 200)]
    assert 100.0 < stretches[0].bpm < 101.5
    assert tempo_stretches([1.0]) == [] and len(tempo_stretches([0.0, 0.5])) == 1
    with pytest.raises(ValueError, match="positions"):
        tempo_stretches([0.0, 0.5, 1.0], [1, 2])


def test_beat_smoothing_keeps_a_tempo_step() -> None:
    """The tracker's timing fit stops at a step: a parabola across it made a 90 -> 120 click
    track's beats a ramp from 81 to 143 bpm, its first beat 0.36 s before the audio began."""
    clean = _jittered(np.concatenate([np.full(32, 90.0), np.full(48, 120.0)]), seed=5, jitter=0)
    noisy = clean + np.random.default_rng(5).uniform(-0.01, 0.01, clean.size)
    smoothed = smooth_beats(noisy, [i % 4 + 1 for i in range(len(clean))])
    assert np.abs(smoothed - clean).max() < 0.01
    np.testing.assert_allclose(np.diff(smoothed)[:31], 60.0 / 90.0, atol=0.005)
    np.testing.assert_allclose(np.diff(smoothed)[33:], 0.5, atol=0.005)


def test_six_eight_beats_are_dotted_quarters_in_the_score() -> None:
    times = _jittered(np.full(47, 64.0), seed=4)  # dotted quarters, two per bar
    analysis = _analysis(times, per_bar=2, time_signature="6/8")
    score = analysis.to_score()
    signature = score.time_signatures[0]
    assert (signature.numerator, signature.denominator) == (6, 8)
    assert [(t.tick, t.bpm) for t in score.tempos] == [(0, 96.0)]  # quarter notes per minute
    bar_starts = set(score.bar_starts())
    grid = analysis.tick_grid()
    assert all(grid.to_tick(t) in bar_starts for t in analysis.downbeats[1:])  # [0] is at ~0
    ticks = np.array([n.tick for n in score.notes("bass")])
    assert np.all(np.abs(ticks - 720 * np.arange(len(times))) <= 0.05 * 720)


def _pickup_analysis(first: float, position: int, bpm: float, time_signature: str) -> Analysis:
    """48 beats at `bpm` (counted beats: dotted quarters in 6/8), the first at `first` seconds
    and bar position `position`, with a note on every beat."""
    per_bar = beats_per_bar(time_signature)
    beats = [first + i * 60.0 / bpm for i in range(48)]
    positions = [(position - 1 + i) % per_bar + 1 for i in range(48)]
    return Analysis(
        duration=beats[-1] + 0.5,
        tempo=bpm,
        beats=beats,
        downbeats=[t for t, p in zip(beats, positions, strict=True) if p == 1],
        beat_positions=positions,
        time_signature=time_signature,
        notes={"vocal": [], "piano": [], "guitar": [], "bass": [(t, t + 0.1, 36) for t in beats]},
    )


@pytest.mark.parametrize(
    ("first", "position", "bpm", "time_signature", "lead_beats"),
    [
        (0.37, 2, 96.0, "4/4", 1),
        (1.3, 3, 120.0, "3/4", 2),
        (2.9, 4, 75.0, "4/4", 3),
        (2.9, 1, 100.0, "4/4", 4),
        (0.9, 2, 64.0, "6/8", 1),
        (0.37, 4, 96.0, "4/4", 4),  # 3 beats in 0.37 s is 486 bpm: the beat is left in the lead-in
    ],
)
def test_a_score_after_a_lead_in_keeps_time_with_the_beats(
    first: float, position: int, bpm: float, time_signature: str, lead_beats: int
) -> None:
    """The lead-in before a first beat that is no downbeat at time 0 lasts as long in the score
    as in the audio: every beat's tick plays at the beat's time."""
    analysis = _pickup_analysis(first, position, bpm, time_signature)
    score, grid = analysis.to_score(), analysis.tick_grid()
    bar_ticks = score.bar_length(score.time_signatures[0])
    beat_ticks = bar_ticks // beats_per_bar(time_signature)
    assert grid.lead_ticks == lead_beats * beat_ticks
    quarter_bpm = round(bpm * beat_ticks / TPB, 1)
    assert [(t.tick, t.bpm) for t in score.tempos] == [
        (0, grid.lead_in_bpm()),
        (grid.lead_ticks, quarter_bpm),
    ]
    assert all(MIN_BPM <= t.bpm <= MAX_BPM for t in score.tempos)
    for time in analysis.beats:
        assert abs(score.tick_to_seconds(grid.to_tick(time)) - time) < 0.005
    placed = [t for t in analysis.beats if t >= grid.times[1]]  # from the first placed beat on
    assert all(grid.to_tick(t) == grid.beat_tick(t, beat_ticks) for t in placed)
    downbeats = [grid.to_tick(t) for t in analysis.downbeats if t >= grid.times[1]]
    assert downbeats[0] == bar_ticks  # bar 1 is the pickup bar, bar 2 the first whole one
    assert all(tick % bar_ticks == 0 for tick in downbeats)
    notes = [n.tick for n in score.notes("bass")]
    assert notes == [grid.to_tick(t) for t in analysis.beats]


def test_a_score_from_a_downbeat_at_time_zero_has_no_lead_in() -> None:
    analysis = _pickup_analysis(0.01, 1, 96.0, "4/4")  # within a tenth of a beat of 0
    score, grid = analysis.to_score(), analysis.tick_grid()
    assert grid.lead_ticks == 0 and grid.lead_in_bpm() is None
    assert [(t.tick, t.bpm) for t in score.tempos] == [(0, 96.0)]
    assert [grid.beat_tick(t) for t in analysis.beats] == [TPB * i for i in range(48)]
    # the first bar maps 0 s, not its downbeat at 0.01 s, to tick 0; the rest is on the beats
    assert [n.tick for n in score.notes("bass")][4:] == [TPB * i for i in range(4, 48)]


def _band_score(bpm: float, bars: int) -> Score:
    """`bars` bars of 4/4: kick and snare, eighth hi-hats, a root-fifth bass and piano triads."""
    bar = 4 * TPB
    roots = [48, 43, 45, 41]  # C G A F
    drums, bass, piano, chords = [], [], [], []
    for index in range(bars):
        start, root = index * bar, roots[index % 4]
        drums += [Note(start + k * TPB // 2, 60, 42, 70) for k in range(8)]
        drums += [Note(start + k * TPB, 60, 36 if k % 2 == 0 else 38, 100) for k in range(4)]
        bass += [
            Note(start, 2 * TPB - 30, root - 12, 100),
            Note(start + 2 * TPB, 2 * TPB - 30, root - 5, 90),
        ]
        third = 3 if root == 45 else 4
        piano += [Note(start, bar - 30, root + 12 + step, 70) for step in (0, third, 7)]
        chords.append(Chord(start, bar, root % 12, "min" if root == 45 else "maj"))
    return Score(
        ticks_per_beat=TPB,
        tempos=[TempoChange(0, bpm)],
        time_signatures=[TimeSignature(0, 4, 4)],
        chords=chords,
        tracks={
            "vocal": Track(0),
            "piano": Track(0, piano),
            "guitar": Track(24),
            "bass": Track(33, bass),
            "drums": Track(0, drums),
        },
        end_tick=bars * bar,
    ).validate()


@pytest.mark.skipif(shutil.which("fluidsynth") is None, reason="fluidsynth is not installed")
def test_analyze_writes_one_tempo_for_a_fluidsynth_render(run_cli, tmp_path: Path) -> None:
    from seedmusic.data.synth import render_score

    bpm = 103.0
    audio = render_score(_band_score(bpm, bars=8), sample_rate=22050)  # about 19 s
    wav = tmp_path / "band.wav"
    soundfile.write(wav, audio, 22050)
    result = run_cli("analyze", wav, "-o", tmp_path / "out", "--no-notes")
    assert result.code == 0, result.err
    tempos = json.loads((tmp_path / "out" / "score.json").read_text())["tempos"]
    assert len(tempos) == 1 and tempos[0]["tick"] == 0
    assert abs(tempos[0]["bpm"] - bpm) < 1.0 and tempos[0]["bpm"] == round(tempos[0]["bpm"], 1)
