"""The input gate: every user file a verb or a web job reads comes in through here.

Each problem is one `UserError` (or `ScoreError`) line that names the file and what is wrong,
or a repair that is logged. The rules:

| input | rule | outcome |
|---|---|---|
| audio | missing, a folder, empty, not decodable | error |
| audio | sample rate outside `AUDIO_RATES` (8-192 kHz) | error |
| audio | more than `MAX_CHANNELS` (8) channels | error |
| audio | no samples, or shorter than `MIN_AUDIO_SECONDS` (50 ms) | error (says how long it is) |
| audio | a NaN or infinite sample | error (says how many) |
| audio | silent: every sample below `SILENCE_PEAK` (-80 dBFS) | warning; the verb goes on |
| audio | over `CLIP_SHARE` (1 %) of the samples at \\|x\\| >= `CLIP_LEVEL` | warning ("N % of samples are clipped") |
| audio | several channels read as mono; another rate than the verb's | downmix, resample: logged (INFO) |
| score | unreadable, malformed or illegal (`score_tokens` rules, e.g. tempo outside 1..1000 bpm) | error (the file named) |
| score | a MIDI file declaring more than `MAX_MIDI_TRACKS` (512) tracks | error, before it is parsed |
| score | a meter of more than `MAX_METER_NUMERATOR` (32) beats, or a bar shorter than a tick | error |
| score | longer than `MAX_BARS` (10,000) bars | error |
| score | notes of one pitch on one track that overlap | repaired (warning): the earlier one ends where the later starts; a second note on the same onset is dropped (its syllable kept) |
| score | no notes | error where the verb plays the score (`playable`), else fine |
| score | a tempo outside `PLAYABLE_TEMPOS` (20-400 bpm) | error where `playable`, else a warning |
| score | MIDI lyrics on no vocal note | dropped with a warning (`score_tokens.midi`) |
| tokens | not UTF-8 JSON, no known "encoding", "tokens" not strings, xVal "values" not as many numbers (not infinite) or nulls | error |
| codes `.npz` | not an npz, a key of `NPZ_KEYS` missing, codes not integers `[K, T]`, outside `[0, codebook_size)`, no frames | error |

Who reads through it: `analyze`, `render`/`generate --reference` and the web's A/B picture
(`read_audio`); `codec encode` (`probe_audio` on the header, then the codec's own reader, which
reads files over 10 minutes in blocks, then `check_audio`); `edit` SOURCE and the web's uploads
(`read_source_audio`, `probe_audio`); `score convert/show/edit`, `tokenize`, `render`,
`edit --score` and `compose --from` (`read_user_score`); `detokenize` (`read_token_file`);
`codec decode` (`read_codes_npz`).

Long audio is read without a second copy: `read_audio` keeps `mir.audio.load_audio`'s block-wise
downmix, and `check_audio` scans `SCAN_BLOCK` samples at a time.
"""

from __future__ import annotations

import json
import logging
import math
import os
import zipfile
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import soundfile

from mir.audio import FALLBACK_SUFFIXES as DECODER_SUFFIXES  # read by audioread, not soundfile
from mir.audio import Audio, load_audio
from mir.errors import AudioError
from score_tokens.errors import ScoreError
from score_tokens.io import read_score
from score_tokens.score import Score, repair_overlaps
from score_tokens.tokens_file import ENCODINGS
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

