"""The one accelerate training loop, driven by a small per-model `TrainTask`.

A run folder holds:

    config.yaml                the resolved config
    metrics.jsonl              one JSON line per logged step (rank-averaged)
    logs/                      TensorBoard events
    checkpoints/step_N/        `accelerator.save_state` + trainer_state.json (written as
                               step_N.tmp, then renamed; the last `keep_last` are kept)
    ranks/rank_R.json          per-process summary: steps, parameter hash, last gradient norm,
                               parameters that never got a gradient
    final/                     the exported model (`save_pretrained`)

Exact resume. Data order is a step-indexed deterministic sampler: the k-th sample of rank r is
global position `(k // B) * W * B + r * B + k % B`; epoch `e` reads the dataset through the
permutation seeded by `(seed, e)`, and each sample's own randomness (e.g. a random crop) comes
from a numpy generator seeded by `(seed, position)`. Model randomness (posterior sampling,
dropout) comes from torch's global RNG, reseeded at every step from `(seed, step, rank)`. The
learning rate is a pure function of the step. So a run resumed from `step_N` sees exactly the
batches, random numbers and learning rates that an uninterrupted run sees after step N.

DDP: every trainable parameter must get a gradient in every step; the loop checks it and raises
naming the parameters unless the task sets `find_unused_parameters = True` on purpose.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import math
import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, Literal, Protocol

import numpy as np
import torch
from torch import nn
from torch.utils.data import DataLoader, Dataset, Sampler

from seedmusic.config import save_config
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

STATE_NAME = "trainer_state.json"


@dataclass(frozen=True)
class TrainConfig:
    """Optimisation settings shared by every task (the `train:` section of a config).

    Attributes:
        seed: seeds model init, data order, crops and per-step randomness.
        max_steps: optimizer steps to run.
        batch_size: samples per process per micro-batch.
        lr: peak learning rate (AdamW).
        discriminator_lr: learning rate of a GAN discriminator (None: `lr`).
        adam_betas: AdamW betas.
        weight_decay: AdamW weight decay.
        warmup_steps: linear warm-up steps.
        lr_schedule: "constant" or "cosine" (to `min_lr_ratio * lr` at `max_steps`) after warm-up.
        min_lr_ratio: the cosine schedule's floor.
        grad_accum_steps: micro-batches per optimizer step.
        grad_clip: max global gradient norm (0: no clipping).
        mixed_precision: "no", "bf16" or "fp16"; forced to "no" without a GPU.
        ema_decay: decay of an exponential moving average of the weights exported at the end
            (0: off).
        log_every: steps between log lines / TensorBoard points.
        save_every: steps between checkpoints (a checkpoint is also written at the end).
        keep_last: checkpoints kept.
        num_workers: DataLoader worker processes.
    """

    seed: int = 0
    max_steps: int = 1000
    batch_size: int = 8
    lr: float = 3e-4
    discriminator_lr: float | None = None
    adam_betas: tuple[float, float] = (0.9, 0.99)
    weight_decay: float = 0.0
    warmup_steps: int = 0
    lr_schedule: Literal["constant", "cosine"] = "cosine"
    min_lr_ratio: float = 0.1
    grad_accum_steps: int = 1
    grad_clip: float = 1.0
    mixed_precision: Literal["no", "bf16", "fp16"] = "no"
    ema_decay: float = 0.0
    log_every: int = 10
    save_every: int = 500
    keep_last: int = 3
    num_workers: int = 0

    def __post_init__(self) -> None:
        positive = ("max_steps", "batch_size", "grad_accum_steps", "log_every", "save_every")
        for name in positive:
            if getattr(self, name) < 1:
                raise ValueError(f"train.{name} must be >= 1, got {getattr(self, name)}")
        if self.keep_last < 1 or self.num_workers < 0 or self.warmup_steps < 0:
            raise ValueError("train.keep_last must be >= 1; num_workers, warmup_steps >= 0")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"train.ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.lr <= 0 or self.grad_clip < 0:
            raise ValueError("train.lr must be > 0 and train.grad_clip >= 0")

    def lr_at(self, step: int, peak: float | None = None) -> float:
        """Learning rate of 0-based optimizer step `step` (a pure function of the step)."""
        top = self.lr if peak is None else peak
        if step < self.warmup_steps:
            return top * (step + 1) / self.warmup_steps
        if self.lr_schedule == "constant":
            return top
        span = max(self.max_steps - self.warmup_steps, 1)
        progress = min((step - self.warmup_steps) / span, 1.0)
        floor = self.min_lr_ratio
        return top * (floor + (1 - floor) * 0.5 * (1 + math.cos(math.pi * progress)))


class TrainDataset(Protocol):
    """A task's data: `sample(index, rng)` -> a dict of tensors (stacked by the loader)."""

    def __len__(self) -> int: ...

    def sample(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]: ...


