"""seedmusic: an open, offline lyrics-and-style-to-song toolkit following Seed-Music."""

from __future__ import annotations

__version__ = "0.1.0"
