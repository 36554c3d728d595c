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
        help="push the example song through every stage and write the results",
        description=(
            "Render the example song with FluidSynth, analyze the audio, score the analysis "
            "against the song's ground truth, run the generation pipeline, and write it all "
            "into DIR with a summary."
        ),
    )
    parser.add_argument("-o", "--output", type=Path, default=Path("out/demo"), metavar="DIR")
    parser.add_argument("--seed", type=int, default=0, help="random seed of generation (0)")
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
