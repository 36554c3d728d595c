"""The renderer benchmark: its vocal metrics on synthetic signals with known answers, its score
cut and unconditional DiT, and one run end to end on a tiny corpus, codec, DiT and transcriber."""

from __future__ import annotations

import dataclasses
import json
from pathlib import Path

import numpy as np
import pytest
import torch

from benchmarks.render import (
    NEURAL_REFERENCE,
    ROWS,
    VOCAL_ROWS,
    UnconditionalDiT,
    cut_score,
    main,
)
from benchmarks.render_metrics import (
    ADHERENCE,
    SEAMS,
    VOCAL,
    pitch_shares,
    seam_metrics,
    spectral_jumps,
    syllable_onset_share,
    vocal_pitch,
)
from renderer.dit import DitConfig, LatentDiT
from score_tokens.score import Note, Score
from seedmusic.render_conditions import global_width

ROOT = Path(__file__).resolve().parents[2]
RATE = 16000
BEAT = 480  # ticks per beat; 0.5 s at the default 120 bpm


def _vocal_score(notes: list[Note]) -> Score:
    score = Score()
    score.tracks["vocal"].notes = notes
    return score


def _sine(hz: float, seconds: float) -> np.ndarray:
    t = np.arange(round(seconds * RATE)) / RATE
    return (0.5 * np.sin(2 * np.pi * hz * t)).astype(np.float32)


def test_pitch_shares_count_voiced_frames_within_50_cents_inside_notes() -> None:
    times = np.arange(10) * 0.1  # [10] frames at 0.0 .. 0.9 s
    f0 = np.full(10, 440.0)
    f0[1] = 440.0 * 2 ** (40 / 1200)  # 40 cents sharp: on pitch
    f0[2] = 440.0 * 2 ** (60 / 1200)  # 60 cents sharp: off
    f0[3] = np.nan
    voiced = np.isfinite(f0)
    notes = [(0.0, 0.5, 69)]  # frames 0..4; frames 5..9 lie outside every note
    assert pitch_shares(times, f0, voiced, notes) == pytest.approx((4 / 5, 3 / 4))
    assert pitch_shares(times, f0, voiced, []) == (None, None)
    assert pitch_shares(times, f0, np.zeros(10, bool), notes) == (0.0, 0.0)


@pytest.mark.parametrize(("hz", "on_pitch"), [(440.0, 1.0), (440.0 * 2 ** (1 / 12), 0.0)])
def test_a_sine_at_the_score_pitch_is_on_pitch_and_a_semitone_off_is_not(
    hz: float, on_pitch: float
) -> None:
    score = _vocal_score([Note(0, 4 * BEAT, 69, lyric="la")])  # A4 for 2 s
    voiced, share = vocal_pitch(score, _sine(hz, 2.0), RATE, 2.0)
    assert voiced is not None and voiced > 0.9
    assert share == pytest.approx(on_pitch, abs=0.05)


def _bursts(onsets: list[float], seconds: float) -> np.ndarray:
    """Short decaying tones starting at `onsets` (s), silence between."""
    audio = np.zeros(round(seconds * RATE), dtype=np.float32)
    burst = _sine(330.0, 0.2) * np.exp(-np.arange(round(0.2 * RATE)) / (0.05 * RATE))
    for onset in onsets:
        start = round(onset * RATE)
        audio[start : start + burst.size] += burst[: audio.size - start]
    return audio


