"""`seedmusic analyze`: MIR on a recording, written as analysis JSON, a score and score tokens.

    seedmusic analyze song.wav -o out/ [--format remi|xval]

writes `out/analysis.json` (DESIGN.md §12), `score.json`, `score.mid`, `score.png` and
`tokens.json`. All files are first written into a temporary folder inside `out/` and moved into
place only when every one of them succeeded, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import json
import logging
import os
import shutil
import sys
import tempfile
from pathlib import Path
from typing import Any, Literal

from mir.analyze import analyze
from mir.errors import AudioError
from score_tokens.io import write_score
from score_tokens.score import Score
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

TokenFormat = Literal["remi", "xval"]
OUTPUT_FILES: tuple[str, ...] = (
    "analysis.json",
    "score.json",
    "score.mid",
    "score.png",
    "tokens.json",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `analyze` verb."""
    parser = subparsers.add_parser(
        "analyze",
        help="find beats, key, chords and sections of a recording; write them as a score",
        description=(
            "Run MIR on AUDIO (wav, flac, ogg; mp3 where a decoder exists) and write "
            + ", ".join(OUTPUT_FILES)
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
    tokens = encode_tokens(score, args.format)
    write_outputs(output, analysis.to_json_dict(), score, tokens)
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


def encode_tokens(score: Score, encoding: TokenFormat) -> dict[str, Any]:
    """The `tokens.json` contents: `{"encoding", "tokens"}` (+ `"values"` for xVal)."""
    if encoding == "remi":
        from score_tokens.remi import RemiTokenizer

        return {"encoding": "remi", "tokens": list(RemiTokenizer().encode(score))}
    from score_tokens.xval import XvalTokenizer

    sequence = XvalTokenizer().encode(score)
    values = [
        None if value != value else float(value) for value in sequence.values.tolist()
    ]  # NaN -> null
    return {"encoding": "xval", "tokens": list(sequence.tokens), "values": values}


def write_outputs(
    folder: Path, analysis: dict[str, Any], score: Score, tokens: dict[str, Any]
) -> None:
    """Write every output into a temporary folder inside `folder`, then move them into place."""
    created = not folder.exists()
    folder.mkdir(parents=True, exist_ok=True)
    staging = Path(tempfile.mkdtemp(prefix=".analyze.", dir=folder))
    try:
        _write_json(staging / "analysis.json", analysis)
        for name in ("score.json", "score.mid", "score.png"):
            write_score(score, staging / name)
        _write_json(staging / "tokens.json", tokens)
        for name in OUTPUT_FILES:
            os.replace(staging / name, folder / name)
    except BaseException:
        if created:
            shutil.rmtree(folder, ignore_errors=True)
        raise
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _write_json(path: Path, data: dict[str, Any]) -> None:
    path.write_text(json.dumps(data, indent=1) + "\n", encoding="utf-8")
