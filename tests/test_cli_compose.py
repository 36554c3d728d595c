"""`seedmusic compose`: the files it writes, determinism, re-composing bars, and bad input."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from score_tokens.io import read_score
from seedmusic.composer.lyrics_input import parse_lyrics

LYRICS = "[verse]\nhello my friend\n\n[chorus]\nsing along\n\n[verse]\ngoodbye my friend\n\n[chorus]\nsing along\n"
FILES = ("score.json", "score.mid", "score.musicxml", "score.png", "tokens.json", "summary.json")


def compose(*args: str | Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "seedmusic", "compose", *map(str, args)],
        capture_output=True,
        text=True,
        timeout=600,
    )


@pytest.fixture(scope="module")
def composed(tiny_composer: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("song")
    lyrics = out.parent / "lyrics.txt"
    lyrics.write_text(LYRICS, encoding="utf-8")
    result = compose(
        "--lyrics", lyrics, "--style", "folk, male vocal, 3/4, 92 bpm, D major",
        "--seed", "5", "--checkpoint", tiny_composer, "-o", out,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    return out


@pytest.mark.slow
def test_compose_writes_a_song_whose_every_syllable_is_sung(composed: Path) -> None:
    assert sorted(p.name for p in composed.iterdir()) == sorted(FILES)
    score = read_score(composed / "score.json")
    sung = [n.lyric for n in score.notes("vocal") if n.lyric]
    expected = [syl.text for sec in parse_lyrics(LYRICS).sections for syl in sec.syllables]
    assert sung == expected and len(sung) == 14
    assert score.key == "D major" and score.tempos[0].bpm == 92.0
    assert (score.time_signatures[0].numerator, score.time_signatures[0].denominator) == (3, 4)
    assert [s.label for s in score.sections] == [
        "intro",
        "verse",
        "chorus",
        "verse",
        "chorus",
        "outro",
    ]
    assert all(score.notes(name) for name in ("bass", "piano", "guitar", "drums"))
    summary = json.loads((composed / "summary.json").read_text())
    assert summary["genre"] == "folk" and summary["syllables"] == 14
    midi = read_score(composed / "score.mid")
    assert [n.lyric for n in midi.notes("vocal") if n.lyric] == sung


@pytest.mark.slow
def test_the_same_seed_gives_identical_files(
    composed: Path, tiny_composer: Path, tmp_path: Path
) -> None:
    lyrics = composed.parent / "lyrics.txt"
    result = compose(
        "--lyrics", lyrics, "--style", "folk, male vocal, 3/4, 92 bpm, D major",
        "--seed", "5", "--checkpoint", tiny_composer, "-o", tmp_path,
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    for name in ("score.json", "score.mid", "tokens.json"):
        assert (tmp_path / name).read_bytes() == (composed / name).read_bytes(), name


@pytest.mark.slow
def test_recompose_keeps_everything_outside_the_bars(
    composed: Path, tiny_composer: Path, tmp_path: Path
) -> None:
    original = read_score(composed / "score.json")
    result = compose(
        "--from",
        composed / "score.json",
        "--bars",
        "3-4",
        "--seed",
        "2",
        "--checkpoint",
        tiny_composer,
        "-o",
        tmp_path,
    )
    assert result.returncode == 0, result.stderr
    edited = read_score(tmp_path / "score.json")
    starts = original.bar_starts()
    lo, hi = starts[2], starts[4]

    def outside(score, track):  # type: ignore[no-untyped-def]
        return [(n.tick, n.pitch, n.lyric) for n in score.notes(track) if not lo <= n.tick < hi]

    for track in ("vocal", "bass", "drums"):
        assert outside(edited, track) == outside(original, track)
    assert [n.lyric for n in edited.notes("vocal") if n.lyric] == [
        n.lyric for n in original.notes("vocal") if n.lyric
    ]
    assert json.loads((tmp_path / "summary.json").read_text())["recomposed_bars"] == [3, 4]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--lyrics", "", "--style", "pop"], "no words"),
        (["--lyrics", "[verse]\n[chorus]", "--style", "pop"], "error:"),
        (["--lyrics", "la la la", "--style", "dubstep"], "dubstep"),
        (["--lyrics", "la la la", "--tempo", "0"], "tempo"),
        (["--lyrics", "la la la", "--style", "pop, 0 bpm"], "tempo"),
        (["--lyrics", "la la la", "--meter", "7/4"], "7/4"),
        (["--from", "NOT_A_SCORE", "--bars", "1-2"], "error:"),
        (["--lyrics", "la la la", "--bars", "1-2"], "--from"),
        (["--style", "pop"], "--lyrics"),
    ],
)
def test_bad_input_is_one_error_line_and_writes_nothing(
    args: list[str], message: str, tiny_composer: Path, tmp_path: Path
) -> None:
    args = [str(tmp_path / "bad.json") if a == "NOT_A_SCORE" else a for a in args]
    if "--from" in args:
        (tmp_path / "bad.json").write_text("{not a score", encoding="utf-8")
    out = tmp_path / "out"
    result = compose(*args, "--checkpoint", tiny_composer, "-o", out)
    assert result.returncode == 2
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.stderr
    assert not out.exists()


def test_a_checkpoint_of_another_model_is_one_error_line(tmp_path: Path) -> None:
    codec = Path(__file__).resolve().parents[1] / "checkpoints" / "transcriber"
    result = compose("--lyrics", "la la", "--checkpoint", codec, "-o", tmp_path / "out")
    assert result.returncode == 2 and result.stderr.startswith("error:")
    assert not (tmp_path / "out").exists()
