"""The composed-songs MIR benchmark's own pieces: the song plan, per-meter aggregation, tables."""

from __future__ import annotations

import pytest

from benchmarks.mir_composed import (
    LYRICS,
    METER_PLANS,
    METERS,
    ROWS,
    Result,
    SongPlan,
    aggregate,
    format_songs,
    format_table,
    main,
    plan_songs,
)
from score_tokens.score import TimeSignature
from seedmusic.composer.lyrics_input import parse_lyrics
from seedmusic.composer.style import GENRES, VOICES, parse_key
from seedmusic.data.accompaniment import styles_for


@pytest.mark.parametrize("per_meter", [1, 2, 3, 5])
def test_plan_has_every_meter_with_tempos_spread_over_its_range(per_meter: int) -> None:
    songs = plan_songs(per_meter, seed=0)
    assert [s.meter for s in songs] == [m for m in METERS for _ in range(per_meter)]
    assert set(METERS) == {"2/4", "3/4", "4/4", "6/8"}
    assert len({s.id for s in songs}) == len(songs)
    assert len({s.seed for s in songs}) == len(songs)
    for meter in METERS:
        tempos = [s.tempo for s in songs if s.meter == meter]
        low, high = METER_PLANS[meter].tempo_range
        assert all(low <= t <= high for t in tempos)
        assert tempos == sorted(set(tempos))  # distinct, slowest first
        assert all(t == round(t) for t in tempos)


def test_plan_styles_are_ones_the_composer_can_write() -> None:
    for song in plan_songs(5, seed=0):
        style = song.style()
        assert style.genre in GENRES and style.voice in VOICES
        assert parse_key(song.key) == song.key
        assert style.meter is not None
        numerator, denominator = style.meter
        assert f"{numerator}/{denominator}" == song.meter
        assert song.genre in styles_for(TimeSignature(0, numerator, denominator))


def test_plan_is_deterministic_and_differs_by_seed() -> None:
    assert plan_songs(3, seed=7) == plan_songs(3, seed=7)
    assert [s.seed for s in plan_songs(3, seed=7)] != [s.seed for s in plan_songs(3, seed=8)]
    with pytest.raises(ValueError):
        plan_songs(0, seed=0)


def test_lyrics_are_a_verse_and_a_chorus_sung_twice() -> None:
    sheet = parse_lyrics(LYRICS, "en")
    assert [s.label for s in sheet.sections] == ["verse", "chorus", "verse", "chorus"]


def _result(meter: str, metrics: dict[str, float | None], found: str | None = None) -> Result:
    plan = SongPlan(f"{meter}-x", meter, 100.0, "pop", "female vocal", "C major", 0)
    return Result(plan, metrics, found or meter, 100.0, 100.0)


def test_aggregate_per_meter_and_overall() -> None:
    results = [
        _result("2/4", {"meter_right": 1.0, "beat_f": 1.0, "notes_guitar_onset_f1": None}),
        _result("2/4", {"meter_right": 0.0, "beat_f": 0.5}, found="4/4"),
        _result("6/8", {"meter_right": 1.0, "beat_f": 0.9, "notes_guitar_onset_f1": 0.4}),
    ]
    table = aggregate(results)
    assert list(table) == ["2/4", "6/8", "all"]  # meters without songs are left out
    assert table["2/4"]["meter_right"].hits == 1 and table["2/4"]["meter_right"].count == 2
    assert table["2/4"]["beat_f"].mean == pytest.approx(0.75)
    assert table["all"]["beat_f"].mean == pytest.approx(0.8)
    assert table["all"]["meter_right"].hits == 2 and table["all"]["meter_right"].count == 3
    assert table["2/4"]["notes_guitar_onset_f1"].mean is None  # undefined on every 2/4 song
    assert table["all"]["notes_guitar_onset_f1"].mean == pytest.approx(0.4)


def test_format_table_has_a_row_per_metric_and_counts_as_k_of_n() -> None:
    results = [
        _result("3/4", {"meter_right": 1.0, "one_tempo": 1.0, "beat_f": 0.987}),
        _result("4/4", {"meter_right": 0.0, "one_tempo": 1.0, "beat_f": 0.5}, found="2/4"),
    ]
    text = format_table(aggregate(results), results)
    lines = text.splitlines()
    assert len(lines) == 2 + len(ROWS)
    assert "3/4 (1)" in lines[0] and "4/4 (1)" in lines[0] and "all (2)" in lines[0]
    rows = {line.split("|")[1].strip(): line.split("|")[2:-1] for line in lines[2:]}
    assert [c.strip() for c in rows["meter right"]] == ["1/1", "0/1", "1/2"]
    assert [c.strip() for c in rows["beat F"]] == ["0.99", "0.50", "0.74"]
    assert [c.strip() for c in rows["key (weighted)"]] == ["-", "-", "-"]
    assert len({len(line) for line in lines}) == 1  # aligned columns


def test_format_songs_has_a_line_per_song() -> None:
    results = [_result("6/8", {"beat_f": 0.4}, found="3/4"), _result("2/4", {})]
    lines = format_songs(results).splitlines()
    assert len(lines) == 2 + len(results)
    assert "| 3/4 |" in lines[2] and "0.40" in lines[2]
    assert lines[3].endswith("| - | - |")


def test_help_runs(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--help"])
    assert exit_info.value.code == 0
    out = capsys.readouterr().out
    assert "--per-meter" in out and "TimGM6mb" in out


def test_bad_song_count_is_an_error(capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--per-meter", "0"])
    assert exit_info.value.code == 2
    assert "--per-meter" in capsys.readouterr().err
