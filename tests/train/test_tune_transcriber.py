"""Threshold tuning of the transcriber on held-out corpus pieces."""

from __future__ import annotations

import functools
import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from mir.evaluate import note_f1
from mir.transcriber import Transcriber, TranscriberConfig
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.train.tune_transcriber import GRID, tune_checkpoint

onset_f1 = functools.partial(note_f1, offsets=False)


def test_onset_f1_matches_onsets_and_pitches():
    reference = [(0.0, 0.5, 60), (1.0, 1.5, 64)]
    assert onset_f1(reference, reference) == 1.0
    assert onset_f1(reference, [(0.02, 0.3, 60)]) == 2 / 3  # one of two found, nothing wrong
    assert onset_f1(reference, [(0.2, 0.5, 60), (1.0, 1.5, 65)]) == 0.0
    assert onset_f1([], reference) is None
    assert onset_f1(reference, []) == 0.0


def _one_piece_corpus(root: Path) -> Corpus:
    folder = root / "shards" / "shard-00000" / "p"
    folder.mkdir(parents=True)
    rate = 24000
    t = np.arange(2 * rate) / rate
    sf.write(folder / "mix.flac", (0.3 * np.sin(2 * np.pi * 440 * t)).astype(np.float32), rate)
    notes = {
        "vocal": [[0.0, 1.0, 69]],
        "piano": [],
        "guitar": [],
        "bass": [],
        "drums": [[0.5, 0.6, 36]],
    }
    (folder / "truth.json").write_text(json.dumps({"notes": notes}))
    record = PieceRecord(
        id="p", work="w", split="valid", path="shards/shard-00000/p", seconds=2.0, source="s",
        title="t", composer="c", licence="public-domain", style="pop", tags=("pop",),
        description="d", key="C major", tempo=120.0, time_signature="4/4", lyrics="none",
        language="en", stems=(),
    )  # fmt: skip
    (root / "manifest.jsonl").write_text(json.dumps(record.to_json()) + "\n")
    return Corpus(root)


def test_tuning_writes_grid_thresholds_into_the_checkpoint(tmp_path: Path):
    torch.manual_seed(0)
    folder = tmp_path / "model"
    Transcriber(TranscriberConfig.tiny()).save_pretrained(folder)
    scores = tune_checkpoint(folder, _one_piece_corpus(tmp_path / "corpus"), "valid")
    assert set(scores) == {"vocal", "piano", "guitar", "bass", "drums"}
    decode = Transcriber.from_pretrained(folder).config.decode
    assert all(t in GRID for t in decode.onset_thresholds) and decode.drum_threshold in GRID


def test_command_reports_a_missing_checkpoint_in_one_line(tmp_path, monkeypatch, capsys) -> None:
    from seedmusic.train import tune_transcriber

    argv = ["tune_transcriber", str(tmp_path / "nope"), "--corpus", str(tmp_path)]
    monkeypatch.setattr("sys.argv", argv)
    assert tune_transcriber.main() == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1 and err[0].startswith("error:")
