"""Render an arranged song: one stem per note track, and the mix as their sum.

Instrument stems come from FluidSynth (`synth.render_score` with one track each); the vocal
stem is sung (`vocal.sing`). All stems have the same length, so the mix is their sample-wise
sum; when it would clip, every stem is scaled by the same gain, so the mix stays the exact sum
of the stems that are written.

Each stem may have its own SoundFont (`soundfont` as a mapping stem -> name), and the vocal line
may be played by its track's GM program instead of sung (`sung_vocal=False`): the corpus's
varied-timbre renders (`seedmusic.data.timbre`).
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np

from score_tokens.score import Score
from seedmusic.data.synth import DEFAULT_SOUNDFONT, render_score
from seedmusic.data.vocal import sing

PEAK = 0.95
INSTRUMENTS: tuple[str, ...] = ("bass", "piano", "guitar", "drums")


def render_stems(
    score: Score,
    sample_rate: int,
    language: str = "en",
    seed: int = 0,
    soundfont: str | Mapping[str, str] = DEFAULT_SOUNDFONT,
    sung_vocal: bool = True,
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """`(mix [S], {track: stem [S]})` for every non-empty note track of `score`.

    `soundfont` is one SoundFont for every stem, or one per stem (stems it does not name use
    the default); `sung_vocal=False` plays the vocal track with FluidSynth instead of singing it.
    """

    def font(stem: str) -> str:
        if isinstance(soundfont, str):
            return soundfont
        return soundfont.get(stem, DEFAULT_SOUNDFONT)

    stems: dict[str, np.ndarray] = {}
    if score.notes("vocal"):
        if sung_vocal:
            stems["vocal"] = sing(score, sample_rate=sample_rate, language=language, seed=seed)
        else:
            stems["vocal"] = render_score(score, sample_rate, font("vocal"), tracks=["vocal"])
    for track in INSTRUMENTS:
        if score.notes(track):
            stems[track] = render_score(score, sample_rate, font(track), tracks=[track])
    if not stems:
        raise ValueError("the score has no notes to render")
    mix = np.sum(list(stems.values()), axis=0)  # [S]
    peak = float(np.abs(mix).max())
    if peak > PEAK:
        gain = PEAK / peak
        stems = {name: stem * gain for name, stem in stems.items()}
        mix = mix * gain
    return mix.astype(np.float32), {name: s.astype(np.float32) for name, s in stems.items()}
