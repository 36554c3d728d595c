"""The MIR benchmark's own pieces: the chord-template baseline, note scoring and the table."""

from __future__ import annotations

import numpy as np

from benchmarks.mir import (
    METRICS,
    evaluated,
    format_table,
    note_scores,
    score_unseparated_notes,
)
from benchmarks.mir_baselines import profile_key, template_chords
from mir.audio import Audio
from mir.evaluate import GroundTruth

SAMPLE_RATE = 22050


def _triad(pitches: tuple[int, ...], seconds: float) -> np.ndarray:
    t = np.arange(int(seconds * SAMPLE_RATE)) / SAMPLE_RATE
    tones = [np.sin(2 * np.pi * 440.0 * 2 ** ((p - 69) / 12) * t) for p in pitches]
    return (0.5 * np.mean(tones, axis=0)).astype(np.float32)


def test_template_chords_find_c_major_then_a_minor() -> None:
    samples = np.concatenate([_triad((60, 64, 67), 2.0), _triad((57, 60, 64), 2.0)])
    chords, _ = template_chords(Audio(samples, SAMPLE_RATE))
    assert [label for _, _, label in chords] == ["C:maj", "A:min"]
    assert abs(chords[0][1] - 2.0) < 0.2
    assert chords[-1][1] == 4.0


def test_template_chords_call_silence_no_chord() -> None:
    samples = np.concatenate([np.zeros(SAMPLE_RATE, dtype=np.float32), _triad((62, 65, 69), 2.0)])
    chords, _ = template_chords(Audio(samples, SAMPLE_RATE))
    assert [label for _, _, label in chords] == ["N", "D:min"]


def test_profile_key_of_a_scale_chroma() -> None:
    g_major = np.zeros(12)
    g_major[[7, 9, 11, 0, 2, 4, 6]] = 1.0
    g_major[[7, 2]] += 1.0  # tonic and fifth weigh more
    assert profile_key(g_major) == "G major"


def _truth(notes: dict[str, list[tuple[float, float, int]]]) -> GroundTruth:
    return GroundTruth(4.0, 120.0, [], [], "C major", [], [], notes=notes)


def test_note_scores_map_drums_and_score_the_pitched_union() -> None:
    truth = _truth(
        {
            "vocal": [(0.0, 0.5, 60)],
            "bass": [(1.0, 2.0, 36)],
            "drums": [(0.0, 0.1, 35), (1.0, 1.1, 40)],  # kick and snare numbers, not the classes'
        }
    )
    estimate = {
        "vocal": [(0.0, 0.5, 60)],
        "piano": [],
        "bass": [(1.01, 1.3, 36)],  # right onset, wrong offset
        "drums": [(0.0, 0.02, 36), (1.0, 1.02, 38)],
    }
    metrics = note_scores(truth, estimate)
    assert metrics["notes_vocal_onset_f1"] == 1.0
    assert metrics["notes_bass_onset_f1"] == 1.0
    assert metrics["notes_bass_onset_offset_f1"] == 0.0
    assert metrics["notes_drums_onset_f1"] == 1.0
    assert metrics["notes_pitched_onset_f1"] == 1.0
    assert metrics["notes_pitched_onset_offset_f1"] == 0.5
    assert metrics["notes_piano_onset_f1"] is None  # no reference piano notes
    assert "notes_drums_onset_offset_f1" not in metrics


def test_cached_outputs_are_scored_on_the_metrics_a_system_produces() -> None:
    truth = GroundTruth(
        4.0, 120.0, [0.0, 0.5, 1.0, 1.5], [0.0], "C major", [(0.0, 4.0, "C:maj")], [],
        notes={"vocal": [(0.0, 0.5, 60)], "piano": [(1.0, 1.5, 64)]},
    )  # fmt: skip
    outputs = {"beats": [0.0, 0.5, 1.0, 1.5], "tempo": 120.0}
    beats = evaluated(("beat_f", "tempo_accuracy"))(outputs, truth)
    assert beats == {"beat_f": 1.0, "tempo_accuracy": 1.0}
    notes = score_unseparated_notes({"notes": {"pitched": [[0.0, 0.5, 60]]}}, truth)
    assert notes["notes_vocal_onset_f1"] == 1.0
    assert notes["notes_piano_onset_f1"] == 0.0
    assert abs(notes["notes_pitched_onset_f1"] - 2 / 3) < 1e-9


def test_format_table_prints_a_dash_for_missing_metrics() -> None:
    means = {"ours": {"beat_f": 0.9, "downbeat_f": 0.8}, "librosa": {"beat_f": 0.7}}
    table = format_table("title", means, ["ours", "librosa"])
    lines = table.splitlines()
    assert lines[0] == "title"
    assert len(lines) == 3 + len(METRICS)
    downbeat = next(line for line in lines if line.startswith("| downbeat F"))
    assert downbeat.split("|")[2].strip() == "0.800"
    assert downbeat.split("|")[3].strip() == "-"
    assert len({len(line) for line in lines[1:]}) == 1  # aligned columns
