"""The baselines of `benchmarks.mir`: madmom alone, librosa's `beat_track`, a chroma-template
chord and key recognizer, and basic-pitch.

Each takes what the benchmark hands it (an `Audio` or a file path) and returns plain events, so
that the benchmark scores every system with the same `mir.evaluate` code.
"""

from __future__ import annotations

import contextlib
import functools
import io
import logging
import warnings
from pathlib import Path
from typing import Any

import librosa
import numpy as np
from numpy.lib.stride_tricks import sliding_window_view

from mir.audio import Audio
from mir.evaluate import NoteEvents
from mir.harmony import ChordSequence, chord_template, crf_triads
from mir.rhythm import ACTIVATION_FPS, decode_downbeats, downbeat_activations
from score_tokens.midi import Mode, key_name
from score_tokens.score import Chord


def madmom_beats(audio: Audio) -> tuple[list[float], list[float]]:
    """Beats and downbeats of madmom's RNN + DBN (3 or 4 beats per bar), nothing else."""
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor, RNNDownBeatProcessor

    from mir._madmom import madmom_signal

    signal = madmom_signal(audio)
    activations = downbeat_activations(signal, RNNDownBeatProcessor())  # [F, 2]
    tracker = DBNDownBeatTrackingProcessor(beats_per_bar=[3, 4], fps=ACTIVATION_FPS)
    decoded = decode_downbeats(activations, tracker)  # [beats, 2]: time, position
    return decoded[:, 0].tolist(), decoded[decoded[:, 1] == 1, 0].tolist()


def warm_up_librosa() -> None:
    """Compile librosa's numba beat tracker now, so its JIT time is not counted on a piece."""
    noise = np.random.default_rng(0).standard_normal(5 * CHROMA_SAMPLE_RATE).astype(np.float32)
    librosa.beat.beat_track(y=noise, sr=CHROMA_SAMPLE_RATE)


def librosa_beats(audio: Audio) -> tuple[float, list[float]]:
    """Tempo (bpm) and beat times of librosa's `beat_track` at 22.05 kHz."""
    y = audio.to_mono().resample(CHROMA_SAMPLE_RATE).samples
    tempo, beats = librosa.beat.beat_track(y=y, sr=CHROMA_SAMPLE_RATE, units="time")
    return float(np.atleast_1d(tempo)[0]), [float(t) for t in beats]


def madmom_chords(audio: Audio) -> list[tuple[float, float, str]]:
    """Major/minor chord segments of madmom's CNN features + CRF, labels as `mir.harmony` spells
    them (without the sevenths `mir.harmony.recognize_chords` adds)."""
    from mir._madmom import madmom_signal

    return list(ChordSequence.from_segments(crf_triads(madmom_signal(audio))).segments)


CHROMA_SAMPLE_RATE = 22050
CHROMA_HOP = 2048
"""~10.8 chroma frames per second (a CQT hop must be a multiple of 2^(octaves - 1))."""
CHROMA_MEDIAN_FRAMES = 9
SILENCE_DB = 40.0
MAJOR_PROFILE = np.array([6.35, 2.23, 3.48, 2.33, 4.38, 4.09, 2.52, 5.19, 2.39, 3.66, 2.29, 2.88])
MINOR_PROFILE = np.array([6.33, 2.68, 3.52, 5.38, 2.60, 3.53, 2.54, 4.75, 3.98, 2.69, 3.34, 3.17])
"""Krumhansl-Kessler key profiles, tonic first."""


def chord_templates() -> tuple[np.ndarray, list[str]]:
    """24 unit-norm binary triads `[24, 12]` and their labels (`C:maj` ... `B:min`)."""
    triads = [(root, quality) for quality in ("maj", "min") for root in range(12)]
    templates = np.stack([chord_template(root, quality) for root, quality in triads])
    return templates, [Chord(0, 1, root, quality).label for root, quality in triads]


