"""Tune a trained transcriber's decoding thresholds on held-out corpus audio.

    python -m seedmusic.train.tune_transcriber CHECKPOINT --corpus data/corpus [--split valid]

The network's activations of every piece of the split are computed once; then, per pitched
instrument, the onset threshold and, for the drums, the drum threshold are chosen from a grid
to maximise the mean note onset F1 (mir_eval, 50 ms, pitch within 50 cents; drums compared by
drum class). The chosen thresholds are written into the checkpoint's `config.json`, so that
`transcribe` uses them by default. The transcriber task calls this at export time.
"""

from __future__ import annotations

import argparse
import dataclasses
import logging
import sys
import warnings
from pathlib import Path

import numpy as np
import soundfile as sf

from mir.audio import Audio
from mir.evaluate import note_f1
from mir.transcriber import (
    PITCHED,
    Activations,
    DecodeConfig,
    NoteList,
    Transcriber,
    decode,
    drum_class_notes,
    predict,
)
from seedmusic.data.corpus import Corpus, Split

logger = logging.getLogger(__name__)

GRID: tuple[float, ...] = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7)


def _mean_f1(
    pieces: list[tuple[Activations, dict[str, NoteList]]], config: DecodeConfig, name: str
) -> float:
    scores = []
    for activations, truth in pieces:
        estimated = decode(activations, config)[name]
        reference = truth[name]
        if name == "drums":
            reference = drum_class_notes(reference)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")  # mir_eval warns about empty note lists
            score = note_f1(reference, estimated, offsets=False)
        if score is not None:
            scores.append(score)
    return float(np.mean(scores)) if scores else 0.0


def tune_thresholds(
    model: Transcriber, corpus: Corpus, split: Split = "valid", max_pieces: int | None = None
) -> tuple[DecodeConfig, dict[str, float]]:
    """The best thresholds on `split` and the mean onset F1 per instrument they give."""
    pieces = []
    for piece in corpus.pieces(split)[:max_pieces]:
        samples, rate = sf.read(corpus.mix_path(piece), dtype="float32")
        truth = corpus.truth(piece)["notes"]
        notes = {name: [(float(s), float(e), int(p)) for s, e, p in truth[name]] for name in truth}
        pieces.append((predict(model, Audio(samples, rate)), notes))
    if not pieces:
        raise ValueError(f"the corpus has no {split} pieces to tune on")
    config = model.config.decode
    scores: dict[str, float] = {}
    for index, name in enumerate(PITCHED):
        best = max(
            GRID,
            key=lambda t: _mean_f1(
                pieces,
                dataclasses.replace(
                    config,
                    onset_thresholds=tuple(
                        t if i == index else v for i, v in enumerate(config.onset_thresholds)
                    ),
                ),
                name,
            ),
        )
        thresholds = list(config.onset_thresholds)
        thresholds[index] = best
        config = dataclasses.replace(config, onset_thresholds=tuple(thresholds))
        scores[name] = _mean_f1(pieces, config, name)
    drum = max(
        GRID, key=lambda t: _mean_f1(pieces, dataclasses.replace(config, drum_threshold=t), "drums")
    )
    config = dataclasses.replace(config, drum_threshold=drum)
    scores["drums"] = _mean_f1(pieces, config, "drums")
    logger.info("tuned on %d %s pieces: %s -> onset F1 %s", len(pieces), split, config, scores)
    return config, scores


def tune_checkpoint(
    folder: Path, corpus: Corpus, split: Split = "valid", max_pieces: int | None = None
) -> dict[str, float]:
    """Tune the checkpoint in `folder` and save it back with the chosen thresholds."""
    model = Transcriber.from_pretrained(folder)
    config, scores = tune_thresholds(model, corpus, split, max_pieces)
    model.config = dataclasses.replace(model.config, decode=config)
    model.save_pretrained(folder)
    return scores


def main() -> int:
    """`python -m seedmusic.train.tune_transcriber CHECKPOINT [--corpus DIR]`; bad input is one
    `error:` line and exit code 2."""
    from seedmusic.cli import error_line, user_error_types

    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("checkpoint", type=Path)
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument("--split", default="valid", choices=("train", "valid", "test"))
    parser.add_argument("--pieces", type=int, default=None)
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    try:
        scores = tune_checkpoint(args.checkpoint, Corpus(args.corpus), args.split, args.pieces)
    except user_error_types() as exc:
        print(error_line(exc), file=sys.stderr)
        return 2
    for name, value in scores.items():
        print(f"{name:<7} onset F1 {value:.3f}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
