"""The web UI's work without a browser: bad input becomes one `JobError` line, uploads are
checked against the limits, an analyzed recording becomes an editable song folder, sessions
keep their files apart."""

from __future__ import annotations

from pathlib import Path

import gradio as gr
import numpy as np
import pytest
import soundfile as sf

import seedmusic.web.app as web_app
from seedmusic.web.app import SessionFiles, Workspace, _remove_session, build_app
from seedmusic.web.jobs import (
    Edit,
    JobError,
    Limits,
    Song,
    _edit_spec,
    analyze_recording,
    check_upload,
    edit_bars,
    generate_song,
    run_verb,
)
from seedmusic.web.views import ab_picture, analysis_readout, song_readout

RATE = 24_000


def _tone(path: Path, seconds: float, subtype: str = "PCM_16") -> Path:
    t = np.arange(int(seconds * RATE)) / RATE
    wave = 0.3 * np.sin(2 * np.pi * 220 * t) * (np.sin(2 * np.pi * 2 * t) > 0)
    sf.write(str(path), wave, RATE, subtype=subtype)
    return path


def test_empty_lyrics_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="lyrics are empty"):
        generate_song(tmp_path, "  \n ", "pop")


def test_overlong_lyrics_are_refused(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="at most 10"):
        generate_song(tmp_path, "la " * 20, "pop", limits=Limits(max_lyrics_chars=10))


def test_unknown_style_tag_names_the_tag(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="unknown style 'dubstepz'"):
        generate_song(tmp_path, "hello there my friend", "pop, dubstepz")


def test_lyrics_that_name_a_file_are_sung_not_read(tmp_path: Path) -> None:
    secret = tmp_path / "secret.txt"
    secret.write_text("do not read me\n")
    with pytest.raises(JobError, match="unknown style"):
        generate_song(tmp_path, str(secret), "nope")
    assert (tmp_path / "lyrics.txt").read_text() == str(secret)


def test_usage_mistakes_raise_instead_of_exiting(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="invalid choice"):
        run_verb(["render", str(tmp_path / "x.json"), "--renderer", "banjo", "-o", str(tmp_path)])


def test_upload_checks(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="upload a recording"):
        check_upload(None, Limits())
    text = tmp_path / "notes.wav"
    text.write_text("this is not audio at all\n" * 10)
    with pytest.raises(JobError, match="not audio"):
        check_upload(text, Limits())
    song = _tone(tmp_path / "tone.wav", 3.0)
    assert check_upload(song, Limits()) == pytest.approx(3.0)
    with pytest.raises(JobError, match="limited to 2 s"):
        check_upload(song, Limits(max_upload_seconds=2))
    with pytest.raises(JobError, match=r"limited to 0\.01 MB"):
        check_upload(song, Limits(max_upload_mb=0.01))


def test_analysis_becomes_an_editable_song_with_the_same_samples(tmp_path: Path) -> None:
    upload = _tone(tmp_path / "take.wav", 4.0, subtype="PCM_24")
    result = analyze_recording(tmp_path / "request", upload, notes=False)
    document = result.document()
    assert document["duration"] == pytest.approx(4.0, abs=0.05)
    names = {path.name for path in result.downloads()}
    assert {"analysis.json", "score.json", "score.mid", "tokens.json"} <= names
    original, _ = sf.read(str(upload), dtype="int32")
    copied, rate = sf.read(str(result.song.wav), dtype="int32")
    assert rate == RATE and sf.info(str(result.song.wav)).subtype == "PCM_24"
    assert np.array_equal(original, copied)
    assert result.song.bar_count() >= 1
    assert "tempo" in analysis_readout(document)


def test_edit_needs_a_song_and_bars_inside_it(tmp_path: Path) -> None:
    with pytest.raises(JobError, match="no song yet"):
        edit_bars(tmp_path, None, "transpose", 1, 1, "2")
    upload = _tone(tmp_path / "take.wav", 4.0)
    song = analyze_recording(tmp_path / "request", upload, notes=False).song
    bars = song.bar_count()
    with pytest.raises(JobError, match=f"between 1 and {bars}"):
        edit_bars(tmp_path / "edit", song, "transpose", 1, bars + 1, "2")


