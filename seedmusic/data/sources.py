"""Public-domain symbolic music shipped inside registry packages: music21's bundled corpus.

A `Work` is one piece of a source collection: a Bach chorale (MusicXML, four voices, German
lyrics on most sopranos) or one tune of a folk collection in ABC (a file holds many tunes,
numbered by their `X:` field; melody only, some with chord symbols). Each collection records
its composer and licence, so that users can build a corpus for their licence needs:

| collection     | works | what                                   | licence        |
|----------------|-------|----------------------------------------|----------------|
| bach-chorales  | ~400  | J. S. Bach, four-part chorales (1700s) | public-domain  |
| oneills1850    | ~2000 | O'Neill's Music of Ireland (1903)      | public-domain  |
| ryans-mammoth  | ~1050 | Ryan's Mammoth Collection (1883)       | public-domain  |
| airds-airs     | ~1180 | Aird's Selection of Airs (1782-1797)   | public-domain  |
| essen          | ~8500 | Essen Folksong Collection (transcr.)   | non-commercial |

The compositions are old enough to be in the public domain; the Essen transcriptions are
distributed for non-commercial research use, hence their own licence value.
"""

from __future__ import annotations

import functools
import logging
import re
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from seedmusic.errors import UserError

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Collection:
    """A source collection inside music21's corpus."""

    name: str
    folder: str
    suffix: str
    composer: str
    licence: str
    description: str


COLLECTIONS: dict[str, Collection] = {
    c.name: c
    for c in (
        Collection(
            "bach-chorales", "bach", ".mxl", "J. S. Bach", "public-domain", "a Bach chorale"
        ),
        Collection(
            "oneills1850",
            "oneills1850",
            ".abc",
            "traditional (Irish)",
            "public-domain",
            "an Irish tune from O'Neill's collection",
        ),
        Collection(
            "ryans-mammoth",
            "ryansMammoth",
            ".abc",
            "traditional",
            "public-domain",
            "a fiddle tune from Ryan's Mammoth Collection",
        ),
        Collection(
            "airds-airs",
            "airdsAirs",
            ".abc",
            "traditional (Scottish)",
            "public-domain",
            "a Scottish air from Aird's collection",
        ),
        Collection(
            "essen",
            "essenFolksong",
            ".abc",
            "traditional (European)",
            "non-commercial",
            "a European folk song from the Essen collection",
        ),
    )
}
LICENCES: tuple[str, ...] = ("public-domain", "non-commercial")


@dataclass(frozen=True)
class Work:
    """One source piece.

    Attributes:
        id: unique, stable id, e.g. `bach-chorales/bwv66.6` or `oneills1850/0001-0050/4`.
        collection: the `COLLECTIONS` key.
        path: the file inside music21's corpus.
        number: the tune's `X:` number inside an ABC file (None for single-work files).
    """

    id: str
    collection: str
    path: Path
    number: int | None = None

    @property
    def source(self) -> str:
        """Where the work comes from, e.g. `music21:oneills1850/0001-0050.abc#X4`."""
        folder = COLLECTIONS[self.collection].folder
        where = f"music21:{folder}/{self.path.name}"
        return where if self.number is None else f"{where}#X{self.number}"

    @property
    def licence(self) -> str:
        return COLLECTIONS[self.collection].licence


def list_works(
    collections: tuple[str, ...] | None = None, licences: tuple[str, ...] = LICENCES
) -> list[Work]:
    """Every work of the chosen collections (default: all) whose licence is in `licences`."""
    names = tuple(COLLECTIONS) if collections is None else collections
    unknown = [n for n in names if n not in COLLECTIONS]
    if unknown:
        raise UserError(f"unknown collection(s) {unknown} (known: {', '.join(COLLECTIONS)})")
    bad = [lic for lic in licences if lic not in LICENCES]
    if bad:
        raise UserError(f"unknown licence(s) {bad} (known: {', '.join(LICENCES)})")
    works: list[Work] = []
    for name in names:
        if COLLECTIONS[name].licence in licences:
            works += _collection_works(name)
    return works


@functools.cache
def _collection_works(name: str) -> list[Work]:
    from music21 import corpus

    collection = COLLECTIONS[name]
    paths = sorted(
        p
        for p in corpus.getPaths()
        if Path(p).parent.name == collection.folder and Path(p).suffix == collection.suffix
    )
    works = []
    for path in map(Path, paths):
        if collection.suffix != ".abc":
            works.append(Work(f"{name}/{path.stem}", name, path))
            continue
        for number in abc_tune_numbers(path.read_text(encoding="utf-8", errors="replace")):
            works.append(Work(f"{name}/{path.stem}/{number}", name, path, number))
    return works


_X_FIELD = re.compile(r"^X:\s*(\d+)", re.MULTILINE)


def abc_tune_numbers(text: str) -> list[int]:
    """The distinct `X:` numbers of an ABC file, in file order."""
    return list(dict.fromkeys(int(m.group(1)) for m in _X_FIELD.finditer(text)))


def abc_tune_text(text: str, number: int) -> str:
    """The text of tune `X:number` of an ABC file, with the file header before the first tune."""
    starts = [(m.start(), int(m.group(1))) for m in _X_FIELD.finditer(text)]
    if not starts:
        raise ValueError("no X: field in the ABC text")
    header = text[: starts[0][0]]
    for index, (start, x) in enumerate(starts):
        if x == number:
            end = starts[index + 1][0] if index + 1 < len(starts) else len(text)
            return header + text[start:end]
    raise ValueError(f"no tune X:{number} in the ABC text")


def load_work(work: Work) -> Any:
    """The work as a music21 `Score` (parsed from its file, or its tune of an ABC file)."""
    from music21 import converter

    if work.number is None:
        return converter.parse(work.path)
    text = work.path.read_text(encoding="utf-8", errors="replace")
    return converter.parse(abc_tune_text(text, work.number), format="abc")
