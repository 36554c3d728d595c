"""MIDI that seedmusic did not write (MMA's band arrangements: drums on channel 10, many
instruments, tempo and meter events) goes MIDI -> Score -> MIDI -> Score without loss."""

from __future__ import annotations

from pathlib import Path

import pytest

from score_tokens.midi import read_midi, write_midi
from score_tokens.score import TimeSignature
from seedmusic.data.accompaniment import arrange_midi
from seedmusic.data.example_song import example_song


@pytest.mark.parametrize(("style", "numerator"), [("pop", 4), ("swing", 3), ("latin", 4)])
def test_mma_midi_round_trips_through_score(tmp_path: Path, style: str, numerator: int) -> None:
    song = example_song()
    song.time_signatures = [TimeSignature(0, numerator, 4)]
    source = tmp_path / "mma.mid"
    source.write_bytes(arrange_midi(song, style, seed=3))
    score = read_midi(source)
    assert score.notes("drums") and score.notes("bass") and score.tempos
    again = tmp_path / "again.mid"
    write_midi(score, again)
    assert read_midi(again) == score
