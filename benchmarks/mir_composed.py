"""MIR analysis on songs of our own writing, rendered with a SoundFont never trained on.

    .venv/bin/python -m benchmarks.mir_composed [--per-meter 3] [--seconds 50] [--seed 0]
        [--composer checkpoints/composer] [--transcriber checkpoints/transcriber]
        [--json PATH] [--fresh]

The corpus test split (`benchmarks.mir`) holds arrangements of other people's tunes; this
benchmark measures the same analysis on songs the shipped composer writes, so neither the tunes
nor the timbres were ever trained on:

1. **The songs** (`plan_songs`): `--per-meter` songs in each meter of the corpus (2/4, 3/4, 4/4,
   6/8), their tempos spread evenly over the meter's usual range in the corpus (roughly its
   5th to 95th percentile, quarter notes per minute), the genre, voice and key cycling through
   lists that fit the meter. Every song sings the same lyrics (`LYRICS`: `benchmarks.
   lyrics_lines`, a verse and a chorus, each sung twice), composed with the song's seed
   (`--seed` and the song's place in the list) and cut to the first whole bars covering
   `--seconds` (`benchmarks.render.cut_score`).
2. **The render**: FluidSynth with the TimGM6mb SoundFont and the espeak-ng + Praat singer,
   exactly as `benchmarks.mir` re-renders the test split (`seedmusic.data.render.render_stems`,
   24 kHz). The cut score and its render are cached under `out/bench-mir-composed/songs/<id>/`,
   keyed by the plan, the seconds and the composer checkpoint.
3. **The analysis** is `benchmarks.mir`'s `ours` system (`mir.analyze.analyze`, the transcriber's
   notes, the sections found again with the transcribed vocal; cached under
   `out/bench-mir-composed/cache/<id>/`), scored against the cut score
   (`mir.evaluate.ground_truth_from_score`) with `benchmarks.mir`'s metric functions.

The table has a column per meter and one over all songs: meter right and one tempo in
`score.json` as counts, the rest means over the songs where the metric is defined (beat and
downbeat F at ±70 ms, tempo within 4 %, key weighted score, chord WCSR majmin, section boundary
F at ±3 s, note onset F1 at ±50 ms per instrument). A second table lists each song: what was
asked, the meter and tempo the analysis found, and its beat and downbeat F.
"""

from __future__ import annotations

import argparse
import json
import logging
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import soundfile as sf
import torch
from tqdm.auto import tqdm

from benchmarks.lyrics_lines import LINES
from benchmarks.mir import Metrics, Part, Take, build_parts, checkpoint_key, run_part
from benchmarks.render import cut_score, markdown_table
from mir.evaluate import GroundTruth, counted_tempo, ground_truth_from_score
from score_tokens.io import read_score, write_score
from score_tokens.score import Score
from seedmusic.cli import error_line, user_error_types
from seedmusic.composer.lyrics_input import LyricSheet, parse_lyrics
from seedmusic.composer.pipeline import DEFAULT_CHECKPOINT, Composer, ComposeRequest
from seedmusic.composer.style import ComposeStyle
from seedmusic.data.corpus import PieceRecord
from seedmusic.data.render import render_stems

logger = logging.getLogger(__name__)

OUT = Path(__file__).resolve().parent.parent / "out" / "bench-mir-composed"
SOUNDFONT = "timgm6mb"
SAMPLE_RATE = 24000
"""The corpus's sample rate, which `benchmarks.mir` renders TimGM6mb at."""
LANGUAGE = "en"


@dataclass(frozen=True)
class MeterPlan:
    """How songs in one meter are asked for.

    Attributes:
        tempo_range: (slowest, fastest) quarter notes per minute: about the 5th and 95th
            percentile of the corpus's pieces in the meter.
        genres: composer genres with a groove in the meter, used in turn.
    """

    tempo_range: tuple[float, float]
    genres: tuple[str, ...]


