"""Typed configs: a frozen dataclass loaded from YAML/JSON, with `--set a.b=value` overrides.

    load_config(CodecTaskConfig, "configs/codec/tiny.yaml", ["train.lr=3e-4", "vae.latent_channels=16"])

The file is read into a plain dict, every override is applied to that dict (its key path is
checked against the dataclass fields first, so a misspelled key is an error that names it), and
the result is built with `renderer.modeling.config_from_dict`, which rejects unknown keys and
wrong types. A field missing from the file keeps its dataclass default. `save_config` writes the
resolved config back as YAML, so a run folder records exactly what ran.

YAML is read with two changes to PyYAML's YAML 1.1 rules, so that files read the way people
write them: `1e-3` is a float (not a string) and only `true`/`false` are booleans (`no`, `off`
stay strings, which matters for options such as `mixed_precision: no`).
"""

from __future__ import annotations

import dataclasses
import json
import re
import types
import typing
from collections.abc import Sequence
from pathlib import Path
from typing import Any, TypeVar

import yaml

from renderer.modeling import CheckpointError, config_from_dict, config_to_dict
from score_tokens.io import atomic_write
from seedmusic.errors import UserError

T = TypeVar("T")

CONFIG_SUFFIXES = (".yaml", ".yml", ".json")


class ConfigError(UserError):
    """A config file or a `--set` override is malformed, unknown or of the wrong type."""


class _Loader(yaml.SafeLoader):
    """SafeLoader with YAML 1.2-style floats (`1e-3`) and booleans (only true/false)."""


_Loader.yaml_implicit_resolvers = {
    first: [(tag, regexp) for tag, regexp in resolvers if tag != "tag:yaml.org,2002:bool"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:bool", re.compile(r"^(?:true|True|TRUE|false|False|FALSE)$"), list("tTfF")
)
_Loader.add_implicit_resolver(
    "tag:yaml.org,2002:float",
    re.compile(r"^[-+]?(?:[0-9][0-9_]*)(?:\.[0-9_]*)?[eE][-+]?[0-9]+$"),
    list("-+0123456789"),
)


def parse_yaml(text: str) -> Any:
    """Parse YAML text with the loader described in the module docstring."""
    return yaml.load(text, Loader=_Loader)


def read_config_dict(path: str | Path) -> dict[str, Any]:
    """Read a YAML or JSON config file into a dict (an empty file is `{}`)."""
    source = Path(path)
    if source.suffix.lower() not in CONFIG_SUFFIXES:
        raise ConfigError(f"{source}: a config must be .yaml, .yml or .json")
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such config file")
    text = source.read_text()
    try:
        data = json.loads(text) if source.suffix.lower() == ".json" else parse_yaml(text)
    except (json.JSONDecodeError, yaml.YAMLError) as exc:
        first_line = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise ConfigError(
            f"{source}: not valid {source.suffix[1:].upper()} ({first_line})"
        ) from None
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ConfigError(f"{source}: the top level must be a mapping, got {type(data).__name__}")
    return data


def load_config(
    config_class: type[T], path: str | Path | None = None, overrides: Sequence[str] = ()
) -> T:
    """Build `config_class` from a file (or its defaults when `path` is None) plus overrides.

    Args:
        config_class: a (possibly nested) frozen dataclass.
        path: a `.yaml`/`.yml`/`.json` file, or None for the dataclass defaults.
        overrides: `"a.b=value"` strings; the value is parsed as a YAML scalar (or flow list)
            and type-checked against the field.

    Returns:
        The config instance.

    Raises:
        ConfigError: an unknown key, a wrong type, a malformed override or file.
        FileNotFoundError: `path` does not exist.
    """
    data = read_config_dict(path) if path is not None else {}
    where = str(path) if path is not None else config_class.__name__
    for override in overrides:
        apply_override(config_class, data, override)
    return config_from_data(config_class, data, where)


def config_from_data(config_class: type[T], data: dict[str, Any], where: str = "config") -> T:
    """`config_from_dict` that raises `ConfigError` (a user error) instead of `CheckpointError`."""
    try:
        return typing.cast(T, config_from_dict(config_class, data, where=where))
    except CheckpointError as exc:
        raise ConfigError(str(exc)) from None


def apply_override(config_class: type, data: dict[str, Any], override: str) -> None:
    """Apply one `"a.b=value"` override to the raw config dict `data` in place.

    Raises:
        ConfigError: no `=`, an unknown key (named in the message), or a value that does not
            parse as the field's type.
    """
    key, sep, raw = override.partition("=")
    key = key.strip()
    if not sep or not key:
        raise ConfigError(f"--set {override!r}: expected KEY=VALUE, e.g. train.lr=3e-4")
    parts = key.split(".")
    hint = _field_hint(config_class, parts, override)
    node = data
    for part in parts[:-1]:
        child = node.setdefault(part, {})
        if not isinstance(child, dict):
            raise ConfigError(f"--set {override!r}: {part} is not a section in the config file")
        node = child
    node[parts[-1]] = _parse_value(hint, raw.strip(), override)


def save_config(config: Any, path: str | Path) -> Path:
    """Write a dataclass config as YAML (atomically); `load_config` reads it back equal."""
    text = yaml.safe_dump(config_to_dict(config), sort_keys=False, default_flow_style=None)
    target = Path(path)
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda p: p.write_text(text))
    return target


def _field_hint(config_class: type, parts: list[str], override: str) -> Any:
    """The type hint of the field at key path `parts`; an unknown key is a `ConfigError`."""
    current: Any = config_class
    for depth, part in enumerate(parts):
        if not (dataclasses.is_dataclass(current) and isinstance(current, type)):
            parent = ".".join(parts[:depth])
            raise ConfigError(f"--set {override!r}: {parent} has no sub-keys (it is a value)")
        names = [f.name for f in dataclasses.fields(current)]
        if part not in names:
            path = ".".join(parts[: depth + 1])
            raise ConfigError(
                f"--set {override!r}: unknown key {path!r} "
                f"({current.__name__} has: {', '.join(names)})"
            )
        current = typing.get_type_hints(current)[part]
    return current


def _parse_value(hint: Any, raw: str, override: str) -> Any:
    """Parse `raw` for a field typed `hint`: strings stay verbatim, the rest is YAML."""
    if _wants_plain_string(hint):
        return None if _allows_none(hint) and raw in ("null", "~", "") else raw
    try:
        value = parse_yaml(raw) if raw else None
    except yaml.YAMLError:
        raise ConfigError(f"--set {override!r}: cannot parse {raw!r}") from None
    if _is_float(hint) and isinstance(value, str):
        try:
            return float(value)
        except ValueError:
            raise ConfigError(f"--set {override!r}: expected a number, got {raw!r}") from None
    return value


def _non_none(hint: Any) -> Any:
    if typing.get_origin(hint) in (typing.Union, types.UnionType):
        args = [a for a in typing.get_args(hint) if a is not type(None)]
        return args[0] if len(args) == 1 else hint
    return hint


def _wants_plain_string(hint: Any) -> bool:
    """str fields and Literals of strings take the text as is (`no` stays "no")."""
    base = _non_none(hint)
    if base is str:
        return True
    if typing.get_origin(base) is typing.Literal:
        return all(isinstance(v, str) for v in typing.get_args(base))
    return False


def _allows_none(hint: Any) -> bool:
    return typing.get_origin(hint) in (typing.Union, types.UnionType) and type(None) in (
        typing.get_args(hint)
    )


def _is_float(hint: Any) -> bool:
    return _non_none(hint) is float
