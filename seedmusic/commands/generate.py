"""`seedmusic generate`: lyrics + style -> a song (the `compose` verb, then the `render` verb).

    seedmusic generate --lyrics lyrics.txt --style "folk, female vocal, 96 bpm" -o song/
    seedmusic generate --lyrics "la la la" --style pop --renderer synth --stems -o song/

Composes a score exactly as `seedmusic compose` does (same options, same seed -> same score)
and renders it as `seedmusic render` does (the seed is also the renderer's). Writes into DIR
`song.wav`, with `--stems` also `stems/*.wav`, the composer's `score.json`, `score.mid`,
`score.musicxml`, `score.png`, `tokens.json`, and `summary.json`: the render summary (see
`seedmusic.song.song_summary`; `timings` also holds "compose") with the composer's summary
under `composer`. All of them, or none.
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path

from seedmusic.commands.compose import (
    add_composer_arguments,
    compose_request,
    composition_writers,
    run_composer,
)
from seedmusic.commands.render import add_render_arguments, render_request, report
from seedmusic.errors import UserError
from seedmusic.inputs import probe_audio
from seedmusic.outputs import check_output_folder
from seedmusic.progress import progress_bars
from seedmusic.song import check_reference, render_song, song_summary, write_song

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `generate` verb."""
    parser = subparsers.add_parser(
        "generate",
        help="compose a song from lyrics and a style and render it (compose, then render)",
        description=(
            "Compose a song score from lyrics and a style with the shipped composer, then render "
            "it. Writes DIR/song.wav, with --stems also DIR/stems/*.wav, the score files, "
            "tokens.json and summary.json."
        ),
    )
    add_composer_arguments(parser)
    add_render_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Compose, render and write the files (see the module docstring)."""
    check_output_folder(args.output)
    request = compose_request(args)
    check_reference(render_request(args, request.lyrics.language))  # before composing
    if args.reference is not None:
        try:
            probe_audio(args.reference)  # its header: read whole by the renderer, later
        except UserError as exc:
            raise UserError(f"--reference: {exc}") from None
    started = time.perf_counter()
    composition = run_composer(args, request)
    compose_seconds = time.perf_counter() - started
    song = render_song(
        composition.score,
        render_request(args, request.lyrics.language),
        progress=progress_bars(),
    )
    summary = {
        **song_summary(song, {"compose": compose_seconds}),
        "composer": composition.summary,
    }
    write_song(args.output, song, composition.score, summary, composition_writers(composition))
    report(song, args.output)
    return 0