def template_chords(audio: Audio) -> tuple[list[tuple[float, float, str]], str]:
    """Chord segments (mir_eval labels) and key of `audio` by template matching.

    Returns:
        The chord segments covering the clip and a key like "A minor".
    """
    y = audio.to_mono().resample(CHROMA_SAMPLE_RATE).samples
    chroma = librosa.feature.chroma_cqt(
        y=y, sr=CHROMA_SAMPLE_RATE, hop_length=CHROMA_HOP
    )  # [12, T]
    rms = librosa.feature.rms(y=y, frame_length=2 * CHROMA_HOP, hop_length=CHROMA_HOP)[0]  # [T]
    frames = min(chroma.shape[1], rms.size)
    chroma, rms = chroma[:, :frames], rms[:frames]
    loudness = librosa.amplitude_to_db(rms, ref=np.max(rms) if rms.size and rms.max() > 0 else 1)
    sounding = loudness > -SILENCE_DB
    templates, labels = chord_templates()
    unit = chroma / (np.linalg.norm(chroma, axis=0, keepdims=True) + 1e-9)
    similarity = templates @ unit  # [24, T]
    similarity[:, ~sounding] = np.nan  # silent frames do not vote in the median
    half = CHROMA_MEDIAN_FRAMES // 2
    windows = sliding_window_view(
        np.pad(similarity, ((0, 0), (half, half)), mode="edge"), CHROMA_MEDIAN_FRAMES, axis=1
    )  # [24, T, CHROMA_MEDIAN_FRAMES]
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # all-silent windows
        smoothed = np.nanmedian(windows, axis=-1)
    best = np.argmax(np.nan_to_num(smoothed, nan=-1.0), axis=0)  # [T]
    frame_seconds = CHROMA_HOP / CHROMA_SAMPLE_RATE
    segments = []
    for t in range(frames):  # frame t is centred on t * hop
        start = max(0.0, (t - 0.5) * frame_seconds)
        end = min(audio.duration, (t + 0.5) * frame_seconds)
        segments.append((start, end, labels[best[t]] if sounding[t] else "N"))
    if segments and segments[-1][1] < audio.duration:
        segments[-1] = (segments[-1][0], audio.duration, segments[-1][2])
    mean = chroma[:, sounding].mean(axis=1) if sounding.any() else np.ones(12)
    return list(ChordSequence.from_segments(segments).segments), profile_key(mean)


def profile_key(chroma: np.ndarray) -> str:
    """Krumhansl-Schmuckler: the key whose rotated profile correlates best with `chroma [12]`."""
    profiles: tuple[tuple[Mode, np.ndarray], ...] = (
        ("major", MAJOR_PROFILE),
        ("minor", MINOR_PROFILE),
    )
    scores = [
        (float(np.corrcoef(chroma, np.roll(profile, tonic))[0, 1]), tonic, mode)
        for mode, profile in profiles
        for tonic in range(12)
    ]
    _, tonic, mode = max(scores, key=lambda s: -np.inf if np.isnan(s[0]) else s[0])
    return key_name(tonic, mode)


@functools.cache
def basic_pitch_model() -> Any:
    """basic-pitch's ONNX model with a single-threaded onnxruntime session."""
    import onnxruntime as ort

    logging.disable(logging.WARNING)  # basic-pitch warns at import about TF/CoreML/TFLite
    try:
        from basic_pitch import FilenameSuffix, build_icassp_2022_model_path
        from basic_pitch.inference import Model
    finally:
        logging.disable(logging.NOTSET)
    path = build_icassp_2022_model_path(FilenameSuffix.onnx)
    model = Model(path)
    options = ort.SessionOptions()
    options.intra_op_num_threads = options.inter_op_num_threads = 1
    model.model = ort.InferenceSession(str(path), options, providers=["CPUExecutionProvider"])
    return model


def basic_pitch_notes(path: Path) -> NoteEvents:
    """basic-pitch's notes (start s, end s, MIDI pitch) of an audio file, default thresholds."""
    from basic_pitch.inference import predict

    with contextlib.redirect_stdout(io.StringIO()):  # it prints "Predicting MIDI for ..."
        _, _, events = predict(str(path), model_or_model_path=basic_pitch_model())
    return sorted((float(start), float(end), int(pitch)) for start, end, pitch, *_ in events)
