"""`seedmusic edit`: re-render only the bars of a song whose score changed.

    seedmusic edit out/song/ --score edited.json -o out/edited/
    seedmusic edit recording.wav --score edited.json -o out/edited/
    seedmusic edit out/song/ --chord 5:Am --transpose 9-12:2 -o out/edited/
    seedmusic edit out/song/ --retake 5-6 --seed 3 -o out/retaken/

SOURCE is a `render`/`generate` output folder (its `song.wav` and `score.json`) or any audio
file: then our MIR analyzes it first and the analysis's score is the one edited (`seedmusic
analyze` writes it; edit that `score.json`). The bars where the edited score differs are
inpainted by the neural renderer's DiT, conditioned on the edited score, with the song's own
latents around them; outside those bars `DIR/song.wav` is the source, sample for sample (same
rate, channels, length and sample format), with short constant-power crossfades just inside each
re-rendered span; the new bars are filtered to the source's spectral balance in them (one gain
per half-octave band, at most 6 dB; `--no-spectral-match` keeps the renderer's). Instead of `--score`, the edit operations of `seedmusic score edit`
(`--transpose`, `--lyrics`, `--chord`, `--regenerate`, `--tempo`, `--extend`) apply to the song's score; `--retake BARS` re-renders bars whose score stays as it is (another take,
with another `--seed`), alone or beside the other edits; `--extend N[:WORDS]` appends N bars, composed and rendered as the song's continuation (the song grows; everything before the new bars is the source). Writes `song.wav`, the edited score files and `edit.json`:
`{"spans": [{"bars": [5, 6], "start": s, "end": s}], "unchanged_seconds": s}` (bars 1-based,
inclusive, as in `score.png`), plus `summary.json` (timings, seed).
"""

from __future__ import annotations

import argparse
import logging
import time
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from score_tokens.score import Score
from seedmusic.commands.score import add_edit_arguments, edit_operations, edited_score
from seedmusic.errors import UserError
from seedmusic.inputs import SourceAudio, read_source_audio, read_user_score
from seedmusic.outputs import (
    Writer,
    check_output_folder,
    score_writers,
    write_all_or_nothing,
    write_json,
)
from seedmusic.progress import progress_bars

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `edit` verb."""
    parser = subparsers.add_parser(
        "edit",
        help="re-render only the bars of a song (a render folder or any audio) whose score changed",
        description=(
            "Compare the song's score with the edited one, inpaint the changed bars with the "
            "neural renderer, and copy everything else from the source sample for sample. "
            "SOURCE is a render/generate output folder or an audio file (analyzed first)."
        ),
    )
    parser.add_argument(
        "source", type=Path, metavar="SOURCE", help="a song folder or an audio file"
    )
    parser.add_argument(
        "--score",
        type=Path,
        default=None,
        metavar="EDITED",
        help="the edited score (.json, .mid or .musicxml); or give edit operations",
    )
    parser.add_argument(
        "--seed", type=int, default=0, metavar="N", help="of the renderer and the composer"
    )
    parser.add_argument(
        "--no-spectral-match",
        action="store_true",
        help="keep the renderer's own spectral balance in the new bars (default: the source's)",
    )
    parser.add_argument(
        "--retake",
        action="append",
        default=[],
        metavar="BARS",
        help="re-render these bars with their score unchanged (5, 5-8 or all; repeatable)",
    )
    add_edit_arguments(parser)
    parser.add_argument("-o", "--output", type=Path, required=True, metavar="DIR")
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Edit and write the files (see the module docstring)."""
    from seedmusic.edit import edit_song
    from seedmusic.neural_render import NeuralRenderer
    from seedmusic.score_edit import parse_bars

    check_output_folder(args.output)
    started = time.perf_counter()
    ops = edit_operations(args)
    if args.score is not None and ops:
        raise UserError("give either --score EDITED or edit operations (--transpose, --chord, ...)")
    if args.score is None and not ops and not args.retake:
        raise UserError(
            "give --score EDITED, edit operations (--transpose, --chord, ...) or --retake"
        )
    source, song_score = read_source(args.source)
    given = None if args.score is None else read_user_score(args.score, playable=True)
    audio, rate, subtype = source.samples, source.sample_rate, source.subtype
    original = song_score if song_score is not None else _analyzed_score(audio, rate)
    edited = given if given is not None else edited_score(args, original, ops)
    retakes = [parse_bars(text, len(edited.bar_starts())) for text in args.retake]
    loaded = time.perf_counter() - started
    renderer = NeuralRenderer.from_pretrained()
    result = edit_song(
        renderer,
        audio,
        rate,
        original,
        edited,
        seed=args.seed,
        in_place=True,
        match_spectrum=not args.no_spectral_match,
        retakes=retakes,
    )
    summary = {
        "source": str(args.source),
        "score": None if args.score is None else str(args.score),
        "operations": [list(edit) for edit in args.edits or []],
        "retakes": args.retake,
        "seed": args.seed,
        "spectral_match": not args.no_spectral_match,
        **result.to_json(),
        "timings": {"load": round(loaded, 3), **result.timings},
    }
    writers: dict[str, Writer] = {
        "song.wav": _wav_writer(result.audio, rate, subtype),
        "edit.json": lambda path: write_json(path, result.to_json()),
        "summary.json": lambda path: write_json(path, summary),
        **score_writers(edited),
    }
    write_all_or_nothing(args.output, writers)
    bars = ", ".join(
        f"{s['bars'][0]}" if s["bars"][0] == s["bars"][1] else f"{s['bars'][0]}-{s['bars'][1]}"
        for s in (span.to_json() for span in result.spans)
    )
    print(
        f"re-rendered bars {bars} ({result.audio.shape[1] / rate - result.unchanged_seconds:.1f} s); "
        f"{result.unchanged_seconds:.1f} s copied from the source -> {args.output / 'song.wav'}"
    )
    return 0


def read_source(source: Path) -> tuple[SourceAudio, Score | None]:
    """The recording of a song folder or an audio file (through the input gate,
    `seedmusic.inputs`), and the folder's score (None for an audio file: it is analyzed)."""
    if source.is_dir():
        song, score_path = source / "song.wav", source / "score.json"
        if not song.is_file() or not score_path.is_file():
            raise UserError(f"{source}: a song folder holds song.wav and score.json")
        return read_source_audio(song), read_user_score(score_path, playable=True)
    if not source.is_file():
        raise UserError(f"{source}: no such file or folder")
    return read_source_audio(source), None


def _analyzed_score(audio: np.ndarray, rate: int) -> Score:
    from mir.analyze import analyze
    from mir.audio import Audio
    from mir.transcriber import Transcriber
    from seedmusic.checkpoints import optional_reference_checkpoint

    folder = optional_reference_checkpoint("transcriber", "the analysis has no notes")
    transcriber = None if folder is None else Transcriber.from_pretrained(folder).eval()
    analysis = analyze(
        Audio(audio.astype(np.float32), rate), progress=progress_bars(), transcriber=transcriber
    )
    return analysis.to_score()


def _wav_writer(audio: np.ndarray, rate: int, subtype: str) -> Writer:
    def write(path: Path) -> Any:
        sf.write(str(path), audio.T, rate, subtype=subtype, format="WAV")

    return write
