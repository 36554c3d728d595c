"""The composer's training data: cached tunes -> lead sheets -> token sequences with features.

Each cached tune (`seedmusic.composer.tunes`) becomes `variants` lead sheets, each with its own
draw of style, tempo, transposition and voice (the corpus's `choose_arrangement`), so one work
is seen in several keys, tempos and styles. The sung syllables are the source's lyrics (Bach's
chorales: German) or, for a wordless tune, synthetic English words whose stressed syllables tend
to fall on strong beats (`synthetic_lyrics`), as users' lyrics do. Each lead sheet gets a
one-line description in varied wording (for `--prompt`), style tags and its tokens.

Works of the audio corpus's test split (`seedmusic.data.build.split_of`) never enter training;
the valid split is kept for validation.

Stored as `sequences.npz`: the concatenated token ids `[N]` and features `[N, F]`, offsets
`[S + 1]`, and per sequence its split, work, tags, tempo, bars and description (JSON).
"""

from __future__ import annotations

import json
import logging
import random
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from score_tokens.score import Note, Score, TempoChange, TimeSignature, Track
from seedmusic.composer.grammar import LeadSheetGrammar
from seedmusic.composer.leadsheet import (
    MASK,
    TOKEN_ID,
    VOCAB,
    PlanSection,
    SyllableInfo,
    encode_lead_sheet,
)
from seedmusic.composer.lyrics_input import Syllable, syllables_from_note_lyrics
from seedmusic.composer.style import MOODS
from seedmusic.composer.synthetic_lyrics import synthetic_syllables
from seedmusic.composer.tunes import iter_records, tune_from_json
from seedmusic.data.arrange import (
    INTRO_BARS,
    OUTRO_BARS,
    TRAITS,
    _chords,
    _sections,
    choose_arrangement,
)
from seedmusic.data.build import _shortened
from seedmusic.data.sources import Work
from seedmusic.data.tune import TICKS_PER_BEAT, Tune, UnsupportedWorkError

logger = logging.getLogger(__name__)

SEQUENCES_FILE = "sequences.npz"


@dataclass
class LeadSheetExample:
    """One training lead sheet."""

    work: str
    score: Score
    syllables: list[Syllable | None]
    genre: str
    voice: str
    tags: tuple[str, ...]
    description: str


def lead_sheet(tune: Tune, work: Work, rng: random.Random) -> LeadSheetExample | None:
    """One arranged lead sheet of `tune` (no band): key, tempo, sections, chords, vocal, words."""
    tune = _shortened(tune)
    try:
        choice = choose_arrangement(tune, work, rng)
    except UnsupportedWorkError:
        return None
    bar = tune.bar_ticks
    offset = INTRO_BARS * bar
    end = offset + tune.end_tick + OUTRO_BARS * bar
    sections = _sections(tune, offset, end)
    for section in sections:
        if section.label == "instrumental":  # a tune's 4th strain is sung: call it a bridge
            section.label = "bridge"
    melody = [
        Note(n.tick, n.duration, min(127, max(0, n.pitch + choice.transpose)), 96, n.lyric)
        for n in tune.melody
    ]
    if tune.has_lyrics:
        syllables = syllables_from_note_lyrics([n.lyric for n in melody], tune.language or "en")
    else:
        syllables = synthetic_syllables(
            melody, tune.numerator, tune.denominator, TICKS_PER_BEAT, rng
        )
    syllables = _no_melisma_at_section_starts(
        melody, syllables, [s.tick - offset for s in sections]
    )
    vocal = []
    for note, syllable in zip(melody, syllables, strict=True):
        lyric = syllable.text if syllable else None
        phonemes = syllable.phonemes if syllable else ()
        vocal.append(Note(offset + note.tick, note.duration, note.pitch, 96, lyric, phonemes))
    score = Score(
        ticks_per_beat=TICKS_PER_BEAT,
        tempos=[TempoChange(0, choice.tempo)],
        time_signatures=[TimeSignature(0, tune.numerator, tune.denominator)],
        key=_key(tune, choice.transpose),
        sections=sections,
        chords=_chords(tune, choice.transpose, offset, end),
        tracks={"vocal": Track(53, vocal)},
        end_tick=end,
    )
    tags = _tags(choice.style, choice.voice, tune.mode, choice.tempo)
    language = "German" if tune.language == "de" else "English"
    text = describe(choice.style, choice.voice, score, language, rng)
    return LeadSheetExample(work.id, score, list(syllables), choice.style, choice.voice, tags, text)


