"""The renderer's DiT end to end on a tiny built corpus: latents -> training -> rendering."""

from __future__ import annotations

import dataclasses
from pathlib import Path

import numpy as np
import pytest
import torch

from renderer.codec import AudioCodec
from renderer.dit import DitConfig, LatentDiT
from renderer.modeling import CheckpointError
from renderer.rvq import ResidualVQ, RvqConfig
from renderer.vae import Vae, VaeConfig
from score_tokens.frames import NUM_FRAME_FEATURES
from score_tokens.score import Score
from seedmusic.config import load_config
from seedmusic.data.corpus import Corpus
from seedmusic.data.latents import load_stem, read_info
from seedmusic.errors import UserError
from seedmusic.neural_render import NeuralRenderer, NeuralRenderSettings
from seedmusic.render_conditions import GLOBAL_DIM, global_width
from seedmusic.train.dit_task import DitTaskConfig, warm_start_dit

ROOT = Path(__file__).resolve().parents[2]
TINY = ROOT / "configs" / "dit" / "tiny.yaml"


def test_shipped_configs_fit_the_shipped_codec_and_the_score_frames() -> None:
    for name in ("tiny", "reference"):
        config = load_config(DitTaskConfig, ROOT / "configs" / "dit" / f"{name}.yaml")
        assert config.dit.frame_dim == NUM_FRAME_FEATURES
        assert config.dit.global_dim == GLOBAL_DIM
    reference = load_config(DitTaskConfig, ROOT / "configs" / "dit" / "reference.yaml")
    codec = VaeConfig.reference()
    assert reference.dit.latent_dim == codec.latent_channels
    assert reference.dit.codebook_size == RvqConfig.reference().codebook_size
    assert reference.dit.num_codebooks <= RvqConfig.reference().num_codebooks
    timbre = load_config(DitTaskConfig, ROOT / "configs" / "dit" / "timbre.yaml")
    assert timbre.dit.global_dim == global_width(codec.latent_channels, reference=True)
    assert 0 < timbre.data.reference_frames <= timbre.data.crop_frames
    assert timbre.init_from == "checkpoints/dit"
    assert timbre.dit == dataclasses.replace(reference.dit, global_dim=timbre.dit.global_dim)


def test_a_warm_start_with_a_wider_global_vector_computes_what_the_source_does(
    tmp_path: Path,
) -> None:
    torch.manual_seed(0)
    small = DitConfig.tiny()
    source = LatentDiT(small)
    with torch.no_grad():  # a trained-looking model: no zero weights anywhere
        for parameter in source.parameters():
            parameter.add_(0.05 * torch.randn_like(parameter))
    source.set_latent_statistics(torch.full((8,), 0.5), torch.full((8,), 2.0))
    source.save_pretrained(tmp_path / "source")
    wide = LatentDiT(dataclasses.replace(small, global_dim=small.global_dim + 9))
    warm_start_dit(wide, tmp_path / "source")
    assert float(wide.latent_std[0]) == 2.0
    noisy, t = torch.randn(2, 8, 12), torch.tensor([0.3, 0.8])
    glob = torch.randn(2, small.global_dim)
    extra = torch.randn(2, 9)
    for drop in (torch.tensor([False, False]), torch.tensor([True, False])):
        expected = source.eval()(noisy, t, global_embedding=glob, drop_conditions=drop)
        got = wide.eval()(
            noisy, t, global_embedding=torch.cat([glob, extra], 1), drop_conditions=drop
        )
        torch.testing.assert_close(got, expected)
    with pytest.raises(UserError, match="another shape"):
        warm_start_dit(LatentDiT(dataclasses.replace(small, num_layers=3)), tmp_path / "source")
    with pytest.raises(UserError, match="no readable DiT"):
        warm_start_dit(wide, tmp_path / "missing")


@pytest.mark.slow
def test_latents_hold_every_stem_at_the_codec_frame_rate(built: dict[str, Path], run_cli) -> None:  # type: ignore[no-untyped-def]
    corpus = Corpus(built["corpus"])
    piece = corpus.pieces()[0]
    info = read_info(built["latents"])
    assert (info["latent_dim"], info["num_codebooks"], info["frame_rate"]) == (8, 2, 250.0)
    mix = load_stem(built["latents"], "mix", piece.id)
    accompaniment = load_stem(built["latents"], "accompaniment", piece.id)
    assert mix is not None and accompaniment is not None
    latents, codes = mix
    assert latents.shape[0] == 8 and codes.shape == (2, latents.shape[1])
    assert abs(latents.shape[1] - piece.seconds * 250) <= 2
    # a re-run writes nothing; a codec of another shape is refused in one line
    result = run_cli(
        "data", "latents", "--corpus", built["corpus"], "--out", built["latents"],
        "--codec", built["codec"],
    )  # fmt: skip
    assert result.code == 0 and "mix 0 new" in result.out
    other = built["codec"].parent / "other-codec"
    torch.manual_seed(1)
    AudioCodec(Vae(VaeConfig.tiny_stft()), ResidualVQ(RvqConfig.tiny())).save_pretrained(other)
    result = run_cli(
        "data", "latents", "--corpus", built["corpus"], "--out", built["latents"], "--codec", other
    )
    assert result.code == 2 and result.err.startswith("error:") and "another codec" in result.err
    result = run_cli(
        "data", "latents", "--corpus", built["corpus"], "--out", other, "--stems", "kazoo"
    )
    assert result.code == 2 and "unknown stem" in result.err


