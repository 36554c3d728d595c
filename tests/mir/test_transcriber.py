"""The five-instrument transcriber: front end, model I/O, chunked inference and note decoding."""

from __future__ import annotations

import subprocess
import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import pytest
import torch

from mir.audio import Audio
from mir.transcriber import (
    DRUM_CLASSES,
    INSTRUMENTS,
    PITCHED,
    Activations,
    DecodeConfig,
    Transcriber,
    TranscriberConfig,
    compute_features,
    decode,
    drum_class,
    drum_class_notes,
    log_filterbank,
    num_frames,
    peak_frames,
    predict,
    transcribe,
)
from renderer.modeling import CheckpointError

ROOT = Path(__file__).resolve().parents[2]
TINY = TranscriberConfig.tiny()


def _tones(seconds: float, rate: int, seed: int = 0) -> np.ndarray:
    """A few harmonic notes and noise bursts, `[S]` float32."""
    rng = np.random.default_rng(seed)
    t = np.arange(int(seconds * rate)) / rate
    wave = 0.02 * rng.standard_normal(t.size)
    for start, pitch in ((0.1, 48), (0.7, 60), (1.6, 55), (2.4, 67), (3.1, 52)):
        hz = 440.0 * 2 ** ((pitch - 69) / 12)
        on = (t >= start) & (t < start + 0.5)
        wave += on * 0.2 * np.sin(2 * np.pi * hz * t) * np.exp(-(t - start) * 3)
    return wave.astype(np.float32)


@pytest.fixture(scope="module")
def tiny_model() -> Transcriber:
    torch.manual_seed(0)
    model = Transcriber(TINY)
    with torch.no_grad():  # non-trivial BatchNorm statistics, so eval mode is not the identity
        for module in model.modules():
            if isinstance(module, torch.nn.BatchNorm1d | torch.nn.BatchNorm2d):
                module.running_mean.uniform_(-1.0, 1.0)
                module.running_var.uniform_(0.5, 2.0)
    return model.eval()


# ---------------------------------------------------------------------------------- front end


