"""Build the open corpus: source works -> tunes -> arranged songs -> rendered shards.

The plan is fixed by the seed and the source filters, not by `hours`: the eligible works are
shuffled per collection (seeded) and interleaved round-robin across collections, and shard i
holds works `[i * shard_size, (i + 1) * shard_size)`. A build renders shards 0, 1, 2 ... (in
parallel, `workers` processes) until the finished shards reach `hours`; the manifest lists the
shortest prefix of shards that does. So the same seed always gives the same corpus, a larger
`hours` extends a smaller build, and a re-run skips every finished shard (a shard is written
into `shard-NNNNN.tmp` and renamed when complete, so an interrupted one is redone).

Each piece's random choices come from a seed derived from (build seed, work id); its split
from a hash of the work id alone (5 % test, 5 % valid), so no work is in two splits and the
splits do not depend on the seed.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
import random
import shutil
import time
from collections.abc import Callable
from concurrent.futures import FIRST_COMPLETED, Future, ProcessPoolExecutor, wait
from dataclasses import asdict, dataclass, field
from multiprocessing import get_context
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf

from mir.evaluate import ground_truth_from_score
from score_tokens.io import write_score
from seedmusic.data.arrange import arrange, choose_arrangement, description, tags
from seedmusic.data.corpus import BUILD_INFO, MANIFEST, SHARDS, PieceRecord, Split
from seedmusic.data.render import render_stems
from seedmusic.data.sources import LICENCES, Work, list_works
from seedmusic.data.synth import DEFAULT_SOUNDFONT, HELD_OUT_SOUNDFONTS, find_soundfont
from seedmusic.data.timbre import apply_programs, draw_timbre
from seedmusic.data.tune import UnsupportedWorkError, read_tune
from seedmusic.errors import UserError
from seedmusic.outputs import write_json

logger = logging.getLogger(__name__)

FORMAT = 1
MAX_TUNE_BARS = 64
"""Longer tunes (sets of variations, medleys) are cut at the last section start before this bar."""


@dataclass(frozen=True)
class BuildConfig:
    """What to build (`hours` and `workers` may change between runs into one folder)."""

    out: Path
    hours: float
    workers: int = 2
    seed: int = 0
    sample_rate: int = 24000
    licences: tuple[str, ...] = ("public-domain",)
    collections: tuple[str, ...] | None = None
    shard_size: int = 8
    soundfonts: tuple[str, ...] = (DEFAULT_SOUNDFONT,)
    timbre_variety: float = 0.0

    def plan_info(self) -> dict[str, Any]:
        """The parameters that fix the plan (stored in build.json, checked on re-runs)."""
        timbre: dict[str, Any] = {}
        if self.soundfonts != (DEFAULT_SOUNDFONT,) or self.timbre_variety:
            timbre = {"soundfonts": list(self.soundfonts), "timbre_variety": self.timbre_variety}
        return {
            **timbre,
            "format": FORMAT,
            "seed": self.seed,
            "sample_rate": self.sample_rate,
            "licences": list(self.licences),
            "collections": None if self.collections is None else list(self.collections),
            "shard_size": self.shard_size,
        }


@dataclass
class BuildReport:
    """What a build made."""

    pieces: int = 0
    seconds: float = 0.0
    shards: int = 0
    skipped: list[dict[str, str]] = field(default_factory=list)
    rendered_shards: int = 0
    wall_seconds: float = 0.0


def split_of(work_id: str) -> Split:
    """train / valid / test by a hash of the work id (5 % test, 5 % valid)."""
    bucket = int(hashlib.sha1(work_id.encode()).hexdigest(), 16) % 100
    return "test" if bucket < 5 else ("valid" if bucket < 10 else "train")


def piece_seed(seed: int, work_id: str) -> int:
    return int(hashlib.sha1(f"{seed}:{work_id}".encode()).hexdigest(), 16) % 2**31


def work_order(config: BuildConfig) -> list[Work]:
    """Eligible works, shuffled per collection and interleaved round-robin."""
    bad = [lic for lic in config.licences if lic not in LICENCES]
    if bad:
        raise UserError(f"unknown licence(s) {bad} (known: {', '.join(LICENCES)})")
    works = list_works(config.collections, config.licences)
    if not works:
        raise UserError("no source works match the chosen collections and licences")
    by_collection: dict[str, list[Work]] = {}
    for work in works:
        by_collection.setdefault(work.collection, []).append(work)
    queues = []
    for name in sorted(by_collection):
        queue = list(by_collection[name])
        random.Random(f"{config.seed}:{name}").shuffle(queue)
        queues.append(queue)
    order: list[Work] = []
    for index in range(max(len(q) for q in queues)):
        order += [q[index] for q in queues if index < len(q)]
    return order


def shard_name(index: int) -> str:
    return f"shard-{index:05d}"


def build(config: BuildConfig, on_shard: Callable[[float], None] | None = None) -> BuildReport:
    """Render shards until `config.hours` is reached; write the manifest. See the module doc."""
    if config.hours <= 0:
        raise UserError(f"--hours must be positive, got {config.hours}")
    if config.workers < 1:
        raise UserError(f"--workers must be >= 1, got {config.workers}")
    if not config.soundfonts:
        raise UserError("--soundfonts names no SoundFont")
    if not 0.0 <= config.timbre_variety <= 1.0:
        raise UserError(f"--timbre-variety must be in [0, 1], got {config.timbre_variety}")
    for name in config.soundfonts:
        find_soundfont(name)
        if name in HELD_OUT_SOUNDFONTS:
            logger.warning(
                "%s is a held-out SoundFont (the benchmarks' unseen timbres): do not train on "
                "this corpus if you compare with them",
                name,
            )
    started = time.monotonic()
    _check_build_info(config)
    works = work_order(config)
    num_shards = -(-len(works) // config.shard_size)
    shards_dir = config.out / SHARDS
    shards_dir.mkdir(parents=True, exist_ok=True)
    _remove_staging(shards_dir)
    done: dict[int, dict[str, Any]] = {}
    for index in range(num_shards):
        info = _read_shard(shards_dir / shard_name(index))
        if info is not None:
            done[index] = info
    report = BuildReport()
    target = config.hours * 3600.0

    def shard_works(index: int) -> list[Work]:
        return works[index * config.shard_size : (index + 1) * config.shard_size]

    def finished(index: int, info: dict[str, Any]) -> None:
        done[index] = info
        report.rendered_shards += 1
        if on_shard is not None:
            on_shard(_shard_seconds(info) / 3600.0)

    if on_shard is not None:
        on_shard(sum(_shard_seconds(i) for i in _prefix(done, target)) / 3600.0)
    if config.workers == 1:
        index = 0
        while _prefix_seconds(done, target) < target and index < num_shards:
            if index not in done:
                finished(index, build_shard(config, index, shard_works(index)))
            index += 1
    else:
        _build_parallel(config, done, target, num_shards, shard_works, finished)
    return _write_manifest(config, done, target, report, started)


def _remove_staging(shards_dir: Path) -> None:
    """Remove the half-built shards a killed build left (`shard-NNNNN.tmp`)."""
    for stale in sorted(shards_dir.glob("shard-*.tmp")):
        logger.info("removing %s, left by an interrupted build", stale)
        shutil.rmtree(stale, ignore_errors=True)


def _build_parallel(
    config: BuildConfig,
    done: dict[int, dict[str, Any]],
    target: float,
    num_shards: int,
    shard_works: Callable[[int], list[Work]],
    finished: Callable[[int, dict[str, Any]], None],
) -> None:
    """Keep `workers` shards in flight while the expected total is short of the target."""
    context = get_context("spawn")  # a clean interpreter per worker (numba, music21 caches)
    with ProcessPoolExecutor(config.workers, mp_context=context, initializer=_init_worker) as pool:
        running: dict[Future[dict[str, Any]], int] = {}
        next_index = 0
        while True:
            mean = _mean_shard_seconds(done, config.shard_size)
            while len(running) < config.workers and next_index < num_shards:
                if next_index in done:
                    next_index += 1
                    continue
                expected = sum(
                    _shard_seconds(done[i]) if i in done else mean for i in range(next_index)
                )
                if expected >= target:
                    break
                future = pool.submit(build_shard, config, next_index, shard_works(next_index))
                running[future] = next_index
                next_index += 1
            if not running:
                if _prefix_seconds(done, target) >= target or next_index >= num_shards:
                    return
                next_index = min(i for i in range(num_shards) if i not in done)
                continue
            completed, _ = wait(running, return_when=FIRST_COMPLETED)
            for future in completed:
                finished(running.pop(future), future.result())


def _init_worker() -> None:
    """Give each worker its own numba cache: concurrent compiles into one cache can crash."""
    cache = os.environ.get("NUMBA_CACHE_DIR")
    if cache:
        os.environ["NUMBA_CACHE_DIR"] = os.path.join(cache, f"worker-{os.getpid()}")


def _check_build_info(config: BuildConfig) -> None:
    path = config.out / BUILD_INFO
    wanted = config.plan_info()
    if path.is_file():
        found = json.loads(path.read_text())
        if found != wanted:
            raise UserError(
                f"{config.out} holds a corpus built with other settings ({found}); "
                "choose another --out or the same seed, sample rate and sources"
            )
        return
    config.out.mkdir(parents=True, exist_ok=True)
    write_json(path, wanted)


def _read_shard(folder: Path) -> dict[str, Any] | None:
    path = folder / "shard.json"
    if not path.is_file():
        return None
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def _shard_seconds(info: dict[str, Any]) -> float:
    return float(sum(record["seconds"] for record in info["pieces"]))


def _mean_shard_seconds(done: dict[int, dict[str, Any]], shard_size: int) -> float:
    if not done:
        return shard_size * 60.0
    return sum(_shard_seconds(i) for i in done.values()) / len(done)


def _prefix(done: dict[int, dict[str, Any]], target: float) -> list[dict[str, Any]]:
    """The finished shards 0, 1, ... up to the first gap or until they reach `target`."""
    prefix, total, index = [], 0.0, 0
    while index in done and total < target:
        prefix.append(done[index])
        total += _shard_seconds(done[index])
        index += 1
    return prefix


def _prefix_seconds(done: dict[int, dict[str, Any]], target: float) -> float:
    return sum(_shard_seconds(info) for info in _prefix(done, target))


def _write_manifest(
    config: BuildConfig,
    done: dict[int, dict[str, Any]],
    target: float,
    report: BuildReport,
    started: float,
) -> BuildReport:
    prefix = _prefix(done, target)
    lines = [json.dumps(record, ensure_ascii=False) for info in prefix for record in info["pieces"]]
    text = "".join(line + "\n" for line in lines)
    from score_tokens.io import atomic_write

    atomic_write(config.out / MANIFEST, lambda tmp: tmp.write_text(text, encoding="utf-8"))
    report.shards = len(prefix)
    report.pieces = len(lines)
    report.seconds = sum(_shard_seconds(info) for info in prefix)
    report.skipped = [s for info in prefix for s in info["skipped"]]
    report.wall_seconds = time.monotonic() - started
    if report.seconds < target:
        logger.warning(
            "the sources ran out at %.2f h of the %.2f h asked for",
            report.seconds / 3600,
            target / 3600,
        )
    return report


# ---------------------------------------------------------------------------------- one shard


def build_shard(config: BuildConfig, index: int, works: list[Work]) -> dict[str, Any]:
    """Render the pieces of shard `index` into its folder; returns its `shard.json` contents."""
    final = config.out / SHARDS / shard_name(index)
    staging = final.with_name(final.name + ".tmp")
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    try:
        info = _render_shard(config, index, works, staging, final.name)
    except BaseException:  # interrupted or failed: no half-built shard stays behind
        shutil.rmtree(staging, ignore_errors=True)
        raise
    if final.exists():
        shutil.rmtree(final)
    os.replace(staging, final)
    return info


def _render_shard(
    config: BuildConfig, index: int, works: list[Work], staging: Path, name: str
) -> dict[str, Any]:
    pieces, skipped = [], []
    for work in works:
        try:
            record = build_piece(config, work, staging, f"{SHARDS}/{name}")
        except UnsupportedWorkError as exc:
            skipped.append({"work": work.id, "reason": str(exc)})
            logger.debug("skipped %s: %s", work.id, exc)
            continue
        pieces.append(record.to_json())
    info = {"index": index, "pieces": pieces, "skipped": skipped}
    write_json(staging / "shard.json", info)
    return info


def build_piece(config: BuildConfig, work: Work, folder: Path, shard_path: str) -> PieceRecord:
    """Read, arrange and render one work into `folder/<piece id>/`."""
    seed = piece_seed(config.seed, work.id)
    try:
        tune = read_tune(work)
    except UnsupportedWorkError:
        raise
    except Exception as exc:  # music21 raises many types on sources it cannot parse
        raise UnsupportedWorkError(
            f"music21 cannot read it ({type(exc).__name__}: {exc})"
        ) from None
    tune = _shortened(tune)
    choice = choose_arrangement(tune, work, random.Random(seed))
    score = arrange(tune, choice)
    timbre = draw_timbre(score, config.soundfonts, config.timbre_variety, random.Random(seed + 1))
    score = apply_programs(score, timbre)
    mix, stems = render_stems(
        score,
        config.sample_rate,
        tune.language or "en",
        seed,
        soundfont=timbre.soundfonts,
        sung_vocal=timbre.vocal == "sung",
    )
    piece_id = work.id.replace("/", "_")
    target = folder / piece_id
    (target / "stems").mkdir(parents=True)
    sf.write(target / "mix.flac", mix, config.sample_rate, subtype="PCM_16")
    for name, stem in stems.items():
        sf.write(target / "stems" / f"{name}.flac", stem, config.sample_rate, subtype="PCM_16")
    write_score(score, target / "score.json")
    write_score(score, target / "score.mid")
    write_json(target / "truth.json", ground_truth_from_score(score).to_json_dict())
    return PieceRecord(
        id=piece_id,
        work=work.id,
        split=split_of(work.id),
        path=f"{shard_path}/{piece_id}",
        seconds=round(float(len(mix)) / config.sample_rate, 3),
        source=work.source,
        title=tune.title,
        composer=_composer(work),
        licence=work.licence,
        style=choice.style,
        tags=tags(tune, choice),
        description=description(tune, work, choice, score),
        key=score.key,
        tempo=choice.tempo,
        time_signature=f"{tune.numerator}/{tune.denominator}",
        lyrics="synthetic" if choice.synthetic_words is not None else "original",
        language=tune.language or "en",
        stems=tuple(stems),
        soundfonts=timbre.soundfonts,
        vocal=timbre.vocal,
    )


def _composer(work: Work) -> str:
    from seedmusic.data.sources import COLLECTIONS

    return COLLECTIONS[work.collection].composer


def _shortened(tune: Any) -> Any:
    """Cut a tune longer than `MAX_TUNE_BARS` at its last section start before that bar."""
    limit = MAX_TUNE_BARS * tune.bar_ticks
    if tune.end_tick <= limit:
        return tune
    starts = [s.tick for s in tune.sections if 0 < s.tick <= limit]
    cut = max(starts) if starts and max(starts) >= limit // 2 else limit
    tune.melody = [n for n in tune.melody if n.tick < cut]
    for note in tune.melody:
        note.duration = min(note.duration, cut - note.tick)
    tune.chords = [c for c in tune.chords if c.tick < cut]
    for chord in tune.chords:
        chord.duration = min(chord.duration, cut - chord.tick)
    tune.sections = [s for s in tune.sections if s.tick < cut]
    tune.end_tick = cut
    return tune


def stats(records: list[PieceRecord], root: Path) -> dict[str, Any]:
    """The numbers `data stats` prints (see `seedmusic.commands.data`)."""
    from collections import Counter

    def counts(values: list[str]) -> dict[str, int]:
        return dict(sorted(Counter(values).items(), key=lambda kv: (-kv[1], kv[0])))

    hours = sum(r.seconds for r in records) / 3600
    tempos = np.array([r.tempo for r in records]) if records else np.zeros(1)
    size = sum(p.stat().st_size for p in root.rglob("*") if p.is_file())
    return {
        "pieces": len(records),
        "hours": round(hours, 3),
        "splits": {s: sum(r.split == s for r in records) for s in ("train", "valid", "test")},
        "split_hours": {
            s: round(sum(r.seconds for r in records if r.split == s) / 3600, 3)
            for s in ("train", "valid", "test")
        },
        "works": len({r.work for r in records}),
        "styles": counts([r.style for r in records]),
        "collections": counts([r.source.split(":")[1].split("/")[0] for r in records]),
        "licences": counts([r.licence for r in records]),
        "lyrics": counts([r.lyrics for r in records]),
        "time_signatures": counts([r.time_signature for r in records]),
        "keys": len({r.key for r in records}),
        "tempo_bpm": {
            "min": float(tempos.min()),
            "mean": round(float(tempos.mean()), 1),
            "max": float(tempos.max()),
        },
        "disk_mb": round(size / 2**20, 1),
    }


def report_json(report: BuildReport) -> dict[str, Any]:
    data = asdict(report)
    data["hours"] = round(report.seconds / 3600, 3)
    return data
