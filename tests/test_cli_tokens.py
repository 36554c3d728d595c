"""`seedmusic tokenize` / `detokenize`: file formats, round trips and one-line errors."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from score_tokens.io import read_score, write_score
from score_tokens.remi import RemiTokenizer
from tests.score_tokens.conftest import make_small_score


@pytest.fixture
def score_json(tmp_path: Path) -> Path:
    return write_score(make_small_score(), tmp_path / "song.json")


@pytest.mark.parametrize("encoding", ["remi", "xval"])
def test_tokenize_then_detokenize_round_trips(
    run_cli, score_json: Path, tmp_path: Path, encoding: str
) -> None:
    tokens_path = tmp_path / "tokens.json"
    result = run_cli("tokenize", score_json, "--encoding", encoding, "-o", tokens_path)
    assert result.code == 0, result.err
    document = json.loads(tokens_path.read_text())
    assert document["encoding"] == encoding and document["tokens"][:2] == ["BOS", "Key_A_minor"]
    if encoding == "xval":
        assert len(document["values"]) == len(document["tokens"])
        assert document["values"][0] is None and 97.3 in document["values"]
    else:
        assert "values" not in document
    out = tmp_path / "back.json"
    result = run_cli("detokenize", tokens_path, "-o", out)
    assert result.code == 0, result.err
    original, back = make_small_score(), read_score(out)
    if encoding == "remi":  # the default REMI config quantizes velocity and tempo
        original = RemiTokenizer().decode(RemiTokenizer().encode(original))
    assert back.tracks["vocal"].notes == original.tracks["vocal"].notes
    assert back.chords == original.chords and back.tempos == original.tempos


def test_tokenize_midi_and_detokenize_to_midi(run_cli, tmp_path: Path) -> None:
    midi = write_score(make_small_score(), tmp_path / "song.mid")
    result = run_cli("tokenize", midi, "-o", tmp_path / "t.json")
    assert result.code == 0, result.err
    result = run_cli("detokenize", tmp_path / "t.json", "-o", tmp_path / "back.mid")
    assert result.code == 0, result.err
    assert read_score(tmp_path / "back.mid").tracks["bass"].notes


@pytest.mark.parametrize(
    ("content", "message"),
    [
        (
            '{"encoding": "remi", "tokens": ["Bar", "Pitch_60"]}',
            "token 1: a note before any Position",
        ),
        ('{"encoding": "remi", "tokens": ["Bar", "Nonsense_3"]}', "token 1: unknown token"),
        ('{"encoding": "remi", "tokens": ["Bar", 7]}', "list of strings"),
        ('{"encoding": "midi", "tokens": []}', "encoding"),
        ('{"encoding": "xval", "tokens": ["Bar"], "values": []}', "as long as"),
        (
            '{"encoding": "xval", "tokens": ["Bar", "Onset", "[NUM]"], "values": [null, null, 1e9]}',
            "outside 0..64",
        ),
        ("not json", "not a JSON token file"),
    ],
)
def test_garbled_token_files_give_one_error_line(
    run_cli, tmp_path: Path, content: str, message: str
) -> None:
    path = tmp_path / "bad.json"
    path.write_text(content)
    out = tmp_path / "out.mid"
    result = run_cli("detokenize", path, "-o", out)
    assert result.code == 2
    assert result.err.startswith("error: ") and result.err.count("\n") == 1
    assert message in result.err
    assert not out.exists() and list(tmp_path.iterdir()) == [path]


def test_missing_input_and_wrong_suffix(run_cli, score_json: Path, tmp_path: Path) -> None:
    result = run_cli("detokenize", tmp_path / "absent.json", "-o", tmp_path / "x.mid")
    assert result.code == 2 and result.err.startswith("error: ")
    result = run_cli("tokenize", score_json, "-o", tmp_path / "tokens.txt")
    assert result.code == 2 and "*.json" in result.err
    assert not (tmp_path / "tokens.txt").exists()


def test_detokenize_to_musicxml_writes_the_notation_copy(run_cli, tmp_path: Path) -> None:
    score = make_small_score()
    score.tracks["vocal"].notes[2].tick = 967  # off the 1/12-beat grid; xVal keeps it
    tokens_path = tmp_path / "t.json"
    result = run_cli(
        "tokenize",
        write_score(score, tmp_path / "song.json"),
        "--encoding",
        "xval",
        "-o",
        tokens_path,
    )
    assert result.code == 0, result.err
    result = run_cli("detokenize", tokens_path, "-o", tmp_path / "back.musicxml")
    assert result.code == 0, result.err
    back = read_score(tmp_path / "back.musicxml")
    grid = back.ticks_per_beat // 12
    assert [note.tick for note in back.tracks["vocal"].notes] == [0, 480, 960, 1200, 3840]
    assert all(n.tick % grid == 0 for track in back.tracks.values() for n in track.notes)
