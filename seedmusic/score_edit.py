"""Score edits as the command line names them: parse, then apply in the order given.

    ops = [EditOp.parse("transpose", "5-8:2"), EditOp.parse("chord", "6.3:G7")]
    edited = apply_edits(score, ops, composer=Composer.from_pretrained)
    print(describe_changes(score, edited))   # "changed bars 5-8 (of 32)"

On the command line bars are 1-based and inclusive, as `score.png` numbers them ("5-8", or
"all"); an `EditOp` holds them 0-based and half-open ([4, 8)), as `score_tokens.edit` counts
them. An event belongs to the bar that holds its onset. The operations (`EDIT_KINDS`):

- `transpose BARS:SEMITONES[:TRACKS]`: shift the notes of TRACKS (comma-separated pitched
  tracks: vocal, bass, piano, guitar; default all four; drums never move). The chords heard in
  those bars move too when all four pitched tracks move (a chord sounding across an edge of the
  bars is cut there); the key changes only when every bar and every pitched track moves.
- `lyrics BARS:WORDS`: the words are syllabified as the composer's lyrics are
  (`seedmusic.composer.lyrics_input.word_syllables`, English phonemes from CMUdict). When there
  are as many syllables as vocal notes in BARS that start a syllable, each such note gets the
  next syllable's text and phonemes and nothing else changes (a score whose vocal has no words
  at all, as an analyzed recording's without its lyrics, counts each onset of its vocal notes
  as a syllable). Otherwise the composer's infill
  re-composes the melody and chords of BARS so that every new syllable is sung once (the band
  in those bars is re-arranged).
- `chord BAR[.BEAT]:LABEL`: put a chord at BEAT (1-based, in the bar's time-signature beats:
  quarters in 4/4, eighths in 6/8; may be fractional, "5.2.5") of BAR; LABEL as in `parse_chord`.
  The band follows it (`BAND_TRACKS`): each of their notes starting while the new chord sounds
  moves by the root's step (within a tritone), and a note on the old chord's third goes to the
  new chord's third when one is major and the other minor. With no chord before or after (N),
  the notes stay. The vocal line never moves.
- `regenerate BARS`: the composer's infill re-composes BARS (same words, new melody and chords;
  the band re-arranged there).
- `tempo BPM`: one tempo for the whole score (`TEMPO_RANGE`).
- `extend N[:WORDS]`: append N bars (`EXTEND_RANGE`) in the last bar's meter and tempo, composed
  by the composer's infill as a continuation of the song: an instrumental outro, or, with WORDS,
  a new verse that sings them.

Composer operations keep everything outside their bars as it was, except that a note or chord
sounding into the bars is cut where the new material starts. This module imports torch only
when an operation needs the composer.
"""

from __future__ import annotations

import bisect
import math
import re
import statistics
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING, Literal, Protocol

from score_tokens.edit import (
    PITCHED_TRACKS,
    bar_ticks,
    diff,
    replace_bars,
    select_bars,
    set_chord,
    split_chords,
    transpose,
)
from score_tokens.errors import ScoreError
from score_tokens.score import (
    CHORD_QUALITIES,
    PITCH_CLASS_NAMES,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
)
from seedmusic.composer.grammar import GrammarLimits
from seedmusic.composer.leadsheet import INSTRUMENTAL, MAX_DURATION, STEP_TICKS, TICKS_PER_BEAT
from seedmusic.composer.lyrics_input import (
    Syllable,
    detect_language,
    syllables_from_note_lyrics,
    word_syllables,
)
from seedmusic.errors import UserError

if TYPE_CHECKING:
    from seedmusic.composer.pipeline import Composer
    from seedmusic.composer.style import ComposeStyle

EditKind = Literal["transpose", "lyrics", "chord", "regenerate", "tempo", "extend"]
EDIT_KINDS: tuple[EditKind, ...] = ("transpose", "lyrics", "chord", "regenerate", "tempo", "extend")
TEMPO_RANGE = (20.0, 400.0)
"""Accepted `tempo` values in bpm."""
EXTEND_RANGE = (1, 64)
"""How many bars `extend` may append."""

