"""Throughput and fidelity of our REMI tokenizer against MidiTok's REMI on the same MIDI files.

    .venv/bin/python -m benchmarks.score_tokens [--files 200] [--cache DIR]

(Run it as a module: run as a script, this file would shadow the `score_tokens` package.)

The MIDI files are Bach chorales (four-part, multi-track) from music21's bundled corpus, exported
once with music21 into a cache folder. File parsing is NOT timed: our side reads each file into a
`Score` with `score_tokens.io.read_score`, MidiTok's side into a `symusic.Score`, beforehand.
Timed, per tokenizer, over all files: encode (score -> token ids) plus decode (ids -> score).
Fidelity: the percentage of input notes that come back with exactly the same track/program,
onset, duration (in beats) and pitch. Needs `miditok==3.1.0` and `symusic==0.6.0`.
"""

from __future__ import annotations

import argparse
import logging
import time
from collections import Counter
from pathlib import Path

from tqdm import tqdm

from score_tokens.io import read_score
from score_tokens.remi import RemiConfig, RemiTokenizer
from score_tokens.score import Score

logger = logging.getLogger(__name__)


def export_corpus(cache: Path, count: int) -> list[Path]:
    """`count` multi-part works of music21's corpus as MIDI files in `cache` (made once)."""
    from music21 import corpus

    cache.mkdir(parents=True, exist_ok=True)
    files = sorted(cache.glob("*.mid"))
    if len(files) >= count:
        return files[:count]
    for source in tqdm(corpus.getComposer("bach"), desc="exporting MIDI"):
        target = cache / f"{Path(source).stem}.mid"
        if target.exists():
            continue
        try:
            work = corpus.parse(source)
            if len(work.parts) < 2:
                continue
            work.write("midi", fp=target)
        except Exception as exc:
            logger.warning("skipping %s: %s", source, exc)
        if len(list(cache.glob("*.mid"))) >= count:
            break
    return sorted(cache.glob("*.mid"))[:count]


def our_notes(score: Score) -> Counter[tuple[str, float, float, int]]:
    tpb = score.ticks_per_beat
    return Counter(
        (name, n.tick / tpb, n.duration / tpb, n.pitch)
        for name, track in score.tracks.items()
        for n in track.notes
    )


def symusic_notes(score: object) -> Counter[tuple[int, float, float, int]]:
    tpq = score.ticks_per_quarter  # type: ignore[attr-defined]
    return Counter(
        (track.program, round(n.time / tpq, 6), round(n.duration / tpq, 6), n.pitch)
        for track in score.tracks  # type: ignore[attr-defined]
        for n in track.notes
    )


def fidelity(before: list[Counter], after: list[Counter]) -> float:  # type: ignore[type-arg]
    total = sum(sum(c.values()) for c in before)
    kept = sum(sum((b & a).values()) for b, a in zip(before, after, strict=True))
    return 100.0 * kept / max(total, 1)


def bench_ours(paths: list[Path], grid: int) -> tuple[int, float, float]:
    scores = [read_score(p) for p in tqdm(paths, desc="reading (ours)")]
    tokenizer = RemiTokenizer(RemiConfig(positions_per_beat=grid, max_duration_steps=16 * grid))
    start = time.perf_counter()
    decoded = [tokenizer.decode_ids(tokenizer.encode_ids(s)) for s in scores]
    seconds = time.perf_counter() - start
    notes = sum(s.num_notes() for s in scores)
    return notes, seconds, fidelity([our_notes(s) for s in scores], [our_notes(s) for s in decoded])


def bench_miditok(paths: list[Path], grid: int) -> tuple[int, float, float]:
    import symusic
    from miditok import REMI, TokenizerConfig

    scores = [symusic.Score(str(p)) for p in tqdm(paths, desc="reading (MidiTok)")]
    config = TokenizerConfig(
        beat_res={(0, 4): grid, (4, 12): 4}, use_programs=True, one_token_stream_for_programs=True
    )
    tokenizer = REMI(config)
    start = time.perf_counter()
    decoded = [tokenizer.decode(tokenizer.encode(s)) for s in scores]
    seconds = time.perf_counter() - start
    notes = sum(sum(len(t.notes) for t in s.tracks) for s in scores)
    return (
        notes,
        seconds,
        fidelity([symusic_notes(s) for s in scores], [symusic_notes(s) for s in decoded]),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument(
        "--grid", type=int, default=24, help="positions per beat of both tokenizers (24: 32nds)"
    )
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "seedmusic" / "benchmark-midi"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    paths = export_corpus(args.cache, args.files)
    rows = [
        ("seedmusic REMI", *bench_ours(paths, args.grid)),
        ("MidiTok 3.1.0 REMI", *bench_miditok(paths, args.grid)),
    ]
    lines = [
        f"{len(paths)} MIDI files (music21 Bach chorales), grid {args.grid}/beat;"
        " timed: encode + decode, parsing excluded",
        f"{'tokenizer':<20} {'notes':>8} {'seconds':>9} {'notes/s':>10} {'fidelity %':>11}",
    ]
    for name, notes, seconds, exact in rows:
        lines.append(
            f"{name:<20} {notes:>8} {seconds:>9.3f} {notes / seconds:>10.0f} {exact:>11.2f}"
        )
    print("\n".join(lines))  # a benchmark script prints its table


if __name__ == "__main__":
    main()
