"""The transcriber task: targets from known notes, learning on a synthetic corpus, CLI export."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch
import torch.nn.functional as F

from mir.audio import Audio, load_audio
from mir.transcriber import INSTRUMENTS, Transcriber, TranscriberConfig, transcribe
from seedmusic.config import load_config
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.train.transcriber_task import (
    PieceData,
    TranscriberDataConfig,
    TranscriberTask,
    TranscriberTaskConfig,
    augment,
    crop_targets,
    drum_frames,
    note_frames,
    remix,
    reverberate,
)

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "transcriber" / "tiny.yaml"
RATE = 12000  # the tiny model's rate: no resampling in the tests
PIANO_PITCHES = (48, 52, 55, 60, 64)


def synthetic_song(seconds: float, seed: int) -> tuple[np.ndarray, dict[str, list[list[float]]]]:
    """A mix `[S]` of decaying harmonic piano-like notes and hi-hat-like noise bursts, and its
    notes in the `truth.json` format."""
    rng = np.random.default_rng(seed)
    mix = np.zeros(int(seconds * RATE))
    piano: list[list[float]] = []
    t = 0.2
    while t < seconds - 0.6:
        pitch, length = int(rng.choice(PIANO_PITCHES)), float(rng.uniform(0.2, 0.5))
        k = np.arange(int(length * RATE)) / RATE
        hz = 440.0 * 2 ** ((pitch - 69) / 12)
        tone = sum(np.sin(2 * np.pi * h * hz * k) / h for h in (1, 2, 3)) * np.exp(-3 * k)
        tone[-60:] *= np.linspace(1.0, 0.0, 60)
        start = int(t * RATE)
        mix[start : start + k.size] += 0.3 * tone
        piano.append([t, t + length, pitch])
        t += length + float(rng.uniform(0.05, 0.3))
    drums: list[list[float]] = []
    for beat in np.arange(0.1, seconds - 0.3, 0.5):
        hit = float(beat + rng.uniform(0.0, 0.1))
        start = int(hit * RATE)
        mix[start : start + 600] += 0.3 * rng.standard_normal(600) * np.exp(-np.arange(600) / 100)
        drums.append([hit, hit + 0.01, 42])
    notes = {"vocal": [], "piano": piano, "guitar": [], "bass": [], "drums": drums}
    return mix.astype(np.float32), notes


def write_synthetic_corpus(root: Path, pieces: int = 3, seconds: float = 6.0) -> Path:
    """A corpus folder (manifest, mix.flac, truth.json) of `synthetic_song`s, all in train."""
    lines = []
    for i in range(pieces):
        folder = root / "shards" / "shard-00000" / f"song{i}"
        folder.mkdir(parents=True)
        mix, notes = synthetic_song(seconds, seed=i)
        sf.write(folder / "mix.flac", mix, RATE)
        (folder / "truth.json").write_text(json.dumps({"duration": seconds, "notes": notes}))
        record = PieceRecord(
            id=f"song{i}",
            work=f"synthetic/{i}",
            split="train",
            path=f"shards/shard-00000/song{i}",
            seconds=seconds,
            source="synthetic",
            title="",
            composer="",
            licence="public-domain",
            style="pop",
            tags=(),
            description="",
            key="C major",
            tempo=120.0,
            time_signature="4/4",
            lyrics="none",
            language="en",
            stems=("piano", "drums"),
        )
        lines.append(json.dumps(record.to_json()))
    (root / "manifest.jsonl").write_text("\n".join(lines) + "\n")
    return root


@pytest.fixture(scope="module")
def corpus(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_synthetic_corpus(tmp_path_factory.mktemp("synthetic_corpus"))


def _config(corpus: Path, *overrides: str) -> TranscriberTaskConfig:
    return load_config(TranscriberTaskConfig, TINY, [f"data.corpus={corpus}", *overrides])


def test_shipped_configs_load_and_match_the_model_presets() -> None:
    tiny = load_config(TranscriberTaskConfig, TINY)
    reference = load_config(TranscriberTaskConfig, TINY.with_name("reference.yaml"))
    assert tiny.model == TranscriberConfig.tiny()
    assert reference.model == TranscriberConfig.reference()
    assert reference.data.corpus == "data/corpus"
    varied = load_config(TranscriberTaskConfig, TINY.with_name("varied.yaml"))
    assert varied.model == TranscriberConfig.reference() and varied.init_from is not None
    assert varied.data.stem_gain_db > 0 and varied.data.reverb_prob > 0


def test_a_remix_sums_the_stems_magnitudes_each_with_its_own_gain() -> None:
    floor = np.log(1e-5)
    low = np.full((2, 8, 5), floor, dtype=np.float32)
    low[0, 2] = np.log(0.2 + 1e-5)  # stem 0 sounds in bin 2 only
    low[1, 5] = np.log(0.3 + 1e-5)  # stem 1 in bin 5 only
    mixed = remix(low.astype(np.float16), np.random.default_rng(0), 6.0)
    levels = np.exp(mixed) - 1e-5
    ratios = levels[2] / 0.2, levels[5] / 0.3  # each stem's own gain, constant over frames
    assert all(np.ptp(r) < 1e-2 for r in ratios)
    limit = 10 ** (6.0 / 20)
    assert all(1 / limit - 1e-2 <= r[0] <= limit + 1e-2 for r in ratios)
    assert abs(ratios[0][0] - ratios[1][0]) > 1e-3  # two draws, two gains
    assert np.allclose(levels[[0, 1, 3, 4, 6, 7]], 0.0, atol=1e-6)


def test_reverb_adds_a_decaying_tail_after_a_burst_and_nothing_before() -> None:
    features = np.full((4, 60), np.log(1e-5), dtype=np.float32)
    features[:, 20:22] = np.log(1.0 + 1e-5)  # a two-frame burst
    data = TranscriberDataConfig(reverb_prob=1.0, reverb_seconds=(0.5, 0.5))
    wet = np.exp(reverberate(features, np.random.default_rng(1), data, 50.0)) - 1e-5
    assert np.allclose(wet[:, :20], 0.0, atol=1e-6)
    tail = wet[0, 22:]
    assert tail[0] > 0.01 and np.all(np.diff(tail) < 0)  # decays
    assert tail[24] < tail[0] * 10 ** (-1.5)  # 24 frames (~0.5 s): well on its way to -60 dB


def test_targets_mark_onset_frame_and_offset_of_known_notes() -> None:
    config = TranscriberConfig.tiny()  # 50 frames/s, pitches 36..71
    notes = {
        "piano": [[0.2, 0.5, 60], [0.0, 0.2, 40], [0.1, 0.1, 90]],  # 90: out of range
        "bass": [[0.5, 2.0, 36]],  # ends after the crop
        "drums": [[0.3, 0.31, 36], [0.3, 0.3, 46], [0.6, 0.6, 64]],
    }
    piece = PieceData(
        np.zeros((config.n_bins, 100), np.float16),
        note_frames(notes, config),
        drum_frames(notes, config),
    )
    assert piece.notes[1].tolist() == [[10, 25, 24], [0, 10, 4]]  # piano is PITCHED[1]
    targets = crop_targets(piece, first=5, length=30, num_pitches=config.num_pitches)
    onset, frame, offset = targets["onset"], targets["frame"], targets["offset"]
    piano, bass = 1, 3

    def frames(head: np.ndarray, instrument: int, pitch: int) -> list[int]:
        return np.flatnonzero(head[instrument, pitch - config.min_pitch]).tolist()

    assert frames(onset, piano, 60) == [5]
    assert frames(frame, piano, 60) == list(range(5, 20))
    assert frames(offset, piano, 60) == [20]
    # Started before the crop: no onset; sounding up to its end at crop frame 5.
    assert frames(onset, piano, 40) == [] and frames(frame, piano, 40) == list(range(5))
    assert frames(offset, piano, 40) == [5]
    # Ends after the crop: no offset.
    assert frames(onset, bass, 36) == [20] and frames(frame, bass, 36) == list(range(20, 30))
    assert frames(offset, bass, 36) == []
    assert onset.sum() == 2 and frame.sum() == 15 + 5 + 10 and offset.sum() == 2
    drums = targets["drums"]  # kick (0) and hi-hat (2) at frame 15 - 5; conga -> percussion (5)
    assert {(int(k), int(t)) for k, t in zip(*np.nonzero(drums), strict=True)} == {
        (0, 10),
        (2, 10),
        (5, 25),
    }


def test_augment_is_a_gain_and_a_smooth_curve_on_the_energies() -> None:
    features = np.log(np.full((48, 10), 0.1) + 1e-5).astype(np.float32)
    data = TranscriberDataConfig(gain_db=6.0, eq_db=0.0)
    shifted = augment(features, np.random.default_rng(3), data) - features
    assert np.ptp(shifted) < 1e-4  # one gain for every bin and frame
    assert 0 < abs(float(shifted[0, 0])) <= 6.0 * np.log(10) / 20 + 1e-6
    curved = augment(features, np.random.default_rng(3), TranscriberDataConfig(gain_db=0.0))
    assert np.ptp(curved - features, axis=1).max() < 1e-4  # the same curve for every frame
    assert np.ptp((curved - features)[:, 0]) > 0.01


def _plain_bce_and_baseline(logits: torch.Tensor, target: torch.Tensor) -> tuple[float, float]:
    """Unweighted BCE of `logits`, and that of the best constant per output unit."""
    rate = target.mean(dim=(0, -1), keepdim=True).clamp(1e-6, 1 - 1e-6).expand_as(target)
    return (
        float(F.binary_cross_entropy_with_logits(logits, target)),
        float(F.binary_cross_entropy(rate, target)),
    )


def test_tiny_model_learns_notes_and_drums_of_a_synthetic_corpus(corpus: Path) -> None:
    task = TranscriberTask(_config(corpus))
    torch.manual_seed(0)
    data, model = task.build_dataset(), task.build_model()
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    rng = np.random.default_rng(0)

    def batch(size: int) -> dict[str, torch.Tensor]:
        items = [data.sample(int(rng.integers(len(data))), rng) for _ in range(size)]
        return {key: torch.stack([item[key] for item in items]) for key in items[0]}

    for step in range(80):
        out = task.training_step(model, batch(4), step, None)
        optimizer.zero_grad()
        out.loss.backward()
        optimizer.step()
    model.eval()
    held_out = batch(16)
    with torch.no_grad():
        logits = model(held_out["features"])
    frame, frame_baseline = _plain_bce_and_baseline(logits.frame, held_out["frame"])
    drums, drums_baseline = _plain_bce_and_baseline(logits.drums, held_out["drums"])
    assert frame < 0.6 * frame_baseline, (frame, frame_baseline)
    assert drums < 0.6 * drums_baseline, (drums, drums_baseline)


def test_tiny_run_through_the_cli_exports_a_working_transcriber(
    run_cli, corpus: Path, tmp_path: Path
) -> None:  # type: ignore[no-untyped-def]
    run = tmp_path / "run"
    sets = [f"data.corpus={corpus}", "train.max_steps=6", "train.log_every=3", "train.save_every=6"]
    args = [x for s in sets for x in ("--set", s)]
    result = run_cli("train", "transcriber", "--config", TINY, "--out", run, *args)
    assert result.code == 0, result.err
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert [r["step"] for r in records] == [3, 6]
    assert all(np.isfinite(r["loss"]) and "onset_bce" in r for r in records)
    assert records[-1]["loss"] < records[0]["loss"]
    model = Transcriber.from_pretrained(run / "final")
    assert model.config == TranscriberConfig.tiny()
    mix = load_audio(Corpus(corpus).mix_path(Corpus(corpus).pieces()[0]))
    assert set(transcribe(model, mix)) == set(INSTRUMENTS)


def test_a_missing_corpus_is_a_one_line_user_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("train", "transcriber", "--config", TINY, "--out", tmp_path / "run")
    assert result.code == 2
    assert result.err.startswith("error:") and "data.corpus" in result.err


@pytest.mark.slow
def test_tiny_run_on_a_real_built_corpus(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    from seedmusic.data.build import BuildConfig, build

    built = tmp_path / "corpus"
    build(BuildConfig(out=built, hours=0.001, workers=1, shard_size=2))
    corpus = Corpus(built)
    split = corpus.pieces()[0].split  # almost always "train"; any split trains the same way
    run = tmp_path / "run"
    sets = [f"data.corpus={built}", f"data.split={split}", "train.max_steps=3", "train.log_every=3"]
    args = [x for s in sets for x in ("--set", s)]
    result = run_cli("train", "transcriber", "--config", TINY, "--out", run, *args)
    assert result.code == 0, result.err
    model = Transcriber.from_pretrained(run / "final")
    mix = load_audio(corpus.mix_path(corpus.pieces()[0]))
    notes = transcribe(model, Audio(mix.samples[: 5 * mix.sample_rate], mix.sample_rate))
    assert set(notes) == set(INSTRUMENTS)
    # a fine-tune of that model on stem re-mixes with reverb starts from its weights
    tuned = tmp_path / "tuned"
    sets += [
        f"init_from={run / 'final'}",
        "data.stem_gain_db=6",
        "data.remix_prob=1",
        "data.reverb_prob=1",
        "train.max_steps=2",
        "train.log_every=1",
    ]
    config = load_config(TranscriberTaskConfig, TINY, sets)
    task = TranscriberTask(config)
    start = task.build_model().state_dict()
    assert all(torch.equal(start[k], v) for k, v in model.state_dict().items())
    crops = task.build_dataset()
    assert all(piece.stems is not None for piece in crops.pieces)
    assert torch.isfinite(crops.sample(0, np.random.default_rng(0))["features"]).all()
    args = [x for s in sets for x in ("--set", s)]
    result = run_cli("train", "transcriber", "--config", TINY, "--out", tuned, *args)
    assert result.code == 0, result.err
    missing = [*args, "--set", f"init_from={tmp_path / 'nothing'}"]
    result = run_cli("train", "transcriber", "--config", TINY, "--out", tmp_path / "x", *missing)
    assert result.code == 2 and result.err.startswith("error: init_from"), result.err
