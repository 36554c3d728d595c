"""Hypothesis strategies: random, valid, grid-aligned scores (12 steps per beat at 480 ticks)."""

from __future__ import annotations

from hypothesis import strategies as st

from score_tokens.score import (
    CHORD_QUALITIES,
    NOTE_TRACKS,
    PITCH_CLASS_NAMES,
    SECTION_LABELS,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
)
from score_tokens.vocab import phoneme_inventory

STEP = 40  # ticks per grid step at 480 ticks per beat and 12 positions per beat
DEFAULT_VELOCITIES = tuple(dict.fromkeys(round(127 * (i + 1) / 32) for i in range(32)))
SIGNATURES = ((4, 4), (3, 4), (2, 4), (6, 8), (7, 8), (5, 4))
PHONEMES = phoneme_inventory()


@st.composite
def scores(
    draw: st.DrawFn,
    max_bars: int = 4,
    max_notes: int = 12,
    velocities: tuple[int, ...] = DEFAULT_VELOCITIES,
) -> Score:
    """A valid score whose every time lies on the grid and every value has a token."""
    num_bars = draw(st.integers(1, max_bars))
    signatures = [draw(st.sampled_from(SIGNATURES))]
    for _ in range(num_bars - 1):
        signatures.append(
            draw(st.sampled_from(SIGNATURES)) if draw(st.booleans()) else signatures[-1]
        )
    starts, tick = [], 0
    for numerator, denominator in signatures:
        starts.append(tick)
        tick += 480 * 4 * numerator // denominator
    total = tick
    score = Score(
        tempos=[TempoChange(0, float(draw(st.integers(20, 300))))],
        time_signatures=[TimeSignature(0, *signatures[0])],
        end_tick=total,
        key=f"{draw(st.sampled_from(PITCH_CLASS_NAMES))} {draw(st.sampled_from(['major', 'minor']))}",
    )
    for start, previous, current in zip(starts[1:], signatures[:-1], signatures[1:], strict=True):
        if previous != current:
            score.time_signatures.append(TimeSignature(start, *current))
    on_grid = st.integers(0, total // STEP - 1).map(lambda s: s * STEP)
    for tick in sorted(set(draw(st.lists(on_grid, max_size=2)))):
        if tick:
            score.tempos.append(TempoChange(tick, float(draw(st.integers(20, 300)))))
    for tick in sorted(set(draw(st.lists(on_grid, max_size=2)))):
        score.sections.append(Section(tick, draw(st.sampled_from(SECTION_LABELS))))
    durations = st.integers(1, 192).map(lambda s: s * STEP)
    for _ in range(draw(st.integers(0, 3))):
        root = draw(st.none() | st.integers(0, 11))
        quality = "maj" if root is None else draw(st.sampled_from(CHORD_QUALITIES))
        score.chords.append(Chord(draw(on_grid), draw(durations), root, quality))
    for _ in range(draw(st.integers(0, max_notes))):
        track = draw(st.sampled_from(NOTE_TRACKS))
        note = Note(
            draw(on_grid),
            draw(durations),
            draw(st.integers(0, 127)),
            draw(st.sampled_from(velocities)),
        )
        if track == "vocal":
            note.lyric = draw(st.none() | st.text(max_size=4))
            note.phonemes = tuple(draw(st.lists(st.sampled_from(PHONEMES), max_size=3)))
        score.tracks[track].notes.append(note)
    score.tracks["guitar"].program = draw(st.integers(0, 127))
    return score.sort().validate()
