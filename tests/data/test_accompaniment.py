"""MMA arranges a chord chart: every style renders, follows the chords, is seeded and clipped."""

from __future__ import annotations

import shutil
import subprocess

import pytest

from score_tokens.score import Chord, Note, Score, TempoChange, TimeSignature
from seedmusic.data import accompaniment
from seedmusic.data.accompaniment import (
    ACCOMPANIMENT_TRACKS,
    STYLES,
    Groove,
    Style,
    accompany,
    arrange_midi,
    chord_line,
    get_style,
    mma_binary,
    mma_song,
    mma_track_for,
    plan_bars,
    styles_for,
)
from seedmusic.errors import UserError

needs_mma = pytest.mark.skipif(shutil.which("mma") is None, reason="mma is not installed")

TPB = 480
PROGRESSION: tuple[tuple[int, str], ...] = (
    (0, "maj"),
    (7, "maj"),
    (9, "min"),
    (5, "maj"),
    (2, "min7"),
    (7, "7"),
    (0, "maj"),
    (0, "maj"),
)
CHORD_TONES: dict[str, tuple[int, ...]] = {
    "maj": (0, 4, 7),
    "min": (0, 3, 7),
    "7": (0, 4, 7, 10),
    "min7": (0, 3, 7, 10),
}
SCALE_TONES: dict[str, tuple[int, ...]] = {  # walking basses pass through the chord's scale
    "maj": (0, 2, 4, 5, 7, 9, 11),
    "min": (0, 2, 3, 5, 7, 8, 9, 10),
    "7": (0, 2, 4, 5, 7, 9, 10),
    "min7": (0, 2, 3, 5, 7, 9, 10),
}