def test_syllable_onsets_within_50_ms_count_and_later_ones_do_not() -> None:
    # syllables at 0.5, 1.0, 1.5, 2.0 s (a melisma note at 1.25 s starts none); the clip ends
    # at 2.0 s, so the last syllable is outside it
    notes = [Note(BEAT * k, BEAT // 2, 64, lyric="la") for k in (1, 2, 3, 4)]
    notes.append(Note(BEAT * 5 // 2, BEAT // 2, 66))
    score = _vocal_score(sorted(notes, key=lambda n: n.tick))
    assert syllable_onset_share(score, _bursts([0.5, 1.0, 1.5], 2.0), RATE, 2.0) == 1.0
    late = _bursts([0.58, 1.08, 1.58], 2.0)  # 80 ms late
    assert syllable_onset_share(score, late, RATE, 2.0) == 0.0
    two = _bursts([0.5, 1.0], 2.0)
    assert syllable_onset_share(score, two, RATE, 2.0) == pytest.approx(2 / 3)
    assert syllable_onset_share(_vocal_score([]), two, RATE, 2.0) is None


def test_cut_score_keeps_the_whole_bars_that_cover_the_seconds() -> None:
    from seedmusic.data.example_song import example_song

    song = example_song()
    bar = song.tick_to_seconds(song.bar_starts()[1])
    cut = cut_score(song, 1.5 * bar)
    assert cut.end_tick == song.bar_starts()[2]
    assert cut.duration_seconds() == pytest.approx(2 * bar)
    assert cut_score(song, 2 * bar).end_tick == song.bar_starts()[2]
    assert cut_score(song, 10_000.0).duration_seconds() == pytest.approx(song.duration_seconds())


def test_the_unconditional_dit_is_the_dit_with_every_condition_dropped() -> None:
    torch.manual_seed(0)
    config = DitConfig(**{**vars(DitConfig.tiny()), "frame_dim": 6, "frame_channels": 8})
    dit = LatentDiT(config).eval()
    floor = UnconditionalDiT.of(dit)
    noisy, t = torch.randn(2, 8, 12), torch.tensor([0.3, 0.7])
    frames, glob = torch.randn(2, 6, 12), torch.randn(2, 16)
    with torch.no_grad():
        dropped = dit(noisy, t, global_embedding=glob, score_frames=frames,
                      drop_conditions=torch.ones(2, dtype=torch.bool))  # fmt: skip
        kept = dit(noisy, t, global_embedding=glob, score_frames=frames)
        ours = floor(noisy, t, global_embedding=glob, score_frames=frames)
    torch.testing.assert_close(ours, dropped)
    assert not torch.allclose(ours, kept)


def test_a_missing_dit_is_one_error_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit) as exit_:
        main(["--corpus", str(tmp_path), "--dit", str(tmp_path / "no-dit")])
    err = capsys.readouterr().err.strip()
    assert exit_.value.code == 2
    assert err.startswith("error:") and "no DiT checkpoint" in err and "\n" not in err


def _tables(out: str) -> dict[str, tuple[list[str], dict[str, list[str]]]]:
    """Markdown tables of `out` by the line before them: (header cells, {first cell: cells})."""
    tables: dict[str, tuple[list[str], dict[str, list[str]]]] = {}
    lines = out.splitlines()
    for i, line in enumerate(lines):
        if line.startswith("| ") and not lines[i - 1].startswith("|"):
            block = [line]
            for following in lines[i + 1 :]:
                if not following.startswith("|"):
                    break
                block.append(following)
            header, *rows = ([c.strip() for c in row.strip("|").split("|")] for row in block)
            tables[lines[i - 1]] = (header, {cells[0]: cells[1:] for cells in rows[1:]})
    return tables


@pytest.mark.slow
def test_the_benchmark_prints_every_row_and_column(
    built: dict[str, Path], tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    from mir.transcriber import Transcriber, TranscriberConfig
    from seedmusic.config import load_config
    from seedmusic.data.corpus import Corpus
    from seedmusic.train.dit_task import DitTaskConfig

    torch.manual_seed(0)
    dit = load_config(DitTaskConfig, ROOT / "configs" / "dit" / "tiny.yaml").dit
    # a DiT that reads a reference: the pieces (36 s and 75 s) go on after the 6-s clip
    dit = dataclasses.replace(dit, global_dim=global_width(dit.latent_dim, reference=True))
    LatentDiT(dit).save_pretrained(tmp_path / "dit")
    Transcriber(TranscriberConfig.tiny()).save_pretrained(tmp_path / "transcriber")
    split = Corpus(built["corpus"]).pieces()[0].split
    # 6 s, not fewer: the tiny corpus's first vocal note starts near 4.8 s
    main(
        [
            "--corpus", str(built["corpus"]), "--dit", str(tmp_path / "dit"),
            "--codec", str(built["codec"]), "--latents", str(built["latents"]),
            "--split", split, "--pieces", "1", "--seconds", "6", "--steps", "2",
            "--threads", "1", "--transcriber", str(tmp_path / "transcriber"),
            "--json", str(tmp_path / "render.json"), "--composed", "0",
        ]
    )  # fmt: skip
    out = capsys.readouterr().out
    tables = _tables(out)
    titles = list(tables)
    assert len(titles) == 5, out
    adherence, ratio, vocal, seams, speed = (tables[title] for title in titles)
    assert seams[0] == ["neural mix", "clips", *SEAMS.values()]
    assert adherence[0] == ["system", *ADHERENCE.values(), "log-mel L1"]
    assert ratio[0] == ["system", *ADHERENCE.values()]
    assert vocal[0] == ["system", "clips", *VOCAL.values()]
    assert list(adherence[1]) == list(ROWS) and list(ratio[1]) == list(ROWS)
    assert all(cell not in ("", "-") for cell in adherence[1][NEURAL_REFERENCE][:3])
    assert list(vocal[1]) == list(VOCAL_ROWS)
    assert vocal[1]["neural"][0].startswith("1 (")
    assert all(cell != "-" for row in vocal[1].values() for cell in row)
    assert speed[0][:5] == ["threads", "audio s", "DiT s/s", "VAE s/s", "total s/s"]
    assert len(speed[1]) == 1
    assert adherence[1]["ceiling"][-1] == "-"  # the ceiling's distance to itself
    assert all(cell not in ("", "-") for cell in adherence[1]["neural"][:3])
    assert "goals (neural):" in out and "peak RSS <= 2 GB" in out
    record = json.loads((tmp_path / "render.json").read_text())
    assert record["settings"]["latents_used"] is True
    assert set(record["adherence"]) == set(ROWS) and set(record["vocal"]) == set(VOCAL_ROWS)
    assert record["ratio_to_ceiling"]["ceiling"]["beat_f"] in (1.0, None)
    assert record["speed"]["total_s_per_s"] > 0 and record["speed"]["peak_rss_gb"] > 0
    assert len(record["clips"]) == 1 and record["clips"][0]["seconds"] <= 6.0 + 1e-6


def test_a_click_of_silence_is_a_spectral_jump_and_a_steady_tone_is_none() -> None:
    tone = _sine(440.0, 2.0)
    cut = tone.copy()
    cut[RATE : RATE + RATE // 5] = 0.0  # 200 ms gap from 1.0 s
    steady, gap = spectral_jumps(tone, RATE, [1.0])[0], spectral_jumps(cut, RATE, [1.0])[0]
    assert steady < 0.5 and gap > 10.0
    assert spectral_jumps(tone, RATE, [0.05, 1.98]) == []  # no context on one side


def test_seam_metrics_compare_the_seams_with_bar_lines_away_from_them() -> None:
    tone = _sine(440.0, 4.0)
    seamed = tone.copy()
    seamed[2 * RATE :] *= 0.1  # a 20 dB step at the seam at 2.0 s
    metrics = seam_metrics(seamed, tone, RATE, seams=[2.0], bar_lines=[1.0, 2.1, 3.0])
    assert set(metrics) == set(SEAMS)
    assert metrics["at_seams"] is not None and metrics["at_seams"] > 5.0
    assert metrics["at_bar_lines"] is not None and metrics["at_bar_lines"] < 0.5  # 2.1 left out
    assert metrics["ceiling_at_seams"] is not None and metrics["ceiling_at_seams"] < 0.5


def test_window_seams_follow_each_windows_known_frames() -> None:
    from seedmusic.neural_render import NeuralRenderSettings

    settings = NeuralRenderSettings(window=250, overlap=50)
    assert settings.window_starts(600) == [0, 200, 400]
    assert settings.seam_frames(600) == [250, 450]
    assert settings.seam_frames(250) == []


@pytest.mark.slow
def test_composed_clips_sing_the_prompts_words_over_the_exact_render(
    built: dict[str, Path],
) -> None:
    from benchmarks.render_prompts import composed_clips, prompt_style
    from seedmusic.data.corpus import Corpus

    corpus = Corpus(built["corpus"])
    pieces = [p for p in corpus.pieces() if p.lyrics != "none"]
    assert pieces, "the tiny corpus has a piece with words"
    style = prompt_style(pieces[0])
    assert style.tempo == pieces[0].tempo and style.key == pieces[0].key
    clips = composed_clips(corpus, pieces, 1, 6.0, RATE, seed=0)
    assert len(clips) == 1
    clip = clips[0]
    assert clip.piece.id.endswith("(composed)") and clip.piece.vocal == "sung"
    assert clip.length == round(6.0 * RATE)
    assert clip.score.notes("vocal") and any(n.lyric for n in clip.score.notes("vocal"))
    assert clip.truth.beats and max(clip.truth.beats) <= 6.0
    assert np.abs(clip.mix).max() > 0.01  # the synth render sounds
    assert clip.vocal is not None and clip.vocal.size == clip.mix.size
