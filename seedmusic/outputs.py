"""Writing command outputs: JSON files and the `analyze` output folder, never half-written."""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from collections.abc import Callable
from pathlib import Path
from typing import Any

from score_tokens.io import atomic_write, write_score
from score_tokens.score import Score

ANALYSIS_FILES: tuple[str, ...] = (
    "analysis.json",
    "score.json",
    "score.mid",
    "score.png",
    "tokens.json",
)


def write_json(path: Path, data: Any) -> None:
    """Write `data` as indented JSON (atomically: a temporary name, then a rename)."""
    text = json.dumps(data, indent=1) + "\n"
    atomic_write(path, lambda tmp: tmp.write_text(text, encoding="utf-8"))


def write_analysis_outputs(
    folder: Path, analysis: dict[str, Any], score: Score, tokens: dict[str, Any]
) -> None:
    """Write `ANALYSIS_FILES` into `folder`; all of them appear, or none (a new folder is removed)."""
    writers: dict[str, Callable[[Path], object]] = {
        "analysis.json": lambda path: write_json(path, analysis),
        "tokens.json": lambda path: write_json(path, tokens),
    }
    for name in ("score.json", "score.mid", "score.png"):
        writers[name] = lambda path: write_score(score, path)
    write_all_or_nothing(folder, {name: writers[name] for name in ANALYSIS_FILES})


def write_all_or_nothing(folder: Path, writers: dict[str, Callable[[Path], object]]) -> None:
    """Write each file `name` of `writers` into `folder` with `writers[name](path)`.

    Every file is written into a staging folder inside `folder` first and moved into place only
    when all of them succeeded; on a failure nothing is moved, and a folder this call created
    is removed.
    """
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".staging.", dir=folder))
    try:
        for name, write in writers.items():
            write(staging / name)
        for name in writers:
            os.replace(staging / name, folder / name)
    except BaseException:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)