AUDIO_RATES: tuple[int, int] = (8_000, 192_000)
"""The sample rates read, in Hz (inclusive)."""
MAX_CHANNELS = 8
MIN_AUDIO_SECONDS = 0.05
"""Shorter audio is refused: less than one analysis frame of the MIR (2048 samples at 44.1 kHz)."""
SILENCE_PEAK = 1e-4
CLIP_LEVEL = 0.999
CLIP_SHARE = 0.01
WIDE_SUBTYPES: tuple[str, ...] = ("PCM_32", "DOUBLE")
"""Sample formats float32 cannot hold exactly: `read_source_audio` reads them as float64."""
SCAN_BLOCK = 1 << 20
"""Samples (per channel) that `check_audio` looks at in one go."""
EXACT_SUBTYPES: tuple[str, ...] = (
    "PCM_16",
    "PCM_24",
    "PCM_32",
    "FLOAT",
    "DOUBLE",
    "PCM_U8",
    "PCM_S8",
)
"""Sample formats that `read_source_audio` reports for writing back as read (else FLOAT)."""

PLAYABLE_TEMPOS: tuple[float, float] = (20.0, 400.0)
MAX_METER_NUMERATOR = 32
MAX_BARS = 10_000
MAX_MIDI_TRACKS = 512
NPZ_KEYS: tuple[str, ...] = ("codes", "sample_rate", "frame_rate", "codebook_size")


# ---------------------------------------------------------------------------------- audio


@dataclass(frozen=True)
class AudioInfo:
    """What an audio file's header says."""

    sample_rate: int
    channels: int
    frames: int
    subtype: str


@dataclass(frozen=True)
class SourceAudio:
    """A recording as its file holds it (`read_source_audio`).

    Attributes:
        samples: `[C, S]`, float64 for `WIDE_SUBTYPES`, else float32.
        sample_rate: the file's rate.
        subtype: the file's sample format where `EXACT_SUBTYPES` holds it, else "FLOAT".
    """

    samples: np.ndarray
    sample_rate: int
    subtype: str


def check_audio(samples: np.ndarray, rate: int, name: str) -> None:
    """Apply the audio rules (module docstring) to samples `[S]` or `[C, S]` at `rate`.

    Raises:
        UserError: `cannot read audio 'NAME': ...`.
    """
    if samples.ndim not in (1, 2):
        raise UserError(_audio(name, f"samples must be [S] or [C, S], got shape {samples.shape}"))
    channels = 1 if samples.ndim == 1 else int(samples.shape[0])
    _check_format(name, int(rate), channels, int(samples.shape[-1]))
    bad, peak, clipped = _scan(samples)
    if bad:
        raise UserError(_audio(name, f"{bad} of its samples are NaN or infinite"))
    if peak < SILENCE_PEAK:
        logger.warning("%s: the audio is silent (every sample below -80 dBFS)", name)
    elif clipped > CLIP_SHARE * samples.size:
        logger.warning(
            "%s: %.1f %% of samples are clipped (|x| >= %g)",
            name,
            100 * clipped / samples.size,
            CLIP_LEVEL,
        )


def probe_audio(path: str | os.PathLike[str]) -> AudioInfo | None:
    """The header of the audio file `path`, checked (rate, channels, length) before any sample
    is read; None for a compressed format that libsndfile cannot open but `read_audio`'s other
    decoder may.

    Raises:
        UserError: the file is missing, a folder, empty, not audio, or breaks a rule.
    """
    path = Path(path)
    name = str(path)
    if path.is_dir():
        raise UserError(_audio(name, "it is a folder, not a file"))
    if not path.is_file():
        raise UserError(_audio(name, "the file does not exist"))
    if path.stat().st_size == 0:
        raise UserError(_audio(name, "the file is empty"))
    try:
        info = soundfile.info(name)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        if path.suffix.lower() in DECODER_SUFFIXES:
            return None
        reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise UserError(_audio(name, f"not a readable audio file ({reason})")) from None
    _check_format(name, int(info.samplerate), int(info.channels), int(info.frames))
    return AudioInfo(int(info.samplerate), int(info.channels), int(info.frames), info.subtype)


