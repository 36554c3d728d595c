"""The example song, written in code: 8 bars of 4/4 at 100 bpm in C major.

A verse (C G Am F) and a chorus (F G C C); a sung melody with one English word per note
(phonemes from CMUdict), block chords on the piano, an eighth-note guitar arpeggio, a bass on
root and fifth, and a rock beat on the drums. It is the fixture that the demo and the tests push
through every stage, so its ground truth (notes, chords, beats, sections, lyrics) is exact.
"""

from __future__ import annotations

from score_tokens.score import (
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    Track,
)
from seedmusic.lyrics import lyrics_to_phonemes

TICKS_PER_BEAT = 480
BEATS_PER_BAR = 4
TEMPO_BPM = 100.0

# (root pitch class, quality) per bar.
CHORDS: tuple[tuple[int, str], ...] = (
    (0, "maj"),  # C
    (7, "maj"),  # G
    (9, "min"),  # Am
    (5, "maj"),  # F
    (5, "maj"),  # F
    (7, "maj"),  # G
    (0, "maj"),  # C
    (0, "maj"),  # C
)
TRIADS: dict[str, tuple[int, int, int]] = {"maj": (0, 4, 7), "min": (0, 3, 7)}

# Per bar: three sung notes (beats 0 and 1 are quarters, beat 2 a half note) and their words.
MELODY: tuple[tuple[tuple[int, int, int], str], ...] = (
    ((64, 67, 72), "sing a song"),
    ((71, 67, 62), "for the sun"),
    ((69, 72, 76), "keep the time"),
    ((72, 69, 65), "with the drum"),
    ((65, 69, 72), "la la la"),
    ((71, 74, 67), "we are free"),
    ((64, 67, 72), "sing it out"),
    ((67, 64, 60), "sing with me"),
)
SECTIONS: tuple[tuple[int, str], ...] = ((0, "verse"), (4, "chorus"))

KICK, SNARE, CLOSED_HAT, CRASH = 36, 38, 42, 49


def example_song() -> Score:
    """The example song as a validated `Score`."""
    bar = TICKS_PER_BEAT * BEATS_PER_BAR
    beat = TICKS_PER_BEAT
    score = Score(
        ticks_per_beat=TICKS_PER_BEAT,
        tempos=[TempoChange(0, TEMPO_BPM)],
        time_signatures=[TimeSignature(0, BEATS_PER_BAR, 4)],
        key="C major",
        sections=[Section(index * bar, label) for index, label in SECTIONS],
        chords=[Chord(i * bar, bar, root, quality) for i, (root, quality) in enumerate(CHORDS)],
        tracks={
            "vocal": Track(53),
            "bass": Track(33),
            "piano": Track(0),
            "guitar": Track(25),
            "drums": Track(0),
        },
        end_tick=len(CHORDS) * bar,
    )
    for index, ((root, quality), (pitches, text)) in enumerate(zip(CHORDS, MELODY, strict=True)):
        start = index * bar
        _add_vocal(score, start, beat, pitches, text.split())
        chord = [root + interval for interval in TRIADS[quality]]
        score.notes("bass").extend(
            [Note(start, 2 * beat, 36 + root, 90), Note(start + 2 * beat, 2 * beat, 43 + root, 80)]
        )
        for half in (0, 2):
            score.notes("piano").extend(
                Note(start + half * beat, 2 * beat, 60 + p if p < 8 else 48 + p, 70) for p in chord
            )
        arpeggio = [48 + chord[0], 48 + chord[1], 48 + chord[2], 60 + chord[0]] * 2
        score.notes("guitar").extend(
            Note(start + i * beat // 2, beat // 2, pitch, 75) for i, pitch in enumerate(arpeggio)
        )
        _add_drums(score, start, beat, crash=index in (0, 4))
    return score.sort().validate()


def _add_vocal(
    score: Score, start: int, beat: int, pitches: tuple[int, ...], words: list[str]
) -> None:
    for (offset, length), pitch, word in zip(((0, 1), (1, 1), (2, 2)), pitches, words, strict=True):
        score.notes("vocal").append(
            Note(
                start + offset * beat,
                length * beat,
                pitch,
                100,
                lyric=word,
                phonemes=lyrics_to_phonemes(word),
            )
        )


def _add_drums(score: Score, start: int, beat: int, crash: bool) -> None:
    drums = score.notes("drums")
    for eighth in range(8):
        drums.append(Note(start + eighth * beat // 2, beat // 2, CLOSED_HAT, 60))
    for position in range(4):
        drums.append(
            Note(start + position * beat, beat // 2, KICK if position % 2 == 0 else SNARE, 100)
        )
    if crash:
        drums.append(Note(start, beat, CRASH, 90))
