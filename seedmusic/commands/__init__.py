"""One module per CLI verb; each has `register(subparsers)`. Only verbs that work are listed."""

from __future__ import annotations

from types import ModuleType

from seedmusic.commands import analyze, score  # noqa: E402

VERB_MODULES: list[ModuleType] = [score, analyze]