def read_audio(
    path: str | os.PathLike[str], *, sample_rate: int | None = None, mono: bool = True
) -> Audio:
    """Read an audio file through the audio rules (`mir.audio.load_audio`: a file of several
    channels read as mono is mixed block by block, never held whole).

    Args:
        path: wav, flac, ogg (mp3 and others where a decoder exists).
        sample_rate: resample to this rate (logged); None keeps the file's.
        mono: the channel average `[S]` (logged when there were several); else `[C, S]`.

    Raises:
        UserError: what is wrong, in one line (`cannot read audio 'PATH': ...`).
    """
    name = str(path)
    info = probe_audio(path)
    try:
        audio = load_audio(path, mono=mono and info is not None)  # all channels: to count them
    except AudioError as exc:
        raise UserError(str(exc)) from None
    check_audio(audio.samples, audio.sample_rate, name)
    channels = info.channels if info is not None else 1 if audio.is_mono else len(audio.samples)
    if mono:
        audio = audio.to_mono()
        if channels > 1:
            logger.info("%s: mixed %d channels down to mono", name, channels)
    if sample_rate is not None and sample_rate != audio.sample_rate:
        logger.info("%s: resampled from %d Hz to %d Hz", name, audio.sample_rate, sample_rate)
        audio = audio.resample(sample_rate)
    return audio


def read_source_audio(path: str | os.PathLike[str]) -> SourceAudio:
    """Read a recording as its file holds it (rate, channels, sample values: float64 for
    `WIDE_SUBTYPES`, else float32, which holds every 8-, 16- and 24-bit and float sample
    exactly at half the memory), through the audio rules: what `edit` copies sample for sample.

    Raises:
        UserError: what is wrong, in one line.
    """
    name = str(path)
    info = probe_audio(path)
    if info is None:
        raise UserError(_audio(name, "libsndfile cannot decode it; convert it to wav or flac"))
    dtype = "float64" if info.subtype in WIDE_SUBTYPES else "float32"
    try:
        data, rate = soundfile.read(name, dtype=dtype, always_2d=True)  # [S, C]
    except (soundfile.LibsndfileError, RuntimeError) as exc:
        raise UserError(_audio(name, f"not a readable audio file ({exc})")) from None
    samples = data.T  # [C, S]
    check_audio(samples, int(rate), name)
    subtype = info.subtype if info.subtype in EXACT_SUBTYPES else "FLOAT"
    return SourceAudio(samples, int(rate), subtype)


def _audio(name: str, what: str) -> str:
    return f"cannot read audio {name!r}: {what}"


def _check_format(name: str, rate: int, channels: int, frames: int) -> None:
    low, high = AUDIO_RATES
    if not low <= rate <= high:
        raise UserError(_audio(name, f"its sample rate {rate} Hz is outside {low}..{high} Hz"))
    if not 1 <= channels <= MAX_CHANNELS:
        raise UserError(_audio(name, f"it has {channels} channels; at most {MAX_CHANNELS}"))
    if frames <= 0:
        raise UserError(_audio(name, "it holds no samples (zero length)"))
    if frames < math.ceil(MIN_AUDIO_SECONDS * rate):
        raise UserError(
            _audio(
                name,
                f"it lasts {1000 * frames / rate:.2g} ms ({frames} samples at {rate} Hz); "
                f"audio must last at least {1000 * MIN_AUDIO_SECONDS:g} ms",
            )
        )


def _scan(samples: np.ndarray) -> tuple[int, float, int]:
    """`(non-finite samples, peak |x|, samples at |x| >= CLIP_LEVEL)`, `SCAN_BLOCK` at a time."""
    bad, peak, clipped = 0, 0.0, 0
    for start in range(0, samples.shape[-1], SCAN_BLOCK):
        block = samples[..., start : start + SCAN_BLOCK]
        finite = int(np.count_nonzero(np.isfinite(block)))
        if finite < block.size:
            bad += block.size - finite
            continue
        magnitude = np.abs(block)
        peak = max(peak, float(magnitude.max()))
        clipped += int(np.count_nonzero(magnitude >= CLIP_LEVEL))
    return bad, peak, clipped


