"""Property tests: random grid-aligned scores survive MIDI and MusicXML round trips exactly."""

from __future__ import annotations

from pathlib import Path

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from score_tokens import (
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
    read_score,
    write_score,
)
from score_tokens.midi import score_from_midi, score_to_midi
from score_tokens.musicxml import score_from_music21, score_to_music21
from score_tokens.score import NOTE_TRACKS, PITCH_CLASS_NAMES

SYLLABLES = st.text(alphabet="abcdeklmnorstuyóü你好", min_size=1, max_size=4)
PHONEMES = st.lists(st.sampled_from(["AA1", "L", "IY0", "ʃ", "n", "ai3"]), max_size=3).map(tuple)


@st.composite
def midi_exact_scores(draw: st.DrawFn) -> Score:
    """Random scores inside what MIDI can hold (no same-pitch overlaps within a track, etc.)."""
    tpb = draw(st.sampled_from([96, 480, 960]))
    step = tpb // 4
    signatures = [TimeSignature(0, *draw(st.sampled_from([(4, 4), (3, 4), (6, 8), (5, 4)])))]
    bar_tick = 0
    score = Score(ticks_per_beat=tpb, time_signatures=signatures)
    for _ in range(draw(st.integers(1, 3))):
        bar_tick += score.bar_length(signatures[-1]) * draw(st.integers(1, 2))
        numerator, denominator = draw(st.sampled_from([(4, 4), (3, 4), (7, 8), (2, 2)]))
        if (numerator, denominator) != (signatures[-1].numerator, signatures[-1].denominator):
            signatures.append(TimeSignature(bar_tick, numerator, denominator))
    span = bar_tick + score.bar_length(signatures[-1])
    tempo_ticks = sorted(
        draw(st.sets(st.integers(1, span // step - 1).map(lambda k: k * step), max_size=3))
    )
    bpms = draw(
        st.lists(
            st.integers(3000, 24000).map(lambda b: b / 100),
            min_size=len(tempo_ticks) + 1,
            max_size=len(tempo_ticks) + 1,
            unique=True,
        )
    )
    score.tempos = [
        TempoChange(tick, bpm) for tick, bpm in zip([0, *tempo_ticks], bpms, strict=True)
    ]
    score.key = (
        f"{draw(st.sampled_from(PITCH_CLASS_NAMES))} {draw(st.sampled_from(['major', 'minor']))}"
    )
    for name in NOTE_TRACKS:
        score.tracks[name].notes = _notes(draw, name, span, step)
        if score.tracks[name].notes and name != "drums":
            score.tracks[name].program = draw(st.integers(0, 127))
    chord_ticks = sorted(
        draw(st.sets(st.integers(0, span // step - 2).map(lambda k: k * step), max_size=4))
    )
    for index, tick in enumerate(chord_ticks):
        limit = chord_ticks[index + 1] if index + 1 < len(chord_ticks) else span
        duration = draw(st.integers(1, (limit - tick) // step)) * step
        root = draw(st.one_of(st.none(), st.integers(0, 11)))
        quality = (
            "maj" if root is None else draw(st.sampled_from(["maj", "min", "7", "hdim7", "sus4"]))
        )
        score.chords.append(Chord(tick, duration, root, quality))
    section_ticks = sorted(
        draw(st.sets(st.integers(0, span // step - 1).map(lambda k: k * step), max_size=3))
    )
    score.sections = [
        Section(t, draw(st.sampled_from(["intro", "verse", "chorus"]))) for t in section_ticks
    ]
    return score.sort().validate()


def _notes(draw: st.DrawFn, name: str, span: int, step: int) -> list[Note]:
    notes: list[Note] = []
    for _ in range(draw(st.integers(0, 8))):
        tick = draw(st.integers(0, span // step - 1)) * step
        duration = draw(st.integers(1, 8)) * step
        pitch = draw(st.integers(35, 81) if name == "drums" else st.integers(28, 96))
        if any(n.pitch == pitch and n.tick < tick + duration and tick < n.end for n in notes):
            continue  # MIDI cannot hold two overlapping notes of one pitch on one track
        note = Note(tick, duration, pitch, draw(st.integers(1, 127)))
        if name == "vocal":
            note.lyric = draw(st.one_of(st.none(), SYLLABLES))
            note.phonemes = draw(PHONEMES)
        notes.append(note)
    return notes


@settings(max_examples=30, deadline=None)
@given(midi_exact_scores())
def test_score_midi_score_is_exact(score: Score) -> None:
    assert score_from_midi(score_to_midi(score)) == score


@settings(
    max_examples=10, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(score=midi_exact_scores())
def test_score_midi_file_score_is_exact(score: Score, tmp_path: Path) -> None:
    write_score(score, tmp_path / "song.mid")
    assert read_score(tmp_path / "song.mid") == score


@settings(max_examples=10, deadline=None)
@given(midi_exact_scores())
def test_score_musicxml_score_keeps_notes_lyrics_and_meta(score: Score) -> None:
    back = score_from_music21(score_to_music21(score), ticks_per_beat=score.ticks_per_beat)
    for name in NOTE_TRACKS:
        assert back.notes(name) == score.notes(name), name
    assert (back.tempos, back.time_signatures, back.key, back.sections) == (
        score.tempos,
        score.time_signatures,
        score.key,
        score.sections,
    )
    assert [(c.tick, c.root, c.quality) for c in back.chords] == [
        (c.tick, c.root, c.quality) for c in score.chords
    ]
