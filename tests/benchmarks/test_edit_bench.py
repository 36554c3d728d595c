"""The edit benchmark: its edits, preservation, seams and transposition metrics on signals with
known answers, the recordings it reads, and runs end to end on a tiny corpus and on a synthetic
recording with a tiny codec, DiT and transcriber."""

from __future__ import annotations

import json
import logging
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from benchmarks.edit import (
    EDITS,
    SOURCES,
    chroma_shift,
    edit_ops,
    load_recordings,
    main,
    outside_difference,
    recording_paths,
    seam_times,
    span_compliance,
    span_timbre,
)
from mir.analyze import Analysis
from mir.evaluate import GroundTruth
from score_tokens.score import Chord, Note, Score
from seedmusic.edit import EditedSong, Span
from tests.seedmusic.tiny_neural import tiny_checkpoints

ROOT = Path(__file__).resolve().parents[2]
RATE = 16000
BAR = 1920  # ticks of a 4/4 bar at 480 per beat: 2 s at 120 bpm


def _song(bars: int, lyrics: bool = True) -> Score:
    score = Score()
    for bar in range(bars):
        tick = bar * BAR
        score.chords.append(Chord(tick, BAR, bar % 12, "min" if bar % 2 else "maj"))
        score.tracks["piano"].notes.append(Note(tick, BAR, 60 + bar))
        if bar >= 2:
            score.tracks["vocal"].notes += [
                Note(tick, 480, 67, lyric="hel" if lyrics else None),
                Note(tick + 480, 480, 69, lyric="lo" if lyrics else None),
            ]
    return score.sort().validate()


def test_the_edits_follow_the_module_docstring() -> None:
    score = _song(6)
    transpose, chord, lyrics = (edit_ops(score, kind) for kind in EDITS)
    assert transpose is not None and (transpose[0].start, transpose[0].stop) == (2, 4)
    assert transpose[0].semitones == 2
    assert chord is not None and chord[0].start == 4 and chord[0].label == "B:maj"  # E + 7
    assert chord[0].beat == 1.0
    late = _song(6)  # bar 5's chord starts on beat 3: the new one goes there, not on beat 1
    late.chords[4].tick += 960
    late.chords[4].duration = 960
    late.chords[3].duration += 960
    (moved,) = edit_ops(late, "chord") or []
    assert (moved.start, moved.beat, moved.label) == (4, 3.0, "B:maj")
    assert lyrics is not None and lyrics[0].start == 2 and lyrics[0].words == "la na"
    assert edit_ops(_song(3), "transpose") is None and edit_ops(_song(4), "chord") is None
    wordless = edit_ops(_song(6, lyrics=False), "lyrics")  # an analysis: each onset a syllable
    assert wordless is not None and wordless[0].start == 2 and wordless[0].words == "la na"
    instrumental = _song(6)
    instrumental.tracks["vocal"].notes = []
    assert edit_ops(instrumental, "lyrics") is None


def test_preservation_looks_only_outside_the_spans_and_seams_only_inside_the_song() -> None:
    source = np.zeros((1, 10 * RATE))
    edited = source.copy()
    edited[0, 2 * RATE : 4 * RATE] = 0.5  # the span
    spans = [Span(1, 2, 2.0, 4.0)]
    assert outside_difference(source, EditedSong(edited, RATE, spans)) == 0.0
    edited[0, 5 * RATE] = 0.25  # one sample outside
    assert outside_difference(source, EditedSong(edited, RATE, spans)) == 0.25
    assert seam_times([Span(0, 1, 0.0, 2.0), Span(4, 5, 8.0, 10.0)], 10.0) == [2.0, 8.0]


def test_the_transposition_is_read_from_chroma() -> None:
    t = np.arange(3 * RATE) / RATE
    chord = [261.63, 329.63, 392.0]  # C major
    source = sum(np.sin(2 * np.pi * f * t) for f in chord).astype(np.float32)
    up = sum(np.sin(2 * np.pi * f * 2 ** (3 / 12) * t) for f in chord).astype(np.float32)
    span = [Span(0, 1, 0.0, 3.0)]
    assert chroma_shift(source, up, RATE, span) == 3
    assert chroma_shift(up, source, RATE, span) == -3
    assert chroma_shift(source, source, RATE, span) == 0


