"""A tiny real training task for the loop's tests: regression y = W x + noise with an MLP."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch
from torch import nn

from renderer.modeling import PretrainedModel
from seedmusic.train import StepOutput, TrainConfig, TrainTask


@dataclass(frozen=True)
class ToyModelConfig:
    dim: int = 4
    hidden: int = 8
    dropout: float = 0.1


class ToyModel(nn.Module, PretrainedModel):
    config_class = ToyModelConfig

    def __init__(self, config: ToyModelConfig) -> None:
        super().__init__()
        self.config = config
        self.net = nn.Sequential(
            nn.Linear(config.dim, config.hidden),
            nn.Dropout(config.dropout),
            nn.Tanh(),
            nn.Linear(config.hidden, config.dim),
        )

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.net(x)  # [B, dim]


@dataclass(frozen=True)
class ToyTaskConfig:
    train: TrainConfig = field(default_factory=TrainConfig)
    model: ToyModelConfig = field(default_factory=ToyModelConfig)
    num_examples: int = 24
    step_delay_s: float = 0.0


class _ToyData:
    def __init__(self, config: ToyTaskConfig) -> None:
        rng = np.random.default_rng(1234)
        self.x = rng.standard_normal((config.num_examples, config.model.dim)).astype(np.float32)
        w = rng.standard_normal((config.model.dim, config.model.dim)).astype(np.float32)
        self.y = self.x @ w

    def __len__(self) -> int:
        return len(self.x)

    def sample(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        noise = rng.standard_normal(self.y.shape[1]).astype(np.float32) * 0.01
        return {"x": torch.from_numpy(self.x[index]), "y": torch.from_numpy(self.y[index] + noise)}


class ToyTask(TrainTask):
    config_class = ToyTaskConfig

    def build_model(self) -> nn.Module:
        return ToyModel(self.config.model)

    def build_dataset(self) -> _ToyData:
        return _ToyData(self.config)

    def training_step(
        self, model: nn.Module, batch: dict[str, torch.Tensor], step: int, discriminator: Any
    ) -> StepOutput:
        if self.config.step_delay_s:
            time.sleep(self.config.step_delay_s)
        loss = nn.functional.mse_loss(model(batch["x"]), batch["y"])
        return StepOutput(loss=loss, metrics={"mse": loss.detach()})
