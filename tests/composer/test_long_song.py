"""Long songs: composed in windows, each a continuation of the song so far (`long_song`)."""

from __future__ import annotations

import itertools
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from seedmusic.composer.decode import LmScorer, Sampling, sample_tokens
from seedmusic.composer.grammar import LeadSheetGrammar
from seedmusic.composer.leadsheet import TOKEN_ID, VOCAB
from seedmusic.composer.long_song import MAX_SYLLABLES, split_long_sections
from seedmusic.composer.lyrics_input import parse_lyrics
from seedmusic.composer.model import ComposerConfig, ComposerLM
from seedmusic.composer.pipeline import Composer, ComposeRequest, Composition, song_plan
from seedmusic.composer.style import parse_style
from seedmusic.errors import UserError

LONG_LYRICS = """[verse]
apple river morning
candle silver

[chorus]
hold on to me
never let go

[verse]
window garden yellow
thunder pillow

[bridge]
meadow lantern

[chorus]
hold on to me
never let go
"""
STYLE = "pop, 120 bpm, C major, 4/4"


@pytest.fixture(scope="module")
def small_window() -> Composer:
    """An untrained tiny composer whose 320 positions hold about one of these sections (an
    untrained LM writes about 27 tokens a syllable): windows outgrow them and are cut shorter."""
    torch.manual_seed(0)
    return Composer(ComposerLM(replace(ComposerConfig.tiny(), max_positions=320)))


def compose(composer: Composer, lyrics: str, seed: int = 3, progress: bool = False) -> Composition:
    request = ComposeRequest(parse_lyrics(lyrics), parse_style(STYLE), seed=seed)
    return composer.compose(request, progress=progress)


@pytest.fixture(scope="module")
def long_song(small_window: Composer) -> Composition:
    return compose(small_window, LONG_LYRICS)


def test_a_long_song_sings_every_syllable_in_order_across_windows(
    long_song: Composition,
) -> None:
    sheet = parse_lyrics(LONG_LYRICS)
    assert long_song.summary["windows"] > 2
    score = long_song.score
    sung = [n.lyric for n in score.notes("vocal") if n.lyric]
    assert sung == [s.text for section in sheet.sections for s in section.syllables]
    assert [s.label for s in sorted(score.sections, key=lambda s: s.tick)] == [
        "intro", "verse", "chorus", "verse", "bridge", "chorus", "outro",
    ]  # fmt: skip
    assert score.key == "C major" and score.tempos == [score.tempos[0]]
    assert score.tempos[0].bpm == 120.0
    assert all(score.notes(name) for name in ("bass", "piano", "guitar", "drums"))
    plan, _, _, repeats = song_plan(sheet)
    grammar = LeadSheetGrammar(plan, key="C major", meter=(4, 4), tempo=120)
    for token in long_song.tokens[1:]:  # the joined windows are one lead sheet of the song
        grammar.check(TOKEN_ID[token])
        if token.startswith("Section_") and grammar.section in repeats:
            grammar.vocal_end = min(grammar.vocal_end, grammar.bar_tick)  # as a copy starts
    assert grammar.expect == "done"


def test_a_repeated_chorus_keeps_its_melody_in_a_later_window(long_song: Composition) -> None:
    assert long_song.summary["windows"] > 2  # the second chorus is in a later window
    tokens = long_song.tokens
    starts = [i for i, t in enumerate(tokens) if t.startswith("Section_")]
    bodies = [tokens[a + 1 : b - 1] for a, b in itertools.pairwise(starts)]
    first, again = bodies[2], bodies[5]
    assert first[: len(again)] == again[: len(first)] and len(first) > 10


@pytest.mark.slow
def test_the_same_seed_gives_the_same_long_song(
    small_window: Composer, long_song: Composition, capsys: pytest.CaptureFixture[str]
) -> None:
    again = compose(small_window, LONG_LYRICS, progress=True)
    assert "window" in capsys.readouterr().err  # a progress bar over the windows
    assert again.tokens == long_song.tokens
    assert again.score.to_dict() == long_song.score.to_dict()


def test_a_song_that_fits_one_window_is_sampled_as_before(tiny_composer: Path) -> None:
    composer = Composer.from_pretrained(tiny_composer)
    lyrics = "[verse]\nhello my friend\n\n[chorus]\nsing along\n"
    result = compose(composer, lyrics, seed=5)
    # What compose did before long songs: one sampling pass over the whole plan.
    plan, _, _, repeats = song_plan(parse_lyrics(lyrics))
    torch.manual_seed(5)
    grammar = LeadSheetGrammar(plan, key="C major", meter=(4, 4), tempo=120)
    scorer = LmScorer(composer.model, composer.conditions(parse_style(STYLE), None))
    ids = sample_tokens(scorer, grammar, np.random.default_rng(5), Sampling(), repeats=repeats)
    assert result.tokens == [VOCAB[i] for i in [TOKEN_ID["BOS"], *ids]]
    assert "windows" not in result.summary and result.summary["seed_used"] == 5


def test_long_sections_are_cut_at_line_ends() -> None:
    lines = [f"line number {word} is here" for word in ("one", "two", "three", "four", "five")]
    sheet = parse_lyrics("[chorus]\n" + "\n".join(lines) + "\n\n[bridge]\nshort one\n")
    parts = split_long_sections(sheet, limit=12)
    assert [p.label for p in parts.sections] == ["chorus", "chorus", "chorus", "bridge"]
    assert [len(p.lines) for p in parts.sections] == [2, 2, 1, 1]
    assert [s for p in parts.sections for s in p.syllables] == [
        s for section in sheet.sections for s in section.syllables
    ]


def test_lyrics_longer_than_half_an_hour_are_refused(small_window: Composer) -> None:
    lines = "\n".join(["la la la la la la la la"] * (MAX_SYLLABLES // 8 + 1))
    with pytest.raises(UserError, match="syllables"):
        compose(small_window, "[verse]\n" + lines)


@pytest.mark.parametrize("verb", ["compose", "generate"])
def test_absurd_lyrics_are_one_error_line(
    verb: str, run_cli, tiny_composer: Path, tmp_path: Path
) -> None:
    lyrics = tmp_path / "lyrics.txt"
    lyrics.write_text("\n".join(["la la la la la la la la"] * 500) + "\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(verb, "--lyrics", lyrics, "--checkpoint", tiny_composer, "-o", out)
    lines = result.err.strip().splitlines()
    assert result.code == 2 and len(lines) == 1 and lines[0].startswith("error:"), result.err
    assert "syllables" in lines[0] and not out.exists()
