"""Score frames: a `Score` as one feature vector per codec frame (the renderer's condition).

`score_frames(score, frame_rate, num_frames, tracks)` returns float32 `[F, T]` with these
blocks (`FRAME_LAYOUT` gives each block's slice):

| block | width | what |
|---|---:|---|
| `<track>_held`, `<track>_onset` for vocal, piano, guitar, bass | 88 + 88 each | pitches sounding in the frame (A0..C8) and notes starting in it |
| `drums` | 6 | drum hits starting in the frame, by class (kick, snare, hi-hat, tom, cymbal, other) |
| `chord_root`, `chord_none`, `chord_quality`, `chord_change` | 12, 1, 11, 1 | the chord sounding, and whether it starts in the frame |
| `meter` | 6 | sin/cos of beat phase and bar phase, a beat and a downbeat starting in the frame |
| `phoneme` | 41 | the vocal's phoneme (39 ARPAbet phonemes without stress, a breath `SIL`, none) |
| `syllable` | 2 | position inside the sung syllable (0..1), a syllable starting in the frame |
| `section` | 7 | the section label |

The phonemes of a syllable are laid out the way a singer (and the corpus's synthesiser) sings
them: the consonants before the vowel at the start, `CONSONANT_SECONDS` each, the vowel held to
the syllable's end, minus the closing consonants. Frame `i` spans `[i / rate, (i + 1) / rate)`:
a note sounds in every frame whose centre lies inside it, and starts in the frame that holds
its onset. Tracks not in `tracks` are left at zero (that is how stems are asked for); the
chord, meter and section blocks describe the song and are always set.

Training and inference call this one function; it needs numpy only.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass

import numpy as np

from score_tokens.score import CHORD_QUALITIES, NOTE_TRACKS, SECTION_LABELS, Note, Score

PITCHED_TRACKS: tuple[str, ...] = ("vocal", "piano", "guitar", "bass")
LOWEST_KEY = 21
KEYS = 88
ARPABET: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G",
    "HH", "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T",
    "TH", "UH", "UW", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
PHONEMES: tuple[str, ...] = (*ARPABET, "SIL", "NONE")
"""The phoneme block's classes: `NONE` where nothing is sung, `SIL` for a phoneme we do not
know (a non-English syllable)."""
VOWELS = frozenset(("AA", "AE", "AH", "AO", "AW", "AY", "EH", "ER", "EY", "IH", "IY", "OW", "OY", "UH", "UW"))  # fmt: skip
CONSONANT_SECONDS = 0.06
DRUM_CLASSES: tuple[str, ...] = ("kick", "snare", "hihat", "tom", "cymbal", "other")
_DRUM_CLASS_OF: dict[int, int] = {
    **dict.fromkeys((35, 36), 0),
    **dict.fromkeys((37, 38, 39, 40), 1),
    **dict.fromkeys((42, 44, 46), 2),
    **dict.fromkeys((41, 43, 45, 47, 48, 50), 3),
    **dict.fromkeys((49, 51, 52, 53, 55, 57, 59), 4),
}


def _layout() -> dict[str, slice]:
    widths: list[tuple[str, int]] = []
    for track in PITCHED_TRACKS:
        widths += [(f"{track}_held", KEYS), (f"{track}_onset", KEYS)]
    widths += [
        ("drums", len(DRUM_CLASSES)),
        ("chord_root", 12),
        ("chord_none", 1),
        ("chord_quality", len(CHORD_QUALITIES)),
        ("chord_change", 1),
        ("meter", 6),
        ("phoneme", len(PHONEMES)),
        ("syllable", 2),
        ("section", len(SECTION_LABELS)),
    ]
    layout: dict[str, slice] = {}
    start = 0
    for name, width in widths:
        layout[name] = slice(start, start + width)
        start += width
    return layout


FRAME_LAYOUT: dict[str, slice] = _layout()
NUM_FRAME_FEATURES: int = max(s.stop for s in FRAME_LAYOUT.values())


@dataclass(frozen=True)
class _Clock:
    """Ticks <-> seconds under a score's tempo map (piecewise linear)."""

    ticks: np.ndarray  # tempo-change ticks, ascending, starting at 0
    seconds: np.ndarray  # seconds at those ticks
    seconds_per_tick: np.ndarray  # within each segment

    @classmethod
    def of(cls, score: Score) -> _Clock:
        tempos = sorted(score.tempos, key=lambda t: t.tick)
        if not tempos or tempos[0].tick > 0:
            raise ValueError("the tempo map must start at tick 0")
        ticks = np.array([t.tick for t in tempos], dtype=np.float64)
        per_tick = np.array([60.0 / t.bpm / score.ticks_per_beat for t in tempos])
        seconds = np.concatenate([[0.0], np.cumsum(np.diff(ticks) * per_tick[:-1])])
        return cls(ticks, seconds, per_tick)

    def to_seconds(self, ticks: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.ticks, ticks, side="right") - 1
        return self.seconds[index] + (ticks - self.ticks[index]) * self.seconds_per_tick[index]

    def to_ticks(self, seconds: np.ndarray) -> np.ndarray:
        index = np.searchsorted(self.seconds, seconds, side="right") - 1
        return self.ticks[index] + (seconds - self.seconds[index]) / self.seconds_per_tick[index]


