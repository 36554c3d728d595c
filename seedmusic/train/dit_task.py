"""The DiT task: train the renderer's latent DiT on a corpus's codec latents and its scores.

Each sample is a crop of one piece's stem (`data.stems`; a stem listed twice is drawn twice as
often): the codec latents of that stem (standardized by per-channel statistics measured on the
training latents, stored in the exported model), the first K codes of the codec's RVQ (the
audio tokens the LM predicts), the score frames of the tracks the stem holds and the global
vector (`seedmusic.render_conditions`). The loss is flow matching (`renderer.sampling`), with
the codes dropped at random (`loss.code_drop_prob`: the DiT also renders from the score alone),
every condition dropped at random (`loss.cond_drop_prob`: classifier-free guidance) and random
inpainting masks (`loss.inpaint_prob`: editing and windowed rendering continue known latents).

With `data.reference_frames > 0` the DiT also reads a reference embedding
(`seedmusic.render_conditions.reference_embedding`) of a random stretch of that many frames of
the same piece's stem, dropped (all zeros) with probability `loss.reference_drop_prob` so that
rendering without a reference stays trained. `init_from` starts from a trained DiT: a global
vector wider than its own (the reference embedding added) gets zero weights for the new entries,
so step 0 renders exactly as that DiT does.

The latents come from `seedmusic data latents` (made with the shipped codec); a run refuses
latents of a codec with another latent width or codebook count than its DiT.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from pathlib import Path

import numpy as np
import torch
from torch import nn

from renderer.dit import DitConfig, LatentDiT
from renderer.sampling import flow_matching_loss
from score_tokens.frames import NUM_FRAME_FEATURES
from score_tokens.score import Score
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.data.latents import STEMS, load_stem, read_info
from seedmusic.errors import UserError
from seedmusic.render_conditions import (
    global_width,
    reference_embedding,
    render_conditions,
)
from seedmusic.train.loop import StepOutput, TrainConfig, TrainTask

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DitDataConfig:
    """Where the data is and how it is cropped.

    Attributes:
        corpus: a built corpus (its scores).
        latents: its latents folder (`seedmusic data latents`).
        split: the corpus split to train on.
        stems: stems to draw from; repeat a name to draw it more often.
        crop_frames: frames per crop (25 frames/s with the shipped codec).
        reference_frames: frames of the reference stretch (0: the DiT reads no reference);
            at most `crop_frames`.
    """

    corpus: str | None = None
    latents: str | None = None
    split: str = "train"
    stems: tuple[str, ...] = ("mix", "mix", "vocal", "accompaniment")
    crop_frames: int = 250
    reference_frames: int = 0

    def __post_init__(self) -> None:
        if not 0 <= self.reference_frames <= self.crop_frames:
            raise ValueError(
                f"reference_frames must be in [0, crop_frames={self.crop_frames}], "
                f"got {self.reference_frames}"
            )


@dataclass(frozen=True)
class DitLossConfig:
    cond_drop_prob: float = 0.1
    code_drop_prob: float = 0.5
    inpaint_prob: float = 0.3
    reference_drop_prob: float = 0.3


@dataclass(frozen=True)
class DitTaskConfig:
    """The whole DiT run; `init_from`: a trained DiT folder to start from (see the module
    docstring)."""

    train: TrainConfig = field(default_factory=TrainConfig)
    dit: DitConfig = field(default_factory=DitConfig)
    data: DitDataConfig = field(default_factory=DitDataConfig)
    loss: DitLossConfig = field(default_factory=DitLossConfig)
    init_from: str | None = None


@dataclass
class _Item:
    piece: PieceRecord
    stem: str
    latents: np.ndarray  # [D, T] float16
    codes: np.ndarray  # [K, T] int16


class LatentCrops:
    """Crops of (latents, codes, score frames, global vector), every latent file in memory."""

    def __init__(self, data: DitDataConfig, dit: DitConfig) -> None:
        if data.corpus is None or data.latents is None:
            raise UserError("set data.corpus and data.latents in the DiT config")
        unknown = sorted(set(data.stems) - set(STEMS))
        if unknown:
            raise UserError(f"unknown stem(s) {', '.join(unknown)} (stems: {', '.join(STEMS)})")
        info = read_info(Path(data.latents))
        if info["latent_dim"] != dit.latent_dim or info["num_codebooks"] < dit.num_codebooks:
            raise UserError(
                f"{data.latents}: latents of width {info['latent_dim']} with "
                f"{info['num_codebooks']} codebooks do not fit a DiT of width {dit.latent_dim} "
                f"reading {dit.num_codebooks} codebooks"
            )
        if info["codebook_size"] != dit.codebook_size or dit.frame_dim != NUM_FRAME_FEATURES:
            raise UserError(
                f"the DiT config needs codebook_size {info['codebook_size']} and frame_dim "
                f"{NUM_FRAME_FEATURES}"
            )
        self.frame_rate = float(info["frame_rate"])
        self.crop = data.crop_frames
        self.reference_frames = data.reference_frames
        self.num_codebooks = dit.num_codebooks
        corpus = Corpus(data.corpus)
        self.scores: dict[str, Score] = {}
        self.items: list[_Item] = []
        short = 0
        for piece in corpus.pieces(data.split):  # type: ignore[arg-type]
            for stem in data.stems:
                loaded = load_stem(Path(data.latents), stem, piece.id)
                if loaded is None:
                    continue
                latents, codes = loaded
                if latents.shape[1] < self.crop:
                    short += 1
                    continue
                if piece.id not in self.scores:
                    self.scores[piece.id] = corpus.score(piece)
                self.items.append(
                    _Item(piece, stem, latents.astype(np.float16), codes.astype(np.int16))
                )
        if not self.items:
            raise UserError(f"{data.latents}: no {data.split} latents of stems {data.stems}")
        logger.info(
            "%d crops sources (%d pieces; %d shorter than %d frames skipped)",
            len(self.items),
            len(self.scores),
            short,
            self.crop,
        )

    def __len__(self) -> int:
        return len(self.items)

    def statistics(self) -> tuple[torch.Tensor, torch.Tensor]:
        """Per-channel mean and std `[D]` of every latent frame (each file once)."""
        seen: set[tuple[str, str]] = set()
        total = 0
        acc = acc2 = None
        for item in self.items:
            if (item.piece.id, item.stem) in seen:
                continue
            seen.add((item.piece.id, item.stem))
            x = item.latents.astype(np.float64)  # [D, T]
            acc = x.sum(1) if acc is None else acc + x.sum(1)
            acc2 = (x**2).sum(1) if acc2 is None else acc2 + (x**2).sum(1)
            total += x.shape[1]
        assert acc is not None and acc2 is not None
        mean = acc / total
        std = np.sqrt(np.maximum(acc2 / total - mean**2, 1e-8))
        return torch.from_numpy(mean).float(), torch.from_numpy(std).float()

    def sample(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        item = self.items[index]
        total = item.latents.shape[1]
        start = int(rng.integers(0, total - self.crop + 1))
        span = slice(start, start + self.crop)
        frames, glob = render_conditions(
            self.scores[item.piece.id],
            item.stem,
            self.frame_rate,
            num_frames=total,
            sung_vocal=item.piece.vocal == "sung",
        )
        sample = {
            "latents": torch.from_numpy(item.latents[:, span].astype(np.float32)),
            "codes": torch.from_numpy(item.codes[: self.num_codebooks, span].astype(np.int64)),
            "frames": torch.from_numpy(np.ascontiguousarray(frames[:, span])),
            "global": torch.from_numpy(glob),
        }
        if self.reference_frames:
            first = int(rng.integers(0, total - self.reference_frames + 1))
            stretch = item.latents[:, first : first + self.reference_frames]  # [D, R]
            sample["reference"] = torch.from_numpy(stretch.astype(np.float32))
        return sample


class DitTask(TrainTask):
    """Flow matching of codec latents conditioned on codes, score frames and the stem."""

    config_class = DitTaskConfig

    def __init__(self, config: DitTaskConfig) -> None:
        super().__init__(config)
        width = global_width(config.dit.latent_dim, config.data.reference_frames > 0)
        if config.dit.global_dim != width:
            reading = "with" if config.data.reference_frames else "without"
            raise UserError(
                f"dit.global_dim must be {width} (the render conditions {reading} a reference)"
            )
        self._data: LatentCrops | None = None

    def _dataset(self) -> LatentCrops:
        if self._data is None:
            self._data = LatentCrops(self.config.data, self.config.dit)
        return self._data

    def build_model(self) -> nn.Module:
        dit = LatentDiT(self.config.dit)
        mean, std = self._dataset().statistics()
        dit.set_latent_statistics(mean, std)
        if self.config.init_from is not None:
            warm_start_dit(dit, Path(self.config.init_from))
        logger.info("DiT: %.2fM parameters", sum(p.numel() for p in dit.parameters()) / 1e6)
        return dit

    def build_dataset(self) -> LatentCrops:
        return self._dataset()

    def training_step(
        self,
        model: nn.Module,
        batch: dict[str, torch.Tensor],
        step: int,
        discriminator: nn.Module | None,
    ) -> StepOutput:
        loss_cfg = self.config.loss
        dit = model.module if hasattr(model, "module") else model
        assert isinstance(dit, LatentDiT)
        x0 = dit.normalize(batch["latents"])  # [B, D, T]
        glob = batch["global"]  # [B, G]
        if "reference" in batch:
            glob = torch.cat([glob, self._reference(dit, batch["reference"])], dim=1)
        loss = flow_matching_loss(
            model,  # type: ignore[arg-type]
            x0,
            batch["codes"],
            global_embedding=glob,
            inpaint_prob=loss_cfg.inpaint_prob,
            cond_drop_prob=loss_cfg.cond_drop_prob,
            score_frames=batch["frames"],
            code_drop_prob=loss_cfg.code_drop_prob,
        )
        return StepOutput(loss=loss, metrics={"flow": loss.detach()})

    def _reference(self, dit: LatentDiT, reference: torch.Tensor) -> torch.Tensor:
        """`[B, 1 + 2D]` embeddings of the reference stretches `[B, D, R]`, some dropped."""
        b = reference.shape[0]
        embedding = reference_embedding(dit.normalize(reference), b, dit.config.latent_dim)
        keep = torch.rand(b) >= self.config.loss.reference_drop_prob  # [B]
        return embedding.to(reference.device) * keep[:, None].to(reference.device)


def warm_start_dit(dit: LatentDiT, source: Path) -> None:
    """Load the weights and latent statistics of the DiT saved in `source` into `dit`. Where
    `dit` reads a wider global vector, the new entries get zero weights (and a zero null
    vector), so `dit` computes what the source does whatever they hold.

    Raises:
        UserError: `source` is not a DiT of the same shape (global width aside).
    """
    try:
        trained = LatentDiT.from_pretrained(source).float()
    except (OSError, ValueError, KeyError) as exc:
        raise UserError(f"init_from: {source} has no readable DiT ({exc})") from None
    if replace(trained.config, global_dim=dit.config.global_dim) != dit.config:
        raise UserError(f"init_from: {source} is a DiT of another shape than this run's dit")
    state = trained.state_dict()
    own = dit.state_dict()
    for name, value in state.items():
        if value.shape == own[name].shape:
            continue
        if name not in _GLOBAL_INPUTS or value.shape[:-1] != own[name].shape[:-1]:
            raise UserError(f"init_from: {source}'s {name} has shape {tuple(value.shape)}")
        widened = torch.zeros_like(own[name])
        widened[..., : value.shape[-1]] = value
        state[name] = widened
    dit.load_state_dict(state)
    logger.info("DiT weights from %s", source)


_GLOBAL_INPUTS = ("null_global", "transformer.global_proj.0.weight")
"""The parameters whose last axis is the global vector."""
