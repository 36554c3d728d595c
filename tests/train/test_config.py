"""Config loading: YAML/JSON files, `--set` overrides with types, unknown keys, write-back."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

import pytest

from seedmusic.config import ConfigError, load_config, save_config
from seedmusic.train import TrainConfig
from tests.train.toy_task import ToyTaskConfig


@dataclass(frozen=True)
class Inner:
    width: int = 8
    name: str = "x"
    scale: float = 1.0
    sizes: tuple[int, ...] = (1, 2)
    tag: str | None = None


@dataclass(frozen=True)
class Outer:
    train: TrainConfig = field(default_factory=TrainConfig)
    inner: Inner = field(default_factory=Inner)
    mode: Literal["no", "yes"] = "no"
    flag: bool = False


def _write(tmp_path: Path, text: str, name: str = "c.yaml") -> Path:
    path = tmp_path / name
    path.write_text(text)
    return path


def test_yaml_file_with_defaults_and_yaml12_scalars(tmp_path: Path) -> None:
    path = _write(tmp_path, "train:\n  lr: 1e-3\n  mixed_precision: no\ninner:\n  width: 16\n")
    config = load_config(Outer, path)
    assert config.train.lr == 1e-3 and isinstance(config.train.lr, float)
    assert config.train.mixed_precision == "no"
    assert config.inner == Inner(width=16)
    assert config.train.max_steps == TrainConfig().max_steps


def test_json_file(tmp_path: Path) -> None:
    path = _write(tmp_path, '{"inner": {"sizes": [3, 4]}, "flag": true}', "c.json")
    config = load_config(Outer, path)
    assert config.inner.sizes == (3, 4) and config.flag is True


@pytest.mark.parametrize(
    ("override", "check"),
    [
        ("train.lr=3e-4", lambda c: c.train.lr == 3e-4),
        ("train.max_steps=5", lambda c: c.train.max_steps == 5),
        ("inner.scale=2", lambda c: c.inner.scale == 2.0 and isinstance(c.inner.scale, float)),
        ("inner.name=no", lambda c: c.inner.name == "no"),
        ("inner.name=123", lambda c: c.inner.name == "123"),
        ("inner.sizes=[4, 5, 6]", lambda c: c.inner.sizes == (4, 5, 6)),
        ("inner.tag=null", lambda c: c.inner.tag is None),
        ("inner.tag=drums", lambda c: c.inner.tag == "drums"),
        ("mode=yes", lambda c: c.mode == "yes"),
        ("flag=true", lambda c: c.flag is True),
        ("train.mixed_precision=bf16", lambda c: c.train.mixed_precision == "bf16"),
    ],
)
def test_set_overrides_are_typed(override: str, check) -> None:  # type: ignore[no-untyped-def]
    assert check(load_config(Outer, None, [override]))


def test_override_wins_over_file(tmp_path: Path) -> None:
    path = _write(tmp_path, "inner:\n  width: 16\n")
    assert load_config(Outer, path, ["inner.width=32"]).inner.width == 32


@pytest.mark.parametrize(
    ("override", "message"),
    [
        ("train.lrr=1", "unknown key 'train.lrr'"),
        ("nope=1", "unknown key 'nope'"),
        ("inner.width.x=1", "inner.width has no sub-keys"),
        ("train.max_steps=many", "expected an integer"),
        ("train.lr=fast", "expected a number"),
        ("flag=maybe", "expected true/false"),
        ("mode=perhaps", "is not one of"),
        ("train.max_steps", "expected KEY=VALUE"),
        ("train.max_steps=0", "max_steps must be >= 1"),
    ],
)
def test_bad_overrides_name_the_problem(override: str, message: str) -> None:
    with pytest.raises(ConfigError, match=message.replace(".", r"\.").replace("'", "'")):
        load_config(Outer, None, [override])


def test_unknown_key_in_file_is_an_error(tmp_path: Path) -> None:
    path = _write(tmp_path, "inner:\n  widht: 16\n")
    with pytest.raises(ConfigError, match="widht"):
        load_config(Outer, path)


def test_bad_files(tmp_path: Path) -> None:
    with pytest.raises(FileNotFoundError):
        load_config(Outer, tmp_path / "missing.yaml")
    with pytest.raises(ConfigError, match=r"must be \.yaml"):
        load_config(Outer, _write(tmp_path, "x", "c.txt"))
    with pytest.raises(ConfigError, match="not valid YAML"):
        load_config(Outer, _write(tmp_path, "a: [1,\n"))
    with pytest.raises(ConfigError, match="top level must be a mapping"):
        load_config(Outer, _write(tmp_path, "- 1\n- 2\n"))


def test_save_then_load_is_equal(tmp_path: Path) -> None:
    config = load_config(Outer, None, ["train.lr=1e-5", "inner.name=no", "mode=yes", "inner.tag=a"])
    path = save_config(config, tmp_path / "run" / "config.yaml")
    assert load_config(Outer, path) == config


def test_train_config_lr_schedule() -> None:
    cfg = TrainConfig(lr=1.0, warmup_steps=4, max_steps=14, min_lr_ratio=0.1)
    assert [cfg.lr_at(s) for s in range(4)] == [0.25, 0.5, 0.75, 1.0]
    assert cfg.lr_at(4) == 1.0 and cfg.lr_at(14) == pytest.approx(0.1)
    assert all(cfg.lr_at(s) >= cfg.lr_at(s + 1) for s in range(4, 14))


def test_train_verb_reports_config_mistakes_as_one_line(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    toy, config = "tests.train.toy_task:ToyTask", "tests/train/configs/toy.yaml"
    result = run_cli("train", toy, "--config", config, "--set", "train.lrr=1", "--out", tmp_path)
    assert result.code == 2 and result.err.count("\n") == 1
    assert "unknown key 'train.lrr'" in result.err
    result = run_cli("train", toy, "--config", tmp_path / "missing.yaml", "--out", tmp_path)
    assert result.code == 2 and result.err.startswith("error:") and "missing.yaml" in result.err
    result = run_cli("train", "nosuchmodel", "--config", config)
    assert result.code == 2 and "unknown training task 'nosuchmodel'" in result.err
    result = run_cli("train", toy, "--out", tmp_path)
    assert result.code == 2 and "--config" in result.err


def test_train_verb_trains_and_refuses_to_overwrite(run_cli, tmp_path: Path) -> None:  # type: ignore[no-untyped-def]
    toy, config = "tests.train.toy_task:ToyTask", "tests/train/configs/toy.yaml"
    args = ("train", toy, "--config", config, "--set", "train.max_steps=2", "--out", tmp_path / "r")
    assert run_cli(*args).code == 0
    assert (tmp_path / "r" / "final" / "model.safetensors").is_file()
    assert load_config(ToyTaskConfig, tmp_path / "r" / "config.yaml").train.max_steps == 2
    again = run_cli(*args)
    assert again.code == 2 and "already holds a run" in again.err
