"""Five-instrument note transcription: vocal, piano, guitar and bass notes, drum-class onsets.

    audio --mono, resampled to `sample_rate`--> log-frequency spectrogram      [F, T]
          --per-bin BatchNorm, conv3x3 + BN + ReLU layers at full resolution--> [C0, F, T]
          --the rest of the conv stack, max-pooled in F-->                     [C, F', T]
          --flatten, linear-->                                                 [T, D]
          --bidirectional LSTM, concatenated with its input-->                 [T, 2H + D]
          --linear head--> onset / frame / offset logits per instrument        [I, P, T]
                           and one onset logit per drum class                  [K, T]

    pitched logits = that global head + a pitch-aligned local head: a conv over frequency
    (`local_kernel` bins, e.g. +-1 octave, so it sees the harmonics) on the full-resolution
    [C0, F, T] map giving 3 x I logits per bin, read at each pitch's own bin.

The local head shares its weights across pitches, so "energy (and an attack) at this pitch's
harmonics" is learnt once for every pitch, and early in training; the global head (which sees the
whole spectrum and, through the LSTM, the context) tells instruments apart and adds musical
context. Its biases start at `PRIOR_LOGIT`.

Front end (`compute_features`): a Hann-window STFT (`n_fft`, hop `sample_rate / frame_rate`;
frame t is centred on sample `t * hop`, the signal zero-padded by `n_fft / 2` on both sides),
magnitudes mapped onto `n_bins` log-spaced bins `bins_per_semitone` per semitone from MIDI
`min_midi` (triangular in log frequency; a bin narrower than the STFT's spacing interpolates
its two nearest STFT bins), then `ln(energy + 1e-5)`. Every frame depends only on its own
samples, so features of a slice of frames equal the same frames of the whole file.

Decoding (`decode`), per instrument and pitch, with the thresholds of `DecodeConfig`:
- a note starts at each onset peak: a frame whose onset probability is >= the instrument's
  entry of `onset_thresholds`,
  > the previous frame's and >= the next frame's;
- it lasts while the frame probability stays >= `frame_threshold`, and ends at the first frame
  that falls below it, that has an offset probability >= `offset_threshold`, or that is the next
  onset peak of the same pitch (a repeated note); it lasts at least one frame;
- (start, end) are the first and the past-the-end frame's times, `t / frame_rate`.
Drums are onsets only: a peak (same rule, `drum_threshold`) of a class's onset probability is a
hit at `t / frame_rate`, reported as the class's representative GM pitch and one frame long.

Drum classes (`DRUM_CLASSES`): kick (35, 36 -> 36), snare (37-40 -> 38), hi-hat (42, 44, 46
-> 42), toms (41, 43, 45, 47, 48, 50 -> 45), cymbals (49, 51-53, 55, 57, 59 -> 49) and other
percussion (every other GM drum number -> 54). Score reference drums through
`drum_class_notes` so both sides use the same classes.

Long audio (`predict`) is processed in chunks of `chunk_seconds` with `context_seconds` of extra
frames on both sides that are computed and dropped, so the network's memory is bounded by the
chunk; the kept probabilities (about 17 KB per second of audio) are decoded at the end.
"""

from __future__ import annotations

import functools
import logging
from dataclasses import dataclass, field

import numpy as np
import torch
from torch import nn

from mir.audio import Audio
from renderer.modeling import PretrainedModel

logger = logging.getLogger(__name__)

PITCHED: tuple[str, ...] = ("vocal", "piano", "guitar", "bass")
"""The instruments transcribed as notes, in the order of the model's instrument axis."""
INSTRUMENTS: tuple[str, ...] = (*PITCHED, "drums")
PRIOR_LOGIT = -4.0
"""Initial bias of every output (probability ~0.02): notes and hits are rare, so training does not
spend its first steps pushing 0.5 down."""
LOG_FLOOR = 1e-5
"""Added to the filterbank energies before the logarithm (-100 dB of a full-scale sine)."""

