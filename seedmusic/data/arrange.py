"""A `Tune` arranged as a song `Score` on the seven tracks, deterministically for a seed.

`choose_arrangement(tune, work, rng)` draws the choices for one piece: a style that fits the
meter (`accompaniment.STYLES`, with `TRAITS`), a tempo in the style's range, a transposition that puts the melody in the
singer's range (with some key variety), and, for a melody without lyrics, synthetic English
words. `arrange(tune, choice)` then builds the score:

    intro (2 bars, instrumental) | the tune, its form as sections | outro (2 bars)

- vocal: the melody, transposed, one syllable per note (the source's lyrics, or synthetic
  words marked so in the manifest), with ARPAbet phonemes for English words;
- chord: the source's harmony, else `harmony.harmonise` (one chord per bar, or per half bar
  in 4/4); intro and outro hold the first and last chord;
- bass, piano, guitar, drums: `accompaniment.accompany` (Debian's MMA, in the style's groove).
"""

from __future__ import annotations

import logging
import random
from dataclasses import dataclass

from score_tokens.score import Chord, Note, Score, Section, TempoChange, TimeSignature, Track
from seedmusic.data.accompaniment import accompany
from seedmusic.data.accompaniment import styles_for as accompaniment_styles_for
from seedmusic.data.harmony import harmonise
from seedmusic.data.sources import COLLECTIONS, Work
from seedmusic.data.tune import TICKS_PER_BEAT, Tune, UnsupportedWorkError
from seedmusic.lyrics import lyrics_to_phonemes

logger = logging.getLogger(__name__)

INTRO_BARS = 2
OUTRO_BARS = 2
VOCAL_CENTRE = {"female vocal": 69, "male vocal": 57}
"""Target median pitch of the sung melody per voice (A4, A3)."""


@dataclass(frozen=True)
class StyleTraits:
    """What a corpus style sounds like beyond its grooves: tempo range (quarter notes per
    minute) and conditioning tags. The grooves per meter are `accompaniment.STYLES`."""

    tempo: tuple[float, float]
    tags: tuple[str, ...]


TRAITS: dict[str, StyleTraits] = {
    "pop": StyleTraits((88, 120), ("pop",)),
    "rock": StyleTraits((100, 140), ("rock", "energetic")),
    "folk": StyleTraits((80, 120), ("folk", "acoustic guitar")),
    "ballad": StyleTraits((60, 80), ("ballad", "slow", "calm")),
    "waltz": StyleTraits((90, 150), ("waltz",)),
    "march": StyleTraits((100, 120), ("march",)),
    "swing": StyleTraits((110, 160), ("swing", "jazz")),
    "country": StyleTraits((90, 130), ("country",)),
    "bossa": StyleTraits((100, 130), ("bossa nova", "latin")),
    "latin": StyleTraits((100, 130), ("latin",)),
    "blues": StyleTraits((80, 120), ("blues",)),
    "hymn": StyleTraits((60, 84), ("chorale", "hymn", "calm")),
}
"""Every style of `accompaniment.STYLES`, with its traits."""

SYNTHETIC_WORDS: tuple[str, ...] = (
    "love", "heart", "night", "day", "sun", "moon", "light", "sky", "sea", "home", "road",
    "rain", "dream", "song", "sing", "fly", "free", "hold", "hand", "dance", "fire", "star",
    "wind", "blue", "gold", "green", "hill", "field", "town", "friend", "way", "time", "soul",
    "know", "see", "go", "come", "stay", "run", "walk", "call", "fall", "rise", "shine", "glow",
    "sweet", "dear", "true", "old", "new", "bright", "wild", "long", "far", "near", "high",
    "low", "my", "your", "the", "a", "and", "we", "you", "I", "me", "oh", "la", "in", "on",
    "to", "with", "all", "now", "here", "there", "one", "when", "where", "why", "so", "be",
    "sleep", "wake", "morn", "eve", "spring", "bird", "tree", "rose", "snow", "boat", "shore",
)  # fmt: skip
"""One-syllable words sung on melodies that have no lyrics (marked `synthetic`)."""


@dataclass(frozen=True)
class ArrangementChoice:
    """What was drawn for one piece."""

    style: str
    tempo: float
    transpose: int
    voice: str
    seed: int
    synthetic_words: tuple[str, ...] | None


def styles_for(tune: Tune, work: Work) -> list[str]:
    """Styles with a groove for the tune's meter; chorales are arranged as hymns."""
    fitting = accompaniment_styles_for(TimeSignature(0, tune.numerator, tune.denominator))
    if work.collection == "bach-chorales" and "hymn" in fitting:
        return ["hymn"]
    return [name for name in fitting if name != "hymn"]


