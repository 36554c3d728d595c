"""`seedmusic demo`: the main job writes every output and a summary."""

from __future__ import annotations

import json

import pytest


@pytest.mark.slow
def test_demo_writes_every_output(run_cli, tmp_path):
    out = tmp_path / "demo"
    result = run_cli("demo", "-o", out)
    assert result.code == 0, result.err
    for name in (
        "song.wav",
        "score.json",
        "score.mid",
        "score.musicxml",
        "score.png",
        "tokens_remi.json",
        "tokens_xval.json",
        "evaluation.json",
        "untrained_generation.wav",
        "song_codec.wav",
        "summary.json",
        "analysis/analysis.json",
        "analysis/tokens.json",
        "composed/score.json",
        "composed/score.mid",
        "composed/score.musicxml",
        "composed/summary.json",
        "composed/song.wav",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    assert summary["generation"]["trained"] is False
    assert summary["codec"]["kbps"] == pytest.approx(3.0)  # codec v2: 12 x 10 bits x 25/s
    assert summary["codec"]["log_mel_l1"] < 1.5  # Opus at 6 kbps: about 1.7 on the corpus
    assert summary["metrics"]["beat_f"] > 0.8
    assert "UNTRAINED" in result.out
    composed = summary["composed"]
    assert composed["sections"] == ["intro", "verse", "chorus", "verse", "chorus", "outro"]
    assert composed["genre"] == "folk" and composed["tempo_bpm"] == 96.0
    assert not [p for p in out.iterdir() if p.name.startswith(".demo.")]


def test_demo_into_a_file_is_one_error_line(run_cli, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = run_cli("demo", "-o", target)
    assert result.code == 2
    assert result.err.startswith("error:") and len(result.err.strip().splitlines()) == 1
