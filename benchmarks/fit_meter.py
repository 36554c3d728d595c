"""Fit `mir.meter.WEIGHTS` (the meter choice) by conditional logistic regression on the corpus.

    OMP_NUM_THREADS=1 .venv/bin/python -m benchmarks.fit_meter --corpus data/corpus
        [--pieces N] [--l2 L] [--report-test] [--fit-splits train] [--json PATH]

(About 25 min on one thread from an empty cache, 6 min once it is filled.)

Takes (a piece in one rendering):

- train: the corpus mixes of the train pieces (all 245 by default; `--pieces N`: a seeded
  sample of N that keeps the split's share of each meter). A corpus mix plays each stem with a SoundFont drawn per piece among
  those of `build.json` (fluidr3, fluidr3mono, csound, opl3), so the train takes already vary in
  timbre;
- valid: every valid piece, both as its corpus mix (`fluidr3`) and re-rendered with TimGM6mb
  (`timgm6mb`, the benchmark's unseen SoundFont; renders shared with `benchmarks.mir` under
  `out/bench-mir/renders/`);
- test (`--report-test` only, never fitted): the same for the test split, to compare with the
  benchmark.

Per take, everything expensive is cached under `data/meter-fit/<soundfont>/<piece>.npz`: the
RNN's beat and downbeat activations `[F, 2]`, the deep chroma `[C, 12]`, the bass chroma
`[B, 12]` and the DBN's beats `[N, 2]` (decoded from the harmonically emphasized activations,
as `mir.rhythm.grid_from_activations` does; the entry is keyed by the decoding's settings).
The candidates and their features are recomputed from the cache by `mir.meter` on every run,
so a new feature costs seconds, not a re-analysis.

Each take's candidates compete: the target is the candidate with the truth's meter and the best
downbeat F against the truth's downbeats (takes where no candidate has the truth's meter are
left out of the fit and counted). The weights minimise the mean negative log-likelihood of the
targets under a softmax over each take's candidate scores, plus `l2 / 2 * |w|^2` (L-BFGS). The
report gives, with the current `WEIGHTS` and with the fitted ones, per split and rendering:
meter accuracy and downbeat F of the chosen reading (beats smoothed as in `track_beats`), the
meter confusions, and the fitted weights as Python to paste into `mir/meter.py`.
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
import random
import warnings
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import mir_eval
import numpy as np
from scipy.optimize import minimize
from tqdm.auto import tqdm

from benchmarks.mir import take_of
from mir import rhythm
from mir.meter import FEATURES, WEIGHTS, MeterCandidate, meter_candidates, onset_strength
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

CACHE = Path(__file__).resolve().parent.parent / "data" / "meter-fit"
ALLOWED = (2, 3, 4)


# ------------------------------------------------------------------------------ per-take cache


def decoding_key() -> str:
    """The settings the cached DBN beats depend on (a change re-decodes)."""
    settings = (
        rhythm.HARMONIC_WEIGHT,
        rhythm.NOVELTY_SECONDS,
        rhythm.MIN_BPM,
        rhythm.MAX_BPM,
        rhythm.DBN_CHUNK_SECONDS,
        rhythm.DBN_OVERLAP_SECONDS,
        ALLOWED,
    )
    return hashlib.sha256(repr(settings).encode()).hexdigest()[:12]


@dataclass(frozen=True)
class Cached:
    """What `track_beats` computes on one take before the meter decision.

    Attributes:
        activations: `[F, 2]` RNN beat and downbeat activations at `ACTIVATION_FPS`.
        chroma: `[C, 12]` deep chroma at `CHROMA_FPS`.
        bass: `[B, 12]` bass chroma at `mir.bassline.BASS_FPS`.
        decoded: `[N, 2]` the DBN's beat times and bar positions.
        onsets: `[F]` `mir.meter.onset_strength`.
    """

    activations: np.ndarray
    chroma: np.ndarray
    bass: np.ndarray
    decoded: np.ndarray
    onsets: np.ndarray


def compute_take(corpus: Corpus, piece: PieceRecord, soundfont: str) -> Cached:
    """Run the networks, the bass chroma and the DBN on one take (slow: madmom)."""
    from madmom.features.downbeats import RNNDownBeatProcessor

    from mir._madmom import deep_chroma, madmom_signal
    from mir.bassline import bass_chroma

    signal = madmom_signal(take_of(corpus, piece, soundfont).audio)
    activations = rhythm.downbeat_activations(signal, RNNDownBeatProcessor())
    chroma = deep_chroma(signal)
    bass = bass_chroma(signal)
    onsets = onset_strength(signal)
    return Cached(activations, chroma, bass, decode(activations, chroma), onsets)


def compute_onsets(corpus: Corpus, piece: PieceRecord, soundfont: str) -> np.ndarray:
    """`onset_strength` of one take (for cache entries made before it was a cue)."""
    from mir._madmom import madmom_signal

    return onset_strength(madmom_signal(take_of(corpus, piece, soundfont).audio))


def decode(activations: np.ndarray, chroma: np.ndarray) -> np.ndarray:
    """The DBN's beats `[N, 2]` as `grid_from_activations` decodes them (empty on failure)."""
    from madmom.features.downbeats import DBNDownBeatTrackingProcessor

    tracker = DBNDownBeatTrackingProcessor(
        beats_per_bar=list(ALLOWED),
        min_bpm=rhythm.MIN_BPM,
        max_bpm=rhythm.MAX_BPM,
        fps=rhythm.ACTIVATION_FPS,
    )
    novelty = rhythm.harmonic_novelty(chroma, len(activations))
    try:
        emphasized = rhythm.emphasize_harmonic_changes(activations, novelty)
        return rhythm.decode_downbeats(emphasized, tracker).reshape(-1, 2)
    except (ValueError, IndexError) as exc:  # as grid_from_activations: degenerate activations
        logger.info("downbeat tracking found no beats (%s)", exc)
        return np.zeros((0, 2))


