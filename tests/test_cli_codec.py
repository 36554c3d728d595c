"""`seedmusic codec encode/decode` on a tiny codec built here, with good and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from renderer.codec import AudioCodec
from renderer.rvq import ResidualVQ, RvqConfig
from renderer.vae import Vae, VaeConfig


@pytest.fixture(scope="module")
def checkpoint(tmp_path_factory: pytest.TempPathFactory) -> Path:
    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("codec")
    AudioCodec(Vae(VaeConfig.tiny()), ResidualVQ(RvqConfig.tiny())).save_pretrained(folder)
    return folder


@pytest.fixture
def wav(tmp_path: Path) -> Path:
    path = tmp_path / "tone.wav"
    t = np.arange(22050) / 22050
    stereo = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)], axis=1) * 0.3
    sf.write(path, stereo.astype(np.float32), 22050)
    return path


def one_error_line(result) -> bool:
    lines = result.err.strip().splitlines()
    return result.code == 2 and len(lines) == 1 and lines[0].startswith("error:")


def test_encode_then_decode_gives_audio_of_the_input_length(run_cli, checkpoint, wav, tmp_path):
    codes = tmp_path / "codes.npz"
    result = run_cli("codec", "encode", wav, "-o", codes, "--checkpoint", checkpoint)
    assert result.code == 0, result.err
    with np.load(codes) as data:
        assert data["codes"].shape == (2, 1000)  # 1 s at 8 kHz, hop 8
        assert int(data["sample_rate"]) == 8000 and int(data["codebook_size"]) == 16
        assert float(data["frame_rate"]) == 1000.0 and int(data["num_samples"]) == 8000
    out = tmp_path / "out.wav"
    result = run_cli("codec", "decode", codes, "-o", out, "--checkpoint", checkpoint)
    assert result.code == 0, result.err
    audio, rate = sf.read(out)
    assert rate == 8000 and audio.shape == (8000,)


def test_fewer_codebooks_lower_the_bitrate_and_still_decode(run_cli, checkpoint, wav, tmp_path):
    codes = tmp_path / "codes.npz"
    args = ("codec", "encode", wav, "-o", codes, "--checkpoint", checkpoint, "--num-codebooks", "1")
    assert run_cli(*args).code == 0
    with np.load(codes) as data:
        assert data["codes"].shape[0] == 1
    out = tmp_path / "out.flac"
    assert run_cli("codec", "decode", codes, "-o", out, "--checkpoint", checkpoint).code == 0
    assert out.is_file()


@pytest.mark.parametrize("case", ["missing", "random-bytes", "empty", "nan"])
def test_bad_audio_is_one_error_line_and_writes_nothing(run_cli, checkpoint, tmp_path, case):
    audio = tmp_path / "in.wav"
    if case == "nan":
        samples = np.zeros(8000, dtype=np.float32)
        samples[10] = np.nan
        sf.write(audio, samples, 8000, subtype="FLOAT")
    if case == "random-bytes":
        audio.write_bytes(np.random.default_rng(0).bytes(4096))
    elif case == "empty":
        sf.write(audio, np.zeros(0, dtype=np.float32), 8000)
    codes = tmp_path / "codes.npz"
    result = run_cli("codec", "encode", audio, "-o", codes, "--checkpoint", checkpoint)
    assert one_error_line(result), result.err
    assert not codes.exists() and not list(tmp_path.glob(".codes*"))


def test_bad_codes_files_are_one_error_line(run_cli, checkpoint, tmp_path):
    out = tmp_path / "out.wav"
    garbage = tmp_path / "garbage.npz"
    garbage.write_bytes(b"not a zip")
    other_rate = tmp_path / "other.npz"
    np.savez(
        other_rate,
        codes=np.zeros((2, 4), np.int16),
        sample_rate=16000,
        frame_rate=100.0,
        codebook_size=16,
    )
    incomplete = tmp_path / "incomplete.npz"
    np.savez(incomplete, codes=np.zeros((2, 4), np.int16))
    out_of_range = tmp_path / "range.npz"
    np.savez(
        out_of_range,
        codes=np.full((2, 4), 99, np.int16),
        sample_rate=8000,
        frame_rate=1000.0,
        codebook_size=16,
    )
    for path in (tmp_path / "missing.npz", garbage, other_rate, incomplete, out_of_range):
        result = run_cli("codec", "decode", path, "-o", out, "--checkpoint", checkpoint)
        assert one_error_line(result), (path.name, result.err)
    assert not out.exists()


def test_wrong_suffixes_and_a_missing_reference_checkpoint(run_cli, wav, tmp_path, monkeypatch):
    assert one_error_line(run_cli("codec", "encode", wav, "-o", tmp_path / "codes.txt"))
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(tmp_path / "none"))
    result = run_cli("codec", "encode", wav, "-o", tmp_path / "codes.npz")
    assert one_error_line(result) and "seedmusic train codec" in result.err
