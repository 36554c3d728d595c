"""The audio codec bundle: VAE + RVQ, files in and out, save/load."""

from __future__ import annotations

import dataclasses
import math
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from renderer.codec import AudioCodec, load_audio
from renderer.modeling import CheckpointError
from renderer.rvq import ResidualVQ, RvqConfig
from renderer.vae import Vae, VaeConfig


def _rvq_config(dim: int) -> RvqConfig:
    return dataclasses.replace(RvqConfig.tiny(), dim=dim)


@pytest.fixture
def codec() -> AudioCodec:
    torch.manual_seed(0)
    vae = Vae(VaeConfig.tiny())
    return AudioCodec(vae, ResidualVQ(_rvq_config(vae.latent_channels))).eval()


def test_properties(codec: AudioCodec) -> None:
    assert codec.sample_rate == 8000
    assert codec.frame_rate == 1000.0
    assert codec.num_codebooks == codec.rvq.config.num_codebooks
    expected = codec.frame_rate * codec.num_codebooks * math.log2(codec.codebook_size)
    assert codec.bitrate == pytest.approx(expected)


@pytest.mark.parametrize("length", [8, 30, 64])
def test_encode_decode_shapes(codec: AudioCodec, length: int) -> None:
    wav = torch.randn(2, 1, length) * 0.1
    with torch.no_grad():
        codes = codec.encode(wav)
        frames = math.ceil(length / codec.hop_length)
        assert codes.shape == (2, codec.num_codebooks, frames)
        assert codes.dtype == torch.int64
        assert int(codes.min()) >= 0 and int(codes.max()) < codec.codebook_size
        assert codec.encode_latents(wav).shape == (2, codec.vae.latent_channels, frames)
        assert codec.decode(codes).shape == (2, 1, frames * codec.hop_length)
        assert codec.decode(codes, length=length).shape == (2, 1, length)


def test_encode_is_deterministic(codec: AudioCodec) -> None:
    wav = torch.randn(1, 1, 48) * 0.1
    with torch.no_grad():
        assert torch.equal(codec.encode(wav), codec.encode(wav))


def test_bad_inputs_raise(codec: AudioCodec) -> None:
    with pytest.raises(ValueError, match="8000 Hz"):
        codec.encode(torch.zeros(1, 1, 64), sample_rate=16000)
    with pytest.raises(ValueError, match="audio must be"):
        codec.encode(torch.zeros(1, 2, 64))
    K = codec.num_codebooks
    with pytest.raises(ValueError, match="codebooks"):
        codec.decode(torch.zeros(1, K + 1, 4, dtype=torch.long))
    with pytest.raises(ValueError, match="must lie in"):
        codec.decode(torch.full((1, K, 4), codec.codebook_size, dtype=torch.long))
    with pytest.raises(ValueError, match="integers"):
        codec.decode(torch.zeros(1, K, 4))


def test_mismatched_parts_raise() -> None:
    vae = Vae(VaeConfig.tiny())
    with pytest.raises(ValueError, match="latent channels"):
        AudioCodec(vae, ResidualVQ(_rvq_config(vae.latent_channels + 1)))


def test_save_load_gives_identical_outputs(codec: AudioCodec, tmp_path: Path) -> None:
    wav = torch.randn(1, 1, 40) * 0.1
    codec.save_pretrained(tmp_path / "codec")
    assert (tmp_path / "codec" / "vae" / "model.safetensors").is_file()
    assert (tmp_path / "codec" / "rvq" / "model.safetensors").is_file()
    loaded = AudioCodec.from_pretrained(tmp_path / "codec")
    with torch.no_grad():
        codes = codec.encode(wav)
        assert torch.equal(loaded.encode(wav), codes)
        assert torch.equal(loaded.decode(codes), codec.decode(codes))


def test_loading_a_broken_folder_raises(codec: AudioCodec, tmp_path: Path) -> None:
    with pytest.raises(CheckpointError, match="no rvq/"):
        codec.vae.save_pretrained(tmp_path / "half" / "vae")
        AudioCodec.from_pretrained(tmp_path / "half")
    # parts saved from different configs: the RVQ dim no longer matches the VAE latents
    other = Vae(dataclasses.replace(VaeConfig.tiny(), latent_channels=4))
    other.save_pretrained(tmp_path / "mixed" / "vae")
    codec.rvq.save_pretrained(tmp_path / "mixed" / "rvq")
    with pytest.raises(CheckpointError, match="latent channels"):
        AudioCodec.from_pretrained(tmp_path / "mixed")


