"""What the web UI shows besides audio and score pictures: the A/B picture of an edit, and the
readouts of a song's summary and of an analysis (Markdown)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from seedmusic.inputs import read_audio

ENVELOPE_POINTS = 2000
"""Columns of the A/B waveform envelope."""


def ab_picture(before: Path, after: Path, spans: list[dict[str, Any]], out: Path) -> Path:
    """Draw the waveforms of the song before (A) and after (B) an edit, one above the other,
    with the re-rendered spans shaded and labelled by their bars; write a PNG to `out`."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(2, 1, figsize=(10, 3.4), sharex=True, dpi=100)
    for ax, path, label in zip(axes, (before, after), ("A: before", "B: after"), strict=True):
        times, low, high = _envelope(path)
        ax.fill_between(times, low, high, color="#4a6fa5", linewidth=0)
        ax.set_ylabel(label, rotation=0, ha="right", va="center")
        ax.set_yticks([])
        ax.set_ylim(-1.05, 1.05)
        for span in spans:
            ax.axvspan(
                span["start"], span["end"], color="#f2a541", alpha=0.35, linewidth=0, zorder=0
            )
    for span in spans:
        first, last = span["bars"]
        text = f"bar {first}" if first == last else f"bars {first}-{last}"
        axes[0].text(
            (span["start"] + span["end"]) / 2, 1.0, text, ha="center", va="bottom", fontsize=9
        )
    axes[1].set_xlabel("seconds")
    fig.tight_layout()
    fig.savefig(out)
    plt.close(fig)
    return out


def _envelope(path: Path) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """`(times, minima, maxima)` of the mono mix of `path` over `ENVELOPE_POINTS` columns
    (read through the input gate: a `UserError` for audio it refuses)."""
    audio = read_audio(path)
    mono, rate = audio.samples, audio.sample_rate  # [S]
    columns = max(1, min(ENVELOPE_POINTS, mono.size))
    edges = np.linspace(0, mono.size, columns + 1).astype(int)  # [columns + 1]
    starts = edges[:-1]
    low = np.minimum.reduceat(mono, starts)  # [columns]
    high = np.maximum.reduceat(mono, starts)
    peak = max(float(np.abs(mono).max()), 1e-9)
    return edges[:-1] / rate, low / peak, high / peak


def song_readout(summary: dict[str, Any], bars: int) -> str:
    """Markdown: length, renderer, timings and how well our MIR hears the score in the song."""
    lines = [
        f"**{summary.get('seconds', 0):.1f} s**, {bars} bars, "
        f"{summary.get('renderer', '?')} renderer, seed {summary.get('seed', 0)}"
    ]
    timings = summary.get("timings") or {}
    if timings:
        lines.append(
            "time: " + ", ".join(f"{name} {seconds:.1f} s" for name, seconds in timings.items())
        )
    adherence = (summary.get("adherence") or {}).get("metrics") or {}
    shown = {
        "beat_f": "beat F",
        "downbeat_f": "downbeat F",
        "key_weighted": "key",
        "chord_majmin": "chords",
    }
    values = [
        f"{label} {adherence[name]:.2f}"
        for name, label in shown.items()
        if adherence.get(name) is not None
    ]
    if values:
        lines.append("our MIR hears the score: " + ", ".join(values))
    return "  \n".join(lines)


def analysis_readout(document: dict[str, Any]) -> str:
    """Markdown: tempo, meter, key, beats, sections, chords and note counts of an
    `analysis.json` (DESIGN.md §12)."""
    tempo = document.get("tempo")
    lines = [
        f"**{float(document.get('duration', 0)):.1f} s** · "
        f"**tempo** {f'{tempo:.0f} bpm' if isinstance(tempo, int | float) else '?'} · "
        f"**meter** {document.get('time_signature') or '?'} · "
        f"**key** {document.get('key') or '?'} · "
        f"**beats** {len(document.get('beats') or [])} · "
        f"**downbeats** {len(document.get('downbeats') or [])}"
    ]
    sections = document.get("sections") or []
    if sections:
        lines.append(
            "**sections** " + ", ".join(f"{label} {start:.1f} s" for start, _, label in sections)
        )
    chords = document.get("chords") or []
    if chords:
        shown = [f"{label} ({start:.1f} s)" for start, _, label in chords[:32]]
        more = f" … ({len(chords)} in all)" if len(chords) > len(shown) else ""
        lines.append("**chords** " + ", ".join(shown) + more)
    notes = document.get("notes") or {}
    if notes:
        lines.append(
            "**notes** " + ", ".join(f"{track} {len(found)}" for track, found in notes.items())
        )
    return "  \n".join(lines)
