"""A picture of a score a musician can read: a piano roll with chords, sections and lyrics (PNG).

The score is drawn in systems of `bars_per_row` bars, one under the other, like a lead sheet.
Each system has a strip on top with the bar numbers, the chord symbols and the sections (shaded
spans with their names), then one panel per non-empty note track: pitched tracks as a piano
roll (note names on the pitch axis, velocity as shade), lyrics under the vocal notes, and the
drums as a hit grid with General MIDI drum names. Bar lines run through all panels, beat lines
are faint. The title gives the key, the tempo (and its changes) and the meter.

Only matplotlib (Agg backend) is used; nothing here imports torch.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt
import pretty_midi
from matplotlib.axes import Axes
from matplotlib.collections import PolyCollection
from matplotlib.colors import to_rgba
from matplotlib.figure import Figure

from score_tokens.score import NOTE_TRACKS, Note, Score

TRACK_COLORS: dict[str, str] = {
    "vocal": "#c0392b",
    "bass": "#1f618d",
    "piano": "#117a65",
    "guitar": "#b9770e",
    "drums": "#4a235a",
}
SECTION_COLORS: tuple[str, ...] = ("#fdebd0", "#d6eaf8", "#d5f5e3", "#f5eef8", "#fcf3cf", "#e5e8e8")
WIDTH_INCHES = 16.0
MAX_ROWS = 40
"""Scores longer than MAX_ROWS systems get more bars per row rather than an endless image."""


def write_picture(score: Score, path: Path, bars_per_row: int = 8, dpi: int = 100) -> None:
    """Draw `score` and save it as a PNG at `path` (not atomic; `io.write_score` is)."""
    figure = draw_score(score, bars_per_row=bars_per_row)
    try:
        figure.savefig(str(path), format="png", dpi=dpi)
    finally:
        plt.close(figure)


def draw_score(score: Score, bars_per_row: int = 8) -> Figure:
    """Draw `score` into a new matplotlib figure (see the module docstring)."""
    bar_starts = score.bar_starts()
    score_end = bar_starts[-1] + score.bar_length(score.signature_at(bar_starts[-1]))
    bars = [*bar_starts, score_end]
    while (len(bar_starts) + bars_per_row - 1) // bars_per_row > MAX_ROWS:
        bars_per_row *= 2
    tracks = [name for name in NOTE_TRACKS if name in score.tracks and score.tracks[name].notes]
    heights = [_panel_height(score, name) for name in tracks]
    rows = [
        (bars[i], bars[min(i + bars_per_row, len(bars) - 1)])
        for i in range(0, len(bar_starts), bars_per_row)
    ]
    ratios: list[float] = []
    for _ in rows:
        ratios += [0.6, *heights, 0.25]  # strip, panels, spacer
    figure = plt.figure(figsize=(WIDTH_INCHES, sum(ratios) + 0.9))
    grid = figure.add_gridspec(
        len(ratios),
        1,
        height_ratios=ratios,
        hspace=0.0,
        left=0.07,
        right=0.99,
        top=1 - 0.7 / (sum(ratios) + 0.9),
        bottom=0.01,
    )
    figure.suptitle(_title(score), fontsize=13, x=0.07, ha="left")
    row_span = max(row_end - row_start for row_start, row_end in rows)  # one scale for all rows
    index = 0
    for row_number, (start, end) in enumerate(rows):
        strip = figure.add_subplot(grid[index])
        _draw_strip(strip, score, bars, start, start + row_span, end, row_number * bars_per_row)
        for name in tracks:
            index += 1
            axes = figure.add_subplot(grid[index], sharex=strip)
            _draw_track(axes, score, name, start, end)
            _draw_grid(axes, score, bars, start, end)
        index += 2
        strip.set_xlim(start, start + row_span)
    return figure


def _title(score: Score) -> str:
    meters = list(dict.fromkeys(f"{ts.numerator}/{ts.denominator}" for ts in score.time_signatures))
    tempos = [f"{t.bpm:g}" for t in score.tempos]
    tempo_text = (
        tempos[0] + " bpm" + (f" (then {', '.join(tempos[1:])})" if len(tempos) > 1 else "")
    )
    notes = score.num_notes()
    return f"{score.key}  ·  {tempo_text}  ·  {' → '.join(meters)}  ·  {notes} notes"


def _panel_height(score: Score, name: str) -> float:
    notes = score.tracks[name].notes
    if name == "drums":
        return 0.35 + 0.17 * len({n.pitch for n in notes})
    span = max(n.pitch for n in notes) - min(n.pitch for n in notes) + 3
    return min(2.4, max(1.0, 0.07 * span)) + (0.3 if name == "vocal" else 0.0)


def _draw_strip(
    axes: Axes, score: Score, bars: list[int], start: int, row_end: int, end: int, first_bar: int
) -> None:
    """Bar numbers, sections and chord symbols for one system."""
    axes.set_ylim(0, 1)
    axes.axis("off")
    marks: dict[int, list[str]] = {}
    for offset, tick in enumerate(b for b in bars[:-1] if start <= b < end):
        axes.axvline(tick, color="#555555", linewidth=0.8)
        marks[tick] = [str(first_bar + offset + 1)]
    for ts in score.time_signatures:
        if start <= ts.tick < end:
            marks.setdefault(ts.tick, []).append(f"{ts.numerator}/{ts.denominator}")
    for change in score.tempos:
        if start <= change.tick < end and change.tick > 0:
            marks.setdefault(change.tick, []).append(f"\u2669={change.bpm:g}")
    for tick, labels in marks.items():
        axes.text(tick, 1.0, "  ".join(["", *labels]), fontsize=8, va="top", color="#555555")
    sections = sorted(score.sections, key=lambda s: s.tick)
    for i, section in enumerate(sections):
        stop = sections[i + 1].tick if i + 1 < len(sections) else bars[-1]
        if stop <= start or section.tick >= end:
            continue
        color = SECTION_COLORS[
            sorted({s.label for s in sections}).index(section.label) % len(SECTION_COLORS)
        ]
        axes.axvspan(
            max(section.tick, start), min(stop, end), ymin=0.4, ymax=0.75, color=color, zorder=0
        )
        if section.tick >= start:
            axes.text(
                section.tick,
                0.72,
                f"   {section.label}",
                fontsize=9,
                fontweight="bold",
                va="center",
            )
    for chord in score.chords:
        if start <= chord.tick < end:
            axes.text(
                chord.tick,
                0.18,
                " " + _chord_text(chord.label),
                fontsize=10,
                va="center",
                color="#222222",
            )
    axes.set_xlim(start, row_end)


def _chord_text(label: str) -> str:
    """mir_eval label -> lead-sheet symbol: "A:min" -> "Am", "G:7" -> "G7", "N" -> "N.C."."""
    if label == "N":
        return "N.C."
    root, _, quality = label.partition(":")
    suffix = {
        "maj": "",
        "min": "m",
        "dim": "°",
        "aug": "+",
        "min7": "m7",
        "hdim7": "ø7",
        "dim7": "°7",
    }
    return root + suffix.get(quality, quality)


def _draw_grid(axes: Axes, score: Score, bars: list[int], start: int, end: int) -> None:
    across = axes.get_xaxis_transform()  # x in ticks, y from the panel's bottom to its top
    beat_ticks = list(range(start, end, score.ticks_per_beat))
    axes.vlines(beat_ticks, 0, 1, transform=across, color="#dddddd", linewidth=0.5, zorder=0)
    bar_ticks = [tick for tick in bars if start <= tick <= end]
    axes.vlines(bar_ticks, 0, 1, transform=across, color="#555555", linewidth=0.8, zorder=1)
    axes.tick_params(axis="x", which="both", bottom=False, labelbottom=False)
    for side in ("top", "right"):
        axes.spines[side].set_visible(False)
    axes.spines["bottom"].set_color("#bbbbbb")


def _visible(notes: list[Note], start: int, end: int) -> list[Note]:
    return [n for n in notes if n.tick < end and n.end > start]


def _draw_track(axes: Axes, score: Score, name: str, start: int, end: int) -> None:
    notes = score.tracks[name].notes
    color = TRACK_COLORS[name]
    axes.text(
        0.002,
        0.97,
        name,
        transform=axes.transAxes,
        fontsize=9,
        color=color,
        fontweight="bold",
        va="top",
        bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1},
    )
    if name == "drums":
        _draw_drums(axes, notes, start, end, color)
        return
    low = min(n.pitch for n in notes) - 1
    high = max(n.pitch for n in notes) + 1
    bottom = low - (2.5 if name == "vocal" else 0)
    axes.set_ylim(bottom, high + 1)
    visible = _visible(notes, start, end)
    axes.add_collection(_note_boxes(visible, color), autolim=False)
    for note in visible:
        if name == "vocal" and note.lyric and note.tick >= start:
            axes.text(
                note.tick, low - 0.4, note.lyric, fontsize=8, va="top", ha="left", clip_on=True
            )
    ticks = [p for p in range(low, high + 1) if p % 12 in (0, 7)] or [low]
    axes.set_yticks([p + 0.5 for p in ticks])
    axes.set_yticklabels([pretty_midi.note_number_to_name(p) for p in ticks], fontsize=7)


def _note_boxes(notes: list[Note], color: str) -> PolyCollection:
    """One collection of every note's box (shade by velocity): one artist per panel, not one
    per note, so an hour-long score draws in seconds."""
    boxes = [
        [
            (n.tick, n.pitch + 0.1),
            (n.tick + n.duration, n.pitch + 0.1),
            (n.tick + n.duration, n.pitch + 0.9),
            (n.tick, n.pitch + 0.9),
        ]
        for n in notes
    ]
    alphas = [0.35 + 0.65 * n.velocity / 127 for n in notes]
    faces = [to_rgba(color, alpha) for alpha in alphas]
    edges = [to_rgba("black", alpha) for alpha in alphas]
    return PolyCollection(boxes, facecolors=faces, edgecolors=edges, linewidths=0.3)


def _draw_drums(axes: Axes, notes: list[Note], start: int, end: int, color: str) -> None:
    pitches = sorted({n.pitch for n in notes})
    row = {pitch: index for index, pitch in enumerate(pitches)}
    axes.set_ylim(-0.6, len(pitches) - 0.4)
    visible = _visible(notes, start, end)
    axes.scatter(
        [n.tick for n in visible],
        [row[n.pitch] for n in visible],
        marker="D",
        s=[8 + 22 * n.velocity / 127 for n in visible],
        color=color,
        zorder=2,
    )
    axes.set_yticks(range(len(pitches)))
    axes.set_yticklabels([_drum_name(p) for p in pitches], fontsize=7)


def _drum_name(pitch: int) -> str:
    try:
        name = pretty_midi.note_number_to_drum_name(pitch)
    except (ValueError, IndexError):
        name = ""
    return name or f"drum {pitch}"
