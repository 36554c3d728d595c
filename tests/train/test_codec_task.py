"""The codec task on a few seconds of synthetic audio: all phases run and export a codec."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import soundfile as sf
import torch

from renderer.codec import AudioCodec
from seedmusic.config import load_config
from seedmusic.train.codec_task import CodecTaskConfig

ROOT = Path(__file__).resolve().parents[2]


def test_both_shipped_configs_load() -> None:
    for name in ("tiny", "reference"):
        config = load_config(CodecTaskConfig, ROOT / "configs" / "codec" / f"{name}.yaml")
        assert config.rvq.dim == config.vae.latent_channels


def test_tiny_codec_run_trains_every_phase_and_exports(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    audio = tmp_path / "audio"
    audio.mkdir()
    t = np.arange(16000) / 16000
    for i, freq in enumerate((220.0, 330.0)):
        sf.write(audio / f"tone{i}.wav", 0.3 * np.sin(2 * np.pi * freq * t), 16000)  # resampled
    run = tmp_path / "run"
    sets = ["train.max_steps=6", "loss.rvq_start_step=2", "loss.adversarial_start_step=4"]
    args = ["--set", f"data.audio_dir={audio}", *[x for s in sets for x in ("--set", s)]]
    result = run_cli(
        "train", "codec", "--config", ROOT / "configs/codec/tiny.yaml", "--out", run, *args
    )
    assert result.code == 0, result.err
    records = [json.loads(line) for line in (run / "metrics.jsonl").read_text().splitlines()]
    assert "d_loss" in records[-1] and "rvq_mse" in records[-1]
    assert all(np.isfinite(r["loss"]) for r in records)
    codec = AudioCodec.from_pretrained(run / "final")
    codes = codec.encode(torch.zeros(1, 1, 800))  # 0.1 s at 8 kHz, hop 8
    assert codes.shape == (1, 2, 100)
    assert codec.decode(codes).shape == (1, 1, 800)