NoteList = list[tuple[float, float, int]]
"""Notes as (start s, end s, MIDI pitch); drums use a GM drum number as pitch."""


@dataclass(frozen=True)
class DrumClass:
    """A group of GM drum numbers transcribed as one onset class.

    Attributes:
        name: e.g. "kick".
        pitch: the GM number reported for the class's hits.
        members: the GM numbers of the class (empty for the catch-all class).
    """

    name: str
    pitch: int
    members: tuple[int, ...]


DRUM_CLASSES: tuple[DrumClass, ...] = (
    DrumClass("kick", 36, (35, 36)),
    DrumClass("snare", 38, (37, 38, 39, 40)),
    DrumClass("hihat", 42, (42, 44, 46)),
    DrumClass("tom", 45, (41, 43, 45, 47, 48, 50)),
    DrumClass("cymbal", 49, (49, 51, 52, 53, 55, 57, 59)),
    DrumClass("percussion", 54, ()),
)
"""The drum classes; the last one takes every GM number the others do not list."""


def drum_class(gm_pitch: int) -> int:
    """Index into `DRUM_CLASSES` of a GM drum number."""
    for index, cls in enumerate(DRUM_CLASSES[:-1]):
        if gm_pitch in cls.members:
            return index
    return len(DRUM_CLASSES) - 1


def drum_class_notes(notes: NoteList, merge_seconds: float = 0.03) -> NoteList:
    """Reference drum notes mapped onto the classes' representative pitches.

    Hits of one class closer than `merge_seconds` to the previous kept hit (e.g. a low and a
    high conga struck together) become one hit, as the transcriber reports at most one.
    """
    mapped = sorted((start, end, DRUM_CLASSES[drum_class(int(p))].pitch) for start, end, p in notes)
    last: dict[int, float] = {}
    kept: NoteList = []
    for start, end, pitch in mapped:
        if pitch in last and start - last[pitch] < merge_seconds:
            continue
        last[pitch] = start
        kept.append((start, end, pitch))
    return kept


@dataclass(frozen=True)
class DecodeConfig:
    """Thresholds on the sigmoid probabilities (see the module docstring).

    Attributes:
        onset_thresholds: one per pitched instrument, in `PITCHED` order (vocal, piano, guitar,
            bass), so each can be tuned on held-out audio after training.
        frame_threshold, offset_threshold: shared by the pitched instruments.
        drum_threshold: shared by the drum classes.
    """

    onset_thresholds: tuple[float, ...] = (0.5, 0.5, 0.5, 0.5)
    frame_threshold: float = 0.5
    offset_threshold: float = 0.5
    drum_threshold: float = 0.5

    def __post_init__(self) -> None:
        if len(self.onset_thresholds) != len(PITCHED):
            raise ValueError(f"onset_thresholds needs {len(PITCHED)} values ({', '.join(PITCHED)})")
        values = (*self.onset_thresholds, self.frame_threshold, self.offset_threshold)
        if not all(0.0 <= v <= 1.0 for v in (*values, self.drum_threshold)):
            raise ValueError(f"thresholds must be in [0, 1], got {self}")