METER_PLANS: dict[str, MeterPlan] = {
    "2/4": MeterPlan((70.0, 140.0), ("march", "country", "rock", "latin", "pop")),
    "3/4": MeterPlan((72.0, 144.0), ("waltz", "folk", "hymn", "country", "ballad")),
    "4/4": MeterPlan((64.0, 130.0), ("pop", "rock", "bossa", "blues", "swing")),
    "6/8": MeterPlan((72.0, 136.0), ("folk", "ballad", "latin", "swing", "march")),
}
METERS = tuple(METER_PLANS)
VOICES = ("female vocal", "male vocal")
KEYS = ("C major", "G major", "A minor", "F major", "D major", "E minor", "Bb major", "D minor")
LYRICS = "\n\n".join(
    f"[{label}]\n" + "\n".join(lines)
    for label, lines in (
        ("verse", LINES[:4]),
        ("chorus", LINES[4:]),
        ("verse", LINES[:4]),
        ("chorus", LINES[4:]),
    )
)
"""What every song sings: over 50 s at most tempos; the fastest 2/4 songs (above about
120 bpm) are over after 40-47 s."""


@dataclass(frozen=True)
class SongPlan:
    """One song to compose: its style and seed."""

    id: str
    meter: str
    tempo: float
    genre: str
    voice: str
    key: str
    seed: int

    def style(self) -> ComposeStyle:
        numerator, denominator = (int(part) for part in self.meter.split("/"))
        return ComposeStyle(
            genre=self.genre,
            voice=self.voice,
            tempo=self.tempo,
            key=self.key,
            meter=(numerator, denominator),
        )


def plan_songs(per_meter: int, seed: int) -> list[SongPlan]:
    """`per_meter` songs for every meter of `METER_PLANS`, meter by meter, slowest first.

    The i-th of n songs in a meter has the tempo at (i + 1/2)/n of the meter's range (whole
    bpm); genres go round the meter's list, voices and keys round theirs, and each song's
    seed is `seed * 1000` plus its place in the whole list.
    """
    if per_meter < 1:
        raise ValueError(f"per_meter must be at least 1 (got {per_meter})")
    songs = []
    for m, (meter, plan) in enumerate(METER_PLANS.items()):
        low, high = plan.tempo_range
        for i in range(per_meter):
            index = m * per_meter + i
            songs.append(
                SongPlan(
                    id=f"{meter.replace('/', '-')}_{i + 1}of{per_meter}_s{seed}",
                    meter=meter,
                    tempo=float(round(low + (high - low) * (i + 0.5) / per_meter)),
                    genre=plan.genres[i % len(plan.genres)],
                    voice=VOICES[index % len(VOICES)],
                    key=KEYS[(index + seed) % len(KEYS)],
                    seed=seed * 1000 + index,
                )
            )
    return songs


# ------------------------------------------------------------------------------ songs


@dataclass
class Song:
    """A composed, cut and rendered song with its ground truth."""

    plan: SongPlan
    score: Score
    path: Path
    """Its TimGM6mb render (FLAC)."""

    @property
    def truth(self) -> GroundTruth:
        return ground_truth_from_score(self.score)

    def take(self) -> Take:
        """The song as a `benchmarks.mir` take (a `PieceRecord` describing it)."""
        plan = self.plan
        record = PieceRecord(
            id=plan.id,
            work=plan.id,
            split="test",
            path=str(self.path.parent),
            seconds=self.score.duration_seconds(),
            source="seedmusic composer",
            title=plan.id,
            composer="seedmusic",
            licence="own",
            style=plan.genre,
            tags=(plan.genre, plan.voice),
            description=f"{plan.genre}, {plan.voice}, {plan.tempo:g} bpm, {plan.key}, {plan.meter}",
            key=plan.key,
            tempo=plan.tempo,
            time_signature=plan.meter,
            lyrics="original",
            language=LANGUAGE,
            stems=tuple(name for name, track in self.score.tracks.items() if track.notes),
            soundfonts=dict.fromkeys(self.score.tracks, SOUNDFONT),
        )
        return Take(record, SOUNDFONT, self.path, self.truth)


def song_key(plan: SongPlan, seconds: float, composer_folder: Path) -> str:
    """What a cached song depends on: the plan, the seconds, the SoundFont and the composer."""
    parts = [json.dumps(asdict(plan), sort_keys=True), f"{seconds:g}", SOUNDFONT]
    return "|".join([*parts, checkpoint_key(composer_folder)])