# ---------------------------------------------------------------------------------- scores


def read_user_score(path: str | os.PathLike[str], *, playable: bool = False) -> Score:
    """`score_tokens.io.read_score` of `path` plus the score rules (module docstring).

    Args:
        path: .mid, .midi, .musicxml, .xml, .mxl or .json.
        playable: the verb plays the score (render, edit, compose --from): a score without notes
            or with a tempo outside `PLAYABLE_TEMPOS` is refused rather than passed on.

    Returns:
        The validated score, overlapping notes repaired.

    Raises:
        ScoreError: `score_tokens` cannot read it (the message names the file).
        UserError: it breaks a rule of the gate.
    """
    path = Path(path)
    name = str(path)
    _check_midi_tracks(path)
    try:
        score = read_score(path)
    except ScoreError as exc:
        message = str(exc)
        if name not in message and repr(path.name) not in message:
            message = f"{name}: {message}"
        raise ScoreError(message) from None
    except (OSError, ValueError) as exc:  # what a parser raises past score_tokens' own checks
        raise UserError(f"cannot read {name!r} as a score ({exc})") from None
    _check_time(score, name)
    _check_tempos(score, name, playable)
    if playable and score.num_notes() == 0:
        raise UserError(f"{name}: the score has no notes")
    _repair_overlaps(score, name)
    return score


def _check_midi_tracks(path: Path) -> None:
    if path.suffix.lower() not in (".mid", ".midi") or not path.is_file():
        return
    with open(path, "rb") as handle:
        head = handle.read(14)  # MThd, length, format, track count, division
    if len(head) == 14 and head[:4] == b"MThd":
        tracks = int.from_bytes(head[10:12], "big")
        if tracks > MAX_MIDI_TRACKS:
            raise UserError(
                f"{path}: the MIDI file has {tracks} tracks; at most {MAX_MIDI_TRACKS} are read"
            )


def _check_time(score: Score, name: str) -> None:
    """Meters and length: before anything walks the bars (a bar of 0 ticks never ends)."""
    for ts in score.time_signatures:
        meter = f"time signature {ts.numerator}/{ts.denominator} at tick {ts.tick}"
        if ts.numerator > MAX_METER_NUMERATOR:
            raise UserError(
                f"{name}: {meter}: more than {MAX_METER_NUMERATOR} beats to the bar is not a meter"
            )
        if score.bar_length(ts) < 1:
            raise UserError(
                f"{name}: {meter}: its bar is shorter than one tick at "
                f"{score.ticks_per_beat} ticks per beat"
            )
    bars = _bar_count(score)
    if bars > MAX_BARS:
        raise UserError(f"{name}: the score runs to about {bars} bars; at most {MAX_BARS}")


