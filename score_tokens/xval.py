"""xVal tokens: the REMI events with onset, duration and tempo as continuous numbers.

Where REMI writes `Position_k`, `Duration_d` and `Tempo_t`, xVal writes a kind token followed
by one `[NUM]` token: `Onset [NUM]` (beats from the bar start), `Duration [NUM]` (beats) and
`Tempo [NUM]` (bpm). The numbers travel in a float array `values` parallel to `tokens`
(NaN where a token carries no number). Every other token is the REMI token (see
`score_tokens.remi`), so lyrics, chords, tracks and bars read the same in both encodings.

`values` holds the plain numbers (beats, bpm). The LM scales the `[NUM]` embedding by the
normalised value from `normalize`, which maps each kind into about [-1, 1] and is inverted
exactly by `denormalize`:

    onset     n = onset_beats / 8 - 1            (a bar of up to 16 beats -> [-1, 1))
    duration  n = log2(duration_beats) / 9       (2**-9 .. 2**9 beats -> [-1, 1])
    tempo     n = log2(bpm / 120) / 4            (7.5 .. 1920 bpm -> [-1, 1])

Decoding rounds onsets and durations to the score's ticks (480 per beat), so a score round
trips within 1/960 beat (exactly, for scores at 480 ticks per beat) and tempos within 0.005 bpm.

This module never imports torch.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

import numpy as np

from score_tokens.errors import ScoreTokenError
from score_tokens.remi import RemiConfig, RemiTokenizer
from score_tokens.score import Score

NUM = "[NUM]"
KINDS: tuple[str, ...] = ("Onset", "Duration", "Tempo")
_REMI_PREFIX = {"Position": "Onset", "Duration": "Duration", "Tempo": "Tempo"}
_KIND_PREFIX = {kind: prefix for prefix, kind in _REMI_PREFIX.items()}


@dataclass(frozen=True)
class XvalSequence:
    """Tokens and the parallel numbers: `values[i]` is the number of `tokens[i] == "[NUM]"`."""

    tokens: list[str]
    values: np.ndarray  # [N] float64, NaN where the token is not [NUM]

    def __len__(self) -> int:
        return len(self.tokens)


@lru_cache(maxsize=4)
def _tick_remi(ticks_per_beat: int) -> RemiTokenizer:
    """A REMI tokenizer whose grid is one tick, tempo at 0.01 bpm: xVal's exact backbone."""
    return RemiTokenizer(
        RemiConfig(
            positions_per_beat=ticks_per_beat,
            ticks_per_beat=ticks_per_beat,
            velocity_bins=127,
            max_duration_steps=ticks_per_beat * 64,
            tempo_min=1,
            tempo_max=1000,
            tempo_decimals=2,
            num_mask_tokens=8,
        )
    )


def normalize(kind: str, value: float) -> float:
    """The documented map of a number of `kind` (Onset/Duration/Tempo) into about [-1, 1]."""
    if kind == "Onset":
        return value / 8.0 - 1.0
    if kind == "Duration":
        return math.log2(value) / 9.0
    if kind == "Tempo":
        return math.log2(value / 120.0) / 4.0
    raise ValueError(f"unknown number kind {kind!r}; kinds are {KINDS}")


def denormalize(kind: str, normalized: float) -> float:
    """Inverse of `normalize`."""
    if kind == "Onset":
        return (normalized + 1.0) * 8.0
    if kind == "Duration":
        return float(2.0 ** (normalized * 9.0))
    if kind == "Tempo":
        return float(120.0 * 2.0 ** (normalized * 4.0))
    raise ValueError(f"unknown number kind {kind!r}; kinds are {KINDS}")