def load_take(corpus: Corpus, piece: PieceRecord, soundfont: str) -> Cached:
    """`compute_take` from `CACHE` when there, else computed and cached (re-decoded only when
    the decoding settings changed, onsets added to entries that lack them)."""
    path = CACHE / soundfont / f"{piece.id}.npz"
    key = decoding_key()
    if path.is_file():
        with np.load(path) as data:
            arrays = {name: data[name] for name in data.files}
        same_decoding = str(arrays.pop("key")) == key
        complete = same_decoding and "onsets" in arrays
        if "onsets" not in arrays:
            arrays["onsets"] = compute_onsets(corpus, piece, soundfont)
        if not same_decoding:
            arrays["decoded"] = decode(arrays["activations"], arrays["chroma"])
        cached = Cached(**arrays)
        if complete:
            return cached
    else:
        cached = compute_take(corpus, piece, soundfont)
    path.parent.mkdir(parents=True, exist_ok=True)
    partial = path.with_suffix(".part.npz")
    np.savez_compressed(
        partial,
        activations=cached.activations.astype(np.float32),
        chroma=cached.chroma.astype(np.float32),
        bass=cached.bass.astype(np.float32),
        decoded=cached.decoded,
        onsets=cached.onsets.astype(np.float32),
        key=np.array(key),
    )
    partial.rename(path)
    return cached


# ------------------------------------------------------------------------------ candidates


@dataclass
class Group:
    """One take's candidates, ready to fit and score.

    Attributes:
        name: `<soundfont>/<piece id>`.
        meter: the truth's time signature.
        features: `[J, len(FEATURES)]` one row per candidate.
        meters: `[J]` each candidate's time signature.
        downbeat_f: `[J]` each candidate's downbeat F (after smoothing).
        target: the index of the candidate closest to the truth; None when no candidate has
            the truth's meter.
    """

    name: str
    meter: str
    features: np.ndarray
    meters: list[str]
    downbeat_f: np.ndarray
    target: int | None


def downbeat_f(reference: Sequence[float], estimated: Sequence[float]) -> float:
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # mir_eval warns about short annotations
        return float(mir_eval.beat.f_measure(np.asarray(reference), np.asarray(estimated)))


def candidate_grid(candidate: MeterCandidate) -> rhythm.BeatGrid:
    """The `BeatGrid` that `grid_from_activations` makes of a chosen candidate."""
    beats = rhythm.smooth_beats(candidate.beats, candidate.positions)
    keep = np.concatenate([[True], np.diff(beats) > 0])
    return rhythm.BeatGrid.from_beats(
        beats[keep].tolist(), candidate.positions[keep].tolist(), candidate.compound
    )