def _bar_count(score: Score) -> int:
    """About as many bars as `Score.bar_starts` gives, counted per meter without walking them."""
    end = score.end_tick if score.end_tick is not None else score.last_event_tick()
    signatures = sorted(score.time_signatures, key=lambda ts: ts.tick)
    count = 0
    for ts, following in zip(signatures, [*signatures[1:], None], strict=True):
        stop = end if following is None else min(end, following.tick)
        if stop > ts.tick:
            count += -(-(stop - ts.tick) // score.bar_length(ts))
    return max(count, 1)


def _check_tempos(score: Score, name: str, playable: bool) -> None:
    low, high = PLAYABLE_TEMPOS
    odd = [tempo for tempo in score.tempos if not low <= tempo.bpm <= high]
    if not odd:
        return
    message = (
        f"{name}: tempo {odd[0].bpm:g} bpm at tick {odd[0].tick} is outside {low:g}..{high:g} bpm"
    )
    if playable:
        raise UserError(message)
    logger.warning("%s (%d such tempo marks, kept)", message, len(odd))


def _repair_overlaps(score: Score, name: str) -> None:
    """End each note where the next note of its pitch on its track starts (`repair_overlaps`,
    in place, logged)."""
    repaired = repair_overlaps(score)
    if repaired:
        parts = []
        for what, index in (
            ("ended where the next starts", 0),
            ("dropped, a second on one onset", 1),
        ):
            counts = [
                f"{track} {found[index]}" for track, found in repaired.items() if found[index]
            ]
            if counts:
                parts.append(f"{what}: {', '.join(counts)}")
        logger.warning("%s: notes of one pitch overlapped on a track; %s", name, "; ".join(parts))


# ---------------------------------------------------------------------------------- tokens


def read_token_file(path: str | os.PathLike[str]) -> dict[str, Any]:
    """A token file (`score_tokens.tokens_file`), its shape checked.

    Raises:
        FileNotFoundError: there is no such file.
        UserError: what is wrong with it.
    """
    path = Path(path)
    if not path.is_file():
        raise FileNotFoundError(f"no such token file: {path}")
    try:
        document = json.loads(path.read_text(encoding="utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise UserError(f"{path} is not a JSON token file: {exc}") from None
    if not isinstance(document, dict) or document.get("encoding") not in ENCODINGS:
        raise UserError(f'{path}: expected an object with "encoding" one of {list(ENCODINGS)}')
    tokens = document.get("tokens")
    if not isinstance(tokens, list) or not all(isinstance(t, str) for t in tokens):
        raise UserError(f'{path}: "tokens" must be a list of strings')
    if document["encoding"] == "xval":
        values = document.get("values")
        if not isinstance(values, list) or len(values) != len(tokens):
            raise UserError(f'{path}: xval "values" must be a list as long as "tokens"')
        if not all(v is None or _not_infinite(v) for v in values):
            raise UserError(f'{path}: xval "values" must be numbers (not infinite) or null')
    return document


def _not_infinite(value: object) -> bool:
    """A JSON number that is not infinite (NaN reads as null: a token without a number)."""
    return isinstance(value, int | float) and not isinstance(value, bool) and not math.isinf(value)


# ---------------------------------------------------------------------------------- codes


def read_codes_npz(path: str | os.PathLike[str]) -> dict[str, np.ndarray]:
    """The arrays of a codes `.npz` written by `codec encode` (`NPZ_KEYS`, maybe
    `num_samples`), checked against its own codebook size.

    Raises:
        UserError: a missing, corrupt or incomplete file, or codes it cannot hold.
    """
    path = Path(path)
    if not path.is_file():
        raise UserError(f"{path}: no such file")
    try:
        with np.load(path, allow_pickle=False) as npz:
            data = {key: npz[key] for key in npz.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise UserError(f"{path}: not a codes .npz file ({exc})") from None
    missing = [key for key in NPZ_KEYS if key not in data]
    if missing:
        raise UserError(f"{path}: missing {', '.join(missing)}")
    codes = data["codes"]
    if codes.ndim != 2 or not np.issubdtype(codes.dtype, np.integer):
        raise UserError(
            f"{path}: codes must be integers of shape [K, T], got {codes.dtype} {codes.shape}"
        )
    if codes.shape[1] == 0:
        raise UserError(f"{path}: the codes hold no frames")
    for key in (*NPZ_KEYS[1:], "num_samples"):
        if key in data and not _one_number(data[key]):
            raise UserError(f"{path}: {key} must be one number, got {data[key]!r}")
    size = int(data["codebook_size"])
    low, high = int(codes.min()), int(codes.max())
    if low < 0 or high >= size:
        raise UserError(
            f"{path}: codes must lie in [0, {size}) (its codebook size), got [{low}, {high}]"
        )
    return data


def _one_number(array: np.ndarray) -> bool:
    return (
        array.shape == ()
        and (np.issubdtype(array.dtype, np.integer) or np.issubdtype(array.dtype, np.floating))
        and bool(np.isfinite(array))
    )
