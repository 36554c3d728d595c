"""Varied-timbre renders: per-stem SoundFonts, program changes within a GM family, and the vocal
line played by a lead instrument; deterministic, and the stored score is the rendered one."""

from __future__ import annotations

import random
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from score_tokens.io import read_score
from seedmusic.data.build import BuildConfig, build
from seedmusic.data.corpus import Corpus
from seedmusic.data.example_song import example_song
from seedmusic.data.synth import HELD_OUT_SOUNDFONTS, TRAINING_SOUNDFONTS
from seedmusic.data.timbre import (
    FAMILY_PROGRAMS,
    LEAD_PROGRAMS,
    apply_programs,
    draw_timbre,
)
from seedmusic.errors import UserError


def _family_of(program: int) -> tuple[int, ...]:
    return next((f for f in FAMILY_PROGRAMS if program in f), ())


def test_one_soundfont_without_variety_is_the_plain_render() -> None:
    score = example_song()
    rng = random.Random(0)
    draw = draw_timbre(score, ("fluidr3",), 0.0, rng)
    assert draw.vocal == "sung" and not draw.programs
    assert set(draw.soundfonts) == {
        t for t in ("bass", "piano", "guitar", "drums") if score.notes(t)
    }
    assert set(draw.soundfonts.values()) == {"fluidr3"}
    assert rng.random() == random.Random(0).random(), "the plain render draws nothing"


def test_draws_are_seeded_and_stay_in_the_families() -> None:
    score = example_song()
    draws = [draw_timbre(score, TRAINING_SOUNDFONTS, 1.0, random.Random(s)) for s in range(40)]
    again = [draw_timbre(score, TRAINING_SOUNDFONTS, 1.0, random.Random(s)) for s in range(40)]
    assert draws == again
    fonts_used = {font for d in draws for font in d.soundfonts.values()}
    assert fonts_used == set(TRAINING_SOUNDFONTS)
    assert not fonts_used & set(HELD_OUT_SOUNDFONTS)
    for draw in draws:
        assert "drums" not in draw.programs
        for track, program in draw.programs.items():
            if track == "vocal":
                assert program in LEAD_PROGRAMS and draw.vocal == "instrument"
            else:
                assert program in _family_of(score.tracks[track].program)
        assert ("vocal" in draw.soundfonts) == (draw.vocal == "instrument")
    # variety 1: half of the vocals are played, every family track is re-drawn
    played = sum(d.vocal == "instrument" for d in draws)
    assert 8 <= played <= 32


def test_apply_programs_copies() -> None:
    score = example_song()
    draw = draw_timbre(score, TRAINING_SOUNDFONTS, 1.0, random.Random(3))
    changed = apply_programs(score, draw)
    for track, program in draw.programs.items():
        assert changed.tracks[track].program == program
        assert changed.tracks[track].notes == score.tracks[track].notes
    assert score.tracks["bass"].program == example_song().tracks["bass"].program


def test_bad_draw_arguments_raise() -> None:
    with pytest.raises(ValueError):
        draw_timbre(example_song(), (), 0.5, random.Random(0))
    with pytest.raises(ValueError):
        draw_timbre(example_song(), ("fluidr3",), 1.5, random.Random(0))


@pytest.fixture(scope="module")
def varied(tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("varied")
    config = BuildConfig(
        out=out,
        hours=0.001,
        workers=1,
        shard_size=2,
        soundfonts=TRAINING_SOUNDFONTS,
        timbre_variety=1.0,
    )
    build(config)
    return out


def test_a_varied_build_records_what_it_rendered(varied: Path) -> None:
    corpus = Corpus(varied)
    pieces = corpus.pieces()
    assert pieces
    for piece in pieces:
        stored = read_score(corpus.folder(piece) / "score.json")
        assert set(piece.soundfonts.values()) <= set(TRAINING_SOUNDFONTS)
        assert piece.vocal in ("sung", "instrument")
        if piece.vocal == "instrument":
            assert stored.tracks["vocal"].program in LEAD_PROGRAMS
        for stem in piece.stems:
            audio, _ = sf.read(corpus.stem_path(piece, stem))
            assert np.sqrt(np.mean(audio**2)) > 1e-4, f"{piece.id} {stem} is silent"


def test_other_timbre_settings_into_the_same_folder_are_refused(varied: Path) -> None:
    with pytest.raises(UserError, match="other settings"):
        build(BuildConfig(out=varied, hours=0.001, workers=1, shard_size=2))


def test_an_unknown_soundfont_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="unknown SoundFont"):
        build(BuildConfig(out=tmp_path / "c", hours=0.001, soundfonts=("nope",)))


def test_no_soundfont_is_a_user_error(tmp_path: Path) -> None:
    with pytest.raises(UserError, match="no SoundFont"):
        build(BuildConfig(out=tmp_path / "c", hours=0.001, soundfonts=()))
    assert not (tmp_path / "c").exists()