def chart(numerator: int, denominator: int, bars: int = 8, ticks_per_beat: int = TPB) -> Score:
    """A lead sheet: one chord of `PROGRESSION` per bar and one melody note per bar."""
    bar = ticks_per_beat * 4 * numerator // denominator
    chords = [PROGRESSION[i % len(PROGRESSION)] for i in range(bars)]
    score = Score(
        ticks_per_beat=ticks_per_beat,
        tempos=[TempoChange(0, 100.0)],
        time_signatures=[TimeSignature(0, numerator, denominator)],
        chords=[Chord(i * bar, bar, root, quality) for i, (root, quality) in enumerate(chords)],
        end_tick=bars * bar,
    )
    score.tracks["vocal"].notes = [
        Note(i * bar, bar // 2, 60 + root, lyric="la") for i, (root, _) in enumerate(chords)
    ]
    return score.validate()


def chord_at(score: Score, tick: int) -> Chord | None:
    return next((c for c in score.chords if c.tick <= tick < c.tick + c.duration), None)


def chord_tone_fraction(
    arranged: Score, tracks: tuple[str, ...], tones: dict[str, tuple[int, ...]] = CHORD_TONES
) -> float:
    """Fraction of the tracks' notes whose pitch class is in `tones` of the chord sounding there."""
    hits = total = 0
    for name in tracks:
        for note in arranged.notes(name):
            chord = chord_at(arranged, note.tick + arranged.ticks_per_beat // 16)
            if chord is None or chord.root is None:
                continue
            total += 1
            hits += (note.pitch - chord.root) % 12 in tones[chord.quality]
    assert total > 0
    return hits / total


def bass_at_chord_starts(arranged: Score, intervals: tuple[int, ...] | None) -> float:
    """Fraction of chords whose lowest bass note at the chord's onset is one of `intervals`.

    With `intervals` None: the fraction of chords with a bass onset at all.
    """
    window = arranged.ticks_per_beat // 8
    hits = 0
    for chord in arranged.chords:
        assert chord.root is not None
        near = [n for n in arranged.notes("bass") if abs(n.tick - chord.tick) <= window]
        lowest = min((n.pitch for n in near), default=None)
        if lowest is not None and (intervals is None or (lowest - chord.root) % 12 in intervals):
            hits += 1
    return hits / len(arranged.chords)


def all_notes(score: Score) -> list[Note]:
    return [note for name in ACCOMPANIMENT_TRACKS for note in score.notes(name)]


STYLE_METERS = [
    pytest.param(name, meter, id=f"{name}-{meter}")
    for name, style in STYLES.items()
    for meter in style.grooves
]


@needs_mma
@pytest.mark.parametrize(("style", "meter"), STYLE_METERS)
def test_every_style_renders_and_follows_the_chords(style: str, meter: str):
    numerator, denominator = (int(part) for part in meter.split("/"))
    score = chart(numerator, denominator)
    arranged = accompany(score, style, seed=1)
    groove = STYLES[style].grooves[meter]  # type: ignore[index]
    for name in ACCOMPANIMENT_TRACKS:
        assert bool(arranged.notes(name)) == (name not in groove.missing), name
    assert arranged.tracks["vocal"] == score.tracks["vocal"]
    assert arranged.chords == score.chords
    assert arranged.tempos == score.tempos and arranged.time_signatures == score.time_signatures
    assert min(n.tick for n in all_notes(arranged)) >= 0
    assert max(n.end for n in all_notes(arranged)) <= score.end_tick
    assert chord_tone_fraction(arranged, ("piano", "guitar")) >= 0.9
    assert chord_tone_fraction(arranged, ("bass",), SCALE_TONES) >= 0.9
    assert bass_at_chord_starts(arranged, None) >= 0.5  # on the grid: the bass plays at bar starts


@needs_mma
@pytest.mark.parametrize("style", ["pop", "rock", "ballad", "swing", "blues", "bossa", "hymn"])
def test_bass_plays_the_root_at_bar_starts(style: str):
    arranged = accompany(chart(4, 4, bars=16), style, seed=3)
    assert bass_at_chord_starts(arranged, (0,)) >= 0.8


@needs_mma
@pytest.mark.parametrize(
    ("style", "numerator", "denominator"), [("march", 2, 4), ("pop", 2, 2), ("waltz", 3, 8)]
)
def test_related_meters_use_the_family_groove(style: str, numerator: int, denominator: int):
    score = chart(numerator, denominator)
    arranged = accompany(score, style, seed=1)
    assert bass_at_chord_starts(arranged, (0, 7)) >= 0.75
    assert max(n.end for n in all_notes(arranged)) <= score.end_tick


@needs_mma
def test_chord_changes_inside_bars_are_followed():
    score = chart(4, 4)
    half = 2 * TPB
    score.chords = [
        Chord(i * half, half, root, quality)
        for i, (root, quality) in enumerate(PROGRESSION + PROGRESSION)
    ]
    song = mma_song(score, plan_bars(score, get_style("pop")), 0)
    assert "\n1 C G@3\n" in song and "\n3 Dm7 G7@3\n" in song
    arranged = accompany(score, "pop", seed=0)
    assert chord_tone_fraction(arranged, ("piano", "guitar")) >= 0.9
    assert bass_at_chord_starts(arranged, (0,)) >= 0.75


@needs_mma
def test_a_bar_without_chords_is_a_rest_for_the_band():
    score = chart(4, 4)
    bar = 4 * TPB
    score.chords = [c for c in score.chords if c.tick != 3 * bar]  # bar 3 is N
    arranged = accompany(score, "pop", seed=2)
    late = TPB // 8  # humanised onsets of the bar before
    pitched = ("bass", "piano", "guitar")
    assert not [
        n for name in pitched for n in arranged.notes(name) if 3 * bar + late <= n.tick < 4 * bar
    ]
    assert [n for n in arranged.notes("drums") if 3 * bar <= n.tick < 4 * bar]  # `z` keeps time
    assert [n for n in arranged.notes("bass") if 4 * bar <= n.tick < 5 * bar]


@needs_mma
def test_a_pickup_bar_is_left_silent():
    # A 1/4 pickup bar, then 4/4 bars whose chords start after the pickup.
    bar = 4 * TPB
    score = Score(
        ticks_per_beat=TPB,
        time_signatures=[TimeSignature(0, 1, 4), TimeSignature(TPB, 4, 4)],
        chords=[Chord(0, TPB, 7, "maj")]
        + [Chord(TPB + i * bar, bar, root, q) for i, (root, q) in enumerate(PROGRESSION)],
        end_tick=TPB + 8 * bar,
    )
    score.tracks["vocal"].notes = [Note(0, TPB, 67)]
    arranged = accompany(score.validate(), "rock", seed=0)
    assert min(n.tick for n in all_notes(arranged)) == TPB
    assert bass_at_chord_starts(arranged, (0,)) >= 7 / 9  # the pickup's G is not played


@needs_mma
def test_bars_before_the_first_chord_are_left_silent():
    score = chart(4, 4)
    bar = 4 * TPB
    score.chords = [c for c in score.chords if c.tick >= bar]  # the melody's bar 0 is a lead-in
    arranged = accompany(score, "folk", seed=0)
    assert min(n.tick for n in all_notes(arranged)) == bar
    assert min(arranged.notes("bass"), key=lambda n: n.tick).pitch % 12 == 7  # G, bar 1's chord


@needs_mma
def test_same_seed_gives_identical_output_and_seeds_differ():
    score = chart(4, 4)
    first = arrange_midi(score, "pop", 11)
    assert arrange_midi(score, "pop", 11) == first  # byte-identical MIDI
    assert accompany(score, "pop", 11) == accompany(score, "pop", 11)
    others = [arrange_midi(score, "pop", seed) for seed in (12, 13)]
    assert any(other != first for other in others)


@needs_mma
def test_the_accompaniment_ends_by_the_score_end():
    score = chart(4, 4)
    score.end_tick = 7 * 4 * TPB + TPB  # the score stops after beat 1 of the last bar
    arranged = accompany(score, "ballad", seed=0)
    assert max(n.end for n in all_notes(arranged)) <= score.end_tick
    trailing = chart(4, 4, bars=10)
    trailing.chords = trailing.chords[:8]  # two bars of melody without chords at the end
    arranged = accompany(trailing, "swing", seed=0)
    assert max(n.end for n in all_notes(arranged)) <= 8 * 4 * TPB


@needs_mma
def test_a_meter_change_switches_the_groove():
    bar44, bar34 = 4 * TPB, 3 * TPB
    score = chart(4, 4, bars=4)
    score.time_signatures.append(TimeSignature(4 * bar44, 3, 4))
    score.chords += [
        Chord(4 * bar44 + i * bar34, bar34, root, q) for i, (root, q) in enumerate(PROGRESSION[:4])
    ]
    score.end_tick = 4 * bar44 + 4 * bar34
    song = mma_song(score, plan_bars(score.validate(), get_style("pop")), 0)
    assert "Groove 8Beat" in song and "Groove PopWaltz" in song
    arranged = accompany(score, "pop", seed=0)
    assert bass_at_chord_starts(arranged, (0, 7)) == 1.0
    assert max(n.end for n in all_notes(arranged)) <= score.end_tick


@needs_mma
@pytest.mark.parametrize("ticks_per_beat", [96, 384])
def test_other_resolutions_keep_the_grid(ticks_per_beat: int):
    score = chart(4, 4, ticks_per_beat=ticks_per_beat)
    arranged = accompany(score, "pop", seed=0)
    assert arranged.ticks_per_beat == ticks_per_beat
    assert bass_at_chord_starts(arranged, (0,)) >= 0.8


@needs_mma
def test_groove_beats_match_mma():
    """Each groove's `beats` is its MMA `Time` (one `mma -n` run prints them all)."""
    grooves = {g.name: g.beats for style in STYLES.values() for g in style.grooves.values()}
    song = "".join(f"Groove {name}\nPrint {name} $_TIME\n" for name in grooves) + "C\n"
    result = subprocess.run(
        [mma_binary(), "-n", "-"], input=song, capture_output=True, text=True, check=True
    )
    words = [line.split() for line in result.stdout.splitlines()]
    printed = {w[0]: w[1] for w in words if len(w) == 2 and w[0] in grooves}
    assert {name: float(printed[name]) for name in grooves} == grooves


def test_unknown_style_is_a_user_error():
    with pytest.raises(UserError, match="unknown accompaniment style 'polka'"):
        accompany(chart(4, 4), "polka", seed=0)


def test_missing_mma_is_a_user_error(monkeypatch: pytest.MonkeyPatch):
    monkeypatch.setattr(accompaniment.shutil, "which", lambda name: None)
    with pytest.raises(UserError, match="mma"):
        accompany(chart(4, 4), "pop", seed=0)


def test_bad_input_is_a_user_error():
    with pytest.raises(UserError, match="no groove for 4/4"):
        accompany(chart(4, 4), "waltz", seed=0)
    no_chords = chart(4, 4)
    no_chords.chords = [Chord(0, 4 * TPB, None)]
    with pytest.raises(UserError, match="no chords"):
        accompany(no_chords, "pop", seed=0)
    with pytest.raises(UserError, match="seed"):
        accompany(chart(4, 4), "pop", seed=-1)


@needs_mma
def test_mma_failure_is_a_runtime_error_with_its_message(monkeypatch: pytest.MonkeyPatch):
    broken = Style("broken", "", {"4/4": Groove("NoSuchGroove", 4)})
    monkeypatch.setitem(accompaniment.STYLES, "broken", broken)
    with pytest.raises(RuntimeError, match=r"NOSUCHGROOVE.*could not be found"):
        accompany(chart(4, 4), "broken", seed=0)


def test_chord_lines_place_changes_at_beats():
    bar = 4 * TPB
    chords = [Chord(bar, TPB, 0, "maj"), Chord(bar + 2 * TPB + TPB // 2, TPB, 7, "hdim7")]
    span = (bar, 3 * bar)
    assert chord_line(chords, bar, bar, 4, span) == "C z@2 Gm7b5@3.5 z@4.5"
    assert chord_line(chords, 0, bar, 4, (bar, 2 * bar)) == "z!"
    qualities = {
        "maj": "Bb",
        "min": "Bbm",
        "dim": "Bbmb5",
        "aug": "Bbaug",
        "sus2": "Bbsus2",
        "sus4": "Bbsus4",
        "7": "Bb7",
        "maj7": "BbM7",
        "min7": "Bbm7",
        "hdim7": "Bbm7b5",
        "dim7": "Bbdim7",
    }
    for quality, name in qualities.items():
        assert chord_line([Chord(0, bar, 10, quality)], 0, bar, 4, (0, bar)) == name
    six_eight = chord_line(
        [Chord(0, 720, 2, "min"), Chord(720, 720, 9, "7")], 0, 1440, 2, (0, 1440)
    )
    assert six_eight == "Dm A7@2"


@pytest.mark.parametrize(
    ("name", "program", "is_drum", "track"),
    [
        ("Drum", 0, True, "drums"),
        ("Bass", 26, False, "bass"),  # bossa nova's nylon-guitar bass line
        ("Walk", 19, False, "bass"),
        ("Walk-Main", 32, False, "bass"),
        ("Bass-Sax", 66, False, "piano"),
        ("Bass-Guitar", 24, False, "guitar"),
        ("Bass-9", 35, False, "bass"),
        ("Chord", 58, False, "bass"),  # tuba
        ("Chord-Banjo", 105, False, "guitar"),
        ("Chord-Piano", 2, False, "piano"),
        ("Chord-Sus", 48, False, "piano"),
        ("Chord-Sus", 53, False, "piano"),  # a voice pad is not the melody
        ("Plectrum", 25, False, "guitar"),
    ],
)
def test_mma_tracks_map_onto_ours(name: str, program: int, is_drum: bool, track: str):
    assert mma_track_for(name, program, is_drum) == track


def test_styles_cover_the_corpus_meters():
    required = {"pop", "rock", "folk", "ballad", "waltz", "march", "swing", "country", "hymn"}
    assert required | {"bossa", "latin"} <= set(STYLES)
    assert "waltz" in styles_for(TimeSignature(0, 3, 4))
    assert "waltz" not in styles_for(TimeSignature(0, 4, 4))
    assert {"march", "swing", "folk"} <= set(styles_for(TimeSignature(0, 6, 8)))
    assert styles_for(TimeSignature(0, 7, 8)) == []
