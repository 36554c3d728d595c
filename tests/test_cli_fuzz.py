"""Hostile input for every verb that reads a file: exit 0 or 2, never a traceback; on failure
one `error:` line and no output left behind; the input never touched. Where the input gate
(`seedmusic.inputs`) decides, the exit code is the one its rules give (the `*_REFUSED` sets).

Every input is made here (no committed binaries). Hypothesis widens the score-JSON cases. The
verbs that need a neural renderer (`edit`, `render --reference`) run on tiny random checkpoints.
"""

from __future__ import annotations

import json
import os
import struct
from collections.abc import Callable
from pathlib import Path

import mido
import numpy as np
import pytest
import soundfile as sf
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from score_tokens.io import write_score
from seedmusic.data.example_song import example_song
from tests.seedmusic.tiny_neural import example_bars, tiny_checkpoints

RATE = 24_000


# ---------------------------------------------------------------------- hostile inputs


def _wav(data: np.ndarray, rate: int = RATE, subtype: str = "PCM_16") -> Callable[[Path], None]:
    return lambda path: sf.write(str(path), data, rate, subtype=subtype)


def _tone(seconds: float, channels: int = 1, rate: int = RATE) -> np.ndarray:
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.3 * np.sin(2 * np.pi * 220 * t)
    return np.repeat(wave[:, None], channels, axis=1) if channels > 1 else wave