def make_song(
    plan: SongPlan,
    sheet: LyricSheet,
    seconds: float,
    composer: Composer,
    composer_folder: Path,
    fresh: bool,
) -> Song:
    """Compose, cut and render `plan` (or read them from the cache)."""
    folder = OUT / "songs" / plan.id
    key = song_key(plan, seconds, composer_folder)
    meta, score_path, audio_path = folder / "song.json", folder / "score.json", folder / "mix.flac"
    cached = not fresh and audio_path.is_file() and score_path.is_file() and meta.is_file()
    if cached and json.loads(meta.read_text()).get("key") == key:
        return Song(plan, read_score(score_path), audio_path)
    request = ComposeRequest(sheet, plan.style(), seed=plan.seed)
    score = cut_score(composer.compose(request).score, seconds)
    mix, _ = render_stems(score, SAMPLE_RATE, LANGUAGE, plan.seed, soundfont=SOUNDFONT)
    folder.mkdir(parents=True, exist_ok=True)
    write_score(score, score_path)
    partial = audio_path.with_suffix(".part.flac")
    sf.write(partial, mix, SAMPLE_RATE)
    partial.rename(audio_path)
    meta.write_text(json.dumps({"key": key, "plan": asdict(plan)}, indent=1))
    return Song(plan, score, audio_path)


# ------------------------------------------------------------------------------ analysis


@dataclass(frozen=True)
class Result:
    """What the analysis found on one song and how it scored."""

    plan: SongPlan
    metrics: Metrics
    found_meter: str | None
    found_tempo: float | None
    true_tempo: float
    """The score's tempo in counted beats per minute (dotted quarters in 6/8)."""


def analyse_song(song: Song, parts: list[Part], fresh: bool) -> Result:
    """Every part of `parts` on `song`, in order (later parts read earlier outputs)."""
    take = song.take()
    metrics: Metrics = {}
    for part in parts:
        entry = run_part(part, take, fresh, OUT / "cache" / take.piece.id)
        if entry is None:
            continue
        take.outputs[part.name] = entry["outputs"]
        metrics.update(part.score(entry["outputs"], take.truth))
    analysis = take.outputs.get("ours-analysis", {})
    tempo = analysis.get("tempo")
    return Result(
        song.plan,
        metrics,
        analysis.get("time_signature"),
        None if tempo is None else float(tempo),
        counted_tempo(take.truth),
    )


# ------------------------------------------------------------------------------ the table

COUNTED = ("meter_right", "one_tempo")
"""Metrics that are 0 or 1 per song, shown as k/n."""
ROWS: tuple[tuple[str, str], ...] = (
    ("meter_right", "meter right"),
    ("beat_f", "beat F"),
    ("downbeat_f", "downbeat F"),
    ("tempo_accuracy", "tempo within 4 %"),
    ("one_tempo", "one tempo in `score.json`"),
    ("key_weighted", "key (weighted)"),
    ("chord_majmin", "chords majmin (WCSR)"),
    ("section_f3", "section boundaries F@3 s"),
    ("notes_vocal_onset_f1", "vocal"),
    ("notes_piano_onset_f1", "piano"),
    ("notes_guitar_onset_f1", "guitar"),
    ("notes_bass_onset_f1", "bass"),
    ("notes_drums_onset_f1", "drums"),
)
"""(metric key, row label) of the summary table, in order."""


@dataclass(frozen=True)
class Cell:
    """One group's value of one metric: a mean (`mean`) or, for `COUNTED`, k of n songs."""

    mean: float | None
    hits: int = 0
    count: int = 0

    def text(self, counted: bool) -> str:
        if self.count == 0:
            return "-"
        if counted:
            return f"{self.hits}/{self.count}"
        return "-" if self.mean is None else f"{self.mean:.2f}"