_BARS = re.compile(r"(\d+)(?:\s*-\s*(\d+))?")
_ROOTS = {"C": 0, "D": 2, "E": 4, "F": 5, "G": 7, "A": 9, "B": 11}
_CHORD = re.compile(r"([A-G])([#b]?)(.*)")
_SUFFIXES = {
    "": "maj",
    "M": "maj",
    "maj": "maj",
    "m": "min",
    "min": "min",
    "-": "min",
    "dim": "dim",
    "o": "dim",
    "aug": "aug",
    "+": "aug",
    "sus2": "sus2",
    "sus4": "sus4",
    "sus": "sus4",
    "7": "7",
    "maj7": "maj7",
    "M7": "maj7",
    "m7": "min7",
    "min7": "min7",
    "-7": "min7",
    "m7b5": "hdim7",
    "hdim7": "hdim7",
    "dim7": "dim7",
    "o7": "dim7",
}


class _Timed(Protocol):
    tick: int
    duration: int


@dataclass(frozen=True)
class EditOp:
    """One edit operation. Bars are 0-based, [start, stop); stop None runs to the last bar.

    Only the fields of `kind` matter: transpose (start, stop, semitones, tracks), lyrics (start,
    stop, words), chord (start, beat, label), regenerate (start, stop), tempo (bpm), extend
    (semitones: the number of bars to append, words).
    """

    kind: EditKind
    start: int = 0
    stop: int | None = None
    semitones: int = 0
    tracks: tuple[str, ...] = PITCHED_TRACKS
    words: str = ""
    beat: float = 1.0
    """1-based, in beats of the bar's time signature."""
    label: str = "N"
    bpm: float = 120.0
    text: str = ""
    """The value as typed on the command line (for messages)."""

    @classmethod
    def parse(cls, kind: str, text: str) -> EditOp:
        """The operation `--KIND TEXT` (syntax in the module docstring); `UserError` if malformed."""
        where = f"--{kind} {text}"
        if kind == "transpose":
            parts = text.split(":")
            if len(parts) not in (2, 3):
                raise UserError(f"{where}: write BARS:SEMITONES[:TRACKS], e.g. 5-8:2 or all:-3")
            start, stop = _bar_span(parts[0], where)
            tracks = _pitched_tracks(parts[2], where) if len(parts) == 3 else PITCHED_TRACKS
            return cls("transpose", start, stop, _integer(parts[1], where), tracks, text=text)
        if kind == "lyrics":
            bars, colon, words = text.partition(":")
            if not colon or not words.strip():
                raise UserError(f'{where}: write BARS:WORDS, e.g. 5-6:"hold me close"')
            start, stop = _bar_span(bars, where)
            return cls("lyrics", start, stop, words=" ".join(words.split()), text=text)
        if kind == "chord":
            place, colon, label = text.partition(":")
            if not colon:
                raise UserError(f"{where}: write BAR[.BEAT]:LABEL, e.g. 5:Am or 6.3:G7")
            bar, _, beat_text = place.strip().partition(".")
            start, stop = _bar_span(bar, where)
            if stop is None or stop != start + 1:
                raise UserError(f"{where}: a chord goes at one bar (BAR[.BEAT]), not a range")
            beat = _number(beat_text, where) if beat_text else 1.0
            if beat < 1.0:
                raise UserError(f"{where}: beats count from 1")
            try:
                root, quality = parse_chord(label.strip())
            except UserError as exc:
                raise UserError(f"{where}: {exc}") from None
            name = "N" if root is None else f"{PITCH_CLASS_NAMES[root]}:{quality}"
            return cls("chord", start, stop, beat=beat, label=name, text=text)
        if kind == "regenerate":
            start, stop = _bar_span(text, where)
            return cls("regenerate", start, stop, text=text)
        if kind == "extend":
            count, _, words = text.partition(":")
            bars = _count(count, where)
            low, high = EXTEND_RANGE
            if not low <= bars <= high:
                raise UserError(f"{where}: append {low} to {high} bars")
            return cls("extend", semitones=bars, words=" ".join(words.split()), text=text)
        if kind == "tempo":
            bpm = _number(text, where)
            low, high = TEMPO_RANGE
            if not low <= bpm <= high:
                raise UserError(f"{where}: the tempo must be {low:g} to {high:g} bpm")
            return cls("tempo", bpm=bpm, text=text)
        raise UserError(f"unknown edit {kind!r}; edits are {', '.join(EDIT_KINDS)}")

    @property
    def option(self) -> str:
        """How the operation reads on the command line, for messages ("--lyrics 5-6")."""
        shown = self.text.partition(":")[0] if self.kind in ("lyrics", "extend") else self.text
        return f"--{self.kind} {shown}".rstrip()

    def bars(self, num_bars: int) -> tuple[int, int]:
        """[start, stop) checked against a score of `num_bars` bars (`UserError` outside it)."""
        return _checked_bars(self.start, self.stop, num_bars, self.option)