def build_group(name: str, cached: Cached, truth: dict) -> Group | None:
    """The take's candidates and target; None when the DBN found too few bars."""
    decoded = cached.decoded
    if len(decoded) == 0:
        return None
    beats, positions = decoded[:, 0], decoded[:, 1].astype(int)
    novelty = rhythm.harmonic_novelty(cached.chroma, len(cached.activations))
    candidates = meter_candidates(
        beats,
        positions,
        cached.activations.astype(np.float64),
        novelty,
        ALLOWED,
        (cached.chroma.astype(np.float64), cached.bass.astype(np.float64)),
        cached.onsets.astype(np.float64),
    )
    if not candidates:
        return None
    grids = [candidate_grid(c) for c in candidates]
    scores = np.array([downbeat_f(truth["downbeats"], g.downbeats) for g in grids])
    meters = [g.time_signature for g in grids]
    right = [j for j, m in enumerate(meters) if m == truth["time_signature"]]
    target = max(right, key=lambda j: scores[j]) if right else None
    features = np.stack([c.features for c in candidates])
    return Group(name, truth["time_signature"], features, meters, scores, target)


# ------------------------------------------------------------------------------ fitting


def negative_log_likelihood(
    weights: np.ndarray, groups: Sequence[Group], l2: float
) -> tuple[float, np.ndarray]:
    """Mean over the groups with a target of `-log softmax(X w)[target]`, plus `l2/2 |w|^2`;
    and its gradient."""
    fitted = [g for g in groups if g.target is not None]
    total, grad = 0.0, np.zeros_like(weights)
    for group in fitted:
        scores = group.features @ weights  # [J]
        top = scores.max()
        probs = np.exp(scores - top)
        norm = probs.sum()
        probs /= norm
        total += top + np.log(norm) - scores[group.target]
        grad += probs @ group.features - group.features[group.target]
    count = max(len(fitted), 1)
    loss = total / count + 0.5 * l2 * float(weights @ weights)
    return loss, grad / count + l2 * weights


def fit_weights(groups: Sequence[Group], l2: float, start: np.ndarray | None = None) -> np.ndarray:
    """The conditional-logit weights `[D]` (L-BFGS from `start`, default zeros)."""
    dimension = next(g.features.shape[1] for g in groups)
    x0 = np.zeros(dimension) if start is None else np.asarray(start, dtype=np.float64)
    result = minimize(negative_log_likelihood, x0, args=(groups, l2), jac=True, method="L-BFGS-B")
    if not result.success:
        logger.warning("L-BFGS stopped early: %s", result.message)
    return np.asarray(result.x)


def choose(group: Group, weights: np.ndarray) -> int:
    """The chosen candidate (ties: the first), as `choose_meter` picks it."""
    return int(np.argmax(group.features @ weights))


@dataclass(frozen=True)
class Scores:
    takes: int
    meter_right: float
    downbeat_f: float
    targets: int
    confusions: Counter[tuple[str, str]]


def score_groups(groups: Sequence[Group], weights: np.ndarray) -> Scores:
    """Meter accuracy and mean downbeat F of the chosen candidates; (truth, chosen) confusions."""
    right: list[float] = []
    fs: list[float] = []
    confusions: Counter[tuple[str, str]] = Counter()
    for group in groups:
        j = choose(group, weights)
        right.append(float(group.meters[j] == group.meter))
        fs.append(group.downbeat_f[j])
        if group.meters[j] != group.meter:
            confusions[(group.meter, group.meters[j])] += 1
    targets = sum(g.target is not None for g in groups)
    return Scores(len(groups), _mean(right), _mean(fs), targets, confusions)


def _mean(values: list[float]) -> float:
    return float(np.mean(values)) if values else float("nan")


# ------------------------------------------------------------------------------ the corpus


def sample_pieces(pieces: list[PieceRecord], count: int | None, seed: int) -> list[PieceRecord]:
    """`count` pieces drawn with `seed`, each meter keeping its share (all when None)."""
    if count is None or count >= len(pieces):
        return list(pieces)
    by_meter: dict[str, list[PieceRecord]] = {}
    for piece in pieces:
        by_meter.setdefault(piece.time_signature, []).append(piece)
    rng = random.Random(seed)
    chosen: list[PieceRecord] = []
    for meter in sorted(by_meter):
        group = by_meter[meter]
        rng.shuffle(group)
        chosen += group[: max(1, round(count * len(group) / len(pieces)))]
    return sorted(chosen, key=lambda p: p.id)


def collect(
    corpus: Corpus, pieces: list[PieceRecord], soundfonts: Sequence[str], desc: str
) -> list[Group]:
    groups = []
    takes = [(p, s) for s in soundfonts for p in pieces]
    for piece, soundfont in tqdm(takes, desc=desc, unit="take"):
        cached = load_take(corpus, piece, soundfont)
        group = build_group(f"{soundfont}/{piece.id}", cached, corpus.truth(piece))
        if group is None:
            logger.warning("%s/%s: no candidates", soundfont, piece.id)
            continue
        groups.append(group)
    return groups


