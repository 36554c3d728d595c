"""Score <-> MIDI: exact round trips both ways, instrument mapping, lyrics, meta events."""

from __future__ import annotations

from pathlib import Path

import mido
import pretty_midi
import pytest

from score_tokens import Note, Score, ScoreError, read_score, write_score
from score_tokens.midi import (
    bpm_to_microseconds,
    microseconds_to_bpm,
    parse_key,
    score_from_midi,
    score_to_midi,
    score_to_mido,
    track_for_instrument,
)


def test_score_to_pretty_midi_to_score_is_exact(small_score: Score) -> None:
    assert score_from_midi(score_to_midi(small_score)) == small_score


def test_score_to_file_to_score_is_exact(small_score: Score, tmp_path: Path) -> None:
    small_score.end_tick = 3840 + 2 * 1440
    write_score(small_score, tmp_path / "song.mid")
    assert read_score(tmp_path / "song.mid") == small_score


def test_file_layout_is_readable_by_other_tools(small_score: Score, tmp_path: Path) -> None:
    write_score(small_score, tmp_path / "song.mid")
    midi = pretty_midi.PrettyMIDI(str(tmp_path / "song.mid"), charset="utf-8")
    names = [(i.name, i.is_drum) for i in midi.instruments]
    assert names == [
        ("vocal", False),
        ("bass", False),
        ("piano", False),
        ("guitar", False),
        ("drums", True),
    ]
    assert [lyric.text for lyric in midi.lyrics] == ["Twin", "kle", "star", "ó"]
    file = mido.MidiFile(str(tmp_path / "song.mid"), charset="utf-8")
    markers = [m.text for m in file.tracks[0] if m.type == "marker"]
    assert markers == ["verse", "chorus"]
    texts = [m.text for m in file.tracks[0] if m.type == "text"]
    assert texts[:2] == ["chord:A:min", "chord:F:maj7"]
    assert [m.key for m in file.tracks[0] if m.type == "key_signature"] == ["Am"]


def test_rescaling_to_another_resolution_keeps_musical_time(small_score: Score) -> None:
    rescaled = score_from_midi(score_to_midi(small_score), ticks_per_beat=960)
    assert rescaled.ticks_per_beat == 960
    assert [n.tick for n in rescaled.notes("vocal")] == [
        2 * n.tick for n in small_score.notes("vocal")
    ]
    assert rescaled.time_signatures[1].tick == 2 * 3840


def _foreign_midi(path: Path) -> Path:
    """A multi-track file as a DAW might write it: its own resolution, names, tempo/meter changes."""
    file = mido.MidiFile(type=1, ticks_per_beat=96)
    conductor = mido.MidiTrack(
        [
            mido.MetaMessage("set_tempo", tempo=500000, time=0),
            mido.MetaMessage("time_signature", numerator=4, denominator=4, time=0),
            mido.MetaMessage("key_signature", key="Eb", time=0),
            mido.MetaMessage("marker", text="Intro", time=0),
            mido.MetaMessage("set_tempo", tempo=400000, time=384),
            mido.MetaMessage("time_signature", numerator=6, denominator=8, time=0),
            mido.MetaMessage("end_of_track", time=0),
        ]
    )
    file.tracks.append(conductor)

    def track(
        name: str,
        channel: int,
        program: int,
        notes: list[tuple[int, int, int]],
        lyrics: list[str] = (),
    ) -> None:
        events = [
            mido.MetaMessage("track_name", name=name, time=0),
            mido.Message("program_change", channel=channel, program=program, time=0),
        ]
        timed = []
        for index, (tick, duration, pitch) in enumerate(notes):
            if index < len(lyrics):
                timed.append((tick, 1, mido.MetaMessage("lyrics", text=lyrics[index])))
            timed.append(
                (tick, 2, mido.Message("note_on", channel=channel, note=pitch, velocity=77))
            )
            timed.append(
                (
                    tick + duration,
                    0,
                    mido.Message("note_off", channel=channel, note=pitch, velocity=0),
                )
            )
        now = 0
        for tick, _, message in sorted(timed, key=lambda item: (item[0], item[1])):
            events.append(message.copy(time=tick - now))
            now = tick
        file.tracks.append(mido.MidiTrack(events))

    track(
        "Lead Vox",
        0,
        0,
        [(0, 96, 67), (96, 48, 69), (144, 48, 71), (384, 144, 72)],
        ["Hel", "lo", "o", "world"],
    )
    track("Strings", 1, 48, [(0, 384, 55), (384, 288, 57)])
    track("Fingered", 2, 33, [(0, 192, 39), (192, 192, 43), (384, 288, 36)])
    track("Nylon", 3, 24, [(0, 96, 60)])
    track("Organ", 4, 19, [(192, 96, 62)])
    track("Kit", 9, 0, [(0, 24, 36), (96, 24, 42), (192, 24, 38), (384, 24, 49)])
    file.save(str(path))
    return path


def test_foreign_multitrack_midi_maps_onto_the_five_tracks(tmp_path: Path) -> None:
    score = read_score(_foreign_midi(tmp_path / "daw.mid"))
    assert score.ticks_per_beat == 96
    assert [(t.tick, t.bpm) for t in score.tempos] == [(0, 120.0), (384, 150.0)]
    assert [(t.tick, t.numerator, t.denominator) for t in score.time_signatures] == [
        (0, 4, 4),
        (384, 6, 8),
    ]
    assert score.key == "Eb major"
    assert [(s.tick, s.label) for s in score.sections] == [(0, "Intro")]
    assert [(n.tick, n.duration, n.pitch) for n in score.notes("vocal")] == [
        (0, 96, 67),
        (96, 48, 69),
        (144, 48, 71),
        (384, 144, 72),
    ]
    assert [n.lyric for n in score.notes("vocal")] == ["Hel", "lo", "o", "world"]
    assert [n.pitch for n in score.notes("bass")] == [39, 43, 36]
    assert score.tracks["bass"].program == 33
    assert [n.pitch for n in score.notes("guitar")] == [60]
    # strings and organ both go to piano, merged; the program of the first (strings) is kept
    assert [n.pitch for n in score.notes("piano")] == [55, 62, 57]
    assert score.tracks["piano"].program == 48
    assert [n.pitch for n in score.notes("drums")] == [36, 42, 38, 49]


