"""`seedmusic demo`: the main job on what the repository ships (see `seedmusic.demo`).

seedmusic demo [-o out/demo] [--seed 0]
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from seedmusic.errors import UserError


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `demo` verb."""
    parser = subparsers.add_parser(
        "demo",
        help="the main job: lyrics + style -> a sung song with the shipped models, checked",
        description=(
            "Compose a song from the demo's lyrics and style with the shipped composer, render "
            "it with the trained neural renderer (with stems), analyze it and score it against "
            "its own score, render the same score with the exact synth renderer for comparison, "
            "round-trip the song through the codec, and run the MIR showcase on the example "
            "song; write it all into DIR with a summary."
        ),
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("out/demo"), metavar="DIR")
    parser.add_argument(
        "--seed", type=int, default=0, help="random seed of composing and rendering (0)"
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """`demo -o DIR`: prints the summary on stdout."""
    from seedmusic.demo import run_demo

    output: Path = args.output
    if output.exists() and not output.is_dir():
        raise UserError(f"cannot write into {str(output)!r}: it is a file, not a folder")
    report = run_demo(output, seed=args.seed, progress=sys.stderr.isatty())
    print("\n".join(report.summary_lines()))
    return 0
