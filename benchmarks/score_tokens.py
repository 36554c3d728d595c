"""Throughput and fidelity of our REMI tokenizer against MidiTok's REMI on the same MIDI files.

    .venv/bin/pip install -c constraints.txt -r requirements-bench.txt   # miditok, symusic
    .venv/bin/python -m benchmarks.score_tokens [--files 200] [--repeats 5] [--grid 24]

(Run it as a module: run as a script, this file would shadow the `score_tokens` package.)

Files: the first `--files` works with two or more parts of J. S. Bach in music21's bundled corpus
(four-part chorales with lyrics, a few with instrumental parts; every part is GM program 0),
exported once with music21 into `--cache`.

Timed, per tokenizer, over all files: score -> token ids -> score (ours: `encode_ids` then
`decode_ids`; MidiTok: `encode(score).ids` then `decode(ids)`, its preprocessing, the resampling to
its grid, being part of its `encode`). MidiTok is also timed decoding the `TokSequence` that its
`encode` returns, which skips its id -> token lookup ("same, TokSequence"); the speed-up is
taken against the faster of its two rows. Parsing is not timed: beforehand each side reads every
file with its own reader (ours `read_score`, on pretty_midi; MidiTok `symusic.Score`). The two
readers pair the note-ons and -offs of overlapping notes of one pitch differently, so the note
counts may differ by a note or two; each side's fidelity is against its own input. The two
sides run `--repeats` times, alternating, each pass after a garbage collection; the table gives
the fastest pass (the one least disturbed by other load) and the median, and notes/s of the
fastest.

Fidelity, the same function for both: the percentage of input notes that come back with exactly
the same onset and duration (exact fractions of a beat), pitch and instrument (ours: the track;
MidiTok: the program), counted per file as multisets; `lost` counts the others. Velocity is
left out (both keep 32 levels).

Settings. The same on both sides: `--grid` steps per beat for onsets and durations, durations up
to 16 beats (ours `max_duration_steps=16 * grid`; MidiTok `beat_res={(0, 16): grid}`), tempos and
time signatures encoded (MidiTok `use_tempos`, `use_time_signatures`, with every signature of the
files in its `time_signature_range`), one stream for all instruments (MidiTok `use_programs`,
`one_token_stream_for_programs`), pitches 0..127, 32 velocity levels. Different: ours also writes
the key and the sung syllables (UTF-8 bytes; MidiTok drops lyrics), maps the parts onto its five
tracks (Soprano -> vocal, Bass -> bass, the rest -> piano) where MidiTok, every part being
program 0, merges them all, and keeps tempo to 1 bpm where MidiTok keeps 32 levels in 40..250.
"""

from __future__ import annotations

import argparse
import gc
import logging
import statistics
import time
from collections import Counter
from collections.abc import Callable, Hashable
from dataclasses import dataclass
from fractions import Fraction
from importlib.metadata import version
from pathlib import Path
from typing import Any

from tqdm import tqdm

from score_tokens.io import read_score
from score_tokens.remi import RemiConfig, RemiTokenizer
from score_tokens.score import Score

logger = logging.getLogger(__name__)

Notes = Counter[tuple[Hashable, Fraction, Fraction, int]]
"""(instrument, onset in beats, duration in beats, pitch) -> count, for one score."""


@dataclass
class Side:
    """One tokenizer under test: its parsed inputs and its score -> ids -> score round trip."""

    name: str
    scores: list[Any]
    round_trip: Callable[[Any], Any]
    notes_of: Callable[[Any], Notes]
    tokens: int
    seconds: list[float]


def export_corpus(cache: Path, count: int) -> list[Path]:
    """`count` works of Bach with two or more parts as MIDI files in `cache` (made once)."""
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


def our_notes(score: Score) -> Notes:
    tpb = score.ticks_per_beat
    return Counter(
        (name, Fraction(n.tick, tpb), Fraction(n.duration, tpb), n.pitch)
        for name, track in score.tracks.items()
        for n in track.notes
    )


def symusic_notes(score: Any) -> Notes:
    tpq = score.ticks_per_quarter
    return Counter(
        ((t.program, t.is_drum), Fraction(n.time, tpq), Fraction(n.duration, tpq), n.pitch)
        for t in score.tracks
        for n in t.notes
    )


def lost_notes(before: list[Notes], after: list[Notes]) -> int:
    """How many notes of `before` are not in `after`, file by file."""
    return sum((b - a).total() for b, a in zip(before, after, strict=True))


