"""Writing command outputs: JSON files and output folders, never half-written.

Every file gets the mode a plain `open` gives it under the user's umask (usually 0o644), and a
new output folder 0o777 less the umask, although they are staged through `tempfile` (whose
files and folders are private, 0o600 / 0o700).
"""

from __future__ import annotations

import json
import logging
import os
import shutil
import tempfile
from collections.abc import Callable, Mapping
from pathlib import Path
from typing import Any

from score_tokens.io import (
    atomic_write,
    file_mode,
    folder_mode,
    left_by_ended_processes,
    write_score,
)
from score_tokens.score import Score
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

Writer = Callable[[Path], object]
"""Writes one output file at the path it is given."""

SCORE_FILES: tuple[str, ...] = ("score.json", "score.mid", "score.musicxml", "score.png")
NOTATION_STEPS_PER_BEAT = 12
NOTATION_MAX_SECONDS = 720.0
"""Songs up to 12 minutes get `score.musicxml` with the other files: music21 builds the whole
score in memory (the MusicXML of an 11-minute song took `compose` to 1.3 GB, of a 25-minute one
`generate` to 2.8 GB), so a longer song's is left to `seedmusic score convert`."""

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
    writers: dict[str, Writer] = {
        "analysis.json": lambda path: write_json(path, analysis),
        "tokens.json": lambda path: write_json(path, tokens),
    }
    for name in ("score.json", "score.mid", "score.png"):
        writers[name] = lambda path: write_score(score, path)
    write_all_or_nothing(folder, {name: writers[name] for name in ANALYSIS_FILES})


def notation_writer(score: Score) -> Writer:
    """Writes `score` as MusicXML snapped to a 1/12-beat grid
    (`seedmusic.composer.pipeline.notation_copy`: MusicXML cannot write tick-exact grooves)."""

    def notation(path: Path) -> None:
        from seedmusic.composer.pipeline import notation_copy

        steps = NOTATION_STEPS_PER_BEAT
        write_score(notation_copy(score, steps) if score.ticks_per_beat >= steps else score, path)

    return notation


def write_notation_aware(score: Score, path: Path) -> Path:
    """`write_score`, but a MusicXML `path` gets the copy `notation_writer` writes (tick-exact
    timing, a band's grooves or a DAW's, cannot be notated).

    Returns:
        The path written.
    """
    if path.suffix.lower() in (".musicxml", ".xml"):
        notation_writer(score)(path)
        return path
    return write_score(score, path)


def score_writers(score: Score) -> dict[str, Writer]:
    """Writers for `SCORE_FILES` (`notation_writer` for `score.musicxml`); a song longer than
    `NOTATION_MAX_SECONDS` gets no `score.musicxml` (logged)."""
    writers: dict[str, Writer] = {
        "score.json": lambda path: write_score(score, path),
        "score.mid": lambda path: write_score(score, path),
        "score.musicxml": notation_writer(score),
        "score.png": lambda path: write_score(score, path),
    }
    minutes = score.duration_seconds() / 60
    if minutes > NOTATION_MAX_SECONDS / 60:
        del writers["score.musicxml"]
        logger.warning(
            "no score.musicxml for a %.0f-minute song (over %.0f minutes music21 needs more "
            "than 2 GB); `seedmusic score convert score.json score.musicxml` writes it",
            minutes,
            NOTATION_MAX_SECONDS / 60,
        )
    return writers


def write_all_or_nothing(folder: Path, writers: Mapping[str, Writer]) -> None:
    """Write each file `name` of `writers` into `folder` with `writers[name](path)`.

    A name may hold subfolders (`"stems/vocal.wav"`). Every file is written into a staging
    folder first and moved into place only when all of them succeeded; on a failure nothing is
    moved and nothing this call created is left behind. A new `folder` is its staging folder
    (made beside it) renamed, so it appears complete or not at all; into an existing folder the
    entries are moved one by one, and a subfolder replaces the old one of that name wholly.
    Files and folders get the modes the umask gives (see the module docstring).

    Raises:
        UserError: `folder` is a file.
    """
    check_output_folder(folder)
    created = [path for path in (folder, *folder.parents) if not path.exists()]
    if created:
        folder.parent.mkdir(parents=True, exist_ok=True)
    remove_stale_staging(folder)
    staging = Path(
        tempfile.mkdtemp(
            prefix=f"{_staging_prefix(folder)}{os.getpid()}.",
            dir=folder.parent if created else folder,
        )
    )
    try:
        for name, write in writers.items():
            path = staging / name
            path.parent.mkdir(parents=True, exist_ok=True)
            write(path)
        _give_umask_modes(staging)
        if not (created and _rename_folder(staging, folder)):
            folder.mkdir(exist_ok=True)
            _move_entries(staging, folder)
    except BaseException:
        if created:
            shutil.rmtree(created[-1], ignore_errors=True)  # the outermost folder made here
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _staging_prefix(folder: Path) -> str:
    return f".{folder.name or 'out'}.staging."


def remove_stale_staging(folder: Path) -> None:
    """Remove the staging folders of writes into `folder` whose process is gone (a run killed by
    SIGKILL while writing leaves its `.NAME.staging.PID.*` beside or inside `folder`); those of
    live processes are left alone."""
    for place in (folder.parent, folder):
        if place.is_dir():
            for stale in left_by_ended_processes(place, _staging_prefix(folder)):
                if stale.is_dir():
                    shutil.rmtree(stale, ignore_errors=True)


def check_output_folder(folder: Path) -> None:
    """Raise `UserError` when `folder` cannot be an output folder (it is a file): a check to
    make before long work, as `write_all_or_nothing` makes it only at the end."""
    if folder.exists() and not folder.is_dir():
        raise UserError(f"cannot write into {str(folder)!r}: it is a file")


def _give_umask_modes(root: Path) -> None:
    """`folder_mode()` for `root` and the folders in it, `file_mode()` for its files."""
    files, folders = file_mode(), folder_mode()
    os.chmod(root, folders)
    for parent, names, filenames in os.walk(root):
        for name in names:
            os.chmod(os.path.join(parent, name), folders)
        for name in filenames:
            os.chmod(os.path.join(parent, name), files)


def _rename_folder(staging: Path, folder: Path) -> bool:
    """Rename `staging` to the new `folder`; False when `folder` appeared meanwhile."""
    try:
        os.rename(staging, folder)
    except OSError:
        if folder.is_dir():
            return False
        raise
    return True


def _move_entries(staging: Path, folder: Path) -> None:
    for path in sorted(staging.iterdir()):
        target = folder / path.name
        if path.is_dir() and target.is_dir() and not target.is_symlink():
            shutil.rmtree(target)
        os.replace(path, target)
