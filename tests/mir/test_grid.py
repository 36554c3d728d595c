from __future__ import annotations

import numpy as np
import pytest

from mir.grid import DEFAULT_BPM, MAX_BPM, MIN_BPM, TickGrid

TPB = 480


def _beats(
    first: float, interval: float, count: int, first_position: int, per_bar: int
) -> tuple[list[float], list[int]]:
    times = [first + i * interval for i in range(count)]
    positions = [(first_position - 1 + i) % per_bar + 1 for i in range(count)]
    return times, positions


@pytest.mark.parametrize(
    ("first", "interval", "first_position", "per_bar"),
    [(0.0, 0.5, 1, 4), (0.02, 0.5, 1, 4), (1.3, 0.6, 1, 4), (0.45, 0.5, 3, 4), (1.7, 0.4, 2, 3)],
)
def test_downbeats_land_on_bar_lines(
    first: float, interval: float, first_position: int, per_bar: int
) -> None:
    times, positions = _beats(first, interval, 24, first_position, per_bar)
    grid = TickGrid.from_beats(times, positions, per_bar, TPB)
    bar = per_bar * TPB
    downbeat_ticks = [grid.to_tick(t) for t, p in zip(times, positions, strict=True) if p == 1]
    assert all(tick % bar == 0 for tick in downbeat_ticks[1:])
    assert np.all(np.diff(downbeat_ticks[1:]) == bar)
    beat_ticks = np.array([grid.to_tick(t) for t in times])
    steps = np.abs(np.diff(beat_ticks) - TPB)  # one beat per quarter note
    assert np.all(steps <= 0.1 * TPB)  # a downbeat within 0.1 beat of time 0 is moved to 0
    second_downbeat = [i for i, p in enumerate(positions) if p == 1][1]
    assert np.all(steps[second_downbeat:] <= 1)

    tempos = grid.tempos()
    assert tempos[0].tick == 0 and all(MIN_BPM <= t.bpm <= MAX_BPM for t in tempos)
    assert abs(tempos[-1].bpm - 60.0 / interval) < 0.01


@pytest.mark.parametrize(
    ("first", "interval", "first_position", "per_bar", "lead_beats"),
    [
        (0.37, 0.625, 2, 4, 1),
        (1.3, 0.5, 3, 3, 2),  # 2 beats (92 bpm) or 5 (231 bpm) before it: 2 is nearer 120
        (2.9, 0.8, 4, 4, 3),
        (2.9, 0.6, 1, 4, 4),  # a first downbeat late: a whole bar of lead-in
    ],
)
def test_the_lead_in_lasts_until_the_first_beat_at_a_tempo_near_the_beats(
    first: float, interval: float, first_position: int, per_bar: int, lead_beats: int
) -> None:
    times, positions = _beats(first, interval, 24, first_position, per_bar)
    grid = TickGrid.from_beats(times, positions, per_bar, TPB)
    assert grid.lead_ticks == lead_beats * TPB
    assert (grid.times[1], grid.ticks[1]) == (first, grid.lead_ticks)
    lead_in = grid.lead_in_bpm()
    assert lead_in is not None and MIN_BPM <= lead_in <= MAX_BPM
    assert lead_in == round(60.0 * lead_beats / first, 3) == grid.tempos()[0].bpm
    assert [grid.beat_tick(t) for t in times] == [TPB * (lead_beats + i) for i in range(24)]


def test_a_downbeat_at_time_zero_has_no_lead_in() -> None:
    times, positions = _beats(0.02, 0.5, 16, 1, 4)
    grid = TickGrid.from_beats(times, positions, 4, TPB)
    assert grid.lead_ticks == 0 and grid.lead_in_bpm() is None
    assert (grid.times[0], grid.ticks[0]) == (0.0, 0) and grid.ticks[1] == 4 * TPB


def test_a_pickup_too_close_to_time_zero_is_dropped() -> None:
    # beat 4 at 0.05 s: no room for 3 beats before it; a bar before the downbeat at 0.65 s is
    # (369 bpm)
    times, positions = _beats(0.05, 0.6, 16, 4, 4)
    grid = TickGrid.from_beats(times, positions, 4, TPB)
    assert [grid.to_tick(t) for t in times[1::4]] == [4 * TPB * k for k in range(1, 5)]
    assert grid.lead_ticks == 4 * TPB and grid.times[1] == times[1]
    assert all(MIN_BPM <= t.bpm <= MAX_BPM for t in grid.tempos())


def test_a_downbeat_too_close_to_time_zero_for_a_playable_bar_before_it_is_dropped() -> None:
    # beat 4 at 0.05 s, the downbeat at 0.55 s: a bar before it would be 436 bpm, so the lead-in
    # is the one beat before beat 2 (1.05 s), and the beats before that lie inside it
    times, positions = _beats(0.05, 0.5, 16, 4, 4)
    grid = TickGrid.from_beats(times, positions, 4, TPB)
    assert grid.lead_ticks == TPB and grid.times[1] == times[2]
    assert grid.lead_in_bpm() == round(60.0 / times[2], 3)
    assert [grid.to_tick(t) for t in times[5::4]] == [4 * TPB * k for k in range(1, 4)]
    assert 0 < grid.to_tick(times[0]) < grid.to_tick(times[1]) < TPB
    assert all(MIN_BPM <= t.bpm <= MAX_BPM for t in grid.tempos())


def test_to_tick_is_monotonic_and_extrapolates_at_the_last_tempo() -> None:
    times, positions = _beats(0.25, 0.5, 16, 1, 4)
    grid = TickGrid.from_beats(times, positions, 4, TPB)
    ticks = [grid.to_tick(t) for t in np.linspace(0.0, 20.0, 400)]
    assert ticks[0] == 0 and np.all(np.diff(ticks) >= 0)
    assert grid.to_tick(times[-1] + 1.0) - grid.to_tick(times[-1]) == 2 * TPB


def test_tempo_changes_are_per_bar_and_follow_an_accelerando() -> None:
    intervals = np.linspace(0.6, 0.4, 32)
    times = np.concatenate([[0.0], np.cumsum(intervals)]).tolist()
    positions = [i % 4 + 1 for i in range(len(times))]
    tempos = TickGrid.from_beats(times, positions, 4, TPB).tempos()
    assert all(t.tick % (4 * TPB) == 0 for t in tempos)
    assert tempos[0].bpm < tempos[-1].bpm


def test_too_few_beats_give_a_constant_grid() -> None:
    grid = TickGrid.from_beats([1.0], [1], 4, TPB)
    assert grid.tempos()[0].bpm == DEFAULT_BPM
    assert TickGrid.constant(90.0, TPB).to_tick(2.0) == 3 * TPB
    assert TickGrid.constant(5000.0, TPB).final_bpm == DEFAULT_BPM