def _data_args(built: dict[str, Path]) -> list[str]:
    """`--set` options pointing a tiny DiT run at the built corpus and its latents."""
    split = Corpus(built["corpus"]).pieces()[0].split
    sets = [
        f"data.corpus={built['corpus']}",
        f"data.latents={built['latents']}",
        f"data.split={split}",
    ]
    return [x for s in sets for x in ("--set", s)]


def _two_bars() -> Score:
    """The example song's first two bars."""
    from seedmusic.data.example_song import example_song

    score = example_song()
    score.end_tick = score.bar_starts()[2]
    for track in score.tracks.values():
        track.notes = [n for n in track.notes if n.end <= score.end_tick]
    return score


@pytest.mark.slow
def test_a_tiny_dit_trains_exports_and_renders_a_song_in_windows(  # type: ignore[no-untyped-def]
    built: dict[str, Path], run_cli, tmp_path: Path
) -> None:
    args = _data_args(built)
    result = run_cli("train", "dit", "--config", TINY, "--out", tmp_path / "run", *args)
    assert result.code == 0, result.err
    dit = LatentDiT.from_pretrained(tmp_path / "run" / "final")
    assert float(dit.latent_std.min()) > 0 and float(dit.latent_mean.abs().sum()) > 0
    renderer = NeuralRenderer(dit, AudioCodec.from_pretrained(built["codec"]))
    score = _two_bars()  # 1.2 k frames at 250 frames/s
    settings = NeuralRenderSettings(steps=2, guidance=1.5, window=400, overlap=100)
    audio, info = renderer.render(score, stems=True, seed=3, settings=settings)
    assert info["trained"] and set(info["timings"]) == {"dit", "vae"}
    assert {"mix", "vocal", "accompaniment"} <= set(audio)
    length = len(audio["mix"])
    assert abs(length - score.duration_seconds() * 8000) <= 32
    assert all(
        len(a) == length and a.dtype == np.float32 and np.isfinite(a).all() for a in audio.values()
    )
    np.testing.assert_allclose(audio["mix"], audio["vocal"] + audio["accompaniment"], atol=1e-6)
    again, _ = renderer.render(score, stems=False, seed=3, settings=settings)
    repeat, _ = renderer.render(score, stems=False, seed=3, settings=settings)
    np.testing.assert_array_equal(again["mix"], repeat["mix"])  # same seed, same audio
    with pytest.raises(CheckpointError, match="latents"):
        NeuralRenderer(
            LatentDiT(dit.config.__class__(**{**vars(dit.config), "latent_dim": 16})),
            renderer.codec,
        )


@pytest.mark.slow
def test_a_tiny_dit_learns_to_read_a_reference_and_edit_gives_it_the_songs(  # type: ignore[no-untyped-def]
    built: dict[str, Path], run_cli, tmp_path: Path
) -> None:
    from seedmusic.edit import edit_song

    args = _data_args(built)
    result = run_cli("train", "dit", "--config", TINY, "--out", tmp_path / "plain", *args)
    assert result.code == 0, result.err
    wide = ["--set", f"dit.global_dim={global_width(8, True)}"]
    result = run_cli(
        "train", "dit", "--config", TINY, "--out", tmp_path / "ref", *args, *wide,
        "--set", "data.reference_frames=32", "--set", f"init_from={tmp_path / 'plain' / 'final'}",
    )  # fmt: skip
    assert result.code == 0, result.err
    dit = LatentDiT.from_pretrained(tmp_path / "ref" / "final")
    renderer = NeuralRenderer(dit, AudioCodec.from_pretrained(built["codec"]))
    assert renderer.takes_reference
    score = _two_bars()
    settings = NeuralRenderSettings(steps=2, window=400, overlap=100)
    audio, _ = renderer.render(score, seed=1, settings=settings)
    assert np.isfinite(audio["mix"]).all()
    edited = score.copy()
    edited.tracks["vocal"].notes = [
        dataclasses.replace(n, pitch=n.pitch + 2) for n in score.tracks["vocal"].notes
    ]
    source = np.stack([audio["mix"], audio["mix"]]).astype(np.float64)
    result_song = edit_song(renderer, source, 8000, score, edited, settings=settings)
    assert result_song.audio.shape == source.shape and np.isfinite(result_song.audio).all()
    # a reference-reading run needs the wider global vector
    result = run_cli(
        "train", "dit", "--config", TINY, "--out", tmp_path / "bad", *args,
        "--set", "data.reference_frames=32",
    )  # fmt: skip
    assert result.code == 2 and "global_dim" in result.err


def test_training_without_latents_is_a_one_line_user_error(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    result = run_cli("train", "dit", "--config", TINY, "--out", tmp_path / "run")
    assert result.code == 2
    assert result.err.startswith("error:") and "data.corpus" in result.err
