"""Lead-sheet tokens: the composer's REMI stream (sections, chords, vocal melody, syllable marks).

The composer writes the lead sheet (what a songwriter writes: sections, chords, the sung melody
with every syllable placed) as a REMI-style token stream; the band is arranged from its chord
chart afterwards (`seedmusic.composer.pipeline`). Token names are REMI's (`score_tokens.remi`),
so a lead sheet reads like the project's score tokens::

    BOS Key_D_major TimeSig_4/4 Tempo_96                   header (the user's choices are forced)
    Bar Section_intro Position_0 Chord_2_maj ...           per bar; Section_x right after Bar
    Bar Section_verse Position_0 Chord_7_maj Syllable Pitch_62 Duration_12
                      Position_12 Pitch_64 Duration_12     (no Syllable: a melisma continuation)
    ... EOS

At one position: an optional chord (it lasts until the next chord), then an optional vocal
note: `Syllable` (the next lyric syllable starts here) or nothing (the previous syllable goes
on), `Pitch_p`, `Duration_d` (grid steps of 1/12 beat). The syllable texts are not tokens: they
are the user's lyrics, consumed in order (`seedmusic.composer.grammar`).

Infill (VoiceCraft causal masking, DESIGN §7) rearranges a sequence as
`prefix MASK_1 suffix MASK_1 span EOS`, where `span` is the tokens of a bar range (from its
first `Bar` up to the next bar's `Bar`).

This module never imports torch.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

from score_tokens.score import (
    CHORD_QUALITIES,
    PITCH_CLASS_NAMES,
    SECTION_LABELS,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)

STEPS_PER_BEAT = 12
"""Grid steps per quarter note (as `RemiConfig.positions_per_beat`)."""
TICKS_PER_BEAT = 480
STEP_TICKS = TICKS_PER_BEAT // STEPS_PER_BEAT
METERS: tuple[tuple[int, int], ...] = ((2, 4), (3, 4), (4, 4), (6, 8))
TEMPO_RANGE = (20, 300)
PITCH_RANGE = (36, 96)
MAX_DURATION = 96
"""Longest note in grid steps (two 4/4 bars)."""
MAX_POSITIONS = 48
"""Positions of the longest bar (4/4)."""
INSTRUMENTAL = frozenset({"intro", "outro", "instrumental"})
KEY_MODES = ("major", "minor")

PAD, BOS, EOS, MASK, BAR, SYLLABLE = "PAD", "BOS", "EOS", "MASK_1", "Bar", "Syllable"


def build_vocabulary() -> list[str]:
    """Every lead-sheet token; PAD is id 0."""
    tokens = [PAD, BOS, EOS, MASK, BAR, SYLLABLE]
    tokens += [f"Key_{p}_{m}" for m in KEY_MODES for p in PITCH_CLASS_NAMES]
    tokens += [f"TimeSig_{n}/{d}" for n, d in METERS]
    tokens += [f"Tempo_{t}" for t in range(TEMPO_RANGE[0], TEMPO_RANGE[1] + 1)]
    tokens += [f"Section_{label}" for label in SECTION_LABELS]
    tokens += [f"Position_{k}" for k in range(MAX_POSITIONS)]
    tokens += ["Chord_N", *(f"Chord_{r}_{q}" for r in range(12) for q in CHORD_QUALITIES)]
    tokens += [f"Pitch_{p}" for p in range(PITCH_RANGE[0], PITCH_RANGE[1] + 1)]
    tokens += [f"Duration_{d}" for d in range(1, MAX_DURATION + 1)]
    return tokens


VOCAB: tuple[str, ...] = tuple(build_vocabulary())
TOKEN_ID: dict[str, int] = {t: i for i, t in enumerate(VOCAB)}


def _ids(prefix: str) -> dict[str, int]:
    return {t[len(prefix) :]: i for t, i in TOKEN_ID.items() if t.startswith(prefix)}


KEY_IDS = _ids("Key_")
TIMESIG_IDS = _ids("TimeSig_")
TEMPO_IDS = {int(k): v for k, v in _ids("Tempo_").items()}
SECTION_IDS = _ids("Section_")
POSITION_IDS = [TOKEN_ID[f"Position_{k}"] for k in range(MAX_POSITIONS)]
CHORD_IDS = _ids("Chord_")
PITCH_IDS = {int(k): v for k, v in _ids("Pitch_").items()}
DURATION_IDS = [TOKEN_ID[f"Duration_{d}"] for d in range(1, MAX_DURATION + 1)]


def key_token(key: str) -> str:
    tonic, _, mode = key.partition(" ")
    return f"Key_{tonic}_{mode}"


def bar_steps(numerator: int, denominator: int) -> int:
    """Grid steps in one bar."""
    return STEPS_PER_BEAT * 4 * numerator // denominator


# ----------------------------------------------------------------------------- the plan


@dataclass(frozen=True)
class PlanSection:
    """One section the grammar walks through: its label and the stresses etc. of its syllables."""

    label: str
    syllables: tuple[SyllableInfo, ...] = ()

    @property
    def instrumental(self) -> bool:
        return self.label in INSTRUMENTAL


@dataclass(frozen=True)
class SyllableInfo:
    """What the model is told about the next syllable (the text itself stays out of the tokens)."""

    stress: int = 1
    word_start: bool = True
    line_start: bool = False


# ----------------------------------------------------------------------------- score <-> tokens


@dataclass(frozen=True)
class SungSyllable:
    """A syllable's text and phonemes, written onto the note that starts it when decoding."""

    text: str
    phonemes: tuple[str, ...] = ()