@pytest.mark.parametrize("config", [TINY, TranscriberConfig.reference()], ids=["tiny", "reference"])
def test_every_filterbank_bin_is_a_weighted_average_of_stft_bins(config: TranscriberConfig) -> None:
    bank = log_filterbank(
        config.sample_rate, config.n_fft, config.min_midi, config.bins_per_semitone, config.n_bins
    )
    assert bank.shape == (config.n_bins, config.n_fft // 2 + 1)
    assert np.allclose(bank.sum(axis=1), 1.0, atol=1e-5) and (bank >= 0).all()
    assert (np.count_nonzero(bank, axis=1) >= 2).all()


@pytest.mark.parametrize("pitch", [60, 69, 81, 96])
def test_a_sine_is_loudest_in_its_own_pitch_bin(pitch: int) -> None:
    config = TranscriberConfig.reference()
    rate = config.sample_rate
    t = np.arange(rate) / rate
    features = compute_features(
        0.5 * np.sin(2 * np.pi * 440 * 2 ** ((pitch - 69) / 12) * t), rate, config
    )
    assert features.shape == (config.n_bins, num_frames(rate, config))
    middle = features[:, features.shape[1] // 2]
    assert int(middle.argmax()) == round((pitch - config.min_midi) * config.bins_per_semitone)


def test_features_resample_to_the_model_rate() -> None:
    seconds = 2.0
    native = compute_features(_tones(seconds, TINY.sample_rate), TINY.sample_rate, TINY)
    other = compute_features(_tones(seconds, 16000), 16000, TINY)
    assert native.shape == other.shape == (TINY.n_bins, 1 + int(seconds * TINY.frame_rate))
    loud = native > -6.0  # compare where there is signal (the noise floors differ)
    assert np.median(np.abs(native - other)[loud]) < 0.3


# ---------------------------------------------------------------------------------- model


def test_forward_shapes(tiny_model: Transcriber) -> None:
    logits = tiny_model(torch.randn(2, TINY.n_bins, 37))
    expected = (2, len(PITCHED), TINY.num_pitches, 37)
    assert logits.onset.shape == logits.frame.shape == logits.offset.shape == expected
    assert logits.drums.shape == (2, len(DRUM_CLASSES), 37)


def test_save_then_load_gives_identical_outputs(tiny_model: Transcriber, tmp_path: Path) -> None:
    tiny_model.save_pretrained(tmp_path / "ckpt")
    loaded = Transcriber.from_pretrained(tmp_path / "ckpt")
    assert loaded.config == TINY
    features = torch.randn(1, TINY.n_bins, 25)
    with torch.no_grad():
        a, b = tiny_model(features), loaded(features)
    for name in ("onset", "frame", "offset", "drums"):
        assert torch.equal(getattr(a, name), getattr(b, name))


def test_loading_weights_of_another_shape_is_a_checkpoint_error(
    tiny_model: Transcriber, tmp_path: Path
) -> None:
    tiny_model.save_pretrained(tmp_path / "ckpt")
    config_path = tmp_path / "ckpt" / "config.json"
    config_path.write_text(config_path.read_text().replace('"rnn_size": 16', '"rnn_size": 8'))
    with pytest.raises(CheckpointError, match="shape"):
        Transcriber.from_pretrained(tmp_path / "ckpt")


def test_config_rejects_impossible_front_ends() -> None:
    with pytest.raises(ValueError, match="frame_rate"):
        replace(TINY, frame_rate=7)
    with pytest.raises(ValueError, match="Nyquist"):
        replace(TINY, n_bins=90)
    with pytest.raises(ValueError, match="onset_thresholds"):
        DecodeConfig(onset_thresholds=(0.5, 0.5))


# ---------------------------------------------------------------------------------- inference


def test_chunked_prediction_matches_one_pass(tiny_model: Transcriber) -> None:
    audio = Audio(_tones(4.0, TINY.sample_rate), TINY.sample_rate)
    whole = predict(tiny_model, audio, chunk_seconds=100.0)
    assert whole.onset.shape == (len(PITCHED), TINY.num_pitches, 201)
    # A context longer than the file: every chunk sees every frame, so the result is the same.
    wide = predict(tiny_model, audio, chunk_seconds=0.7, context_seconds=10.0)
    # A short context: only the network's memory beyond 1 s is cut.
    short = predict(tiny_model, audio, chunk_seconds=0.7, context_seconds=1.0)
    for name in ("onset", "frame", "offset", "drums"):
        assert np.allclose(getattr(wide, name), getattr(whole, name), atol=1e-5)
        assert np.abs(getattr(short, name) - getattr(whole, name)).max() < 1e-3


def test_peaks_need_the_threshold_and_a_local_maximum() -> None:
    probability = np.array([0.9, 0.2, 0.6, 0.6, 0.1, 0.4, 0.7, 0.5, 0.8])
    assert peak_frames(probability, 0.5).tolist() == [0, 2, 6, 8]  # a plateau: its first frame
    assert peak_frames(probability, 0.75).tolist() == [0, 8]


def _activations(frames: int) -> Activations:
    shape = (len(PITCHED), TINY.num_pitches, frames)
    return Activations(
        onset=np.zeros(shape, np.float32),
        frame=np.zeros(shape, np.float32),
        offset=np.zeros(shape, np.float32),
        drums=np.zeros((len(DRUM_CLASSES), frames), np.float32),
        frame_rate=50.0,
        min_pitch=TINY.min_pitch,
    )


def test_decoder_turns_synthetic_activations_into_exactly_their_notes() -> None:
    act = _activations(100)
    vocal, piano, bass = PITCHED.index("vocal"), PITCHED.index("piano"), PITCHED.index("bass")
    p = lambda pitch: pitch - TINY.min_pitch  # noqa: E731

    def note(i: int, pitch: int, start: int, end: int, peak: float = 0.9) -> None:
        act.onset[i, p(pitch), start - 1 : start + 2] = (0.4, peak, 0.4)  # smeared onset peak
        act.frame[i, p(pitch), start:end] = 0.8

    note(vocal, 60, 10, 30)
    note(vocal, 60, 30, 40)  # a repeated note: the frame never drops, the onset splits it
    note(vocal, 64, 50, 99)
    act.offset[vocal, p(64), 70] = 0.7  # ... but the offset head ends it at frame 70
    note(piano, 48, 5, 6)  # one frame
    note(piano, 50, 20, 45, peak=0.45)  # onset below threshold: no note
    act.frame[piano, p(55), 60:80] = 0.9  # frames without an onset: no note
    note(bass, 36, 90, 100)  # runs to the end of the activations
    act.drums[0, [9, 10, 11]] = (0.6, 0.95, 0.6)
    act.drums[2, [20, 21, 40]] = (0.7, 0.7, 0.3)  # a plateau, then a hit under the threshold
    act.drums[5, 99] = 0.8

    notes = decode(act, DecodeConfig())
    assert notes == {
        "vocal": [(0.2, 0.6, 60), (0.6, 0.8, 60), (1.0, 1.4, 64)],
        "piano": [(0.1, 0.12, 48)],
        "guitar": [],
        "bass": [(1.8, 2.0, 36)],
        "drums": [(0.2, 0.22, 36), (0.4, 0.42, 42), (1.98, 2.0, 54)],
    }
    lenient_piano = DecodeConfig(onset_thresholds=(0.5, 0.4, 0.5, 0.5))
    assert decode(act, lenient_piano)["piano"] == [(0.1, 0.12, 48), (0.4, 0.9, 50)]


def test_drum_numbers_map_to_classes_and_simultaneous_hits_merge() -> None:
    assert [DRUM_CLASSES[drum_class(n)].name for n in (35, 36, 38, 40, 42, 46, 45, 49, 51)] == [
        "kick",
        "kick",
        "snare",
        "snare",
        "hihat",
        "hihat",
        "tom",
        "cymbal",
        "cymbal",
    ]
    assert DRUM_CLASSES[drum_class(63)].name == DRUM_CLASSES[drum_class(81)].name == "percussion"
    reference = [(1.0, 1.01, 63), (1.0, 1.01, 64), (1.0, 1.01, 46), (0.5, 0.51, 35), (1.2, 1.2, 42)]
    assert drum_class_notes(reference) == [
        (0.5, 0.51, 36),
        (1.0, 1.01, 42),
        (1.0, 1.01, 54),
        (1.2, 1.2, 42),
    ]


def test_transcribe_returns_every_instrument_within_the_recording(tiny_model: Transcriber) -> None:
    audio = Audio(_tones(3.0, 22050), 22050)
    eager = DecodeConfig(onset_thresholds=(0.0,) * 4, frame_threshold=0.0, drum_threshold=0.0)
    notes = transcribe(tiny_model, audio, eager, chunk_seconds=1.0)
    assert set(notes) == set(INSTRUMENTS)
    assert all(notes[name] for name in INSTRUMENTS)  # threshold 0: every local maximum is a note
    drum_pitches = {cls.pitch for cls in DRUM_CLASSES}
    for name, events in notes.items():
        for start, end, pitch in events:
            assert 0.0 <= start < end <= audio.duration + 1.0 / TINY.frame_rate + 1e-9
            assert isinstance(pitch, int)
            if name == "drums":
                assert pitch in drum_pitches
            else:
                assert TINY.min_pitch <= pitch <= TINY.max_pitch


def test_mir_transcriber_does_not_import_seedmusic() -> None:
    code = "import sys, mir.transcriber; assert not any(m.startswith('seedmusic') for m in sys.modules)"
    subprocess.run([sys.executable, "-c", code], cwd=ROOT, check=True)


def test_long_audio_is_transcribed_window_by_window_each_note_once(
    tiny_model: Transcriber, monkeypatch: pytest.MonkeyPatch
) -> None:
    import mir.transcriber as transcriber

    pieces: list[float] = []

    def one_note_per_half_second(model: Transcriber, audio: Audio, chunk: float) -> Audio:
        pieces.append(audio.duration)
        return audio

    def notes_of(piece: Audio, config: DecodeConfig) -> dict[str, list]:
        onsets = np.arange(0.0, piece.duration, 0.5)  # in the piece's own time
        return {"vocal": [(t, t + 0.25, 60) for t in onsets], "drums": []}

    monkeypatch.setattr(transcriber, "LONG_WINDOW_SECONDS", 4.0)
    monkeypatch.setattr(transcriber, "LONG_OVERLAP_SECONDS", 1.0)
    monkeypatch.setattr(transcriber, "predict", one_note_per_half_second)
    monkeypatch.setattr(transcriber, "decode", notes_of)
    audio = Audio(np.zeros(10 * 1000, np.float32), 1000)  # 10 s: windows of 4 s (+1 s each side)
    notes = transcriber.transcribe(tiny_model, audio)
    assert pieces == [5.0, 6.0, 3.0]
    onsets = [start for start, _, _ in notes["vocal"]]
    np.testing.assert_allclose(onsets, np.arange(0.0, 10.0, 0.5))  # every onset once, in order
