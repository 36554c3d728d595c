"""The MIR benchmark's own pieces: the chord-template baseline, note scoring, the table, and
scoring recordings against their prompts."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

import benchmarks.mir
from benchmarks.mir import (
    METRICS,
    Prompt,
    evaluated,
    format_table,
    main,
    note_scores,
    parse_listing,
    prompt_scorer,
    prompts_for,
    same_key,
    score_unseparated_notes,
    tempo_within,
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


# --- recordings against their prompts ------------------------------------------------------------

LISTING = """All music in this directory was generated locally.

Tracks are grouped by mood.

calm/
  calm_1.opus                 68 bpm  C major   seed 101  [acoustic]
  dark_2.opus                 84 bpm  A# minor  seed 202  [electronic]
  broken_3.opus               90 bpm            seed 411  [acoustic]
"""


def test_parse_listing_reads_tempo_and_key_and_respells_enharmonics() -> None:
    prompts = parse_listing(LISTING)
    assert prompts == {
        "calm_1.opus": Prompt(68.0, "C major"),
        "dark_2.opus": Prompt(84.0, "Bb minor"),
    }


def test_same_key_equates_enharmonics_only() -> None:
    assert same_key("A# minor", "Bb minor")
    assert same_key("F# major", "Gb major")
    assert not same_key("C major", "A minor")  # relative
    assert not same_key("C major", "C minor")  # parallel
    assert not same_key("C major", "not a key")


def test_tempo_within_four_percent_and_up_to_an_octave() -> None:
    assert tempo_within(70.5, 68.0) and not tempo_within(71.0, 68.0)
    assert not tempo_within(136.0, 68.0) and tempo_within(136.0, 68.0, (1.0, 2.0, 0.5))
    assert tempo_within(66.0, 132.0, (1.0, 2.0, 0.5))
    assert not tempo_within(None, 68.0, (1.0, 2.0, 0.5))


def test_prompt_scorer_scores_only_what_a_system_reports() -> None:
    truth = Prompt(84.0, "Bb minor").truth(30.0)
    both = prompt_scorer(("tempo", "key"))({"tempo": 168.5, "key": "A# minor"}, truth)
    assert both == {
        "tempo_accuracy": 0.0,
        "tempo_octave": 1.0,
        "key_exact": 1.0,
        "key_weighted": 1.0,
    }
    relative = prompt_scorer(("key",))({"key": "Db major"}, truth)
    assert relative == {"key_exact": 0.0, "key_weighted": 0.3}  # mir_eval: relative key


def test_a_recording_without_a_listing_line_is_skipped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "LICENSE-MUSIC").write_text(LISTING)
    (tmp_path / "calm").mkdir()
    listed, unlisted = tmp_path / "calm" / "calm_1.opus", tmp_path / "calm" / "other.opus"
    with caplog.at_level(logging.WARNING):
        prompts = prompts_for([listed, unlisted])
    assert prompts == {listed: Prompt(68.0, "C major")}  # the listing in the parent folder
    assert [r.getMessage() for r in caplog.records if "other.opus" in r.getMessage()] != []
    assert len(caplog.records) == 1


def _song(
    bpm: float, chord: tuple[int, ...], seconds: float = 8.0, rate: int = 22050
) -> np.ndarray:
    """Clicks on every beat over a sustained chord."""
    t = np.arange(int(seconds * rate)) / rate
    audio = 0.15 * sum(np.sin(2 * np.pi * 440.0 * 2 ** ((p - 69) / 12) * t) for p in chord)
    click = np.sin(2 * np.pi * 1000.0 * t[: int(0.03 * rate)]) * np.exp(
        -100 * t[: int(0.03 * rate)]
    )
    for start in np.arange(0.0, seconds - 0.05, 60.0 / bpm):
        i = int(start * rate)
        audio[i : i + click.size] += 0.8 * click
    return (audio / np.abs(audio).max() * 0.8).astype(np.float32)


def test_main_scores_recordings_against_their_listing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setattr(benchmarks.mir, "OUT", tmp_path / "out")  # the cache
    folder = tmp_path / "songs"
    folder.mkdir()
    (folder / "LICENSE-MUSIC").write_text(
        "  a.wav   120 bpm  C major  seed 1\n  b.wav   100 bpm  A minor  seed 2\n"
    )
    sf.write(folder / "a.wav", _song(120.0, (48, 60, 64, 67)), 22050)
    sf.write(folder / "b.wav", _song(100.0, (45, 57, 60, 64)), 22050)
    sf.write(folder / "c.wav", _song(90.0, (60, 64, 67)), 22050)  # no listing line: skipped
    report = tmp_path / "mir.json"
    main(["--recordings", str(folder), "--systems", "ours,chroma", "--json", str(report)])
    out = capsys.readouterr().out
    assert "recordings: 2 files" in out
    header = next(line for line in out.splitlines() if line.startswith("| system"))
    assert "tempo within 4 %" in header and "key exact" in header
    ours = next(line for line in out.splitlines() if line.startswith("| ours"))
    assert ours.split("|")[1].strip() == "ours" and ours.count("/2") == 3
    chroma = next(line for line in out.splitlines() if line.startswith("| chroma"))
    assert chroma.split("|")[2].strip() == "-"  # chroma reports no tempo
    data = json.loads(report.read_text())["recordings"]
    assert [row["recording"] for row in data["rows"]] == ["a.wav", "b.wav"]
    assert data["rows"][1]["prompt"] == {"bpm": 100.0, "key": "A minor"}
    assert set(data["rows"][0]["systems"]) == {"ours", "chroma"}
    assert data["systems"]["ours"]["recordings"] == 2


@pytest.mark.parametrize(
    ("args", "message"),
    [
        ([], "error: give --corpus, --recordings or both"),
        (["--recordings", "{empty}"], "error: no readable recording with a LICENSE-MUSIC line in"),
    ],
)
def test_main_without_recordings_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], args: list[str], message: str
) -> None:
    (tmp_path / "empty").mkdir()
    with pytest.raises(SystemExit) as exited:
        main([a.format(empty=tmp_path / "empty") for a in args])
    assert exited.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith(message) and err.count("\n") == 1
