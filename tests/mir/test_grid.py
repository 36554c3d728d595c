from __future__ import annotations

import numpy as np
import pytest

from mir.grid import DEFAULT_BPM, TickGrid

TPB = 480


def _beats(
    first: float, interval: float, count: int, first_position: int, per_bar: int
) -> tuple[list[float], list[int]]:
    times = [first + i * interval for i in range(count)]
    positions = [(first_position - 1 + i) % per_bar + 1 for i in range(count)]
    return times, positions


@pytest.mark.parametrize(
    ("first", "interval", "first_position", "per_bar"),
    [(0.0, 0.5, 1, 4), (0.02, 0.5, 1, 4), (0.3, 0.6, 1, 4), (0.45, 0.5, 3, 4), (1.7, 0.4, 2, 3)],
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
    assert tempos[0].tick == 0 and all(1.0 <= t.bpm <= 1000.0 for t in tempos)
    assert abs(tempos[-1].bpm - 60.0 / interval) < 0.01


def test_a_pickup_too_close_to_time_zero_is_dropped() -> None:
    times, positions = _beats(
        0.05, 0.5, 16, 4, 4
    )  # beat 4 at 0.05 s: no room for 3 beats before it
    grid = TickGrid.from_beats(times, positions, 4, TPB)
    assert [grid.to_tick(t) for t in times[1::4]] == [4 * TPB * k for k in range(1, 5)]
    assert all(1.0 <= t.bpm <= 1000.0 for t in grid.tempos())


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
