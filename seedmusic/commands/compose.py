"""`seedmusic compose`: lyrics + style -> a song score (or re-compose bars of a score).

    seedmusic compose --lyrics lyrics.txt --style "pop, female vocal, 100 bpm" -o out/
    seedmusic compose --from out/score.json --bars 9-12 -o out2/

writes `score.json`, `score.mid` (vocal lyrics as MIDI lyric events), `score.musicxml`,
`score.png`, `tokens.json` (the lead-sheet tokens) and `summary.json` into DIR: all of them,
or none (they are written into a temporary folder and moved into place at the end). The same
seed gives identical files. Lyrics longer than the composer's window (about 3 minutes of song)
are composed window by window, each a continuation of the song so far
(`seedmusic.composer.long_song`); lyrics of more than half an hour are one error line.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from seedmusic.composer.decode import Sampling
from seedmusic.composer.lyrics_input import parse_lyrics, read_lyrics_argument
from seedmusic.composer.pipeline import Composer, ComposeRequest, Composition
from seedmusic.composer.style import parse_style
from seedmusic.errors import UserError
from seedmusic.inputs import read_user_score
from seedmusic.outputs import Writer, score_writers, write_all_or_nothing, write_json
from seedmusic.progress import progress_bars

logger = logging.getLogger(__name__)

COMPOSE_FILES: tuple[str, ...] = (
    "score.json",
    "score.mid",
    "score.musicxml",
    "score.png",
    "tokens.json",
    "summary.json",
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `compose` verb."""
    parser = subparsers.add_parser(
        "compose",
        help="write a song score (melody on the lyrics, chords, sections, band) from lyrics and a style",
        description=(
            "Compose a seven-track song score from lyrics and a style with the shipped composer "
            "(checkpoints/composer), or re-compose bars of a score (--from SCORE --bars A-B). Writes "
            + ", ".join(COMPOSE_FILES)
            + " into DIR."
        ),
    )
    add_composer_arguments(parser)
    parser.add_argument(
        "--from",
        dest="source",
        type=Path,
        default=None,
        metavar="SCORE",
        help="a score to re-compose bars of",
    )
    parser.add_argument(
        "--bars",
        default=None,
        metavar="A-B",
        help="with --from: the bars to re-compose (1-based, inclusive)",
    )
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.set_defaults(func=run)


def add_composer_arguments(parser: argparse.ArgumentParser) -> None:
    """The composer's options, shared by `compose` and `generate`."""
    parser.add_argument(
        "--lyrics",
        metavar="FILE|TEXT",
        help="lyrics: a UTF-8 file or the text itself; one line per phrase, blank lines between "
        "stanzas, optional [intro] [verse] [pre-chorus] [chorus] [bridge] [outro] headers",
    )
    parser.add_argument(
        "--style",
        default="",
        metavar="TEXT",
        help="comma-separated: a genre (pop, rock, folk, ballad, waltz, march, swing, country, bossa, "
        "latin, blues, hymn), 'male vocal'/'female vocal', moods, 'N bpm', a key ('D major'), a meter "
        "('3/4'); anything unset is the model's choice",
    )
    parser.add_argument("--tempo", type=float, default=None, metavar="BPM")
    parser.add_argument("--key", default=None, metavar="KEY", help="e.g. 'D major', 'A minor'")
    parser.add_argument("--meter", default=None, metavar="M", help="2/4, 3/4, 4/4 or 6/8")
    parser.add_argument(
        "--prompt", default=None, metavar="TEXT", help="free-text description of the song"
    )
    parser.add_argument(
        "--language", choices=("en", "de"), default=None, help="lyrics language (detected)"
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N")
    parser.add_argument("--temperature", type=float, default=1.0, metavar="T")
    parser.add_argument("--top-p", type=float, default=0.95, metavar="P")
    parser.add_argument(
        "--guidance",
        type=float,
        default=1.0,
        metavar="G",
        help="classifier-free guidance scale (1: off)",
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        metavar="DIR",
        help="composer checkpoint (default: checkpoints/composer)",
    )


def _bar_range(text: str | None) -> tuple[int, int]:
    if not text:
        raise UserError("--from needs --bars A-B (the bars to re-compose)")
    first, _, last = text.partition("-")
    try:
        a, b = int(first), int(last or first)
    except ValueError:
        raise UserError(f"--bars {text!r} is not a bar range like 9-12") from None
    if a < 1 or b < a:
        raise UserError(f"--bars {text!r} is not a bar range like 9-12")
    return a, b


def _sampling(args: argparse.Namespace) -> Sampling:
    try:
        return Sampling(temperature=args.temperature, top_p=args.top_p, guidance=args.guidance)
    except ValueError as exc:
        raise UserError(str(exc)) from None


def _compose(args: argparse.Namespace) -> Composition:
    if args.source is not None:
        style = parse_style(args.style, tempo=args.tempo, key=args.key, meter=args.meter)
        sampling = _sampling(args)
        if args.lyrics:
            raise UserError("--from re-composes the score's own words: leave out --lyrics")
        first, last = _bar_range(args.bars)
        score = read_user_score(args.source, playable=True)
        if not any(n.lyric for n in score.notes("vocal")):
            raise UserError(f"{args.source}: the score has no sung words to re-compose")
        composer = Composer.from_pretrained(args.checkpoint)
        return composer.recompose(
            score, first, last, style, args.seed, sampling, args.language or "en"
        )
    if args.bars:
        raise UserError("--bars needs --from SCORE")
    if args.lyrics is None:
        raise UserError("pass --lyrics FILE|TEXT (or --from SCORE --bars A-B)")
    return run_composer(args, compose_request(args))


def compose_request(args: argparse.Namespace) -> ComposeRequest:
    """The request that `add_composer_arguments`' options describe (`UserError` if unusable)."""
    style = parse_style(args.style, tempo=args.tempo, key=args.key, meter=args.meter)
    sampling = _sampling(args)
    if args.lyrics is None:
        raise UserError("pass --lyrics FILE|TEXT")
    sheet = parse_lyrics(read_lyrics_argument(args.lyrics), args.language)
    return ComposeRequest(sheet, style, args.prompt, args.seed, sampling)


def run_composer(args: argparse.Namespace, request: ComposeRequest) -> Composition:
    """Compose `request` with the `--checkpoint` composer (progress bar on a terminal)."""
    composer = Composer.from_pretrained(args.checkpoint)
    return composer.compose(request, progress=progress_bars())


def run(args: argparse.Namespace) -> int:
    """Compose and write the files (see the module docstring)."""
    result = _compose(args)
    write_compose_outputs(args.output, result)
    print(f"wrote {', '.join(COMPOSE_FILES)} to {args.output}")
    return 0


def write_compose_outputs(folder: Path, result: Composition) -> None:
    """Write `COMPOSE_FILES` into `folder`: all of them, or none (a new folder is removed)."""
    writers = composition_writers(result)
    writers["summary.json"] = lambda path: write_json(path, result.summary)
    write_all_or_nothing(folder, writers)


def composition_writers(result: Composition) -> dict[str, Writer]:
    """Writers for `COMPOSE_FILES` but `summary.json`: the score files and `tokens.json`."""
    writers = score_writers(result.score)
    writers["tokens.json"] = lambda path: write_json(path, _tokens_document(result))
    return writers


def _tokens_document(result: Composition) -> dict[str, Any]:
    return {"encoding": "leadsheet-remi", "tokens": result.tokens}
