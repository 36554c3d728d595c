"""Score <-> MusicXML through music21."""

from __future__ import annotations

from pathlib import Path

import pytest
from music21 import converter, harmony

from score_tokens import Chord, Score, read_score, write_score
from score_tokens.musicxml import score_from_music21, score_to_music21


def test_score_to_musicxml_to_score_is_exact(small_score: Score, tmp_path: Path) -> None:
    write_score(small_score, tmp_path / "song.musicxml")
    assert read_score(tmp_path / "song.musicxml") == small_score


def test_music21_objects_round_trip_in_memory(small_score: Score) -> None:
    assert score_from_music21(score_to_music21(small_score)) == small_score


def test_export_has_named_parts_chord_symbols_and_lyrics(
    small_score: Score, tmp_path: Path
) -> None:
    write_score(small_score, tmp_path / "song.xml")
    parsed = converter.parse(str(tmp_path / "song.xml"))
    assert [p.partName for p in parsed.parts] == ["vocal", "bass", "piano", "guitar", "drums"]
    symbols = [s.figure for s in parsed.parts[0].flatten().getElementsByClass(harmony.Harmony)]
    assert symbols[:3] == ["Am", "Fmaj7", "E7"]
    lyrics = [n.lyrics[0].text for n in parsed.parts[0].flatten().notes if n.lyrics]
    assert lyrics[:2] == ["Twin", "kle"]


@pytest.mark.parametrize(
    "quality", ["maj", "min", "dim", "aug", "sus2", "sus4", "7", "maj7", "min7", "hdim7", "dim7"]
)
def test_every_chord_quality_survives(small_score: Score, quality: str) -> None:
    small_score.chords[0] = Chord(0, 1920, 10, quality)
    assert score_from_music21(score_to_music21(small_score)).chords == small_score.chords


def test_chorales_import_with_parts_on_tracks(
    chorale_files: list[tuple[Path, Path]], tmp_path: Path
) -> None:
    for _, xml_path in chorale_files:
        score = read_score(xml_path)
        parsed = converter.parse(str(xml_path))
        # soprano -> vocal, alto + tenor -> piano, bass -> bass; every sounding note is kept
        expected = {
            "vocal": len(parsed.parts[0].stripTies().flatten().notes),
            "bass": len(parsed.parts[-1].stripTies().flatten().notes),
        }
        assert {track: len(score.notes(track)) for track in expected} == expected
        assert score.num_notes() > 100
        write_score(score, tmp_path / "again.musicxml")
        again = read_score(tmp_path / "again.musicxml")
        assert again == score


def test_compressed_mxl_is_read(small_score: Score, tmp_path: Path) -> None:
    score_to_music21(small_score).write("mxl", fp=tmp_path / "song.mxl")
    assert read_score(tmp_path / "song.mxl").notes("bass") == small_score.notes("bass")


def test_another_files_second_lyric_line_is_a_lyric_not_phonemes() -> None:
    from music21 import corpus

    from score_tokens.musicxml import score_from_music21

    # bwv10.7 carries its only verse on lyric line 2.
    vocal = score_from_music21(corpus.parse("bach/bwv10.7")).notes("vocal")
    assert sum(1 for n in vocal if n.lyric) > 30
    assert not any(n.phonemes for n in vocal)
