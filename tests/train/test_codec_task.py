"""The codec task on a few seconds of synthetic audio: all phases run and export a codec."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from renderer.codec import AudioCodec
from renderer.vae import Vae, VaeConfig
from seedmusic.config import load_config
from seedmusic.train.codec_task import CodecTaskConfig

ROOT = Path(__file__).resolve().parents[2]


def test_every_shipped_config_loads() -> None:
    for name in ("tiny", "reference", "stft-v1", "large", "stereo44k", "decoder-finetune"):
        config = load_config(CodecTaskConfig, ROOT / "configs" / "codec" / f"{name}.yaml")
        assert config.rvq.dim == config.vae.latent_channels
        assert config.vae.frame_rate <= 25 or name == "tiny"
    reference = load_config(CodecTaskConfig, ROOT / "configs" / "codec" / "reference.yaml")
    assert reference.vae == VaeConfig.reference()
    assert reference.rvq.num_codebooks * 10 * reference.vae.frame_rate <= 3000  # <= 3 kbps
    v1 = load_config(CodecTaskConfig, ROOT / "configs" / "codec" / "stft-v1.yaml")
    assert v1.vae == VaeConfig.reference_v1()
    stereo = load_config(CodecTaskConfig, ROOT / "configs" / "codec" / "stereo44k.yaml")
    assert (stereo.vae.sample_rate, stereo.vae.audio_channels) == (44100, 2)
    assert stereo.discriminator.audio_channels == 2


def test_stereo_44k_config_trains_shrunk_and_exports(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    audio = tmp_path / "audio"
    audio.mkdir()
    t = np.arange(22050) / 22050
    stereo = np.stack([np.sin(2 * np.pi * 220 * t), np.sin(2 * np.pi * 330 * t)], axis=1)
    sf.write(audio / "stereo.wav", 0.3 * stereo, 22050)  # resampled to 44.1 kHz
    shrink = [
        f"data.audio_dir={audio}",
        "data.crop_seconds=0.2",
        "train.max_steps=3",
        "train.batch_size=2",
        "train.mixed_precision=no",
        "train.num_workers=0",
        "vae.encoder_hidden_size=8",
        "vae.decoder_channels=8",
        "rvq.codebook_size=16",
        "discriminator.channels=4",
        "loss.rvq_start_step=1",
        "loss.adversarial_start_step=2",
    ]
    run = tmp_path / "run"
    args = [x for s in shrink for x in ("--set", s)]
    config = ROOT / "configs/codec/stereo44k.yaml"
    result = run_cli("train", "codec", "--config", config, "--out", run, *args)
    assert result.code == 0, result.err
    codec = AudioCodec.from_pretrained(run / "final")
    codes = codec.encode(torch.zeros(1, 2, 44100))
    assert codes.shape == (1, 8, 25)
    assert codec.decode(codes).shape == (1, 2, 44100)


@pytest.mark.parametrize("architecture", ["oobleck", "stft"])
def test_tiny_codec_run_trains_every_phase_and_exports(
    run_cli, tmp_path: Path, architecture: str
) -> None:  # type: ignore[no-untyped-def]
    audio = tmp_path / "audio"
    audio.mkdir()
    t = np.arange(16000) / 16000
    for i, freq in enumerate((220.0, 330.0)):
        sf.write(audio / f"tone{i}.wav", 0.3 * np.sin(2 * np.pi * freq * t), 16000)  # resampled
    run = tmp_path / "run"
    sets = ["train.max_steps=6", "loss.rvq_start_step=2", "loss.adversarial_start_step=4"]
    if architecture == "stft":  # n_fft 64, hop 4 x 2 = 8: the same latent rate as oobleck's
        sets += [
            "vae.architecture=stft",
            "vae.n_fft=64",
            "vae.stft_hop=4",
            "vae.downsampling_ratios=[2]",
            "vae.channel_multiples=[1]",
        ]
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


def test_warm_start_keeps_the_source_encoder_and_starts_phases_coherent(tmp_path: Path) -> None:
    from renderer.rvq import ResidualVQ, RvqConfig
    from renderer.vae import Vae
    from seedmusic.train.codec_task import warm_start_vae

    torch.manual_seed(0)
    source = Vae(VaeConfig.tiny_stft()).eval()
    AudioCodec(
        source, ResidualVQ(RvqConfig(dim=8, num_codebooks=2, codebook_size=16))
    ).save_pretrained(tmp_path / "v1")
    widened = Vae(VaeConfig.tiny_pitch()).eval()
    warm_start_vae(widened, tmp_path / "v1")
    wav = 0.1 * torch.randn(1, 1, 800)
    with torch.no_grad():
        assert torch.allclose(widened.encode(wav).mean, source.encode(wav).mean, atol=1e-5)
        bins = widened.config.n_fft // 2 + 1
        out, ref = widened.spectral_decoder.conv_out, source.spectral_decoder.conv_out
        assert torch.equal(out.weight_v, ref.weight_v)  # weight norm: weight = g * v / |v|
        assert torch.equal(out.weight_g[:bins], ref.weight_g[:bins]), "magnitude rows copied"
        assert out.weight_g[bins:].abs().max() < 1e-2 * ref.weight_g[bins:].abs().max()
        assert not out.bias[bins:].any(), "phase rows start at each bin's own rate"


def test_warm_start_from_a_folder_without_a_codec_is_a_user_error(tmp_path: Path) -> None:
    from renderer.vae import Vae
    from seedmusic.errors import UserError
    from seedmusic.train.codec_task import warm_start_vae

    with pytest.raises(UserError, match="not a codec checkpoint"):
        warm_start_vae(Vae(VaeConfig.tiny_pitch()), tmp_path)


def test_warm_start_keeps_learnt_phase_increments_and_refuses_other_shapes(tmp_path: Path) -> None:
    from renderer.rvq import ResidualVQ, RvqConfig
    from renderer.vae import Vae
    from seedmusic.errors import UserError
    from seedmusic.train.codec_task import warm_start_vae

    torch.manual_seed(0)
    rvq = ResidualVQ(RvqConfig(dim=8, num_codebooks=2, codebook_size=16))
    source = Vae(VaeConfig.tiny_pitch()).eval()
    AudioCodec(source, rvq).save_pretrained(tmp_path / "v2")
    again = Vae(VaeConfig.tiny_pitch()).eval()
    warm_start_vae(again, tmp_path / "v2")
    for name, tensor in source.state_dict().items():
        assert torch.equal(again.state_dict()[name], tensor), name
    other = Vae(VaeConfig.tiny()).eval()  # the waveform architecture: nothing fits
    with pytest.raises(UserError, match="another shape"):
        warm_start_vae(other, tmp_path / "v2")


def test_a_decoder_fine_tune_keeps_the_encoder_and_the_rvq(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    audio = tmp_path / "audio"
    audio.mkdir()
    t = np.arange(8000) / 8000
    for i, freq in enumerate((55.0, 82.5)):  # bass notes: what the decoder's low band is for
        sf.write(audio / f"bass{i}.wav", 0.3 * np.sin(2 * np.pi * freq * t), 8000)
    pitch = [
        "vae.architecture=stft",
        "vae.n_fft=64",
        "vae.stft_hop=4",
        "vae.downsampling_ratios=[2]",
        "vae.channel_multiples=[1]",
        "vae.low_band_fft=256",
        "vae.phase=increment",
        f"data.audio_dir={audio}",
        "train.max_steps=4",
        "loss.rvq_start_step=1",
    ]
    config = ROOT / "configs/codec/tiny.yaml"

    def train(out: Path, *sets: str) -> int:
        args = [x for s in [*pitch, *sets] for x in ("--set", s)]
        result = run_cli("train", "codec", "--config", config, "--out", out, *args)
        assert result.code in (0, 2), result.err
        return result.code

    assert train(tmp_path / "base") == 0
    low_band = ["vae.decoder_low_band_fft=256", "vae.decoder_low_band_hz=500"]
    assert train(tmp_path / "orphan", *low_band, "freeze_encoder=true") == 2  # no init_from
    assert not (tmp_path / "orphan" / "final").exists()
    sets = [*low_band, f"init_from={tmp_path / 'base/final'}", "freeze_encoder=true"]
    assert train(tmp_path / "tuned", *sets, "quantized_share=0.5") == 0

    base = AudioCodec.from_pretrained(tmp_path / "base/final")
    tuned = AudioCodec.from_pretrained(tmp_path / "tuned/final")
    assert tuned.vae.config.decoder_low_band_fft == 256
    for name, tensor in base.vae.spectral_encoder.state_dict().items():
        assert torch.equal(tuned.vae.spectral_encoder.state_dict()[name], tensor), name
    for name, tensor in base.rvq.state_dict().items():
        assert torch.equal(tuned.rvq.state_dict()[name], tensor), name
    wav = torch.from_numpy(0.3 * np.sin(2 * np.pi * 55.0 * t[:800])).float()[None, None]
    assert torch.equal(tuned.encode(wav), base.encode(wav)), "the same tokens"
    decoder = tuned.vae.spectral_decoder.state_dict()
    assert not torch.equal(
        decoder["conv_in.bias"], base.vae.spectral_decoder.state_dict()["conv_in.bias"]
    )
    start = Vae(tuned.vae.config).spectral_decoder.low_band_out.bias
    assert not torch.equal(decoder["low_band_out.bias"], start), "the low band trained"
