from __future__ import annotations

import mir_eval
import numpy as np
import pytest

from mir.audio import Audio
from mir.harmony import (
    ChordSequence,
    normalize_chord_label,
    normalize_key,
    recognize_chords,
    recognize_key,
)
from tests.mir.conftest import TRIAD_LABELS, TRIAD_SECONDS
from tests.mir.synth import SAMPLE_RATE, chord_tones


def _reference(labels: list[str], seconds: float) -> tuple[np.ndarray, list[str]]:
    starts = np.arange(len(labels)) * seconds
    return np.stack([starts, starts + seconds], axis=1), labels


def test_triads_are_recognised_with_high_wcsr(triads: Audio) -> None:
    chords = recognize_chords(triads)
    ref_intervals, ref_labels = _reference(TRIAD_LABELS * 2, TRIAD_SECONDS)
    est_intervals = np.array([[s, e] for s, e, _ in chords])
    est_intervals, est_labels = mir_eval.util.adjust_intervals(
        est_intervals,
        chords.labels,
        ref_intervals.min(),
        ref_intervals.max(),
        mir_eval.chord.NO_CHORD,
        mir_eval.chord.NO_CHORD,
    )
    merged = mir_eval.util.merge_labeled_intervals(
        ref_intervals, ref_labels, est_intervals, est_labels
    )
    intervals, ref, est = merged
    comparisons = mir_eval.chord.majmin(ref, est)
    wcsr = mir_eval.chord.weighted_accuracy(
        comparisons, mir_eval.util.intervals_to_durations(intervals)
    )
    assert wcsr > 0.7


def test_chord_segments_cover_the_clip_in_order(triads: Audio) -> None:
    chords = recognize_chords(triads)
    assert chords.segments[0][0] == 0.0
    assert abs(chords.segments[-1][1] - triads.duration) < 0.2
    for (_, end, label), (start, _, next_label) in zip(
        chords.segments, chords.segments[1:], strict=False
    ):
        assert end == pytest.approx(start) and label != next_label  # contiguous and merged


def test_key_of_a_c_major_progression() -> None:
    audio = Audio(chord_tones(["C:maj", "F:maj", "G:maj", "C:maj"] * 2, 1.5), SAMPLE_RATE)
    assert recognize_key(audio) == "C major"


def test_key_of_an_a_minor_progression() -> None:
    audio = Audio(chord_tones(["A:min", "D:min", "E:min", "A:min"] * 2, 1.5), SAMPLE_RATE)
    assert recognize_key(audio) in ("A minor", "C major")  # relative keys share every pitch


def test_silence_is_no_chord_and_default_key(silence: Audio) -> None:
    assert recognize_chords(silence).labels == ["N"]
    assert recognize_key(silence) == "C major"
    assert len(recognize_chords(Audio(np.zeros(100, dtype=np.float32), SAMPLE_RATE))) == 0


@pytest.mark.parametrize(
    ("raw", "normalized"),
    [
        ("A#:maj", "Bb:maj"),
        ("C#:min", "C#:min"),
        ("N", "N"),
        ("G#:min", "Ab:min"),
        ("E:maj", "E:maj"),
    ],
)
def test_chord_labels_use_the_project_spelling(raw: str, normalized: str) -> None:
    assert normalize_chord_label(raw) == normalized
    assert mir_eval.chord.encode(normalized) is not None  # valid mir_eval syntax


def test_key_names_use_the_project_spelling() -> None:
    assert normalize_key("D# minor") == "Eb minor"
    assert normalize_key("Db major") == "C# major"


def test_chord_sequence_merges_neighbours_and_drops_empty_segments() -> None:
    chords = ChordSequence.from_segments(
        [(0, 1, "A#:maj"), (1, 2, "Bb:maj"), (2, 2, "C:maj"), (2, 3, "N")]
    )
    assert chords.segments == ((0.0, 2.0, "Bb:maj"), (2.0, 3.0, "N"))


def test_sevenths_are_read_from_the_chroma_of_each_segment() -> None:
    import numpy as np

    from mir.harmony import add_sevenths, chord_template

    chroma = np.concatenate(
        [
            np.tile(chord_template(0, "7"), (20, 1)),  # C E G Bb
            np.tile(chord_template(9, "min7"), (20, 1)),  # A C E G
            np.tile(chord_template(5, "maj"), (20, 1)),  # F A C
            np.zeros((10, 12)),
        ]
    )
    segments = [(0.0, 2.0, "C:maj"), (2.0, 4.0, "A:min"), (4.0, 6.0, "F:maj"), (6.0, 7.0, "N")]
    labels = [label for _, _, label in add_sevenths(segments, chroma)]
    assert labels == ["C:7", "A:min7", "F:maj", "N"]


def test_the_key_of_long_audio_is_pooled_over_pieces(monkeypatch: pytest.MonkeyPatch) -> None:
    import mir.harmony as harmony

    audio = Audio(chord_tones(["C:maj", "F:maj", "G:maj", "C:maj"] * 4, 1.5), SAMPLE_RATE)
    monkeypatch.setattr(harmony, "KEY_WHOLE_SECONDS", 10.0)  # 24 s: pieces of 5 s
    monkeypatch.setattr(harmony, "KEY_CHUNK_SECONDS", 5.0)
    calls: list[int] = []
    network = harmony._pooled_key_prediction

    def counted(signal, model):  # type: ignore[no-untyped-def]
        calls.append(len(signal))
        return network(signal, model)

    monkeypatch.setattr(harmony, "_pooled_key_prediction", counted)
    assert recognize_key(audio) == "C major"
    assert calls == [audio.num_samples]