def parse_bars(text: str, num_bars: int) -> tuple[int, int]:
    """ "5" -> (4, 5), "5-8" -> (4, 8), "all" -> (0, num_bars): 1-based inclusive bars (as in
    `score.png`) to 0-based [start, stop), checked against a score of `num_bars` bars.

    Raises:
        UserError: not a bar range, or bars outside 1..num_bars.
    """
    where = f"bars {text}"
    start, stop = _bar_span(text, where)
    return _checked_bars(start, stop, num_bars, where)


def parse_chord(label: str) -> tuple[int | None, str]:
    """A chord label -> (root pitch class or None, `CHORD_QUALITIES` quality).

    Accepts lead-sheet names (`C`, `Am`, `G7`, `Fmaj7`, `Bbm7`, `F#dim`, `Dsus4`, `Bm7b5`,
    `Caug`) and mir_eval's `ROOT:QUALITY` (`F:maj7`, `A:min`); `N` is no chord.

    Raises:
        UserError: an unknown root or quality.
    """
    if label == "N":
        return None, "maj"
    match = _CHORD.fullmatch(label)
    if match is None:
        raise UserError(
            f"unknown chord {label!r}: write a root A-G (with # or b) and a quality, e.g. C, Am, "
            "G7, F:maj7, or N for no chord"
        )
    letter, accidental, rest = match.groups()
    root = (_ROOTS[letter] + {"#": 1, "b": -1, "": 0}[accidental]) % 12
    if rest.startswith(":") and rest[1:] in CHORD_QUALITIES:
        return root, rest[1:]
    if rest in _SUFFIXES:
        return root, _SUFFIXES[rest]
    raise UserError(
        f"unknown chord {label!r}: write C, Cm, C7, Cmaj7, Cm7, Cdim, Cdim7, Cm7b5, Caug, Csus2, "
        f"Csus4, or ROOT:QUALITY with a quality of {', '.join(CHORD_QUALITIES)}"
    )


def apply_edits(
    score: Score,
    ops: Sequence[EditOp],
    composer: Callable[[], Composer] | None = None,
    seed: int = 0,
    style: ComposeStyle | None = None,
    language: str | None = None,
) -> Score:
    """`score` with `ops` applied in order (the input is left untouched).

    Args:
        score: the score to edit.
        ops: the operations, applied one after the other.
        composer: gives the composer (e.g. `Composer.from_pretrained`); called at most once, and
            before any work when a `regenerate` is among `ops`. None: an operation that needs
            the composer is a `UserError`.
        seed: the composer's sampling seed.
        style: the style the composer re-composes in (its genre picks the band's groove).
        language: "en" or "de" for the lyrics; None detects it.

    Raises:
        UserError: an operation does not fit the score (bars outside it, a note pushed out of
            0..127, a chord beat outside its bar, words without syllables), or the composer
            cannot be loaded or finds no infill.
    """
    for op in ops:  # until an `extend`, no operation changes the bars: check them all first
        if op.kind == "extend":
            break
        _check_fits(score, op)
    loaded: list[Composer] = []

    def get_composer(op: EditOp, why: str) -> Composer:
        if not loaded:
            if composer is None:
                raise UserError(f"{op.option}: {why} needs the composer, and none was given")
            try:
                loaded.append(composer())
            except UserError as exc:
                raise UserError(f"{op.option}: {why} needs the composer: {exc}") from None
        return loaded[0]

    regenerate = next((op for op in ops if op.kind in ("regenerate", "extend")), None)
    if regenerate is not None:
        get_composer(regenerate, "re-composing bars")
    edited = score
    for op in ops:
        try:
            edited = _apply(edited, op, get_composer, seed, style, language)
        except ScoreError as exc:
            raise UserError(f"{op.option}: {exc}") from None
        except UserError as exc:  # the composer's, which does not name the operation
            if str(exc).startswith(op.option):
                raise
            raise UserError(f"{op.option}: {exc}") from None
    return edited