@dataclass(frozen=True)
class TranscriberConfig:
    """Front end, network shape and decoding thresholds of a `Transcriber`.

    Attributes:
        sample_rate: the audio is resampled to this rate.
        frame_rate: frames per second; `sample_rate / frame_rate` must be a whole hop.
        n_fft: STFT size (Hann window of the same length).
        min_midi: MIDI pitch (may be fractional) of the lowest filterbank bin's centre.
        bins_per_semitone: filterbank resolution.
        n_bins: F, filterbank bins (the top centre must lie below the Nyquist frequency).
        conv_channels: one conv3x3 + BatchNorm + ReLU layer per entry.
        freq_pools: max-pool factor over frequency after each conv layer (1: none); the map
            before the first pool feeds the local head.
        local_kernel: frequency extent (odd, in bins) of the pitch-aligned local head.
        hidden_size: D, width of the per-frame projection fed to the LSTM.
        rnn_size: H, LSTM width per direction.
        rnn_layers: stacked bidirectional LSTM layers (an LSTM: about 3x faster than a GRU
            on a CPU in torch).
        dropout: dropout after the projection and between LSTM layers.
        min_pitch, max_pitch: the MIDI range of the pitched heads (P = max - min + 1).
        decode: the thresholds used by `decode` / `transcribe`.
    """

    sample_rate: int = 24000
    frame_rate: int = 50
    n_fft: int = 2048
    min_midi: float = 24.0
    bins_per_semitone: int = 1
    n_bins: int = 96
    conv_channels: tuple[int, ...] = (16, 16, 32, 32)
    freq_pools: tuple[int, ...] = (1, 2, 2, 1)
    local_kernel: int = 25
    hidden_size: int = 192
    rnn_size: int = 160
    rnn_layers: int = 1
    dropout: float = 0.1
    min_pitch: int = 21
    max_pitch: int = 108
    decode: DecodeConfig = field(default_factory=DecodeConfig)

    def __post_init__(self) -> None:
        if self.sample_rate % self.frame_rate:
            raise ValueError(f"frame_rate {self.frame_rate} must divide {self.sample_rate}")
        if self.n_fft < self.hop_length or self.n_fft % 2:
            raise ValueError(f"n_fft must be even and >= the hop {self.hop_length}")
        if len(self.conv_channels) != len(self.freq_pools) or not self.conv_channels:
            raise ValueError("conv_channels and freq_pools must be non-empty and equally long")
        if self.local_kernel < 1 or self.local_kernel % 2 == 0:
            raise ValueError(f"local_kernel must be odd and >= 1, got {self.local_kernel}")
        if self.pooled_bins < 1:
            raise ValueError(f"{self.n_bins} bins pooled by {self.freq_pools} leave none")
        top_hz = _midi_to_hz(self.min_midi + (self.n_bins - 1) / self.bins_per_semitone)
        if top_hz >= self.sample_rate / 2:
            raise ValueError(f"the top bin ({top_hz:.0f} Hz) must lie below the Nyquist frequency")
        if not 0 < self.min_pitch <= self.max_pitch < 128:
            raise ValueError(f"bad pitch range {self.min_pitch}..{self.max_pitch}")
        if not 0.0 <= self.dropout < 1.0 or min(self.hidden_size, self.rnn_size) < 1:
            raise ValueError("dropout must be in [0, 1) and the widths >= 1")

    @classmethod
    def tiny(cls) -> TranscriberConfig:
        """A test-sized model: 12 kHz, 50 frames/s, 48 bins, widths <= 16, 36 pitches."""
        return cls(
            sample_rate=12000,
            frame_rate=50,
            n_fft=512,
            min_midi=36.0,
            bins_per_semitone=1,
            n_bins=48,
            conv_channels=(8, 8),
            freq_pools=(1, 2),
            local_kernel=5,
            hidden_size=16,
            rnn_size=16,
            rnn_layers=1,
            dropout=0.0,
            min_pitch=36,
            max_pitch=71,
        )

    @classmethod
    def reference(cls) -> TranscriberConfig:
        """The shipped model (`configs/transcriber/reference.yaml`): 1.17 M parameters, 4.7 MB."""
        return cls()

    @property
    def hop_length(self) -> int:
        return self.sample_rate // self.frame_rate

    @property
    def num_pitches(self) -> int:
        return self.max_pitch - self.min_pitch + 1

    @property
    def pooled_bins(self) -> int:
        bins = self.n_bins
        for pool in self.freq_pools:
            bins //= pool
        return bins


# ---------------------------------------------------------------------------------- front end


def _midi_to_hz(pitch: float) -> float:
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


