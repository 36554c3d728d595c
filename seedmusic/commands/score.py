"""`seedmusic score`: convert between score formats, draw a score, edit a score.

seedmusic score convert IN OUT        # .mid/.midi/.musicxml/.xml/.mxl/.json -> .mid/.json/.musicxml/.png
seedmusic score show IN -o OUT.png    # a piano-roll picture with chords, sections and lyrics
seedmusic score edit IN -o OUT --transpose 5-8:2 --chord 6.3:G7 --lyrics 9-10:"new words"
                                      # edits applied in the order given (`seedmusic.score_edit`)

`score edit` writes OUT only (its suffix picks the format) and prints the changed bars, 1-based
as in `score.png`. A MusicXML OUT holds the score snapped to a 1/12-beat grid (tick-exact timing
cannot be notated). IN is read through `seedmusic.inputs.read_user_score`.
"""

from __future__ import annotations

import argparse
import logging
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from score_tokens.io import READ_SUFFIXES, WRITE_SUFFIXES, write_score
from score_tokens.score import Score
from seedmusic.errors import UserError
from seedmusic.inputs import read_user_score
from seedmusic.outputs import write_notation_aware
from seedmusic.score_edit import EDIT_KINDS, EditOp, apply_edits, describe_changes

if TYPE_CHECKING:
    from seedmusic.composer.pipeline import Composer

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `score` verb with its `convert`, `show` and `edit` subcommands."""
    parser = subparsers.add_parser(
        "score",
        help="convert a score between MIDI, MusicXML and JSON, draw it, or edit it",
        description=(
            "Convert a score between formats (chosen by file suffix), draw it as a PNG, or edit "
            "it (transpose, new words, chords, re-composed bars, tempo)."
        ),
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
    _register_edit(actions)


class _AppendEdit(argparse.Action):
    """Appends `(kind, value)` to one list for every edit option, so their order is kept."""

    def __call__(
        self,
        parser: argparse.ArgumentParser,
        namespace: argparse.Namespace,
        values: str | Sequence[Any] | None,
        option_string: str | None = None,
    ) -> None:
        edits = list(getattr(namespace, self.dest, None) or [])
        edits.append((self.const, values))
        setattr(namespace, self.dest, edits)


EDIT_HELP: dict[str, tuple[str, str]] = {
    "transpose": (
        "BARS:N[:TRACKS]",
        "shift TRACKS (comma-separated: vocal, bass, piano, guitar; default all four) by N "
        "semitones; chords follow when all four move, the key when every bar does (all:N)",
    ),
    "lyrics": (
        "BARS:WORDS",
        "new words: as many syllables as the sung notes there replace their lyrics; any other "
        "count re-composes those bars' melody and chords around the words",
    ),
    "chord": (
        "BAR[.BEAT]:LABEL",
        "a chord (C, Am, G7, F:maj7, Bbm7, N) at BEAT (1-based; default 1) of BAR",
    ),
    "regenerate": ("BARS", "re-compose BARS: same words, new melody, chords and band"),
    "tempo": ("BPM", "one tempo for the whole score (20-400)"),
    "extend": (
        "N[:WORDS]",
        "append N bars composed as the song's continuation: an instrumental outro, or a new "
        "verse singing WORDS",
    ),
}


def add_edit_arguments(parser: argparse.ArgumentParser) -> None:
    """The edit operations (kept in command-line order in `args.edits`) and the composer's
    options; shared by `score edit` and `edit`."""
    for kind in EDIT_KINDS:
        metavar, text = EDIT_HELP[kind]
        parser.add_argument(
            f"--{kind}", dest="edits", action=_AppendEdit, const=kind, metavar=metavar, help=text
        )
    parser.add_argument(
        "--style",
        default="",
        metavar="TEXT",
        help="for the composer: a genre (its groove plays the re-composed bars; default pop), moods",
    )
    parser.add_argument(
        "--language", choices=("en", "de"), default=None, help="lyrics language (detected)"
    )
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        metavar="DIR",
        help="composer checkpoint (default: checkpoints/composer)",
    )
    parser.set_defaults(edits=None)


def edit_operations(args: argparse.Namespace) -> list[EditOp]:
    """The parsed `add_edit_arguments` operations, in order."""
    return [EditOp.parse(kind, value) for kind, value in args.edits or []]


def edited_score(args: argparse.Namespace, score: Score, ops: list[EditOp]) -> Score:
    """`score` with `ops` applied (the composer loaded only when an operation needs it)."""
    from seedmusic.composer.style import parse_style

    def composer() -> Composer:
        from seedmusic.composer.pipeline import Composer

        return Composer.from_pretrained(args.checkpoint)

    return apply_edits(score, ops, composer, args.seed, parse_style(args.style), args.language)


def _register_edit(actions: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    edit = actions.add_parser(
        "edit",
        help="edit a score: transpose, new words, chords, re-composed bars, tempo",
        description=(
            "Apply edits to IN in the order given and write OUT (its suffix picks the format). "
            "BARS is 5, 5-8 or all: bar numbers 1-based and inclusive, as in score.png. Words "
            "that do not fit the sung notes, and --regenerate, use the composer (--checkpoint)."
        ),
    )
    edit.add_argument("input", type=Path, metavar="IN")
    edit.add_argument(
        "-o", "--output", type=Path, required=True, metavar="OUT", help=", ".join(WRITE_SUFFIXES)
    )
    add_edit_arguments(edit)
    edit.add_argument("--seed", type=int, default=0, metavar="N", help="the composer's seed")
    edit.set_defaults(func=run_edit, edits=None)


def run_convert(args: argparse.Namespace) -> int:
    """`score convert IN OUT`."""
    score = read_user_score(args.input)
    write_notation_aware(score, args.output)
    logger.info("wrote %s (%d notes)", args.output, score.num_notes())
    return 0


def run_show(args: argparse.Namespace) -> int:
    """`score show IN -o OUT.png`."""
    output: Path = args.output
    if output.suffix.lower() != ".png":
        raise UserError(
            f"score show writes a PNG picture; name the output *.png, not {output.name!r}"
        )
    score = read_user_score(args.input)
    write_score(score, output)
    logger.info("wrote %s", output)
    return 0


def run_edit(args: argparse.Namespace) -> int:
    """`score edit IN -o OUT EDITS...`: nothing is written unless every edit succeeds."""
    ops = edit_operations(args)
    if not ops:
        raise UserError(
            "no edit given: use --transpose, --lyrics, --chord, --regenerate or --tempo"
        )
    output: Path = args.output
    if output.suffix.lower() not in WRITE_SUFFIXES:
        raise UserError(
            f"cannot write {output.name!r}: name OUT with one of {', '.join(WRITE_SUFFIXES)}"
        )
    if not output.parent.is_dir():
        raise UserError(
            f"cannot write {str(output)!r}: folder {str(output.parent)!r} does not exist"
        )
    score = read_user_score(args.input)
    edited = edited_score(args, score, ops)
    write_notation_aware(edited, output)
    print(f"{describe_changes(score, edited)}; wrote {output}")
    return 0
