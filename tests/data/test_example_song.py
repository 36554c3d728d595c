"""The example song is a complete score, and FluidSynth renders it where the score says."""

from __future__ import annotations

import librosa
import numpy as np
import pytest

from score_tokens.score import NOTE_TRACKS
from seedmusic.data.example_song import example_song
from seedmusic.data.synth import TAIL_SECONDS, find_soundfont, only_tracks, render_score
from seedmusic.errors import UserError

SR = 16000


def test_example_song_fills_every_track_and_carries_lyrics():
    score = example_song()
    assert all(score.notes(name) for name in NOTE_TRACKS)
    assert len(score.chords) == 8 and [s.label for s in score.sections] == ["verse", "chorus"]
    vocal = score.notes("vocal")
    assert all(note.lyric and note.phonemes for note in vocal)
    assert score.duration_seconds() == pytest.approx(8 * 4 * 60 / 100)


def test_render_has_the_score_length_and_sound():
    score = example_song()
    audio = render_score(score, sample_rate=SR)
    assert audio.dtype == np.float32 and audio.ndim == 1
    assert audio.size == round((score.duration_seconds() + TAIL_SECONDS) * SR)
    assert 0.01 < np.abs(audio).max() <= 1.0


def test_piano_stem_onsets_line_up_with_the_score():
    score = example_song()
    stem = render_score(score, sample_rate=SR, tracks=["piano"])
    lead_in = SR // 2  # silence in front, so that the onset at t = 0 is detectable
    padded = np.concatenate([np.zeros(lead_in, dtype=np.float32), stem])
    detected = librosa.onset.onset_detect(y=padded, sr=SR, units="time", hop_length=128) - 0.5
    expected = sorted({score.tick_to_seconds(n.tick) for n in score.notes("piano")})
    assert len(detected) == len(expected)
    errors = [float(np.min(np.abs(detected - t))) for t in expected]
    assert max(errors) < 0.03, errors


def test_stem_of_an_unknown_track_is_an_error():
    with pytest.raises(ValueError, match="unknown track"):
        only_tracks(example_song(), ["kazoo"])


def test_missing_soundfont_is_a_user_error(tmp_path):
    with pytest.raises(UserError, match="not found"):
        find_soundfont(str(tmp_path / "nope.sf2"))
    with pytest.raises(UserError, match="unknown SoundFont"):
        find_soundfont("nope")
