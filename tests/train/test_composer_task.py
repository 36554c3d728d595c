"""The composer's data build and training task: tunes -> sequences -> a few steps -> export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from score_tokens.score import Chord, Note, Section
from seedmusic.composer.dataset import SEQUENCES_FILE, build_sequences, rearrange_for_infill
from seedmusic.composer.leadsheet import TOKEN_ID, VOCAB
from seedmusic.composer.model import ComposerLM
from seedmusic.composer.tunes import TUNES_FILE, tune_from_json, tune_to_json
from seedmusic.data.tune import Tune
from seedmusic.train.run import run_training


def a_tune(title: str, lyrics: bool) -> Tune:
    notes = []
    for bar in range(8):
        for beat in range(4):
            lyric = ("la" if beat % 2 == 0 else "lo") if lyrics else None
            notes.append(Note(bar * 1920 + beat * 480, 480, 60 + (bar + beat) % 8, 96, lyric))
    return Tune(
        title=title,
        numerator=4,
        denominator=4,
        tonic=0,
        mode="major",
        melody=notes,
        chords=[Chord(b * 1920, 1920, (0, 5, 7, 0)[b % 4], "maj") for b in range(8)],
        sections=[Section(0, "verse"), Section(4 * 1920, "chorus")],
        end_tick=8 * 1920,
        language="en" if lyrics else None,
    )


@pytest.fixture(scope="module")
def sequences(tmp_path_factory: pytest.TempPathFactory) -> Path:
    folder = tmp_path_factory.mktemp("scores")
    records = [
        {
            "work": f"oneills1850/x/{i}",
            "collection": "oneills1850",
            "split": split,
            "tune": tune_to_json(a_tune(f"t{i}", i % 2 == 0)),
        }
        for i, split in enumerate(["train", "train", "train", "valid", "test"])
    ]
    (folder / TUNES_FILE).write_text("".join(json.dumps(r) + "\n" for r in records))
    report = build_sequences(folder, variants=2, seed=0)
    assert report["sequences"] + report["rejected"] == 8  # the test work stays out
    assert report["sequences"] >= 6
    return folder


def test_tunes_survive_json() -> None:
    tune = a_tune("x", True)
    assert tune_from_json(json.loads(json.dumps(tune_to_json(tune)))) == tune


def test_sequences_hold_tokens_features_and_descriptions(sequences: Path) -> None:
    data = np.load(sequences / SEQUENCES_FILE)
    meta = json.loads(str(data["meta"]))
    assert {m["split"] for m in meta} == {"train", "valid"}
    assert data["features"].shape == (len(data["ids"]), 8)
    assert data["text"].shape == (len(meta), 384)
    assert len({m["description"] for m in meta}) > 1
    first = data["ids"][data["offsets"][0] : data["offsets"][1]]
    assert VOCAB[first[0]] == "BOS" and VOCAB[first[-1]] == "EOS"


def test_infill_rearrangement_moves_the_span_to_the_end() -> None:
    ids = [
        TOKEN_ID[t]
        for t in [
            "BOS",
            "Key_C_major",
            "TimeSig_4/4",
            "Tempo_100",
            "Bar",
            "Position_0",
            "Chord_0_maj",
            "Bar",
            "Position_0",
            "Chord_5_maj",
            "Bar",
            "Position_0",
            "Chord_7_maj",
            "EOS",
        ]
    ]
    features = np.arange(len(ids) * 8).reshape(len(ids), 8)
    tokens, rows = rearrange_for_infill(ids, features, 1, 1)
    assert [VOCAB[t] for t in tokens] == [
        "BOS", "Key_C_major", "TimeSig_4/4", "Tempo_100", "Bar", "Position_0", "Chord_0_maj", "MASK_1",
        "Bar", "Position_0", "Chord_7_maj", "MASK_1", "Bar", "Position_0", "Chord_5_maj", "EOS",
    ]  # fmt: skip
    assert len(rows) == len(tokens)
    assert (rows[7] == features[9]).all() and (rows[11] == features[6]).all()


@pytest.mark.slow
def test_a_tiny_composer_trains_and_exports(sequences: Path, tmp_path: Path) -> None:
    config = Path(__file__).resolve().parents[2] / "configs" / "composer" / "tiny.yaml"
    final = run_training(
        "composer",
        config,
        [f"data.sequences={sequences / SEQUENCES_FILE}", "data.infill_prob=0.5"],
        out=tmp_path / "run",
    )
    model = ComposerLM.from_pretrained(final)
    assert model.config.hidden_size == 32
    lines = (tmp_path / "run" / "metrics.jsonl").read_text().splitlines()
    assert all(np.isfinite(json.loads(line)["ce"]) for line in lines)
