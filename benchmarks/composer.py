"""Composer benchmark: lyrics + style of the audio corpus's test pieces -> scores, scored.

    python -m benchmarks.composer --data data/composer --checkpoint checkpoints/composer \
        [--pieces 20] [--samples 3] [--out out/bench-composer]

Prompts: the test-split works in the audio corpus's build order (`seedmusic.data.build`,
seed 0), arranged exactly as the audio corpus arranges them (style, tempo, key, voice, words,
MMA band); a piece's lyrics become a `LyricSheet` (its sections, phrases split at rests) and its
style is requested in full (genre, voice, tempo, key, meter). Systems:

- `composer`: the shipped LM under the grammar (`--samples` seeds per prompt);
- `n-gram`: an interpolated Kneser-Ney 5-gram over the same lead-sheet tokens of the training
  split, sampled through the same grammar (so it also sings every syllable) and band;
- `rule`: one syllable per beat, a random in-key melody on a random diatonic chord chart, MMA;
- `test pieces`: the pieces themselves, the ceiling.

Metrics (`benchmarks.composer_metrics` defines each): alignment validity, D_A / PD / DD / D_IOI
against the valid split's lead sheets, MD against the prompt's own piece, in-key ratios, chord
tones on strong beats, stress on strong beats, compliance, copying (16-note n-grams shared with
training, nearest training melody by MD), and seconds per minute of music (2 CPU threads).
Prints a Markdown table (mean ± SD over prompts × samples) and writes the raw rows to JSON.
"""

from __future__ import annotations

import argparse
import json
import logging
import random
import sys
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from benchmarks import composer_metrics as cm
from score_tokens.score import Score
from seedmusic.composer.decode import NGramScorer
from seedmusic.composer.leadsheet import TOKEN_ID, SungSyllable, decode_lead_sheet
from seedmusic.composer.lyrics_input import (
    LyricSection,
    LyricSheet,
    Syllable,
    syllables_from_note_lyrics,
)
from seedmusic.composer.meter import beat_ticks
from seedmusic.composer.ngram import NGramLM
from seedmusic.composer.pipeline import Composer, ComposeRequest, song_plan
from seedmusic.composer.rule_baseline import rule_song
from seedmusic.composer.style import ComposeStyle
from seedmusic.composer.tunes import iter_records, tune_from_json
from seedmusic.data.arrange import arrange, choose_arrangement
from seedmusic.data.build import BuildConfig, _shortened, piece_seed, work_order
from seedmusic.data.sources import Work
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

SYSTEMS = ("composer", "n-gram", "rule", "test pieces")


@dataclass
class Prompt:
    """One test piece and what a user would type to get it."""

    work: str
    score: Score
    sheet: LyricSheet
    style: ComposeStyle


def test_prompts(data: Path, limit: int) -> list[Prompt]:
    """The first `limit` test works of the audio corpus's plan, arranged as the corpus does."""
    records = {
        r["work"]: r
        for r in iter_records(data / "tunes.jsonl")
        if "tune" in r and r["split"] == "test"
    }
    order = [w for w in work_order(BuildConfig(out=data, hours=0.0)) if w.id in records]
    prompts: list[Prompt] = []
    for work in order:
        if len(prompts) >= limit:
            break
        tune = _shortened(tune_from_json(records[work.id]["tune"]))
        try:
            choice = choose_arrangement(
                tune,
                Work(work.id, work.collection, Path("")),
                random.Random(piece_seed(0, work.id)),
            )
            score = arrange(tune, choice)
        except (UserError, ValueError, RuntimeError) as exc:
            logger.info("skipped %s: %s", work.id, exc)
            continue
        sheet = sheet_from_score(score, tune.language or "en")
        if sheet is None:
            continue
        style = ComposeStyle(
            genre=choice.style,
            voice=choice.voice,
            tempo=choice.tempo,
            key=score.key,
            meter=(tune.numerator, tune.denominator),
        )
        prompts.append(Prompt(work.id, score, sheet, style))
    return prompts


