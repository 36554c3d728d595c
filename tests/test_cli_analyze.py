"""`seedmusic analyze` on good and bad input."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile

from tests.mir.synth import SAMPLE_RATE, chord_tones, click_track

OUTPUTS = {"analysis.json", "score.json", "score.mid", "score.png", "tokens.json"}


@pytest.fixture(scope="module")
def song_wav(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """8 s: C G Am F triads (2 s each) over 120 bpm clicks, stereo 48 kHz."""
    mix = chord_tones(["C:maj", "G:maj", "A:min", "F:maj"], 2.0) + 0.5 * click_track(120.0, 8.0)
    stereo = np.stack([mix, 0.8 * mix], axis=1)
    path = tmp_path_factory.mktemp("audio") / "song.flac"
    soundfile.write(path, stereo, SAMPLE_RATE)
    return path


@pytest.mark.parametrize("encoding", ["remi", "xval"])
def test_analyze_writes_every_output(
    run_cli, song_wav: Path, tmp_path: Path, encoding: str
) -> None:
    pytest.importorskip(
        f"score_tokens.{encoding}", reason=f"the {encoding} tokenizer is not written yet"
    )
    out = tmp_path / "out"
    result = run_cli("analyze", song_wav, "-o", out, "--format", encoding)
    assert result.code == 0, result.err
    assert {p.name for p in out.iterdir()} == OUTPUTS
    analysis = json.loads((out / "analysis.json").read_text())
    assert analysis["duration"] == pytest.approx(8.0, abs=0.01)
    assert abs(analysis["tempo"] - 120.0) < 2.4
    assert [c[2] for c in analysis["chords"]][:4] == ["C:maj", "G:maj", "A:min", "F:maj"]
    tokens = json.loads((out / "tokens.json").read_text())
    assert tokens["encoding"] == encoding and tokens["tokens"]
    if encoding == "xval":
        assert len(tokens["values"]) == len(tokens["tokens"])
    score = json.loads((out / "score.json").read_text())
    assert [c["root"] for c in score["chords"]][:4] == [0, 7, 9, 5]


def test_analyze_writes_analysis_and_score_files(
    run_cli, song_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The score files and analysis.json, independent of the tokenizers (stubbed here)."""
    from score_tokens.io import read_score
    from seedmusic.commands import analyze as command

    monkeypatch.setattr(
        command,
        "tokens_document",
        lambda score, encoding: {"encoding": encoding, "tokens": ["Bar"]},
    )
    out = tmp_path / "deep" / "out"
    result = run_cli("analyze", song_wav, "-o", out)
    assert result.code == 0, result.err
    assert {p.name for p in out.iterdir()} == OUTPUTS
    assert (out / "score.png").read_bytes()[:4] == b"\x89PNG"
    from_json, from_midi = read_score(out / "score.json"), read_score(out / "score.mid")
    assert [c.label for c in from_json.chords][:4] == ["C:maj", "G:maj", "A:min", "F:maj"]
    assert from_midi.time_signatures[0].numerator == 4
    analysis = json.loads((out / "analysis.json").read_text())
    assert len(analysis["beats"]) >= 12 and analysis["time_signature"] == "4/4"


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


