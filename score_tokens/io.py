"""Read and write score files; the file suffix picks the format.

| suffix                     | read | write | module                    |
|----------------------------|------|-------|---------------------------|
| `.mid`, `.midi`            | yes  | yes   | `score_tokens.midi`       |
| `.musicxml`, `.xml`, `.mxl`| yes  | `.musicxml`, `.xml` | `score_tokens.musicxml` |
| `.json` (`Score.to_dict`)  | yes  | yes   | `score_tokens.jsonio`     |
| `.png` (a picture)         | no   | yes   | `score_tokens.picture`    |

Every failure a user can cause (unknown suffix, missing, empty or corrupt file, illegal score)
raises `ScoreError` with a one-line message. Writing is atomic: the file is written under a
temporary name in the target folder and renamed into place, so a failed write leaves nothing
behind and never clobbers an existing file with half a score.

This module never imports torch; the format modules are imported only when used.
"""

from __future__ import annotations

import glob
import logging
import os
import tempfile
from collections.abc import Callable
from pathlib import Path

from score_tokens.errors import ScoreError
from score_tokens.score import Score

logger = logging.getLogger(__name__)

READ_SUFFIXES: tuple[str, ...] = (".mid", ".midi", ".musicxml", ".xml", ".mxl", ".json")
WRITE_SUFFIXES: tuple[str, ...] = (".mid", ".midi", ".json", ".musicxml", ".xml", ".png")


def read_score(path: str | os.PathLike[str]) -> Score:
    """Read a score from a MIDI, MusicXML or score-JSON file, chosen by the file's suffix.

    Args:
        path: a `.mid`, `.midi`, `.musicxml`, `.xml`, `.mxl` or `.json` file.

    Returns:
        The validated `Score`.

    Raises:
        ScoreError: unknown suffix, missing, empty or corrupt file, or an illegal score.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise ScoreError(
            f"cannot read {path.name!r}: unknown score format {suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(READ_SUFFIXES)}"
        )
    if not path.is_file():
        what = "is a folder, not a file" if path.is_dir() else "does not exist"
        raise ScoreError(f"cannot read {str(path)!r}: it {what}")
    if path.stat().st_size == 0:
        raise ScoreError(f"cannot read {str(path)!r}: the file is empty")
    reader = _reader_for(suffix)
    score = reader(path)
    return score.validate()


def write_score(score: Score, path: str | os.PathLike[str]) -> Path:
    """Write `score` atomically to `path`; the suffix picks MIDI, JSON, MusicXML or a PNG picture.

    Args:
        score: the score to write; it is validated first.
        path: a `.mid`, `.midi`, `.json`, `.musicxml`, `.xml` or `.png` file. Its folder must
            exist.

    Returns:
        The path written.

    Raises:
        ScoreError: unknown suffix, missing folder, or an illegal score.
    """
    path = Path(path)
    suffix = path.suffix.lower()
    if suffix not in WRITE_SUFFIXES:
        raise ScoreError(
            f"cannot write {path.name!r}: unknown score format {suffix or '(no suffix)'!r}; "
            f"use one of {', '.join(WRITE_SUFFIXES)}"
        )
    if not path.parent.is_dir():
        raise ScoreError(f"cannot write {str(path)!r}: folder {str(path.parent)!r} does not exist")
    score.validate()
    writer = _writer_for(suffix)
    atomic_write(path, lambda temp: writer(score, temp))
    logger.debug("wrote %s", path)
    return path


def atomic_write(path: Path, write: Callable[[Path], object]) -> None:
    """Call `write(temp)` on a temporary file beside `path`, then rename it to `path`.

    The temporary file keeps `path`'s suffix (some writers look at it) and is removed if
    `write` raises; one that a killed process left (`.STEM.PID.*.tmpSUFFIX`, its process gone)
    is removed by the next write of `path`. `path` gets the mode a plain `open` would give it
    (0o666 less the umask), not the temporary file's private 0o600.
    """
    for stale in left_by_ended_processes(path.parent, f".{path.stem}.", f".tmp{path.suffix}"):
        if stale.is_file():
            stale.unlink(missing_ok=True)
    handle, temp_name = tempfile.mkstemp(
        prefix=f".{path.stem}.{os.getpid()}.", suffix=f".tmp{path.suffix}", dir=path.parent
    )
    os.close(handle)
    temp = Path(temp_name)
    try:
        write(temp)
        os.chmod(temp, file_mode())
        os.replace(temp, path)
    except BaseException:
        temp.unlink(missing_ok=True)
        raise


def left_by_ended_processes(folder: Path, prefix: str, suffix: str = "") -> list[Path]:
    """The entries `PREFIX PID.* SUFFIX` of `folder` whose writer (process PID) has ended: what
    a process killed while writing left behind."""
    pattern = glob.escape(prefix) + "*" + glob.escape(suffix)
    found = []
    for entry in folder.glob(pattern):
        pid = entry.name[len(prefix) :].split(".", 1)[0]
        if pid.isdigit() and not process_alive(int(pid)):
            found.append(entry)
    return found


def process_alive(pid: int) -> bool:
    """Whether a process with this id runs (another user's counts as running)."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def current_umask() -> int:
    """The process's umask, read without changing it where Linux's /proc tells it."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    mask = os.umask(0o022)  # elsewhere: set and restore (not thread-safe, but brief)
    os.umask(mask)
    return mask


def file_mode() -> int:
    """The mode a new file gets from `open`: 0o666 less the umask."""
    return 0o666 & ~current_umask()


def folder_mode() -> int:
    """The mode a new folder gets from `mkdir`: 0o777 less the umask."""
    return 0o777 & ~current_umask()


def _reader_for(suffix: str) -> Callable[[Path], Score]:
    if suffix in (".mid", ".midi"):
        from score_tokens.midi import read_midi

        return read_midi
    if suffix in (".musicxml", ".xml", ".mxl"):
        from score_tokens.musicxml import read_musicxml

        return read_musicxml
    from score_tokens.jsonio import read_json

    return read_json


def _writer_for(suffix: str) -> Callable[[Score, Path], None]:
    if suffix in (".mid", ".midi"):
        from score_tokens.midi import write_midi

        return write_midi
    if suffix in (".musicxml", ".xml"):
        from score_tokens.musicxml import write_musicxml

        return write_musicxml
    if suffix == ".png":
        from score_tokens.picture import write_picture

        return write_picture
    from score_tokens.jsonio import write_json

    return write_json