def describe_changes(original: Score, edited: Score) -> str:
    """One line naming the changed bars 1-based ("changed bars 2, 5-8 (of 32)"), and a new tempo
    or key."""
    ranges = diff(original, edited)
    count = len(edited.bar_starts())
    if not ranges:
        parts = [f"no bar changed (of {count})"]
    else:
        plural = "s" if len(ranges) > 1 or ranges[0][1] - ranges[0][0] > 1 else ""
        shown = ", ".join(_bars_text(a, b) for a, b in ranges)
        parts = [f"changed bar{plural} {shown} (of {count})"]
    tempos = [[t.bpm for t in s.tempos] for s in (original, edited)]
    if tempos[0] != tempos[1]:
        parts.append(f"tempo {_tempo_text(tempos[0])} -> {_tempo_text(tempos[1])} bpm")
    if original.key != edited.key:
        parts.append(f"key {original.key} -> {edited.key}")
    return "; ".join(parts)


def lyric_syllables(words: str, language: str) -> list[Syllable]:
    """The syllables of `words` as the composer reads lyrics (the first one starts a line)."""
    syllables = [s for token in words.split() for s in word_syllables(token, language)]
    if syllables:
        syllables[0] = replace(syllables[0], word_start=True, line_start=True)
    return syllables


# ---------------------------------------------------------------------- operations


def _apply(
    score: Score,
    op: EditOp,
    get_composer: Callable[[EditOp, str], Composer],
    seed: int,
    style: ComposeStyle | None,
    language: str | None,
) -> Score:
    if op.kind == "extend":
        return _extend(score, op, get_composer, seed, style, language)
    start, stop = _check_fits(score, op)
    if op.kind == "transpose":
        return _transpose_bars(score, start, stop, op.semitones, op.tracks)
    if op.kind == "chord":
        signature = score.signature_at(score.bar_starts()[start])
        quarters = (op.beat - 1.0) * 4.0 / signature.denominator
        return _band_follows(score, set_chord(score, start, quarters, op.label), start, quarters)
    if op.kind == "tempo":
        out = score.copy()
        out.tempos = [TempoChange(0, op.bpm)]
        return out.validate()
    if op.kind == "lyrics":
        words_language = language or detect_language(op.words)
        syllables = lyric_syllables(op.words, words_language)
        if not syllables:
            raise UserError(f"{op.option}: {op.words!r} has no syllables to sing")
        notes = _syllable_notes(score, start, stop, words_language)
        if len(notes) == len(syllables):
            return _relyric(score, notes, syllables)
        why = (
            f"fitting {len(syllables)} syllables to the {len(notes)} sung in bars "
            f"{_bars_text(start, stop)}"
        )
        _check_composer_score(score, op)
        draft = _draft_with_words(score, start, stop, syllables, op)
        return _recompose(draft, score, start, stop, get_composer(op, why), seed, style, language)
    _check_composer_score(score, op)
    composer = get_composer(op, "re-composing bars")
    return _recompose(score, score, start, stop, composer, seed, style, language)


def _extend(
    score: Score,
    op: EditOp,
    get_composer: Callable[[EditOp, str], Composer],
    seed: int,
    style: ComposeStyle | None,
    language: str | None,
) -> Score:
    """`score` with `op.semitones` bars appended and composed by the composer's infill: an
    instrumental continuation, or a new verse singing `op.words`."""
    _check_composer_score(score, op)
    starts = score.bar_starts()
    last = starts[-1]
    end = last + score.bar_length(score.signature_at(last))
    start, stop = len(starts), len(starts) + op.semitones
    longer = score.copy()
    longer.end_tick = end + (stop - start) * score.bar_length(score.signature_at(last))
    sections = sorted(score.sections, key=lambda s: s.tick)
    wanted = "verse" if op.words else "outro"  # the new bars' section
    if not sections or sections[-1].label != wanted:
        longer.sections.append(Section(end, wanted))
    longer = longer.sort().validate()
    if not op.words:
        composer = get_composer(op, "composing the new bars")
        return _recompose(longer, longer, start, stop, composer, seed, style, language)
    words_language = language or detect_language(op.words)
    syllables = lyric_syllables(op.words, words_language)
    if not syllables:
        raise UserError(f"{op.option}: {op.words!r} has no syllables to sing")
    draft = _draft_with_words(longer, start, stop, syllables, op)
    composer = get_composer(op, "composing the new bars")
    return _recompose(draft, longer, start, stop, composer, seed, style, words_language)