def sheet_from_score(score: Score, language: str) -> LyricSheet | None:
    """The lyrics of a score as a user would write them: its sections, phrases split at rests."""
    vocal = score.notes("vocal")
    syllables = syllables_from_note_lyrics([n.lyric for n in vocal], language)
    beat = beat_ticks(
        score.time_signatures[0].numerator,
        score.time_signatures[0].denominator,
        score.ticks_per_beat,
    )
    sections = sorted(score.sections, key=lambda s: s.tick)
    out = []
    for index, section in enumerate(sections):
        stop = sections[index + 1].tick if index + 1 < len(sections) else None
        lines: list[list[Syllable]] = []
        previous = None
        for note, syllable in zip(vocal, syllables, strict=True):
            if note.tick < section.tick or (stop is not None and note.tick >= stop):
                continue
            phrase = (
                previous is None
                or note.tick - previous.end >= beat
                or previous.duration >= 2 * beat
            )
            previous = note
            if syllable is None:
                continue
            if phrase or not lines:
                lines.append([])
            start = not lines[-1]
            lines[-1].append(
                Syllable(
                    syllable.text,
                    syllable.stress,
                    syllable.word_start or start,
                    start,
                    syllable.phonemes,
                )
            )
        label = "bridge" if section.label == "instrumental" and lines else section.label
        if label in ("intro", "outro") and lines:
            return None
        out.append(LyricSection(label, tuple(tuple(line) for line in lines)))
    if not any(s.lines for s in out):
        return None
    return LyricSheet(tuple(out), language)


def reference_scores(data: Path, split: str, limit: int, seed: int = 0) -> list[Score]:
    """Lead sheets of a split of the training data (decoded from their tokens)."""
    from seedmusic.composer.dataset import SEQUENCES_FILE

    stored = np.load(data / SEQUENCES_FILE)
    meta = json.loads(str(stored["meta"]))
    rows = [i for i, m in enumerate(meta) if m["split"] == split]
    random.Random(seed).shuffle(rows)
    offsets, ids = stored["offsets"], stored["ids"]
    scores = []
    for row in rows[:limit]:
        tokens = ids[offsets[row] : offsets[row + 1]].astype(np.int64).tolist()
        count = sum(1 for t in tokens if t == TOKEN_ID["Syllable"])
        scores.append(decode_lead_sheet(tokens, [SungSyllable(f"s{i}") for i in range(count)]))
    return scores


def fit_ngram(data: Path, order: int = 5) -> NGramLM:
    """The n-gram baseline on the training split's lead-sheet tokens."""
    from seedmusic.composer.dataset import SEQUENCES_FILE
    from seedmusic.composer.leadsheet import VOCAB

    stored = np.load(data / SEQUENCES_FILE)
    meta = json.loads(str(stored["meta"]))
    offsets, ids = stored["offsets"], stored["ids"]
    sequences = [
        ids[offsets[i] : offsets[i + 1]].astype(np.int64).tolist()
        for i, m in enumerate(meta)
        if m["split"] == "train"
    ]
    return NGramLM(order, len(VOCAB)).fit(sequences)


def evaluate(
    score: Score,
    prompt: Prompt,
    reference: Sequence[Score],
    training_ngrams: set[tuple[Any, ...]],
    training: Sequence[Score],
    seconds: float | None,
) -> dict[str, float]:
    """Every metric of one generated (or test) score."""
    syllables = [s for section in prompt.sheet.sections for s in section.syllables]
    row: dict[str, float] = {
        "valid": 100.0 * cm.alignment_valid(score, [s.text for s in syllables])
    }
    row.update(cm.distribution_metrics(score, reference))
    row["MD"] = cm.melody_distance(score, prompt.score)
    row["in-key vocal"] = 100.0 * cm.in_key_ratio(score, ("vocal",))
    row["in-key band"] = 100.0 * cm.in_key_ratio(score, ("bass", "piano", "guitar"))
    row["chord tones"] = 100.0 * cm.chord_tone_ratio(score)
    row["stress strong"] = 100.0 * cm.stress_on_strong_ratio(score, [s.stress for s in syllables])
    style = prompt.style
    checks = cm.compliance(
        score,
        tempo=style.tempo,
        meter=style.meter,
        key=style.key,
        voice=style.voice,
        section_order=song_plan(prompt.sheet)[1],
    )
    row["compliance"] = 100.0 * float(np.mean(list(checks.values())))
    row["copy 16-gram"] = 100.0 * cm.copy_share(score, training_ngrams)
    row["nearest MD"] = cm.nearest_md(score, training, len(training))
    if seconds is not None:
        row["s per min"] = seconds / max(score.duration_seconds() / 60.0, 1e-6)
    return row


