"""Errors raised by the MIR stages for input a user can get wrong."""

from __future__ import annotations


class AudioError(ValueError):
    """Audio that cannot be read or analysed: a missing, empty, corrupt or zero-length file."""
