"""The input gate (`seedmusic.inputs`): one test per rule, and the repairs it logs."""

from __future__ import annotations

import json
import logging
import re
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf

import seedmusic.inputs as inputs
from score_tokens.errors import ScoreError
from score_tokens.io import write_score
from score_tokens.score import Note, Score, TempoChange, TimeSignature
from seedmusic.errors import UserError
from seedmusic.inputs import (
    check_audio,
    probe_audio,
    read_audio,
    read_codes_npz,
    read_source_audio,
    read_token_file,
    read_user_score,
)

RATE = 16_000


def _tone(seconds: float = 0.5, rate: int = RATE, channels: int = 1) -> np.ndarray:
    """`[C, S]` (or `[S]` for one channel) of a 0.3-amplitude sine."""
    wave = 0.3 * np.sin(2 * np.pi * 220 * np.arange(round(seconds * rate)) / rate)
    return wave if channels == 1 else np.stack([wave * (c + 1) / channels for c in range(channels)])


def _wav(path: Path, samples: np.ndarray, rate: int = RATE, subtype: str = "PCM_16") -> Path:
    sf.write(str(path), samples.T, rate, subtype=subtype)
    return path


# ---------------------------------------------------------------------------------- audio


@pytest.mark.parametrize(
    ("rate", "channels", "seconds", "message"),
    [
        (7_999, 1, 0.5, "sample rate 7999 Hz is outside 8000..192000 Hz"),
        (192_001, 1, 0.5, "sample rate 192001 Hz is outside"),
        (RATE, 9, 0.5, "it has 9 channels; at most 8"),
        (RATE, 1, 0.0, "holds no samples (zero length)"),
        (RATE, 1, 0.049, "lasts 49 ms (784 samples at 16000 Hz); audio must last at least 50 ms"),
    ],
)
def test_check_audio_refuses_what_the_verbs_cannot_use(
    rate: int, channels: int, seconds: float, message: str
) -> None:
    samples = np.zeros((channels, round(seconds * rate)), dtype=np.float32)
    with pytest.raises(UserError, match=re.escape(message)) as info:
        check_audio(samples, rate, "take.wav")
    assert str(info.value).startswith("cannot read audio 'take.wav': ")


@pytest.mark.parametrize(("rate", "channels"), [(8_000, 1), (192_000, 8), (RATE, 2)])
def test_check_audio_takes_the_edges_of_the_ranges(rate: int, channels: int) -> None:
    check_audio(np.full((channels, round(0.05 * rate)), 0.1, dtype=np.float32), rate, "x.wav")


def test_non_finite_samples_are_counted_block_by_block(monkeypatch: pytest.MonkeyPatch) -> None:
    samples = _tone(channels=2)
    samples[0, 10], samples[1, 7000] = np.nan, -np.inf
    monkeypatch.setattr(inputs, "SCAN_BLOCK", 999)  # the two in different blocks
    with pytest.raises(UserError, match="2 of its samples are NaN or infinite"):
        check_audio(samples, RATE, "x.wav")


def test_silence_and_clipping_are_warnings(caplog: pytest.LogCaptureFixture) -> None:
    with caplog.at_level(logging.WARNING, logger="seedmusic.inputs"):
        check_audio(np.zeros(RATE), RATE, "quiet.wav")
        assert "quiet.wav: the audio is silent" in caplog.text
        caplog.clear()
        check_audio(np.clip(4 * _tone(), -1, 1), RATE, "loud.wav")
        assert "loud.wav: " in caplog.text and "% of samples are clipped" in caplog.text
        caplog.clear()
        barely = _tone()
        barely[:50] = 1.0  # 50 of 8000: under 1 %
        check_audio(barely, RATE, "fine.wav")
        check_audio(_tone(), RATE, "fine.wav")
    assert caplog.text == ""


