"""Score tokens: the `Score` data model, REMI and xVal encodings, and score file conversions.

This package never imports torch.
"""

from __future__ import annotations

from score_tokens.errors import ScoreError, ScoreTokenError
from score_tokens.io import read_score, write_score
from score_tokens.score import (
    ALL_TRACKS,
    CHORD_QUALITIES,
    NOTE_TRACKS,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)

__all__ = [
    "ALL_TRACKS",
    "CHORD_QUALITIES",
    "NOTE_TRACKS",
    "Chord",
    "Note",
    "Score",
    "ScoreError",
    "ScoreTokenError",
    "Section",
    "TempoChange",
    "TimeSignature",
    "Track",
    "read_score",
    "write_score",
]