@dataclass
class StepOutput:
    """What a task's step returns.

    Attributes:
        loss: the scalar to minimise.
        metrics: scalars to log (same keys on every rank and step of a phase).
        discriminator_input: what `TrainTask.discriminator_step` needs (e.g. real and detached
            fake audio); None when the discriminator phase is off at this step.
    """

    loss: torch.Tensor
    metrics: dict[str, float | torch.Tensor] = field(default_factory=dict)
    discriminator_input: Any = None


class TrainTask:
    """The task-specific part of training; subclass it (see `codec_task.py`).

    A task is built as `Task(config)` from `config_class`, a dataclass with a `train:
    TrainConfig` field; the loop calls the methods below.
    """

    config_class: ClassVar[type]
    find_unused_parameters: ClassVar[bool] = False

    def __init__(self, config: Any) -> None:
        self.config = config

    def build_model(self) -> nn.Module:
        """The trained model (exported at the end)."""
        raise NotImplementedError

    def build_dataset(self) -> TrainDataset:
        """The training data."""
        raise NotImplementedError

    def training_step(
        self,
        model: nn.Module,
        batch: dict[str, torch.Tensor],
        step: int,
        discriminator: nn.Module | None,
    ) -> StepOutput:
        """Loss of one micro-batch. `discriminator` (frozen, unwrapped) is for adversarial terms."""
        raise NotImplementedError

    def build_discriminator(self) -> nn.Module | None:
        """An optional GAN discriminator trained by its own optimizer after each step."""
        return None

    def discriminator_step(self, discriminator: nn.Module, inputs: Any, step: int) -> StepOutput:
        """The discriminator's loss on one micro-batch's `StepOutput.discriminator_input`."""
        raise NotImplementedError

    def export(self, model: nn.Module, directory: Path) -> None:
        """Write the trained model for inference (default: its `save_pretrained`)."""
        model.save_pretrained(directory)  # type: ignore[operator]


# ---------------------------------------------------------------------------------- data


class _PositionDataset(Dataset[dict[str, torch.Tensor]]):
    """Maps a global sample position to (epoch permutation index, per-position rng)."""

    def __init__(self, base: TrainDataset, seed: int) -> None:
        self.base, self.seed, self.size = base, seed, len(base)
        if self.size == 0:
            raise UserError("the training dataset is empty")
        self._epoch, self._perm = -1, np.arange(0)

    def __len__(self) -> int:
        return self.size

    def __getitem__(self, position: int) -> dict[str, torch.Tensor]:
        epoch = position // self.size
        if epoch != self._epoch:
            self._perm = np.random.default_rng([self.seed, epoch]).permutation(self.size)
            self._epoch = epoch
        rng = np.random.default_rng([self.seed, 1_000_003, position])
        return self.base.sample(int(self._perm[position % self.size]), rng)