def test_compliance_scores_only_inside_the_spans() -> None:
    truth = GroundTruth(
        duration=8.0,
        tempo=120.0,
        beats=[0.5 * i for i in range(16)],
        downbeats=[0.0, 2.0, 4.0, 6.0],
        key="C major",
        sections=[],
        chords=[(0.0, 2.0, "C:maj"), (2.0, 4.0, "A:min"), (4.0, 8.0, "F:maj")],
        notes={"piano": [(0.5, 1.0, 60), (2.5, 3.0, 64), (3.0, 3.5, 65)]},
    )
    heard = Analysis(
        duration=8.0,
        chords=[(0.0, 2.0, "G:maj"), (2.0, 4.0, "A:min"), (4.0, 8.0, "G:maj")],
        notes={"piano": [(0.5, 1.0, 61), (2.5, 3.0, 64), (3.0, 3.5, 65)]},
    )
    inside = span_compliance(heard, truth, [Span(1, 2, 2.0, 4.0)])
    assert inside == {"notes": 1.0, "chords": 1.0}
    whole = span_compliance(heard, truth, [Span(0, 4, 0.0, 8.0)])
    assert whole["notes"] == pytest.approx(2 / 3) and whole["chords"] == pytest.approx(1 / 4)


@pytest.mark.slow
def test_the_benchmark_prints_its_tables_and_keeps_every_sample_outside_the_spans(
    built: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mir.transcriber import Transcriber, TranscriberConfig
    from renderer.dit import LatentDiT
    from seedmusic.config import load_config
    from seedmusic.data.corpus import Corpus
    from seedmusic.train.dit_task import DitTaskConfig

    torch.manual_seed(0)
    dit = load_config(DitTaskConfig, ROOT / "configs" / "dit" / "tiny.yaml").dit
    LatentDiT(dit).save_pretrained(tmp_path / "dit")
    Transcriber(TranscriberConfig.tiny()).save_pretrained(tmp_path / "transcriber")
    split = Corpus(built["corpus"]).pieces()[0].split
    main(
        [
            "--corpus", str(built["corpus"]), "--dit", str(tmp_path / "dit"),
            "--codec", str(built["codec"]), "--split", split, "--pieces", "1",
            "--seconds", "12", "--long-seconds", "12", "--steps", "2", "--threads", "1",
            "--transcriber", str(tmp_path / "transcriber"), "--json", str(tmp_path / "e.json"),
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    assert "preservation and seams" in out and "compliance inside the spans" in out
    assert "speed: re-rendering " in out
    record = json.loads((tmp_path / "e.json").read_text())
    assert record["rows"], out
    assert {row["source"] for row in record["rows"]} <= set(SOURCES)
    assert all(row["edited"]["outside_max_diff"] == 0.0 for row in record["rows"])
    assert all(row["retake"]["timbre"] >= 0.0 for row in record["rows"])
    assert "within 5 % of the retake" in out
    assert record["speed"]["render_s"] > 0 and record["speed"]["edit_4_bars_s"] > 0


def test_the_timbre_distance_is_zero_for_the_same_audio_and_grows_with_another_timbre() -> None:
    t = np.arange(4 * RATE) / RATE
    sine = 0.3 * np.sin(2 * np.pi * 220 * t)
    square = 0.3 * np.sign(sine)
    spans = [Span(1, 3, 1.0, 3.0)]
    assert span_timbre(sine, sine, RATE, spans) == pytest.approx(0.0, abs=1e-6)
    brighter = span_timbre(sine, square, RATE, spans)
    assert brighter > 10 * span_timbre(sine, sine * 0.999 + 1e-4 * square, RATE, spans)
    # only the spans count: a change outside them is not heard
    outside = sine.copy()
    outside[: RATE // 2] = square[: RATE // 2]
    assert span_timbre(sine, outside, RATE, spans) == pytest.approx(0.0, abs=1e-6)


def _write_song(path: Path, seconds: float = 12.0, rate: int = RATE) -> Path:
    """A stereo wav at 120 bpm: a chord a bar (C, F, G, A minor, ...), a click on every beat."""
    t = np.arange(round(seconds * rate)) / rate
    roots = [0, 5, 7, 9]
    audio = np.zeros_like(t)
    for bar in range(int(np.ceil(seconds / 2.0))):
        inside = (t >= 2.0 * bar) & (t < 2.0 * bar + 2.0)
        root = 48 + roots[bar % 4]
        third = 3 if roots[bar % 4] == 9 else 4
        for pitch in (root, root + third, root + 7, root + 12):
            audio[inside] += 0.08 * np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69) / 12) * t[inside])
    for beat in np.arange(0.0, seconds, 0.5):
        start = round(beat * rate)
        click = np.exp(-np.arange(rate // 50) / (rate / 400)) * 0.5
        audio[start : start + click.size] += click[: audio.size - start]
    sf.write(str(path), np.stack([audio, 0.9 * audio], axis=1), rate)
    return path


def test_recordings_are_the_files_given_and_the_audio_files_under_folders_sorted(
    tmp_path: Path,
) -> None:
    for name in ("b/z.opus", "b/a/y.FLAC", "b/x.txt", "b/w.mp3", "c.ogg"):
        (tmp_path / name).parent.mkdir(parents=True, exist_ok=True)
        (tmp_path / name).write_bytes(b"")
    found = recording_paths([tmp_path / "c.ogg", tmp_path / "b", tmp_path / "missing.wav"])
    assert found == [
        tmp_path / "c.ogg",
        tmp_path / "b" / "a" / "y.FLAC",
        tmp_path / "b" / "w.mp3",
        tmp_path / "b" / "z.opus",
        tmp_path / "missing.wav",
    ]


def test_an_unreadable_recording_is_one_warning_and_skipped(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    good = _write_song(tmp_path / "good.wav", seconds=1.0)
    (tmp_path / "bad.wav").write_bytes(b"not audio at all" * 64)
    paths = [tmp_path / "bad.wav", good, tmp_path / "missing.flac", good]
    with caplog.at_level(logging.WARNING, logger="benchmarks.recordings"):
        loaded = load_recordings(paths, 8000)
    assert [path for path, _ in loaded] == [good, good]
    assert loaded[0][1].shape == (8000,) and loaded[0][1].dtype == np.float32  # mono, resampled
    skipped = [r.getMessage() for r in caplog.records if r.name == "benchmarks.recordings"]
    assert len(skipped) == 2 and "bad.wav" in skipped[0] and "missing.flac" in skipped[1]
    assert [path for path, _ in load_recordings(paths, 8000, limit=1)] == [good]


def test_without_a_corpus_or_recordings_the_benchmark_is_one_error_line(
    capsys: pytest.CaptureFixture[str],
) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(["--threads", "1"])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("error: ") and "--recordings" in err and len(err.splitlines()) == 1


@pytest.fixture(scope="module")
def tiny_models(tmp_path_factory: pytest.TempPathFactory) -> list[str]:
    """The benchmark's model arguments for a tiny codec, DiT and transcriber (random)."""
    from mir.transcriber import Transcriber, TranscriberConfig

    folder = tiny_checkpoints(tmp_path_factory.mktemp("edit-bench"))
    torch.manual_seed(0)
    Transcriber(TranscriberConfig.tiny()).save_pretrained(folder / "transcriber")
    return ["--dit", str(folder / "dit"), "--codec", str(folder / "codec"),
            "--transcriber", str(folder / "transcriber"), "--steps", "2", "--threads", "1"]  # fmt: skip


def test_a_folder_without_a_readable_recording_is_one_error_line(
    tiny_models: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "bad.opus").write_bytes(b"not audio")
    with pytest.raises(SystemExit) as exit_info:
        main(["--recordings", str(tmp_path), *tiny_models])
    assert exit_info.value.code == 2
    err = capsys.readouterr().err.strip().splitlines()
    assert err[-1].startswith("error: no readable recording in ")
    assert sum(line.startswith("error:") for line in err) == 1


def test_a_recording_is_edited_end_to_end_and_only_its_rows_are_shown(
    tiny_models: list[str], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "songs").mkdir()
    _write_song(tmp_path / "songs" / "synthetic.wav")
    (tmp_path / "songs" / "broken.flac").write_bytes(b"nothing")
    main(
        ["--recordings", str(tmp_path / "songs"), "--json", str(tmp_path / "e.json"), *tiny_models]
    )
    out = capsys.readouterr().out
    assert out.startswith("1 recordings (mean 12 s) x 3 edits")
    assert "| recording |" in out and "real audio" not in out and "neural render" not in out
    assert "speed:" not in out
    record = json.loads((tmp_path / "e.json").read_text())
    assert record["rows"] and record["speed"] == {}, out
    assert {(row["piece"], row["source"]) for row in record["rows"]} == {
        ("synthetic.wav", "recording")
    }
    assert all(row["edited"]["outside_max_diff"] == 0.0 for row in record["rows"])
    assert "transpose" in {row["edit"] for row in record["rows"]}
