"""Peak memory and time of each verb as the audio gets longer.

    python -m benchmarks.memory [--minutes 1 10 60] [--threads 2] [--verbs analyze codec ...]

Builds the inputs here (nothing is downloaded): the example song rendered by the synth renderer
and tiled to each length, as 44.1 kHz stereo (a recording, for `analyze` and `codec`) and as a
song folder (24 kHz mono with the tiled score, for `edit`); the tiled score (for `render`); and
lyrics of as many lines as the length needs (for `generate`, whose composer writes a song longer
than its window in several windows). Each verb runs in a fresh Python process (`--child`), which
reports its own peak RSS (`ru_maxrss`) and wall time; the table has one row per verb and length.
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np

from benchmarks.lyrics_lines import LINES

VERBS = ("analyze", "codec", "render", "edit", "generate")
SECONDS_PER_LINE = 5.0
"""About how long the composer makes one lyric line in a folk song (with its share of intro and
outro): 120 lines came out as 9.8 minutes."""


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--minutes", type=float, nargs="+", default=[1.0, 10.0])
    parser.add_argument("--threads", type=int, default=2)
    parser.add_argument("--verbs", nargs="+", choices=VERBS, default=list(VERBS))
    parser.add_argument("--work", type=Path, default=None, help="keep the inputs here")
    parser.add_argument("--child", nargs=argparse.REMAINDER, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child:
        _child(args.child)
        return
    work = args.work or Path(tempfile.mkdtemp(prefix="seedmusic-memory-"))
    work.mkdir(parents=True, exist_ok=True)
    base = _base_song(work)
    rows = []
    for minutes in args.minutes:
        inputs = _inputs(work, base, minutes)
        for verb in args.verbs:
            for name, argv in _commands(verb, inputs, work / f"out-{minutes:g}-{verb}"):
                result = _run(argv, args.threads)
                summary = Path(argv[-1]) / "summary.json"
                if verb in ("generate", "render") and summary.is_file():  # what was made
                    result["minutes"] = json.loads(summary.read_text())["seconds"] / 60
                rows.append((name, result.get("minutes", minutes), result))
                print(f"{name} {minutes:g} min: {result}", file=sys.stderr, flush=True)
    print(f"| verb | audio min | peak RSS GB | wall s | exit |  ({args.threads} threads)")
    print("|---|---:|---:|---:|---:|")
    for name, minutes, result in rows:
        print(
            f"| {name} | {minutes:.1f} | {result['rss_gb']:.2f} | {result['seconds']:.1f} | "
            f"{result['code']} |"
        )


def _child(argv: list[str]) -> None:
    """Run `seedmusic ARGV` in this process and print its peak RSS and wall time as JSON."""
    from seedmusic.cli import main

    started = time.perf_counter()
    code = main(argv)
    seconds = time.perf_counter() - started
    peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
    print(json.dumps({"code": code, "seconds": seconds, "rss_gb": peak_kb / 1e6}))


def _run(argv: list[str], threads: int) -> dict[str, float]:
    env = {**os.environ, "OMP_NUM_THREADS": str(threads), "MKL_NUM_THREADS": str(threads)}
    done = subprocess.run(
        [sys.executable, "-m", "benchmarks.memory", "--child", *argv],
        capture_output=True,
        text=True,
        env=env,
    )
    lines = [line for line in done.stdout.splitlines() if line.startswith("{")]
    if not lines:
        tail = done.stderr.strip().splitlines()[-3:]
        return {
            "code": done.returncode,
            "seconds": float("nan"),
            "rss_gb": float("nan"),
            "why": tail,
        }  # type: ignore[dict-item]
    return dict(json.loads(lines[-1]))


def _base_song(work: Path) -> Path:
    """The example song, rendered once by the synth renderer: a folder with song.wav and score.json."""
    from score_tokens.io import write_score
    from seedmusic.data.example_song import example_song

    folder = work / "base"
    if not (folder / "song.wav").is_file():
        score = write_score(example_song(), work / "example.json")
        code = subprocess.run(
            [
                sys.executable,
                "-m",
                "seedmusic",
                "render",
                str(score),
                "--renderer",
                "synth",
                "--no-adherence",
                "-o",
                str(folder),
            ],
            check=False,
        ).returncode
        if code != 0:
            raise SystemExit("could not render the example song")
    return folder


def _inputs(work: Path, base: Path, minutes: float) -> dict[str, Path]:
    """The inputs of every verb for a song of `minutes` (see the module docstring)."""
    import librosa
    import soundfile as sf

    from score_tokens.io import read_score, write_score

    tag = f"{minutes:g}min"
    song = work / f"song-{tag}"
    recording = work / f"recording-{tag}.wav"
    lyrics = work / f"lyrics-{tag}.txt"
    score = read_score(base / "score.json")
    audio, rate = sf.read(str(base / "song.wav"), dtype="float32")  # [S]
    copies = max(1, round(minutes * 60 / (len(audio) / rate)))
    if not (song / "song.wav").is_file():
        song.mkdir(parents=True, exist_ok=True)
        write_score(_tiled(score, copies), song / "score.json")
        sf.write(str(song / "song.wav"), np.tile(audio, copies), rate, subtype="PCM_16")
    if not recording.is_file():
        wide = librosa.resample(audio, orig_sr=rate, target_sr=44_100)
        stereo = np.stack([wide, np.roll(wide, 441)], axis=1)  # [S, 2]
        sf.write(str(recording), np.tile(stereo, (copies, 1)), 44_100, subtype="PCM_16")
    count = max(2, round(minutes * 60 / SECONDS_PER_LINE))
    stanzas = [LINES[i % len(LINES)] for i in range(count)]
    text = "\n\n".join(
        "[verse]\n" + "\n".join(stanzas[i : i + 4]) for i in range(0, len(stanzas), 4)
    )
    lyrics.write_text(text + "\n", encoding="utf-8")
    return {"song": song, "recording": recording, "lyrics": lyrics}


def _tiled(score, copies: int):  # type: ignore[no-untyped-def]
    """`score` played `copies` times in a row (one tempo and meter, as the example song has)."""
    length = score.bar_starts()[-1] + score.bar_length(score.time_signatures[-1])
    out = score.copy()
    for copy in range(1, copies):
        shift = copy * length
        for name, track in score.tracks.items():
            out.tracks[name].notes += [_moved(n, shift) for n in track.notes]
        out.chords += [_moved(c, shift) for c in score.chords]
        out.sections += [_moved(s, shift) for s in score.sections]
    out.end_tick = copies * length
    return out.sort().validate()


def _moved(item, shift: int):  # type: ignore[no-untyped-def]
    from dataclasses import replace

    return replace(item, tick=item.tick + shift)


def _commands(verb: str, inputs: dict[str, Path], out: Path) -> list[tuple[str, list[str]]]:
    recording, song = str(inputs["recording"]), str(inputs["song"])
    if verb == "analyze":
        return [("analyze", ["analyze", recording, "-o", str(out)])]
    if verb == "codec":
        codes = str(out) + ".npz"
        return [
            ("codec encode", ["codec", "encode", recording, "-o", codes]),
            ("codec decode", ["codec", "decode", codes, "-o", str(out) + ".wav"]),
        ]
    if verb == "render":
        score = str(inputs["song"] / "score.json")
        return [("render (neural)", ["render", score, "--no-adherence", "-o", str(out)])]
    if verb == "edit":
        return [("edit (bars 3-6)", ["edit", song, "--transpose", "3-6:2", "-o", str(out)])]
    lyrics = str(inputs["lyrics"])
    return [
        (
            "generate",
            ["generate", "--lyrics", lyrics, "--style", "folk", "--no-adherence", "-o", str(out)],
        )
    ]


if __name__ == "__main__":
    main()