def run(args: argparse.Namespace) -> int:
    torch.set_num_threads(2)
    prompts = test_prompts(args.data, args.pieces)
    logger.info("%d prompts", len(prompts))
    reference = reference_scores(args.data, "valid", args.reference)
    training = reference_scores(args.data, "train", args.training)
    training_ngrams: set[tuple[Any, ...]] = set()
    for score in reference_scores(args.data, "train", args.ngram_pieces, seed=1):
        training_ngrams |= cm.melody_ngrams(score)
    composer = Composer.from_pretrained(args.checkpoint)
    started = time.perf_counter()
    ngram = fit_ngram(args.data)
    logger.info("fitted the n-gram in %.0f s", time.perf_counter() - started)
    systems: dict[str, Callable[[Prompt, int], tuple[Score, float | None]]] = {
        "composer": lambda p, seed: _timed(
            lambda: composer.compose(ComposeRequest(p.sheet, p.style, seed=seed)).score
        ),
        "n-gram": lambda p, seed: _timed(
            lambda: (
                composer.compose(
                    ComposeRequest(p.sheet, p.style, seed=seed),
                    scorer_factory=lambda: NGramScorer(ngram),
                ).score
            )
        ),
        "rule": lambda p, seed: (rule_song(p.sheet, p.style, seed), None),
        "test pieces": lambda p, seed: (p.score, None),
    }
    rows: dict[str, list[dict[str, float]]] = {name: [] for name in SYSTEMS}
    for index, prompt in enumerate(prompts):
        for name in SYSTEMS:
            for seed in range(1 if name == "test pieces" else args.samples):
                try:
                    score, seconds = systems[name](prompt, seed)
                except UserError as exc:
                    logger.warning("%s failed on %s: %s", name, prompt.work, exc)
                    rows[name].append({"valid": 0.0})
                    continue
                rows[name].append(
                    evaluate(score, prompt, reference, training_ngrams, training, seconds)
                )
        logger.info("prompt %d/%d done (%s)", index + 1, len(prompts), prompt.work)
    args.out.mkdir(parents=True, exist_ok=True)
    (args.out / "rows.json").write_text(json.dumps(rows, indent=1))
    print(table(rows))
    return 0


def _timed(make: Callable[[], Score]) -> tuple[Score, float]:
    started = time.perf_counter()
    score = make()
    return score, time.perf_counter() - started


METRICS = (
    "valid", "D_A", "PD", "DD", "D_IOI", "MD", "in-key vocal", "in-key band", "chord tones",
    "stress strong", "compliance", "copy 16-gram", "nearest MD", "s per min",
)  # fmt: skip


def table(rows: dict[str, list[dict[str, float]]]) -> str:
    """Markdown: one row per system, mean ± SD per metric."""
    lines = ["| system | " + " | ".join(METRICS) + " |", "|---|" + "---:|" * len(METRICS)]
    for name, values in rows.items():
        cells = []
        for metric in METRICS:
            found = [v[metric] for v in values if metric in v and np.isfinite(v[metric])]
            if not found:
                cells.append("—")
                continue
            mean, sd = float(np.mean(found)), float(np.std(found))
            cells.append(
                f"{mean:.1f} ± {sd:.1f}"
                if metric not in ("MD", "nearest MD", "s per min")
                else f"{mean:.2f} ± {sd:.2f}"
            )
        lines.append(f"| {name} | " + " | ".join(cells) + " |")
    return "\n".join(lines)


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m benchmarks.composer", description=__doc__.split("\n")[0]
    )
    parser.add_argument("--data", type=Path, default=Path("data/composer"))
    parser.add_argument("--checkpoint", type=Path, default=Path("checkpoints/composer"))
    parser.add_argument("--pieces", type=int, default=20)
    parser.add_argument("--samples", type=int, default=3)
    parser.add_argument(
        "--reference", type=int, default=200, help="valid lead sheets for the distributions"
    )
    parser.add_argument(
        "--training", type=int, default=100, help="training melodies for nearest MD"
    )
    parser.add_argument(
        "--ngram-pieces", type=int, default=3000, help="training pieces for the n-gram copy check"
    )
    parser.add_argument("--out", type=Path, default=Path("out/bench-composer"))
    args = parser.parse_args(argv)
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        return run(args)
    except UserError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    raise SystemExit(main())
