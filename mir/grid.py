"""From tracked beats (seconds) to a score's tick grid: a tempo map with one change per bar.

Tick 0 is time 0 and a bar start. Audio before the first tracked beat is its lead-in, counted
as whole beats so that the first downbeat lands on a bar line (a pickup becomes an incomplete
first bar filled with rest), at a tempo of its own: the lead-in's ticks last exactly as long as
the audio before that beat. Of the counts that put the downbeat on a bar line, the one whose
lead-in tempo is nearest the tracked beats' is taken, among those within `MIN_BPM`..`MAX_BPM`
quarter notes per minute (a playable tempo); a first beat that no count can place so is dropped
and the next one tried (it stays in the lead-in, at the lead-in's tempo). Anchors are the first
beat, every downbeat and the last beat; between anchors the tempo is constant, so every tracked
downbeat falls exactly on its bar's tick. After the last beat the last tempo continues.

`lead_ticks` and `lead_in_bpm` give the lead-in to a score's tempo map, so that the score's
seconds meet the audio's at the first beat (`mir.analyze.Analysis.tempo_map`).
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from score_tokens.score import TempoChange

DEFAULT_BPM = 120.0
MIN_BPM = 20.0
MAX_BPM = 400.0


@dataclass(frozen=True)
class TickGrid:
    """A piecewise-linear map from seconds to ticks.

    Attributes:
        times: anchor times in seconds, increasing, starting at 0. `[A]`
        ticks: the anchors' ticks, increasing, starting at 0. `[A]`
        final_bpm: the tempo after the last anchor.
        ticks_per_beat: ticks per quarter note.
        lead_ticks: ticks of the lead-in before the first placed beat (anchor 1, at `times[1]`);
            0 when that beat is a downbeat at time 0 (anchor 0) or the grid has no beats.
    """

    times: tuple[float, ...]
    ticks: tuple[int, ...]
    final_bpm: float
    ticks_per_beat: int
    lead_ticks: int = 0

    @classmethod
    def constant(cls, bpm: float | None, ticks_per_beat: int) -> TickGrid:
        """A grid at one tempo (`DEFAULT_BPM` when unknown)."""
        bpm = bpm if bpm is not None and MIN_BPM <= bpm <= MAX_BPM else DEFAULT_BPM
        return cls((0.0,), (0,), float(bpm), ticks_per_beat)

    @classmethod
    def from_beats(
        cls,
        beats: Sequence[float],
        positions: Sequence[int],
        beats_per_bar: int,
        ticks_per_beat: int,
        beat_ticks: int | None = None,
    ) -> TickGrid:
        """Anchor every downbeat (and the last beat) of a tracked grid on the tick grid.

        Args:
            beats: beat times in seconds, increasing.
            positions: each beat's position in its bar (1 = downbeat).
            beats_per_bar: tracked (counted) beats per bar: 2 in 6/8.
            ticks_per_beat: ticks per quarter note.
            beat_ticks: ticks per tracked beat; None: a quarter note (`ticks_per_beat`). A 6/8
                beat is a dotted quarter, `3 * ticks_per_beat // 2`.
        """
        beat_ticks = ticks_per_beat if beat_ticks is None else beat_ticks
        quarters_per_beat = beat_ticks / ticks_per_beat
        beats, positions = list(beats), list(positions)
        lead: int | None = None
        while len(beats) >= 2:
            lead = _lead_in_beats(
                beats[0], beats[1] - beats[0], positions[0], beats_per_bar, quarters_per_beat
            )
            if lead is not None:
                break
            beats, positions = beats[1:], positions[1:]  # first beat too early to place: drop it
        if len(beats) < 2 or lead is None:
            return cls.constant(None, ticks_per_beat)
        anchors_t = [0.0]
        anchors_k = [0]
        last = len(beats) - 1
        for index, (time, position) in enumerate(zip(beats, positions, strict=True)):
            if lead + index == 0:  # a downbeat at (about) time 0 is the anchor (0, 0) itself
                continue
            is_anchor = position == 1 or index in (0, last)  # the first beat ends the lead-in
            if is_anchor and time > anchors_t[-1] + 1e-6:
                anchors_t.append(float(time))
                anchors_k.append((lead + index) * beat_ticks)
        final_bpm = _bpm(anchors_t[-2], anchors_t[-1], anchors_k[-2], anchors_k[-1], ticks_per_beat)
        return cls(tuple(anchors_t), tuple(anchors_k), final_bpm, ticks_per_beat, lead * beat_ticks)

    def lead_in_bpm(self) -> float | None:
        """The lead-in's tempo in quarter notes per minute, rounded to 0.001 (as in `tempos`):
        its `lead_ticks` last until the first placed beat. None without a lead-in."""
        if not self.lead_ticks:
            return None
        return round(_bpm(0.0, self.times[1], 0, self.lead_ticks, self.ticks_per_beat), 3)

    def tempos(self) -> list[TempoChange]:
        """One tempo change per anchor segment (merging equal neighbours), bpm rounded to 0.001.

        This follows every bar of the tracked beats; `mir.tempo` gives the readable map."""
        changes: list[TempoChange] = []
        segments = list(
            zip(self.times[:-1], self.times[1:], self.ticks[:-1], self.ticks[1:], strict=True)
        )
        for t0, t1, k0, k1 in segments:
            bpm = round(_bpm(t0, t1, k0, k1, self.ticks_per_beat), 3)
            if not changes or changes[-1].bpm != bpm:
                changes.append(TempoChange(k0, bpm))
        final = round(self.final_bpm, 3)
        if not changes or changes[-1].bpm != final:
            changes.append(TempoChange(self.ticks[-1], final))
        return changes

    def beat_tick(self, seconds: float, beat_ticks: int | None = None) -> int:
        """The tick of the tracked beat at `seconds`: `to_tick` on the nearest whole beat of
        `beat_ticks` ticks (default a quarter note), which anchored beats fall on exactly."""
        step = self.ticks_per_beat if beat_ticks is None else beat_ticks
        return round(self.to_tick(seconds) / step) * step

    def to_tick(self, seconds: float) -> int:
        """The tick at `seconds` (nearest integer)."""
        if seconds <= self.times[-1]:
            return round(float(np.interp(seconds, self.times, self.ticks)))
        extra = (seconds - self.times[-1]) * self.final_bpm / 60.0 * self.ticks_per_beat
        return round(self.ticks[-1] + extra)


def _lead_in_beats(
    first: float, interval: float, position: int, beats_per_bar: int, quarters_per_beat: float
) -> int | None:
    """Whole beats to count before the first tracked beat, or None if it cannot be placed.

    The count must put the first downbeat on a bar line (count = position - 1 mod beats_per_bar)
    and give the lead-in, which lasts `first` seconds, a tempo within [MIN_BPM, MAX_BPM] quarter
    notes per minute; of those counts, the one whose tempo is nearest (by ratio) the beats' own,
    one per `interval` seconds. A downbeat within a tenth of a beat of time 0 is taken to sit at
    time 0 (count 0).
    """
    if interval <= 0:
        return None
    if position == 1 and first <= 0.1 * interval:
        return 0
    if first <= 0:
        return None
    most = math.floor(MAX_BPM * first / (60.0 * quarters_per_beat) + 1e-9)
    counts = [
        count
        for count in range((position - 1) % beats_per_bar, most + 1, beats_per_bar)
        if count > 0 and 60.0 * count * quarters_per_beat / first >= MIN_BPM - 1e-9
    ]
    if not counts:
        return None
    return min(counts, key=lambda count: abs(math.log(count * interval / first)))


def _bpm(t0: float, t1: float, k0: int, k1: int, ticks_per_beat: int) -> float:
    bpm = 60.0 * (k1 - k0) / ticks_per_beat / (t1 - t0)
    return float(min(max(bpm, 1.0), 1000.0))