def _no_melisma_at_section_starts(
    melody: Sequence[Note], syllables: Sequence[Syllable | None], starts: Sequence[int]
) -> list[Syllable | None]:
    """A section's first note starts a syllable: a melisma there (a syllable held over the
    section line in the source) is sung to "la" instead."""
    filler = Syllable("la", 0, True, False, ("L", "AA0"))
    out = list(syllables)
    boundaries = sorted(starts)
    for index, note in enumerate(melody):
        if out[index] is not None:
            continue
        previous = melody[index - 1].tick if index else -1
        if index == 0 or any(previous < b <= note.tick for b in boundaries):
            out[index] = filler
    return out


def _key(tune: Tune, transpose: int) -> str:
    from score_tokens.midi import key_name

    return key_name((tune.tonic + transpose) % 12, tune.mode)


def _tags(genre: str, voice: str, mode: str, tempo: float) -> tuple[str, ...]:
    moods = ["happy" if mode == "major" else "sad"]
    moods += [t for t in TRAITS[genre].tags if t in MOODS]
    if tempo < 80:
        moods.append("slow")
    elif tempo >= 115:
        moods.append("upbeat")
    return (genre, voice, *dict.fromkeys(moods))


_OPENINGS = ("A", "A gentle", "A lively", "A simple", "An old-style", "A heartfelt", "A catchy")
_GENRE_WORDS = {
    "pop": ("pop song", "pop tune", "radio-friendly pop song"),
    "rock": ("rock song", "driving rock tune", "rock number"),
    "folk": ("folk song", "folk tune", "acoustic folk song"),
    "ballad": ("ballad", "slow ballad", "tender ballad"),
    "waltz": ("waltz", "waltz in three", "swaying waltz"),
    "march": ("march", "marching song", "brisk march"),
    "swing": ("swing tune", "jazzy swing number", "swing song"),
    "country": ("country song", "country tune", "country ballad"),
    "bossa": ("bossa nova", "bossa nova song", "soft bossa"),
    "latin": ("latin song", "latin groove", "latin tune"),
    "blues": ("blues", "blues song", "bluesy tune"),
    "hymn": ("hymn", "chorale", "church hymn"),
}


def describe(genre: str, voice: str, score: Score, language: str, rng: random.Random) -> str:
    """A one-line description in varied wording (what users type into `--prompt`)."""
    tempo = score.tempos[0].bpm
    pace = "slow" if tempo < 80 else ("fast" if tempo >= 120 else "medium-tempo")
    sig = score.time_signatures[0]
    singer = {
        "female vocal": ("a woman", "a female singer", "a female voice"),
        "male vocal": ("a man", "a male singer", "a male voice"),
    }[voice]
    mood = "bright" if score.key.endswith("major") else "melancholy"
    parts = [
        f"{rng.choice(_OPENINGS)} {pace} {rng.choice(_GENRE_WORDS[genre])}",
        rng.choice(
            [
                f"sung by {rng.choice(singer)}",
                f"for {rng.choice(singer)}",
                f"with {rng.choice(singer)} singing",
            ]
        ),
    ]
    extras = [
        f"in {score.key}",
        f"at {tempo:.0f} bpm",
        f"in {sig.numerator}/{sig.denominator} time",
        f"{mood} and {rng.choice(('warm', 'simple', 'tuneful', 'steady'))}",
        f"with {language} lyrics",
    ]
    rng.shuffle(extras)
    return ", ".join(parts + extras[: rng.randint(1, 4)]) + "."


