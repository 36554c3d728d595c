"""The `seedmusic` command line: parses arguments and calls the library, one module per verb.

Each module in `seedmusic.commands` defines `register(subparsers)`, which adds its verb and sets
`func` on the parser to a function `(args) -> int`. A `UserError` (or any error type the library
raises for bad input) becomes one `error:` line on stderr and exit code 2.
"""

from __future__ import annotations

import argparse
import logging
import sys
from collections.abc import Sequence
from typing import NoReturn

from seedmusic import __version__
from seedmusic.errors import UserError


class OneLineErrorParser(argparse.ArgumentParser):
    """argparse that reports a usage mistake as one `error:` line (plus a hint) and exits 2."""

    def error(self, message: str) -> NoReturn:
        self.exit(2, f"error: {message} (see '{self.prog} --help')\n")


class RaisingParser(OneLineErrorParser):
    """argparse that raises a usage mistake as a `UserError` (for callers inside a server)."""

    def error(self, message: str) -> NoReturn:
        raise UserError(message)

    def exit(self, status: int = 0, message: str | None = None) -> NoReturn:
        raise UserError(message.strip() if message else f"exit status {status}")


def build_parser(
    parser_class: type[OneLineErrorParser] = OneLineErrorParser,
) -> argparse.ArgumentParser:
    """The `seedmusic` parser with every verb; `parser_class` decides how usage mistakes end."""
    from seedmusic.commands import VERB_MODULES  # the verbs import torch: not at module import

    parser = parser_class(
        prog="seedmusic",
        description="Open, offline music generation and analysis following Seed-Music.",
    )
    parser.add_argument("--version", action="version", version=f"seedmusic {__version__}")
    parser.add_argument("-v", "--verbose", action="store_true", help="log debug messages")
    subparsers = parser.add_subparsers(dest="verb", metavar="VERB", parser_class=parser_class)
    for module in VERB_MODULES:
        module.register(subparsers)
    return parser


def user_error_types() -> tuple[type[BaseException], ...]:
    """Exception types that mean 'bad input' rather than a bug in seedmusic."""
    from renderer.modeling import CheckpointError
    from score_tokens.errors import ScoreError

    return (
        UserError,
        ScoreError,
        CheckpointError,
        FileNotFoundError,
        IsADirectoryError,
        PermissionError,
    )


def error_line(exc: BaseException) -> str:
    """The one `error:` line a user mistake is reported as."""
    if isinstance(exc, OSError) and exc.filename:
        return f"error: {exc.strerror}: {exc.filename}"
    return f"error: {exc}"


def main(argv: Sequence[str] | None = None) -> int:
    try:
        parser = build_parser()
        args = parser.parse_args(argv)
    except KeyboardInterrupt:  # while the verbs' libraries load
        print("error: interrupted", file=sys.stderr)
        return 130
    logging.basicConfig(
        level=logging.DEBUG if args.verbose else logging.INFO,
        format="%(levelname)s %(name)s: %(message)s",
    )
    if args.verb is None:
        parser.print_help()
        return 2
    try:
        return int(args.func(args) or 0)
    except user_error_types() as exc:
        print(error_line(exc), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("error: interrupted", file=sys.stderr)
        return 130