def choose_arrangement(tune: Tune, work: Work, rng: random.Random) -> ArrangementChoice:
    """Draw style, tempo, transposition, voice and (if needed) words for `tune`."""
    fitting = styles_for(tune, work)
    if not fitting:
        raise UnsupportedWorkError(
            f"no accompaniment style plays {tune.numerator}/{tune.denominator}"
        )
    style = rng.choice(fitting)
    low, high = TRAITS[style].tempo
    tempo = float(round(rng.uniform(low, high)))
    voice = rng.choice(sorted(VOCAL_CENTRE))
    pitches = sorted(n.pitch for n in tune.melody)
    median = pitches[len(pitches) // 2]
    centre = VOCAL_CENTRE[voice] - median
    transpose = max(-12, min(12, centre + rng.randint(-2, 2)))
    words = None
    if not tune.has_lyrics:
        words = tuple(rng.choice(SYNTHETIC_WORDS) for _ in tune.melody)
    return ArrangementChoice(style, tempo, transpose, voice, rng.randrange(2**31), words)


def arrange(tune: Tune, choice: ArrangementChoice) -> Score:
    """The song score of `tune` under `choice` (see the module docstring)."""
    bar = tune.bar_ticks
    offset = INTRO_BARS * bar
    end = offset + tune.end_tick + OUTRO_BARS * bar
    score = Score(
        ticks_per_beat=TICKS_PER_BEAT,
        tempos=[TempoChange(0, choice.tempo)],
        time_signatures=[TimeSignature(0, tune.numerator, tune.denominator)],
        key=_transposed_key(tune, choice.transpose),
        sections=_sections(tune, offset, end),
        chords=_chords(tune, choice.transpose, offset, end),
        tracks={name: Track(program) for name, program in _programs().items()},
        end_tick=end,
    )
    score.tracks["vocal"].notes = _vocal(tune, choice, offset)
    score.validate()
    return accompany(score, choice.style, choice.seed).sort().validate()


def description(tune: Tune, work: Work, choice: ArrangementChoice, score: Score) -> str:
    """One line of text describing the piece, for text conditioning."""
    lyrics = (
        "German lyrics"
        if tune.language == "de"
        else ("English lyrics" if tune.has_lyrics else "synthetic English lyrics")
    )
    band = [name for name in ("piano", "guitar", "bass", "drums") if score.notes(name)]
    players = ", ".join(band[:-1]) + (f" and {band[-1]}" if len(band) > 1 else "".join(band))
    title = tune.title.rstrip(" .,;")
    return (
        f"A {choice.style} arrangement in {score.key} at {choice.tempo:.0f} bpm, "
        f"{tune.numerator}/{tune.denominator}, with {choice.voice} singing {lyrics} over "
        f"{players}: {title}, {COLLECTIONS[work.collection].description}."
    )


def tags(tune: Tune, choice: ArrangementChoice) -> tuple[str, ...]:
    """Style tags for conditioning: the style's, the voice, the mood of the mode and tempo."""
    mood = "happy" if tune.mode == "major" else "sad"
    pace = "slow" if choice.tempo < 80 else ("upbeat" if choice.tempo >= 115 else None)
    found = [*TRAITS[choice.style].tags, choice.voice, mood, *([pace] if pace else [])]
    return tuple(dict.fromkeys(found))


def _programs() -> dict[str, int]:
    return {"vocal": 53, "bass": 33, "piano": 0, "guitar": 25, "drums": 0}


def _transposed_key(tune: Tune, transpose: int) -> str:
    shifted = Tune(
        tune.title, tune.numerator, tune.denominator, (tune.tonic + transpose) % 12, tune.mode
    )
    return shifted.key


def _sections(tune: Tune, offset: int, end: int) -> list[Section]:
    sections = [Section(0, "intro")]
    sections += [Section(offset + s.tick, s.label) for s in tune.sections]
    sections.append(Section(offset + tune.end_tick, "outro"))
    return [s for s in sections if s.tick < end]


def _chords(tune: Tune, transpose: int, offset: int, end: int) -> list[Chord]:
    source = tune.chords or harmonise(
        tune.melody,
        tune.tonic,
        tune.mode,
        tune.bar_ticks // 2 if tune.numerator == 4 else tune.bar_ticks,
        tune.end_tick,
        TICKS_PER_BEAT,
    )
    chords = [
        Chord(
            offset + c.tick,
            c.duration,
            None if c.root is None else (c.root + transpose) % 12,
            c.quality,
        )
        for c in source
    ]
    first, last = chords[0], chords[-1]
    intro = Chord(0, offset, first.root, first.quality)
    outro_start = offset + tune.end_tick
    outro = Chord(outro_start, end - outro_start, last.root, last.quality)
    return [intro, *chords, outro]


def _vocal(tune: Tune, choice: ArrangementChoice, offset: int) -> list[Note]:
    notes = []
    for index, note in enumerate(tune.melody):
        lyric = note.lyric if choice.synthetic_words is None else choice.synthetic_words[index]
        phonemes = lyrics_to_phonemes(lyric) if lyric and tune.language != "de" else ()
        pitch = min(127, max(0, note.pitch + choice.transpose))
        notes.append(Note(offset + note.tick, note.duration, pitch, 96, lyric, phonemes))
    return notes