def _truncated(path: Path) -> None:
    sf.write(str(path), _tone(1.0), RATE, subtype="PCM_16")
    data = path.read_bytes()
    path.write_bytes(data[: 44 + (len(data) - 44) // 2 + 1])


def _nan(path: Path) -> None:
    data = _tone(1.0)
    data[100:200] = np.nan
    sf.write(str(path), data, RATE, subtype="FLOAT")


def _inf(path: Path) -> None:
    data = _tone(1.0)
    data[5] = np.inf
    sf.write(str(path), data, RATE, subtype="FLOAT")


def _claims_hours(path: Path) -> None:
    """A one-second WAV whose RIFF and data chunk sizes claim three hours."""
    sf.write(str(path), _tone(1.0), RATE, subtype="PCM_16")
    data = bytearray(path.read_bytes())
    assert data[36:40] == b"data"
    claimed = 3 * 3600 * RATE * 2
    data[4:8] = struct.pack("<I", claimed + 36)
    data[40:44] = struct.pack("<I", claimed)
    path.write_bytes(bytes(data))


AUDIO: dict[str, Callable[[Path], None]] = {
    "header only": _wav(np.zeros(0)),
    "one sample": _wav(np.zeros(1)),
    "silence": _wav(np.zeros(RATE)),
    "NaN samples": _nan,
    "infinite sample": _inf,
    "clipped": _wav(np.sign(_tone(1.0)), subtype="FLOAT"),
    "8 kHz": _wav(_tone(1.0)[::3], rate=8_000),
    "192 kHz": _wav(np.repeat(_tone(1.0), 8), rate=192_000),
    "6 channels": _wav(_tone(1.0, channels=6)),
    "8 channels": _wav(_tone(1.0, channels=8)),
    "9 channels": _wav(_tone(1.0, channels=9)),
    "4 kHz": _wav(_tone(1.0, rate=4_000), rate=4_000),
    "384 kHz": _wav(_tone(0.25, rate=384_000), rate=384_000),
    "10 samples": _wav(np.full(10, 0.1)),
    "header claims hours": _claims_hours,
    "text named .wav": lambda path: path.write_text("not a recording\n" * 40),
    "truncated": _truncated,
    "random bytes": lambda path: path.write_bytes(np.random.default_rng(0).bytes(3000)),
}
AUDIO_REFUSED = {
    "header only",
    "one sample",
    "10 samples",
    "NaN samples",
    "infinite sample",
    "4 kHz",
    "384 kHz",
    "9 channels",
    "text named .wav",
    "random bytes",
}
"""The cases the input gate refuses; it reads the others (silence and clipping with a warning)."""


def _score_document() -> dict:
    return json.loads(json.dumps(example_song().to_dict()))


def _score_json(change: Callable[[dict], None]) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        document = _score_document()
        change(document)
        path.write_text(json.dumps(document))

    return make


def _set(key: str, value: object) -> Callable[[dict], None]:
    return lambda document: document.__setitem__(key, value)


def _each_note(field: str, value: object) -> Callable[[dict], None]:
    def change(document: dict) -> None:
        for track in document["tracks"].values():
            for note in track["notes"]:
                note[field] = value

    return change


def _no_notes(document: dict) -> None:
    for track in document["tracks"].values():
        track["notes"] = []


def _overlapping(document: dict) -> None:
    """Every note doubled a tick later, and the vocal doubled on its own onsets too."""
    for name, track in document["tracks"].items():
        doubled = [{**note, "tick": note["tick"] + 1, "lyric": None} for note in track["notes"]]
        if name == "vocal":
            doubled += [{**note, "duration": 1, "lyric": None} for note in track["notes"]]
        track["notes"] += doubled


def _midi(file: mido.MidiFile) -> Callable[[Path], None]:
    return lambda path: file.save(filename=str(path))


def _many_tracks(count: int) -> mido.MidiFile:
    file = mido.MidiFile(type=1, ticks_per_beat=480)
    for index in range(count):
        channel = index % 16
        file.tracks.append(
            mido.MidiTrack(
                [
                    mido.Message("program_change", program=index % 128, channel=channel),
                    mido.Message("note_on", note=48 + index % 24, velocity=80, channel=channel),
                    mido.Message("note_off", note=48 + index % 24, channel=channel, time=240),
                ]
            )
        )
    return file


def _lyrics_only() -> mido.MidiFile:
    """A 'vocal' track of lyric events and no notes at all."""
    file = mido.MidiFile(type=1, ticks_per_beat=480)
    events = [mido.MetaMessage("track_name", name="vocal")]
    events += [mido.MetaMessage("lyrics", text=word, time=480) for word in ("la", "li", "lo")]
    file.tracks.append(mido.MidiTrack(events))
    return file


SCORES: dict[str, Callable[[Path], None]] = {
    "empty object": lambda path: path.write_text("{}"),
    "not JSON": lambda path: path.write_text("{ this is not json"),
    "a list": lambda path: path.write_text("[1, 2, 3]"),
    "no notes": _score_json(_no_notes),
    "tempo 0": _score_json(_set("tempos", [{"tick": 0, "bpm": 0}])),
    "tempo negative": _score_json(_set("tempos", [{"tick": 0, "bpm": -5}])),
    "tempo 1e9": _score_json(_set("tempos", [{"tick": 0, "bpm": 1e9}])),
    "meter 7/0": _score_json(
        _set("time_signatures", [{"tick": 0, "numerator": 7, "denominator": 0}])
    ),
    "meter 0/4": _score_json(
        _set("time_signatures", [{"tick": 0, "numerator": 0, "denominator": 4}])
    ),
    "pitch 300": _score_json(_each_note("pitch", 300)),
    "pitch -1": _score_json(_each_note("pitch", -1)),
    "negative durations": _score_json(_each_note("duration", -10)),
    "ticks as text": _score_json(_each_note("tick", "soon")),
    "ticks_per_beat 0": _score_json(_set("ticks_per_beat", 0)),
    "random bytes .mid": lambda path: path.write_bytes(np.random.default_rng(1).bytes(500)),
    "not XML .musicxml": lambda path: path.write_text("<score-partwise><part>"),
    "overlapping notes": _score_json(_overlapping),
    "2,000 tracks .mid": _midi(_many_tracks(2000)),
    "lyrics without notes .mid": _midi(_lyrics_only()),
    "meter 1000/4": _score_json(
        _set("time_signatures", [{"tick": 0, "numerator": 1000, "denominator": 4}])
    ),
    "a bar of no ticks": _score_json(
        lambda document: document.update(
            ticks_per_beat=1,
            time_signatures=[{"tick": 0, "numerator": 1, "denominator": 8}],
        )
    ),
    "tempo 10000": _score_json(_set("tempos", [{"tick": 0, "bpm": 10_000}])),
    "tempo 5": _score_json(_set("tempos", [{"tick": 0, "bpm": 5}])),
    "end_tick 10**12": _score_json(_set("end_tick", 10**12)),
}
SCORE_SUFFIX = {
    "random bytes .mid": ".mid",
    "not XML .musicxml": ".musicxml",
    "2,000 tracks .mid": ".mid",
    "lyrics without notes .mid": ".mid",
}
SCORES_READ = {"no notes", "overlapping notes", "lyrics without notes .mid", "tempo 5"}
"""The cases that `score convert`, `score show` and `tokenize` read (the others are refused)."""
SCORES_PLAYED = {"overlapping notes"}
"""The cases that `render` and `edit --score` accept: notes, at a tempo of 20-400 bpm."""

TOKENS: dict[str, Callable[[Path], None]] = {
    "unknown tokens": lambda path: path.write_text(
        json.dumps({"encoding": "remi", "tokens": ["Bar", "Nonsense_7", "Pitch_999"]})
    ),
    "empty tokens": lambda path: path.write_text(json.dumps({"encoding": "remi", "tokens": []})),
    "unknown encoding": lambda path: path.write_text(json.dumps({"encoding": "abc", "tokens": []})),
    "wrong shape": lambda path: path.write_text(json.dumps([["Bar"]])),
    "numbers": lambda path: path.write_text(json.dumps({"encoding": "remi", "tokens": [1, 2]})),
    "not JSON": lambda path: path.write_text("tokens: Bar Bar"),
    "infinite xval value": lambda path: path.write_text(
        '{"encoding": "xval", "tokens": ["Bar"], "values": [Infinity]}'
    ),
}


def _npz(**arrays: np.ndarray) -> Callable[[Path], None]:
    def make(path: Path) -> None:
        with open(path, "wb") as handle:
            np.savez(handle, **arrays)

    return make


CODES: dict[str, Callable[[Path], None]] = {
    "no codes key": _npz(other=np.zeros((2, 3), dtype=np.int64)),
    "codes out of range": _npz(
        codes=np.full((2, 10), 99_999, dtype=np.int64), num_samples=np.array(9600)
    ),
    "negative codes": _npz(codes=np.full((2, 10), -3, dtype=np.int64), num_samples=np.array(9600)),
    "1-d codes": _npz(codes=np.zeros(10, dtype=np.int64), num_samples=np.array(9600)),
    "float codes": _npz(codes=np.full((2, 10), 0.5), num_samples=np.array(9600)),
    "too many codebooks": _npz(
        codes=np.zeros((99, 10), dtype=np.int64), num_samples=np.array(9600)
    ),
    "random bytes": lambda path: path.write_bytes(np.random.default_rng(2).bytes(400)),
    "no frames": _npz(
        codes=np.zeros((2, 0), dtype=np.int64),
        sample_rate=np.array(24_000),
        frame_rate=np.array(25.0),
        codebook_size=np.array(1024),
    ),
    "sample rate as text": _npz(
        codes=np.zeros((2, 10), dtype=np.int64),
        sample_rate=np.array("fast"),
        frame_rate=np.array(25.0),
        codebook_size=np.array(1024),
    ),
}


# ---------------------------------------------------------------------- the check


def _check(
    run_cli,
    tmp_path: Path,
    source: Path,
    argv: list[str],
    output: Path,
    expect: int | None = None,
) -> None:
    """Run the verb and assert the contract of the module docstring (and exit code `expect`)."""
    before = (source.read_bytes(), source.stat().st_mtime_ns) if source.is_file() else None
    result = run_cli(*argv)
    assert result.code in (0, 2), (argv, result.code, result.err[-2000:])
    assert expect is None or result.code == expect, (argv, result.code, result.err[-2000:])
    assert "Traceback" not in result.err + result.out, (argv, result.err[-2000:])
    if result.code == 2:
        lines = result.err.strip().splitlines()
        assert len(lines) >= 1 and lines[-1].startswith("error:"), (argv, result.err)
        assert sum(line.startswith("error:") for line in lines) == 1, result.err
        assert not output.exists(), (argv, sorted(os.listdir(output.parent)))
    if before is not None:
        assert (source.read_bytes(), source.stat().st_mtime_ns) == before, argv


@pytest.fixture(scope="module")
def tiny_neural(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Tiny random checkpoints (a codec and a DiT that reads a reference) and a two-bar score."""
    folder = tiny_checkpoints(tmp_path_factory.mktemp("checkpoints"), reference=True)
    write_score(example_bars(2), folder / "two-bars.json")
    return folder


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(AUDIO))
def test_audio_verbs_survive(
    case: str, run_cli, tmp_path: Path, tiny_neural: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from seedmusic.web.jobs import JobError, analyze_recording

    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(tiny_neural))  # the codec and the DiT
    source = tmp_path / "input.wav"
    AUDIO[case](source)
    expect = 2 if case in AUDIO_REFUSED else 0
    out = tmp_path / "analysis"
    argv = ["analyze", str(source), "--no-notes", "-o", str(out)]
    _check(run_cli, tmp_path, source, argv, out, expect)
    codes = tmp_path / "codes.npz"
    argv = ["codec", "encode", str(source), "-o", str(codes)]
    _check(run_cli, tmp_path, source, argv, codes, expect)
    edited = tmp_path / "edited"
    argv = ["edit", str(source), "--chord", "1:Am", "-o", str(edited)]
    _check(run_cli, tmp_path, source, argv, edited, expect)
    rendered = tmp_path / "rendered"
    score = tiny_neural / "two-bars.json"
    argv = ["render", str(score), "--reference", str(source), "--no-adherence", "-o", str(rendered)]
    _check(run_cli, tmp_path, source, argv, rendered, expect)
    before = source.read_bytes()
    request = tmp_path / "request"
    request.mkdir()
    try:
        analyze_recording(request, source, notes=False)
        assert expect == 0, case
    except JobError as exc:
        assert expect == 2 and "\n" not in str(exc), (case, str(exc))
        assert not {"analysis", "song"} & {path.name for path in request.iterdir()}
    assert source.read_bytes() == before


def test_missing_and_folder_inputs(run_cli, tmp_path: Path) -> None:
    for source in (tmp_path / "missing.wav", tmp_path):
        for argv, out in (
            (["analyze", str(source), "--no-notes", "-o"], tmp_path / "a"),
            (["codec", "encode", str(source), "-o"], tmp_path / "c.npz"),
            (["tokenize", str(source), "-o"], tmp_path / "t.json"),
            (["score", "convert", str(source)], tmp_path / "s.mid"),
        ):
            result = run_cli(*argv, str(out))
            assert result.code == 2 and result.err.startswith("error:"), (argv, result.err)
            assert not out.exists()


@pytest.mark.parametrize("case", sorted(SCORES))
def test_score_verbs_survive(case: str, run_cli, tmp_path: Path) -> None:
    source = tmp_path / f"score{SCORE_SUFFIX.get(case, '.json')}"
    SCORES[case](source)
    expect = 0 if case in SCORES_READ else 2
    for name, argv, code in (
        ("out.mid", ["score", "convert", str(source)], expect),
        ("out.musicxml", ["score", "convert", str(source)], expect),
        ("out.png", ["score", "show", str(source), "-o"], expect),
        ("tokens.json", ["tokenize", str(source), "--encoding", "remi", "-o"], expect),
        ("edited.json", ["score", "edit", str(source), "--transpose", "1:2", "-o"], None),
    ):
        out = tmp_path / name
        _check(run_cli, tmp_path, source, [*argv, str(out)], out, code)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(SCORES))
def test_render_survives(case: str, run_cli, tmp_path: Path) -> None:
    source = tmp_path / f"score{SCORE_SUFFIX.get(case, '.json')}"
    SCORES[case](source)
    out = tmp_path / "song"
    argv = ["render", str(source), "--renderer", "synth", "--no-adherence", "-o", str(out)]
    _check(run_cli, tmp_path, source, argv, out, 0 if case in SCORES_PLAYED else 2)


@pytest.mark.slow
@pytest.mark.parametrize("case", sorted(SCORES))
def test_edit_reads_the_edited_score_through_the_gate(
    case: str, run_cli, tmp_path: Path, tiny_neural: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(tiny_neural))
    song = tmp_path / "song"
    song.mkdir()
    score = example_song()
    write_score(score, song / "score.json")
    sf.write(str(song / "song.wav"), _tone(score.duration_seconds(), rate=8_000), 8_000)
    source = tmp_path / f"edited{SCORE_SUFFIX.get(case, '.json')}"
    SCORES[case](source)
    out = tmp_path / "out"
    argv = ["edit", str(song), "--score", str(source), "-o", str(out)]
    _check(run_cli, tmp_path, source, argv, out, 0 if case in SCORES_PLAYED else 2)


@pytest.mark.parametrize("case", sorted(TOKENS))
def test_detokenize_survives(case: str, run_cli, tmp_path: Path) -> None:
    source = tmp_path / "tokens.json"
    TOKENS[case](source)
    out = tmp_path / "score.json"
    _check(run_cli, tmp_path, source, ["detokenize", str(source), "-o", str(out)], out)


@pytest.mark.parametrize("case", sorted(CODES))
def test_codec_decode_survives(case: str, run_cli, tmp_path: Path) -> None:
    source = tmp_path / "codes.npz"
    CODES[case](source)
    out = tmp_path / "out.wav"
    _check(run_cli, tmp_path, source, ["codec", "decode", str(source), "-o", str(out)], out)


_JSON = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(-(10**6), 10**6)
    | st.floats(allow_nan=True)
    | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4)
    ),
    max_leaves=12,
)
_KEYS = (
    "ticks_per_beat",
    "tempos",
    "time_signatures",
    "key",
    "sections",
    "chords",
    "tracks",
    "end_tick",
)


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(key=st.sampled_from(_KEYS), value=_JSON)
def test_any_score_field_value_is_handled(key: str, value: object, run_cli, tmp_path: Path) -> None:
    source = tmp_path / "fuzz.json"
    document = _score_document()
    document[key] = value
    source.write_text(json.dumps(document))
    out = tmp_path / "fuzz-out.json"
    if out.exists():
        out.unlink()
    _check(run_cli, tmp_path, source, ["tokenize", str(source), "-o", str(out)], out)


def test_the_example_score_itself_is_fine(run_cli, tmp_path: Path) -> None:
    source = write_score(example_song(), tmp_path / "song.json")
    result = run_cli("tokenize", str(source), "-o", str(tmp_path / "t.json"))
    assert result.code == 0, result.err


@pytest.fixture(scope="module")
def example_tokens(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    from seedmusic.cli import main

    folder = tmp_path_factory.mktemp("tokens")
    source = write_score(example_song(), folder / "song.json")
    assert main(["tokenize", str(source), "-o", str(folder / "t.json")]) == 0
    return list(json.loads((folder / "t.json").read_text())["tokens"])


@settings(
    max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(data=st.data())
def test_any_token_sequence_is_handled(
    data: st.DataObject, example_tokens: list[str], run_cli, tmp_path: Path
) -> None:
    vocabulary = sorted(set(example_tokens))
    token = st.sampled_from(vocabulary) | st.text(max_size=12)
    start = data.draw(st.integers(0, len(example_tokens)))
    middle = data.draw(st.lists(token, max_size=30))
    tokens = example_tokens[:start] + middle + example_tokens[start + len(middle) :]
    encoding = data.draw(st.sampled_from(["remi", "xval"]))
    source = tmp_path / "fuzz-tokens.json"
    source.write_text(json.dumps({"encoding": encoding, "tokens": tokens}))
    out = tmp_path / "fuzz-score.json"
    if out.exists():
        out.unlink()
    _check(run_cli, tmp_path, source, ["detokenize", str(source), "-o", str(out)], out)


LYRICS: dict[str, Callable[[Path], None]] = {
    "empty file": lambda path: path.write_text(""),
    "only headers": lambda path: path.write_text("[verse]\n[chorus]\n"),
    "unknown header": lambda path: path.write_text("[solo-ish thing]\nla la la\n"),
    "not UTF-8": lambda path: path.write_bytes(b"\xff\xfe\x00la la\x80\x81"),
    "words under the intro": lambda path: path.write_text("[intro]\nhello there\n"),
}


@pytest.mark.parametrize("case", sorted(LYRICS))
def test_generate_and_compose_refuse_bad_lyrics(case: str, run_cli, tmp_path: Path) -> None:
    source = tmp_path / "lyrics.txt"
    LYRICS[case](source)
    for verb in ("generate", "compose"):
        out = tmp_path / verb
        _check(run_cli, tmp_path, source, [verb, "--lyrics", str(source), "-o", str(out)], out)
        assert not out.exists()


@pytest.mark.parametrize(
    "edit",
    [
        ["--transpose", "99:2"],
        ["--chord", "2:H#m9"],
        ["--lyrics", "0-1:la"],
        ["--extend", "0"],
        ["--tempo", "nan"],
        ["--score", "missing.json"],
    ],
)
def test_edit_refuses_bad_operations(edit: list[str], run_cli, tmp_path: Path) -> None:
    song = tmp_path / "song"
    song.mkdir()
    score = example_song()
    write_score(score, song / "score.json")
    sf.write(str(song / "song.wav"), _tone(score.duration_seconds()), RATE)
    out = tmp_path / "edited"
    result = run_cli("edit", str(song), *edit, "-o", str(out))
    assert result.code == 2 and result.err.startswith("error:"), result.err
    assert "Traceback" not in result.err and not out.exists()
