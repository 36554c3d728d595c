"""The web UI's work, without Gradio: each request runs a `seedmusic` verb in this process, in a
folder of its own, and returns the files it wrote.

The page never hands the server a path: lyrics arrive as text (written into the request's
folder, so they are never read as a file name), recordings as uploads Gradio stored, and the
song an edit starts from is the one this browser session generated or loaded (`Song`).
"""

from __future__ import annotations

import json
import logging
import shutil
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import soundfile as sf

from score_tokens.io import read_score
from seedmusic.cli import RaisingParser, build_parser, user_error_types
from seedmusic.errors import UserError
from seedmusic.inputs import probe_audio, read_source_audio
from seedmusic.outputs import notation_writer
from seedmusic.progress import forced_progress

logger = logging.getLogger(__name__)

EDIT_OPERATIONS: tuple[str, ...] = ("transpose", "lyrics", "chord", "regenerate", "extend")
"""What the Edit tab can do to the chosen bars, or append after them (`seedmusic edit`'s
operations)."""


class JobError(Exception):
    """A user mistake, or work that cannot be done, as one line to show in the page."""


@dataclass(frozen=True)
class Limits:
    """What one request may ask for (`seedmusic serve` options)."""

    max_upload_mb: float = 50.0
    """Largest upload, in megabytes (Gradio refuses bigger files before they arrive)."""
    max_upload_seconds: float = 600.0
    """Longest recording to analyze or edit, in seconds."""
    max_lyrics_chars: int = 4000
    """Longest lyrics text."""

    def max_file_size(self) -> str:
        """`max_upload_mb` as Gradio's `launch(max_file_size=...)` wants it."""
        return f"{self.max_upload_mb:g}mb"


@dataclass(frozen=True)
class Song:
    """A song folder as `render`, `generate` and `edit` write it: `song.wav`, `score.json`,
    `score.png`, the other score files and, when rendered with stems, `stems/*.wav`."""

    folder: Path

    @property
    def wav(self) -> Path:
        return self.folder / "song.wav"

    @property
    def score_png(self) -> Path:
        return self.folder / "score.png"

    def stem(self, name: str) -> Path | None:
        """`stems/<name>.wav`, if it was written."""
        path = self.folder / "stems" / f"{name}.wav"
        return path if path.is_file() else None

    def downloads(self) -> list[Path]:
        """The files a user takes away: audio, MIDI, MusicXML, score JSON."""
        names = ("song.wav", "score.mid", "score.musicxml", "score.json")
        return [self.folder / name for name in names if (self.folder / name).is_file()]

    def summary(self) -> dict[str, Any]:
        """`summary.json` (empty when the folder has none)."""
        path = self.folder / "summary.json"
        return json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}

    def bar_count(self) -> int:
        """How many bars the song's score has."""
        return len(read_score(self.folder / "score.json").bar_starts())


@dataclass(frozen=True)
class Analysis:
    """What the Analyze tab shows: `analysis.json`, the score files, and the recording as a
    song folder that the Edit tab can start from."""

    folder: Path
    song: Song

    def document(self) -> dict[str, Any]:
        data: dict[str, Any] = json.loads((self.folder / "analysis.json").read_text("utf-8"))
        return data

    def downloads(self) -> list[Path]:
        names = ("analysis.json", "score.json", "score.mid", "score.musicxml", "tokens.json")
        return [self.folder / name for name in names if (self.folder / name).is_file()]


@dataclass(frozen=True)
class Edit:
    """An edit's result: the song before (A) and after (B), and the re-rendered spans."""

    before: Song
    after: Song
    spans: list[dict[str, Any]]
    """`edit.json`'s spans: `{"bars": [a, b], "start": s, "end": s}`, bars 1-based."""
    unchanged_seconds: float


def run_verb(argv: Sequence[str]) -> None:
    """Run `seedmusic ARGV` in this process with progress bars on; a usage mistake or bad
    input raises `JobError` with the CLI's one-line message."""
    logger.info("seedmusic %s", " ".join(argv))
    try:
        args = build_parser(RaisingParser).parse_args(list(argv))
        with forced_progress():
            args.func(args)
    except user_error_types() as exc:
        raise JobError(_message(exc)) from None


