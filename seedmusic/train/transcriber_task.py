"""The transcriber task: train `mir.transcriber.Transcriber` on a built corpus's mixes.

Data: every piece of one corpus split is loaded once; its mix becomes log-frequency features
(`mir.transcriber.compute_features`, kept in memory as float16: ~0.35 GB per 10 hours at 96
bins and 50 frames/s) and its `truth.json` notes become frame indices. A sample is a random crop
of `crop_seconds` with its targets:

    features  [F, T]     log-frequency energies, randomly re-gained and equalised (below)
    onset     [I, P, T]  1 at the frame nearest each note start (pitched instruments, `PITCHED`)
    frame     [I, P, T]  1 from the onset frame up to (excluding) the frame nearest its end
    offset    [I, P, T]  1 at that end frame
    drums     [K, T]     1 at the frame nearest each hit of a drum class (`DRUM_CLASSES`)

A note lasts at least one frame; pitches outside the model's range are left out. Augmentation,
on the cached features (in the energy domain, so it is exact up to the log floor): a random gain
of +-`gain_db` and a random smooth equaliser curve (three cosines over the bins) of about
+-`eq_db`, so the model does not learn one SoundFont's levels and spectral balance.

With `stem_gain_db > 0` each piece's stems are cached as well, and a crop is, with probability
`remix_prob`, a new mix of them: each stem's filterbank magnitudes scaled by its own random gain
of +-`stem_gain_db` and summed (the corpus mix is exactly the sum of its stems; magnitudes add
exactly where stems do not share a bin and over-estimate by at most the quieter one where they
do), so the balance of vocal, band and drums varies as it does between real productions. With
probability `reverb_prob` a crop then gets a reverberation tail: the magnitudes convolved with an
exponential decay of a random RT60 in `reverb_seconds`, mixed in at a random level of 0.1-0.5.
`init_from` starts the run from a transcriber checkpoint's weights (a fine-tune on new timbres).

Loss: binary cross-entropy per head, summed with weights; the rare positive classes (onsets,
offsets, drum hits) are up-weighted by `pos_weight`.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from mir.audio import load_audio
from mir.transcriber import (
    DRUM_CLASSES,
    LOG_FLOOR,
    PITCHED,
    Transcriber,
    TranscriberConfig,
    TranscriberLogits,
    compute_features,
    drum_class,
)
from seedmusic.data.corpus import Corpus, PieceRecord, Split
from seedmusic.errors import UserError
from seedmusic.train.loop import StepOutput, TrainConfig, TrainTask

logger = logging.getLogger(__name__)

_DB_TO_NEPER = np.log(10.0) / 20.0


@dataclass(frozen=True)
class TranscriberDataConfig:
    """Where the training audio is and how it is cropped and augmented.

    Attributes:
        corpus: a folder built by `seedmusic data build`.
        split: the corpus split to train on.
        max_pieces: use only the first N pieces of the split (0: all), for quick runs.
        tune_split: the split whose pieces tune the decoding thresholds at export
            (`seedmusic.train.tune_transcriber`); None, or a split without pieces, keeps them.
        crop_seconds: length of the training crops.
        gain_db: random gain range, +- dB (0: off).
        eq_db: amplitude of the random equaliser curve, dB (0: off).
        stem_gain_db: random gain per stem of a re-mixed crop, +- dB (0: the mix only).
        remix_prob: share of crops re-mixed from the stems (when `stem_gain_db > 0`).
        reverb_prob: share of crops given a reverberation tail.
        reverb_seconds: the range of the tail's RT60.
    """

    corpus: str | None = None
    split: Split = "train"
    max_pieces: int = 0
    tune_split: Split | None = "valid"
    crop_seconds: float = 4.0
    gain_db: float = 6.0
    eq_db: float = 6.0
    stem_gain_db: float = 0.0
    remix_prob: float = 0.5
    reverb_prob: float = 0.0
    reverb_seconds: tuple[float, float] = (0.2, 1.5)

    def __post_init__(self) -> None:
        if self.crop_seconds <= 0 or self.max_pieces < 0 or min(self.gain_db, self.eq_db) < 0:
            raise ValueError("data.crop_seconds must be > 0; max_pieces, gain_db, eq_db >= 0")
        if self.stem_gain_db < 0 or not 0 <= self.remix_prob <= 1 or not 0 <= self.reverb_prob <= 1:
            raise ValueError("data.stem_gain_db must be >= 0; remix_prob, reverb_prob in [0, 1]")
        low, high = self.reverb_seconds
        if not 0 < low <= high:
            raise ValueError("data.reverb_seconds must be (low, high) with 0 < low <= high")


@dataclass(frozen=True)
class TranscriberLossConfig:
    """Weights of the four BCE terms and the up-weighting of rare positives."""

    onset_weight: float = 1.0
    frame_weight: float = 1.0
    offset_weight: float = 0.5
    drum_weight: float = 1.0
    onset_pos_weight: float = 5.0
    offset_pos_weight: float = 2.0
    drum_pos_weight: float = 5.0


@dataclass(frozen=True)
class TranscriberTaskConfig:
    """The whole transcriber run: optimisation, model, data and loss."""

    train: TrainConfig = field(default_factory=TrainConfig)
    model: TranscriberConfig = field(default_factory=TranscriberConfig)
    data: TranscriberDataConfig = field(default_factory=TranscriberDataConfig)
    loss: TranscriberLossConfig = field(default_factory=TranscriberLossConfig)
    init_from: str | None = None
    """A transcriber checkpoint folder whose weights start this run (same model config)."""


# ---------------------------------------------------------------------------------- targets


@dataclass
class PieceData:
    """One piece in memory.

    Attributes:
        features: `[F, T]` float16 features of the whole mix.
        notes: per pitched instrument, `[N, 3]` int (onset frame, end frame, pitch index).
        drums: `[N, 2]` int (frame, drum class).
        stems: `[S, F, T]` float16 features of each stem, or None (not cached).
    """

    features: np.ndarray
    notes: list[np.ndarray]
    drums: np.ndarray
    stems: np.ndarray | None = None


def note_frames(truth_notes: dict[str, Any], config: TranscriberConfig) -> list[np.ndarray]:
    """`[N, 3]` (onset frame, end frame > onset frame, pitch index) per `PITCHED` instrument."""
    rate, result = config.frame_rate, []
    for name in PITCHED:
        rows = [
            (on, max(on + 1, round(end * rate)), pitch - config.min_pitch)
            for start, end, pitch in truth_notes.get(name, [])
            if config.min_pitch <= pitch <= config.max_pitch
            for on in [round(start * rate)]
        ]
        result.append(np.asarray(rows, dtype=np.int64).reshape(-1, 3))
    return result


def drum_frames(truth_notes: dict[str, Any], config: TranscriberConfig) -> np.ndarray:
    """`[N, 2]` (frame, drum class) of the reference drum hits."""
    hits = truth_notes.get("drums", [])
    rows = [(round(start * config.frame_rate), drum_class(int(p))) for start, _, p in hits]
    return np.asarray(rows, dtype=np.int64).reshape(-1, 2)


def crop_targets(
    piece: PieceData, first: int, length: int, num_pitches: int
) -> dict[str, np.ndarray]:
    """Targets of frames `first .. first + length - 1` (see the module docstring)."""
    shape = (len(PITCHED), num_pitches, length)
    onset, frame, offset = (np.zeros(shape, dtype=np.float32) for _ in range(3))
    for index, notes in enumerate(piece.notes):
        on, end, pitch = notes[:, 0] - first, notes[:, 1] - first, notes[:, 2]
        inside = (end > 0) & (on < length)
        for a, b, p in zip(on[inside], end[inside], pitch[inside], strict=True):
            frame[index, p, max(a, 0) : min(b, length)] = 1.0
            if a >= 0:
                onset[index, p, a] = 1.0
            if b < length:
                offset[index, p, b] = 1.0
    drums = np.zeros((len(DRUM_CLASSES), length), dtype=np.float32)
    hits = piece.drums[(piece.drums[:, 0] >= first) & (piece.drums[:, 0] < first + length)]
    drums[hits[:, 1], hits[:, 0] - first] = 1.0
    return {"onset": onset, "frame": frame, "offset": offset, "drums": drums}


def augment(
    features: np.ndarray, rng: np.random.Generator, data: TranscriberDataConfig
) -> np.ndarray:
    """`features [F, T]` with a random gain and equaliser curve applied to the energies."""
    position = np.linspace(0.0, 1.0, features.shape[0])  # [F]
    curve_db = np.full_like(position, rng.uniform(-data.gain_db, data.gain_db))
    for k in (1, 2, 3):
        amplitude, phase = rng.uniform(-0.5, 0.5) * data.eq_db, rng.uniform(0.0, np.pi)
        curve_db += amplitude * np.cos(np.pi * k * position + phase)
    gain = np.exp(curve_db * _DB_TO_NEPER)[:, None]  # [F, 1]
    energy = np.maximum(np.exp(features) - LOG_FLOOR, 0.0)
    return np.log(energy * gain + LOG_FLOOR).astype(np.float32)


def remix(stems: np.ndarray, rng: np.random.Generator, gain_db: float) -> np.ndarray:
    """Log features `[F, T]` of the stems' features `[S, F, T]` summed with a random gain each."""
    gains = np.exp(rng.uniform(-gain_db, gain_db, len(stems)) * _DB_TO_NEPER)  # [S]
    energy = np.maximum(np.exp(stems.astype(np.float32)) - LOG_FLOOR, 0.0)
    return np.log(np.tensordot(gains, energy, axes=1) + LOG_FLOOR).astype(np.float32)


