"""One module per CLI verb; each has `register(subparsers)`. Only verbs that work are listed."""

from __future__ import annotations

from types import ModuleType

from seedmusic.commands import (
    analyze,
    codec,
    compose,
    data,
    demo,
    edit,
    generate,
    render,
    score,
    serve,
    tokens,
    train,
)

VERB_MODULES: list[ModuleType] = [
    demo,
    generate,
    compose,
    render,
    edit,
    score,
    analyze,
    serve,
    tokens,
    data,
    codec,
    train,
]
