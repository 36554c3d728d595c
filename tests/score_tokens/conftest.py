"""Fixtures for the score conversion tests: a hand-written score and MIDI files we did not write."""

from __future__ import annotations

from pathlib import Path

import pytest

from score_tokens import Chord, Note, Score, Section, TempoChange, TimeSignature

CHORALES = ("bach/bwv66.6", "bach/bwv269", "bach/bwv347")


def make_small_score() -> Score:
    """Two bars of 4/4 at 97.3 bpm, then two bars of 3/4 at 60 bpm; every track, lyrics, chords."""
    score = Score(
        tempos=[TempoChange(0, 97.3), TempoChange(1920, 60.0)],
        time_signatures=[TimeSignature(0, 4, 4), TimeSignature(3840, 3, 4)],
        key="A minor",
        sections=[Section(0, "verse"), Section(3840, "chorus")],
        chords=[
            Chord(0, 1920, 9, "min"),
            Chord(1920, 960, 5, "maj7"),
            Chord(2880, 960, 4, "7"),
            Chord(3840, 2880, None),
        ],
    )
    score.tracks["vocal"].notes += [
        Note(0, 480, 69, 90, "Twin", ("T", "W", "IH1", "N")),
        Note(480, 480, 71, 90, "kle", ("K", "AH0", "L")),
        Note(960, 240, 72, 80, None),
        Note(1200, 720, 74, 85, "star", ("S", "T", "AA1", "R")),
        Note(3840, 1440, 76, 100, "ó", ("o",)),
    ]
    score.tracks["bass"].notes += [
        Note(0, 1920, 45, 100),
        Note(1920, 960, 41, 100),
        Note(3840, 1440, 40, 90),
    ]
    score.tracks["piano"].notes += [
        Note(0, 960, 57, 70),
        Note(0, 960, 60, 70),
        Note(0, 960, 64, 70),
        Note(480, 1440, 67, 60),
        Note(3840, 2880, 59, 65),
    ]
    score.tracks["guitar"].program = 27
    score.tracks["guitar"].notes += [Note(1920, 240, 53, 80), Note(2160, 240, 57, 80)]
    for bar in (0, 1920):
        score.tracks["drums"].notes += [Note(bar, 120, 36, 110), Note(bar + 960, 120, 38, 95)]
    score.tracks["drums"].notes.append(Note(3840, 120, 42, 60))
    return score.sort().validate()


@pytest.fixture
def small_score() -> Score:
    return make_small_score()


@pytest.fixture(scope="session")
def chorale_files(tmp_path_factory: pytest.TempPathFactory) -> list[tuple[Path, Path]]:
    """(MIDI, MusicXML) exports of a few Bach chorales from music21's bundled corpus."""
    from music21 import corpus

    folder = tmp_path_factory.mktemp("chorales")
    files = []
    for name in CHORALES:
        parsed = corpus.parse(name)
        stem = name.replace("/", "_")
        midi = Path(parsed.write("midi", fp=folder / f"{stem}.mid"))
        xml = Path(parsed.write("musicxml", fp=folder / f"{stem}.musicxml"))
        files.append((midi, xml))
    return files