@functools.lru_cache(maxsize=8)
def log_filterbank(
    sample_rate: int, n_fft: int, min_midi: float, bins_per_semitone: int, n_bins: int
) -> np.ndarray:
    """Weights `[F, n_fft // 2 + 1]` from STFT magnitudes to log-spaced bins; rows sum to 1."""
    spacing = sample_rate / n_fft
    freqs = np.arange(n_fft // 2 + 1) * spacing
    with np.errstate(divide="ignore"):
        midi = 69.0 + 12.0 * np.log2(freqs / 440.0)  # -inf at 0 Hz
    bank = np.zeros((n_bins, freqs.size), dtype=np.float64)
    for k in range(n_bins):
        centre = min_midi + k / bins_per_semitone
        row = np.clip(1.0 - np.abs(midi - centre) * bins_per_semitone, 0.0, None)
        if np.count_nonzero(row) < 2:  # narrower than the STFT spacing: interpolate instead
            position = _midi_to_hz(centre) / spacing
            low = int(position)
            row = np.zeros_like(row)
            row[low], row[low + 1] = 1.0 - (position - low), position - low
        bank[k] = row / row.sum()
    return bank.astype(np.float32)


def _frame_features(
    wave: np.ndarray, first: int, stop: int, config: TranscriberConfig
) -> np.ndarray:
    """Features `[F, stop - first]` of frames `first..stop-1` of the mono signal `wave [S]`."""
    hop, half = config.hop_length, config.n_fft // 2
    lo, hi = first * hop - half, (stop - 1) * hop + half
    segment = np.zeros(hi - lo, dtype=np.float32)
    start, end = max(lo, 0), min(hi, wave.size)
    if end > start:
        segment[start - lo : end - lo] = wave[start:end]
    window = torch.hann_window(config.n_fft, periodic=True)
    spectrum = torch.stft(
        torch.from_numpy(segment),
        config.n_fft,
        hop,
        window=window,
        center=False,
        return_complex=True,
    )  # [n_fft // 2 + 1, T]
    magnitude = spectrum.abs() * (2.0 / float(window.sum()))  # a full-scale sine peaks at ~1
    bank = torch.from_numpy(
        log_filterbank(
            config.sample_rate,
            config.n_fft,
            config.min_midi,
            config.bins_per_semitone,
            config.n_bins,
        )
    )
    return torch.log(bank @ magnitude + LOG_FLOOR).numpy()  # [F, T]


def num_frames(num_samples: int, config: TranscriberConfig) -> int:
    """Frames of a signal of `num_samples` samples at the model's rate (frame t at t * hop)."""
    return 1 + num_samples // config.hop_length


def compute_features(
    samples: np.ndarray, sample_rate: int, config: TranscriberConfig
) -> np.ndarray:
    """Log-frequency features `[F, T]` of mono float audio `samples [S]` at `sample_rate`.

    The audio is resampled to `config.sample_rate` first; T = 1 + S' // hop for S' samples there.
    """
    wave = Audio(np.asarray(samples, dtype=np.float32), sample_rate).to_mono()
    resampled = wave.resample(config.sample_rate).samples
    return _frame_features(resampled, 0, num_frames(resampled.size, config), config)


# ---------------------------------------------------------------------------------- model


@dataclass
class TranscriberLogits:
    """Raw network outputs (apply a sigmoid for probabilities).

    Attributes:
        onset, frame, offset: `[B, I, P, T]` for the pitched instruments (`PITCHED` order).
        drums: `[B, K, T]` onset logits per drum class (`DRUM_CLASSES` order).
    """

    onset: torch.Tensor
    frame: torch.Tensor
    offset: torch.Tensor
    drums: torch.Tensor


class Transcriber(nn.Module, PretrainedModel):
    """CRNN from log-frequency features to note and drum activations (module docstring).

    Args:
        config: front end, shape and decoding thresholds.
    """

    config_class = TranscriberConfig

    def __init__(self, config: TranscriberConfig) -> None:
        super().__init__()
        self.config = config
        self.input_norm = nn.BatchNorm1d(config.n_bins)
        full, pooled = _conv_stack(config)
        self.full_convs, self.pooled_convs = nn.Sequential(*full), nn.Sequential(*pooled)
        channels = config.conv_channels[-1]
        self.project = nn.Sequential(
            nn.Linear(channels * config.pooled_bins, config.hidden_size),
            nn.ReLU(),
            nn.Dropout(config.dropout),
        )
        self.rnn = nn.LSTM(
            config.hidden_size,
            config.rnn_size,
            num_layers=config.rnn_layers,
            batch_first=True,
            bidirectional=True,
            dropout=config.dropout if config.rnn_layers > 1 else 0.0,
        )
        self.head = nn.Linear(
            2 * config.rnn_size + config.hidden_size,
            3 * len(PITCHED) * config.num_pitches + len(DRUM_CLASSES),
        )
        nn.init.constant_(self.head.bias, PRIOR_LOGIT)
        full_width = config.conv_channels[len(full) // 3 - 1]
        self.local_head = nn.Conv2d(
            full_width,
            3 * len(PITCHED),
            (config.local_kernel, 1),
            padding=(config.local_kernel // 2, 0),
        )
        bins = torch.tensor(
            [
                round((pitch - config.min_midi) * config.bins_per_semitone)
                for pitch in range(config.min_pitch, config.max_pitch + 1)
            ]
        )  # [P]
        inside = (bins >= 0) & (bins < config.n_bins)
        self.pitch_bin: torch.Tensor
        self.pitch_inside: torch.Tensor
        self.register_buffer("pitch_bin", bins.clamp(0, config.n_bins - 1), persistent=False)
        self.register_buffer("pitch_inside", inside.float(), persistent=False)

    def forward(self, features: torch.Tensor) -> TranscriberLogits:
        """`features [B, F, T]` (from `compute_features`) -> logits."""
        B, _, T = features.shape
        full = self.full_convs(self.input_norm(features).unsqueeze(1))  # [B, C0, F, T]
        x = self.pooled_convs(full)  # [B, C, F', T]
        x = x.permute(0, 3, 1, 2).reshape(B, T, -1)  # [B, T, C * F']
        x = self.project(x)  # [B, T, D]
        context, _ = self.rnn(x)  # [B, T, 2H]
        out = self.head(torch.cat([context, x], dim=-1))  # [B, T, 3 * I * P + K]
        pitched = 3 * len(PITCHED) * self.config.num_pitches
        notes = out[..., :pitched].reshape(B, T, len(PITCHED), 3, self.config.num_pitches)
        notes = notes.permute(3, 0, 2, 4, 1) + self._local(full)  # [3, B, I, P, T]
        drums = out[..., pitched:].transpose(1, 2)  # [B, K, T]
        return TranscriberLogits(onset=notes[0], frame=notes[1], offset=notes[2], drums=drums)

    def _local(self, full: torch.Tensor) -> torch.Tensor:
        """Pitch-aligned logits `[3, B, I, P, T]` from the full-resolution map `[B, C0, F, T]`."""
        B, _, _, T = full.shape
        local = self.local_head(full)[:, :, self.pitch_bin]  # [B, 3 * I, P, T]
        local = local * self.pitch_inside[:, None]  # pitches below/above the bins: no evidence
        return local.reshape(B, 3, len(PITCHED), -1, T).transpose(0, 1)  # [3, B, I, P, T]


def _conv_stack(config: TranscriberConfig) -> tuple[list[nn.Module], list[nn.Module]]:
    """The conv layers before the first frequency pool, and the rest (pools included)."""
    full: list[nn.Module] = []
    pooled: list[nn.Module] = []
    channels = 1
    for width, pool in zip(config.conv_channels, config.freq_pools, strict=True):
        (pooled if pooled else full).extend(
            [nn.Conv2d(channels, width, 3, padding=1, bias=False), nn.BatchNorm2d(width), nn.ReLU()]
        )
        if pool > 1:
            pooled.append(nn.MaxPool2d((pool, 1)))
        channels = width
    return full, pooled


# ---------------------------------------------------------------------------------- inference


@dataclass
class Activations:
    """Probabilities over a whole recording.

    Attributes:
        onset, frame, offset: `[I, P, T]` float32 (pitch index 0 is `min_pitch`).
        drums: `[K, T]` float32.
        frame_rate: frames per second (frame t is at t / frame_rate seconds).
        min_pitch: MIDI pitch of pitch index 0.
    """

    onset: np.ndarray
    frame: np.ndarray
    offset: np.ndarray
    drums: np.ndarray
    frame_rate: float
    min_pitch: int


ACTIVATION_DTYPE = np.float16
"""Activations are kept as float16: an hour at 50 frames/s is 0.4 GB instead of 0.8, and
thresholds on probabilities need no more than three decimals."""
LONG_WINDOW_SECONDS = 300.0
LONG_OVERLAP_SECONDS = 10.0
"""Audio longer than 5 minutes (and the two overlaps) is transcribed 5 minutes at a time, each
window resampled and decoded with 10 s of audio on both sides, so that neither the resampled
copy of a long recording nor its activations are ever held whole (an hour at 24 kHz is 0.35 GB
before resampling's own buffers); a note held more than 10 s across a window's end is cut
there."""


@torch.no_grad()
def predict(
    model: Transcriber, audio: Audio, chunk_seconds: float = 10.0, context_seconds: float = 1.5
) -> Activations:
    """Activations of `audio`, computed in chunks (see the module docstring)."""
    config = model.config
    model.eval()
    device = next(model.parameters()).device
    wave = audio.to_mono().resample(config.sample_rate).samples  # [S]
    total = num_frames(wave.size, config)
    chunk = max(1, round(chunk_seconds * config.frame_rate))
    context = max(0, round(context_seconds * config.frame_rate))
    shape = (len(PITCHED), config.num_pitches, total)
    onset, frame, offset = (np.zeros(shape, dtype=ACTIVATION_DTYPE) for _ in range(3))
    drums = np.zeros((len(DRUM_CLASSES), total), dtype=ACTIVATION_DTYPE)
    for first in range(0, total, chunk):
        stop = min(first + chunk, total)
        lo, hi = max(0, first - context), min(total, stop + context)
        features = torch.from_numpy(_frame_features(wave, lo, hi, config))[None].to(device)
        logits = model(features)
        keep = slice(first - lo, stop - lo)
        onset[..., first:stop] = _probabilities(logits.onset[0, ..., keep])
        frame[..., first:stop] = _probabilities(logits.frame[0, ..., keep])
        offset[..., first:stop] = _probabilities(logits.offset[0, ..., keep])
        drums[:, first:stop] = _probabilities(logits.drums[0, :, keep])
    return Activations(onset, frame, offset, drums, float(config.frame_rate), config.min_pitch)


def _probabilities(logits: torch.Tensor) -> np.ndarray:
    return torch.sigmoid(logits).float().cpu().numpy()


def peak_frames(probability: np.ndarray, threshold: float) -> np.ndarray:
    """Frames t of `probability [T]` with p[t] >= threshold, p[t] > p[t-1], p[t] >= p[t+1]."""
    padded = np.concatenate([[-np.inf], probability, [-np.inf]])
    middle = padded[1:-1]
    is_peak = (middle >= threshold) & (middle > padded[:-2]) & (middle >= padded[2:])
    return np.flatnonzero(is_peak)


def decode_pitch(
    onset: np.ndarray,
    frame: np.ndarray,
    offset: np.ndarray,
    decode: DecodeConfig,
    onset_threshold: float,
) -> list[tuple[int, int]]:
    """Notes `(first frame, past-the-end frame)` of one pitch from its `[T]` probabilities."""
    onsets = peak_frames(onset, onset_threshold)
    bounds = [*onsets[1:].tolist(), onset.size][: onsets.size]
    notes = []
    for start, limit in zip(onsets.tolist(), bounds, strict=True):
        held = (frame[start + 1 : limit] >= decode.frame_threshold) & (
            offset[start + 1 : limit] < decode.offset_threshold
        )
        stops = np.flatnonzero(~held)
        end = start + 1 + (int(stops[0]) if stops.size else held.size)
        notes.append((start, end))
    return notes


def decode(activations: Activations, decode_config: DecodeConfig) -> dict[str, NoteList]:
    """Notes per instrument (`INSTRUMENTS` keys) from activations (module docstring)."""
    rate = activations.frame_rate
    result: dict[str, NoteList] = {}
    for index, name in enumerate(PITCHED):
        notes: NoteList = []
        for p in range(activations.onset.shape[1]):
            pitch = activations.min_pitch + p
            for start, end in decode_pitch(
                activations.onset[index, p],
                activations.frame[index, p],
                activations.offset[index, p],
                decode_config,
                decode_config.onset_thresholds[index],
            ):
                notes.append((start / rate, end / rate, pitch))
        result[name] = sorted(notes)
    hits: NoteList = []
    for k, cls in enumerate(DRUM_CLASSES):
        for t in peak_frames(activations.drums[k], decode_config.drum_threshold).tolist():
            hits.append((t / rate, (t + 1) / rate, cls.pitch))
    result["drums"] = sorted(hits)
    return result


def transcribe(
    model: Transcriber,
    audio: Audio,
    decode_config: DecodeConfig | None = None,
    chunk_seconds: float = 10.0,
) -> dict[str, NoteList]:
    """Notes of `audio` per instrument: `{"vocal": [(start s, end s, pitch), ...], ...}`.

    Args:
        model: a trained transcriber (e.g. `Transcriber.from_pretrained(folder)`).
        audio: any sample rate, mono or multi-channel.
        decode_config: thresholds; None uses `model.config.decode`.
        chunk_seconds: length of the chunks the network runs on (memory is bounded by it).
    """
    config = decode_config or model.config.decode
    if audio.duration <= LONG_WINDOW_SECONDS + 2 * LONG_OVERLAP_SECONDS:
        notes = decode(predict(model, audio, chunk_seconds), config)
    else:
        notes = _windowed_notes(model, audio, config, chunk_seconds)
    logger.info(
        "transcribed %.1f s: %s",
        audio.duration,
        ", ".join(f"{len(v)} {k}" for k, v in notes.items()),
    )
    return notes


def _windowed_notes(
    model: Transcriber, audio: Audio, config: DecodeConfig, chunk_seconds: float
) -> dict[str, NoteList]:
    """`transcribe` of long audio, `LONG_WINDOW_SECONDS` at a time: each window is resampled,
    predicted and decoded with `LONG_OVERLAP_SECONDS` of audio on both sides and keeps the
    notes that start inside it."""
    rate = audio.sample_rate
    notes: dict[str, NoteList] = {}
    for start in np.arange(0.0, audio.duration, LONG_WINDOW_SECONDS):
        stop = start + LONG_WINDOW_SECONDS
        lo = max(0.0, start - LONG_OVERLAP_SECONDS)
        hi = min(audio.duration, stop + LONG_OVERLAP_SECONDS)
        piece = Audio(audio.samples[..., round(lo * rate) : round(hi * rate)], rate)
        for name, found in decode(predict(model, piece, chunk_seconds), config).items():
            notes.setdefault(name, []).extend(
                (lo + begin, lo + end, pitch)
                for begin, end, pitch in found
                if start <= lo + begin < stop
            )
    return {name: sorted(found) for name, found in notes.items()}


def parameter_count(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)