class _RankPositions(Sampler[int]):
    """Infinite stream of global positions for one rank, starting at its k-th sample."""

    def __init__(self, batch_size: int, rank: int, world: int, start: int) -> None:
        self.batch_size, self.rank, self.world, self.start = batch_size, rank, world, start

    def __iter__(self) -> Iterator[int]:
        k, b = self.start, self.batch_size
        while True:
            yield (k // b) * self.world * b + self.rank * b + k % b
            k += 1


# ---------------------------------------------------------------------------------- EMA


class Ema:
    """Exponential moving average of a model's trainable parameters (checkpointable)."""

    def __init__(self, model: nn.Module, decay: float) -> None:
        self.decay = decay
        self.shadow = {
            n: p.detach().clone() for n, p in model.named_parameters() if p.requires_grad
        }

    @torch.no_grad()
    def update(self, model: nn.Module, step: int) -> None:
        decay = min(self.decay, (1 + step) / (10 + step))
        for name, param in model.named_parameters():
            if name in self.shadow:
                self.shadow[name].lerp_(param.detach(), 1.0 - decay)

    def state_dict(self) -> dict[str, torch.Tensor]:
        return dict(self.shadow)

    def load_state_dict(self, state: dict[str, torch.Tensor]) -> None:
        for name, value in state.items():
            self.shadow[name].copy_(value)

    @torch.no_grad()
    def copy_to(self, model: nn.Module) -> None:
        for name, param in model.named_parameters():
            if name in self.shadow:
                param.copy_(self.shadow[name])


# ---------------------------------------------------------------------------------- loop


def train(task: TrainTask, run_dir: Path, resume: Path | None = None) -> Path:
    """Train `task` into `run_dir` (resuming from checkpoint folder `resume`); returns final/."""
    from accelerate import Accelerator
    from accelerate.utils import DistributedDataParallelKwargs, send_to_device

    cfg: TrainConfig = task.config.train
    precision = cfg.mixed_precision
    if precision != "no" and not torch.cuda.is_available():
        logger.info("no GPU: mixed_precision %r -> 'no'", precision)
        precision = "no"
    ddp = DistributedDataParallelKwargs(find_unused_parameters=task.find_unused_parameters)
    # cpu=True without a GPU: processes started by torchrun then form a gloo group (MULTI_CPU).
    accelerator = Accelerator(
        mixed_precision=precision, cpu=not torch.cuda.is_available(), kwargs_handlers=[ddp]
    )
    rank, world = accelerator.process_index, accelerator.num_processes

    if resume is None and (run_dir / "checkpoints").exists():
        raise UserError(f"{run_dir} already holds a run; pass --resume {run_dir} or another --out")
    accelerator.wait_for_everyone()

    torch.manual_seed(cfg.seed)
    model = task.build_model()
    torch.manual_seed(cfg.seed + 1)
    discriminator = task.build_discriminator()
    if accelerator.is_main_process:  # only once the models are built: a bad config leaves nothing
        run_dir.mkdir(parents=True, exist_ok=True)
        save_config(task.config, run_dir / "config.yaml")
    optimizer = _adamw(model, cfg, cfg.lr)
    model, optimizer = accelerator.prepare(model, optimizer)
    d_optimizer = None
    if discriminator is not None:
        d_optimizer = _adamw(discriminator, cfg, cfg.discriminator_lr or cfg.lr)
        discriminator, d_optimizer = accelerator.prepare(discriminator, d_optimizer)
    ema = Ema(accelerator.unwrap_model(model), cfg.ema_decay) if cfg.ema_decay > 0 else None
    if ema is not None:
        accelerator.register_for_checkpointing(ema)

    start = 0
    if resume is not None:
        accelerator.load_state(str(resume))
        start = int(json.loads((resume / STATE_NAME).read_text())["step"])
        logger.info("resumed from %s at step %d", resume, start)

    dataset = _PositionDataset(task.build_dataset(), cfg.seed)
    sampler = _RankPositions(
        cfg.batch_size, rank, world, start * cfg.grad_accum_steps * cfg.batch_size
    )
    loader = DataLoader(
        dataset, batch_size=cfg.batch_size, sampler=sampler, num_workers=cfg.num_workers
    )
    batches = iter(loader)
    log = _RunLog(run_dir, start, accelerator.is_main_process)
    unwrapped = accelerator.unwrap_model(model)
    never_grad: set[str] = set()
    grad_norm = torch.zeros(())

    from tqdm.auto import tqdm

    bar = tqdm(
        total=cfg.max_steps, initial=start, disable=not accelerator.is_main_process, desc="train"
    )
    for step in range(start, cfg.max_steps):
        for group in optimizer.param_groups:
            group["lr"] = cfg.lr_at(step)
        torch.manual_seed(cfg.seed * 1_000_003 + step * 1009 + rank)
        metrics: dict[str, float] = {}
        if discriminator is not None:
            discriminator.requires_grad_(False)
        frozen_disc = accelerator.unwrap_model(discriminator) if discriminator is not None else None
        disc_inputs = []
        for micro in range(cfg.grad_accum_steps):
            batch = send_to_device(next(batches), accelerator.device)
            with _sync(accelerator, model, micro, cfg), accelerator.autocast():
                out = task.training_step(model, batch, step, frozen_disc)
                accelerator.backward(out.loss / cfg.grad_accum_steps)
            _accumulate(metrics, {"loss": out.loss, **out.metrics}, cfg.grad_accum_steps)
            disc_inputs.append(out.discriminator_input)
        missing = _params_without_grad(unwrapped)
        never_grad.update(missing)
        if missing and not task.find_unused_parameters:
            raise RuntimeError(f"parameters without a gradient at step {step}: {missing[:5]}")
        grad_norm = accelerator.clip_grad_norm_(model.parameters(), cfg.grad_clip or math.inf)
        optimizer.step()
        optimizer.zero_grad(set_to_none=True)
        if discriminator is not None and d_optimizer is not None and disc_inputs[0] is not None:
            _discriminator_phase(
                task, accelerator, discriminator, d_optimizer, disc_inputs, step, metrics, cfg
            )
        if ema is not None:
            ema.update(unwrapped, step)
        done = step + 1
        bar.update(1)
        if done % cfg.log_every == 0 or done == cfg.max_steps:
            reduced = _reduce(
                accelerator, {**metrics, "lr": cfg.lr_at(step), "grad_norm": float(grad_norm)}
            )
            log.write(done, reduced)
            bar.set_postfix(loss=f"{reduced['loss']:.4g}")
        if done % cfg.save_every == 0 or done == cfg.max_steps:
            _save_checkpoint(accelerator, run_dir / "checkpoints", done, cfg.keep_last, world)
    bar.close()
    log.close()
    _write_rank_summary(
        run_dir, rank, world, unwrapped, cfg.max_steps - start, float(grad_norm), never_grad
    )
    final = run_dir / "final"
    if accelerator.is_main_process:
        if ema is not None:  # training is over: the EMA weights become the model's
            ema.copy_to(unwrapped)
        task.export(unwrapped.eval(), final)
        logger.info("exported the model to %s", final)
    accelerator.wait_for_everyone()
    accelerator.end_training()
    return final


def _adamw(module: nn.Module, cfg: TrainConfig, lr: float) -> torch.optim.Optimizer:
    params = [p for p in module.parameters() if p.requires_grad]
    return torch.optim.AdamW(params, lr=lr, betas=cfg.adam_betas, weight_decay=cfg.weight_decay)


def _sync(accelerator: Any, model: nn.Module, micro: int, cfg: TrainConfig) -> Any:
    """No gradient all-reduce except on the last micro-batch of an optimizer step."""
    last = micro == cfg.grad_accum_steps - 1
    return contextlib.nullcontext() if last else accelerator.no_sync(model)


def _discriminator_phase(
    task: TrainTask,
    accelerator: Any,
    discriminator: nn.Module,
    optimizer: torch.optim.Optimizer,
    inputs: list[Any],
    step: int,
    metrics: dict[str, float],
    cfg: TrainConfig,
) -> None:
    """One optimizer step of the discriminator over the step's stored micro-batch inputs."""
    for group in optimizer.param_groups:
        group["lr"] = cfg.lr_at(step, cfg.discriminator_lr or cfg.lr)
    discriminator.requires_grad_(True)
    for micro, item in enumerate(inputs):
        with _sync(accelerator, discriminator, micro, cfg), accelerator.autocast():
            out = task.discriminator_step(discriminator, item, step)
            accelerator.backward(out.loss / cfg.grad_accum_steps)
        _accumulate(metrics, out.metrics, cfg.grad_accum_steps)
    missing = _params_without_grad(accelerator.unwrap_model(discriminator))
    if missing and not task.find_unused_parameters:
        raise RuntimeError(f"discriminator parameters without a gradient: {missing[:5]}")
    accelerator.clip_grad_norm_(discriminator.parameters(), cfg.grad_clip or math.inf)
    optimizer.step()
    optimizer.zero_grad(set_to_none=True)


def _accumulate(into: dict[str, float], values: dict[str, Any], parts: int) -> None:
    for name, value in values.items():
        number = float(value.detach().float().mean()) if torch.is_tensor(value) else float(value)
        into[name] = into.get(name, 0.0) + number / parts


def _params_without_grad(model: nn.Module) -> list[str]:
    return [n for n, p in model.named_parameters() if p.requires_grad and p.grad is None]


def _reduce(accelerator: Any, metrics: dict[str, float]) -> dict[str, float]:
    """Average scalar metrics over processes (same keys on every rank)."""
    names = sorted(metrics)
    values = torch.tensor(
        [metrics[n] for n in names], dtype=torch.float64, device=accelerator.device
    )
    if accelerator.num_processes > 1:
        values = accelerator.reduce(values, reduction="mean")
    return dict(zip(names, values.cpu().tolist(), strict=True))


def _save_checkpoint(accelerator: Any, folder: Path, step: int, keep_last: int, world: int) -> None:
    """`save_state` into `step_N.tmp`, then rename to `step_N`; keep the last `keep_last`."""
    tmp, final = folder / f"step_{step}.tmp", folder / f"step_{step}"
    if accelerator.is_main_process:
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir(parents=True)
    accelerator.wait_for_everyone()
    accelerator.save_state(str(tmp))
    accelerator.wait_for_everyone()
    if accelerator.is_main_process:
        (tmp / STATE_NAME).write_text(json.dumps({"step": step, "world_size": world}) + "\n")
        shutil.rmtree(final, ignore_errors=True)
        os.replace(tmp, final)
        for old in list_checkpoints(folder)[:-keep_last]:
            shutil.rmtree(old, ignore_errors=True)
    accelerator.wait_for_everyone()


def list_checkpoints(folder: Path) -> list[Path]:
    """Complete checkpoints `step_N` under `folder`, oldest first (`.tmp` ones are ignored)."""
    found = [
        p
        for p in folder.glob("step_*")
        if p.is_dir() and p.name[5:].isdigit() and (p / STATE_NAME).is_file()
    ]
    return sorted(found, key=lambda p: int(p.name[5:]))


def find_checkpoint(path: Path) -> Path:
    """The checkpoint to resume from: `path` itself, or the latest under a run folder."""
    if (path / STATE_NAME).is_file():
        return path
    found = list_checkpoints(path / "checkpoints")
    if not found:
        raise UserError(f"{path}: no checkpoint to resume from (expected checkpoints/step_N)")
    return found[-1]


def _write_rank_summary(
    run_dir: Path,
    rank: int,
    world: int,
    model: nn.Module,
    steps: int,
    grad_norm: float,
    never_grad: set[str],
) -> None:
    digest = hashlib.sha256()
    for name, tensor in sorted(model.state_dict().items()):
        digest.update(name.encode())
        digest.update(tensor.detach().cpu().contiguous().numpy().tobytes())
    summary = {
        "rank": rank,
        "world_size": world,
        "steps": steps,
        "param_sha256": digest.hexdigest(),
        "last_grad_norm": grad_norm,
        "params_without_grad": sorted(never_grad),
    }
    (run_dir / "ranks").mkdir(parents=True, exist_ok=True)
    (run_dir / "ranks" / f"rank_{rank}.json").write_text(json.dumps(summary, indent=2) + "\n")


class _RunLog:
    """metrics.jsonl + TensorBoard on the main process; a resume drops records past its step."""

    def __init__(self, run_dir: Path, start: int, main: bool) -> None:
        self.main, self.path, self.writer = main, run_dir / "metrics.jsonl", None
        if not main:
            return
        if self.path.exists():
            kept = [
                line
                for line in self.path.read_text().splitlines()
                if line and json.loads(line)["step"] <= start
            ]
            self.path.write_text("".join(line + "\n" for line in kept))
        from torch.utils.tensorboard import SummaryWriter

        self.writer = SummaryWriter(str(run_dir / "logs"), purge_step=start + 1 if start else None)

    def write(self, step: int, metrics: dict[str, float]) -> None:
        if not self.main:
            return
        with self.path.open("a") as handle:
            handle.write(json.dumps({"step": step, **metrics}) + "\n")
        if self.writer is not None:
            for name, value in metrics.items():
                self.writer.add_scalar(name, value, step)

    def close(self) -> None:
        if self.writer is not None:
            self.writer.close()
