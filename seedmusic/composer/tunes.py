"""Every source work read once as a `Tune` and cached: the composer's score-only corpus starts here.

Reading a work with music21 takes ~0.15 s, so the ~4,700 public-domain works are read once, in
parallel, into `tunes.jsonl` (one JSON object per work: id, split, collection and the tune, or
the reason it was skipped). A re-run reads only the works that are not in the file yet, so an
interrupted read resumes. No audio is rendered: that is what makes this corpus fast.
"""

from __future__ import annotations

import json
import logging
from collections.abc import Iterator
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict
from multiprocessing import get_context
from pathlib import Path
from typing import Any

from score_tokens.score import Chord, Note, Section
from seedmusic.data.build import split_of
from seedmusic.data.sources import Work, list_works
from seedmusic.data.tune import Tune, UnsupportedWorkError, read_tune

logger = logging.getLogger(__name__)

TUNES_FILE = "tunes.jsonl"


def tune_to_json(tune: Tune) -> dict[str, Any]:
    data = asdict(tune)
    for note in data["melody"]:
        note["phonemes"] = list(note["phonemes"])
    return data


def tune_from_json(data: dict[str, Any]) -> Tune:
    return Tune(
        title=data["title"],
        numerator=data["numerator"],
        denominator=data["denominator"],
        tonic=data["tonic"],
        mode=data["mode"],
        melody=[Note(**{**n, "phonemes": tuple(n["phonemes"])}) for n in data["melody"]],
        chords=[Chord(**c) for c in data["chords"]],
        sections=[Section(**s) for s in data["sections"]],
        end_tick=data["end_tick"],
        language=data["language"],
    )


def _read_one(work: Work) -> dict[str, Any]:
    record: dict[str, Any] = {
        "work": work.id,
        "collection": work.collection,
        "split": split_of(work.id),
    }
    try:
        record["tune"] = tune_to_json(read_tune(work))
    except UnsupportedWorkError as exc:
        record["skipped"] = str(exc)
    except Exception as exc:  # music21 raises many types on sources it cannot parse
        record["skipped"] = f"music21 cannot read it ({type(exc).__name__})"
    return record


def _init_worker() -> None:
    import warnings

    warnings.filterwarnings("ignore")
    logging.getLogger("music21").setLevel(logging.ERROR)


def read_all_tunes(
    folder: Path, workers: int = 2, limit: int | None = None, progress: bool = False
) -> Path:
    """Read every public-domain work into `folder/tunes.jsonl` (resumable); returns the path."""
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / TUNES_FILE
    records = list(iter_records(path)) if path.exists() else []
    if records:  # drop a torn last line before appending
        path.write_text("".join(json.dumps(r) + "\n" for r in records), encoding="utf-8")
    done = {record["work"] for record in records}
    works = [w for w in list_works(licences=("public-domain",)) if w.id not in done]
    if limit is not None:
        works = works[: max(0, limit - len(done))]
    logger.info("reading %d works (%d already cached)", len(works), len(done))
    from tqdm.auto import tqdm

    with (
        path.open("a", encoding="utf-8") as out,
        ProcessPoolExecutor(
            workers, mp_context=get_context("spawn"), initializer=_init_worker
        ) as pool,
    ):
        results = pool.map(_read_one, works, chunksize=8)
        for record in tqdm(results, total=len(works), disable=not progress, desc="tunes"):
            out.write(json.dumps(record) + "\n")
            out.flush()
    return path


def iter_records(path: Path) -> Iterator[dict[str, Any]]:
    """The records of a `tunes.jsonl` (a torn last line from an interrupted run is skipped)."""
    with path.open(encoding="utf-8") as handle:
        for line in handle:
            try:
                yield json.loads(line)
            except json.JSONDecodeError:
                continue