def _message(exc: BaseException) -> str:
    if isinstance(exc, OSError) and exc.filename:
        return f"{exc.strerror}: {Path(str(exc.filename)).name}"
    return str(exc)


@contextmanager
def gate_errors(*paths: Path | tuple[Path, str]) -> Iterator[None]:
    """A `UserError` of the input gate (`seedmusic.inputs`) raised inside becomes a `JobError`
    whose message names `paths` by file name only (the page never shows the server's folders),
    or by the name given with a path, as `(path, "song.wav (A, before)")`, where file names
    alone would not tell two files apart."""
    try:
        yield
    except UserError as exc:
        message = str(exc)
        for entry in paths:
            path, name = entry if isinstance(entry, tuple) else (entry, entry.name)
            message = message.replace(str(path), name)
        raise JobError(message) from None


def generate_song(
    folder: Path,
    lyrics: str,
    style: str = "",
    *,
    tempo: float | None = None,
    key: str | None = None,
    meter: str | None = None,
    prompt: str | None = None,
    seed: int = 0,
    renderer: str = "neural",
    adherence: bool = False,
    limits: Limits = Limits(),
) -> Song:
    """`seedmusic generate --stems` of `lyrics` and `style` into `folder/song`; with
    `adherence`, our MIR also measures how well the song keeps its score (slower)."""
    if not lyrics.strip():
        raise JobError("the lyrics are empty: type a few lines to sing")
    if len(lyrics) > limits.max_lyrics_chars:
        raise JobError(
            f"the lyrics have {len(lyrics)} characters; at most {limits.max_lyrics_chars}"
        )
    lyrics_file = folder / "lyrics.txt"
    lyrics_file.write_text(lyrics, encoding="utf-8")
    argv = ["generate", "--lyrics", str(lyrics_file), "--style", style or ""]
    argv += _optional("--tempo", tempo) + _optional("--key", key) + _optional("--meter", meter)
    argv += _optional("--prompt", prompt)
    argv += ["--seed", str(int(seed)), "--renderer", renderer, "--stems"]
    if not adherence:
        argv.append("--no-adherence")
    out = folder / "song"
    run_verb([*argv, "-o", str(out)])
    return Song(out)


def _optional(flag: str, value: object) -> list[str]:
    if value is None or (isinstance(value, str) and not value.strip()):
        return []
    return [flag, str(value)]


def check_upload(path: Path | None, limits: Limits) -> float:
    """The upload's duration in seconds; `JobError` when it is missing, not audio, too big or
    too long, or breaks a rule of the input gate (`seedmusic.inputs.probe_audio`)."""
    if path is None:
        raise JobError("upload a recording first (wav, flac or ogg)")
    path = Path(path)
    size_mb = path.stat().st_size / 1e6
    if size_mb > limits.max_upload_mb:
        raise JobError(
            f"{path.name} is {size_mb:.1f} MB; uploads are limited to {limits.max_upload_mb:g} MB"
        )
    try:
        info = sf.info(str(path))
    except (sf.LibsndfileError, RuntimeError):
        raise JobError(f"{path.name} is not audio that can be read (wav, flac, ogg, mp3)") from None
    if info.frames == 0 or info.samplerate <= 0:
        raise JobError(f"{path.name}: the audio is empty")
    seconds = info.frames / info.samplerate
    if seconds > limits.max_upload_seconds:
        raise JobError(
            f"{path.name} lasts {seconds:.0f} s; recordings are limited to "
            f"{limits.max_upload_seconds:g} s"
        )
    with gate_errors(path):
        probe_audio(path)
    return float(seconds)