def ours(paths: list[Path], grid: int) -> Side:
    tokenizer = RemiTokenizer(RemiConfig(positions_per_beat=grid, max_duration_steps=16 * grid))
    scores = [read_score(p) for p in tqdm(paths, desc="reading (ours)")]
    tokens = sum(len(tokenizer.encode_ids(s)) for s in scores)
    return Side(
        "seedmusic REMI",
        scores,
        lambda s: tokenizer.decode_ids(tokenizer.encode_ids(s)),
        our_notes,
        tokens,
        [],
    )


def miditok(paths: list[Path], grid: int) -> list[Side]:
    """MidiTok from ids, as ours; and from the `TokSequence` its `encode` returns (its fastest)."""
    import miditok
    import symusic

    scores: list[Any] = [symusic.Score(str(p)) for p in tqdm(paths, desc="reading (MidiTok)")]
    signatures: dict[int, set[int]] = {}
    for score in scores:
        for ts in score.time_signatures:
            signatures.setdefault(ts.denominator, set()).add(ts.numerator)
    config = miditok.TokenizerConfig(
        pitch_range=(0, 127),
        beat_res={(0, 16): grid},
        num_velocities=32,
        use_tempos=True,
        use_time_signatures=True,
        time_signature_range={d: sorted(n) for d, n in signatures.items()},
        use_programs=True,
        one_token_stream_for_programs=True,
    )
    tokenizer = miditok.REMI(config)
    tokens = sum(len(tokenizer.encode(s).ids) for s in scores)
    return [
        Side(
            f"MidiTok {version('miditok')} REMI",
            scores,
            lambda s: tokenizer.decode(tokenizer.encode(s).ids),
            symusic_notes,
            tokens,
            [],
        ),
        Side(
            "  same, TokSequence",
            scores,
            lambda s: tokenizer.decode(tokenizer.encode(s)),
            symusic_notes,
            tokens,
            [],
        ),
    ]


def timed_pass(side: Side) -> list[Any]:
    """One score -> ids -> score pass over all files; appends its time to `side.seconds`."""
    gc.collect()
    start = time.perf_counter()
    decoded = [side.round_trip(s) for s in side.scores]
    side.seconds.append(time.perf_counter() - start)
    return decoded


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=200)
    parser.add_argument("--repeats", type=int, default=5, help="timed passes per tokenizer")
    parser.add_argument(
        "--grid", type=int, default=24, help="positions per beat of both tokenizers (24: 32nds)"
    )
    parser.add_argument(
        "--cache", type=Path, default=Path.home() / ".cache" / "seedmusic" / "benchmark-midi"
    )
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    paths = export_corpus(args.cache, args.files)
    if len(paths) < args.files:
        logger.warning("only %d files could be exported", len(paths))
    sides = [ours(paths, args.grid), *miditok(paths, args.grid)]
    decoded: dict[str, list[Any]] = {}
    for _ in tqdm(range(args.repeats), desc="timing"):
        for side in sides:
            decoded[side.name] = timed_pass(side)
    lines = [
        f"{len(paths)} MIDI files (music21 corpus: Bach, 2+ parts), grid {args.grid}/beat;"
        f" timed: score -> ids -> score, parsing excluded; best and median of {args.repeats}"
        " alternating passes",
        f"{'tokenizer':<20} {'notes':>7} {'tokens':>8} {'best s':>7} {'median s':>8}"
        f" {'notes/s':>8} {'fidelity %':>10} {'lost':>5}",
    ]
    best_rates, median_rates, exact = [], [], []
    for side in sides:
        notes = sum(sum(len(t.notes) for t in _tracks(s)) for s in side.scores)
        lost = lost_notes(
            [side.notes_of(s) for s in side.scores], [side.notes_of(s) for s in decoded[side.name]]
        )
        kept = 100.0 * (notes - lost) / max(notes, 1)
        best, median = min(side.seconds), statistics.median(side.seconds)
        best_rates.append(notes / best)
        median_rates.append(notes / median)
        exact.append(kept)
        lines.append(
            f"{side.name:<20} {notes:>7} {side.tokens:>8} {best:>7.3f} {median:>8.3f}"
            f" {notes / best:>8.0f} {kept:>10.3f} {lost:>5}"
        )
    ratio = best_rates[0] / max(best_rates[1:])  # against MidiTok's faster round trip
    met = ratio >= 2.0 and exact[0] == 100.0  # no note lost
    lines.append(
        f"seedmusic / faster MidiTok notes/s: {ratio:.2f}x (best), "
        f"{median_rates[0] / max(median_rates[1:]):.2f}x (median);"
        f" target >= 2x at 100 % fidelity: {'met' if met else 'NOT met'}"
    )
    print("\n".join(lines))  # a benchmark script prints its table


def _tracks(score: Any) -> list[Any]:
    """The note tracks of our `Score` or of a `symusic.Score`."""
    return list(score.tracks.values()) if isinstance(score, Score) else list(score.tracks)


if __name__ == "__main__":
    main()
