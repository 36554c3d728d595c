"""Lyrics-to-note alignment (`mir.lyrics`) on the corpus, from ground-truth vocal notes.

    .venv/bin/python -m benchmarks.lyrics_align [--corpus data/corpus] [--split valid] [--seed 0]

For every piece of the split that has lyrics, the lyric text is rebuilt by joining the truth
syllables (`truth.json` "lyrics") with spaces (the truth does not mark words), and the syllables
are placed on the vocal notes (`truth.json` "notes"/"vocal") twice:

- exact: the ground-truth notes as they are;
- perturbed: 10 % of the notes dropped, 10 % spurious short notes (40-120 ms, a pitch within
  ±5 semitones of the nearest note) added at random times inside the vocal's time range, and
  every onset moved by a uniform ±20 ms (ends kept, seeded per piece).

A syllable is a hit when its placed start is within 50 ms of its truth start. "aligned" runs
`align_syllables` on the truth syllables themselves (so each output is known to belong to one
truth syllable); "end-to-end" runs `align_lyrics` on the rebuilt text and counts the truth
syllables for which an output with the same letters (punctuation dropped) starts within 50 ms.
"re-split" counts the truth syllables that `syllabify` splits into more than one (or zero)
syllables, i.e. where the text route and the truth disagree before any alignment.
"""

from __future__ import annotations

import argparse
import logging
import sys
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from mir.evaluate import GroundTruth
from mir.lyrics import align_lyrics, align_syllables, syllabify
from seedmusic.cli import error_line
from seedmusic.data.corpus import Corpus
from seedmusic.errors import UserError

TOLERANCE_S = 0.05
DROP_SHARE = 0.10
SPURIOUS_SHARE = 0.10
JITTER_S = 0.02

Note = tuple[float, float, int]
Lyric = tuple[float, float, str]


@dataclass
class Tally:
    syllables: int = 0
    resplit: int = 0
    aligned_exact: int = 0
    aligned_perturbed: int = 0
    text_exact: int = 0
    text_perturbed: int = 0
    dropped_exact: int = 0
    dropped_perturbed: int = 0

    def add(self, other: Tally) -> None:
        for name in vars(self):
            setattr(self, name, getattr(self, name) + getattr(other, name))


def perturb(notes: list[Note], rng: np.random.Generator) -> list[Note]:
    """Drop, add and jitter notes as described in the module docstring."""
    kept = [note for note in notes if rng.random() >= DROP_SHARE]
    first, last = notes[0][0], max(note[1] for note in notes)
    starts = np.array([note[0] for note in notes])
    for _ in range(round(SPURIOUS_SHARE * len(notes))):
        start = float(rng.uniform(first, last))
        near = notes[int(np.argmin(np.abs(starts - start)))][2]
        pitch = int(near + rng.integers(-5, 6))
        kept.append((start, start + float(rng.uniform(0.04, 0.12)), pitch))
    jittered = []
    for start, end, pitch in kept:
        moved = start + float(rng.uniform(-JITTER_S, JITTER_S))
        jittered.append((moved, max(end, moved + 0.01), pitch))
    return sorted(jittered)


def _letters(text: str) -> str:
    return "".join(syllabify(text.replace("-", ""), "xx")).lower()


def score_piece(lyrics: list[Lyric], notes: list[Note], language: str, seed: int) -> Tally:
    tally = Tally(syllables=len(lyrics))
    truth = [text for _, _, text in lyrics]
    tally.resplit = sum(len(syllabify(text, language)) != 1 for text in truth)
    text = " ".join(truth)
    perturbed = perturb(notes, np.random.default_rng(seed))
    for label, given in (("exact", notes), ("perturbed", perturbed)):
        placement = align_syllables(truth, given)
        hits = sum(
            j is not None and abs(given[j][0] - start) <= TOLERANCE_S
            for j, (start, _, _) in zip(placement, lyrics, strict=True)
        )
        setattr(tally, f"aligned_{label}", hits)
        setattr(tally, f"dropped_{label}", sum(j is None for j in placement))
        output = align_lyrics(text, given, language)
        found = 0
        for start, _, syllable in lyrics:
            letters = _letters(syllable)
            found += any(
                abs(out_start - start) <= TOLERANCE_S and _letters(out_text) == letters
                for out_start, _, out_text in output
            )
        setattr(tally, f"text_{label}", found)
    return tally


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--split", default="valid")
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)

    groups: dict[str, Tally] = {}
    pieces: dict[str, int] = {}
    try:
        corpus = Corpus(args.corpus)
    except UserError as exc:
        print(error_line(exc), file=sys.stderr)
        return 2
    for number, record in enumerate(corpus.pieces()):
        if record.split != args.split or record.lyrics == "none":
            continue
        truth = GroundTruth.from_json_dict(corpus.truth(record))
        lyrics, notes = truth.lyrics, truth.notes.get("vocal", [])
        if not lyrics or not notes:
            continue
        key = f"{record.language} {record.lyrics}"
        tally = score_piece(lyrics, notes, record.language, args.seed * 100_003 + number)
        groups.setdefault(key, Tally()).add(tally)
        pieces[key] = pieces.get(key, 0) + 1
    total = Tally()
    for tally in groups.values():
        total.add(tally)
    groups["all"], pieces["all"] = total, sum(pieces.values())

    print(
        f"split {args.split}, tolerance {TOLERANCE_S * 1000:.0f} ms; perturbed: drop "
        f"{DROP_SHARE:.0%}, add {SPURIOUS_SHARE:.0%} short notes, onsets ±{JITTER_S * 1000:.0f} ms"
    )
    header = (
        f"{'group':<14}{'pieces':>7}{'syll':>7}{'re-split':>9}"
        f"{'exact':>8}{'e2e':>8}{'dropped':>8}{'perturb':>9}{'e2e':>8}{'dropped':>8}"
    )
    print(header)
    print("-" * len(header))
    for key, t in groups.items():
        share = 100.0 / max(t.syllables, 1)
        print(
            f"{key:<14}{pieces[key]:>7}{t.syllables:>7}{t.resplit:>9}"
            f"{t.aligned_exact * share:>7.1f}%{t.text_exact * share:>7.1f}%{t.dropped_exact:>8}"
            f"{t.aligned_perturbed * share:>8.1f}%{t.text_perturbed * share:>7.1f}%"
            f"{t.dropped_perturbed:>8}"
        )
    return 0


if __name__ == "__main__":
    sys.exit(main())
