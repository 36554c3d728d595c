"""Saving and loading models as `config.json` + `model.safetensors`.

Every model of the project is a `torch.nn.Module` with a frozen dataclass config and the
`PretrainedModel` mixin. On disk a model is a folder:

    config.json        {"format": "seedmusic.model/1", "class": "Vae", "config": {...}}
    model.safetensors  the state dict (no pickles)

Loading checks the class name, the format and the config keys, and raises `CheckpointError`
with a message fit for one `error:` line when any of them do not match.
"""

from __future__ import annotations

import dataclasses
import json
import os
import types
import typing
from pathlib import Path
from typing import Any, ClassVar, Self

import torch
from safetensors.torch import load_file, save_file

from score_tokens.io import atomic_write

FORMAT = "seedmusic.model/1"
CONFIG_NAME = "config.json"
WEIGHTS_NAME = "model.safetensors"


class CheckpointError(ValueError):
    """A checkpoint folder is missing, corrupt, or belongs to another model or config."""


class PretrainedModel:
    """Mixin for `nn.Module`s with a dataclass `config`: `save_pretrained` / `from_pretrained`."""

    config_class: ClassVar[type]
    config: Any

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Write `config.json` and `model.safetensors` into `directory` atomically."""
        assert isinstance(self, torch.nn.Module)
        out = Path(directory)
        out.mkdir(parents=True, exist_ok=True)
        meta = {
            "format": FORMAT,
            "class": type(self).__name__,
            "config": config_to_dict(self.config),
        }
        state = {k: v.detach().contiguous().cpu() for k, v in self.state_dict().items()}
        atomic_write(
            out / WEIGHTS_NAME, lambda p: save_file(state, str(p), metadata={"format": "pt"})
        )
        atomic_write(out / CONFIG_NAME, lambda p: p.write_text(json.dumps(meta, indent=2) + "\n"))
        return out

    @classmethod
    def read_config(cls, directory: str | os.PathLike[str]) -> Any:
        """The config of the model saved in `directory`, without loading its weights; raises
        `CheckpointError` when the folder is not a checkpoint of this class."""
        folder = Path(directory)
        config_path, weights_path = folder / CONFIG_NAME, folder / WEIGHTS_NAME
        if not config_path.is_file() or not weights_path.is_file():
            raise CheckpointError(
                f"{folder} is not a checkpoint folder (needs {CONFIG_NAME} and {WEIGHTS_NAME})"
            )
        try:
            meta = json.loads(config_path.read_text())
        except (OSError, json.JSONDecodeError) as exc:
            raise CheckpointError(f"{config_path}: unreadable config ({exc})") from None
        if not isinstance(meta, dict) or meta.get("format") != FORMAT:
            raise CheckpointError(f"{config_path}: not a {FORMAT} checkpoint")
        if meta.get("class") != cls.__name__:
            raise CheckpointError(f"{folder} holds a {meta.get('class')}, not a {cls.__name__}")
        return config_from_dict(cls.config_class, meta.get("config", {}), where=str(config_path))

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str], device: str = "cpu") -> Self:
        """Load a model saved by `save_pretrained`; raises `CheckpointError` on any mismatch."""
        folder = Path(directory)
        weights_path = folder / WEIGHTS_NAME
        config = cls.read_config(folder)
        model = cls(config)  # type: ignore[call-arg]
        try:
            state = load_file(str(weights_path), device=device)
        except Exception as exc:  # safetensors raises its own error types
            raise CheckpointError(f"{weights_path}: unreadable weights ({exc})") from None
        # Check shapes first: load_state_dict raises a RuntimeError on a size mismatch.
        for name, tensor in model.state_dict().items():  # type: ignore[attr-defined]
            if name in state and tensor.shape != state[name].shape:
                raise CheckpointError(
                    f"{folder}: {name} has shape {tuple(state[name].shape)}, config wants {tuple(tensor.shape)}"
                )
        missing, unexpected = model.load_state_dict(state, strict=False)  # type: ignore[attr-defined]
        if missing or unexpected:
            raise CheckpointError(
                f"{folder}: weights do not match the config "
                f"(missing {list(missing)[:3]}, unexpected {list(unexpected)[:3]})"
            )
        return model.to(device).eval()  # type: ignore[attr-defined]


def config_to_dict(config: Any) -> dict[str, Any]:
    """A dataclass config as a JSON-ready dict (tuples become lists)."""
    return json.loads(json.dumps(dataclasses.asdict(config)))


def config_from_dict(config_class: type, data: dict[str, Any], where: str = "config") -> Any:
    """Build a (possibly nested) dataclass config; unknown keys and wrong types are errors."""
    if not isinstance(data, dict):
        raise CheckpointError(f"{where}: expected an object, got {type(data).__name__}")
    fields = {f.name: f for f in dataclasses.fields(config_class)}
    unknown = sorted(set(data) - set(fields))
    if unknown:
        raise CheckpointError(f"{where}: unknown key(s) {unknown} for {config_class.__name__}")
    hints = typing.get_type_hints(config_class)
    values = {name: _coerce(hints[name], value, f"{where}.{name}") for name, value in data.items()}
    try:
        return config_class(**values)
    except (TypeError, ValueError) as exc:
        raise CheckpointError(f"{where}: {exc}") from None


def _coerce(hint: Any, value: Any, where: str) -> Any:
    origin = typing.get_origin(hint)
    if dataclasses.is_dataclass(hint) and isinstance(hint, type):
        return config_from_dict(hint, value, where)
    if origin in (typing.Union, types.UnionType):
        args = typing.get_args(hint)
        if value is None and type(None) in args:
            return None
        non_none = [a for a in args if a is not type(None)]
        return _coerce(non_none[0], value, where) if len(non_none) == 1 else value
    if origin is tuple:
        if not isinstance(value, list | tuple):
            raise CheckpointError(f"{where}: expected a list, got {value!r}")
        args = typing.get_args(hint)
        item = args[0] if args else Any
        return tuple(_coerce(item, v, where) for v in value)
    if origin is typing.Literal:
        if value not in typing.get_args(hint):
            raise CheckpointError(f"{where}: {value!r} is not one of {list(typing.get_args(hint))}")
        return value
    if hint is bool:
        if not isinstance(value, bool):
            raise CheckpointError(f"{where}: expected true/false, got {value!r}")
        return value
    if hint is int:
        if isinstance(value, bool) or not isinstance(value, int):
            raise CheckpointError(f"{where}: expected an integer, got {value!r}")
        return value
    if hint is float:
        if isinstance(value, bool) or not isinstance(value, int | float):
            raise CheckpointError(f"{where}: expected a number, got {value!r}")
        return float(value)
    if hint is str and not isinstance(value, str):
        raise CheckpointError(f"{where}: expected a string, got {value!r}")
    return value