def num_score_frames(score: Score, frame_rate: float) -> int:
    """Frames of the score's whole length (to the end of its last bar)."""
    return max(1, math.ceil(score.duration_seconds() * frame_rate - 1e-9))


def score_frames(
    score: Score,
    frame_rate: float,
    num_frames: int | None = None,
    tracks: Iterable[str] = NOTE_TRACKS,
) -> np.ndarray:
    """The score as `[F, T]` float32 features (see the module docstring).

    Args:
        score: the song.
        frame_rate: frames per second (the codec's, 25 for the shipped one).
        num_frames: T; default the score's length (`num_score_frames`). Longer pads the
            end with silence (meter and sections go on), shorter cuts.
        tracks: note tracks to include; the others stay zero.
    """
    if frame_rate <= 0:
        raise ValueError(f"frame_rate must be > 0, got {frame_rate}")
    include = set(tracks)
    unknown = include - set(NOTE_TRACKS)
    if unknown:
        raise ValueError(f"unknown track(s) {sorted(unknown)}; tracks are {NOTE_TRACKS}")
    total = num_score_frames(score, frame_rate) if num_frames is None else num_frames
    frames = np.zeros((NUM_FRAME_FEATURES, total), dtype=np.float32)  # [F, T]
    clock = _Clock.of(score)
    for track in PITCHED_TRACKS:
        if track in include:
            _notes_block(frames, score.notes(track), track, clock, frame_rate)
    if "drums" in include:
        _drums_block(frames, score.notes("drums"), clock, frame_rate)
    _chord_block(frames, score, clock, frame_rate)
    _meter_block(frames, score, clock, frame_rate)
    _section_block(frames, score, clock, frame_rate)
    if "vocal" in include:
        _vocal_text_block(frames, score, clock, frame_rate)
    else:
        frames[FRAME_LAYOUT["phoneme"].start + PHONEMES.index("NONE")] = 1.0
    return frames


