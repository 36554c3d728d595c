from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import soundfile

from mir.audio import Audio, load_audio
from mir.errors import AudioError


def _tone(seconds: float, sr: int, freq: float = 440.0) -> np.ndarray:
    t = np.arange(int(seconds * sr)) / sr
    return (0.5 * np.sin(2 * np.pi * freq * t)).astype(np.float32)


def test_wav_round_trip_keeps_samples_and_rate(tmp_path: Path) -> None:
    tone = _tone(0.5, 22050)
    soundfile.write(tmp_path / "a.wav", tone, 22050, subtype="FLOAT")
    audio = load_audio(tmp_path / "a.wav")
    assert audio.sample_rate == 22050
    assert audio.samples.dtype == np.float32 and audio.samples.shape == (tone.size,)
    np.testing.assert_allclose(audio.samples, tone, atol=1e-6)


@pytest.mark.parametrize("suffix", [".flac", ".ogg"])
def test_compressed_formats_load(tmp_path: Path, suffix: str) -> None:
    soundfile.write(tmp_path / f"a{suffix}", _tone(0.5, 44100), 44100)
    audio = load_audio(tmp_path / f"a{suffix}")
    assert audio.sample_rate == 44100 and abs(audio.duration - 0.5) < 0.01


def test_stereo_is_mixed_to_mono_or_kept(tmp_path: Path) -> None:
    left, right = _tone(0.2, 16000, 300.0), _tone(0.2, 16000, 500.0)
    soundfile.write(tmp_path / "s.wav", np.stack([left, right], axis=1), 16000, subtype="FLOAT")
    mono = load_audio(tmp_path / "s.wav")
    stereo = load_audio(tmp_path / "s.wav", mono=False)
    assert stereo.samples.shape == (2, left.size)
    np.testing.assert_allclose(mono.samples, (left + right) / 2, atol=1e-6)


def test_resampling_changes_length_and_keeps_pitch(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "a.wav", _tone(1.0, 48000, 1000.0), 48000)
    audio = load_audio(tmp_path / "a.wav", sample_rate=16000)
    assert audio.sample_rate == 16000 and audio.samples.shape == (16000,)
    spectrum = np.abs(np.fft.rfft(audio.samples))
    assert abs(np.argmax(spectrum) * 16000 / audio.samples.size - 1000.0) < 2.0


def test_resample_multichannel_keeps_channels() -> None:
    audio = Audio(np.zeros((2, 44100), dtype=np.float32), 44100).resample(22050)
    assert audio.samples.shape == (2, 22050)


def _write(path: Path, data: bytes) -> Path:
    path.write_bytes(data)
    return path


BAD_INPUTS = {
    "missing": (lambda p: p / "missing.wav", "does not exist"),
    "directory": (lambda p: p, "is a folder"),
    "empty": (lambda p: _write(p / "empty.wav", b""), "is empty"),
    "random-bytes": (lambda p: _write(p / "noise.wav", _noise(1)), "not a readable audio file"),
    "random-bytes-mp3": (lambda p: _write(p / "noise.mp3", _noise(2)), "cannot read audio"),
    "text-as-flac": (
        lambda p: _write(p / "notes.flac", b"hello world\n" * 50),
        "not a readable audio file",
    ),
}


def _noise(seed: int) -> bytes:
    return np.random.default_rng(seed).bytes(4000)


@pytest.mark.parametrize("case", list(BAD_INPUTS))
def test_unreadable_input_is_one_clear_audio_error(tmp_path: Path, case: str) -> None:
    make, message = BAD_INPUTS[case]
    with pytest.raises(AudioError, match=message) as info:
        load_audio(make(tmp_path))
    assert "\n" not in str(info.value)
    assert isinstance(info.value, ValueError)


def test_zero_length_audio_is_an_error(tmp_path: Path) -> None:
    soundfile.write(tmp_path / "zero.wav", np.zeros(0, dtype=np.float32), 8000)
    with pytest.raises(AudioError, match="zero length"):
        load_audio(tmp_path / "zero.wav")


def test_audio_rejects_bad_shapes() -> None:
    with pytest.raises(AudioError, match="shape"):
        Audio(np.zeros((1, 2, 3), dtype=np.float32), 8000)
    with pytest.raises(AudioError, match="sample rate"):
        Audio(np.zeros(3, dtype=np.float32), 0)


def test_mp3_loads_through_libsndfile(tmp_path: Path) -> None:
    if "MP3" not in soundfile.available_formats():
        pytest.skip("this libsndfile has no MP3 support")
    soundfile.write(tmp_path / "a.mp3", _tone(1.0, 44100), 44100, format="MP3")
    audio = load_audio(tmp_path / "a.mp3", sample_rate=22050)
    assert audio.sample_rate == 22050 and abs(audio.duration - 1.0) < 0.1


def test_a_long_stereo_file_is_mixed_block_by_block_as_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mir.audio

    rng = np.random.default_rng(0)
    stereo = (0.3 * rng.standard_normal((10_000, 3))).astype(np.float32)  # three channels
    path = tmp_path / "three.wav"
    soundfile.write(path, stereo, 8000, subtype="FLOAT")
    whole = load_audio(path, mono=False).to_mono().samples
    monkeypatch.setattr(mir.audio, "DOWNMIX_BLOCK_FRAMES", 999)  # eleven blocks, the last short
    blocked = load_audio(path)
    assert blocked.samples.shape == (10_000,) and blocked.sample_rate == 8000
    np.testing.assert_allclose(blocked.samples, whole, atol=1e-7)
    stereo[4321, 2] = np.nan  # in one channel only
    soundfile.write(path, stereo, 8000, subtype="FLOAT")
    with pytest.raises(AudioError, match="NaN or infinite"):
        load_audio(path)