class XvalTokenizer:
    """Score <-> xVal (tokens + values). Scores decode at 480 ticks per beat."""

    def __init__(self, ticks_per_beat: int = 480) -> None:
        self.ticks_per_beat = ticks_per_beat
        self._remi = _tick_remi(ticks_per_beat)

    def encode(self, score: Score) -> XvalSequence:
        """`score` as xVal tokens and values (raises `ScoreError` for what cannot be expressed)."""
        tpb = self.ticks_per_beat
        if score.ticks_per_beat != tpb:
            score = _retick(score, tpb)
        tokens: list[str] = []
        values: list[float] = []
        for token in self._remi.encode(score):
            prefix, _, text = token.partition("_")
            kind = _REMI_PREFIX.get(prefix)
            if kind is None or not text:
                tokens.append(token)
                values.append(math.nan)
                continue
            number = float(text) if kind == "Tempo" else int(text) / tpb
            tokens += [kind, NUM]
            values += [math.nan, number]
        return XvalSequence(tokens, np.array(values, dtype=np.float64))

    def decode(self, tokens: Sequence[str], values: Sequence[float] | np.ndarray) -> Score:
        """xVal tokens + values -> Score; anything malformed raises `ScoreTokenError`."""
        numbers = self._as_values(tokens, values)
        remi: list[str] = []
        positions: list[int] = []  # xVal position of each REMI token, for error messages
        index = 0
        while index < len(tokens):
            token = tokens[index]
            if isinstance(token, str) and token in _KIND_PREFIX:
                if index + 1 >= len(tokens) or tokens[index + 1] != NUM:
                    raise ScoreTokenError(index + 1, f"{token} must be followed by {NUM}")
                remi.append(self._remi_token(token, float(numbers[index + 1]), index + 1))
                positions.append(index)
                index += 2
                continue
            if isinstance(token, str) and token.partition("_")[0] in _REMI_PREFIX:
                raise ScoreTokenError(index, f"{token!r} is a REMI token; xVal writes numbers")
            if token == NUM:
                raise ScoreTokenError(index, f"{NUM} without Onset, Duration or Tempo before it")
            remi.append(token)
            positions.append(index)
            index += 1
        try:
            return self._remi.decode(remi)
        except ScoreTokenError as error:
            where = positions[error.position] if error.position < len(positions) else len(tokens)
            raise ScoreTokenError(where, error.reason) from None

    def _as_values(self, tokens: Sequence[str], values: Sequence[float] | np.ndarray) -> np.ndarray:
        try:
            numbers = np.asarray(values, dtype=np.float64)
        except (TypeError, ValueError):
            raise ScoreTokenError(0, "values must be numbers or null") from None
        if numbers.ndim != 1 or len(numbers) != len(tokens):
            raise ScoreTokenError(
                min(len(tokens), len(numbers.ravel())),
                f"values has {numbers.size} entries for {len(tokens)} tokens",
            )
        return numbers

    def _remi_token(self, kind: str, value: float, position: int) -> str:
        if not math.isfinite(value):
            raise ScoreTokenError(position, f"{NUM} after {kind} has no finite value")
        if kind == "Tempo":
            config = self._remi.config
            if not config.tempo_min <= value <= config.tempo_max:
                raise ScoreTokenError(position, f"tempo {value} bpm is outside 1..1000")
            return self._remi.tempo_token(value)
        if not -1.0 <= value <= 65.0:  # far outside any bar; also keeps round() finite
            raise ScoreTokenError(position, f"{kind.lower()} {value} beats is outside 0..64")
        ticks = round(value * self.ticks_per_beat)
        if kind == "Onset":
            if not 0 <= ticks < self.ticks_per_beat * 64:
                raise ScoreTokenError(position, f"onset {value} beats is outside the bar")
            return f"Position_{ticks}"
        if not 1 <= ticks <= self._remi.config.max_duration_steps:
            raise ScoreTokenError(position, f"duration {value} beats is outside (0, 64]")
        return f"Duration_{ticks}"


def _retick(score: Score, ticks_per_beat: int) -> Score:
    """A copy of `score` at another resolution (times rounded to the nearest tick)."""
    scale = ticks_per_beat / score.ticks_per_beat
    out = score.copy()
    out.ticks_per_beat = ticks_per_beat
    for tempo in out.tempos:
        tempo.tick = round(tempo.tick * scale)
    for signature in out.time_signatures:
        signature.tick = round(signature.tick * scale)
    for section in out.sections:
        section.tick = round(section.tick * scale)
    for chord in out.chords:
        chord.tick, chord.duration = (
            round(chord.tick * scale),
            max(1, round(chord.duration * scale)),
        )
    for track in out.tracks.values():
        for note in track.notes:
            note.tick, note.duration = (
                round(note.tick * scale),
                max(1, round(note.duration * scale)),
            )
    if out.end_tick is not None:
        out.end_tick = round(out.end_tick * scale)
    return out
