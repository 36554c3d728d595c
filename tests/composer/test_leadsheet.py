"""Lead-sheet tokens and the grammar: round trips, and validity of anything sampled under it."""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np
import pytest

from score_tokens.score import Chord, Note, Score, Section, TempoChange, TimeSignature, Track
from seedmusic.composer.decode import Sampling, sample_tokens, snapshot
from seedmusic.composer.grammar import LeadSheetGrammar, SpanLimits
from seedmusic.composer.leadsheet import (
    MASK,
    TOKEN_ID,
    VOCAB,
    PlanSection,
    SungSyllable,
    SyllableInfo,
    decode_lead_sheet,
    encode_lead_sheet,
)

BAR = 1920


class RandomScorer:
    """Random log-probabilities: the grammar alone must keep the output valid."""

    def __init__(self, seed: int) -> None:
        self.rng = np.random.default_rng(seed)

    def feed(self, tokens: Sequence[int], features: Sequence[Sequence[int]]) -> np.ndarray:
        return self.rng.normal(size=len(VOCAB)) * 3.0


def small_song() -> tuple[Score, list[SyllableInfo | None]]:
    vocal = [
        Note(2 * BAR, 480, 67, 96, "hel"),
        Note(2 * BAR + 480, 480, 69, 96, "lo"),
        Note(2 * BAR + 960, 240, 71, 96, None),
        Note(3 * BAR, 960, 72, 96, "world"),
        Note(4 * BAR, 480, 67, 96, "sing"),
        Note(4 * BAR + 480, 1440, 64, 96, "on"),
    ]
    score = Score(
        tempos=[TempoChange(0, 96.0)],
        time_signatures=[TimeSignature(0, 4, 4)],
        key="G major",
        sections=[
            Section(0, "intro"),
            Section(2 * BAR, "verse"),
            Section(4 * BAR, "chorus"),
            Section(5 * BAR, "outro"),
        ],
        chords=[
            Chord(0, 2 * BAR, 7, "maj"),
            Chord(2 * BAR, 2 * BAR, 0, "maj"),
            Chord(4 * BAR, 2 * BAR, 2, "7"),
        ],
        tracks={"vocal": Track(53, vocal)},
        end_tick=6 * BAR,
    )
    infos = [None if n.lyric is None else SyllableInfo(1, True, False) for n in vocal]
    return score, infos


def test_encode_decode_round_trip() -> None:
    score, infos = small_song()
    ids, plan = encode_lead_sheet(score, infos)
    assert [p.label for p in plan] == ["intro", "verse", "chorus", "outro"]
    assert [len(p.syllables) for p in plan] == [0, 3, 2, 0]
    grammar = LeadSheetGrammar(plan)
    for token in ids[1:]:
        grammar.check(token)
    assert grammar.expect == "done"
    sung = [SungSyllable(n.lyric) for n in score.notes("vocal") if n.lyric]
    back = decode_lead_sheet(ids, sung)
    assert [(n.tick, n.duration, n.pitch, n.lyric) for n in back.notes("vocal")] == [
        (n.tick, n.duration, n.pitch, n.lyric) for n in score.notes("vocal")
    ]
    assert [(c.tick, c.root, c.quality) for c in back.chords] == [
        (c.tick, c.root, c.quality) for c in score.chords
    ]
    assert [(s.tick, s.label) for s in back.sections] == [(s.tick, s.label) for s in score.sections]
    assert back.key == "G major" and back.tempos[0].bpm == 96.0


def test_grammar_rejects_a_vocal_note_in_the_intro() -> None:
    score, infos = small_song()
    ids, plan = encode_lead_sheet(score, infos)
    grammar = LeadSheetGrammar(plan)
    for token in ids[1:7]:  # header, Bar, Section_intro, Position_0
        grammar.step(token)
    assert TOKEN_ID["Syllable"] not in grammar.allowed()


def plan_of(*sections: tuple[str, int]) -> list[PlanSection]:
    return [
        PlanSection(label, tuple(SyllableInfo(i % 2, True, i % 4 == 0) for i in range(count)))
        for label, count in sections
    ]


