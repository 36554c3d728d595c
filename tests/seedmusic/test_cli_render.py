"""`seedmusic render` and `seedmusic generate` with the exact synth renderer: the files, the
summary, stems that add up to the mix, the umask, determinism, adherence, and bad input."""

from __future__ import annotations

import json
import os
import sys
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import ModuleType
from typing import Any

import numpy as np
import pytest
import soundfile as sf

from score_tokens.io import write_score
from score_tokens.score import Score
from seedmusic.cli import main
from seedmusic.data.example_song import example_song
from seedmusic.outputs import write_all_or_nothing
from tests.seedmusic.tiny_neural import example_bars, tiny_checkpoints

STEMS = ("vocal", "accompaniment", "bass", "piano", "guitar", "drums")
SCORE_FILES = ("score.json", "score.mid", "score.musicxml", "score.png")


def short_song(bars: int) -> Score:
    """The example song's first `bars` bars (vocal with lyrics, bass, piano, guitar, drums)."""
    return example_bars(bars)


@pytest.fixture(scope="module")
def umask_022() -> Iterator[None]:
    previous = os.umask(0o022)
    yield
    os.umask(previous)


@pytest.fixture(scope="module")
def score_file(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("score") / "song.json"
    write_score(short_song(2), path)
    return path


def render(*args: str | Path) -> int:
    return main(["render", *map(str, args)])


@pytest.fixture(scope="module")
def rendered(umask_022: None, score_file: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    out = tmp_path_factory.mktemp("rendered") / "song"
    code = render(score_file, "-o", out, "--renderer", "synth", "--stems", "--no-adherence",
                  "--seed", "1")  # fmt: skip
    assert code == 0
    return out


def read(path: Path) -> np.ndarray:
    audio, rate = sf.read(path, dtype="float32")
    assert rate == 24000 and audio.ndim == 1
    return audio


def test_render_writes_the_song_its_stems_the_score_and_a_summary(rendered: Path) -> None:
    expected = {"song.wav", "summary.json", "stems", *SCORE_FILES}
    assert {path.name for path in rendered.iterdir()} == expected
    assert sorted(path.name for path in (rendered / "stems").iterdir()) == sorted(
        f"{name}.wav" for name in STEMS
    )
    assert [path.name for path in rendered.parent.iterdir()] == ["song"]  # no staging left
    summary = json.loads((rendered / "summary.json").read_text())
    assert summary["renderer"] == "synth" and summary["trained"] is True
    assert summary["sample_rate"] == 24000 and summary["seed"] == 1
    assert summary["stems"] == [f"stems/{name}.wav" for name in STEMS]
    assert summary["adherence"] is None and summary["timings"]["render"] > 0
    mix = read(rendered / "song.wav")
    assert summary["seconds"] == pytest.approx(len(mix) / 24000, abs=1e-3)
    assert summary["seconds"] == pytest.approx(short_song(2).duration_seconds() + 1.0, abs=0.01)


def test_the_stems_add_up_to_the_mix(rendered: Path) -> None:
    stems = {name: read(rendered / "stems" / f"{name}.wav") for name in STEMS}
    mix = read(rendered / "song.wav")
    assert all(np.abs(stem).max() > 0.01 for stem in stems.values())
    step = 1 / 32768  # one 16-bit step of rounding per file
    np.testing.assert_allclose(stems["vocal"] + stems["accompaniment"], mix, atol=3 * step)
    instruments = sum(stems[name] for name in ("bass", "piano", "guitar", "drums"))
    np.testing.assert_allclose(instruments, stems["accompaniment"], atol=5 * step)


def test_outputs_get_the_users_umask(rendered: Path) -> None:
    for path in [rendered, *rendered.rglob("*")]:
        mode = path.stat().st_mode & 0o777
        assert mode == (0o755 if path.is_dir() else 0o644), (path, oct(mode))


def test_the_same_seed_gives_the_same_song(
    rendered: Path, score_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "again"
    assert (
        render(score_file, "-o", out, "--renderer", "synth", "--no-adherence", "--seed", "1") == 0
    )
    assert (out / "song.wav").read_bytes() == (rendered / "song.wav").read_bytes()
    assert not (out / "stems").exists()


def test_rendering_into_an_existing_folder_replaces_its_files(
    score_file: Path, tmp_path: Path
) -> None:
    out = tmp_path / "song"
    (out / "stems").mkdir(parents=True)
    (out / "stems" / "old.wav").write_bytes(b"old")
    (out / "keep.txt").write_text("mine")
    assert render(score_file, "-o", out, "--renderer", "synth", "--stems", "--no-adherence") == 0
    assert (out / "keep.txt").read_text() == "mine"
    assert sorted(p.name for p in (out / "stems").iterdir()) == sorted(f"{s}.wav" for s in STEMS)
    assert not [p for p in out.iterdir() if p.name.startswith(".")]


@pytest.mark.slow
def test_adherence_reports_our_mir_on_the_song(umask_022: None, tmp_path: Path) -> None:
    source = tmp_path / "song.mid"
    write_score(short_song(4), source)  # MIDI: the words travel as lyric events
    out = tmp_path / "out"
    assert render(source, "-o", out, "--renderer", "synth") == 0
    summary = json.loads((out / "summary.json").read_text())
    adherence = summary["adherence"]
    metrics = adherence["metrics"]
    for name in ("beat_f", "downbeat_f", "tempo_accuracy", "key_weighted", "chord_majmin"):
        assert isinstance(metrics[name], float), name
    assert metrics["beat_f"] > 0.8 and metrics["chord_majmin"] > 0.5
    assert adherence["heard"]["time_signature"] == "4/4"
    if adherence["transcriber"]:
        assert {f"notes_{t}_onset_f1" for t in ("vocal", "bass", "drums")} <= set(metrics)
    assert set(summary["timings"]) == {"render", "adherence"}


@pytest.mark.slow
def test_generate_composes_and_renders(umask_022: None, tmp_path: Path) -> None:
    out = tmp_path / "out"
    code = main(["generate", "--lyrics", "[verse]\\nhello my friend\\n\\n[chorus]\\nsing along",
                 "--style", "pop, 120 bpm", "--seed", "2", "--renderer", "synth", "--stems",
                 "--no-adherence", "-o", str(out)])  # fmt: skip
    assert code == 0
    expected = {"song.wav", "stems", "summary.json", "tokens.json", *SCORE_FILES}
    assert {path.name for path in out.iterdir()} == expected
    summary = json.loads((out / "summary.json").read_text())
    assert summary["renderer"] == "synth" and summary["seed"] == 2
    assert summary["composer"]["syllables"] == 7 and summary["composer"]["seed"] == 2
    assert set(summary["timings"]) == {"compose", "render"}
    assert len(read(out / "song.wav")) == round(summary["seconds"] * 24000)
    assert (out / "stems" / "vocal.wav").stat().st_mode & 0o777 == 0o644


def _bad_inputs(folder: Path) -> dict[str, list[str]]:
    write_score(Score(), folder / "silent.mid")  # a MIDI file without notes
    (folder / "notes.txt").write_text("not a score")
    (folder / "broken.json").write_text("{not json")
    illegal = short_song(1).to_dict()
    illegal["tempos"][0]["bpm"] = 0
    (folder / "illegal.json").write_text(json.dumps(illegal))
    (folder / "song.json").write_text(json.dumps(short_song(1).to_dict()))
    (folder / "a_file").write_text("")
    render_synth = ["render", "--renderer", "synth", "--no-adherence"]
    return {
        "missing": [*render_synth, str(folder / "nope.json")],
        "no notes": [*render_synth, str(folder / "silent.mid")],
        "not a score": [*render_synth, str(folder / "notes.txt")],
        "corrupt": [*render_synth, str(folder / "broken.json")],
        "illegal": [*render_synth, str(folder / "illegal.json")],
        "bad renderer": ["render", "--renderer", "vinyl", str(folder / "song.json")],
        "output is a file": [
            *render_synth,
            str(folder / "song.json"),
            "-o",
            str(folder / "a_file"),
        ],
        "empty lyrics": ["generate", "--lyrics", "", "--style", "pop", "--renderer", "synth"],
        "no lyrics": ["generate", "--style", "pop", "--renderer", "synth"],
        "bad style": ["generate", "--lyrics", "la la", "--style", "dubstep", "--renderer", "synth"],
    }


@pytest.mark.parametrize(
    "case",
    ["missing", "no notes", "not a score", "corrupt", "illegal", "bad renderer",
     "output is a file", "empty lyrics", "no lyrics", "bad style"],
)  # fmt: skip
def test_bad_input_is_one_error_line_and_writes_nothing(
    case: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    args = _bad_inputs(tmp_path)[case]
    out = tmp_path / "out"
    if "-o" not in args:
        args += ["-o", str(out)]
    before = sorted(tmp_path.iterdir())
    try:
        code = main(args)
    except SystemExit as exc:  # argparse
        code = int(exc.code or 0)
    err = capsys.readouterr().err
    lines = err.strip().splitlines()
    assert code == 2 and len(lines) == 1 and lines[0].startswith("error:"), err
    assert sorted(tmp_path.iterdir()) == before  # nothing created, nothing staged


def test_a_write_removes_what_a_killed_write_left(tmp_path: Path) -> None:
    import subprocess

    gone = subprocess.run(
        [sys.executable, "-c", "import os; print(os.getpid())"],
        check=True,
        capture_output=True,
        text=True,
    )
    dead = int(gone.stdout)  # a process that has ended
    out = tmp_path / "song"
    beside = tmp_path / f".song.staging.{dead}.abc"  # killed while writing a new folder
    busy = tmp_path / f".song.staging.{os.getpid()}.xyz"  # a live writer's: kept
    other = tmp_path / f".other.staging.{dead}.abc"  # another output's: kept
    for folder in (beside, busy, other):
        (folder / "stems").mkdir(parents=True)
    write_all_or_nothing(out, {"a.txt": lambda p: p.write_text("a")})
    assert not beside.exists() and busy.exists() and other.exists()
    inside = out / f".song.staging.{dead}.def"  # killed while writing into an existing folder
    inside.mkdir()
    write_all_or_nothing(out, {"a.txt": lambda p: p.write_text("b")})
    assert not inside.exists() and (out / "a.txt").read_text() == "b"


def test_a_failed_write_leaves_nothing_behind(tmp_path: Path) -> None:
    def fail(path: Path) -> None:
        raise OSError("disk full")

    out = tmp_path / "new" / "song"
    with pytest.raises(OSError, match="disk full"):
        write_all_or_nothing(out, {"a.txt": lambda p: p.write_text("a"), "stems/b.wav": fail})
    assert list(tmp_path.iterdir()) == []
    existing = tmp_path / "old"
    existing.mkdir()
    (existing / "a.txt").write_text("old")
    with pytest.raises(OSError, match="disk full"):
        write_all_or_nothing(existing, {"a.txt": lambda p: p.write_text("new"), "b": fail})
    assert [p.name for p in existing.iterdir()] == ["a.txt"]
    assert (existing / "a.txt").read_text() == "old"


def test_a_score_with_only_some_tracks_renders_them(tmp_path: Path) -> None:
    score = short_song(1)
    score.tracks = {"bass": score.tracks["bass"]}  # as a JSON file naming one track reads
    source = tmp_path / "bass.json"
    source.write_text(json.dumps(score.to_dict()))
    out = tmp_path / "out"
    assert render(source, "-o", out, "--renderer", "synth", "--stems", "--no-adherence") == 0
    assert sorted(p.name for p in (out / "stems").iterdir()) == [
        "accompaniment.wav",
        "bass.wav",
        "vocal.wav",
    ]
    assert not read(out / "stems" / "vocal.wav").any()
    np.testing.assert_allclose(read(out / "stems" / "bass.wav"), read(out / "song.wav"), atol=1e-4)


def fake_neural_renderer(trained: bool, fail: Exception | None = None) -> ModuleType:
    """A stand-in `seedmusic.neural_render` with `render_neural`'s contract (no checkpoint)."""
    module = ModuleType("seedmusic.neural_render")

    def render_neural(
        score: Score,
        stems: bool = False,
        seed: int = 0,
        progress: bool | None = None,
        reference: Path | None = None,
    ) -> tuple[dict[str, np.ndarray], dict[str, Any]]:
        if fail is not None:
            raise fail
        length = round((score.duration_seconds() + 1.0) * 24000)
        wave = np.sin(np.arange(length, dtype=np.float32) * 0.05) * (seed + 1)
        audio = {"mix": 1.5 * wave}
        if stems:
            audio |= {"vocal": 0.5 * wave, "accompaniment": wave, "bass": 0.25 * wave}
        return audio, {"trained": trained, "timings": {"dit": 0.5, "vae": 0.25}}

    module.render_neural = render_neural  # type: ignore[attr-defined]
    return module


def test_the_neural_renderer_is_called_with_the_options(
    score_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setitem(sys.modules, "seedmusic.neural_render", fake_neural_renderer(False))
    out = tmp_path / "out"
    assert render(score_file, "-o", out, "--stems", "--no-adherence") == 0  # neural: the default
    summary = json.loads((out / "summary.json").read_text())
    assert summary["renderer"] == "neural" and summary["trained"] is False
    assert summary["timings"].keys() == {"render", "dit", "vae"}
    assert summary["stems"] == [f"stems/{name}.wav" for name in ("vocal", "accompaniment", "bass")]
    mix = read(out / "song.wav")
    assert 0.9 < np.abs(mix).max() <= 0.95 + 1e-4  # scaled, not clipped
    vocal, accompaniment = read(out / "stems/vocal.wav"), read(out / "stems/accompaniment.wav")
    np.testing.assert_allclose(vocal * 3, mix, atol=1e-3)
    np.testing.assert_allclose(accompaniment * 1.5, mix, atol=1e-3)


def test_a_missing_neural_checkpoint_is_one_error_line(
    score_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    from renderer.modeling import CheckpointError

    failing = fake_neural_renderer(True, CheckpointError("no DiT checkpoint at checkpoints/dit"))
    monkeypatch.setitem(sys.modules, "seedmusic.neural_render", failing)
    assert render(score_file, "-o", tmp_path / "out") == 2
    assert capsys.readouterr().err == "error: no DiT checkpoint at checkpoints/dit\n"
    assert not (tmp_path / "out").exists()


def test_the_real_neural_chain_renders_from_the_checkpoints_folder(
    umask_022: None, score_file: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(tiny_checkpoints(tmp_path / "checkpoints")))
    out = tmp_path / "out"
    assert render(score_file, "-o", out, "--stems", "--no-adherence", "--seed", "2") == 0
    summary = json.loads((out / "summary.json").read_text())
    assert summary["renderer"] == "neural"
    assert {"render", "dit", "vae", "load"} <= summary["timings"].keys()
    mix = read(out / "song.wav")  # 24 kHz although the tiny codec works at 8 kHz
    assert abs(len(mix) / 24000 - short_song(2).duration_seconds()) < 0.01
    vocal, accompaniment = read(out / "stems/vocal.wav"), read(out / "stems/accompaniment.wav")
    np.testing.assert_allclose(vocal + accompaniment, mix, atol=2e-4)
    again = tmp_path / "again"
    assert render(score_file, "-o", again, "--no-adherence", "--seed", "2") == 0
    assert render(score_file, "-o", tmp_path / "third", "--no-adherence", "--seed", "2") == 0
    assert (again / "song.wav").read_bytes() == (tmp_path / "third" / "song.wav").read_bytes()


def test_a_reference_recording_sets_the_sound_of_the_mix(
    umask_022: None,
    score_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tiny_checkpoints(tmp_path / "checkpoints", reference=True)
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(folder))
    rng = np.random.default_rng(0)
    quiet, loud = tmp_path / "quiet.wav", tmp_path / "loud.flac"
    noise = rng.uniform(-0.05, 0.05, size=(44100 * 2, 2))
    sf.write(quiet, noise, 44100)  # stereo 44.1 kHz: read as mono at the codec's rate
    sf.write(loud, noise[:, 0] * 16, 22050)
    songs = {}
    for name, ref in (("none", None), ("quiet", quiet), ("loud", loud)):
        args = ["-o", tmp_path / name, "--no-adherence", "--seed", "1"]
        assert render(score_file, *args, *(["--reference", ref] if ref else [])) == 0
        songs[name] = read(tmp_path / name / "song.wav")
    summary = json.loads((tmp_path / "loud" / "summary.json").read_text())
    assert summary["renderer_details"]["reference"] == str(loud)
    # the reference reaches the DiT (how much it changes is the trained model's business)
    assert not np.array_equal(songs["quiet"], songs["loud"])
    assert not np.array_equal(songs["none"], songs["quiet"])
    capsys.readouterr()
    bad = tmp_path / "bad.wav"
    bad.write_text("not audio")
    for args, message in (
        (["--reference", bad], "--reference: cannot read audio"),
        (["--reference", tmp_path / "missing.wav"], "is not a file"),
        (["--reference", quiet, "--stems"], "without --stems"),
        (["--reference", quiet, "--renderer", "synth"], "neural renderer"),
    ):
        out = tmp_path / "refused"
        assert render(score_file, "-o", out, "--no-adherence", *args) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and message in err and err.count("\n") == 1, err
        assert not out.exists()
    plain = tiny_checkpoints(tmp_path / "plain")
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(plain))
    assert render(score_file, "-o", tmp_path / "refused", "--reference", quiet) == 2
    assert "reads no reference" in capsys.readouterr().err
    # generate refuses it before composing (this folder has no composer at all)
    lyrics = tmp_path / "lyrics.txt"
    lyrics.write_text("[verse]\nla la la la\n")
    args = ["generate", "--lyrics", lyrics, "--style", "pop", "--reference", quiet]
    assert main([str(a) for a in [*args, "-o", tmp_path / "refused"]]) == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "reads no reference" in err, err
    assert not (tmp_path / "refused").exists()


def test_a_dit_that_does_not_fit_the_codec_is_one_error_line(
    score_file: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    folder = tiny_checkpoints(tmp_path / "checkpoints", latent_dim=16)
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(folder))
    assert render(score_file, "-o", tmp_path / "out", "--no-adherence") == 2
    err = capsys.readouterr().err
    assert err.startswith("error:") and "16-channel latents" in err and err.count("\n") == 1
    assert not (tmp_path / "out").exists()


def test_songs_over_twelve_minutes_get_no_musicxml(caplog: pytest.LogCaptureFixture) -> None:
    from seedmusic.outputs import NOTATION_MAX_SECONDS, SCORE_FILES, score_writers

    short = example_song()
    assert set(score_writers(short)) == set(SCORE_FILES)
    long = short.copy()
    long.tempos = [replace(long.tempos[0], bpm=long.tempos[0].bpm / 40)]
    assert long.duration_seconds() > NOTATION_MAX_SECONDS
    with caplog.at_level("WARNING"):
        writers = score_writers(long)
    assert set(writers) == set(SCORE_FILES) - {"score.musicxml"}
    assert "seedmusic score convert" in caplog.text