def reverberate(
    features: np.ndarray, rng: np.random.Generator, data: TranscriberDataConfig, frame_rate: float
) -> np.ndarray:
    """Log features `[F, T]` with an exponentially decaying tail of a random RT60 added."""
    from scipy.signal import lfilter

    rt60 = rng.uniform(*data.reverb_seconds)
    decay = 10.0 ** (-3.0 / (rt60 * frame_rate))  # magnitude falls 60 dB in rt60
    energy = np.maximum(np.exp(features) - LOG_FLOOR, 0.0)
    tail = lfilter([0.0, 1.0 - decay], [1.0, -decay], energy, axis=1)  # [F, T], unit DC gain
    wet = rng.uniform(0.1, 0.5)
    return np.log(energy + wet * tail + LOG_FLOOR).astype(np.float32)


class TranscriptionCrops:
    """Random crops of a corpus split's mixes with frame targets (module docstring)."""

    def __init__(self, data: TranscriberDataConfig, model: TranscriberConfig) -> None:
        if data.corpus is None:
            raise UserError("set data.corpus to a built corpus folder in the transcriber config")
        corpus = Corpus(data.corpus)
        records = corpus.pieces(data.split)
        if data.max_pieces:
            records = records[: data.max_pieces]
        if not records:
            raise UserError(f"{data.corpus}: no {data.split} pieces")
        self.data, self.model = data, model
        self.length = max(1, round(data.crop_seconds * model.frame_rate))
        self.pieces = [
            self._load(corpus, record, n, len(records)) for n, record in enumerate(records)
        ]

    def _load(self, corpus: Corpus, record: PieceRecord, number: int, total: int) -> PieceData:
        audio = load_audio(corpus.mix_path(record), self.model.sample_rate)
        features = compute_features(audio.samples, audio.sample_rate, self.model)
        stems = None
        if self.data.stem_gain_db > 0 and record.stems:
            stems = np.stack(
                [
                    self._stem_features(corpus, record, stem, features.shape[1])
                    for stem in record.stems
                ]
            )  # [S, F, T]
        notes = corpus.truth(record)["notes"]
        if number % 50 == 0 or number == total - 1:
            logger.info("features of %d/%d pieces", number + 1, total)
        return PieceData(
            features.astype(np.float16),
            note_frames(notes, self.model),
            drum_frames(notes, self.model),
            stems,
        )

    def _stem_features(
        self, corpus: Corpus, record: PieceRecord, stem: str, frames: int
    ) -> np.ndarray:
        """`[F, frames]` float16 features of one stem (cut or padded to the mix's frames)."""
        audio = load_audio(corpus.stem_path(record, stem), self.model.sample_rate)
        features = compute_features(audio.samples, audio.sample_rate, self.model)
        out = np.full((features.shape[0], frames), np.log(LOG_FLOOR), dtype=np.float16)
        out[:, : min(frames, features.shape[1])] = features[:, :frames]
        return out

    def __len__(self) -> int:
        return len(self.pieces)

    def sample(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        piece = self.pieces[index]
        total = piece.features.shape[1]
        first = int(rng.integers(0, max(total - self.length, 0) + 1))
        features = np.full((piece.features.shape[0], self.length), np.log(LOG_FLOOR), np.float32)
        if piece.stems is not None and rng.random() < self.data.remix_prob:
            window = remix(
                piece.stems[:, :, first : first + self.length], rng, self.data.stem_gain_db
            )
        else:
            window = piece.features[:, first : first + self.length]
        features[:, : window.shape[1]] = window
        if rng.random() < self.data.reverb_prob:
            features = reverberate(features, rng, self.data, self.model.frame_rate)
        features = augment(features, rng, self.data)
        targets = crop_targets(piece, first, self.length, self.model.num_pitches)
        return {
            "features": torch.from_numpy(features),
            **{k: torch.from_numpy(v) for k, v in targets.items()},
        }


# ---------------------------------------------------------------------------------- task


def transcription_loss(
    logits: TranscriberLogits, batch: dict[str, torch.Tensor], loss: TranscriberLossConfig
) -> tuple[torch.Tensor, dict[str, torch.Tensor]]:
    """Weighted sum of the four BCE terms, and each term (detached) for logging."""

    def bce(x: torch.Tensor, target: torch.Tensor, pos_weight: float) -> torch.Tensor:
        weight = torch.tensor(pos_weight, device=x.device)
        return F.binary_cross_entropy_with_logits(x, target, pos_weight=weight)

    terms = {
        "onset": bce(logits.onset, batch["onset"], loss.onset_pos_weight),
        "frame": bce(logits.frame, batch["frame"], 1.0),
        "offset": bce(logits.offset, batch["offset"], loss.offset_pos_weight),
        "drums": bce(logits.drums, batch["drums"], loss.drum_pos_weight),
    }
    total = (
        loss.onset_weight * terms["onset"]
        + loss.frame_weight * terms["frame"]
        + loss.offset_weight * terms["offset"]
        + loss.drum_weight * terms["drums"]
    )
    return total, {f"{name}_bce": value.detach() for name, value in terms.items()}


class TranscriberTask(TrainTask):
    """Onset/frame/offset + drum-onset training of a `Transcriber` on corpus mixes."""

    config_class = TranscriberTaskConfig

    def build_model(self) -> nn.Module:
        model = Transcriber(self.config.model)
        if self.config.init_from is not None:
            model.load_state_dict(_initial_weights(Path(self.config.init_from), model))
        return model

    def build_dataset(self) -> TranscriptionCrops:
        return TranscriptionCrops(self.config.data, self.config.model)

    def training_step(
        self,
        model: nn.Module,
        batch: dict[str, torch.Tensor],
        step: int,
        discriminator: nn.Module | None,
    ) -> StepOutput:
        logits = model(batch["features"])  # [B, F, T] -> heads
        loss, metrics = transcription_loss(logits, batch, self.config.loss)
        return StepOutput(loss=loss, metrics=dict(metrics))

    def export(self, model: nn.Module, directory: Path) -> None:
        """Save the model, then tune its decoding thresholds on `data.tune_split`."""
        from seedmusic.train.tune_transcriber import tune_checkpoint

        assert isinstance(model, Transcriber)
        model.save_pretrained(directory)
        split = self.config.data.tune_split
        corpus = Corpus(self.config.data.corpus)
        if split is None or not corpus.pieces(split):
            logger.info("decoding thresholds left as configured (no %s pieces to tune on)", split)
            return
        scores = tune_checkpoint(directory, corpus, split)
        logger.info("tuned decoding thresholds on %s: onset F1 %s", split, scores)


def _initial_weights(folder: Path, model: Transcriber) -> dict[str, torch.Tensor]:
    """The state dict of the transcriber checkpoint in `folder`, checked against `model`."""
    from renderer.modeling import CheckpointError

    try:
        source = Transcriber.from_pretrained(folder)
    except CheckpointError as exc:
        raise UserError(f"init_from: {folder} is not a transcriber checkpoint ({exc})") from None
    state, own = source.state_dict(), model.state_dict()
    if {k: v.shape for k, v in state.items()} != {k: v.shape for k, v in own.items()}:
        raise UserError(f"init_from: {folder} has another model shape than the config's")
    logger.info("starting from the weights of %s", folder)
    return state
