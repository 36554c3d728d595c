"""mir.evaluate: perfect analyses score 1, wrong ones score less."""

from __future__ import annotations

import pytest

from mir.analyze import Analysis
from mir.evaluate import evaluate, ground_truth_from_score
from score_tokens.score import Chord, Note, Score, Section, TempoChange, Track


def _score() -> Score:
    bar = 4 * 480
    chords = [
        Chord(i * bar, bar, root, quality)
        for i, (root, quality) in enumerate([(0, "maj"), (9, "min"), (5, "maj"), (7, "7")] * 2)
    ]
    bass = [Note(i * bar, bar // 2, 36 + (c.root or 0)) for i, c in enumerate(chords)]
    score = Score(
        tempos=[TempoChange(0, 100.0)],
        key="C major",
        sections=[Section(0, "verse"), Section(4 * bar, "chorus")],
        chords=chords,
        end_tick=8 * bar,
    )
    score.tracks["bass"] = Track(33, bass)
    return score.validate()


def _perfect_analysis(score: Score) -> Analysis:
    truth = ground_truth_from_score(score)
    return Analysis(
        duration=truth.duration,
        tempo=truth.tempo,
        beats=truth.beats,
        downbeats=truth.downbeats,
        beat_positions=[i % 4 + 1 for i in range(len(truth.beats))],
        key=truth.key,
        chords=truth.chords,
        sections=truth.sections,
        notes={"bass": truth.notes["bass"]},
    )


def test_ground_truth_has_a_beat_per_quarter_and_a_downbeat_per_bar() -> None:
    truth = ground_truth_from_score(_score())
    assert len(truth.beats) == 32
    assert len(truth.downbeats) == 8
    assert truth.beats[1] == pytest.approx(0.6)  # 100 bpm
    assert truth.duration == pytest.approx(8 * 4 * 0.6)
    assert [label for _, _, label in truth.sections] == ["verse", "chorus"]


def test_a_perfect_analysis_scores_one_everywhere() -> None:
    score = _score()
    metrics = evaluate(_perfect_analysis(score), ground_truth_from_score(score))
    for name in (
        "beat_f",
        "downbeat_f",
        "tempo_accuracy",
        "key_weighted",
        "chord_majmin",
        "chord_sevenths",
        "section_f05",
        "section_f3",
        "notes_bass_onset_f1",
    ):
        assert metrics[name] == pytest.approx(1.0), name
    assert "notes_piano_onset_f1" not in metrics  # not transcribed -> not scored


def test_wrong_answers_score_lower() -> None:
    score = _score()
    truth = ground_truth_from_score(score)
    analysis = _perfect_analysis(score)
    analysis.beats = [b + 0.3 for b in truth.beats]  # half a beat late
    analysis.tempo = 50.0
    analysis.key = "F# major"
    analysis.chords = [(s, e, "F#:maj") for s, e, _ in truth.chords]
    metrics = evaluate(analysis, truth)
    assert metrics["beat_f"] == pytest.approx(0.0)
    assert metrics["tempo_accuracy"] == 0.0
    assert metrics["key_weighted"] == 0.0
    assert metrics["chord_majmin"] == pytest.approx(0.0)


def test_drums_are_scored_on_classes_and_pitched_notes_on_offsets_too() -> None:
    score = _score()
    truth = ground_truth_from_score(score)
    kick, snare, open_hat = 0.0, 0.6, 1.2
    truth.notes["drums"] = [(kick, kick + 0.1, 35), (snare, snare + 0.1, 40), (open_hat, 1.3, 46)]
    analysis = _perfect_analysis(score)
    analysis.notes["drums"] = [(kick, kick + 0.02, 36), (snare, snare + 0.02, 38), (1.2, 1.22, 42)]
    bass = truth.notes["bass"]
    analysis.notes["bass"] = [
        (start, start + 0.25 * (end - start), pitch) for start, end, pitch in bass
    ]
    metrics = evaluate(analysis, truth)
    assert metrics["notes_drums_onset_f1"] == pytest.approx(
        1.0
    )  # 35 -> kick, 40 -> snare, 46 -> hi-hat
    assert "notes_drums_onset_offset_f1" not in metrics
    assert metrics["notes_bass_onset_f1"] == pytest.approx(1.0)
    assert metrics["notes_bass_onset_offset_f1"] == pytest.approx(0.0)  # every note cut short


def test_compound_meter_is_scored_on_dotted_quarters() -> None:
    from mir.evaluate import counted_beats, counted_tempo
    from score_tokens.score import TimeSignature

    score = Score(
        tempos=[TempoChange(0, 90.0)],  # quarter = 90: dotted quarter = 60
        time_signatures=[TimeSignature(0, 6, 8)],
        end_tick=4 * 3 * 480,  # four bars of 6/8
    ).validate()
    truth = ground_truth_from_score(score)
    assert len(truth.beats) == 24  # eighth notes
    assert counted_beats(truth) == pytest.approx([0.0, 1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0])
    assert counted_tempo(truth) == pytest.approx(60.0)
    analysis = Analysis(
        duration=truth.duration,
        tempo=60.0,
        beats=[float(t) for t in range(8)],
        downbeats=[0.0, 2.0, 4.0, 6.0],
        time_signature="6/8",
    )
    metrics = evaluate(analysis, truth)
    assert metrics["beat_f"] == pytest.approx(1.0) and metrics["tempo_accuracy"] == 1.0