def _check_fits(score: Score, op: EditOp) -> tuple[int, int]:
    """The operation's bars [start, stop) in `score`; `UserError` if they (or its beat) are not
    in the score."""
    start, stop = op.bars(len(score.bar_starts()))
    if op.kind == "chord":
        numerator = score.signature_at(score.bar_starts()[start]).numerator
        if op.beat >= numerator + 1:
            raise UserError(f"{op.option}: bar {start + 1} has beats 1-{numerator}")
    return start, stop


BAND_TRACKS = ("piano", "guitar", "bass")
"""The tracks re-voiced when a chord changes."""
_MINOR_QUALITIES = ("min", "min7", "dim", "hdim7", "dim7")


def _band_follows(before: Score, after: Score, bar: int, quarters: float) -> Score:
    """`after` (= `before` with a new chord at `quarters` of `bar`) with the band's notes that
    start while the new chord sounds moved onto it (see `chord` in the module docstring)."""
    tick = before.bar_starts()[bar] + round(quarters * before.ticks_per_beat)
    new = next(c for c in after.chords if c.tick == tick)
    old = [c for c in before.chords if c.tick <= tick < c.tick + c.duration]
    if new.root is None or not old or old[0].root is None:
        return after
    step = (new.root - old[0].root + 6) % 12 - 6  # -6..5: the nearest way to the new root
    old_third = 3 if old[0].quality in _MINOR_QUALITIES else 4
    new_third = 3 if new.quality in _MINOR_QUALITIES else 4
    out = after.copy()
    for name in BAND_TRACKS:
        if name not in out.tracks:
            continue
        for note in out.tracks[name].notes:
            if not new.tick <= note.tick < new.tick + new.duration:
                continue
            moved = note.pitch + step
            if (note.pitch - old[0].root) % 12 == old_third:
                moved += new_third - old_third
            if 0 <= moved <= 127:
                note.pitch = moved
    return out.sort().validate()


def _transpose_bars(
    score: Score, start: int, stop: int, semitones: int, tracks: Sequence[str]
) -> Score:
    """Notes of `tracks` starting in bars [start, stop) moved by `semitones`; the chords heard in
    those bars too when every pitched track moves (one sounding across an edge of the bars is cut
    there); the key only when, besides, the bars are the whole score."""
    first, last = bar_ticks(score, start, stop)
    whole = start == 0 and stop == len(score.bar_starts())
    present = [name for name in tracks if name in score.tracks]
    follow = set(PITCHED_TRACKS) & set(score.tracks) <= set(tracks)
    if whole and follow and len(present) == len(PITCHED_TRACKS):
        return transpose(score, semitones, tracks)  # score_tokens moves the chords and the key
    out = score.copy()
    for name in present:
        for note in out.tracks[name].notes:
            if first <= note.tick < last:
                note.pitch += semitones
                if not 0 <= note.pitch <= 127:
                    raise ScoreError(
                        f"transposing {name} by {semitones} puts a note outside 0..127"
                    )
    if follow:  # the chords heard in the bars, cut at their edges: what sounds outside stays
        out = split_chords(out, (first, last))
        for chord in out.chords:
            if first <= chord.tick < last and chord.root is not None:
                chord.root = (chord.root + semitones) % 12
        if whole:
            out.key = _moved_key(out.key, semitones)
    return out.validate()


def _moved_key(key: str, semitones: int) -> str:
    """ "C major" moved by 2 -> "D major" (a key it cannot read stays as it is)."""
    tonic, _, mode = key.partition(" ")
    if tonic not in PITCH_CLASS_NAMES:
        return key
    return f"{PITCH_CLASS_NAMES[(PITCH_CLASS_NAMES.index(tonic) + semitones) % 12]} {mode}"