def test_file_round_trip_resamples_and_mixes(codec: AudioCodec, tmp_path: Path) -> None:
    rate, seconds = 16000, 0.05
    t = np.arange(int(rate * seconds)) / rate
    stereo = np.stack([np.sin(2 * np.pi * 300 * t), 0.5 * np.sin(2 * np.pi * 500 * t)], axis=1)
    source = tmp_path / "in.wav"
    sf.write(source, stereo.astype(np.float32), rate)

    codes = codec.encode_file(source)
    samples = int(seconds * codec.sample_rate)
    assert codes.shape == (codec.num_codebooks, math.ceil(samples / codec.hop_length))

    out = codec.decode_to_file(codes, tmp_path / "out" / "decoded.wav", length=samples)
    data, out_rate = sf.read(out, always_2d=True)
    assert out_rate == codec.sample_rate
    assert data.shape == (samples, 1)
    assert sorted(p.name for p in out.parent.iterdir()) == ["decoded.wav"]  # no temp files left


def test_load_audio_channels_and_rate(tmp_path: Path) -> None:
    mono = tmp_path / "mono.wav"
    sf.write(mono, np.linspace(-0.5, 0.5, 800, dtype=np.float32), 8000)
    stereo = load_audio(mono, 8000, 2)
    assert stereo.shape == (2, 800) and np.array_equal(stereo[0], stereo[1])
    assert load_audio(mono, 4000, 1).shape == (1, 400)


def test_load_audio_errors(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_audio(tmp_path / "missing.wav", 8000, 1)
    junk = tmp_path / "junk.wav"
    junk.write_bytes(b"not audio at all")
    with pytest.raises(ValueError, match="unreadable audio"):
        load_audio(junk, 8000, 1)


@pytest.mark.parametrize("config", ["tiny", "tiny_pitch", "tiny_low_band"])
def test_long_audio_is_coded_in_windows_that_match_the_whole(
    config: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    import renderer.codec as codec_module

    torch.manual_seed(0)
    vae = Vae(getattr(VaeConfig, config)())
    codec = AudioCodec(vae, ResidualVQ(_rvq_config(vae.latent_channels))).eval()
    wav = 0.3 * torch.randn(1, vae.config.audio_channels, 297 * codec.hop_length + 5)
    with torch.no_grad():
        whole_latents = codec.vae.encode(wav).mean  # [1, D, 298]
        whole_audio = codec.vae.decode(whole_latents, length=wav.shape[-1])
        monkeypatch.setattr(codec_module, "WINDOW_FRAMES", 20)
        monkeypatch.setattr(codec_module, "MARGIN_FRAMES", 40)  # a tiny model sees far
        latents = codec.encode_latents(wav)
        audio = codec.decode_latents(whole_latents, length=wav.shape[-1])
    assert latents.shape == whole_latents.shape and audio.shape == whole_audio.shape
    torch.testing.assert_close(latents, whole_latents, atol=1e-4, rtol=1e-4)
    torch.testing.assert_close(audio, whole_audio, atol=1e-4, rtol=1e-4)


def test_long_files_are_read_in_blocks_as_they_are_read_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import renderer.codec as codec_module

    rng = np.random.default_rng(0)
    path = tmp_path / "long.wav"
    sf.write(path, rng.uniform(-0.5, 0.5, size=(44_100 * 3 + 17, 2)), 44_100, subtype="FLOAT")
    whole = load_audio(path, 24_000, 1)
    monkeypatch.setattr(codec_module, "STREAM_SECONDS", 1.0)
    monkeypatch.setattr(codec_module, "BLOCK_SECONDS", 0.7)
    blocks = load_audio(path, 24_000, 1)
    assert blocks.shape == whole.shape == (1, math.ceil((44_100 * 3 + 17) * 24_000 / 44_100))
    np.testing.assert_allclose(blocks, whole, atol=1e-4)
    assert load_audio(path, 24_000, 2).shape == (2, whole.shape[1])
    broken = rng.uniform(-0.5, 0.5, size=(44_100 * 3, 1))
    broken[44_100 * 2 + 5] = np.nan  # in a later block
    sf.write(tmp_path / "nan.wav", broken, 44_100, subtype="FLOAT")
    with pytest.raises(ValueError, match="NaN or infinite"):
        load_audio(tmp_path / "nan.wav", 24_000, 1)