@pytest.mark.parametrize("seed", range(6))
@pytest.mark.parametrize("meter", [(4, 4), (3, 4), (6, 8)])
def test_anything_sampled_under_the_grammar_is_a_valid_song(
    seed: int, meter: tuple[int, int]
) -> None:
    plan = plan_of(("intro", 0), ("verse", 7), ("chorus", 5), ("outro", 0))
    grammar = LeadSheetGrammar(plan, key="E minor", meter=meter, tempo=120)
    ids = sample_tokens(
        RandomScorer(seed), grammar, np.random.default_rng(seed), Sampling(top_p=1.0)
    )
    syllables = [SungSyllable(f"s{i}") for i in range(12)]
    score = decode_lead_sheet([TOKEN_ID["BOS"], *ids], syllables)
    assert score.key == "E minor" and score.tempos[0].bpm == 120
    assert (score.time_signatures[0].numerator, score.time_signatures[0].denominator) == meter
    vocal = score.notes("vocal")
    assert [n.lyric for n in vocal if n.lyric] == [s.text for s in syllables]
    assert vocal[0].lyric is not None  # no note before the first syllable
    assert all(a.end <= b.tick for a, b in itertools.pairwise(vocal))
    labels = [s.label for s in score.sections]
    assert labels == ["intro", "verse", "chorus", "outro"]
    intro_end, outro_start = score.sections[1].tick, score.sections[3].tick
    assert all(intro_end <= n.tick < outro_start for n in vocal)
    chorus_start = score.sections[2].tick
    assert [n.lyric for n in vocal if n.lyric and n.tick < chorus_start] == [
        f"s{i}" for i in range(7)
    ]


def test_a_repeated_section_is_copied() -> None:
    plan = plan_of(("intro", 0), ("chorus", 6), ("verse", 4), ("chorus", 6), ("outro", 0))
    grammar = LeadSheetGrammar(plan, key="C major", meter=(4, 4), tempo=100)
    ids = sample_tokens(RandomScorer(3), grammar, np.random.default_rng(3), repeats={3: 1})
    score = decode_lead_sheet([TOKEN_ID["BOS"], *ids], [SungSyllable(str(i)) for i in range(16)])
    starts = {s.label: [] for s in score.sections}
    for s in score.sections:
        starts[s.label].append(s.tick)
    first, second = starts["chorus"]
    verse = starts["verse"][0]

    def melody(lo: int, hi: int) -> list[tuple[int, int, int, bool]]:
        return [
            (n.tick - lo, n.duration, n.pitch, n.lyric is None)
            for n in score.notes("vocal")
            if lo <= n.tick < hi
        ]

    assert melody(first, verse)[:6] == melody(second, score.sections[-1].tick)[:6]


@pytest.mark.parametrize("seed", range(12))
def test_infill_lands_exactly_on_the_span(seed: int) -> None:
    score, infos = small_song()
    ids, plan = encode_lead_sheet(score, infos)
    bars = [i for i, t in enumerate(ids) if VOCAB[t] == "Bar"]
    start, stop = bars[2], bars[4]  # bars 3-4 (1-based): the verse
    grammar = LeadSheetGrammar(plan)
    states = [snapshot(grammar)]
    for token in ids[1:]:
        grammar.check(token)
        states.append(snapshot(grammar))
    before, after = states[start - 1], states[stop - 1]
    span_grammar = snapshot(before)
    span_grammar.span = SpanLimits(
        end_bar=4,
        end_section=after.section,
        end_syllable=after.syllable,
        vocal_limit=4 * BAR,
        section_bars=frozenset({2}),
    )
    prompt = [*ids[:start], TOKEN_ID[MASK], *ids[stop:-1], TOKEN_ID[MASK]]
    span = sample_tokens(
        RandomScorer(seed),
        span_grammar,
        np.random.default_rng(seed),
        prompt=prompt,
        prompt_features=[(0,) * 8] * len(prompt),
        force=[TOKEN_ID["Bar"]],
    )
    assert VOCAB[span[-1]] == "EOS" and span.count(TOKEN_ID["Bar"]) == 2
    new = [*ids[:start], *span[:-1], *ids[stop:]]
    sung = [SungSyllable(n.lyric) for n in score.notes("vocal") if n.lyric]
    back = decode_lead_sheet(new, sung)
    assert [n.lyric for n in back.notes("vocal") if n.lyric] == [s.text for s in sung]
    outside = [(n.tick, n.pitch) for n in back.notes("vocal") if not 2 * BAR <= n.tick < 4 * BAR]
    assert outside == [
        (n.tick, n.pitch) for n in score.notes("vocal") if not 2 * BAR <= n.tick < 4 * BAR
    ]
    verse = [n for n in back.notes("vocal") if 2 * BAR <= n.tick < 4 * BAR]
    assert verse[-1].end <= 4 * BAR
