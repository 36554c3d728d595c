"""`seedmusic analyze`: MIR on a recording, written as analysis JSON, a score and score tokens.

    seedmusic analyze song.wav -o out/ [--format remi|xval] [--lyrics words.txt | --asr DIR]
                                       [--no-notes]

transcribes the notes of the five instruments with the shipped transcriber
(`checkpoints/transcriber`, or `--transcriber DIR`), places the syllables of `--lyrics` (or of
the words a local Whisper checkpoint given by `--asr DIR` recognises) on the vocal notes, and
writes `out/analysis.json` (DESIGN.md §12), `score.json`, `score.mid`, `score.png` and
`tokens.json`. All files are first written into a temporary folder inside `out/` and moved into
place only when every one of them succeeded, so a failure leaves nothing half-written.
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

from mir.analyze import analyze
from mir.errors import AudioError
from score_tokens.tokens_file import tokens_document
from seedmusic.errors import UserError
from seedmusic.inputs import read_audio
from seedmusic.outputs import ANALYSIS_FILES, write_analysis_outputs
from seedmusic.progress import progress_bars

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
    parser.add_argument(
        "--transcriber",
        type=Path,
        default=None,
        metavar="DIR",
        help="note transcriber checkpoint (default: the shipped checkpoints/transcriber)",
    )
    parser.add_argument(
        "--no-notes", action="store_true", help="skip note transcription (and lyric alignment)"
    )
    words = parser.add_mutually_exclusive_group()
    words.add_argument(
        "--lyrics",
        type=Path,
        default=None,
        metavar="FILE",
        help="a UTF-8 text file with the song's words, aligned syllable by syllable to the vocal",
    )
    words.add_argument(
        "--asr",
        type=Path,
        default=None,
        metavar="DIR",
        help="recognise the words with a local Whisper checkpoint folder (transformers "
        "save_pretrained format; never downloaded) and align them like --lyrics (off by default)",
    )
    parser.add_argument(
        "--language",
        choices=("en", "de"),
        default="en",
        help="language of the lyrics or of the singing for --asr (en)",
    )
    parser.set_defaults(func=run_analyze)


def _load_transcriber(path: Path | None) -> Any:
    """The transcriber to use: `path`, else the shipped one, else None (notes are skipped)."""
    from mir.transcriber import Transcriber
    from renderer.modeling import CheckpointError
    from seedmusic.checkpoints import optional_reference_checkpoint

    if path is None:
        folder = optional_reference_checkpoint("transcriber", "notes are not transcribed")
        if folder is None:
            return None
    elif not path.is_dir():
        raise UserError(f"no transcriber checkpoint at {path}")
    else:
        folder = path
    try:
        return Transcriber.from_pretrained(folder).eval()
    except CheckpointError as exc:
        raise UserError(f"cannot load the transcriber: {exc}") from None


def _load_recognizer(path: Path | None) -> Any:
    """The Whisper lyrics recognizer of `--asr`, or None."""
    if path is None:
        return None
    from mir.asr import AsrError, LyricsRecognizer

    try:
        return LyricsRecognizer.from_pretrained(path)
    except AsrError as exc:
        raise UserError(str(exc)) from None


def _read_lyrics(path: Path | None) -> str | None:
    if path is None:
        return None
    try:
        return path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        raise UserError(f"cannot read lyrics {str(path)!r}: {exc}") from None


def run_analyze(args: argparse.Namespace) -> int:
    """`analyze AUDIO -o DIR [--format remi|xval]`."""
    output: Path = args.output
    if output.exists() and not output.is_dir():
        raise UserError(f"cannot write into {str(output)!r}: it is a file, not a folder")
    lyrics = _read_lyrics(args.lyrics)
    transcriber = None if args.no_notes else _load_transcriber(args.transcriber)
    recognizer = _load_recognizer(args.asr)
    try:
        analysis = analyze(
            read_audio(args.audio),  # the input gate; mono at the file's rate, as from a path
            progress=progress_bars(),
            transcriber=transcriber,
            lyrics=lyrics,
            language=args.language,
            asr=recognizer,
        )
    except AudioError as exc:
        raise UserError(str(exc)) from None
    score = analysis.to_score()
    tokens = tokens_document(score, args.format)
    write_analysis_outputs(output, analysis.to_json_dict(), score, tokens)
    logger.info(
        "wrote %s: %s, %s bpm, %s, %d chords, %d sections, %d notes, %d syllables",
        output,
        analysis.key,
        analysis.tempo,
        analysis.time_signature,
        len(analysis.chords),
        len(analysis.sections),
        sum(len(notes) for notes in analysis.notes.values()),
        len(analysis.lyrics),
    )
    return 0
