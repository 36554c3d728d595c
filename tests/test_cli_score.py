"""`seedmusic score convert` and `seedmusic score show` on good and bad input."""

from __future__ import annotations

from pathlib import Path

import pytest

from score_tokens import read_score, write_score
from tests.score_tokens.conftest import make_small_score


@pytest.mark.parametrize("target", ["song.json", "song.musicxml", "song.mid", "song.png"])
def test_convert_between_formats(run_cli, tmp_path: Path, target: str) -> None:
    source = write_score(make_small_score(), tmp_path / "in.mid")
    result = run_cli("score", "convert", source, tmp_path / target)
    assert result.code == 0, result.err
    assert (tmp_path / target).stat().st_size > 0
    if not target.endswith(".png"):
        assert read_score(tmp_path / target).notes("vocal") == make_small_score().notes("vocal")


def test_show_draws_a_png(run_cli, tmp_path: Path) -> None:
    source = write_score(make_small_score(), tmp_path / "in.json")
    result = run_cli("score", "show", source, "-o", tmp_path / "out.png")
    assert result.code == 0, result.err
    assert (tmp_path / "out.png").read_bytes()[:4] == b"\x89PNG"


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (("convert", "{dir}/missing.mid", "{dir}/out.json"), "does not exist"),
        (("convert", "{dir}/bad.mid", "{dir}/out.json"), "not a readable MIDI file"),
        (("convert", "{dir}/empty.json", "{dir}/out.mid"), "the file is empty"),
        (("convert", "{dir}/good.json", "{dir}/out.wav"), "unknown score format '.wav'"),
        (("show", "{dir}/good.json", "-o", "{dir}/out.jpg"), "name the output *.png"),
    ],
)
def test_bad_input_is_one_error_line_and_no_output(
    run_cli, tmp_path: Path, args: tuple[str, ...], message: str
) -> None:
    (tmp_path / "bad.mid").write_bytes(b"MThd\x00\x00\x00\x06junk")
    (tmp_path / "empty.json").write_bytes(b"")
    write_score(make_small_score(), tmp_path / "good.json")
    before = set(tmp_path.iterdir())
    result = run_cli("score", *[a.format(dir=tmp_path) for a in args])
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0]
    assert set(tmp_path.iterdir()) == before


def test_help_lists_the_subcommands(run_cli) -> None:
    result = run_cli("score", "--help")
    assert result.code == 0
    assert "convert" in result.out and "show" in result.out
