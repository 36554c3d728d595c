"""The bass as a downbeat cue: on a bar's first beat the bass plays the chord's root.

Bass lines that alternate root and fifth (country, folk, march, polka, waltz), or move from
the root through passing notes, put the root on the bar line more often than on any other beat;
in the open corpus's scores no style puts it anywhere else more often (walking and riff basses
play it on every beat, which leaves the cue neutral). Drum grooves are a weaker guide: MMA's
folk-rock groove (snare on beats 2 and 3) makes madmom's network hear beat 3 as the downbeat.

`bass_chroma(signal)` is the energy of the bass register (MIDI `BASS_LOWEST`..`BASS_HIGHEST`,
41-196 Hz) folded onto the 12 pitch classes, `BASS_FPS` frames per second; frame `j` is the
spectrum of the `BASS_WINDOW` seconds from `j / BASS_FPS`, so it hears the note that starts
there. `root_agreement(times, period, chroma, bass)` is, at each time, the share of the bass
energy on the root of the triad that best matches the deep chroma of the following beat.
"""

from __future__ import annotations

import numpy as np

from mir._madmom import CHROMA_FPS, MADMOM_SAMPLE_RATE

BASS_SAMPLE_RATE = 11025
BASS_FPS = 25
BASS_FFT = 4096
"""0.37 s windows: 2.7 Hz bins resolve the semitones from about 40 Hz up."""
BASS_WINDOW = BASS_FFT / BASS_SAMPLE_RATE
BASS_LOWEST, BASS_HIGHEST = 28, 55
"""MIDI range of bass fundamentals (E1 to G3)."""
_MAJOR = np.array([1, 0, 0, 0, 1, 0, 0, 1, 0, 0, 0, 0], dtype=np.float64)
_MINOR = np.array([1, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 0], dtype=np.float64)
TRIADS = np.stack([np.roll(_MAJOR, r) for r in range(12)] + [np.roll(_MINOR, r) for r in range(12)])
"""`[24, 12]` major then minor triad templates; row `i` has root `i % 12`."""


def bass_chroma(signal: np.ndarray) -> np.ndarray:
    """Bass-register energy per pitch class of a 44.1 kHz mono `signal` `[S]`.

    Returns:
        `[frames, 12]` at `BASS_FPS`; frame `j` covers `BASS_WINDOW` seconds from `j / BASS_FPS`.
    """
    from scipy.signal import resample_poly

    factor = MADMOM_SAMPLE_RATE // BASS_SAMPLE_RATE
    # float32 throughout: an hour of 44.1 kHz audio is 0.6 GB as float32, twice that as float64
    samples = resample_poly(np.asarray(signal, dtype=np.float32), 1, factor)  # float32
    hop = BASS_SAMPLE_RATE // BASS_FPS
    frames = -(-len(samples) // hop)
    padding = np.zeros(frames * hop + BASS_FFT - len(samples), dtype=samples.dtype)
    samples = np.concatenate([samples, padding])
    freqs = np.fft.rfftfreq(BASS_FFT, 1.0 / BASS_SAMPLE_RATE)[1:]
    midi = 69.0 + 12.0 * np.log2(freqs / 440.0)
    bins = np.flatnonzero((midi >= BASS_LOWEST - 0.5) & (midi < BASS_HIGHEST + 0.5)) + 1
    fold = np.zeros((len(bins), 12))
    fold[np.arange(len(bins)), np.round(midi[bins - 1]).astype(int) % 12] = 1.0
    window = np.hanning(BASS_FFT)
    out = np.zeros((frames, 12))
    for start in range(0, frames, 256):  # bounded memory: 256 frames at a time
        index = np.arange(start, min(frames, start + 256))
        block = np.stack([samples[i * hop : i * hop + BASS_FFT] for i in index]) * window
        power = np.abs(np.fft.rfft(block, axis=1)[:, bins]) ** 2  # [frames, bins]
        out[index] = power @ fold
    return out


def root_agreement(
    times: np.ndarray, period: float, chroma: np.ndarray, bass: np.ndarray
) -> np.ndarray:
    """At each time, the share of the bass energy on the root of the harmony that follows.

    Args:
        times: `[T]` seconds.
        period: the beat period in seconds: the harmony is the mean deep chroma of
            `[t, t + period)`.
        chroma: `[C, 12]` deep chroma at `CHROMA_FPS`.
        bass: `[B, 12]` from `bass_chroma`.

    Returns:
        `[T]` in [0, 1]; 0 where there is no bass or no chroma.
    """
    out = np.zeros(len(times))
    if len(chroma) == 0 or len(bass) == 0:
        return out
    for i, time in enumerate(np.asarray(times, dtype=np.float64)):
        lo = int(np.ceil(time * CHROMA_FPS))
        hi = max(lo + 1, int(np.ceil((time + period) * CHROMA_FPS)))
        frame = round(float(time) * BASS_FPS)
        if lo >= len(chroma) or not 0 <= frame < len(bass):
            continue
        root = int(np.argmax(TRIADS @ chroma[lo:hi].mean(axis=0))) % 12
        energy = bass[frame]
        total = float(energy.sum())
        out[i] = float(energy[root]) / total if total > 0 else 0.0
    return out
