from __future__ import annotations

import shutil

import pytest

from benchmarks import composer_metrics as m
from score_tokens.score import TimeSignature
from seedmusic.composer.lyrics_input import LyricSection, LyricSheet, Syllable
from seedmusic.composer.rule_baseline import accompaniment_style, rule_leadsheet, rule_song
from seedmusic.composer.style import ComposeStyle
from seedmusic.data.accompaniment import styles_for
from seedmusic.errors import UserError

_LINES = [["Hel", "lo", "my", "dar", "ling"], ["sing", "a", "long"], ["la"] * 9]


def _sheet(labels: tuple[str, ...] = ("verse", "chorus")) -> LyricSheet:
    sections = []
    for label in labels:
        lines = tuple(
            tuple(
                Syllable(
                    text,
                    stress=1 if i % 2 == 0 else 0,
                    word_start=True,
                    line_start=i == 0,
                    phonemes=(text.upper(),),
                )
                for i, text in enumerate(line)
            )
            for line in _LINES
        )
        sections.append(LyricSection(label, lines))
    return LyricSheet(tuple(sections), "en")


def _syllables(sheet: LyricSheet) -> list[Syllable]:
    return [s for section in sheet.sections for s in section.syllables]


STYLES = [
    ComposeStyle("pop", "female vocal", 96.0, "D major", (4, 4)),
    ComposeStyle("waltz", "male vocal", 120.0, "A minor", (3, 4)),
    ComposeStyle("folk", "female vocal", 80.0, "Eb major", (6, 8)),
    ComposeStyle("march", "male vocal", 110.0, "F# minor", (2, 4)),
]


@pytest.mark.parametrize("style", STYLES, ids=lambda s: f"{s.genre}")
def test_leadsheet_is_aligned_and_compliant(style: ComposeStyle):
    sheet = _sheet()
    score = rule_leadsheet(sheet, style, seed=1)
    assert m.alignment_valid(score, [s.text for s in _syllables(sheet)])
    checks = m.compliance(
        score,
        tempo=style.tempo,
        meter=style.meter,
        key=style.key,
        voice=style.voice,
        section_order=["intro", "verse", "chorus", "outro"],
    )
    assert all(checks.values()), checks
    assert m.in_key_ratio(score, ("vocal",)) == pytest.approx(1.0)
    assert m.chord_tone_ratio(score) == pytest.approx(1.0)


def test_lines_start_on_bar_lines_one_syllable_per_beat():
    sheet = _sheet(("verse",))
    score = rule_leadsheet(sheet, ComposeStyle(meter=(3, 4)), seed=0)
    bar = 3 * 480
    ticks = [n.tick for n in score.tracks["vocal"].notes]
    # intro 2 bars; line 1 (5 beats) -> 2 bars; line 2 (3) -> 1 bar; line 3 (9) -> 3 bars
    assert ticks[0] == 2 * bar
    assert ticks[5] == 4 * bar
    assert ticks[8] == 5 * bar
    assert ticks[1] - ticks[0] == 480
    assert [s.tick for s in score.sections] == [0, 2 * bar, 8 * bar]
    assert score.end_tick == 10 * bar
    assert score.tracks["vocal"].notes[0].phonemes == ("HEL",)


def test_defaults_and_chord_chart():
    score = rule_leadsheet(_sheet(("verse",)), ComposeStyle(), seed=3)
    assert (score.key, score.tempos[0].bpm) == ("C major", 100.0)
    assert (score.time_signatures[0].numerator, score.time_signatures[0].denominator) == (4, 4)
    labels = [c.label for c in score.chords]
    assert len(labels) == len(score.bar_starts())
    assert labels[0] == labels[-1] == "C:maj"
    assert set(labels) <= {"C:maj", "F:maj", "G:maj", "A:min"}
    assert m.compliance(score, voice="female vocal") == {"voice": True}


def test_same_seed_same_song_other_seed_other_melody():
    sheet, style = _sheet(), STYLES[0]
    first = rule_leadsheet(sheet, style, seed=5)
    assert first.to_dict() == rule_leadsheet(sheet, style, seed=5).to_dict()
    other = rule_leadsheet(sheet, style, seed=6)
    pitches = [n.pitch for n in first.tracks["vocal"].notes]
    assert pitches != [n.pitch for n in other.tracks["vocal"].notes]


def test_accompaniment_style_falls_back_to_a_groove_for_the_meter():
    waltz = TimeSignature(0, 3, 4)
    assert accompaniment_style("waltz", waltz) == "waltz"
    assert accompaniment_style("bossa", waltz) == styles_for(waltz)[0]  # no bossa in 3/4
    assert (
        accompaniment_style(None, TimeSignature(0, 6, 8)) == styles_for(TimeSignature(0, 6, 8))[0]
    )
    with pytest.raises(UserError, match="no accompaniment style"):
        accompaniment_style("pop", TimeSignature(0, 7, 8))


@pytest.mark.slow
@pytest.mark.skipif(shutil.which("mma") is None, reason="needs the mma program")
def test_rule_song_with_accompaniment():
    sheet = _sheet(("verse",))
    style = STYLES[1]
    score = rule_song(sheet, style, seed=2)
    assert m.alignment_valid(score, [s.text for s in _syllables(sheet)])
    checks = m.compliance(score, tempo=120.0, meter=(3, 4), key="A minor", voice="male vocal")
    assert all(checks.values()), checks
    assert score.tracks["bass"].notes and score.tracks["drums"].notes
    assert m.in_key_ratio(score, ("bass", "piano", "guitar")) > 0.8
    assert rule_song(sheet, style, seed=2).to_dict() == score.to_dict()
