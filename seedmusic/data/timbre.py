"""Per-piece timbre draws for a varied-timbre corpus: which SoundFont renders each stem, which
General-MIDI program of its family each pitched track plays, and whether the vocal line is sung
or played by a lead instrument.

A corpus rendered with one SoundFont teaches the codec and the transcriber that one set of
samples; these draws spread the same scores over several SoundFonts and programs. Everything is
drawn from the piece's seed, so a build stays reproducible, and the score that is stored is the
one that was rendered (its programs changed), so the ground truth stays exact.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from dataclasses import dataclass, field

from score_tokens.score import Score, Track
from seedmusic.data.render import INSTRUMENTS

VOCAL_TRACK = "vocal"

FAMILY_PROGRAMS: tuple[tuple[int, ...], ...] = (
    (0, 1, 2, 3, 4, 5),  # acoustic and electric pianos (harpsichord and clavinet left out)
    (16, 17, 18, 19, 20, 21),  # organs
    (24, 25, 26, 27, 28, 29, 30),  # guitars (harmonics left out)
    (32, 33, 34, 35, 36, 37, 38, 39),  # basses
    (48, 49, 50, 51),  # string ensembles
)
"""General-MIDI programs that may stand in for each other: a track whose program is in one of
these groups may be given another program of the same group."""

LEAD_PROGRAMS: tuple[int, ...] = (52, 53, 54, 56, 65, 71, 73, 80, 81, 85)
"""Programs that may play the vocal line instead of the singer: choir and voice pads, trumpet,
alto sax, clarinet, flute, square, saw and voice leads (a lead melody is what users expect on
the vocal track when a recording has no singer)."""


@dataclass(frozen=True)
class TimbreDraw:
    """How one piece is rendered.

    Attributes:
        soundfonts: stem name -> SoundFont short name (sung vocals have none).
        programs: track name -> the GM program it plays (changed tracks only).
        vocal: "sung" (espeak-ng + Praat) or "instrument" (FluidSynth with a lead program).
    """

    soundfonts: dict[str, str] = field(default_factory=dict)
    programs: dict[str, int] = field(default_factory=dict)
    vocal: str = "sung"


def draw_timbre(
    score: Score, soundfonts: Sequence[str], variety: float, rng: random.Random
) -> TimbreDraw:
    """Draw a SoundFont per stem and, with probability `variety` per track, a program change.

    With one SoundFont and `variety == 0` the draw is the plain corpus render (every stem in that
    SoundFont, the arranged programs, a sung vocal) and `rng` is not used.
    """
    if not soundfonts:
        raise ValueError("at least one SoundFont is needed")
    if not 0.0 <= variety <= 1.0:
        raise ValueError(f"timbre variety must be in [0, 1], got {variety}")
    stems = [name for name in (VOCAL_TRACK, *INSTRUMENTS) if score.notes(name)]
    if len(soundfonts) == 1 and variety == 0.0:
        return TimbreDraw(soundfonts={s: soundfonts[0] for s in stems if s != VOCAL_TRACK})
    programs: dict[str, int] = {}
    vocal = "sung"
    if VOCAL_TRACK in stems and rng.random() < variety / 2:
        vocal = "instrument"
        programs[VOCAL_TRACK] = rng.choice(LEAD_PROGRAMS)
    for name in INSTRUMENTS:
        if name == "drums" or name not in stems or rng.random() >= variety:
            continue
        family = _family(score.tracks[name].program)
        if family:
            programs[name] = rng.choice(family)
    rendered = [s for s in stems if s != VOCAL_TRACK or vocal == "instrument"]
    return TimbreDraw({s: rng.choice(list(soundfonts)) for s in rendered}, programs, vocal)


def apply_programs(score: Score, draw: TimbreDraw) -> Score:
    """A copy of `score` whose tracks play the programs of `draw`."""
    if not draw.programs:
        return score
    changed = score.copy()
    for name, program in draw.programs.items():
        track = changed.tracks[name]
        changed.tracks[name] = Track(program, list(track.notes))
    return changed


def _family(program: int) -> tuple[int, ...]:
    for family in FAMILY_PROGRAMS:
        if program in family:
            return family
    return ()
