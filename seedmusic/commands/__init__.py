"""One module per CLI verb; each has `register(subparsers)`. Only verbs that work are listed."""

from __future__ import annotations

from types import ModuleType

VERB_MODULES: list[ModuleType] = []
