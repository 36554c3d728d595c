"""Resolve a task name and a config into a training run (shared by the CLI and `-m`)."""

from __future__ import annotations

import importlib
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from seedmusic.config import load_config
from seedmusic.errors import UserError
from seedmusic.train.loop import TrainTask, find_checkpoint, train

# Tasks that work; a custom task can be named as "package.module:ClassName".
TASKS: dict[str, str] = {
    "codec": "seedmusic.train.codec_task:CodecTask",
    "transcriber": "seedmusic.train.transcriber_task:TranscriberTask",
    "composer": "seedmusic.train.composer_task:ComposerTask",
    "dit": "seedmusic.train.dit_task:DitTask",
}


def resolve_task(name: str) -> type[TrainTask]:
    """The task class for a registered name or a `module:Class` path."""
    target = TASKS.get(name, name if ":" in name else None)
    if target is None:
        known = ", ".join(sorted(TASKS)) or "none yet"
        raise UserError(f"unknown training task {name!r} (known: {known}; or module:Class)")
    module_name, _, class_name = target.partition(":")
    try:
        task_class = getattr(importlib.import_module(module_name), class_name)
    except (ImportError, AttributeError) as exc:
        raise UserError(f"cannot load training task {target!r} ({exc})") from None
    if not (isinstance(task_class, type) and issubclass(task_class, TrainTask)):
        raise UserError(f"{target} is not a TrainTask")
    return task_class


def run_training(
    task_name: str,
    config: Path | None,
    overrides: Sequence[str] = (),
    resume: Path | None = None,
    out: Path | None = None,
) -> Path:
    """Train: load the config (the resumed run's config.yaml when none is given), run, export.

    Returns:
        The `final/` folder of the exported model.
    """
    task_class = resolve_task(task_name)
    checkpoint = find_checkpoint(resume) if resume is not None else None
    if config is None:
        if checkpoint is None:
            raise UserError("pass --config FILE (or --resume a run folder)")
        config = checkpoint.parent.parent / "config.yaml"
    cfg: Any = load_config(task_class.config_class, config, overrides)
    if out is None:
        out = (
            checkpoint.parent.parent
            if checkpoint is not None
            else Path("runs") / f"{task_name.split(':')[-1].lower()}-{config.stem}"
        )
    return train(task_class(cfg), out, checkpoint)
