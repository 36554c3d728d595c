"""`seedmusic analyze`: MIR on a recording, written as analysis JSON, a score and score tokens.

    seedmusic analyze song.wav -o out/ [--format remi|xval]

writes `out/analysis.json` (DESIGN.md §12), `score.json`, `score.mid`, `score.png` and
`tokens.json`. All files are first written into a temporary folder inside `out/` and moved into
place only when every one of them succeeded, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from mir.analyze import analyze
from mir.errors import AudioError
from score_tokens.tokens_file import tokens_document
from seedmusic.errors import UserError
from seedmusic.outputs import ANALYSIS_FILES, write_analysis_outputs

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `analyze` verb."""
    parser = subparsers.add_parser(
        "analyze",
        help="find beats, key, chords and sections of a recording; write them as a score",
        description=(
            "Run MIR on AUDIO (wav, flac, ogg; mp3 where a decoder exists) and write "
            + ", ".join(ANALYSIS_FILES)
            + " into DIR."
        ),
    )
    parser.add_argument("audio", type=Path, metavar="AUDIO")
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.add_argument(
        "--format",
        choices=("remi", "xval"),
        default="remi",
        help="score-token encoding of tokens.json (remi)",
    )
    parser.set_defaults(func=run_analyze)


def run_analyze(args: argparse.Namespace) -> int:
    """`analyze AUDIO -o DIR [--format remi|xval]`."""
    output: Path = args.output
    if output.exists() and not output.is_dir():
        raise UserError(f"cannot write into {str(output)!r}: it is a file, not a folder")
    try:
        analysis = analyze(args.audio, progress=sys.stderr.isatty())
    except AudioError as exc:
        raise UserError(str(exc)) from None
    score = analysis.to_score()
    tokens = tokens_document(score, args.format)
    write_analysis_outputs(output, analysis.to_json_dict(), score, tokens)
    logger.info(
        "wrote %s: %s, %s bpm, %s, %d chords, %d sections",
        output,
        analysis.key,
        analysis.tempo,
        analysis.time_signature,
        len(analysis.chords),
        len(analysis.sections),
    )
    return 0
