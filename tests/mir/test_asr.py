"""Lyrics recognition with a local Whisper checkpoint (a tiny random one built here)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from mir.analyze import analyze
from mir.asr import WHISPER_SAMPLE_RATE, AsrError, LyricsRecognizer
from mir.audio import Audio
from mir.transcriber import Transcriber, TranscriberConfig
from tests.mir.synth import SAMPLE_RATE, chord_tones
from tests.mir.tiny_whisper import save_tiny_whisper


@pytest.fixture(scope="module")
def whisper_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return save_tiny_whisper(tmp_path_factory.mktemp("whisper"))


@pytest.fixture
def recognizer(whisper_dir: Path) -> LyricsRecognizer:
    return LyricsRecognizer.from_pretrained(whisper_dir)


def count_windows(recognizer: LyricsRecognizer, monkeypatch: pytest.MonkeyPatch) -> list[int]:
    """Record the batch size of every real `generate` call."""
    calls: list[int] = []
    generate = recognizer.model.generate

    def counting(features, **kwargs):
        calls.append(int(features.shape[0]))
        return generate(features, **kwargs)

    monkeypatch.setattr(recognizer.model, "generate", counting)
    return calls


def test_transcribes_30_second_windows_at_16_khz(
    recognizer: LyricsRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_windows(recognizer, monkeypatch)
    rng = np.random.default_rng(0)
    stereo_44k = (0.1 * rng.standard_normal((2, 44100 * 65))).astype(np.float32)
    text = recognizer.transcribe(Audio(stereo_44k, 44100), language="en")
    assert isinstance(text, str)
    assert calls == [3]  # 65 s -> windows of 30, 30 and 5 s, in one batch


def test_silent_windows_are_skipped(
    recognizer: LyricsRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls = count_windows(recognizer, monkeypatch)
    samples = np.zeros(WHISPER_SAMPLE_RATE * 40, dtype=np.float32)
    samples[WHISPER_SAMPLE_RATE * 31 :] = 0.1  # only the second window has sound
    recognizer.transcribe(Audio(samples, WHISPER_SAMPLE_RATE))
    assert calls == [1]
    calls.clear()
    silent = Audio(np.zeros(WHISPER_SAMPLE_RATE * 5, dtype=np.float32), WHISPER_SAMPLE_RATE)
    assert recognizer.transcribe(silent) == ""
    assert calls == []


def test_the_prompt_names_the_language_and_the_task(recognizer: LyricsRecognizer) -> None:
    tokenizer = recognizer.processor.tokenizer
    prompt = tokenizer.convert_ids_to_tokens(recognizer._prompt("de"))
    assert prompt == ["<|startoftranscript|>", "<|de|>", "<|transcribe|>", "<|notimestamps|>"]
    # A language the vocabulary lacks is left out rather than sent as an unknown token.
    assert "<|fr|>" not in tokenizer.convert_ids_to_tokens(recognizer._prompt("fr"))


@pytest.mark.parametrize("case", ["missing", "empty", "not-whisper"])
def test_a_bad_checkpoint_folder_raises_asr_error(tmp_path: Path, case: str) -> None:
    folder = tmp_path / "whisper"
    if case != "missing":
        folder.mkdir()
    if case == "not-whisper":
        (folder / "config.json").write_text('{"model_type": "whisper", "d_model": "wide"}')
    with pytest.raises(AsrError):
        LyricsRecognizer.from_pretrained(folder)


def test_analyze_aligns_the_recognised_text_only_without_given_lyrics(
    recognizer: LyricsRecognizer, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mir.lyrics

    aligned: list[str] = []

    def align(text, notes, language):
        aligned.append(text)
        return [(0.5, 1.0, "la")]

    monkeypatch.setattr(mir.lyrics, "align_lyrics", align)
    monkeypatch.setattr(recognizer, "transcribe", lambda audio, language: "la la la")
    clip = Audio(chord_tones(["C:maj", "G:maj"], 2.0), SAMPLE_RATE)
    transcriber = Transcriber(TranscriberConfig.tiny()).eval()
    result = analyze(clip, progress=False, transcriber=transcriber, asr=recognizer)
    assert aligned == ["la la la"] and result.lyrics == [(0.5, 1.0, "la")]
    analyze(clip, progress=False, transcriber=transcriber, lyrics="given words", asr=recognizer)
    assert aligned[-1] == "given words"
