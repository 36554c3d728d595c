"""Reading audio files into float32 arrays, down-mixing and resampling.

`load_audio` reads wav/flac/ogg (and mp3 where libsndfile supports it) with soundfile, falls
back to librosa's audioread backend for other compressed formats, and turns every failure a user
can cause into one `AudioError` line. Resampling uses librosa with the soxr backend.
"""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import soundfile

from mir.errors import AudioError

logger = logging.getLogger(__name__)

FALLBACK_SUFFIXES: tuple[str, ...] = (".mp3", ".m4a", ".aac", ".wma", ".opus")
"""Formats that librosa's audioread fallback may decode when libsndfile cannot."""


@dataclass(frozen=True)
class Audio:
    """A waveform and its sample rate.

    Attributes:
        samples: float32, `[S]` for mono or `[C, S]` for multi-channel audio.
        sample_rate: samples per second.
    """

    samples: np.ndarray
    sample_rate: int

    def __post_init__(self) -> None:
        if self.samples.ndim not in (1, 2):
            raise AudioError(f"audio must be [S] or [C, S], got shape {self.samples.shape}")
        if self.sample_rate <= 0:
            raise AudioError(f"sample rate must be positive, got {self.sample_rate}")

    @property
    def num_samples(self) -> int:
        return int(self.samples.shape[-1])

    @property
    def duration(self) -> float:
        """Length in seconds."""
        return self.num_samples / self.sample_rate

    @property
    def is_mono(self) -> bool:
        return self.samples.ndim == 1

    def to_mono(self) -> Audio:
        """The channel average as `[S]` (unchanged when already mono)."""
        if self.is_mono:
            return self
        return Audio(
            np.ascontiguousarray(self.samples.mean(axis=0), dtype=np.float32), self.sample_rate
        )

    def resample(self, sample_rate: int) -> Audio:
        """This audio at `sample_rate` (librosa, soxr high quality); unchanged if already there."""
        if sample_rate == self.sample_rate:
            return self
        if sample_rate <= 0:
            raise AudioError(f"sample rate must be positive, got {sample_rate}")
        import librosa

        resampled = librosa.resample(
            self.samples,
            orig_sr=self.sample_rate,
            target_sr=sample_rate,
            res_type="soxr_hq",
            axis=-1,
        )
        return Audio(np.ascontiguousarray(resampled, dtype=np.float32), sample_rate)


def load_audio(
    path: str | os.PathLike[str], sample_rate: int | None = None, mono: bool = True
) -> Audio:
    """Read an audio file.

    Args:
        path: a wav, flac, ogg (or mp3 where a decoder exists) file.
        sample_rate: resample to this rate; None keeps the file's rate.
        mono: average the channels into `[S]`; otherwise samples are `[C, S]`.

    Returns:
        The `Audio`, float32 in [-1, 1] for PCM files.

    Raises:
        AudioError: the file is missing, a folder, empty, not decodable, holds no samples or
            holds NaN or infinite samples.
    """
    path = Path(path)
    _check_file(path)
    samples, file_rate = _decode(path, mono)
    if samples.shape[-1] == 0:
        raise AudioError(f"cannot read audio {str(path)!r}: it holds no samples (zero length)")
    bad = int(np.count_nonzero(~np.isfinite(samples)))
    if bad:
        raise AudioError(
            f"cannot read audio {str(path)!r}: {bad} of its samples are NaN or infinite"
        )
    audio = Audio(samples, file_rate)
    if mono:
        audio = audio.to_mono()
    if sample_rate is not None:
        audio = audio.resample(sample_rate)
    logger.debug(
        "loaded %s: %.2f s at %d Hz, shape %s",
        path,
        audio.duration,
        audio.sample_rate,
        audio.samples.shape,
    )
    return audio


def _check_file(path: Path) -> None:
    if path.is_dir():
        raise AudioError(f"cannot read audio {str(path)!r}: it is a folder, not a file")
    if not path.exists():
        raise AudioError(f"cannot read audio {str(path)!r}: the file does not exist")
    if path.stat().st_size == 0:
        raise AudioError(f"cannot read audio {str(path)!r}: the file is empty")


DOWNMIX_BLOCK_FRAMES = 1 << 20
"""Multi-channel files read for mono are read and averaged this many frames at a time, so an
hour of 44.1 kHz stereo never sits in memory whole (0.6 GB as float32) beside its mono mix."""


def _decode(path: Path, mono: bool = False) -> tuple[np.ndarray, int]:
    """Samples float32 (`[S]` with `mono`, else `[C, S]`) and the sample rate, via soundfile,
    else librosa/audioread. A NaN or infinite sample of any channel stays non-finite in the mix."""
    try:
        if mono:
            return _decode_mono(path)
        data, rate = soundfile.read(str(path), dtype="float32", always_2d=True)  # [S, C]
        return np.ascontiguousarray(data.T), int(rate)
    except (soundfile.LibsndfileError, RuntimeError, TypeError) as exc:
        soundfile_reason = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
    if path.suffix.lower() not in FALLBACK_SUFFIXES:
        raise AudioError(
            f"cannot read audio {str(path)!r}: not a readable audio file ({soundfile_reason})"
        )
    return _decode_with_audioread(path)


def _decode_mono(path: Path) -> tuple[np.ndarray, int]:
    """The channel average `[S]` float32, read block by block (see `DOWNMIX_BLOCK_FRAMES`) into
    one array of the file's length (grown if the file holds more frames than it declares)."""
    with soundfile.SoundFile(str(path)) as handle:
        rate = int(handle.samplerate)
        mono = np.empty(max(int(handle.frames), 0), dtype=np.float32)  # [S]
        filled = 0
        for block in handle.blocks(DOWNMIX_BLOCK_FRAMES, dtype="float32", always_2d=True):
            mixed = block.mean(axis=1, dtype=np.float32)  # [frames]
            if filled + len(mixed) > len(mono):
                mono = np.concatenate([mono[:filled], np.empty(len(mixed), dtype=np.float32)])
            mono[filled : filled + len(mixed)] = mixed
            filled += len(mixed)
    return mono[:filled], rate


def _decode_with_audioread(path: Path) -> tuple[np.ndarray, int]:
    import warnings

    import librosa

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            data, rate = librosa.load(str(path), sr=None, mono=False)
    except (
        Exception
    ) as exc:  # audioread raises many unrelated types (NoBackendError, EOFError, ...)
        raise AudioError(
            f"cannot read audio {str(path)!r}: no decoder for {path.suffix} could read it "
            f"({type(exc).__name__}); convert it to wav or flac"
        ) from None
    samples = np.atleast_2d(np.asarray(data, dtype=np.float32))  # [C, S]
    return samples, int(rate)