def test_probe_reads_only_the_header(tmp_path: Path) -> None:
    path = _wav(tmp_path / "a.wav", _tone(channels=3), subtype="PCM_24")
    info = probe_audio(path)
    assert info is not None
    assert (info.sample_rate, info.channels, info.frames, info.subtype) == (RATE, 3, 8000, "PCM_24")
    (tmp_path / "empty.wav").write_bytes(b"")
    (tmp_path / "text.wav").write_text("not audio\n" * 50)
    for path, message in (
        (tmp_path / "missing.wav", "the file does not exist"),
        (tmp_path, "it is a folder"),
        (tmp_path / "empty.wav", "the file is empty"),
        (tmp_path / "text.wav", "not a readable audio file"),
    ):
        with pytest.raises(UserError, match=message):
            probe_audio(path)


def test_a_compressed_file_libsndfile_cannot_open_is_left_to_the_other_decoder(
    tmp_path: Path,
) -> None:
    path = tmp_path / "song.m4a"
    path.write_bytes(np.random.default_rng(0).bytes(2000))
    assert probe_audio(path) is None
    with pytest.raises(UserError, match="cannot read audio"):
        read_audio(path)


def test_read_audio_logs_the_downmix_and_the_resampling(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _wav(tmp_path / "stereo.wav", _tone(channels=2))
    with caplog.at_level(logging.INFO, logger="seedmusic.inputs"):
        audio = read_audio(path, sample_rate=8_000)
    assert audio.samples.shape == (4000,) and audio.sample_rate == 8_000
    assert "mixed 2 channels down to mono" in caplog.text
    assert "resampled from 16000 Hz to 8000 Hz" in caplog.text
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="seedmusic.inputs"):
        both = read_audio(path, mono=False)
    assert both.samples.shape == (2, 8000) and caplog.text == ""


