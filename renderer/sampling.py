"""Flow-matching training objective and sampling (with CFG and inpainting) for `LatentDiT`.

Convention (that of diffusers' `FlowMatchEulerDiscreteScheduler`): for clean latents x0 and
Gaussian noise n, `x_t = (1 - t) * x0 + t * n` with t in [0, 1]; the DiT predicts the velocity
`v = n - x0`, and an Euler step goes `x_{t'} = x_t + (t' - t) * v`.
"""

from __future__ import annotations

import logging
import sys

import torch
from diffusers.schedulers.scheduling_flow_match_euler_discrete import (
    FlowMatchEulerDiscreteScheduler,
)
from tqdm.auto import tqdm

from renderer.dit import LatentDiT

logger = logging.getLogger(__name__)


def random_inpainting_mask(
    batch: int, frames: int, prob: float, generator: torch.Generator | None = None
) -> torch.Tensor:
    """`[B, 1, T]` masks (1 = known): with probability `prob` an example keeps everything
    outside one random span (length 1..T-1) as known; otherwise nothing is known. A third of
    those spans run to the end (continuing known audio: windowed rendering, `--extend`), a third
    start at the beginning, a third lie inside (editing bars between known ones)."""
    mask = torch.zeros(batch, 1, frames)
    if frames < 2:
        return mask
    for i in range(batch):
        if float(torch.rand((), generator=generator)) >= prob:
            continue
        length = int(torch.randint(1, frames, (), generator=generator))
        kind = int(torch.randint(0, 3, (), generator=generator))
        if kind == 0:
            start = frames - length
        elif kind == 1:
            start = 0
        else:
            start = int(torch.randint(0, frames - length + 1, (), generator=generator))
        mask[i] = 1.0
        mask[i, :, start : start + length] = 0.0
    return mask


def flow_matching_loss(
    dit: LatentDiT,
    latents: torch.Tensor,
    codes: torch.Tensor | None,
    mask: torch.Tensor | None = None,
    context: torch.Tensor | None = None,
    context_mask: torch.Tensor | None = None,
    global_embedding: torch.Tensor | None = None,
    inpaint_prob: float = 0.0,
    cond_drop_prob: float = 0.0,
    generator: torch.Generator | None = None,
    score_frames: torch.Tensor | None = None,
    code_drop_prob: float = 0.0,
) -> torch.Tensor:
    """Mean squared error of the predicted velocity on the frames to generate.

    Args:
        dit: the model.
        latents: `[B, D, T]` clean VAE latents x0.
        codes: `[B, K, T]` audio-token codes (or None).
        mask: `[B, 1, T]` known frames (1 = known, given as conditioning); when None and
            `inpaint_prob > 0`, random masks from `random_inpainting_mask`.
        context, context_mask, global_embedding: optional conditions (see `LatentDiT`).
        inpaint_prob: probability that an example gets a random inpainting mask.
        cond_drop_prob: probability that an example's conditions are dropped (CFG training).
        generator: CPU random generator for times, noise, masks and dropout.
        score_frames: `[B, F, T]` score frames (DiTs with `frame_dim > 0`).
        code_drop_prob: probability that an example's codes alone are dropped (so the model
            also renders from the score without the audio-token LM).

    Returns:
        scalar loss over the unknown frames (all frames when none is unknown).
    """
    b, _, frames = latents.shape
    device = latents.device
    if mask is None:
        mask = random_inpainting_mask(b, frames, inpaint_prob, generator).to(device)
    t = torch.rand(b, generator=generator).to(device)  # [B]
    noise = torch.randn(latents.shape, generator=generator).to(device, latents.dtype)
    noisy = (1 - t[:, None, None]) * latents + t[:, None, None] * noise
    drop = (torch.rand(b, generator=generator) < cond_drop_prob).to(device)
    drop_codes = (torch.rand(b, generator=generator) < code_drop_prob).to(device)
    velocity = dit(
        noisy,
        t,
        codes,
        known_latents=latents,
        known_mask=mask,
        context=context,
        context_mask=context_mask,
        global_embedding=global_embedding,
        drop_conditions=drop,
        score_frames=score_frames,
        drop_codes=drop_codes,
    )
    error = (velocity - (noise - latents)).pow(2).mean(dim=1, keepdim=True)  # [B, 1, T]
    weight = 1.0 - mask.to(error.dtype)
    if float(weight.sum()) == 0.0:
        return error.mean()
    return (error * weight).sum() / weight.sum()


