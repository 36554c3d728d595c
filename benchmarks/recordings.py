"""Recordings given to a benchmark on the command line (`--recordings`, `--max-recordings`):
which files they name and how they are read. Light on purpose (no torch, no renderer), so any
benchmark can take them."""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from mir.audio import load_audio
from mir.errors import AudioError

logger = logging.getLogger(__name__)

RECORDING_SUFFIXES = (".wav", ".flac", ".ogg", ".opus", ".mp3")
"""The files a folder given to `--recordings` contributes."""


def add_recording_arguments(parser: argparse.ArgumentParser, recordings_help: str) -> None:
    """`--recordings PATH [PATH ...]` (described by `recordings_help`) and `--max-recordings N`."""
    parser.add_argument("--recordings", type=Path, nargs="+", metavar="PATH", help=recordings_help)
    parser.add_argument(
        "--max-recordings", type=int, metavar="N", help="the first N readable (default: all)"
    )


def check_recording_arguments(parser: argparse.ArgumentParser, args: argparse.Namespace) -> None:
    """Exit with one error line (status 2) when neither `--corpus` nor `--recordings` is given,
    or `--max-recordings` is under 1."""
    if args.corpus is None and not args.recordings:
        parser.exit(2, "error: give --corpus, --recordings or both\n")
    if args.max_recordings is not None and args.max_recordings < 1:
        parser.exit(2, f"error: --max-recordings must be at least 1, got {args.max_recordings}\n")


def recording_paths(paths: Sequence[Path]) -> list[Path]:
    """The files `--recordings` names: a folder's `RECORDING_SUFFIXES` files (recursively,
    sorted), anything else as given (a missing file is found out when it is read)."""
    found: list[Path] = []
    for path in paths:
        if path.is_dir():
            found += sorted(
                p for p in path.rglob("*") if p.is_file() and p.suffix.lower() in RECORDING_SUFFIXES
            )
        else:
            found.append(path)
    return found


def load_recordings(
    paths: Sequence[Path], sample_rate: int, limit: int | None = None
) -> list[tuple[Path, np.ndarray]]:
    """The first `limit` (None: all) of `paths` that read, each mono `[S]` at `sample_rate`;
    a file that does not read is one warning and skipped."""
    loaded: list[tuple[Path, np.ndarray]] = []
    for path in paths:
        if limit is not None and len(loaded) >= limit:
            break
        try:
            loaded.append((path, load_audio(path, sample_rate).samples))
        except AudioError as exc:
            logger.warning("recording skipped: %s", exc)
    return loaded
