"""How long the web UI's requests take: generate, edit and analyze through `gradio_client`
against a `seedmusic serve` started here, with the shipped checkpoints.

    python -m benchmarks.web [--lyrics-lines 2 4 8] [--url http://127.0.0.1:7860]

Prints one row per song length: the song's seconds and bars, and the wall-clock seconds of
`/generate` (compose + neural render with stems, no adherence), `/edit` (transpose two bars) and
`/analyze` (the generated song, notes on), each as the page sees it (queue, work, file transfer).
"""

from __future__ import annotations

import argparse
import re
import tempfile
import time
from pathlib import Path
from typing import Any

from gradio_client import Client, handle_file

from benchmarks.lyrics_lines import LINES
from seedmusic.web.launch import start_server


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--lyrics-lines", type=int, nargs="+", default=[2, 4, 8])
    parser.add_argument("--url", default=None, help="a running server (default: start one)")
    args = parser.parse_args()
    server, url = (None, args.url) if args.url else start_server()
    try:
        rows = [_measure(url, lines) for lines in args.lyrics_lines]
    finally:
        if server is not None:
            server.terminate()
            server.wait(timeout=60)
    print("| lyrics lines | song s | bars | generate s | edit 2 bars s | analyze s |")
    print("|---:|---:|---:|---:|---:|---:|")
    for row in rows:
        print(
            f"| {row['lines']} | {row['seconds']:.1f} | {row['bars']} | {row['generate']:.1f} | "
            f"{row['edit']:.1f} | {row['analyze']:.1f} |"
        )


def _measure(url: str, lines: int) -> dict[str, Any]:
    client = Client(url, verbose=False)
    lyrics = "[verse]\n" + "\n".join(LINES[i % len(LINES)] for i in range(lines))
    started = time.perf_counter()
    result = client.predict(
        lyrics=lyrics,
        style="folk, female vocal",
        tempo=0,
        key="model's choice",
        meter="model's choice",
        prompt="",
        seed=0,
        renderer="neural",
        adherence=False,
        api_name="/generate",
    )
    generated = time.perf_counter() - started
    song_wav = _path(result[0])
    readout = result[3]
    seconds = float(re.search(r"([\d.]+) s\*\*", readout).group(1))  # type: ignore[union-attr]
    bars = int(re.search(r"(\d+) bars", readout).group(1))  # type: ignore[union-attr]
    first = max(1, bars // 2)
    started = time.perf_counter()
    client.predict(
        first=first,
        last=min(bars, first + 1),
        operation="transpose",
        value="2",
        seed=0,
        api_name="/edit",
    )
    edited = time.perf_counter() - started
    copy = Path(tempfile.mkdtemp()) / "song.wav"
    copy.write_bytes(Path(song_wav).read_bytes())
    started = time.perf_counter()
    client.predict(
        upload=handle_file(str(copy)),
        lyrics="",
        notes=True,
        encoding="remi",
        language="en",
        api_name="/analyze",
    )
    analyzed = time.perf_counter() - started
    return {
        "lines": lines,
        "seconds": seconds,
        "bars": bars,
        "generate": generated,
        "edit": edited,
        "analyze": analyzed,
    }


def _path(value: Any) -> str:
    return str(value["path"] if isinstance(value, dict) else value)


if __name__ == "__main__":
    main()
