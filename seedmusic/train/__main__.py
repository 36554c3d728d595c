"""`accelerate launch -m seedmusic.train TASK --config FILE [--set k=v ...] [--resume DIR] [--out DIR]`."""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from pathlib import Path


def add_arguments(parser: argparse.ArgumentParser) -> None:
    """The training arguments shared by `seedmusic train` and `python -m seedmusic.train`."""
    parser.add_argument("task", metavar="MODEL", help="task to train (or package.module:Class)")
    parser.add_argument(
        "--config", type=Path, help="YAML/JSON config (e.g. configs/codec/tiny.yaml)"
    )
    parser.add_argument(
        "--set",
        dest="overrides",
        action="append",
        default=[],
        metavar="KEY=VALUE",
        help="override a config value, e.g. --set train.lr=3e-4 (repeatable)",
    )
    parser.add_argument("--resume", type=Path, help="run folder or checkpoint folder to resume")
    parser.add_argument("--out", type=Path, help="run folder (default runs/TASK-CONFIG)")


def main(argv: Sequence[str] | None = None) -> int:
    from seedmusic.cli import OneLineErrorParser, user_error_types
    from seedmusic.train.run import run_training

    parser = OneLineErrorParser(prog="python -m seedmusic.train", description=__doc__)
    add_arguments(parser)
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        run_training(args.task, args.config, args.overrides, args.resume, args.out)
    except user_error_types() as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
