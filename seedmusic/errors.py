"""The error type that the command line reports as one `error:` line with exit code 2."""

from __future__ import annotations


class UserError(Exception):
    """A mistake in the user's input (a missing file, unreadable audio, an illegal score …)."""