def analyze_recording(
    folder: Path,
    upload: Path | None,
    lyrics: str = "",
    *,
    notes: bool = True,
    encoding: str = "remi",
    language: str = "en",
    limits: Limits = Limits(),
) -> Analysis:
    """`seedmusic analyze` of an uploaded recording into `folder/analysis` (`encoding`: the
    score tokens of `tokens.json`; `language`: of the lyrics), plus `folder/song`: the
    recording's samples as `song.wav` beside the analysis's score, the song folder that
    `seedmusic edit` re-renders bars of."""
    check_upload(upload, limits)
    assert upload is not None
    out = folder / "analysis"
    argv = ["analyze", str(upload), "-o", str(out), "--format", encoding, "--language", language]
    if lyrics.strip():
        lyrics_file = folder / "lyrics.txt"
        lyrics_file.write_text(lyrics, encoding="utf-8")
        argv += ["--lyrics", str(lyrics_file)]
    if not notes:
        argv.append("--no-notes")
    run_verb(argv)
    score = read_score(out / "score.json")
    _write_musicxml(score, out / "score.musicxml")
    return Analysis(out, _song_folder(folder / "song", Path(upload), out))


def _write_musicxml(score: Any, path: Path) -> None:
    try:
        notation_writer(score)(path)
    except Exception as exc:
        logger.warning("no MusicXML for this analysis: %s", exc)


def _song_folder(folder: Path, recording: Path, analysis: Path) -> Song:
    """A song folder holding `recording`'s samples (same rate, channels and sample format where
    WAV can hold it) and the analysis's score files."""
    with gate_errors(recording):
        source = read_source_audio(recording)
    folder.mkdir(parents=True)
    sf.write(
        str(folder / "song.wav"),
        source.samples.T,
        source.sample_rate,
        subtype=source.subtype,
        format="WAV",
    )
    for name in ("score.json", "score.mid", "score.png", "score.musicxml"):
        if (analysis / name).is_file():
            shutil.copyfile(analysis / name, folder / name)
    return Song(folder)


def edit_bars(
    folder: Path,
    song: Song | None,
    operation: str,
    first: int,
    last: int,
    value: str = "",
    *,
    seed: int = 0,
    style: str = "",
) -> Edit:
    """`seedmusic edit` of bars `first..last` (1-based) of `song` into `folder/song` (for
    `extend`, the bars are not used: `value` is `N[:WORDS]`, bars appended to the song)."""
    if song is None or not song.wav.is_file():
        raise JobError("no song yet: generate one, or load a recording, first")
    bars = "" if operation == "extend" else _bar_span(song, first, last)
    argv = ["edit", str(song.folder), f"--{operation}", _edit_spec(operation, bars, value)]
    argv += ["--seed", str(int(seed)), "--style", style or ""]
    out = folder / "song"
    run_verb([*argv, "-o", str(out)])
    result = json.loads((out / "edit.json").read_text(encoding="utf-8"))
    return Edit(song, Song(out), result["spans"], float(result["unchanged_seconds"]))


def _bar_span(song: Song, first: int, last: int) -> str:
    count = song.bar_count()
    a, b = int(first), int(last)
    if not 1 <= a <= b <= count:
        raise JobError(f"choose bars between 1 and {count} (first <= last); got {a}-{b}")
    return f"{a}" if a == b else f"{a}-{b}"


def _edit_spec(operation: str, bars: str, value: str) -> str:
    """The `--OPERATION` value `seedmusic edit` takes for `bars` and the page's `value`."""
    value = (value or "").strip()
    if operation == "regenerate":
        return bars
    if operation == "transpose":
        try:
            steps = int(float(value))
        except ValueError:
            raise JobError(f"transpose by a whole number of semitones, not {value!r}") from None
        if steps == 0:
            raise JobError("transpose by a number of semitones other than 0")
        return f"{bars}:{steps}"
    if operation == "lyrics":
        if not value:
            raise JobError("type the new words for the chosen bars")
        return f"{bars}:{value}"
    if operation == "chord":
        if not value:
            raise JobError("type a chord, like Am, G7 or F:maj7")
        return f"{bars.split('-')[0]}:{value}"
    if operation == "extend":
        count, colon, words = value.partition(":")
        if not count.strip().isdigit():
            raise JobError("extend by a number of bars, optionally with words: 4 or 4:new words")
        return f"{int(count)}{colon}{words.strip()}"
    raise JobError(f"unknown edit {operation!r} (one of {', '.join(EDIT_OPERATIONS)})")
