"""Chords and key with madmom's CNN models.

- `recognize_chords`: `CNNChordFeatureProcessor` (a CNN over a log-filtered spectrogram, 10
  frames per second) and `CRFChordRecognitionProcessor` (a linear-chain CRF over 24 major/minor
  chords plus no-chord). Labels come back in mir_eval syntax with the project's spelling of
  roots (`Eb:maj`, `F#:min`, `N`).
- `recognize_key`: `CNNKeyRecognitionProcessor` (24 major/minor keys), spelled like
  `score_tokens` keys ("A minor", "Eb major").
"""

from __future__ import annotations

import logging
from collections.abc import Iterator, Sequence
from dataclasses import dataclass

from mir._madmom import is_too_quiet_or_short, madmom_signal
from mir.audio import Audio
from score_tokens.midi import key_name, parse_chord_label, parse_key
from score_tokens.score import Chord

logger = logging.getLogger(__name__)

MIN_SECONDS = 0.5
"""Shorter clips get no chords (the CNN's context window is about 1.5 s)."""
DEFAULT_KEY = "C major"


@dataclass(frozen=True)
class ChordSequence:
    """Chord segments `(start s, end s, label)` in mir_eval syntax; `N` is no chord."""

    segments: tuple[tuple[float, float, str], ...] = ()

    def __iter__(self) -> Iterator[tuple[float, float, str]]:
        return iter(self.segments)

    def __len__(self) -> int:
        return len(self.segments)

    @property
    def labels(self) -> list[str]:
        return [label for _, _, label in self.segments]

    @classmethod
    def from_segments(cls, segments: Sequence[tuple[float, float, str]]) -> ChordSequence:
        """Normalise labels, drop empty segments and merge neighbours with the same label."""
        merged: list[tuple[float, float, str]] = []
        for start, end, label in segments:
            start, end, label = float(start), float(end), normalize_chord_label(str(label))
            if end <= start:
                continue
            if merged and merged[-1][2] == label and abs(merged[-1][1] - start) < 1e-6:
                merged[-1] = (merged[-1][0], end, label)
            else:
                merged.append((start, end, label))
        return cls(tuple((round(s, 4), round(e, 4), lab) for s, e, lab in merged))


def normalize_chord_label(label: str) -> str:
    """A chord label in mir_eval syntax with the project's root spelling ("A#:maj" -> "Bb:maj")."""
    root, quality = parse_chord_label(label)
    return Chord(0, 1, root, quality).label


def normalize_key(label: str) -> str:
    """A key name with the project's spelling ("D# minor" -> "Eb minor")."""
    pitch_class, mode = parse_key(label)
    return key_name(pitch_class, mode)


def recognize_chords(audio: Audio) -> ChordSequence:
    """Major/minor chords over time.

    Args:
        audio: any sample rate, mono or multi-channel.

    Returns:
        The chord segments covering the clip; silence is one `N` segment, an empty or very
        short clip gives no segments.
    """
    if audio.duration < MIN_SECONDS:
        logger.info("audio shorter than %.1f s: no chords recognised", MIN_SECONDS)
        return ChordSequence()
    if is_too_quiet_or_short(audio, MIN_SECONDS):
        return ChordSequence(((0.0, round(audio.duration, 4), "N"),))
    from madmom.features.chords import CNNChordFeatureProcessor, CRFChordRecognitionProcessor

    signal = madmom_signal(audio)
    features = CNNChordFeatureProcessor()(signal)  # [frames, 128] at 10 fps
    decoded = CRFChordRecognitionProcessor()(features)  # structured array: start, end, label
    segments = [(float(row["start"]), float(row["end"]), str(row["label"])) for row in decoded]
    chords = ChordSequence.from_segments(segments)
    logger.debug("recognised %d chord segments", len(chords))
    return chords


def recognize_key(audio: Audio) -> str:
    """The global key, e.g. "A minor"; `DEFAULT_KEY` for silence or clips that are too short."""
    if is_too_quiet_or_short(audio, MIN_SECONDS):
        logger.info("audio is silent or too short: key defaults to %s", DEFAULT_KEY)
        return DEFAULT_KEY
    from madmom.features.key import CNNKeyRecognitionProcessor, key_prediction_to_label

    signal = madmom_signal(audio)
    prediction = CNNKeyRecognitionProcessor()(signal)  # [1, 24] probabilities
    return normalize_key(str(key_prediction_to_label(prediction)))
