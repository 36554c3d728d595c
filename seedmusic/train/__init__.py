"""Training: one accelerate loop (`loop.train`) over small per-model `TrainTask`s."""

from __future__ import annotations

from seedmusic.train.loop import StepOutput, TrainConfig, TrainDataset, TrainTask, train

__all__ = ["StepOutput", "TrainConfig", "TrainDataset", "TrainTask", "train"]
