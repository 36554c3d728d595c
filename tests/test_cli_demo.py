"""`seedmusic demo`: the main job writes every output and a summary."""

from __future__ import annotations

import json

import numpy as np
import pytest
import soundfile as sf


@pytest.mark.slow
def test_demo_writes_every_output(run_cli, tmp_path):
    out = tmp_path / "demo"
    result = run_cli("demo", "-o", out)
    assert result.code == 0, result.err
    for name in (
        "song.wav",
        "stems/vocal.wav",
        "stems/accompaniment.wav",
        "score.json",
        "score.mid",
        "score.musicxml",
        "score.png",
        "tokens.json",
        "song_synth.wav",
        "song_codec.wav",
        "summary.json",
        "analysis/analysis.json",
        "analysis/score.json",
        "example/song.wav",
        "example/score.json",
        "example/tokens_remi.json",
        "example/tokens_xval.json",
        "example/evaluation.json",
        "example/analysis/analysis.json",
    ):
        assert (out / name).is_file(), name
    summary = json.loads((out / "summary.json").read_text())
    render = summary["render"]
    assert render["renderer"] == "neural" and render["trained"] is True
    assert render["seconds"] > 30 and set(render["timings"]) >= {"render", "dit", "vae"}
    song, rate = sf.read(out / "song.wav")
    vocal, _ = sf.read(out / "stems" / "vocal.wav")
    accompaniment, _ = sf.read(out / "stems" / "accompaniment.wav")
    assert rate == 24000 and len(song) == len(vocal)
    assert np.abs(song - vocal - accompaniment).max() < 1e-3  # the stems add up to the song
    assert np.sqrt(np.mean(song**2)) > 0.01  # not silence
    assert summary["adherence"]["beat_f"] > 0.8  # our MIR hears the score's beat in the song
    assert summary["synth_adherence"]["beat_f"] > 0.8
    assert summary["codec"]["kbps"] == pytest.approx(3.0)  # codec v2: 12 x 10 bits x 25/s
    assert summary["example"]["metrics"]["beat_f"] > 0.8
    composed = summary["composed"]
    assert composed["sections"] == ["intro", "verse", "chorus", "verse", "chorus", "outro"]
    assert composed["genre"] == "folk" and composed["tempo_bpm"] == 96.0
    assert "UNTRAINED" not in result.out and "sung by the trained neural renderer" in result.out
    assert not [p for p in out.iterdir() if p.name.startswith(".demo.")]


def test_demo_into_a_file_is_one_error_line(run_cli, tmp_path):
    target = tmp_path / "file.txt"
    target.write_text("x")
    result = run_cli("demo", "-o", target)
    assert result.code == 2
    assert result.err.startswith("error:") and len(result.err.strip().splitlines()) == 1
