"""`seedmusic.score_edit` and `seedmusic score edit`: parsing, each operation, their order, the
diff summary, and bad input (one `error:` line, exit 2, nothing written)."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pytest

from score_tokens.edit import diff
from score_tokens.io import read_score, write_score
from score_tokens.score import Score
from seedmusic.cli import build_parser
from seedmusic.composer.lyrics_input import syllables_from_note_lyrics
from seedmusic.data.example_song import example_song
from seedmusic.errors import UserError
from seedmusic.score_edit import (
    EditOp,
    apply_edits,
    describe_changes,
    parse_bars,
    parse_chord,
)

if TYPE_CHECKING:
    from seedmusic.composer.pipeline import Composer

BAR = 4 * 480  # the example song: 8 bars of 4/4 at 480 ticks per beat
SHIPPED_COMPOSER = Path(__file__).resolve().parents[2] / "checkpoints" / "composer"


def edit(score: Score, *ops: tuple[str, str]) -> Score:
    return apply_edits(score, [EditOp.parse(kind, text) for kind, text in ops])


def in_bars(score: Score, track: str, first: int, last: int) -> list[tuple[int, int, int]]:
    """(tick, duration, pitch) of the notes starting in 1-based bars first..last."""
    lo, hi = (first - 1) * BAR, last * BAR
    return [(n.tick, n.duration, n.pitch) for n in score.notes(track) if lo <= n.tick < hi]


def chord_at(score: Score, tick: int) -> tuple[int | None, str]:
    (chord,) = [c for c in score.chords if c.tick == tick]
    return chord.root, chord.quality


# ---------------------------------------------------------------------- parsing


@pytest.mark.parametrize(
    ("text", "expected"),
    [("1", (0, 1)), ("5", (4, 5)), ("5-8", (4, 8)), (" 2 - 3 ", (1, 3)), ("all", (0, 8))],
)
def test_bars_are_one_based_and_inclusive(text: str, expected: tuple[int, int]) -> None:
    assert parse_bars(text, 8) == expected


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("0", "count from 1"),
        ("6-5", "ends before it starts"),
        ("5:8", "bars are written"),
        ("", "bars are written"),
        ("9", "bar 9 is outside the score's bars 1-8"),
        ("7-9", "bars 7-9 are outside"),
    ],
)
def test_bad_bars_are_user_errors(text: str, message: str) -> None:
    with pytest.raises(UserError, match=message):
        parse_bars(text, 8)


def test_edit_ops_parse_into_zero_based_bars() -> None:
    assert EditOp.parse("transpose", "5-8:-2:vocal,bass") == EditOp(
        "transpose", 4, 8, semitones=-2, tracks=("vocal", "bass"), text="5-8:-2:vocal,bass"
    )
    assert EditOp.parse("transpose", "all:+3").stop is None
    lyrics = EditOp.parse("lyrics", "3-4: hold  me\nclose ")
    assert (lyrics.start, lyrics.stop, lyrics.words) == (2, 4, "hold me close")
    assert lyrics.option == "--lyrics 3-4"
    chord = EditOp.parse("chord", "6.3:G7")
    assert (chord.start, chord.stop, chord.beat, chord.label) == (5, 6, 3.0, "G:7")
    regenerate = EditOp.parse("regenerate", "2-3")
    assert (regenerate.start, regenerate.stop) == (1, 3)
    assert EditOp.parse("tempo", "92.5").bpm == 92.5


@pytest.mark.parametrize(
    ("label", "expected"),
    [
        ("C", (0, "maj")),
        ("Am", (9, "min")),
        ("G7", (7, "7")),
        ("F:maj7", (5, "maj7")),
        ("Bbm7", (10, "min7")),
        ("F#dim", (6, "dim")),
        ("Bm7b5", (11, "hdim7")),
        ("Dsus4", (2, "sus4")),
        ("Cb", (11, "maj")),
        ("A:min", (9, "min")),
        ("N", (None, "maj")),
    ],
)
def test_chord_labels(label: str, expected: tuple[int | None, str]) -> None:
    assert parse_chord(label) == expected


@pytest.mark.parametrize("label", ["H", "am", "C:foo", "Cmaj9", ""])
def test_unknown_chord_labels_are_user_errors(label: str) -> None:
    with pytest.raises(UserError, match="chord"):
        parse_chord(label)


@pytest.mark.parametrize(
    ("kind", "text", "message"),
    [
        ("transpose", "5", "BARS:SEMITONES"),
        ("transpose", "5:two", "whole number"),
        ("transpose", "5:2:drums", "no pitch"),
        ("transpose", "5:2:flute", "unknown track 'flute'"),
        ("lyrics", "5", "BARS:WORDS"),
        ("lyrics", "5:  ", "BARS:WORDS"),
        ("chord", "5", "BAR[.BEAT]:LABEL"),
        ("chord", "5-6:C", "one bar"),
        ("chord", "5.0:C", "beats count from 1"),
        ("chord", "5:Xm", "unknown chord 'Xm'"),
        ("regenerate", "five", "bars are written"),
        ("tempo", "0", "20 to 400"),
        ("tempo", "-90", "20 to 400"),
        ("tempo", "401", "20 to 400"),
        ("tempo", "inf", "finite"),
        ("tempo", "fast", "not a number"),
    ],
)
def test_malformed_edits_are_user_errors(kind: str, text: str, message: str) -> None:
    with pytest.raises(UserError, match=message.replace("[", r"\[").replace(".", r"\.")):
        EditOp.parse(kind, text)


# ---------------------------------------------------------------------- operations


def test_transpose_bars_moves_their_notes_and_chords_but_not_the_key() -> None:
    song = example_song()
    edited = edit(song, ("transpose", "2-3:2"))
    for track in ("vocal", "bass", "piano", "guitar"):
        assert [(t, d, p + 2) for t, d, p in in_bars(song, track, 2, 3)] == in_bars(
            edited, track, 2, 3
        )
        assert in_bars(edited, track, 4, 8) == in_bars(song, track, 4, 8)
    assert edited.notes("drums") == song.notes("drums")
    assert chord_at(edited, BAR) == (9, "maj") and chord_at(edited, 2 * BAR) == (11, "min")
    assert chord_at(edited, 0) == (0, "maj") and edited.key == "C major"
    assert diff(song, edited) == [(1, 3)]
    assert song.to_dict() == example_song().to_dict()  # the input is left untouched


def test_transposing_bars_cuts_a_chord_held_across_their_edges() -> None:
    from score_tokens.score import Chord

    song = example_song()
    song.chords = [c for c in song.chords if not BAR <= c.tick < 4 * BAR]
    song.chords.append(Chord(BAR, 3 * BAR, 7, "maj"))  # G from bar 2 to the end of bar 4
    song.sort()
    edited = edit(song, ("transpose", "3:2"))
    labels = [(c.tick // BAR + 1, c.duration // BAR, c.label) for c in edited.chords]
    assert [label for label in labels if 2 <= label[0] <= 4] == [
        (2, 1, "G:maj"),
        (3, 1, "A:maj"),  # only bar 3's part moved
        (4, 1, "G:maj"),
    ]
    assert diff(song, edited) == [(2, 3)]


def test_transposing_some_tracks_leaves_the_chords() -> None:
    song = example_song()
    edited = edit(song, ("transpose", "2:-12:vocal"))
    assert [p for _, _, p in in_bars(edited, "vocal", 2, 2)] == [
        p - 12 for _, _, p in in_bars(song, "vocal", 2, 2)
    ]
    assert in_bars(edited, "piano", 2, 2) == in_bars(song, "piano", 2, 2)
    assert edited.chords == song.chords


def test_transposing_everything_changes_the_key() -> None:
    edited = edit(example_song(), ("transpose", "all:-3"))
    assert edited.key == "A major" and chord_at(edited, 0) == (9, "maj")
    assert diff(example_song(), edited) == [(0, 8)]


def test_a_score_without_some_track_still_transposes_whole() -> None:
    song = example_song()
    del song.tracks["guitar"]
    edited = edit(song, ("transpose", "all:2"))
    assert edited.key == "D major" and chord_at(edited, 0) == (2, "maj")
    assert "guitar" not in edited.tracks


def test_a_transposition_out_of_range_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"--transpose 1:100: .*outside 0\.\.127"):
        edit(example_song(), ("transpose", "1:100"))


def test_chord_goes_at_a_one_based_beat() -> None:
    song = example_song()
    edited = edit(song, ("chord", "6.3:G7"))
    assert chord_at(edited, 5 * BAR) == (7, "maj")  # the bar's chord, now cut at beat 3
    assert [c.duration for c in edited.chords if c.tick == 5 * BAR] == [2 * 480]
    assert chord_at(edited, 5 * BAR + 2 * 480) == (7, "7")
    assert diff(song, edited) == [(5, 6)]
    assert chord_at(edit(song, ("chord", "1:N")), 0) == (None, "maj")


def test_the_band_follows_a_new_chord_and_the_vocal_does_not() -> None:
    from score_tokens.score import Chord, Note

    song = Score()
    song.chords = [Chord(0, BAR, 0, "maj"), Chord(BAR, BAR, 0, "maj")]  # C, C
    song.tracks["piano"].notes = [Note(BAR + 480 * i, 480, p) for i, p in enumerate((60, 64, 67))]
    song.tracks["bass"].notes = [Note(0, BAR, 36), Note(BAR, BAR, 36)]
    song.tracks["vocal"].notes = [Note(BAR, BAR, 72, lyric="la")]
    song = song.sort().validate()
    minor = edit(song, ("chord", "2:Am"))  # C -> A minor: down 3, the third to a minor third
    assert [n.pitch for n in minor.notes("piano")] == [57, 60, 64]  # A C E
    assert [n.pitch for n in minor.notes("bass")] == [36, 33]  # bar 1 kept
    assert [n.pitch for n in minor.notes("vocal")] == [72]
    assert [n.pitch for n in edit(song, ("chord", "2:G")).notes("piano")] == [55, 59, 62]  # down 5
    late = edit(song, ("chord", "2.3:F"))  # from beat 3: only the notes starting there
    assert [n.pitch for n in late.notes("piano")] == [60, 64, 72]
    assert [n.pitch for n in edit(song, ("chord", "2:N")).notes("piano")] == [60, 64, 67]


def test_a_chord_beat_outside_its_bar_is_a_user_error() -> None:
    with pytest.raises(UserError, match="bar 2 has beats 1-4"):
        edit(example_song(), ("chord", "2.5:C"))


def test_the_order_of_operations_matters() -> None:
    song = example_song()
    chord_first = edit(song, ("chord", "5:C"), ("transpose", "5:2"))
    transpose_first = edit(song, ("transpose", "5:2"), ("chord", "5:C"))
    assert chord_at(chord_first, 4 * BAR) == (2, "maj")  # the new C moved up to D
    assert chord_at(transpose_first, 4 * BAR) == (0, "maj")  # F moved to G, then set to C
    assert in_bars(chord_first, "vocal", 5, 5) == in_bars(transpose_first, "vocal", 5, 5)


def test_tempo_sets_one_tempo_for_the_whole_score() -> None:
    song = example_song()
    edited = edit(song, ("tempo", "120"))
    assert [(t.tick, t.bpm) for t in edited.tempos] == [(0, 120.0)]
    assert describe_changes(song, edited) == "changed bar 1 (of 8); tempo 100 -> 120 bpm"


def test_equal_syllable_count_replaces_lyrics_and_phonemes_in_place() -> None:
    song = example_song()
    edited = edit(song, ("lyrics", "2:under moon"))  # un-der moon: bar 2's three sung notes
    assert in_bars(edited, "vocal", 1, 8) == in_bars(song, "vocal", 1, 8)
    bar_two = [n for n in edited.notes("vocal") if BAR <= n.tick < 2 * BAR]
    assert [n.lyric for n in bar_two] == ["un", "der", "moon"]
    assert [n.phonemes for n in bar_two] == [("AH1", "N"), ("D", "ER0"), ("M", "UW1", "N")]
    assert diff(song, edited) == [(1, 2)]
    assert edited.chords == song.chords and edited.notes("piano") == song.notes("piano")


def test_melisma_notes_keep_no_lyric() -> None:
    song = example_song()
    song.notes("vocal")[1].lyric = None  # bar 1: "sing", (melisma), "song"
    song.notes("vocal")[1].phonemes = ()
    edited = edit(song, ("lyrics", "1:hello"))
    assert [n.lyric for n in edited.notes("vocal")[:3]] == ["hel", None, "lo"]


def test_a_vocal_without_any_words_takes_one_syllable_per_onset() -> None:
    song = example_song()
    for note in song.notes("vocal"):  # an analyzed recording without its lyrics
        note.lyric, note.phonemes = None, ()
    bar_two = [n for n in song.notes("vocal") if BAR <= n.tick < 2 * BAR]
    words = " ".join(["la", "na", "la", "na", "la"][: len(bar_two)])
    edited = edit(song, ("lyrics", f"2:{words}"))
    assert [n.lyric for n in edited.notes("vocal") if BAR <= n.tick < 2 * BAR] == words.split()
    assert in_bars(edited, "vocal", 1, 8) == in_bars(song, "vocal", 1, 8)
    assert diff(song, edited) == [(1, 2)]


def test_unequal_syllable_count_without_a_composer_is_a_user_error() -> None:
    with pytest.raises(
        UserError, match=r"--lyrics 2: fitting 4 syllables to the 3 sung .*composer"
    ):
        edit(example_song(), ("lyrics", "2:under the moon"))


def test_regenerate_without_a_composer_is_a_user_error() -> None:
    with pytest.raises(UserError, match=r"--regenerate 2: .*composer"):
        edit(example_song(), ("regenerate", "2"))


def test_a_missing_composer_checkpoint_fails_before_any_work() -> None:
    calls: list[str] = []

    def composer() -> Composer:
        calls.append("load")
        raise UserError("nowhere is not a checkpoint folder")

    ops = [EditOp.parse("transpose", "1:1"), EditOp.parse("regenerate", "2")]
    with pytest.raises(UserError, match=r"--regenerate 2: .*nowhere is not a checkpoint"):
        apply_edits(example_song(), ops, composer)
    assert calls == ["load"]


def test_describe_changes_names_bars_one_based() -> None:
    song = example_song()
    edited = edit(song, ("chord", "2:Dm"), ("transpose", "5-6:1:bass"))
    assert diff(song, edited) == [(1, 2), (4, 6)]
    assert describe_changes(song, edited) == "changed bars 2, 5-6 (of 8)"
    assert describe_changes(song, song) == "no bar changed (of 8)"
    assert describe_changes(song, edit(song, ("transpose", "all:2"))) == (
        "changed bars 1-8 (of 8); key C major -> D major"
    )


# ---------------------------------------------------------------------- command line


def test_edit_options_keep_their_order_across_flags() -> None:
    args = build_parser().parse_args(
        [
            *("score", "edit", "in.json", "-o", "out.json"),
            *("--chord", "5:C", "--transpose", "5:2", "--tempo", "90", "--chord", "6:G"),
        ]
    )
    assert args.edits == [("chord", "5:C"), ("transpose", "5:2"), ("tempo", "90"), ("chord", "6:G")]


@pytest.mark.parametrize("suffix", [".json", ".mid", ".musicxml", ".png"])
def test_cli_writes_only_out_and_prints_the_changed_bars(
    run_cli, tmp_path: Path, suffix: str
) -> None:
    source = write_score(example_song(), tmp_path / "song.json")
    out = tmp_path / f"edited{suffix}"
    result = run_cli(
        "score", "edit", source, "-o", out, "--transpose", "5-6:2", "--chord", "2.3:G7"
    )
    assert result.code == 0, result.err
    assert result.out.strip() == f"changed bars 2, 5-6 (of 8); wrote {out}"
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(["song.json", out.name])
    if suffix in (".json", ".mid"):
        edited = read_score(out)
        assert chord_at(edited, BAR + 2 * 480) == (7, "7")
        assert [p for _, _, p in in_bars(edited, "vocal", 5, 6)] == [
            p + 2 for _, _, p in in_bars(example_song(), "vocal", 5, 6)
        ]


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--transpose", "9:2"], "bar 9 is outside the score's bars 1-8"),
        (["--regenerate", "3-12"], "bars 3-12 are outside"),
        (["--chord", "2:Hm7"], "unknown chord 'Hm7'"),
        (["--transpose", "2..3:1"], "bars are written 5 or 5-8"),
        (["--lyrics", "0:la"], "count from 1"),
        ([], "no edit given"),
        (["--tempo", "0"], "20 to 400 bpm"),
        (["--tempo", "90", "--regenerate", "2", "--checkpoint", "{dir}/missing"], "composer"),
        (["--tempo", "90", "IN={dir}/bad.json"], "invalid JSON"),
        (["--tempo", "90", "IN={dir}/missing.mid"], "does not exist"),
        (["--tempo", "90", "OUT={dir}/out.wav"], "name OUT with one of"),
        (["--tempo", "90", "OUT={dir}/no/out.json"], "does not exist"),
    ],
)
def test_bad_input_is_one_error_line_and_writes_nothing(
    run_cli, tmp_path: Path, args: list[str], message: str
) -> None:
    write_score(example_song(), tmp_path / "song.json")
    (tmp_path / "bad.json").write_text("{not a score", encoding="utf-8")
    source, out, options = tmp_path / "song.json", tmp_path / "out.json", []
    for arg in (a.format(dir=tmp_path) for a in args):
        if arg.startswith("IN="):
            source = Path(arg[3:])
        elif arg.startswith("OUT="):
            out = Path(arg[4:])
        else:
            options.append(arg)
    before = sorted(tmp_path.rglob("*"))
    result = run_cli("score", "edit", source, "-o", out, *options)
    assert result.code == 2
    lines = result.err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error:") and message in lines[0], result.err
    assert sorted(tmp_path.rglob("*")) == before


@pytest.mark.slow
@pytest.mark.skipif(not SHIPPED_COMPOSER.is_dir(), reason="no shipped composer checkpoint")
def test_cli_regenerates_bars_with_the_shipped_composer(run_cli, tmp_path: Path) -> None:
    song = example_song()
    source = write_score(song, tmp_path / "song.json")
    out = tmp_path / "out.json"
    result = run_cli("score", "edit", source, "-o", out, "--regenerate", "3-4", "--seed", "1")
    assert result.code == 0, result.err
    edited = read_score(out)
    assert all(a >= 2 and b <= 4 for a, b in diff(song, edited))
    assert result.out.startswith("changed bar")
    assert [n.lyric for n in edited.notes("vocal") if n.lyric] == [
        n.lyric for n in song.notes("vocal") if n.lyric
    ]
    for track in ("vocal", "bass", "piano", "guitar", "drums"):
        assert in_bars(edited, track, 1, 2) == in_bars(song, track, 1, 2)
        assert in_bars(edited, track, 5, 8) == in_bars(song, track, 5, 8)


@pytest.mark.slow
@pytest.mark.skipif(not SHIPPED_COMPOSER.is_dir(), reason="no shipped composer checkpoint")
def test_cli_refits_more_words_with_the_shipped_composer(run_cli, tmp_path: Path) -> None:
    song = example_song()
    source = write_score(song, tmp_path / "song.json")
    out = tmp_path / "out.json"
    words = "we are free and wild tonight"  # 7 syllables where bar 6 sings 3
    result = run_cli("score", "edit", source, "-o", out, "--lyrics", f"6:{words}", "--seed", "1")
    assert result.code == 0, result.err
    assert result.out.startswith("changed bar 6 (of 8)")
    edited = read_score(out)
    bar_six = [n for n in edited.notes("vocal") if 5 * BAR <= n.tick < 6 * BAR]
    assert [n.lyric for n in bar_six if n.lyric] == [
        "we",
        "are",
        "free",
        "and",
        "wild",
        "to",
        "night",
    ]
    assert [n.phonemes for n in bar_six if n.lyric][-1] == ("N", "AY1", "T")
    infos = syllables_from_note_lyrics([n.lyric for n in edited.notes("vocal")], "en")
    assert sum(info is not None for info in infos) == 24 - 3 + 7
    for track in ("vocal", "bass", "piano", "guitar", "drums"):
        assert in_bars(edited, track, 1, 5) == in_bars(song, track, 1, 5)
        assert in_bars(edited, track, 7, 8) == in_bars(song, track, 7, 8)


def test_extend_parses_a_bar_count_and_optional_words() -> None:
    op = EditOp.parse("extend", "4:and now the night")
    assert (op.kind, op.semitones, op.words, op.option) == (
        "extend",
        4,
        "and now the night",
        "--extend 4",
    )
    assert EditOp.parse("extend", "2").words == ""
    for text, message in (("0", "append 1 to 64"), ("65", "append 1 to 64"), ("x", "whole number")):
        with pytest.raises(UserError, match=message):
            EditOp.parse("extend", text)


def test_extend_without_a_composer_is_a_user_error() -> None:
    with pytest.raises(UserError, match="needs the composer"):
        apply_edits(example_song(), [EditOp.parse("extend", "2")])


@pytest.mark.slow
@pytest.mark.skipif(not SHIPPED_COMPOSER.is_dir(), reason="no shipped composer checkpoint")
def test_cli_extends_a_song_with_the_shipped_composer(run_cli, tmp_path: Path) -> None:
    song = example_song()
    bars = len(song.bar_starts())
    source = write_score(song, tmp_path / "song.json")
    out = tmp_path / "out.json"
    words = "and now the night is falling down"
    result = run_cli("score", "edit", source, "-o", out, "--extend", f"4:{words}", "--seed", "1")
    assert result.code == 0, result.err
    assert result.out.startswith(f"changed bars {bars + 1}-{bars + 4} (of {bars + 4})")
    edited = read_score(out)
    assert len(edited.bar_starts()) == bars + 4
    assert all(a >= bars for a, _ in diff(song, edited))
    new = [n.lyric for n in edited.notes("vocal") if n.tick >= bars * BAR and n.lyric]
    assert " ".join(new).replace(" ", "") == "andnowthenightisfallingdown"
    assert edited.sections[-1].label == "verse" and edited.sections[-1].tick == bars * BAR
    for track in ("bass", "piano", "drums"):
        assert any(n.tick >= bars * BAR for n in edited.notes(track)), track
        assert in_bars(edited, track, 1, bars) == in_bars(song, track, 1, bars)
    outro = run_cli("score", "edit", source, "-o", tmp_path / "outro.json", "--extend", "2")
    assert outro.code == 0, outro.err
    instrumental = read_score(tmp_path / "outro.json")
    assert not [n for n in instrumental.notes("vocal") if n.tick >= bars * BAR]
    assert any(n.tick >= bars * BAR for n in instrumental.notes("piano"))
