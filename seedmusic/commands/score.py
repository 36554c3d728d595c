"""`seedmusic score`: convert between score formats and draw a score.

seedmusic score convert IN OUT        # .mid/.midi/.musicxml/.xml/.mxl/.json -> .mid/.json/.musicxml/.png
seedmusic score show IN -o OUT.png    # a piano-roll picture with chords, sections and lyrics
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from score_tokens.io import READ_SUFFIXES, WRITE_SUFFIXES, read_score, write_score
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `score` verb with its `convert` and `show` subcommands."""
    parser = subparsers.add_parser(
        "score",
        help="convert a score between MIDI, MusicXML and JSON, or draw it",
        description="Convert a score between formats (chosen by file suffix) or draw it as a PNG.",
    )
    actions = parser.add_subparsers(dest="score_action", metavar="ACTION", required=True)
    convert = actions.add_parser(
        "convert",
        help="convert IN to OUT; the suffixes pick the formats",
        description=f"Read IN ({' '.join(READ_SUFFIXES)}) and write OUT ({' '.join(WRITE_SUFFIXES)}).",
    )
    convert.add_argument("input", type=Path, metavar="IN")
    convert.add_argument("output", type=Path, metavar="OUT")
    convert.set_defaults(func=run_convert)
    show = actions.add_parser(
        "show",
        help="draw IN as a piano-roll picture (PNG)",
        description="Draw a score: piano roll per track, chords, sections, lyrics, bar numbers.",
    )
    show.add_argument("input", type=Path, metavar="IN")
    show.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.png")
    show.set_defaults(func=run_show)


def run_convert(args: argparse.Namespace) -> int:
    """`score convert IN OUT`."""
    score = read_score(args.input)
    written = write_score(score, args.output)
    logger.info("wrote %s (%d notes)", written, score.num_notes())
    return 0


def run_show(args: argparse.Namespace) -> int:
    """`score show IN -o OUT.png`."""
    output: Path = args.output
    if output.suffix.lower() != ".png":
        raise UserError(
            f"score show writes a PNG picture; name the output *.png, not {output.name!r}"
        )
    score = read_score(args.input)
    write_score(score, output)
    logger.info("wrote %s", output)
    return 0
