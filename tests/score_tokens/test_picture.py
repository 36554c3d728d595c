"""The score picture: a PNG whose size follows the score, drawn for any legal score."""

from __future__ import annotations

from pathlib import Path

import matplotlib.image
import pytest

from score_tokens import Note, Score, write_score
from score_tokens.picture import _chord_text, draw_score


def _size(path: Path) -> tuple[int, int]:
    image = matplotlib.image.imread(str(path))
    return image.shape[1], image.shape[0]


def test_picture_is_a_png_with_one_system_per_eight_bars(
    small_score: Score, tmp_path: Path
) -> None:
    write_score(small_score, tmp_path / "short.png")
    assert (tmp_path / "short.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    long = small_score.copy()
    long.end_tick = 3840 + 20 * 1440  # 22 bars -> three systems
    write_score(long, tmp_path / "long.png")
    (short_w, short_h), (long_w, long_h) = (
        _size(tmp_path / "short.png"),
        _size(tmp_path / "long.png"),
    )
    assert short_w == long_w == 1600
    assert long_h > 2.5 * short_h * 0.8


def test_figure_has_a_panel_per_non_empty_track(small_score: Score) -> None:
    import matplotlib.pyplot as plt

    small_score.tracks["guitar"].notes.clear()
    figure = draw_score(small_score)
    texts = {t.get_text() for axes in figure.axes for t in axes.texts}
    plt.close(figure)
    assert {"vocal", "bass", "piano", "drums"} <= texts
    assert "guitar" not in texts
    assert {"Twin", "star", "Am", "Fmaj7", "N.C."} <= {t.strip() for t in texts}
    assert len(figure.axes) == 1 + 4  # strip + four panels, one system


def test_very_long_scores_stay_bounded(tmp_path: Path) -> None:
    score = Score()
    score.tracks["piano"].notes += [Note(bar * 1920, 960, 60 + bar % 12) for bar in range(600)]
    figure = draw_score(score)
    import matplotlib.pyplot as plt

    height = figure.get_size_inches()[1]
    plt.close(figure)
    assert height < 120


def test_empty_score_still_draws(tmp_path: Path) -> None:
    write_score(Score(), tmp_path / "empty.png")
    assert (tmp_path / "empty.png").stat().st_size > 1000


@pytest.mark.parametrize(
    ("label", "text"), [("A:min", "Am"), ("G:7", "G7"), ("N", "N.C."), ("B:hdim7", "Bø7")]
)
def test_chord_symbols_read_like_a_lead_sheet(label: str, text: str) -> None:
    assert _chord_text(label) == text