@pytest.mark.parametrize(
    "case",
    ["missing", "random-bytes", "empty", "directory", "corrupt-header", "nan", "inf"],
)
def test_bad_audio_is_one_error_line_and_writes_nothing(run_cli, tmp_path: Path, case: str) -> None:
    header = tmp_path / "header.wav"
    soundfile.write(header, np.zeros(SAMPLE_RATE, dtype=np.float32), SAMPLE_RATE)
    data = bytearray(header.read_bytes())
    data[12:36] = b"\xff" * 24  # the fmt chunk: its id, size, format, channels and rates
    float_wav = np.sin(np.arange(SAMPLE_RATE) / 10.0).astype(np.float32)
    float_wav[100], float_wav[SAMPLE_RATE // 2] = np.nan, -np.inf
    soundfile.write(tmp_path / "nan.wav", float_wav, SAMPLE_RATE, subtype="FLOAT")
    float_wav[100] = np.inf
    soundfile.write(tmp_path / "inf.wav", float_wav, SAMPLE_RATE, subtype="FLOAT")
    inputs = {
        "nan": tmp_path / "nan.wav",
        "inf": tmp_path / "inf.wav",
        "corrupt-header": _write(tmp_path / "corrupt.wav", bytes(data)),
        "missing": tmp_path / "nope.wav",
        "random-bytes": _write(tmp_path / "noise.wav", np.random.default_rng(0).bytes(5000)),
        "empty": _write(tmp_path / "empty.ogg", b""),
        "directory": tmp_path,
    }
    out = tmp_path / "out"
    result = run_cli("analyze", inputs[case], "-o", out)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: cannot read audio")
    assert not out.exists()
    if case in ("nan", "inf"):
        assert "2 of its samples are NaN or infinite" in lines[0]


def test_output_that_is_a_file_is_an_error(run_cli, song_wav: Path, tmp_path: Path) -> None:
    target = _write(tmp_path / "taken", b"x")
    result = run_cli("analyze", song_wav, "-o", target)
    assert result.code == 2 and result.err.startswith("error: ") and "is a file" in result.err
    assert target.read_bytes() == b"x"


def test_a_failed_write_leaves_no_partial_output(
    run_cli, song_wav: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from score_tokens.errors import ScoreError
    from seedmusic.commands import analyze as command

    monkeypatch.setattr(
        command, "tokens_document", lambda score, encoding: {"encoding": encoding, "tokens": []}
    )

    def failing_write(score, path):  # fails on the second score file, after score.json
        if Path(path).name == "score.mid":
            raise ScoreError("disk full (simulated)")
        Path(path).write_text("{}")
        return Path(path)

    from seedmusic import outputs

    monkeypatch.setattr(outputs, "write_score", failing_write)
    existing = tmp_path / "existing"
    existing.mkdir()
    result = run_cli("analyze", song_wav, "-o", existing)
    assert result.code == 2 and "disk full" in result.err
    assert list(existing.iterdir()) == []
    result = run_cli("analyze", song_wav, "-o", tmp_path / "new")
    assert result.code == 2 and not (tmp_path / "new").exists()


def test_analyze_help_lists_the_outputs(run_cli) -> None:
    result = run_cli("analyze", "--help")
    assert result.code == 0 and "analysis.json" in result.out and "--format" in result.out


@pytest.fixture(scope="module")
def tiny_transcriber(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """An untrained tiny transcriber saved as a checkpoint folder."""
    import torch

    from mir.transcriber import Transcriber, TranscriberConfig

    torch.manual_seed(0)
    folder = tmp_path_factory.mktemp("transcriber")
    Transcriber(TranscriberConfig.tiny()).save_pretrained(folder)
    return folder


def test_notes_and_lyrics_come_from_the_transcriber(
    run_cli, song_wav: Path, tmp_path: Path, tiny_transcriber: Path
) -> None:
    words = tmp_path / "words.txt"
    words.write_text("Glory, glory, hallelujah\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli(
        "analyze", song_wav, "-o", out, "--transcriber", tiny_transcriber, "--lyrics", words
    )
    assert result.code == 0, result.err
    analysis = json.loads((out / "analysis.json").read_text())
    assert set(analysis["notes"]) == {"vocal", "piano", "guitar", "bass", "drums"}
    assert len(analysis["lyrics"]) <= len(analysis["notes"]["vocal"])
    for start, end, pitch in analysis["notes"]["piano"]:
        assert 0.0 <= start < end <= 8.1 and 21 <= pitch <= 108


def test_no_notes_skips_the_transcriber(run_cli, song_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("analyze", song_wav, "-o", out, "--no-notes", "--transcriber", tmp_path / "x")
    assert result.code == 0, result.err
    analysis = json.loads((out / "analysis.json").read_text())
    assert all(not notes for notes in analysis["notes"].values())


@pytest.mark.parametrize("case", ["missing", "not-a-checkpoint"])
def test_a_bad_transcriber_is_one_error_line(
    run_cli, song_wav: Path, tmp_path: Path, case: str
) -> None:
    folder = tmp_path / "transcriber"
    if case == "not-a-checkpoint":
        folder.mkdir()
        (folder / "config.json").write_text('{"format": "other"}')
    out = tmp_path / "out"
    result = run_cli("analyze", song_wav, "-o", out, "--transcriber", folder)
    assert result.code == 2
    assert result.err.strip().startswith("error:") and len(result.err.strip().splitlines()) == 1
    assert not out.exists()


def test_unreadable_lyrics_are_one_error_line(run_cli, song_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("analyze", song_wav, "-o", out, "--lyrics", tmp_path / "nope.txt")
    assert result.code == 2 and result.err.startswith("error:")
    assert not out.exists()


@pytest.mark.parametrize("case", ["silence", "a-tenth-of-a-second"])
def test_silence_and_tiny_clips_give_an_empty_analysis(run_cli, tmp_path: Path, case: str) -> None:
    seconds = 5.0 if case == "silence" else 0.1
    audio = np.zeros(int(seconds * 22050), dtype=np.float32)
    if case != "silence":
        audio[:] = 0.3 * np.sin(2 * np.pi * 440 * np.arange(audio.size) / 22050)
    path = tmp_path / "clip.wav"
    soundfile.write(path, audio, 22050)
    out = tmp_path / "out"
    result = run_cli("analyze", path, "-o", out, "--no-notes")
    assert result.code == 0, result.err
    analysis = json.loads((out / "analysis.json").read_text())
    assert analysis["duration"] == pytest.approx(seconds, abs=0.01)
    assert analysis["beats"] == [] and analysis["tempo"] is None
    assert {p.name for p in out.iterdir()} == OUTPUTS


def test_a_bad_asr_checkpoint_is_one_error_line(run_cli, song_wav: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    result = run_cli("analyze", song_wav, "-o", out, "--asr", tmp_path / "no-whisper")
    assert result.code == 2
    assert result.err.strip().startswith("error:") and len(result.err.strip().splitlines()) == 1
    assert "Whisper" in result.err
    assert not out.exists()


def test_asr_and_lyrics_together_are_refused(run_cli, song_wav: Path, tmp_path: Path) -> None:
    words = tmp_path / "words.txt"
    words.write_text("la la\n", encoding="utf-8")
    out = tmp_path / "out"
    result = run_cli("analyze", song_wav, "-o", out, "--lyrics", words, "--asr", tmp_path)
    assert result.code == 2 and "not allowed with" in result.err
    assert not out.exists()


def test_asr_with_a_local_whisper_checkpoint_runs(
    run_cli, song_wav: Path, tmp_path: Path, tiny_transcriber: Path
) -> None:
    from tests.mir.tiny_whisper import save_tiny_whisper

    whisper = save_tiny_whisper(tmp_path / "whisper")
    out = tmp_path / "out"
    result = run_cli(
        "analyze", song_wav, "-o", out, "--transcriber", tiny_transcriber, "--asr", whisper
    )
    assert result.code == 0, result.err
    analysis = json.loads((out / "analysis.json").read_text())
    assert len(analysis["lyrics"]) <= len(analysis["notes"]["vocal"])