@pytest.mark.parametrize(
    ("operation", "value", "expected"),
    [
        ("transpose", "-3", "2-4:-3"),
        ("lyrics", "new words here", "2-4:new words here"),
        ("chord", "Am", "2:Am"),
        ("regenerate", "", "2-4"),
        ("extend", "4", "4"),
        ("extend", "2: and the night ", "2:and the night"),
    ],
)
def test_edit_specs(operation: str, value: str, expected: str) -> None:
    assert _edit_spec(operation, "2-4", value) == expected


@pytest.mark.parametrize(
    ("operation", "value", "message"),
    [
        ("transpose", "up", "whole number"),
        ("transpose", "0", "other than 0"),
        ("lyrics", " ", "new words"),
        ("chord", "", "a chord"),
        ("tempo", "90", "unknown edit"),
        ("extend", "some", "number of bars"),
    ],
)
def test_bad_edit_values(operation: str, value: str, message: str) -> None:
    with pytest.raises(JobError, match=message):
        _edit_spec(operation, "2", value)


def test_sessions_have_their_own_folders_and_lose_them(tmp_path: Path) -> None:
    workspace = Workspace(tmp_path)
    one, two = workspace.session(), workspace.session()
    a, b = one.request_folder("generate"), two.request_folder("generate")
    assert a.parent == one.folder and b.parent == two.folder and one.folder != two.folder
    _remove_session(one)
    assert not one.folder.exists() and two.folder.exists()
    _remove_session(None)
    three = workspace.session("hash-3")
    workspace.end_session("hash-3")
    workspace.end_session("never-seen")
    assert not three.folder.exists() and two.folder.exists()
    workspace.remove()
    assert not tmp_path.exists()


def test_ab_picture_and_readouts(tmp_path: Path) -> None:
    before = _tone(tmp_path / "a.wav", 3.0)
    after = _tone(tmp_path / "b.wav", 3.0)
    spans = [{"bars": [2, 3], "start": 1.0, "end": 2.0}]
    picture = ab_picture(before, after, spans, tmp_path / "ab.png")
    assert picture.stat().st_size > 1000
    text = song_readout(
        {"seconds": 12.0, "renderer": "neural", "seed": 3, "timings": {"render": 2.0}}, 6
    )
    assert "12.0 s" in text and "6 bars" in text and "render 2.0 s" in text


def test_ab_picture_of_refused_audio_is_the_gate_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    before, after, workspace = tmp_path / "before", tmp_path / "after", tmp_path / "workspace"
    for folder in (before, after, workspace):
        folder.mkdir()
    _tone(before / "song.wav", 1.0)
    _tone(after / "song.wav", 0.01)  # under the gate's 50 ms
    edit = Edit(Song(before), Song(after), [], 0.0)
    monkeypatch.setattr(web_app, "edit_bars", lambda *args, **kwargs: edit)
    app = build_app(Workspace(workspace))
    route = next(fn for fn in app.fns.values() if fn.api_name == "edit")
    with pytest.raises(gr.Error) as raised:
        route.fn(None, Song(before), 1, 1, "transpose", "2", 0, None)
    message = raised.value.message
    assert "internal error" not in message and "at least 50 ms" in message
    assert "cannot read audio 'song.wav (B, after)'" in message and str(tmp_path) not in message


def test_song_folder_downloads(tmp_path: Path) -> None:
    for name in ("song.wav", "score.json", "score.mid", "summary.json"):
        (tmp_path / name).write_text("{}")
    song = Song(tmp_path)
    assert [p.name for p in song.downloads()] == ["song.wav", "score.mid", "score.json"]
    assert song.stem("vocal") is None
    files = SessionFiles(tmp_path / "session")
    files.folder.mkdir()
    first, second = files.request_folder("edit"), files.request_folder("edit")
    assert first != second and first.is_dir() and second.is_dir(), "a new folder per request"
    assert first.parent == files.folder and first.name.startswith("edit-")
    files.remove()
    assert not files.folder.exists() and (tmp_path / "song.wav").exists()