def _spans(
    clock: _Clock, notes: list[Note], rate: float, total: int
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(onset frame, first held frame, end frame exclusive) of each note, clipped to `total`."""
    starts = clock.to_seconds(np.array([n.tick for n in notes], dtype=np.float64)) * rate
    ends = clock.to_seconds(np.array([n.end for n in notes], dtype=np.float64)) * rate
    onset = np.floor(starts + 1e-9).astype(np.int64)
    first = np.ceil(starts - 0.5 - 1e-9).astype(np.int64)  # first centre at or after the start
    last = np.ceil(ends - 0.5 - 1e-9).astype(np.int64)  # first centre at or after the end
    first = np.minimum(first, onset)  # a note shorter than a frame still sounds in its onset frame
    last = np.maximum(last, first + 1)
    return np.clip(onset, 0, total), np.clip(first, 0, total), np.clip(last, 0, total)


def _notes_block(
    frames: np.ndarray, notes: list[Note], track: str, clock: _Clock, rate: float
) -> None:
    if not notes:
        return
    total = frames.shape[1]
    held = frames[FRAME_LAYOUT[f"{track}_held"]]  # [88, T] view
    onsets = frames[FRAME_LAYOUT[f"{track}_onset"]]  # [88, T] view
    onset, first, last = _spans(clock, notes, rate, total)
    for note, o, a, b in zip(notes, onset, first, last, strict=True):
        key = note.pitch - LOWEST_KEY
        if not 0 <= key < KEYS:
            continue
        held[key, a:b] = 1.0
        if o < total:
            onsets[key, o] = 1.0


def _drums_block(frames: np.ndarray, notes: list[Note], clock: _Clock, rate: float) -> None:
    if not notes:
        return
    total = frames.shape[1]
    block = frames[FRAME_LAYOUT["drums"]]  # [6, T]
    onset, _, _ = _spans(clock, notes, rate, total)
    for note, o in zip(notes, onset, strict=True):
        if o < total:
            block[_DRUM_CLASS_OF.get(note.pitch, len(DRUM_CLASSES) - 1), o] = 1.0


def _frame_ticks(clock: _Clock, total: int, rate: float) -> np.ndarray:
    """The tick at each frame's centre `[T]`."""
    return clock.to_ticks((np.arange(total) + 0.5) / rate)


def _chord_block(frames: np.ndarray, score: Score, clock: _Clock, rate: float) -> None:
    total = frames.shape[1]
    chords = sorted(score.chords, key=lambda c: c.tick)
    none_row = FRAME_LAYOUT["chord_none"].start
    if not chords:
        frames[none_row] = 1.0
        return
    ticks = _frame_ticks(clock, total, rate)
    starts = np.array([c.tick for c in chords])
    ends = np.array([c.tick + c.duration for c in chords])
    index = np.searchsorted(starts, ticks, side="right") - 1  # [T]
    inside = (index >= 0) & (ticks < ends[np.maximum(index, 0)])
    root_rows = FRAME_LAYOUT["chord_root"].start
    quality_rows = FRAME_LAYOUT["chord_quality"].start
    for frame in range(total):
        chord = chords[index[frame]] if inside[frame] else None
        if chord is None or chord.root is None:
            frames[none_row, frame] = 1.0
            continue
        frames[root_rows + chord.root, frame] = 1.0
        frames[quality_rows + CHORD_QUALITIES.index(chord.quality), frame] = 1.0
    change = FRAME_LAYOUT["chord_change"].start
    onset, _, _ = _spans(clock, [Note(c.tick, c.duration, 60) for c in chords], rate, total)
    frames[change, onset[onset < total]] = 1.0


def _meter_block(frames: np.ndarray, score: Score, clock: _Clock, rate: float) -> None:
    total = frames.shape[1]
    ticks = _frame_ticks(clock, total, rate)  # [T]
    bars = score.bar_starts()
    horizon = max(bars[-1], int(ticks[-1]) + 1)
    while bars[-1] < horizon:  # bars go on past the score's end
        bars.append(bars[-1] + score.bar_length(score.signature_at(bars[-1])))
    bar_ticks = np.array(bars, dtype=np.float64)
    index = np.clip(np.searchsorted(bar_ticks, ticks, side="right") - 1, 0, len(bars) - 2)
    bar_start = bar_ticks[index]
    bar_len = bar_ticks[index + 1] - bar_start
    beat_len = np.array(
        [score.ticks_per_beat * 4 / score.signature_at(int(b)).denominator for b in bar_start]
    )
    in_bar = ticks - bar_start
    bar_phase = in_bar / bar_len
    beat_phase = (in_bar / beat_len) % 1.0
    rows = FRAME_LAYOUT["meter"].start
    frames[rows + 0] = np.sin(2 * np.pi * beat_phase)
    frames[rows + 1] = np.cos(2 * np.pi * beat_phase)
    frames[rows + 2] = np.sin(2 * np.pi * bar_phase)
    frames[rows + 3] = np.cos(2 * np.pi * bar_phase)
    beats = [
        tick
        for start, end in itertools.pairwise(bars)
        for tick in np.arange(
            start, end, score.ticks_per_beat * 4 / score.signature_at(start).denominator
        )
    ]
    for row, marks in ((rows + 4, beats), (rows + 5, bars)):
        onset = np.floor(clock.to_seconds(np.array(marks, dtype=np.float64)) * rate + 1e-9)
        onset = onset.astype(np.int64)
        frames[row, onset[(onset >= 0) & (onset < total)]] = 1.0


def _section_block(frames: np.ndarray, score: Score, clock: _Clock, rate: float) -> None:
    sections = sorted(score.sections, key=lambda s: s.tick)
    if not sections:
        return
    total = frames.shape[1]
    ticks = _frame_ticks(clock, total, rate)
    index = np.searchsorted(np.array([s.tick for s in sections]), ticks, side="right") - 1
    rows = FRAME_LAYOUT["section"].start
    for frame in np.flatnonzero(index >= 0):
        label = sections[index[frame]].label
        if label in SECTION_LABELS:
            frames[rows + SECTION_LABELS.index(label), frame] = 1.0


def _vocal_text_block(frames: np.ndarray, score: Score, clock: _Clock, rate: float) -> None:
    """Phoneme and syllable-position rows from the vocal notes' lyrics and phonemes."""
    total = frames.shape[1]
    phoneme_rows = FRAME_LAYOUT["phoneme"].start
    none = phoneme_rows + PHONEMES.index("NONE")
    frames[none] = 1.0
    position_row, start_row = FRAME_LAYOUT["syllable"].start, FRAME_LAYOUT["syllable"].start + 1
    for syllable in _syllables(score.notes("vocal")):
        start = float(clock.to_seconds(np.array([syllable[0].tick], dtype=np.float64))[0])
        end = float(clock.to_seconds(np.array([syllable[-1].end], dtype=np.float64))[0])
        a = min(total, math.floor(start * rate + 1e-9))
        b = min(total, max(a + 1, math.ceil(end * rate - 1e-9)))
        if a >= total:
            continue
        labels = _phoneme_timeline(syllable[0].phonemes, b - a, rate)
        for offset, label in enumerate(labels):
            frame = a + offset
            frames[FRAME_LAYOUT["phoneme"], frame] = 0.0  # a later syllable wins a shared frame
            frames[phoneme_rows + PHONEMES.index(label), frame] = 1.0
            frames[position_row, frame] = (offset + 0.5) / (b - a)
        frames[start_row, a] = 1.0


def _syllables(notes: list[Note]) -> list[list[Note]]:
    """Vocal notes grouped into syllables: a note with a lyric (or phonemes) starts one."""
    groups: list[list[Note]] = []
    for note in sorted(notes, key=lambda n: n.tick):
        if note.lyric or note.phonemes or not groups:
            groups.append([note])
        else:
            groups[-1].append(note)
    return groups


def _phoneme_timeline(phonemes: tuple[str, ...], length: int, rate: float) -> list[str]:
    """`length` frame labels for one syllable: onset consonants, the held vowel, coda consonants."""
    names = [_arpabet(p) for p in phonemes] or ["SIL"]
    vowel = next((i for i, p in enumerate(names) if p in VOWELS), None)
    if vowel is None:  # no vowel: spread the phonemes evenly
        return [names[min(len(names) - 1, i * len(names) // length)] for i in range(length)]
    onset, coda = names[:vowel], names[vowel + 1 :]
    per = max(1, round(CONSONANT_SECONDS * rate))
    room = max(0, length - 1)  # the vowel keeps at least one frame
    n_onset = min(len(onset) * per, room // 2 if coda else room)
    n_coda = min(len(coda) * per, room - n_onset)
    timeline = [onset[min(len(onset) - 1, i // per)] for i in range(n_onset)]
    timeline += [names[vowel]] * (length - n_onset - n_coda)
    timeline += [coda[min(len(coda) - 1, i // per)] for i in range(n_coda)]
    return timeline


def _arpabet(phoneme: str) -> str:
    name = phoneme.rstrip("012").upper()
    return name if name in ARPABET else "SIL"