@torch.no_grad()
def sample_latents(
    dit: LatentDiT,
    codes: torch.Tensor | None,
    num_steps: int,
    guidance_scale: float = 1.0,
    known_latents: torch.Tensor | None = None,
    known_mask: torch.Tensor | None = None,
    context: torch.Tensor | None = None,
    context_mask: torch.Tensor | None = None,
    global_embedding: torch.Tensor | None = None,
    num_frames: int | None = None,
    generator: torch.Generator | None = None,
    progress: bool | None = None,
    score_frames: torch.Tensor | None = None,
) -> torch.Tensor:
    """Generate latents `[B, D, T]` by Euler flow-matching steps from noise.

    Args:
        dit: the model (its mode is left unchanged; call `.eval()` first).
        codes: `[B, K, T]` conditioning codes, or None (then `known_latents` or `num_frames`
            gives T and B is 1 unless `known_latents` says otherwise).
        num_steps: Euler steps (>= 1).
        guidance_scale: classifier-free guidance weight; 1 = no guidance (one pass per step).
        known_latents: `[B, D, T]` latents to keep where `known_mask` is 1.
        known_mask: `[B, 1, T]` 1 = known frame; the result equals `known_latents` there.
        context, context_mask, global_embedding: optional conditions (see `LatentDiT`).
        num_frames: T when neither codes nor known latents are given.
        generator: CPU random generator of the initial noise.
        progress: show a tqdm bar; None = only on a terminal.
        score_frames: `[B, F, T]` score frames (DiTs with `frame_dim > 0`); they also give B
            and T when neither codes nor known latents do.

    Returns:
        latents `[B, D, T]`.
    """
    if num_steps < 1:
        raise ValueError(f"num_steps must be >= 1, got {num_steps}")
    if (known_latents is None) != (known_mask is None):
        raise ValueError("known_latents and known_mask go together")
    if num_frames is None and score_frames is not None and codes is None and known_latents is None:
        num_frames = score_frames.shape[-1]
    batch, frames = _batch_and_frames(codes, known_latents, num_frames)
    if score_frames is not None and codes is None and known_latents is None:
        batch = score_frames.shape[0]
    device = next(dit.parameters()).device
    shape = (batch, dit.config.latent_dim, frames)
    latents = torch.randn(shape, generator=generator).to(device)
    scheduler = FlowMatchEulerDiscreteScheduler()
    scheduler.set_timesteps(num_steps, device=device)
    guided = guidance_scale != 1.0
    show = sys.stderr.isatty() if progress is None else progress
    for timestep in tqdm(scheduler.timesteps, desc="sampling", disable=not show):
        t = (timestep / scheduler.config.num_train_timesteps).expand(batch)
        velocity = _velocity(
            dit,
            latents,
            t,
            codes,
            known_latents,
            known_mask,
            context,
            context_mask,
            global_embedding,
            guidance_scale if guided else None,
            score_frames,
        )
        latents = scheduler.step(velocity, timestep, latents).prev_sample
    if known_latents is not None and known_mask is not None:
        keep = known_mask.to(latents.dtype)
        latents = keep * known_latents + (1 - keep) * latents
    return latents


def _batch_and_frames(
    codes: torch.Tensor | None, known: torch.Tensor | None, num_frames: int | None
) -> tuple[int, int]:
    if codes is not None:
        return codes.shape[0], codes.shape[-1]
    if known is not None:
        return known.shape[0], known.shape[-1]
    if num_frames is None:
        raise ValueError("give codes, known_latents or num_frames")
    return 1, num_frames


def _velocity(
    dit: LatentDiT,
    latents: torch.Tensor,
    t: torch.Tensor,
    codes: torch.Tensor | None,
    known: torch.Tensor | None,
    mask: torch.Tensor | None,
    context: torch.Tensor | None,
    context_mask: torch.Tensor | None,
    global_embedding: torch.Tensor | None,
    guidance_scale: float | None,
    score_frames: torch.Tensor | None = None,
) -> torch.Tensor:
    """One model call; with guidance, conditional and unconditional halves in one batch."""
    if guidance_scale is None:
        return dit(
            latents,
            t,
            codes,
            known,
            mask,
            context,
            context_mask,
            global_embedding,
            score_frames=score_frames,
        )
    b = latents.shape[0]

    def twice(x: torch.Tensor | None) -> torch.Tensor | None:
        return None if x is None else torch.cat([x, x])

    drop = torch.cat([torch.zeros(b), torch.ones(b)]).bool().to(latents.device)
    both = dit(
        twice(latents),
        twice(t),
        twice(codes),
        twice(known),
        twice(mask),
        twice(context),
        twice(context_mask),
        twice(global_embedding),
        drop_conditions=drop,
        score_frames=twice(score_frames),
    )
    cond, uncond = both[:b], both[b:]
    return uncond + guidance_scale * (cond - uncond)
