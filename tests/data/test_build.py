"""A three-piece corpus build: files, ground truth against the audio, resume, determinism, CLI."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import librosa
import numpy as np
import pytest
import soundfile as sf

from seedmusic.data.build import BuildConfig, build, split_of, work_order
from seedmusic.data.corpus import Corpus
from seedmusic.errors import UserError

TINY_HOURS = 0.001  # the first shard is enough


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("corpus")
    report = build(BuildConfig(out=out, hours=TINY_HOURS, workers=1, shard_size=3))
    assert report.pieces + len(report.skipped) == 3 and report.rendered_shards == 1
    return out


def test_every_piece_has_its_files_and_a_complete_record(built: Path):
    corpus = Corpus(built)
    pieces = corpus.pieces()
    assert len(pieces) >= 2
    for piece in pieces:
        mix, rate = sf.read(corpus.mix_path(piece), dtype="float32")
        assert rate == 24000 and mix.size == pytest.approx(
            piece.seconds * rate, abs=13
        )  # seconds: 3 decimals
        assert "vocal" in piece.stems
        stems = [sf.read(corpus.stem_path(piece, s), dtype="float32")[0] for s in piece.stems]
        assert all(s.size == mix.size for s in stems)
        # The mix is the sum of the stems (up to 16-bit rounding of each file).
        assert np.abs(np.sum(stems, axis=0) - mix).max() < 1e-3 * (len(stems) + 1)
        truth = corpus.truth(piece)
        assert truth["duration"] == pytest.approx(piece.seconds - 1.0, abs=1e-3)  # + 1 s tail
        assert truth["key"] == piece.key and truth["time_signature"] == piece.time_signature
        assert truth["lyrics"] and truth["chords"] and len(truth["sections"]) >= 3
        assert truth["sections"][0][2] == "intro" and truth["sections"][-1][2] == "outro"
        assert corpus.score(piece).num_notes() == sum(len(v) for v in truth["notes"].values())
        assert piece.split == split_of(piece.work) and piece.description and piece.tags


def _onset_errors(audio: np.ndarray, rate: int, reference: np.ndarray) -> tuple[float, float]:
    """(median distance from each detected onset to the nearest score onset,
    median distance from each score onset to the nearest detected onset), in seconds."""
    padded = np.concatenate([np.zeros(rate // 2, dtype=np.float32), audio])
    detected = (
        librosa.onset.onset_detect(y=padded, sr=rate, units="time", hop_length=128, backtrack=True)
        - 0.5
    )
    assert detected.size, "no onsets detected"
    to_reference = np.abs(detected[:, None] - reference[None, :]).min(axis=1)
    to_detected = np.abs(reference[:, None] - detected[None, :]).min(axis=1)
    return float(np.median(to_reference)), float(np.median(to_detected))


def test_ground_truth_lines_up_with_the_audio_of_every_stem(built: Path):
    """Instruments: every detected onset sits on a score onset (soft attacks, e.g. an organ,
    may hide some score onsets). Vocal: every sung syllable starts on its score onset (the
    consonant-vowel transitions inside a syllable add detections, so the other direction
    does not apply)."""
    corpus = Corpus(built)
    for piece in corpus.pieces():
        truth = corpus.truth(piece)
        for stem in piece.stems:
            audio, rate = sf.read(corpus.stem_path(piece, stem), dtype="float32")
            reference = np.array(sorted({note[0] for note in truth["notes"][stem]}))
            to_reference, to_detected = _onset_errors(audio, rate, reference)
            error = to_detected if stem == "vocal" else to_reference
            assert error < 0.03, (piece.id, stem, to_reference, to_detected)


def test_a_rerun_skips_finished_shards_and_redoes_an_interrupted_one(built: Path, tmp_path: Path):
    copy = tmp_path / "corpus"
    shutil.copytree(built, copy)
    config = BuildConfig(out=copy, hours=TINY_HOURS, workers=1, shard_size=3)
    assert build(config).rendered_shards == 0
    shard = copy / "shards" / "shard-00000"
    shard.rename(shard.with_name("shard-00000.tmp"))  # as if killed before the rename
    report = build(config)
    assert report.rendered_shards == 1 and not shard.with_name("shard-00000.tmp").exists()
    assert (copy / "manifest.jsonl").read_text() == (built / "manifest.jsonl").read_text()
    for piece in Corpus(built).pieces():
        ours = Corpus(copy)
        assert (ours.folder(piece) / "truth.json").read_text() == (
            Corpus(built).folder(piece) / "truth.json"
        ).read_text()
        a = sf.read(Corpus(built).mix_path(piece))[0]
        assert np.array_equal(a, sf.read(ours.mix_path(piece))[0]), "same seed, same audio"


def test_other_settings_into_the_same_folder_are_refused(built: Path, tmp_path: Path):
    copy = tmp_path / "corpus"
    shutil.copytree(built, copy)
    with pytest.raises(UserError, match="other settings"):
        build(BuildConfig(out=copy, hours=TINY_HOURS, workers=1, shard_size=3, seed=1))


def test_the_plan_depends_on_the_seed_and_interleaves_collections():
    order = work_order(BuildConfig(out=Path("x"), hours=1))
    assert order == work_order(BuildConfig(out=Path("y"), hours=5))
    assert order != work_order(BuildConfig(out=Path("x"), hours=1, seed=1))
    assert len({w.collection for w in order[:4]}) == 4
    assert all(w.licence == "public-domain" for w in order)


def test_splits_are_by_work_and_roughly_five_percent():
    order = work_order(BuildConfig(out=Path("x"), hours=1))
    splits = [split_of(w.id) for w in order]
    assert 0.03 < splits.count("test") / len(splits) < 0.07
    assert 0.03 < splits.count("valid") / len(splits) < 0.07


def test_stats_cli_json_and_table(run_cli, built: Path):
    result = run_cli("data", "stats", built, "--json")
    assert result.code == 0, result.err
    stats = json.loads(result.out)
    assert stats["pieces"] == len(Corpus(built).pieces())
    assert set(stats["splits"]) == {"train", "valid", "test"} and stats["hours"] > 0
    table = run_cli("data", "stats", built)
    assert table.code == 0 and "pieces" in table.out and "styles" in table.out


def test_data_cli_mistakes_are_one_error_line(run_cli, tmp_path: Path):
    for args in (
        ("data", "stats", tmp_path / "nothing"),
        ("data", "build", "--out", tmp_path / "c", "--hours", "0"),
        ("data", "build", "--out", tmp_path / "c", "--workers", "0"),
    ):
        result = run_cli(*args)
        assert result.code == 2 and result.err.startswith("error:"), (args, result.err)
        assert len(result.err.strip().splitlines()) == 1
