"""The composer's final `Score`: never two notes of one pitch sounding at once on a track."""

from __future__ import annotations

from pathlib import Path

import pytest

import seedmusic.composer.pipeline as pipeline
from score_tokens.score import Note, Score
from seedmusic.composer.lyrics_input import parse_lyrics
from seedmusic.composer.pipeline import Composer, ComposeRequest
from seedmusic.composer.style import ComposeStyle, parse_style
from tests.score_tokens.conftest import make_small_score


def _same_pitch_overlaps(score: Score) -> list[tuple[str, int, int]]:
    """`(track, pitch, tick)` of each note that starts while one of its pitch still sounds."""
    found = []
    for name, track in score.tracks.items():
        ends: dict[int, int] = {}
        for note in sorted(track.notes, key=lambda n: n.tick):
            if note.tick < ends.get(note.pitch, -1):
                found.append((name, note.pitch, note.tick))
            ends[note.pitch] = max(ends.get(note.pitch, -1), note.end)
    return found


def test_a_composed_song_has_no_same_pitch_overlaps(
    tiny_composer: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    real_accompany = pipeline.accompany

    def overlapping_guitar(score: Score, style: str, seed: int) -> Score:
        band = real_accompany(score, style, seed)  # MMA's guitar can overlap itself, as here
        band.tracks["guitar"].notes += [Note(0, 960, 64), Note(480, 960, 64), Note(480, 240, 64)]
        return band.sort().validate()

    monkeypatch.setattr(pipeline, "accompany", overlapping_guitar)
    composer = Composer.from_pretrained(tiny_composer)
    request = ComposeRequest(
        parse_lyrics("[verse]\nhello my friend\n"), parse_style("pop, 120 bpm, C major, 4/4")
    )
    score = composer.compose(request).score
    assert _same_pitch_overlaps(score) == []
    assert (0, 480, 64) in [(n.tick, n.duration, n.pitch) for n in score.notes("guitar")]


def test_recomposed_bars_spliced_into_the_band_have_no_same_pitch_overlaps(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    score = make_small_score()
    score.tracks["guitar"].notes.append(Note(0, 2400, 53))  # rings into bar 2
    score.sort().validate()
    fresh = score.copy()
    fresh.tracks["guitar"].notes = [Note(1920, 960, 53)]  # bar 2 re-arranged
    monkeypatch.setattr(pipeline, "accompany", lambda *args: fresh)
    before = score.copy()
    result = pipeline._splice_band(score, score.copy(), 2, 2, ComposeStyle(), 0)
    assert _same_pitch_overlaps(result) == []
    assert [(n.tick, n.duration) for n in result.notes("guitar") if n.pitch == 53] == [
        (0, 1920),
        (1920, 960),
    ]
    assert score == before, "the song spliced into is left as it was"