def syllable_infos(syllables: Sequence[Syllable | None]) -> list[SyllableInfo | None]:
    return [
        None if s is None else SyllableInfo(s.stress, s.word_start, s.line_start) for s in syllables
    ]


def grammar_features(ids: Sequence[int], plan: Sequence[PlanSection]) -> np.ndarray:
    """Features `[L, F]` of the state after each token; `ValueError` if the grammar rejects it."""
    grammar = LeadSheetGrammar(plan)
    rows = []
    for index, token in enumerate(ids):
        if index == 0:
            if VOCAB[token] != "BOS":
                raise ValueError("a sequence starts with BOS")
        else:
            grammar.check(token)
        rows.append(grammar.features())
    return np.asarray(rows, dtype=np.int16)


def rearrange_for_infill(
    ids: Sequence[int], features: np.ndarray, first_bar: int, last_bar: int
) -> tuple[list[int], np.ndarray]:
    """`prefix MASK suffix MASK span EOS` for bars `first_bar..last_bar` (0-based, inclusive).

    Features follow the tokens; the first MASK carries the state after the span (what the suffix
    continues from), the second the state before it (what the span starts from).
    """
    bars = [i for i, t in enumerate(ids) if VOCAB[t] == "Bar"]
    start = bars[first_bar]
    stop = bars[last_bar + 1] if last_bar + 1 < len(bars) else len(ids) - 1
    mask, eos = TOKEN_ID[MASK], TOKEN_ID["EOS"]
    tokens = [*ids[:start], mask, *ids[stop:-1], mask, *ids[start:stop], eos]
    rows = np.concatenate(
        [
            features[:start],
            features[stop - 1 : stop],
            features[stop:-1],
            features[start - 1 : start],
            features[start:stop],
            features[-1:],
        ]
    )
    return tokens, rows


def build_sequences(
    folder: Path, variants: int = 3, seed: int = 0, limit: int | None = None
) -> dict[str, Any]:
    """Build `folder/sequences.npz` from `folder/tunes.jsonl`; returns counts for the report."""
    ids_all: list[np.ndarray] = []
    feats_all: list[np.ndarray] = []
    meta: list[dict[str, Any]] = []
    rejected = 0
    records = [
        r for r in iter_records(folder / "tunes.jsonl") if "tune" in r and r["split"] != "test"
    ]
    if limit is not None:
        records = records[:limit]
    from tqdm.auto import tqdm

    for record in tqdm(records, desc="lead sheets", mininterval=10):
        tune = tune_from_json(record["tune"])
        work = Work(record["work"], record["collection"], Path(""))
        for variant in range(variants):
            rng = random.Random(f"{seed}:{record['work']}:{variant}")
            example = lead_sheet(tune, work, rng)
            if example is None:
                continue
            try:
                ids, plan = encode_lead_sheet(example.score, syllable_infos(example.syllables))
                features = grammar_features(ids, plan)
            except ValueError as exc:
                rejected += 1
                logger.debug("%s rejected: %s", record["work"], exc)
                continue
            ids_all.append(np.asarray(ids, dtype=np.int16))
            feats_all.append(features)
            bars = sum(VOCAB[t] == "Bar" for t in ids)
            meta.append(
                {
                    "work": record["work"],
                    "split": record["split"],
                    "tags": list(example.tags),
                    "tempo": example.score.tempos[0].bpm,
                    "bars": bars,
                    "description": example.description,
                }
            )
    offsets = np.cumsum([0, *(len(a) for a in ids_all)])
    from seedmusic.text_encoder import packaged_encoder

    texts = packaged_encoder().encode([m["description"] for m in meta])
    np.savez(
        folder / SEQUENCES_FILE,
        ids=np.concatenate(ids_all),
        features=np.concatenate(feats_all),
        offsets=offsets,
        meta=np.asarray(json.dumps(meta)),
        text=texts.astype(np.float16),
    )
    return {"sequences": len(meta), "tokens": int(offsets[-1]), "rejected": rejected}