def aggregate(results: Sequence[Result]) -> dict[str, dict[str, Cell]]:
    """Per meter (in `METERS` order, those present) and over all songs ("all"), every metric of
    `ROWS` as a `Cell` over the songs where it is defined."""
    groups: dict[str, list[Result]] = {
        meter: [r for r in results if r.plan.meter == meter] for meter in METERS
    }
    groups = {meter: rows for meter, rows in groups.items() if rows}
    groups["all"] = list(results)
    table: dict[str, dict[str, Cell]] = {}
    for group, rows in groups.items():
        cells = {}
        for key, _ in ROWS:
            values = [v for r in rows if (v := r.metrics.get(key)) is not None]
            mean = float(np.mean(values)) if values else None
            cells[key] = Cell(mean, sum(v >= 0.5 for v in values), len(values))
        table[group] = cells
    return table


def format_table(table: dict[str, dict[str, Cell]], results: Sequence[Result]) -> str:
    """The summary as a markdown table: a row per `ROWS` metric, a column per group."""
    counts = {m: sum(r.plan.meter == m for r in results) for m in METERS}
    headers = [f"{g} ({counts[g]})" if g in counts else f"all ({len(results)})" for g in table]
    rows = [
        [label, *(cells[key].text(key in COUNTED) for cells in table.values())]
        for key, label in ROWS
    ]
    return markdown_table(["metric", *headers], rows)


def format_songs(results: Sequence[Result]) -> str:
    """A markdown line per song: what was asked and what the analysis found."""
    lines = [
        "| song | asked | meter found | bpm (counted) | bpm found | beat F | downbeat F |",
        "|---|---|---|---:|---:|---:|---:|",
    ]
    for r in results:
        plan, m = r.plan, r.metrics

        def number(value: float | None, digits: int) -> str:
            return "-" if value is None else f"{value:.{digits}f}"

        asked = f"{plan.meter} {plan.genre}, {plan.tempo:g} bpm, {plan.key}"
        lines.append(
            f"| {plan.id} | {asked} | {r.found_meter or '-'} | {r.true_tempo:.1f} | "
            f"{number(r.found_tempo, 1)} | {number(m.get('beat_f'), 2)} | "
            f"{number(m.get('downbeat_f'), 2)} |"
        )
    return "\n".join(lines)


# ------------------------------------------------------------------------------ main


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.mir_composed",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--per-meter", type=int, default=3, help="songs per meter (default 3)")
    parser.add_argument("--seconds", type=float, default=50.0, help="song length, whole bars")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--composer", type=Path, default=DEFAULT_CHECKPOINT)
    parser.add_argument("--transcriber", type=Path, default=Path("checkpoints/transcriber"))
    parser.add_argument("--threads", type=int, default=1, help="torch threads")
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    parser.add_argument("--fresh", action="store_true", help="ignore the caches")
    args = parser.parse_args(argv)
    if args.per_meter < 1:
        parser.error("--per-meter must be at least 1")
    if args.seconds <= 0:
        parser.error("--seconds must be positive")
    logging.basicConfig(level=logging.WARNING, format="%(levelname)s %(name)s: %(message)s")
    torch.set_num_threads(args.threads)
    try:
        composer = Composer.from_pretrained(args.composer)
        parts = build_parts(["ours"], args.transcriber)
        sheet = parse_lyrics(LYRICS, LANGUAGE)
    except user_error_types() as exc:
        parser.exit(2, error_line(exc) + "\n")
    plans = plan_songs(args.per_meter, args.seed)
    results = []
    minutes = 0.0
    for plan in tqdm(plans, desc="songs", unit="song"):
        song = make_song(plan, sheet, args.seconds, composer, args.composer, args.fresh)
        minutes += song.score.duration_seconds() / 60
        results.append(analyse_song(song, parts, args.fresh))
    table = aggregate(results)
    print(
        f"\nOur own pieces, TimGM6mb: {len(results)} songs of the shipped composer, "
        f"{minutes:.1f} min (seed {args.seed})"
    )
    print(format_table(table, results))
    print()
    print(format_songs(results), flush=True)
    if args.json is not None:
        report = {
            "songs": len(results),
            "minutes": minutes,
            "seed": args.seed,
            "groups": {g: {k: asdict(c) for k, c in cells.items()} for g, cells in table.items()},
            "per_song": [
                {
                    **asdict(r.plan),
                    "metrics": r.metrics,
                    "found_meter": r.found_meter,
                    "found_tempo": r.found_tempo,
                }
                for r in results
            ],
        }
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
