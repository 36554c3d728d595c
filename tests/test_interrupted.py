"""A verb stopped mid-way (SIGINT, SIGKILL) leaves no output behind, and running it again works.

The signal goes a few seconds after start, when the verb is past its imports and still at work
on half a minute of audio or a minute of song; where a machine is fast enough to have finished by then, the case is
skipped rather than passed.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf

from score_tokens.io import write_score
from seedmusic.data.example_song import example_song

pytestmark = pytest.mark.slow
REPO = Path(__file__).resolve().parents[1]
SIGNAL_AFTER_SECONDS = 4.0
INTERRUPTED = (130, -signal.SIGINT)
"""Exit statuses of a verb after Ctrl-C: `main` returns 130; a worker thread that was in a C
call can still let the interpreter end by the signal itself (seen once in CI, after the
"error: interrupted" line was written)."""


def _recording(path: Path, seconds: float = 30.0) -> Path:
    rate = 24_000
    t = np.arange(int(seconds * rate)) / rate
    notes = 220.0 * 2 ** (np.floor(t * 2) % 8 / 12)
    wave = 0.3 * np.sin(2 * np.pi * np.cumsum(notes) / rate) * np.exp(-4 * (t % 0.5))
    sf.write(str(path), wave, rate, subtype="PCM_16")
    return path


def _long_score(path: Path) -> Path:
    score = example_song()
    length = score.end_tick or score.bar_starts()[-1]
    longer = score.copy()
    for copy in range(1, 3):
        for name, track in score.tracks.items():
            longer.tracks[name].notes += [_moved(n, copy * length) for n in track.notes]
        longer.chords += [_moved(c, copy * length) for c in score.chords]
    longer.end_tick = 3 * length
    return write_score(longer.sort().validate(), path)


def _moved(item, shift: int):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(item, tick=item.tick + shift)


def _hear_ctrl_c() -> None:
    """In the child before exec: SIGINT back to its default, as in a terminal. A test run
    started in the background by a shell without job control inherits SIGINT ignored, and
    Python then never raises KeyboardInterrupt (the verb would run to its end)."""
    signal.signal(signal.SIGINT, signal.SIG_DFL)


def _stopped(argv: list[str], how: signal.Signals) -> subprocess.CompletedProcess[str]:
    process = subprocess.Popen(
        [sys.executable, "-m", "seedmusic", *argv],
        cwd=REPO,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        preexec_fn=_hear_ctrl_c,
    )
    time.sleep(SIGNAL_AFTER_SECONDS)
    if process.poll() is not None:
        process.communicate()
        pytest.skip("the verb finished before the signal")
    process.send_signal(how)
    out, err = process.communicate(timeout=120)
    return subprocess.CompletedProcess(argv, process.returncode, out, err)


def _leftovers(folder: Path) -> list[Path]:
    return sorted(p for p in folder.iterdir() if p.name != "input")


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_analyze_stopped_then_run_again(how: signal.Signals, tmp_path: Path) -> None:
    source = _recording(tmp_path / "take.wav")
    before = source.read_bytes()
    out = tmp_path / "analysis"
    argv = ["analyze", str(source), "-o", str(out)]
    stopped = _stopped(argv, how)
    if how == signal.SIGINT:
        assert stopped.returncode in INTERRUPTED and stopped.stderr.strip().endswith(
            "error: interrupted"
        )
        assert "Traceback" not in stopped.stderr
    else:
        assert stopped.returncode == -signal.SIGKILL
    assert not out.exists() and _leftovers(tmp_path) == [source]
    assert source.read_bytes() == before
    again = subprocess.run(
        [sys.executable, "-m", "seedmusic", *argv], cwd=REPO, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert {p.name for p in out.iterdir()} >= {"analysis.json", "score.json", "score.png"}


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_render_stopped_then_run_again(how: signal.Signals, tmp_path: Path) -> None:
    score = _long_score(tmp_path / "long.json")
    out = tmp_path / "song"
    argv = ["render", str(score), "--no-adherence", "--stems", "-o", str(out)]
    stopped = _stopped(argv, how)
    expected = INTERRUPTED if how == signal.SIGINT else (-signal.SIGKILL,)
    assert stopped.returncode in expected, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert not out.exists() and _leftovers(tmp_path) == [score]
    again = subprocess.run(
        [sys.executable, "-m", "seedmusic", *argv], cwd=REPO, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert (out / "song.wav").is_file() and (out / "stems" / "vocal.wav").is_file()


@pytest.mark.parametrize("how", [signal.SIGINT, signal.SIGKILL])
def test_data_build_stopped_then_run_again(how: signal.Signals, tmp_path: Path) -> None:
    out = tmp_path / "corpus"
    argv = ["data", "build", "--out", str(out), "--hours", "0.03", "--workers", "1"]
    stopped = _stopped(argv, how)
    expected = INTERRUPTED if how == signal.SIGINT else (-signal.SIGKILL,)
    assert stopped.returncode in expected, stopped.stderr
    assert "Traceback" not in stopped.stderr
    assert not (out / "manifest.jsonl").exists(), "no manifest of a build that did not finish"
    if how == signal.SIGINT:  # a SIGKILLed build cannot clean up: the next run does
        assert not list(out.glob("shards/*.tmp")), "an interrupted build leaves no half shard"
    again = subprocess.run(
        [sys.executable, "-m", "seedmusic", *argv], cwd=REPO, capture_output=True, text=True
    )
    assert again.returncode == 0, again.stderr[-2000:]
    assert not list(out.glob("shards/*.tmp"))
    manifest = (out / "manifest.jsonl").read_text().splitlines()
    assert manifest, "the rebuilt corpus lists its pieces"
    for line in manifest:
        piece = out / json.loads(line)["path"]
        assert (piece / "mix.flac").is_file() and (piece / "truth.json").is_file(), piece