def report_line(label: str, scores: Scores) -> str:
    confusions = ", ".join(f"{a}->{b} {n}" for (a, b), n in sorted(scores.confusions.items()))
    return (
        f"| {label:<28} | {scores.takes:>5} | {scores.meter_right:>11.3f} | "
        f"{scores.downbeat_f:>10.3f} | {confusions or '-'} |"
    )


def weights_python(weights: np.ndarray) -> str:
    lines = ["WEIGHTS: tuple[float, ...] = ("]
    lines += [f"    {w:.3f},  # {name}" for name, w in zip(FEATURES, weights, strict=True)]
    return "\n".join([*lines, ")"])


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("--corpus", type=Path, default=Path("data/corpus"))
    parser.add_argument(
        "--pieces", type=int, default=0, help="train pieces to sample (default 0: all 245)"
    )
    parser.add_argument("--seed", type=int, default=0, help="of the train sample")
    parser.add_argument("--l2", type=float, default=0.001, help="L2 penalty on the weights")
    parser.add_argument(
        "--fit-splits",
        default="train",
        help="comma-separated splits to fit on (train, valid); the others are only reported",
    )
    parser.add_argument(
        "--report-test", action="store_true", help="also score the test split (never fitted)"
    )
    parser.add_argument("--json", type=Path, default=None, help="also write the numbers here")
    args = parser.parse_args()
    logging.basicConfig(level=logging.INFO, format="%(levelname)s %(name)s: %(message)s")
    fit_splits = {s for s in args.fit_splits.split(",") if s}
    if not fit_splits <= {"train", "valid"}:
        parser.error("--fit-splits may name train and valid only")
    try:
        corpus = Corpus(args.corpus)
    except UserError as exc:
        parser.exit(2, f"error: {exc}\n")
    train = sample_pieces(corpus.pieces("train"), args.pieces or None, args.seed)
    logger.info(
        "train sample: %d pieces, %s",
        len(train),
        dict(Counter(p.time_signature for p in train)),
    )
    sets: dict[str, list[Group]] = {
        "train fluidr3": collect(corpus, train, ["fluidr3"], "train"),
    }
    valid = corpus.pieces("valid")
    for soundfont in ("fluidr3", "timgm6mb"):
        sets[f"valid {soundfont}"] = collect(corpus, valid, [soundfont], f"valid {soundfont}")
    if args.report_test:
        test = corpus.pieces("test")
        for soundfont in ("fluidr3", "timgm6mb"):
            sets[f"test {soundfont}"] = collect(corpus, test, [soundfont], f"test {soundfont}")
    fit_on = [g for name, groups in sets.items() if name.split()[0] in fit_splits for g in groups]
    current = np.asarray(WEIGHTS, dtype=np.float64)
    fitted = fit_weights(fit_on, args.l2)
    left_out = sum(g.target is None for g in fit_on)
    print(
        f"\nfitted on {len(fit_on) - left_out} takes of {sorted(fit_splits)} "
        f"({left_out} without a candidate of the truth's meter), l2 {args.l2}"
    )
    header = f"| {'weights, takes':<28} | takes | meter right | downbeat F | confusions (truth->chosen) |"
    print(header)
    print("|" + "|".join("-" * n for n in (30, 7, 13, 12, 28)) + "|")
    report: dict[str, dict[str, object]] = {}
    for label, weights in (("current", current), ("fitted", fitted)):
        for name, groups in sets.items():
            scores = score_groups(groups, weights)
            print(report_line(f"{label}, {name}", scores))
            report[f"{label}, {name}"] = {
                "takes": scores.takes,
                "meter_right": scores.meter_right,
                "downbeat_f": scores.downbeat_f,
                "confusions": {f"{a}->{b}": n for (a, b), n in scores.confusions.items()},
            }
    loss_current, _ = negative_log_likelihood(current, fit_on, 0.0)
    loss_fitted, _ = negative_log_likelihood(fitted, fit_on, 0.0)
    print(f"\nmean NLL on the fitted takes: current {loss_current:.3f}, fitted {loss_fitted:.3f}")
    print("\n" + weights_python(fitted))
    if args.json is not None:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        report["weights"] = dict(zip(FEATURES, map(float, fitted), strict=True))
        args.json.write_text(json.dumps(report, indent=1))


if __name__ == "__main__":
    main()
