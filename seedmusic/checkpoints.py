"""Where the shipped reference checkpoints live: `checkpoints/<name>/` at the repository root.

`SEEDMUSIC_CHECKPOINTS` overrides the folder (e.g. for an installed, non-editable package).
"""

from __future__ import annotations

import logging
import os
from pathlib import Path

from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

TRAIN_COMMANDS: dict[str, str] = {
    "codec": "seedmusic train codec --config configs/codec/reference.yaml",
    "transcriber": "seedmusic train transcriber --config configs/transcriber/reference.yaml",
    "dit": "seedmusic train dit --config configs/dit/reference.yaml (see its header)",
}


def checkpoints_dir() -> Path:
    """The folder that holds the reference checkpoints."""
    override = os.environ.get("SEEDMUSIC_CHECKPOINTS")
    if override:
        return Path(override)
    return Path(__file__).resolve().parent.parent / "checkpoints"


def reference_checkpoint(name: str) -> Path:
    """`checkpoints/<name>`, or a `UserError` that says how to make it."""
    path = checkpoints_dir() / name
    if not path.is_dir():
        how = TRAIN_COMMANDS.get(name, f"seedmusic train {name} ...")
        raise UserError(f"no reference {name} checkpoint at {path}; train one with `{how}`")
    return path


def optional_reference_checkpoint(name: str, what: str) -> Path | None:
    """`checkpoints/<name>` if it is there; else None, with a warning that `what` is skipped."""
    path = checkpoints_dir() / name
    if path.is_dir():
        return path
    logger.warning("no reference %s checkpoint at %s: %s", name, path, what)
    return None
