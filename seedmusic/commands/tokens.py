"""`seedmusic tokenize` / `seedmusic detokenize`: scores <-> token files (DESIGN.md §12).

seedmusic tokenize IN --encoding remi|xval -o OUT.json   # IN: .mid/.midi/.musicxml/.xml/.mxl/.json
seedmusic detokenize TOKENS.json -o OUT                   # OUT: .mid/.json/.musicxml/.png

A MusicXML OUT holds the score snapped to a 1/12-beat grid (tick-exact timing cannot be notated).
"""

from __future__ import annotations

import argparse
import json
import logging
import math
from pathlib import Path
from typing import Any

from score_tokens.io import atomic_write
from score_tokens.score import Score
from score_tokens.tokens_file import ENCODINGS, tokens_document
from seedmusic.errors import UserError
from seedmusic.inputs import read_token_file, read_user_score
from seedmusic.outputs import write_notation_aware

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `tokenize` and `detokenize` verbs."""
    tokenize = subparsers.add_parser(
        "tokenize",
        help="write a score (MIDI, MusicXML, score JSON) as REMI or xVal tokens",
        description="Read IN and write its score tokens as JSON (DESIGN.md §12).",
    )
    tokenize.add_argument("input", type=Path, metavar="IN")
    tokenize.add_argument("--encoding", choices=ENCODINGS, default="remi", help="(remi)")
    tokenize.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.json")
    tokenize.set_defaults(func=run_tokenize)
    detokenize = subparsers.add_parser(
        "detokenize",
        help="turn a token file back into a score (.mid/.json/.musicxml/.png)",
        description="Decode TOKENS.json (REMI or xVal) and write the score; OUT's suffix picks the format.",
    )
    detokenize.add_argument("input", type=Path, metavar="TOKENS.json")
    detokenize.add_argument("-o", "--output", type=Path, required=True, metavar="OUT")
    detokenize.set_defaults(func=run_detokenize)


def run_tokenize(args: argparse.Namespace) -> int:
    """`tokenize IN --encoding remi|xval -o OUT.json`."""
    output: Path = args.output
    if output.suffix.lower() != ".json":
        raise UserError(f"tokenize writes JSON; name the output *.json, not {output.name!r}")
    document = tokens_document(read_user_score(args.input), args.encoding)
    text = json.dumps(document, ensure_ascii=False)
    atomic_write(output, lambda temp: _write_text(temp, text))
    logger.info("wrote %d %s tokens to %s", len(document["tokens"]), args.encoding, output)
    return 0


def run_detokenize(args: argparse.Namespace) -> int:
    """`detokenize TOKENS.json -o OUT`."""
    score = decode_document(read_token_file(args.input))
    written = write_notation_aware(score, args.output)
    logger.info("wrote %s (%d notes)", written, score.num_notes())
    return 0


def decode_document(document: dict[str, Any]) -> Score:
    """The score of a checked token document (raises `ScoreTokenError` for bad sequences)."""
    if document["encoding"] == "remi":
        from score_tokens.remi import RemiTokenizer

        return RemiTokenizer().decode(document["tokens"])
    from score_tokens.xval import XvalTokenizer

    values = [math.nan if v is None else float(v) for v in document["values"]]
    return XvalTokenizer().decode(document["tokens"], values)


def _write_text(path: Path, text: str) -> None:
    path.write_text(text, encoding="utf-8")
