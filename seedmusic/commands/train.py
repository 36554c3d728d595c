"""`seedmusic train MODEL --config FILE [--set k=v ...] [--resume DIR] [--out DIR]`."""

from __future__ import annotations

import argparse
from typing import Any


def register(subparsers: Any) -> None:
    from seedmusic.train.__main__ import add_arguments

    parser = subparsers.add_parser(
        "train",
        help="train a model (also: accelerate launch -m seedmusic.train ...)",
        description="Train a model with the accelerate loop; writes a run folder.",
    )
    add_arguments(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from seedmusic.train.run import run_training

    run_training(args.task, args.config, args.overrides, args.resume, args.out)
    return 0