def test_read_audio_mixes_while_reading_and_refuses_before_reading(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[bool] = []
    original = inputs.load_audio

    def spy(path: Path, mono: bool = True) -> object:
        calls.append(mono)
        return original(path, mono=mono)

    monkeypatch.setattr(inputs, "load_audio", spy)
    read_audio(_wav(tmp_path / "six.wav", _tone(channels=6)))
    assert calls == [True]  # `mir.audio.load_audio`'s block-wise downmix, not a whole [C, S]
    with pytest.raises(UserError, match="9 channels"):
        read_audio(_wav(tmp_path / "nine.wav", _tone(channels=9)))
    with pytest.raises(UserError, match="sample rate 4000 Hz"):
        read_audio(_wav(tmp_path / "low.wav", _tone(rate=4_000), rate=4_000))
    assert calls == [True]


def test_read_source_audio_keeps_the_file_as_it_is(tmp_path: Path) -> None:
    samples = _tone(channels=3)
    path = _wav(tmp_path / "take.wav", samples, subtype="PCM_24")
    source = read_source_audio(path)
    assert source.samples.shape == (3, 8000) and source.samples.dtype == np.float32
    assert source.sample_rate == RATE and source.subtype == "PCM_24"
    exact, _ = sf.read(str(path), dtype="float64", always_2d=True)
    np.testing.assert_array_equal(source.samples, exact.T)  # float32 holds 24-bit samples
    wide = read_source_audio(_wav(tmp_path / "wide.wav", samples, subtype="PCM_32"))
    assert wide.samples.dtype == np.float64 and wide.subtype == "PCM_32"
    assert read_source_audio(_wav(tmp_path / "u.wav", samples, subtype="ULAW")).subtype == "FLOAT"
    nan = samples.copy()
    nan[1, 5] = np.nan
    with pytest.raises(UserError, match="1 of its samples are NaN or infinite"):
        read_source_audio(_wav(tmp_path / "nan.wav", nan, subtype="FLOAT"))
    with pytest.raises(UserError, match=r"lasts 0\.62 ms"):
        read_source_audio(_wav(tmp_path / "short.wav", samples[:, :10]))


# ---------------------------------------------------------------------------------- scores


def _score(*notes: Note, track: str = "piano", **changes: object) -> Score:
    score = Score(**changes)  # type: ignore[arg-type]
    score.tracks[track].notes = list(notes)
    return score


def _json(tmp_path: Path, score: Score, name: str = "score.json") -> Path:
    path = tmp_path / name
    path.write_text(json.dumps(score.to_dict()))
    return path


def test_a_score_error_names_the_file(tmp_path: Path) -> None:
    document = _score(Note(0, 480, 60)).to_dict()
    document["tempos"] = [{"tick": 0, "bpm": 0}]
    path = tmp_path / "song.json"
    path.write_text(json.dumps(document))
    with pytest.raises(
        ScoreError, match=r"song\.json: .*tempo 0\.0 bpm at tick 0 is outside 1\.\.1000"
    ):
        read_user_score(path)
    with pytest.raises(ScoreError, match="does not exist") as info:
        read_user_score(tmp_path / "missing.json")
    assert str(info.value).count("missing.json") == 1


def test_no_notes_is_an_error_only_where_the_score_is_played(tmp_path: Path) -> None:
    path = _json(tmp_path, Score())
    assert read_user_score(path).num_notes() == 0
    with pytest.raises(UserError, match=r"score\.json: the score has no notes"):
        read_user_score(path, playable=True)


def test_a_tempo_outside_20_to_400_bpm_is_a_warning_or_an_error(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    path = _json(tmp_path, _score(Note(0, 480, 60), tempos=[TempoChange(0, 5.0)]))
    with caplog.at_level(logging.WARNING, logger="seedmusic.inputs"):
        assert read_user_score(path).tempos[0].bpm == 5.0
    assert "tempo 5 bpm at tick 0 is outside 20..400 bpm" in caplog.text
    with pytest.raises(UserError, match=r"tempo 5 bpm at tick 0 is outside 20\.\.400 bpm"):
        read_user_score(path, playable=True)
    fast = _json(tmp_path, _score(Note(0, 480, 60), tempos=[TempoChange(0, 400.0)]), "fast.json")
    assert read_user_score(fast, playable=True).tempos[0].bpm == 400.0


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"time_signatures": [TimeSignature(0, 1000, 4)]}, "1000/4 at tick 0: more than 32 beats"),
        (
            {"ticks_per_beat": 1, "time_signatures": [TimeSignature(0, 1, 8)]},
            "1/8 at tick 0: its bar is shorter than one tick at 1 ticks per beat",
        ),
        ({"end_tick": 10**12}, "runs to about 520833334 bars; at most 10000"),
    ],
)
def test_absurd_meters_and_lengths_are_refused(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    path = _json(tmp_path, _score(Note(0, 1, 60), **changes))
    with pytest.raises(UserError, match=message):
        read_user_score(path)


def test_a_midi_file_of_thousands_of_tracks_is_refused_before_it_is_parsed(
    tmp_path: Path,
) -> None:
    file = mido.MidiFile(type=1)
    file.tracks.extend(mido.MidiTrack() for _ in range(513))
    file.save(filename=str(tmp_path / "many.mid"))
    with pytest.raises(UserError, match="the MIDI file has 513 tracks; at most 512"):
        read_user_score(tmp_path / "many.mid")
    del file.tracks[1:]
    file.save(filename=str(tmp_path / "one.mid"))
    assert read_user_score(tmp_path / "one.mid").num_notes() == 0


def test_overlapping_notes_of_one_pitch_are_repaired_and_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    vocal = [
        Note(0, 960, 60, lyric=None),
        Note(0, 480, 60, lyric="la", phonemes=("l", "a")),  # same onset: dropped, words kept
        Note(480, 480, 60, lyric="li"),  # starts inside the first: it ends there
        Note(480, 960, 64, lyric="lo"),  # another pitch: untouched
    ]
    path = write_score(_score(*vocal, track="vocal"), tmp_path / "song.json")
    with caplog.at_level(logging.WARNING, logger="seedmusic.inputs"):
        score = read_user_score(path)
    notes = [(n.tick, n.duration, n.pitch, n.lyric, n.phonemes) for n in score.notes("vocal")]
    assert notes == [
        (0, 480, 60, "la", ("l", "a")),
        (480, 480, 60, "li", ()),
        (480, 960, 64, "lo", ()),
    ]
    assert (
        "notes of one pitch overlapped on a track; ended where the next starts: vocal 1; "
        "dropped, a second on one onset: vocal 1" in caplog.text
    )
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="seedmusic.inputs"):
        again = read_user_score(write_score(score, tmp_path / "repaired.json"))
    assert again == score and caplog.text == ""