def _syllable_notes(score: Score, start: int, stop: int, language: str) -> list[int]:
    """Indices (in time order) of the vocal notes starting in the bars that start a syllable
    (without any lyrics in the score: the first note of each vocal onset)."""
    first, last = bar_ticks(score, start, stop)
    vocal = sorted(score.notes("vocal"), key=lambda n: (n.tick, n.pitch, n.duration))
    if not any(n.lyric for n in vocal):  # no words anywhere: each onset is a syllable's
        onsets = [i for i, n in enumerate(vocal) if first <= n.tick < last]
        return [i for i in onsets if i == 0 or vocal[i - 1].tick != vocal[i].tick]
    infos = syllables_from_note_lyrics([n.lyric for n in vocal], language)
    return [
        i
        for i, (note, info) in enumerate(zip(vocal, infos, strict=True))
        if info is not None and first <= note.tick < last
    ]


def _relyric(score: Score, indices: Sequence[int], syllables: Sequence[Syllable]) -> Score:
    out = score.copy().sort()
    notes = out.tracks["vocal"].notes
    for index, syllable in zip(indices, syllables, strict=True):
        notes[index].lyric = syllable.text
        notes[index].phonemes = syllable.phonemes
    return out.validate()


def _check_composer_score(score: Score, op: EditOp) -> None:
    if score.ticks_per_beat != TICKS_PER_BEAT:
        raise UserError(
            f"{op.option}: the composer works on scores of {TICKS_PER_BEAT} ticks per beat; "
            f"this one has {score.ticks_per_beat}"
        )