def test_foreign_midi_to_score_to_midi_is_exact(tmp_path: Path) -> None:
    source = pretty_midi.PrettyMIDI(str(_foreign_midi(tmp_path / "daw.mid")))
    score = score_from_midi(source)
    again = score_to_midi(score)
    assert again.resolution == source.resolution

    def notes(midi: pretty_midi.PrettyMIDI) -> list[tuple[bool, int, int, int, int]]:
        return sorted(
            (i.is_drum, midi.time_to_tick(n.start), midi.time_to_tick(n.end), n.pitch, n.velocity)
            for i in midi.instruments
            for n in i.notes
        )

    assert notes(again) == notes(source)
    assert [(round(t, 9)) for t in again.get_tempo_changes()[1]] == [
        round(t, 9) for t in source.get_tempo_changes()[1]
    ]
    assert [(ts.numerator, ts.denominator, ts.time) for ts in again.time_signature_changes] == [
        (ts.numerator, ts.denominator, ts.time) for ts in source.time_signature_changes
    ]
    assert [k.key_number for k in again.key_signature_changes] == [
        k.key_number for k in source.key_signature_changes
    ]
    assert [(lyr.text, lyr.time) for lyr in again.lyrics] == [
        (lyr.text, lyr.time) for lyr in source.lyrics
    ]


def test_chorale_midi_round_trips_through_score(
    chorale_files: list[tuple[Path, Path]], tmp_path: Path
) -> None:
    for midi_path, _ in chorale_files:
        source = pretty_midi.PrettyMIDI(str(midi_path))
        score = read_score(midi_path)
        assert score.num_notes() == sum(len(i.notes) for i in source.instruments) > 50
        write_score(score, tmp_path / "again.mid")
        again = read_score(tmp_path / "again.mid")
        # soprano -> vocal and bass -> bass are single parts: exact; alto + tenor merge into
        # piano, where their overlapping unisons are one MIDI key and may be cut
        assert again.tracks["vocal"] == score.tracks["vocal"]
        assert again.tracks["bass"] == score.tracks["bass"]
        assert (again.tempos, again.time_signatures, again.key) == (
            score.tempos,
            score.time_signatures,
            score.key,
        )
        assert [(n.tick, n.pitch) for n in again.notes("piano")] == [
            (n.tick, n.pitch) for n in score.notes("piano")
        ]
        write_score(again, tmp_path / "third.mid")
        assert read_score(tmp_path / "third.mid") == again


@pytest.mark.parametrize(
    ("name", "program", "is_drum", "track"),
    [
        ("Soprano", 0, False, "vocal"),
        ("Bass", 0, False, "bass"),
        ("Bassoon", 70, False, "piano"),
        ("Lead Guitar", 29, False, "guitar"),
        ("", 53, False, "vocal"),
        ("", 85, False, "vocal"),
        ("", 38, False, "bass"),
        ("", 26, False, "guitar"),
        ("", 40, False, "piano"),
        ("Vocal", 0, True, "drums"),
    ],
)
def test_instrument_mapping(name: str, program: int, is_drum: bool, track: str) -> None:
    assert track_for_instrument(name, program, is_drum) == track


@pytest.mark.parametrize("bpm", [120.0, 97.3, 60.0, 33.333, 174.5, 999.0])
def test_tempo_survives_integer_microseconds(bpm: float) -> None:
    assert microseconds_to_bpm(bpm_to_microseconds(bpm)) == bpm


def test_keys_parse_in_common_spellings() -> None:
    assert parse_key("A minor") == (9, "minor")
    assert parse_key("Bb major") == (10, "major")
    assert parse_key("f#m") == (6, "minor")
    assert parse_key("E♭ min") == (3, "minor")
    with pytest.raises(ScoreError, match="cannot read key"):
        parse_key("H dorian")


def test_lyrics_in_a_vocal_chord_keep_their_note(small_score: Score) -> None:
    small_score.tracks["vocal"].notes += [
        Note(5280, 480, 60, 90),
        Note(5280, 480, 64, 90, "ah", ("AA1",)),
    ]
    small_score.sort()
    back = score_from_midi(score_to_midi(small_score))
    assert back == small_score


@pytest.mark.parametrize(
    "payload",
    [
        b"",
        b"MThd garbage",
        b"RIFF\x00\x00\x00\x00WAVEfmt ",
        b"MThd\x00\x00\x00\x06\x00\x01\x00\x02\x01\xe0MTrk\x00\x00\x10\x00\x90",
    ],
)
def test_corrupt_midi_raises_score_error(payload: bytes, tmp_path: Path) -> None:
    path = tmp_path / "bad.mid"
    path.write_bytes(payload)
    with pytest.raises(ScoreError):
        read_score(path)


def test_resolution_too_large_for_midi_is_refused(small_score: Score) -> None:
    small_score.ticks_per_beat = 40000
    with pytest.raises(ScoreError, match="does not fit"):
        score_to_mido(small_score)
