"""Shared test helpers: run the CLI in-process and capture its output."""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")
os.environ.setdefault("TRANSFORMERS_OFFLINE", "1")
os.environ.setdefault("MPLBACKEND", "Agg")
# Two pytest-xdist workers compiling into one numba cache at once can crash (a segfault in
# librosa's cached gufuncs was seen with an empty cache): give each worker its own folder.
# numba reads the variable when it is first imported, which is after this file runs.
if os.environ.get("PYTEST_XDIST_WORKER") and os.environ.get("NUMBA_CACHE_DIR"):
    os.environ["NUMBA_CACHE_DIR"] = os.path.join(
        os.environ["NUMBA_CACHE_DIR"], os.environ["PYTEST_XDIST_WORKER"]
    )


@dataclass
class CliResult:
    code: int
    out: str
    err: str


@pytest.fixture
def run_cli(capsys: pytest.CaptureFixture[str]):
    """Call `seedmusic` in-process: `run_cli("analyze", "x.wav", "-o", d)` -> CliResult."""
    from seedmusic.cli import main

    def _run(*args: str) -> CliResult:
        try:
            code = main([str(a) for a in args])
        except SystemExit as exc:  # argparse exits for --help and usage errors
            code = int(exc.code or 0)
        captured = capsys.readouterr()
        return CliResult(code, captured.out, captured.err)

    return _run


@pytest.fixture(scope="session")
def tiny_composer(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A saved, untrained tiny `ComposerLM` whose text vector is MiniLM-wide (384)."""
    import torch

    from seedmusic.composer.model import ComposerConfig, ComposerLM, composer_conditions

    torch.manual_seed(0)
    config = ComposerConfig(
        hidden_size=32,
        num_layers=2,
        num_heads=4,
        num_kv_heads=2,
        intermediate_size=64,
        max_positions=4096,
        conditions=composer_conditions(),
    )
    folder = tmp_path_factory.mktemp("composer")
    ComposerLM(config).save_pretrained(folder)
    return folder


@pytest.fixture(scope="session")
def built(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """A tiny 8 kHz corpus, a tiny random codec, and the codec's latents of the corpus (the
    folders `corpus`, `codec`, `latents`): what the DiT trains on and the renderer benchmark
    reads."""
    import torch

    from renderer.codec import AudioCodec
    from renderer.rvq import ResidualVQ, RvqConfig
    from renderer.vae import Vae, VaeConfig
    from seedmusic.data.build import BuildConfig, build
    from seedmusic.data.latents import encode_corpus

    root = tmp_path_factory.mktemp("dit")
    build(BuildConfig(out=root / "corpus", hours=0.001, workers=1, shard_size=2, sample_rate=8000))
    torch.manual_seed(0)
    AudioCodec(Vae(VaeConfig.tiny_stft()), ResidualVQ(RvqConfig.tiny())).save_pretrained(
        root / "codec"
    )
    encode_corpus(root / "corpus", root / "codec", root / "latents", progress=False)
    return {"corpus": root / "corpus", "codec": root / "codec", "latents": root / "latents"}


def pytest_configure(config: pytest.Config) -> None:
    # pytest-xdist registers `xdist_group` itself; without it (`-p no:xdist`) the marker would be
    # unknown under --strict-markers.
    config.addinivalue_line("markers", "xdist_group(name): run these tests on one xdist worker")
