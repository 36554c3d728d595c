"""Training task for the composer LM (`seedmusic train composer --config ...`).

Data: `sequences.npz` of `seedmusic.composer.dataset` (build it with `seedmusic compose-data`
... see `configs/composer/reference.yaml`). A sample is one lead sheet's token ids and grammar
features, padded to `max_tokens`; with probability `infill_prob` it is rearranged for causal-
masking infill (a random range of 1..`max_infill_bars` bars moved to the end behind `MASK_1`).
Its conditions: the style tags, the description's text vector and the numbers (tempo, bars).
The condition encoder drops each condition with its configured probability (CFG training),
so some weights are idle in a step: DDP runs with `find_unused_parameters=True`.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import ClassVar

import numpy as np
import torch
from torch import nn

from seedmusic.composer.dataset import SEQUENCES_FILE, rearrange_for_infill
from seedmusic.composer.leadsheet import TOKEN_ID, VOCAB
from seedmusic.composer.model import COMPOSER_TAGS, ComposerConfig, ComposerLM, next_token_loss
from seedmusic.conditioning import Conditions
from seedmusic.errors import UserError
from seedmusic.train.loop import StepOutput, TrainConfig, TrainTask


@dataclass(frozen=True)
class ComposerDataConfig:
    """Where the sequences are and how samples are drawn."""

    sequences: str = "data/composer/sequences.npz"
    split: str = "train"
    max_tokens: int = 768
    infill_prob: float = 0.25
    max_infill_bars: int = 4


@dataclass(frozen=True)
class ComposerTaskConfig:
    train: TrainConfig = field(default_factory=TrainConfig)
    model: ComposerConfig = field(default_factory=ComposerConfig)
    data: ComposerDataConfig = field(default_factory=ComposerDataConfig)


class ComposerSequences:
    """The lead-sheet sequences of one split, as training samples."""

    def __init__(self, config: ComposerDataConfig, text_dim: int) -> None:
        path = Path(config.sequences)
        if path.is_dir():
            path = path / SEQUENCES_FILE
        if not path.is_file():
            raise UserError(
                f"no composer sequences at {path} (build them first: see configs/composer)"
            )
        data = np.load(path)
        self.ids, self.features, self.offsets = data["ids"], data["features"], data["offsets"]
        self.meta = json.loads(str(data["meta"]))
        self.text = data["text"]
        self.rows = [i for i, m in enumerate(self.meta) if m["split"] == config.split]
        self.config, self.text_dim = config, text_dim
        if self.text.shape[1] != text_dim:
            raise UserError(f"text vectors are {self.text.shape[1]}-d, the model wants {text_dim}")

    def __len__(self) -> int:
        return len(self.rows)

    def sample(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        row = self.rows[index]
        start, stop = self.offsets[row], self.offsets[row + 1]
        ids = self.ids[start:stop].astype(np.int64).tolist()
        features = self.features[start:stop].astype(np.int64)
        bars = [i for i, t in enumerate(ids) if VOCAB[t] == "Bar"]
        if rng.random() < self.config.infill_prob and len(bars) > 4:
            first = int(rng.integers(1, len(bars) - 1))
            last = min(len(bars) - 2, first + int(rng.integers(0, self.config.max_infill_bars)))
            ids, features = rearrange_for_infill(ids, features, first, last)
            ids, features = _keep_end(ids, features, self.config.max_tokens)
        ids, features = ids[: self.config.max_tokens], features[: self.config.max_tokens]
        tokens = np.full(self.config.max_tokens, TOKEN_ID["PAD"], dtype=np.int64)
        tokens[: len(ids)] = ids
        feats = np.zeros((self.config.max_tokens, features.shape[1]), dtype=np.int64)
        feats[: len(ids)] = features
        meta = self.meta[row]
        tags = np.zeros(len(COMPOSER_TAGS), dtype=np.bool_)
        for tag in meta["tags"]:
            if tag in COMPOSER_TAGS:
                tags[COMPOSER_TAGS.index(tag)] = True
        return {
            "tokens": torch.from_numpy(tokens),
            "features": torch.from_numpy(feats),
            "length": torch.tensor(len(ids)),
            "tags": torch.from_numpy(tags),
            "text": torch.from_numpy(self.text[row].astype(np.float32)),
            "numbers": torch.tensor([meta["tempo"], meta["bars"]], dtype=torch.float32),
        }


def _keep_end(ids: list[int], features: np.ndarray, limit: int) -> tuple[list[int], np.ndarray]:
    """An infill sample cut to `limit` tokens by dropping the oldest context after the header."""
    excess = len(ids) - limit
    if excess <= 0:
        return ids, features
    keep = [*range(HEADER_TOKENS), *range(HEADER_TOKENS + excess, len(ids))]
    return [ids[i] for i in keep], features[keep]


HEADER_TOKENS = 4
"""BOS, Key, TimeSig, Tempo."""


def batch_conditions(batch: dict[str, torch.Tensor]) -> list[Conditions]:
    """The batch's condition tensors as `Conditions` (one per sample)."""
    out = []
    for tags, text, numbers in zip(batch["tags"], batch["text"], batch["numbers"], strict=True):
        chosen = tuple(COMPOSER_TAGS[i] for i in torch.nonzero(tags).flatten().tolist())
        values = numbers.tolist()
        out.append(
            Conditions(
                style_tags=chosen,
                text_embedding=text,
                numbers={"tempo_bpm": values[0], "bars": values[1]},
            )
        )
    return out


class ComposerTask(TrainTask):
    config_class = ComposerTaskConfig
    find_unused_parameters: ClassVar[bool] = True

    def build_model(self) -> nn.Module:
        return ComposerLM(self.config.model)

    def build_dataset(self) -> ComposerSequences:
        return ComposerSequences(self.config.data, self.config.model.conditions.text_dim)

    def training_step(
        self,
        model: nn.Module,
        batch: dict[str, torch.Tensor],
        step: int,
        discriminator: nn.Module | None,
    ) -> StepOutput:
        longest = int(batch["length"].max())
        tokens = batch["tokens"][:, :longest]
        features = batch["features"][:, :longest]
        logits = model(batch_conditions(batch), tokens, features, batch["length"])  # [B, L, V]
        loss = next_token_loss(logits, tokens)
        return StepOutput(loss=loss, metrics={"ce": loss.detach()})