def _draft_with_words(
    score: Score, start: int, stop: int, syllables: Sequence[Syllable], op: EditOp
) -> Score:
    """`score` whose vocal notes in the bars are one stand-in note per new syllable, spread over
    the bars' sung sections: the infill re-writes them, keeping their words and count."""
    first, last = bar_ticks(score, start, stop)
    sections = sorted(score.sections, key=lambda s: s.tick)
    ticks = [s.tick for s in sections]

    def sung(tick: int) -> bool:
        index = bisect.bisect_right(ticks, tick) - 1
        return index < 0 or sections[index].label not in INSTRUMENTAL

    steps = [tick for tick in range(first, last, STEP_TICKS) if sung(tick)]
    if not steps:
        raise UserError(f"{op.option}: those bars are instrumental (intro/outro): nothing is sung")
    per_bar = GrammarLimits().max_notes_per_bar
    sung_bars = len({bisect.bisect_right(score.bar_starts(), tick) for tick in steps})
    if len(syllables) > per_bar * sung_bars:
        raise UserError(
            f"{op.option}: {len(syllables)} syllables do not fit in {sung_bars} bar(s) "
            f"(the composer sings at most {per_bar} notes a bar)"
        )
    vocal = score.notes("vocal")
    inside = [n.pitch for n in vocal if first <= n.tick < last]
    before = [n.pitch for n in vocal if n.tick < first]
    pitch = round(statistics.median(inside)) if inside else (before[-1] if before else 60)
    onsets = [steps[i * len(steps) // len(syllables)] for i in range(len(syllables))]
    ends = [*onsets[1:], last]
    draft = score.copy()
    draft.tracks["vocal"].notes = [n for n in vocal if not first <= n.tick < last] + [
        Note(tick, min(end - tick, MAX_DURATION * STEP_TICKS), pitch, 96, s.text, s.phonemes)
        for tick, end, s in zip(onsets, ends, syllables, strict=True)
    ]
    return draft.sort().validate()


def _recompose(
    draft: Score,
    original: Score,
    start: int,
    stop: int,
    composer: Composer,
    seed: int,
    style: ComposeStyle | None,
    language: str | None,
) -> Score:
    """The composer's infill of bars [start, stop) of `draft`, spliced into `original`."""
    lyrics = " ".join(n.lyric for n in draft.notes("vocal") if n.lyric)
    composition = composer.recompose(
        draft, start + 1, stop, style, seed, None, language or detect_language(lyrics)
    )
    return _splice(original, composition.score, start, stop)


def _splice(original: Score, recomposed: Score, start: int, stop: int) -> Score:
    """Bars [start, stop) from `recomposed`, the rest from `original`.

    The chord sounding into the bars in `recomposed` (a lead-sheet chord lasts until the next)
    is written again at their start, so that the chord before them keeps its length; a note or
    chord of `original` sounding into the bars is cut where the first new one starts.
    """
    first, _ = bar_ticks(original, start, stop)
    part = select_bars(recomposed, start, stop)
    held = [c for c in recomposed.chords if c.tick < first < c.tick + c.duration]
    if held and not any(c.tick == 0 for c in part.chords):
        chord = held[-1]
        part.chords.append(Chord(0, chord.tick + chord.duration - first, chord.root, chord.quality))
    out = replace_bars(original, start, stop, part.sort())
    out.sections = [Section(s.tick, s.label) for s in original.sections]
    _cut_held(out.chords, first)
    _cut_held(out.tracks["vocal"].notes, first)
    if len(out.bar_starts()) != len(original.bar_starts()):
        starts = original.bar_starts()
        out.end_tick = starts[-1] + original.bar_length(original.signature_at(starts[-1]))
    return out.sort().validate()


def _cut_held(items: Sequence[_Timed], first: int) -> None:
    """Items starting before `first` end at the latest where the first one at or after it starts."""
    following = min((item.tick for item in items if item.tick >= first), default=None)
    if following is None:
        return
    for item in items:
        if item.tick < first and item.tick + item.duration > following:
            item.duration = following - item.tick


# ---------------------------------------------------------------------- parsing helpers


def _bar_span(text: str, where: str) -> tuple[int, int | None]:
    """1-based inclusive "5" / "5-8" / "all" -> 0-based [start, stop) (stop None: to the end)."""
    text = text.strip()
    if text.lower() == "all":
        return 0, None
    match = _BARS.fullmatch(text)
    if match is None:
        raise UserError(f"{where}: bars are written 5 or 5-8 (1-based, as in score.png) or all")
    a = int(match.group(1))
    b = int(match.group(2) or a)
    if a < 1:
        raise UserError(f"{where}: bars count from 1, as in score.png")
    if b < a:
        raise UserError(f"{where}: the bar range {a}-{b} ends before it starts")
    return a - 1, b


def _checked_bars(start: int, stop: int | None, num_bars: int, where: str) -> tuple[int, int]:
    end = num_bars if stop is None else stop
    if not 0 <= start < end <= num_bars:
        what = f"bar {start + 1} is" if end - start == 1 else f"bars {start + 1}-{end} are"
        raise UserError(f"{where}: {what} outside the score's bars 1-{num_bars}")
    return start, end


def _bars_text(start: int, stop: int) -> str:
    """0-based [start, stop) -> "5" or "5-8" (1-based, inclusive)."""
    return f"{start + 1}" if stop - start == 1 else f"{start + 1}-{stop}"


def _tempo_text(bpms: Sequence[float]) -> str:
    return "/".join(f"{bpm:g}" for bpm in bpms)


def _integer(text: str, where: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise UserError(f"{where}: {text.strip()!r} is not a whole number of semitones") from None


def _count(text: str, where: str) -> int:
    try:
        return int(text.strip())
    except ValueError:
        raise UserError(f"{where}: {text.strip()!r} is not a whole number of bars") from None


def _number(text: str, where: str) -> float:
    try:
        value = float(text.strip())
    except ValueError:
        raise UserError(f"{where}: {text.strip()!r} is not a number") from None
    if not math.isfinite(value):
        raise UserError(f"{where}: {text.strip()!r} is not a finite number")
    return value


def _pitched_tracks(text: str, where: str) -> tuple[str, ...]:
    names = tuple(dict.fromkeys(name.strip().lower() for name in text.split(",")))
    if "drums" in names:
        raise UserError(f"{where}: the drums have no pitch to transpose")
    unknown = [name for name in names if name not in PITCHED_TRACKS]
    if unknown or not names:
        raise UserError(
            f"{where}: unknown track {unknown[0] if unknown else ''!r}; "
            f"the pitched tracks are {', '.join(PITCHED_TRACKS)}"
        )
    return names
