"""`seedmusic edit`: only the changed bars are re-rendered; the rest is the source, bit for bit."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest
import soundfile as sf
import torch

from score_tokens.edit import transpose
from score_tokens.io import write_score
from score_tokens.score import Score, TempoChange
from seedmusic.cli import main
from seedmusic.edit import changed_spans, edit_song
from seedmusic.errors import UserError
from seedmusic.neural_render import NeuralRenderer, NeuralRenderSettings
from tests.seedmusic.tiny_neural import example_bars, tiny_checkpoints

RATE = 24000


def four_bars() -> Score:
    return example_bars(4)


def song_folder(tmp_path: Path, score: Score, source: np.ndarray, rate: int, **kwargs: str) -> Path:
    """`tmp_path/song` holding `score.json` and `source` as `song.wav` (`kwargs`: `sf.write`'s)."""
    song = tmp_path / "song"
    song.mkdir()
    write_score(score, song / "score.json")
    sf.write(song / "song.wav", source, rate, **kwargs)
    return song


def bar_two_transposed(score: Score) -> Score:
    from score_tokens.edit import replace_bars, select_bars

    return replace_bars(score, 1, 2, transpose(select_bars(score, 1, 2), 2))


def test_spans_cover_the_changed_bars_and_a_tempo_change_runs_to_the_end() -> None:
    score = four_bars()
    bar = score.duration_seconds() / 4
    spans = changed_spans(score, bar_two_transposed(score), score.duration_seconds())
    assert [(s.first_bar, s.stop_bar) for s in spans] == [(1, 2)]
    assert spans[0].start == pytest.approx(bar) and spans[0].end == pytest.approx(2 * bar)
    assert spans[0].to_json()["bars"] == [2, 2]  # 1-based, inclusive
    slower = score.copy()
    slower.tempos = [*score.tempos, TempoChange(2 * 4 * score.ticks_per_beat, 60.0)]
    spans = changed_spans(score, slower, score.duration_seconds())
    assert [(s.first_bar, s.stop_bar) for s in spans] == [(2, 4)]
    assert changed_spans(score, score.copy(), score.duration_seconds()) == []


@pytest.fixture(scope="module")
def renderer(tmp_path_factory: pytest.TempPathFactory) -> NeuralRenderer:
    folder = tiny_checkpoints(tmp_path_factory.mktemp("checkpoints"))
    return NeuralRenderer.from_pretrained(folder / "dit", folder / "codec")


def test_only_the_span_changes_and_the_rest_is_the_source(renderer: NeuralRenderer) -> None:
    score = four_bars()
    seconds = score.duration_seconds()
    rng = np.random.default_rng(0)
    source = rng.uniform(-0.3, 0.3, size=(2, round(seconds * RATE)))  # stereo, 24 kHz
    settings = NeuralRenderSettings(steps=2, window=300, overlap=50)
    result = edit_song(renderer, source, RATE, score, bar_two_transposed(score), settings=settings)
    assert result.audio.shape == source.shape
    (span,) = result.spans
    start, end = round(span.start * RATE), round(span.end * RATE)
    np.testing.assert_array_equal(result.audio[:, :start], source[:, :start])
    np.testing.assert_array_equal(result.audio[:, end:], source[:, end:])
    assert not np.allclose(
        result.audio[:, start + 2400 : end - 2400], source[:, start + 2400 : end - 2400]
    )
    assert result.unchanged_seconds == pytest.approx(seconds * 3 / 4, abs=1e-3)
    assert set(result.timings) == {"encode", "dit", "vae"}


def test_a_retake_re_renders_the_spans_given_with_the_score_unchanged(
    renderer: NeuralRenderer,
) -> None:
    score = four_bars()
    seconds = score.duration_seconds()
    source = np.random.default_rng(1).uniform(-0.3, 0.3, size=(1, round(seconds * RATE)))
    settings = NeuralRenderSettings(steps=2, window=300, overlap=50)
    (span,) = changed_spans(score, bar_two_transposed(score), seconds)
    result = edit_song(renderer, source, RATE, score, score.copy(), settings=settings, spans=[span])
    assert result.spans == [span]
    start, end = round(span.start * RATE), round(span.end * RATE)
    np.testing.assert_array_equal(result.audio[:, :start], source[:, :start])
    np.testing.assert_array_equal(result.audio[:, end:], source[:, end:])
    assert not np.allclose(result.audio[:, start:end], source[:, start:end])
    with pytest.raises(UserError, match="nothing to re-render"):
        edit_song(renderer, source, RATE, score, score.copy(), settings=settings)


@pytest.fixture(scope="module")
def reference_renderer(tmp_path_factory: pytest.TempPathFactory) -> NeuralRenderer:
    folder = tiny_checkpoints(tmp_path_factory.mktemp("reference"), reference=True)
    return NeuralRenderer.from_pretrained(folder / "dit", folder / "codec")


def test_a_dit_reading_a_reference_is_given_the_source_songs(
    reference_renderer: NeuralRenderer,
) -> None:
    assert reference_renderer.takes_reference
    score = four_bars()
    seconds = score.duration_seconds()
    rng = np.random.default_rng(0)
    quiet = rng.uniform(-0.05, 0.05, size=(1, round(seconds * RATE)))
    settings = NeuralRenderSettings(steps=2, window=300, overlap=50)
    edited = bar_two_transposed(score)
    results = [
        edit_song(reference_renderer, source, RATE, score, edited, settings=settings)
        for source in (quiet, 8 * quiet)
    ]
    (span,) = results[0].spans
    start, end = round(span.start * RATE), round(span.end * RATE)
    for result, source in zip(results, (quiet, 8 * quiet), strict=True):
        np.testing.assert_array_equal(result.audio[:, :start], source[:, :start])
        np.testing.assert_array_equal(result.audio[:, end:], source[:, end:])
    # the louder song's reference changes what the DiT makes of the same bars
    inside = slice(start + 2400, end - 2400)
    assert not np.allclose(results[0].audio[:, inside] * 8, results[1].audio[:, inside])


def test_the_reference_reads_a_long_song_in_stretches_spread_over_it(
    reference_renderer: NeuralRenderer,
) -> None:
    rate = reference_renderer.sample_rate  # 8 kHz, 250 frames/s
    rng = np.random.default_rng(1)
    song = rng.uniform(-0.3, 0.3, size=rate * 3).astype(np.float32)  # 750 frames
    whole = reference_renderer.reference_latents(song, seconds=4.0)
    assert whole is not None and whole.shape == (1, 8, 750)
    spread = reference_renderer.reference_latents(song, seconds=1.2, windows=3)
    assert spread is not None and spread.shape == (1, 8, 300)  # 3 stretches of 100 frames
    # the last stretch ends where the song does
    torch.testing.assert_close(spread[..., -50:], whole[..., 700:750], atol=1e-4, rtol=1e-3)
    assert reference_renderer.reference_latents(song[:40]) is None


def test_the_edit_verb_writes_the_song_the_score_and_edit_json(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(tiny_checkpoints(tmp_path / "checkpoints")))
    score = four_bars()
    source = np.random.default_rng(1).uniform(-0.3, 0.3, round(score.duration_seconds() * 44100))
    song = song_folder(tmp_path, score, source, 44100, subtype="PCM_16")
    write_score(bar_two_transposed(score), tmp_path / "edited.json")
    out = tmp_path / "out"
    assert main(["edit", str(song), "--score", str(tmp_path / "edited.json"), "-o", str(out)]) == 0
    assert {p.name for p in out.iterdir()} >= {"song.wav", "edit.json", "score.json", "score.png"}
    edit = json.loads((out / "edit.json").read_text())
    assert [s["bars"] for s in edit["spans"]] == [[2, 2]]
    info = sf.info(str(out / "song.wav"))
    assert (info.samplerate, info.channels, info.subtype) == (44100, 1, "PCM_16")
    before, _ = sf.read(song / "song.wav", dtype="int16")
    after, _ = sf.read(out / "song.wav", dtype="int16")
    assert len(after) == len(before)
    start = round(edit["spans"][0]["start"] * 44100)
    end = round(edit["spans"][0]["end"] * 44100)
    assert (after[:start] == before[:start]).all() and (after[end:] == before[end:]).all()
    assert (after[start:end] != before[start:end]).any()
    assert json.loads((out / "summary.json").read_text())["spectral_match"] is True
    raw = tmp_path / "raw"
    args = ["edit", str(song), "--score", str(tmp_path / "edited.json"), "--no-spectral-match"]
    assert main([*args, "-o", str(raw)]) == 0
    assert json.loads((raw / "summary.json").read_text())["spectral_match"] is False
    unmatched, _ = sf.read(raw / "song.wav", dtype="int16")
    assert (unmatched[:start] == before[:start]).all()
    assert (unmatched[start:end] != after[start:end]).any()


def test_bad_edits_are_one_error_line(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(tiny_checkpoints(tmp_path / "checkpoints")))
    score = four_bars()
    song = song_folder(tmp_path, score, np.zeros(round(score.duration_seconds() * RATE)), RATE)
    cases = [
        ([str(song), "--score", str(song / "score.json")], "nothing to re-render"),
        ([str(tmp_path / "missing"), "--score", str(song / "score.json")], "no such file"),
        ([str(tmp_path), "--score", str(song / "score.json")], "holds song.wav and score.json"),
        ([str(song), "--retake", "5"], "outside"),
        ([str(song), "--retake", "two"], "bars are written"),
        ([str(song)], "or --retake"),
    ]
    for args, message in cases:
        assert main(["edit", *args, "-o", str(tmp_path / "out")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and message in err and err.count("\n") == 1
        assert not (tmp_path / "out").exists()


def test_a_retake_re_renders_only_its_bars_and_another_seed_another_take(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(tiny_checkpoints(tmp_path / "checkpoints")))
    score = four_bars()
    source = np.random.default_rng(2).uniform(-0.3, 0.3, round(score.duration_seconds() * RATE))
    song = song_folder(tmp_path, score, source, RATE, subtype="FLOAT")
    takes = []
    for seed in (1, 2):
        out = tmp_path / f"take{seed}"
        assert main(["edit", str(song), "--retake", "3", "--seed", str(seed), "-o", str(out)]) == 0
        edit = json.loads((out / "edit.json").read_text())
        assert [s["bars"] for s in edit["spans"]] == [[3, 3]]
        audio, _ = sf.read(out / "song.wav", dtype="float32")
        start = round(edit["spans"][0]["start"] * RATE)
        end = round(edit["spans"][0]["end"] * RATE)
        np.testing.assert_array_equal(audio[:start], source[:start].astype(np.float32))
        np.testing.assert_array_equal(audio[end:], source[end:].astype(np.float32))
        takes.append(audio[start:end])
        summary = json.loads((out / "summary.json").read_text())
        assert summary["retakes"] == ["3"] and summary["operations"] == []
    assert not np.allclose(takes[0], takes[1])
    both = tmp_path / "both"
    assert main(["edit", str(song), "--retake", "1", "--transpose", "3:2", "-o", str(both)]) == 0
    edit = json.loads((both / "edit.json").read_text())
    assert [s["bars"] for s in edit["spans"]] == [[1, 1], [3, 3]]


def test_edit_operations_apply_to_the_songs_score(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    monkeypatch.setenv("SEEDMUSIC_CHECKPOINTS", str(tiny_checkpoints(tmp_path / "checkpoints")))
    score = four_bars()
    song = song_folder(tmp_path, score, np.zeros(round(score.duration_seconds() * RATE)), RATE)
    out = tmp_path / "out"
    assert main(["edit", str(song), "--chord", "3:Bb7", "-o", str(out)]) == 0
    edit = json.loads((out / "edit.json").read_text())
    assert [s["bars"] for s in edit["spans"]] == [[3, 3]]
    capsys.readouterr()
    for args in ([], ["--score", str(song / "score.json"), "--chord", "3:Bb7"]):
        assert main(["edit", str(song), *args, "-o", str(tmp_path / "bad")]) == 2
        err = capsys.readouterr().err
        assert err.startswith("error:") and "--score EDITED" in err


def test_appended_bars_continue_the_song(renderer: NeuralRenderer) -> None:
    score = four_bars()
    seconds = score.duration_seconds()
    longer = score.copy()
    longer.end_tick = 6 * 4 * score.ticks_per_beat  # two bars more, empty: still a new score
    longer.chords = [*score.chords]
    rng = np.random.default_rng(2)
    source = rng.uniform(-0.3, 0.3, size=(1, round(seconds * RATE)))
    settings = NeuralRenderSettings(steps=2, window=300, overlap=50)
    result = edit_song(
        renderer, source, RATE, score, _with_a_note_in_bar_six(longer), settings=settings
    )
    assert result.audio.shape == (1, round(seconds * 6 / 4 * RATE))
    (span,) = result.spans
    assert (span.first_bar, span.stop_bar) == (4, 6)
    assert span.start == pytest.approx(seconds) and span.end == pytest.approx(seconds * 6 / 4)
    np.testing.assert_array_equal(result.audio[:, : source.shape[1]], source)
    assert np.abs(result.audio[:, source.shape[1] : source.shape[1] + 2400]).max() > 0
    assert result.unchanged_seconds == pytest.approx(seconds, abs=1e-3)


def _with_a_note_in_bar_six(score: Score) -> Score:
    from score_tokens.score import Note

    out = score.copy()
    out.tracks["piano"].notes.append(
        Note(5 * 4 * score.ticks_per_beat, score.ticks_per_beat, 60, 90)
    )
    return out.sort().validate()


def test_crossfade_gains_keep_power_for_any_correlation() -> None:
    from seedmusic.edit import _constant_power_partner

    incoming = np.sin(0.5 * np.pi * (np.arange(64) + 0.5) / 64)
    for r in (0.0, 0.4, 1.0):
        outgoing = _constant_power_partner(incoming, r)
        power = outgoing**2 + incoming**2 + 2 * r * outgoing * incoming
        np.testing.assert_allclose(power, 1.0, atol=1e-12)
    np.testing.assert_allclose(_constant_power_partner(incoming, 1.0), 1.0 - incoming, atol=1e-12)


def test_splicing_a_copy_of_the_song_changes_nothing_and_no_sample_passes_the_ceiling() -> None:
    from seedmusic.edit import Span, _splice

    rate = 8000
    song = 0.8 * np.sin(2 * np.pi * 220 * np.arange(2 * rate) / rate)[None]  # [1, S]
    out = song.copy()
    span = Span(1, 2, 0.5, 1.5)
    _splice(out, song.copy(), 0, span, rate, 0.05, ceiling=0.8)
    np.testing.assert_allclose(out, song, atol=1e-9)  # correlated sides: no +3 dB bump
    loud = 3.0 * song
    _splice(out, loud, 0, span, rate, 0.05, ceiling=0.8)
    assert np.abs(out).max() <= 0.8 + 1e-9
    untouched = np.r_[0 : round(0.5 * rate), round(1.5 * rate) : 2 * rate]
    np.testing.assert_array_equal(out[:, untouched], song[:, untouched])


def _band_db(x: np.ndarray, rate: int) -> np.ndarray:
    import librosa

    spectrum = np.abs(librosa.stft(x, n_fft=2048, hop_length=512)) ** 2
    bands = librosa.filters.mel(sr=rate, n_fft=2048, n_mels=40)
    return 10 * np.log10(bands @ spectrum.mean(axis=1) + 1e-12)


def test_the_spectral_match_gives_the_span_the_sources_balance_within_its_limits() -> None:
    from scipy.signal import butter, sosfilt

    from seedmusic.edit import MATCH_MAX_DB, _spectrum_matched

    rng = np.random.default_rng(0)
    bright = rng.normal(0.0, 0.1, 3 * RATE).astype(np.float32)  # the DiT's render: white
    dark = sosfilt(butter(2, 1500, fs=RATE, output="sos"), rng.normal(0.0, 0.1, 3 * RATE))
    start, stop = RATE // 2, 5 * RATE // 2
    matched = _spectrum_matched(bright, dark.astype(np.float32), start, stop, RATE)
    assert matched.dtype == np.float32 and matched.shape == bright.shape
    before = np.abs(_band_db(bright[start:stop], RATE) - _band_db(dark, RATE))
    after = np.abs(_band_db(matched[start:stop], RATE) - _band_db(dark, RATE))
    within = before < MATCH_MAX_DB - 1  # bands the match may reach
    assert within.sum() >= 10 and after[within].max() < 1.5 < before[within].max()
    loud = _spectrum_matched(
        bright, 100 * bright, start, stop, RATE
    )  # +40 dB asked: MATCH_MAX_DB given
    gain = _band_db(loud[start:stop], RATE) - _band_db(bright[start:stop], RATE)
    np.testing.assert_allclose(gain, MATCH_MAX_DB, atol=0.5)
    silent = np.zeros_like(bright)
    assert _spectrum_matched(bright, silent, start, stop, RATE) is bright


def test_appended_bars_match_the_stretch_before_the_songs_end() -> None:
    from seedmusic.edit import _match_target

    mono = np.arange(100.0)
    np.testing.assert_array_equal(_match_target(mono, 20, 40, 80), mono[20:40])
    np.testing.assert_array_equal(_match_target(mono, 70, 90, 80), mono[70:80])
    np.testing.assert_array_equal(_match_target(mono, 80, 100, 80), mono[60:80])
