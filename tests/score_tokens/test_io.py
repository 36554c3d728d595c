"""read_score / write_score: dispatch by suffix, clear errors, atomic writes."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

import pytest

from score_tokens import Note, Score, ScoreError, read_score, write_score


@pytest.mark.parametrize("suffix", [".mid", ".midi", ".json", ".musicxml", ".xml"])
def test_every_writable_format_reads_back(small_score: Score, tmp_path: Path, suffix: str) -> None:
    path = write_score(small_score, tmp_path / f"song{suffix}")
    assert path == tmp_path / f"song{suffix}"
    back = read_score(path)
    assert back.notes("vocal") == small_score.notes("vocal")
    assert back.key == small_score.key
    assert list(tmp_path.iterdir()) == [path]  # no temporary files left behind


def test_json_round_trip_is_exact_and_readable(small_score: Score, tmp_path: Path) -> None:
    small_score.end_tick = 7000
    write_score(small_score, tmp_path / "song.json")
    assert read_score(tmp_path / "song.json") == small_score
    assert '"ó"' in (tmp_path / "song.json").read_text(encoding="utf-8")


@pytest.mark.parametrize(
    ("name", "payload", "message"),
    [
        ("song.wav", b"RIFF", "unknown score format '.wav'"),
        ("song", b"x", "unknown score format '\\(no suffix\\)'"),
        ("song.mid", b"", "the file is empty"),
        ("song.json", b"", "the file is empty"),
        ("song.json", b"{not json", "invalid JSON at line 1"),
        ("song.json", b"[1, 2]", "holds an object"),
        ("song.json", b'{"tracks": {}}', "malformed score JSON"),
        ("song.musicxml", b"<score-partwise><part-list>", "not a readable MusicXML file"),
        ("song.mid", b"MThd\x00\x00", "not a readable MIDI file"),
    ],
)
def test_bad_input_raises_one_line_score_error(
    tmp_path: Path, name: str, payload: bytes, message: str
) -> None:
    path = tmp_path / name
    path.write_bytes(payload)
    with pytest.raises(ScoreError, match=message) as caught:
        read_score(path)
    assert "\n" not in str(caught.value)


def test_missing_file_is_a_score_error(tmp_path: Path) -> None:
    with pytest.raises(ScoreError, match="does not exist"):
        read_score(tmp_path / "missing.mid")


def test_unknown_output_suffix_writes_nothing(small_score: Score, tmp_path: Path) -> None:
    with pytest.raises(ScoreError, match=r"unknown score format '\.wav'"):
        write_score(small_score, tmp_path / "song.wav")
    with pytest.raises(ScoreError, match="does not exist"):
        write_score(small_score, tmp_path / "no" / "song.mid")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("suffix", [".mid", ".json", ".png"])
def test_illegal_score_leaves_existing_file_untouched(
    small_score: Score, tmp_path: Path, suffix: str
) -> None:
    path = tmp_path / f"song{suffix}"
    path.write_bytes(b"keep me")
    small_score.tracks["bass"].notes.append(Note(0, 0, 40))
    with pytest.raises(ScoreError, match="duration must be positive"):
        write_score(small_score, path)
    assert path.read_bytes() == b"keep me"
    assert list(tmp_path.iterdir()) == [path]


def test_failing_writer_removes_its_temporary_file(small_score: Score, tmp_path: Path) -> None:
    small_score.ticks_per_beat = 40000  # legal score, but too fine for a MIDI file
    with pytest.raises(ScoreError, match="does not fit"):
        write_score(small_score, tmp_path / "song.mid")
    assert list(tmp_path.iterdir()) == []


def test_importing_score_tokens_io_does_not_import_torch() -> None:
    code = (
        "import sys, score_tokens, score_tokens.io, score_tokens.midi, score_tokens.musicxml, "
        "score_tokens.picture, score_tokens.jsonio; print('torch' in sys.modules)"
    )
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    )
    assert result.stdout.strip() == "False"


def test_a_write_removes_the_temporary_file_a_killed_write_left(
    small_score: Score, tmp_path: Path
) -> None:
    import os

    ended = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(ended.stdout)
    stale = tmp_path / f".score.{dead}.k3j2h1.tmp.json"  # SIGKILLed mid-write
    live = tmp_path / f".score.{os.getpid()}.a1b2c3.tmp.json"  # a write in progress: kept
    other = tmp_path / f".notes.{dead}.k3j2h1.tmp.json"  # another file's: kept
    for path in (stale, live, other):
        path.write_text("{")
    write_score(small_score, tmp_path / "score.json")
    assert not stale.exists() and live.exists() and other.exists()
    assert read_score(tmp_path / "score.json") == small_score