def _quantised_vocal(
    notes: Sequence[Note], infos: Sequence[SyllableInfo | None]
) -> list[tuple[int, int, int, SyllableInfo | None]]:
    """(step, duration steps, pitch, syllable info) per vocal note, on the grid, no overlaps."""
    low, high = PITCH_RANGE
    events: list[tuple[int, int, int, SyllableInfo | None]] = []
    for note, info in sorted(zip(notes, infos, strict=True), key=lambda pair: pair[0].tick):
        step = round(note.tick / STEP_TICKS)
        steps = max(1, min(MAX_DURATION, round(note.duration / STEP_TICKS)))
        pitch = note.pitch
        while pitch < low:
            pitch += 12
        while pitch > high:
            pitch -= 12
        if events and step <= events[-1][0]:
            continue  # two notes on one grid step: keep the first
        if events and events[-1][0] + events[-1][1] > step:
            prev = events[-1]
            events[-1] = (prev[0], step - prev[0], prev[2], prev[3])
        events.append((step, steps, pitch, info))
    return events


def encode_lead_sheet(
    score: Score, infos: Sequence[SyllableInfo | None]
) -> tuple[list[int], list[PlanSection]]:
    """A lead-sheet score as token ids, and the section plan its syllables make.

    `infos[i]` describes the syllable started by the i-th vocal note (None: a melisma
    continuation). Sections must start on bar lines; the score has one meter and one tempo.
    """
    signature = score.time_signatures[0]
    meter = (signature.numerator, signature.denominator)
    if meter not in METERS:
        raise ValueError(f"meter {meter[0]}/{meter[1]} is not one of {METERS}")
    steps_per_bar = bar_steps(*meter)
    tempo = int(min(TEMPO_RANGE[1], max(TEMPO_RANGE[0], round(score.tempos[0].bpm))))
    vocal = _quantised_vocal(score.notes("vocal"), infos)
    chords: dict[int, Chord] = {}
    for chord in sorted(score.chords, key=lambda c: c.tick):
        chords[round(chord.tick / STEP_TICKS)] = chord
    bar_ticks = steps_per_bar * STEP_TICKS
    sections = sorted(score.sections, key=lambda s: s.tick)
    section_bars = {round(s.tick / bar_ticks): s.label for s in sections}
    end = score.end_tick if score.end_tick is not None else score.last_event_tick()
    num_bars = max(1, -(-end // bar_ticks))
    plan = _plan(sections, bar_ticks, vocal)
    events: dict[int, list[str]] = {}
    for step, chord in chords.items():
        events.setdefault(step, []).append(
            f"Chord_{chord.root}_{chord.quality}" if chord.root is not None else "Chord_N"
        )
    for step, steps, pitch, info in vocal:
        note = [SYLLABLE] if info is not None else []
        events.setdefault(step, []).extend([*note, f"Pitch_{pitch}", f"Duration_{steps}"])
    tokens = [BOS, key_token(score.key), f"TimeSig_{meter[0]}/{meter[1]}", f"Tempo_{tempo}"]
    for bar in range(num_bars):
        tokens.append(BAR)
        if bar in section_bars:
            tokens.append(f"Section_{section_bars[bar]}")
        for step in sorted(
            s for s in events if bar * steps_per_bar <= s < (bar + 1) * steps_per_bar
        ):
            tokens += [f"Position_{step - bar * steps_per_bar}", *events[step]]
    tokens.append(EOS)
    return [TOKEN_ID[t] for t in tokens], plan


def _plan(
    sections: Sequence[Section],
    bar_ticks: int,
    vocal: Sequence[tuple[int, int, int, SyllableInfo | None]],
) -> list[PlanSection]:
    starts = [round(s.tick / bar_ticks) * bar_ticks // STEP_TICKS for s in sections]
    plan = []
    for index, section in enumerate(sections):
        stop = starts[index + 1] if index + 1 < len(sections) else None
        infos = tuple(
            info
            for step, _, _, info in vocal
            if info is not None and step >= starts[index] and (stop is None or step < stop)
        )
        plan.append(PlanSection(section.label, infos))
    return plan


def decode_lead_sheet(
    ids: Sequence[int], syllables: Sequence[SungSyllable], program: int = 53
) -> Score:
    """Token ids -> a lead-sheet `Score`; `syllables` are sung in order on the `Syllable` notes.

    Raises:
        ValueError: for a sequence that is not a lead sheet (the header or a note is incomplete).
    """
    tokens = [VOCAB[i] for i in ids]
    if tokens[:1] == [BOS]:
        tokens = tokens[1:]
    if len(tokens) < 3 or not tokens[0].startswith("Key_") or not tokens[1].startswith("TimeSig_"):
        raise ValueError("a lead sheet starts with Key_ and TimeSig_ tokens")
    tonic, mode = tokens[0][4:].split("_")
    numerator, denominator = (int(x) for x in tokens[1][8:].split("/"))
    tempo = float(tokens[2][6:]) if tokens[2].startswith("Tempo_") else 120.0
    bar_ticks = bar_steps(numerator, denominator) * STEP_TICKS
    score = Score(
        ticks_per_beat=TICKS_PER_BEAT,
        tempos=[TempoChange(0, tempo)],
        time_signatures=[TimeSignature(0, numerator, denominator)],
        key=f"{tonic} {mode}",
    )
    score.tracks["vocal"] = Track(program)
    bar, position, sung = -1, 0, 0
    chords: list[tuple[int, int | None, str]] = []
    pending_syllable = False
    pitch: int | None = None
    for token in tokens[3:]:
        if token == EOS:
            break
        if token == BAR:
            bar, position = bar + 1, 0
        elif token.startswith("Section_"):
            score.sections.append(Section(bar * bar_ticks, token[8:]))
        elif token.startswith("Position_"):
            position = int(token[9:])
        elif token.startswith("Chord_"):
            root, quality = _chord_value(token)
            chords.append((bar * bar_ticks + position * STEP_TICKS, root, quality))
        elif token == SYLLABLE:
            pending_syllable = True
        elif token.startswith("Pitch_"):
            pitch = int(token[6:])
        elif token.startswith("Duration_"):
            if pitch is None:
                raise ValueError("Duration_ without a Pitch_ before it")
            lyric: str | None = None
            phonemes: tuple[str, ...] = ()
            if pending_syllable and sung < len(syllables):
                lyric, phonemes = syllables[sung].text, syllables[sung].phonemes
                sung += 1
            tick = bar * bar_ticks + position * STEP_TICKS
            duration = int(token[9:]) * STEP_TICKS
            score.tracks["vocal"].notes.append(Note(tick, duration, pitch, 96, lyric, phonemes))
            pending_syllable, pitch = False, None
    end = (bar + 1) * bar_ticks
    notes = score.tracks["vocal"].notes
    for note, following in itertools.pairwise(notes):  # a note held into a copied section
        note.duration = max(1, min(note.duration, following.tick - note.tick))
    for index, (tick, root, quality) in enumerate(chords):
        stop = chords[index + 1][0] if index + 1 < len(chords) else end
        if stop > tick:
            score.chords.append(Chord(tick, stop - tick, root, quality))
    score.end_tick = max(end, score.last_event_tick())
    return score.sort().validate()


def _chord_value(token: str) -> tuple[int | None, str]:
    if token == "Chord_N":
        return None, "maj"
    root, quality = token[6:].split("_", 1)
    return int(root), quality