def test_midi_lyrics_without_notes_are_dropped_with_a_warning(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    file = mido.MidiFile(type=1)
    file.tracks.append(
        mido.MidiTrack(
            [mido.MetaMessage("track_name", name="vocal")]
            + [mido.MetaMessage("lyrics", text="la", time=480)] * 3
        )
    )
    file.save(filename=str(tmp_path / "words.mid"))
    with caplog.at_level(logging.WARNING):
        assert read_user_score(tmp_path / "words.mid").num_notes() == 0
    assert "dropped 3 lyric event(s) that fall on no vocal note" in caplog.text
    with pytest.raises(UserError, match="no notes"):
        read_user_score(tmp_path / "words.mid", playable=True)


# ---------------------------------------------------------------------------------- tokens


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("tokens: Bar", "is not a JSON token file"),
        ('{"encoding": "abc", "tokens": []}', '"encoding" one of'),
        ('{"encoding": "remi", "tokens": [1]}', '"tokens" must be a list of strings'),
        ('{"encoding": "xval", "tokens": ["Bar"]}', 'xval "values" must be a list as long'),
        ('{"encoding": "xval", "tokens": ["Bar"], "values": [true]}', "not infinite"),
        ('{"encoding": "xval", "tokens": ["Bar"], "values": [-Infinity]}', "not infinite"),
    ],
)
def test_bad_token_files_are_one_line(tmp_path: Path, text: str, message: str) -> None:
    path = tmp_path / "tokens.json"
    path.write_text(text)
    with pytest.raises(UserError, match=message):
        read_token_file(path)


def test_a_token_file_that_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "tokens.json"
    path.write_text('{"encoding": "xval", "tokens": ["Bar", "[NUM]"], "values": [null, NaN]}')
    assert read_token_file(path)["tokens"] == ["Bar", "[NUM]"]
    with pytest.raises(FileNotFoundError, match="no such token file"):
        read_token_file(tmp_path / "missing.json")


# ---------------------------------------------------------------------------------- codes


def _codes(path: Path, **changes: object) -> Path:
    arrays: dict[str, object] = {
        "codes": np.zeros((2, 5), np.int16),
        "sample_rate": np.int64(8000),
        "frame_rate": np.float64(250.0),
        "codebook_size": np.int64(16),
        "num_samples": np.int64(160),
    }
    arrays.update(changes)
    with open(path, "wb") as handle:
        np.savez(handle, **{key: value for key, value in arrays.items() if value is not None})
    return path


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"codebook_size": None}, "missing codebook_size"),
        ({"codes": np.zeros((2, 5))}, r"codes must be integers of shape \[K, T\]"),
        ({"codes": np.zeros(5, np.int16)}, r"codes must be integers of shape \[K, T\]"),
        ({"codes": np.zeros((2, 0), np.int16)}, "the codes hold no frames"),
        ({"codes": np.full((2, 5), 16)}, r"codes must lie in \[0, 16\) .*got \[16, 16\]"),
        ({"codes": np.full((2, 5), -1)}, r"got \[-1, -1\]"),
        ({"sample_rate": np.array("fast")}, "sample_rate must be one number"),
        ({"num_samples": np.array([1, 2])}, "num_samples must be one number"),
    ],
)
def test_bad_codes_files_are_one_line(
    tmp_path: Path, changes: dict[str, object], message: str
) -> None:
    with pytest.raises(UserError, match=message):
        read_codes_npz(_codes(tmp_path / "codes.npz", **changes))


def test_codes_that_are_fine_and_files_that_are_not_npz(tmp_path: Path) -> None:
    assert read_codes_npz(_codes(tmp_path / "codes.npz"))["codes"].shape == (2, 5)
    (tmp_path / "junk.npz").write_bytes(b"not a zip")
    with pytest.raises(UserError, match=r"not a codes \.npz file"):
        read_codes_npz(tmp_path / "junk.npz")
    with pytest.raises(UserError, match="no such file"):
        read_codes_npz(tmp_path / "missing.npz")
