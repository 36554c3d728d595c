"""`seedmusic data`: build the open corpus and describe it.

seedmusic data build --out DIR [--hours H] [--workers W] [--seed S] [--licence L ...]
seedmusic data stats DIR [--json]
seedmusic data scores --out DIR [--variants N] [--workers W] [--seed S]
seedmusic data latents --corpus CORPUS --out DIR [--stems A,B] [--codec DIR]
"""

from __future__ import annotations

import argparse
import json
import logging
import sys
from pathlib import Path

from tqdm.auto import tqdm

from seedmusic.data.sources import COLLECTIONS, LICENCES
from seedmusic.data.synth import DEFAULT_SOUNDFONT, TRAINING_SOUNDFONTS

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `data` verb with `build` and `stats`."""
    parser = subparsers.add_parser(
        "data",
        help="build the open training corpus, or describe a built one",
        description="Build the open corpus from public-domain scores, or print its statistics.",
    )
    actions = parser.add_subparsers(dest="data_action", metavar="ACTION", required=True)
    build = actions.add_parser(
        "build",
        help="arrange and render public-domain works into a sharded corpus",
        description=(
            "Arrange public-domain works from music21's corpus for vocal, chord, bass, piano, "
            "guitar and drums, render the mix and every stem, and write them with exact ground "
            "truth into sharded folders under DIR. A re-run skips finished shards; a larger "
            "--hours extends an earlier build with the same seed."
        ),
    )
    build.add_argument("--out", type=Path, required=True, metavar="DIR")
    build.add_argument("--hours", type=float, default=1.0, help="hours of audio to build (1)")
    build.add_argument("--workers", type=int, default=2, help="parallel processes (2)")
    build.add_argument("--seed", type=int, default=0, help="random seed of the plan (0)")
    build.add_argument("--sample-rate", type=int, default=24000, help="Hz, mono (24000)")
    build.add_argument(
        "--licence",
        action="append",
        choices=LICENCES,
        help="licences to include; repeat for several (default: public-domain only)",
    )
    build.add_argument(
        "--collection",
        action="append",
        choices=sorted(COLLECTIONS),
        help="source collections to include; repeat for several (default: all)",
    )
    build.add_argument(
        "--soundfonts",
        default=DEFAULT_SOUNDFONT,
        metavar="A,B,...",
        help=(
            "SoundFonts to render with, drawn per stem "
            f"(default {DEFAULT_SOUNDFONT}; the varied-timbre corpus uses "
            f"{','.join(TRAINING_SOUNDFONTS)})"
        ),
    )
    build.add_argument(
        "--timbre-variety",
        type=float,
        default=0.0,
        metavar="P",
        help=(
            "probability that each pitched track plays another GM program of its family; half "
            "of it is the probability that a lead instrument plays the vocal line (0)"
        ),
    )
    build.set_defaults(func=run_build)
    stats = actions.add_parser(
        "stats",
        help="print the statistics of a built corpus",
        description="Pieces, hours, splits, styles, sources, licences and disk size of a corpus.",
    )
    stats.add_argument("corpus", type=Path, metavar="DIR")
    stats.add_argument("--json", action="store_true", help="print JSON")
    stats.set_defaults(func=run_stats)
    scores = actions.add_parser(
        "scores",
        help="build the composer's score-only corpus (no audio: minutes, not hours)",
        description=(
            "Read every public-domain work once (cached in DIR/tunes.jsonl, resumable), then "
            "arrange each work of the train and valid splits --variants times (style, tempo, key, "
            "voice and, for wordless tunes, synthetic words drawn per variant) as lead sheets, and "
            "write their tokens, grammar features and description vectors to DIR/sequences.npz. "
            "The audio corpus's test works are left out."
        ),
    )
    scores.add_argument("--out", type=Path, required=True, metavar="DIR")
    scores.add_argument("--variants", type=int, default=3, help="arrangements per work (3)")
    scores.add_argument("--workers", type=int, default=2, help="processes reading works (2)")
    scores.add_argument("--seed", type=int, default=0, help="random seed of the arrangements (0)")
    scores.set_defaults(func=run_scores)
    latents = actions.add_parser(
        "latents",
        help="encode a built corpus's audio with the codec (what the DiT trains on)",
        description=(
            "Encode every piece's mix and stems with the codec into DIR/<stem>/<piece>.npz: the "
            "VAE's latents (float16) and the RVQ codes. 'accompaniment' is every instrument stem "
            "but the vocal, summed. A re-run skips finished files; latents of another codec in "
            "DIR are refused."
        ),
    )
    latents.add_argument("--corpus", type=Path, required=True, metavar="CORPUS")
    latents.add_argument("--out", type=Path, required=True, metavar="DIR")
    latents.add_argument(
        "--stems",
        default="mix,vocal,accompaniment",
        metavar="A,B,...",
        help="stems to encode: mix, vocal, accompaniment, bass, piano, guitar, drums "
        "(default mix,vocal,accompaniment)",
    )
    latents.add_argument(
        "--codec", type=Path, default=None, metavar="DIR", help="codec (default: the shipped one)"
    )
    latents.set_defaults(func=run_latents)


def run_build(args: argparse.Namespace) -> int:
    """`data build`."""
    from seedmusic.data.build import BuildConfig, build, report_json

    config = BuildConfig(
        out=args.out,
        hours=args.hours,
        workers=args.workers,
        seed=args.seed,
        sample_rate=args.sample_rate,
        licences=tuple(args.licence or ("public-domain",)),
        collections=tuple(args.collection) if args.collection else None,
        soundfonts=tuple(name.strip() for name in args.soundfonts.split(",") if name.strip()),
        timbre_variety=args.timbre_variety,
    )
    bar = tqdm(
        total=round(args.hours, 3),
        unit="h",
        desc="corpus",
        disable=not sys.stderr.isatty(),
        bar_format="{l_bar}{bar}| {n:.2f}/{total:.2f} h [{elapsed}<{remaining}]",
    )
    with bar:
        report = build(config, on_shard=lambda hours: bar.update(min(hours, bar.total - bar.n)))
    summary = report_json(report)
    logger.info(
        "%s: %d pieces, %.2f h in %d shards (%d rendered now, %d works skipped) in %.0f s",
        args.out,
        summary["pieces"],
        summary["hours"],
        summary["shards"],
        summary["rendered_shards"],
        len(summary["skipped"]),
        summary["wall_seconds"],
    )
    return 0


def run_stats(args: argparse.Namespace) -> int:
    """`data stats DIR [--json]`."""
    from seedmusic.data.build import stats
    from seedmusic.data.corpus import Corpus

    corpus = Corpus(args.corpus)
    numbers = stats(corpus.pieces(), corpus.root)
    if args.json:
        print(json.dumps(numbers, indent=1))
        return 0
    print(
        f"{corpus.root}: {numbers['pieces']} pieces, {numbers['hours']:.2f} h, {numbers['disk_mb']} MB"
    )
    for name in (
        "splits",
        "split_hours",
        "styles",
        "collections",
        "licences",
        "lyrics",
        "time_signatures",
    ):
        values = ", ".join(f"{k} {v}" for k, v in numbers[name].items())
        print(f"  {name:<16} {values}")
    tempo = numbers["tempo_bpm"]
    print(f"  {'tempo_bpm':<16} {tempo['min']:.0f}..{tempo['max']:.0f} (mean {tempo['mean']})")
    print(f"  {'keys':<16} {numbers['keys']} distinct; {numbers['works']} source works")
    return 0


def run_latents(args: argparse.Namespace) -> int:
    """`data latents`."""
    from seedmusic.checkpoints import reference_checkpoint
    from seedmusic.data.latents import encode_corpus, parse_stems

    stems = parse_stems(args.stems)
    codec = args.codec or reference_checkpoint("codec")
    written = encode_corpus(args.corpus, codec, args.out, stems, progress=sys.stderr.isatty())
    print(f"{args.out}: " + ", ".join(f"{stem} {n} new" for stem, n in written.items()))
    return 0


def run_scores(args: argparse.Namespace) -> int:
    """`data scores`."""
    from seedmusic.composer.dataset import build_sequences
    from seedmusic.composer.tunes import read_all_tunes
    from seedmusic.errors import UserError

    if args.variants < 1 or args.workers < 1:
        raise UserError("--variants and --workers must be at least 1")
    read_all_tunes(args.out, workers=args.workers, progress=sys.stderr.isatty())
    report = build_sequences(args.out, variants=args.variants, seed=args.seed)
    print(
        f"{args.out}: {report['sequences']} lead sheets, {report['tokens']:,} tokens "
        f"({report['rejected']} rejected by the grammar)"
    )
    return 0
