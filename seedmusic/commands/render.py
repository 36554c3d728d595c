"""`seedmusic render`: a score -> a song (and its stems).

    seedmusic render out/score.json -o song/ --stems
    seedmusic render song.mid -o song/ --renderer synth --seed 3

SCORE is score JSON, MIDI (the vocal's words as lyric events) or MusicXML. Writes into DIR
`song.wav` (24 kHz mono, 16-bit), with `--stems` also `stems/vocal.wav`,
`stems/accompaniment.wav` (they sum to the mix) and one `stems/<track>.wav` per instrument
the score plays (bass, piano, guitar, drums); the score as `score.json`, `score.mid`,
`score.musicxml`, `score.png`; and `summary.json` (see `seedmusic.song.song_summary`; with
`score`, the file rendered). All of them, or none: they are staged and moved into place at
the end. With the synth renderer, the same seed gives an identical `song.wav`.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path

from seedmusic.composer.lyrics_input import detect_language
from seedmusic.errors import UserError
from seedmusic.inputs import read_user_score
from seedmusic.outputs import check_output_folder
from seedmusic.progress import progress_bars
from seedmusic.song import (
    RENDERERS,
    RenderedSong,
    RenderRequest,
    check_renderable,
    render_song,
    song_summary,
    with_every_track,
    write_song,
)

logger = logging.getLogger(__name__)

RENDERER_HELP = (
    "neural: the trained chain (score frames -> DiT -> VAE vocoder); synth: the exact "
    "reference, FluidSynth instruments and an espeak-ng + Praat sung vocal (default: neural)"
)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `render` verb."""
    parser = subparsers.add_parser(
        "render",
        help="render a score (JSON, MIDI with lyrics, MusicXML) to a song, optionally with stems",
        description=(
            "Render a score to DIR/song.wav (24 kHz mono), with --stems also DIR/stems/*.wav, "
            "plus the score files and summary.json (renderer, length, timings, and how well our "
            "own MIR hears the score in the song)."
        ),
    )
    parser.add_argument("score", type=Path, metavar="SCORE", help=".json, .mid or .musicxml")
    parser.add_argument(
        "--language",
        choices=("en", "de"),
        default=None,
        help="language of the lyrics, for the synth singer (detected)",
    )
    parser.add_argument("--seed", type=int, default=0, metavar="N")
    add_render_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.set_defaults(func=run)


def add_render_arguments(parser: argparse.ArgumentParser) -> None:
    """The renderer's options, shared by `render` and `generate`."""
    parser.add_argument(
        "--stems",
        action="store_true",
        help="also write stems/vocal.wav, stems/accompaniment.wav and one wav per instrument",
    )
    parser.add_argument("--renderer", choices=RENDERERS, default="neural", help=RENDERER_HELP)
    parser.add_argument(
        "--reference",
        type=Path,
        metavar="AUDIO",
        help="a recording whose sound (instruments, mix) the neural renderer follows, for a "
        "DiT trained to read one (configs/dit/timbre.yaml; the shipped DiT is not); at most a "
        "minute of it is read, spread over it (no --stems)",
    )
    parser.add_argument(
        "--no-adherence",
        dest="adherence",
        action="store_false",
        help="skip analysing the song against its score (saves the MIR's time)",
    )


def render_request(args: argparse.Namespace, language: str) -> RenderRequest:
    """The `RenderRequest` of `add_render_arguments`' options (and `--seed`)."""
    return RenderRequest(
        renderer=args.renderer,
        stems=args.stems,
        seed=args.seed,
        language=language,
        adherence=args.adherence,
        reference=args.reference,
    )


def run(args: argparse.Namespace) -> int:
    """Render and write the files (see the module docstring)."""
    check_output_folder(args.output)
    score = with_every_track(read_user_score(args.score, playable=True))
    try:
        check_renderable(score)
    except UserError as exc:
        raise UserError(f"{args.score}: {exc}") from None
    words = " ".join(text for _, text in score.lyrics())
    language = args.language or detect_language(words)
    song = render_song(score, render_request(args, language), progress=progress_bars())
    summary = {"score": str(args.score), **song_summary(song)}
    write_song(args.output, song, score, summary)
    report(song, args.output)
    return 0


def report(song: RenderedSong, folder: Path) -> None:
    """Print what was written and, if measured, the song's adherence to its score."""
    print(f"wrote {song.seconds:.1f} s ({song.renderer} renderer) to {folder / 'song.wav'}")
    if song.stems:
        print(f"stems: {', '.join(str(folder / name) for name in song.stem_files())}")
    if not song.trained:
        print("the neural renderer ran UNTRAINED models: the audio is not music yet")
    if song.adherence is not None:
        metrics = song.adherence["metrics"]
        shown = ("beat_f", "downbeat_f", "key_weighted", "chord_majmin")
        print(
            "adherence: "
            + ", ".join(
                f"{name} {'n/a' if metrics.get(name) is None else f'{metrics[name]:.2f}'}"
                for name in shown
            )
            + f" (all in {folder / 'summary.json'})"
        )
