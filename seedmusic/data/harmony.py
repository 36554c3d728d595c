"""Chord labels for the corpus: naming pitch-class sets, and harmonising a bare melody.

`label_chord(weights, bass)` names a duration-weighted pitch-class profile with the best of
our chord templates (root x quality), preferring the chord whose root is in the bass.

`harmonise(melody, ...)` gives a melody without chords a diatonic harmony: one chord per
harmonic slot (a bar, or half a bar in 4/4), chosen by dynamic programming over the diatonic
triads and the dominant seventh of the key. Each chord scores how much of the slot's melody
(weighted by duration, strong beats counting double) its tones cover; transitions carry a
prior (functional moves I-IV-V-I are cheap, staying is cheap, odd moves cost more), and the
first and last slots are pulled to the tonic. It is the textbook way to harmonise a folk tune,
deterministic and explainable.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from score_tokens.score import Chord, Note

TEMPLATES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "dim": (0, 3, 6),
    "aug": (0, 4, 8),
    "sus4": (0, 5, 7),
    "sus2": (0, 2, 7),
    "7": (0, 4, 7, 10),
    "maj7": (0, 4, 7, 11),
    "min7": (0, 3, 7, 10),
    "hdim7": (0, 3, 6, 10),
    "dim7": (0, 3, 6, 9),
}
# Triads are the usual explanation of three or fewer tones: a richer chord must earn its place.
QUALITY_PRIOR: dict[str, float] = {
    "maj": 0.0,
    "min": 0.0,
    "7": -0.05,
    "dim": -0.1,
    "min7": -0.1,
    "maj7": -0.15,
    "hdim7": -0.15,
    "dim7": -0.15,
    "sus4": -0.2,
    "aug": -0.25,
    "sus2": -0.25,
}
MAJOR_SCALE = (0, 2, 4, 5, 7, 9, 11)
MINOR_SCALE = (0, 2, 3, 5, 7, 8, 10)  # natural minor; V is raised to major below


def label_chord(weights: np.ndarray, bass: int | None = None) -> tuple[int, str] | None:
    """The best (root, quality) for a 12-bin pitch-class profile, or None for silence.

    Score of a template: weight on its tones minus weight off them (normalised), plus a bonus
    when `bass` is its root, plus `QUALITY_PRIOR`; a template whose tones are not all present
    loses 0.25 per missing tone.
    """
    total = float(weights.sum())
    if total <= 0:
        return None
    profile = weights / total
    best: tuple[float, int, str] | None = None
    for root in range(12):
        for quality, intervals in TEMPLATES.items():
            tones = [(root + i) % 12 for i in intervals]
            inside = float(profile[tones].sum())
            missing = sum(1 for t in tones if profile[t] == 0)
            score = inside - (1.0 - inside) - 0.25 * missing + QUALITY_PRIOR[quality]
            score += 0.15 if bass is not None and bass % 12 == root else 0.0
            if best is None or score > best[0] + 1e-9:
                best = (score, root, quality)
    assert best is not None
    return best[1], best[2]


@dataclass(frozen=True)
class Candidate:
    """A chord the harmoniser may choose: root, quality and scale degree (0 = tonic)."""

    root: int
    quality: str
    degree: int


def diatonic_candidates(tonic: int, mode: str) -> list[Candidate]:
    """The diatonic triads of the key (minor with a major V) plus V7."""
    scale = MAJOR_SCALE if mode == "major" else MINOR_SCALE
    candidates = []
    for degree in range(7):
        root = scale[degree]
        third = scale[(degree + 2) % 7] - root
        fifth = scale[(degree + 4) % 7] - root
        intervals = (third % 12, fifth % 12)
        quality = {(4, 7): "maj", (3, 7): "min", (3, 6): "dim", (4, 8): "aug"}[intervals]
        if mode == "minor" and degree == 4:
            quality = "maj"  # harmonic minor dominant
        if quality == "dim":
            continue  # vii° rarely harmonises a folk tune well
        candidates.append(Candidate((tonic + root) % 12, quality, degree))
    candidates.append(Candidate((tonic + 7) % 12, "7", 4))
    return candidates


# Cost of moving from degree a to degree b (0-based scale degrees).
_GOOD_MOVES = {(0, 3), (0, 4), (3, 4), (4, 0), (3, 0), (5, 1), (1, 4), (0, 5), (5, 3), (2, 5)}


def _transition_cost(a: Candidate, b: Candidate) -> float:
    if (a.root, a.quality) == (b.root, b.quality):
        return 0.05
    if (a.degree, b.degree) in _GOOD_MOVES or a.degree == b.degree:
        return 0.1
    if a.degree == 4 and b.degree == 5:  # deceptive cadence
        return 0.2
    return 0.35


def slot_profiles(melody: Sequence[Note], slot_ticks: int, num_slots: int, beat: int) -> np.ndarray:
    """Duration-weighted pitch classes per slot `[num_slots, 12]`; strong beats count double."""
    profiles = np.zeros((num_slots, 12))
    for note in melody:
        tick = note.tick
        while tick < note.end:
            slot = tick // slot_ticks
            if slot >= num_slots:
                break
            stop = min(note.end, (slot + 1) * slot_ticks)
            weight = (stop - tick) / beat * (2.0 if tick % slot_ticks == 0 else 1.0)
            profiles[slot, note.pitch % 12] += weight
            tick = stop
    return profiles


def harmonise(
    melody: Sequence[Note],
    tonic: int,
    mode: str,
    slot_ticks: int,
    end_tick: int,
    beat: int,
) -> list[Chord]:
    """One diatonic chord per slot of `slot_ticks` from 0 to `end_tick` (see the module docstring).

    Slots without melody keep the previous chord (the first ones take the tonic's). Equal
    neighbouring chords are merged into one.
    """
    num_slots = max(1, -(-end_tick // slot_ticks))
    profiles = slot_profiles(melody, slot_ticks, num_slots, beat)
    candidates = diatonic_candidates(tonic, mode)
    fit = np.zeros((num_slots, len(candidates)))
    for j, cand in enumerate(candidates):
        tones = [(cand.root + i) % 12 for i in TEMPLATES[cand.quality]]
        totals = profiles.sum(axis=1)
        inside = profiles[:, tones].sum(axis=1)
        fit[:, j] = np.where(totals > 0, (2 * inside - totals) / np.maximum(totals, 1e-9), 0.0)
        if cand.quality == "7":
            fit[:, j] -= 0.1
    tonic_bonus = np.array([0.5 if c.degree == 0 and c.quality != "7" else 0.0 for c in candidates])
    fit[0] += tonic_bonus
    fit[-1] += tonic_bonus
    path = _best_path(fit, candidates)
    chords: list[Chord] = []
    for slot, j in enumerate(path):
        cand = candidates[j]
        start = slot * slot_ticks
        stop = min(end_tick, start + slot_ticks)
        if chords and (chords[-1].root, chords[-1].quality) == (cand.root, cand.quality):
            chords[-1].duration = stop - chords[-1].tick
        elif stop > start:
            chords.append(Chord(start, stop - start, cand.root, cand.quality))
    return chords


def _best_path(fit: np.ndarray, candidates: list[Candidate]) -> list[int]:
    """Viterbi over slots: maximise fit minus transition costs."""
    num_slots, n = fit.shape
    cost = np.array([[_transition_cost(a, b) for b in candidates] for a in candidates])
    score = fit[0].copy()
    back = np.zeros((num_slots, n), dtype=int)
    for slot in range(1, num_slots):
        total = score[:, None] - cost  # [from, to]
        back[slot] = total.argmax(axis=0)
        score = total.max(axis=0) + fit[slot]
    path = [int(score.argmax())]
    for slot in range(num_slots - 1, 0, -1):
        path.append(int(back[slot, path[-1]]))
    return path[::-1]
