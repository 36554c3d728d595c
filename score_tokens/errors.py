"""Errors raised by `score_tokens`; each carries a message fit for one `error:` line."""

from __future__ import annotations


class ScoreError(ValueError):
    """A score is malformed or cannot be converted."""


class ScoreTokenError(ScoreError):
    """A token sequence cannot be decoded; the message names the position and the reason."""

    def __init__(self, position: int, reason: str) -> None:
        super().__init__(f"token {position}: {reason}")
        self.position = position
        self.reason = reason
