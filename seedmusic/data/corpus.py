"""Reading a built corpus: its manifest, and each piece's audio, score and ground truth.

Layout of a corpus folder (written by `seedmusic data build`):

    DIR/build.json                 the build's parameters (seed, sample rate, format version)
    DIR/manifest.jsonl             one `PieceRecord` per line, every finished shard
    DIR/shards/shard-NNNNN/        one folder per shard (renamed into place when complete)
        shard.json                 the shard's piece records
        <piece id>/mix.flac        the rendered mix (mono, the build's sample rate, 16 bit)
        <piece id>/stems/<track>.flac  one stem per non-empty note track, same length
        <piece id>/score.json      the arranged `Score` (and score.mid)
        <piece id>/truth.json      ground truth in the `analysis.json` format (DESIGN.md §12)

A piece's split (train/valid/test) is decided by its source work, so no work is in two splits.
"""

from __future__ import annotations

import json
from dataclasses import MISSING, asdict, dataclass, field, fields
from pathlib import Path
from typing import Any, Literal

from score_tokens.io import read_score
from score_tokens.score import Score
from seedmusic.errors import UserError

Split = Literal["train", "valid", "test"]
SPLITS: tuple[Split, ...] = ("train", "valid", "test")
MANIFEST = "manifest.jsonl"
BUILD_INFO = "build.json"
SHARDS = "shards"


@dataclass(frozen=True)
class PieceRecord:
    """One piece of the corpus, as a manifest line.

    Attributes:
        id: unique id (the work id with `/` replaced by `_`).
        work: id of the source work (several variants of one work share it and its split).
        split: train, valid or test.
        path: the piece's folder, relative to the corpus root.
        seconds: length of the mix.
        source: where the work comes from (e.g. `music21:bach/bwv66.6`).
        title, composer: as the source gives them ("" when unknown).
        licence: the source's licence (`public-domain`, `non-commercial`, ...).
        style: the accompaniment style (one of the corpus styles).
        tags: style tags for conditioning.
        description: one line of text describing the piece.
        key, tempo, time_signature: as arranged.
        lyrics: `original` (from the source), `synthetic` (generated words) or `none`.
        language: the sung language (espeak-ng code, e.g. `en`, `de`).
        stems: the note tracks that have a stem.
        soundfonts: stem -> the SoundFont it was rendered with (empty in corpora built before
            varied timbres: every stem then used FluidR3).
        vocal: "sung" (espeak-ng + Praat) or "instrument" (a GM lead program plays the line).
    """

    id: str
    work: str
    split: Split
    path: str
    seconds: float
    source: str
    title: str
    composer: str
    licence: str
    style: str
    tags: tuple[str, ...]
    description: str
    key: str
    tempo: float
    time_signature: str
    lyrics: Literal["original", "synthetic", "none"]
    language: str
    stems: tuple[str, ...]
    soundfonts: dict[str, str] = field(default_factory=dict)
    vocal: str = "sung"

    def to_json(self) -> dict[str, Any]:
        data = asdict(self)
        data["tags"], data["stems"] = list(self.tags), list(self.stems)
        return data

    @classmethod
    def from_json(cls, data: dict[str, Any]) -> PieceRecord:
        names = {f.name for f in fields(cls)}
        optional = {f.name for f in fields(cls) if f.default_factory is not MISSING}
        optional |= {f.name for f in fields(cls) if f.default is not MISSING}
        missing, unknown = names - set(data) - optional, set(data) - names
        if missing or unknown:
            raise ValueError(f"piece record: missing {sorted(missing)}, unknown {sorted(unknown)}")
        return cls(**{**data, "tags": tuple(data["tags"]), "stems": tuple(data["stems"])})


class Corpus:
    """A built corpus folder (see the module docstring)."""

    def __init__(self, root: str | Path) -> None:
        self.root = Path(root)
        manifest = self.root / MANIFEST
        if not manifest.is_file():
            raise UserError(
                f"{self.root}: not a corpus (no {MANIFEST}); build one with `seedmusic data build`"
            )
        self.records = read_manifest(manifest)

    def info(self) -> dict[str, Any]:
        """The build parameters in `build.json` ({} when absent)."""
        path = self.root / BUILD_INFO
        return json.loads(path.read_text()) if path.is_file() else {}

    def pieces(self, split: Split | None = None) -> list[PieceRecord]:
        """Every piece, or those of one split, in manifest order."""
        if split is not None and split not in SPLITS:
            raise UserError(f"unknown split {split!r} (splits: {', '.join(SPLITS)})")
        return [r for r in self.records if split is None or r.split == split]

    def folder(self, piece: PieceRecord) -> Path:
        return self.root / piece.path

    def mix_path(self, piece: PieceRecord) -> Path:
        return self.folder(piece) / "mix.flac"

    def stem_path(self, piece: PieceRecord, track: str) -> Path:
        if track not in piece.stems:
            raise KeyError(f"{piece.id} has no {track!r} stem (stems: {', '.join(piece.stems)})")
        return self.folder(piece) / "stems" / f"{track}.flac"

    def score(self, piece: PieceRecord) -> Score:
        return read_score(self.folder(piece) / "score.json")

    def truth(self, piece: PieceRecord) -> dict[str, Any]:
        """Ground truth in the `analysis.json` format."""
        data: dict[str, Any] = json.loads((self.folder(piece) / "truth.json").read_text())
        return data


def read_manifest(path: Path) -> list[PieceRecord]:
    """Piece records of a manifest; a malformed line is a `UserError` naming it."""
    records = []
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            records.append(PieceRecord.from_json(json.loads(line)))
        except (ValueError, TypeError) as exc:
            raise UserError(f"{path}:{number}: malformed manifest line ({exc})") from None
    return records
