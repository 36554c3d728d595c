"""The latent diffusion transformer (DiT) of the renderer, on diffusers' `StableAudioDiTModel`.

It predicts the flow-matching **velocity** `v = noise - x0` of noisy VAE latents
`x_t = (1 - t) * x0 + t * noise` (t in [0, 1], t = 1 is pure noise; the convention of
diffusers' `FlowMatchEulerDiscreteScheduler`). Channels fed to the transformer, per frame:

    [ noisy latents (D) | summed code embeddings (C) | masked clean latents (D) | mask (1)
      | encoded score frames (frame_channels, when frame_dim > 0) ]

- codes `[B, K, T]` from the RVQ (same frame rate as the latents) go through K embeddings
  that are summed; with no codes (or when dropped) a learned null vector stands in.
- inpainting: `known_latents * known_mask` and `known_mask` (`1` = known frame).
- score frames `[B, F, T]` (frame-aligned features of the score, `score_tokens.frames`) go
  through a small convolutional encoder; absent or dropped, a learned null vector stands in.
- optional cross-attention context `[B, S, E]` (score-token or text embeddings) and a global
  embedding `[B, G]`; when absent or dropped, learned null embeddings stand in, so condition
  dropout for classifier-free guidance needs no special case.

Every parameter takes part in every forward pass as long as `codes` is given (the null
embeddings enter through `torch.where`); a model trained without codes (text-only) leaves the
code embeddings unused and needs `find_unused_parameters=True` under DDP.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

import torch
from diffusers.models.embeddings import get_1d_rotary_pos_embed
from diffusers.models.transformers.stable_audio_transformer import StableAudioDiTModel
from torch import nn

from renderer.modeling import PretrainedModel

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class DitConfig:
    """Shape of a `LatentDiT`.

    Attributes:
        latent_dim: D, the VAE latent width.
        num_codebooks: K, codebooks of the conditioning audio tokens.
        codebook_size: entries per codebook.
        code_channels: C, width of the summed code embeddings.
        num_layers: transformer blocks.
        num_attention_heads: query heads.
        num_key_value_heads: key/value heads (divides `num_attention_heads`).
        attention_head_dim: width of one head (inner width = heads * head_dim).
        context_dim: E, width of the optional cross-attention sequence.
        cross_attention_dim: width the context is projected to inside the DiT.
        global_dim: G, width of the optional global embedding.
        time_proj_dim: width of the Fourier time features.
        frame_dim: F, features per score frame (0: no score-frame input).
        frame_channels: width the score frames are encoded to.
        patch_size: frames per transformer token (2 halves the sequence and the compute;
            every frame keeps its own input and output channels inside the token).
    """

    latent_dim: int = 64
    num_codebooks: int = 8
    codebook_size: int = 1024
    code_channels: int = 64
    num_layers: int = 8
    num_attention_heads: int = 8
    num_key_value_heads: int = 4
    attention_head_dim: int = 32
    context_dim: int = 384
    cross_attention_dim: int = 256
    global_dim: int = 384
    time_proj_dim: int = 256
    frame_dim: int = 0
    frame_channels: int = 128
    patch_size: int = 1

    def __post_init__(self) -> None:
        for name, value in vars(self).items():
            if value < (0 if name == "frame_dim" else 1):
                raise ValueError(f"{name} must be >= 1, got {value}")
        if self.num_attention_heads % self.num_key_value_heads:
            raise ValueError(
                f"num_key_value_heads {self.num_key_value_heads} must divide "
                f"num_attention_heads {self.num_attention_heads}"
            )
        if self.attention_head_dim % 4 or self.time_proj_dim % 2:
            raise ValueError("attention_head_dim must be a multiple of 4, time_proj_dim even")

    @classmethod
    def tiny(cls) -> DitConfig:
        """2 layers, widths <= 32, for tests: D=8, K=2, 16 entries."""
        return cls(
            latent_dim=8,
            num_codebooks=2,
            codebook_size=16,
            code_channels=16,
            num_layers=2,
            num_attention_heads=2,
            num_key_value_heads=1,
            attention_head_dim=16,
            context_dim=16,
            cross_attention_dim=32,
            global_dim=16,
            time_proj_dim=32,
        )

    @classmethod
    def reference(cls) -> DitConfig:
        """The shipped renderer (~11M parameters; codes of `RvqConfig.reference()`, 64-ch VAE,
        384-wide MiniLM context)."""
        return cls()

    @property
    def in_channels(self) -> int:
        """Channels fed to the transformer: noisy + codes + masked clean + mask (+ frames)."""
        frames = self.frame_channels if self.frame_dim else 0
        return 2 * self.latent_dim + self.code_channels + 1 + frames


class LatentDiT(nn.Module, PretrainedModel):
    """Flow-matching velocity predictor for VAE latents, conditioned on codes and more.

    Args:
        config: the model's shape.
    """

    config_class = DitConfig
    latent_mean: torch.Tensor
    latent_std: torch.Tensor

    def __init__(self, config: DitConfig) -> None:
        super().__init__()
        self.config = config
        self.code_embeddings = nn.ModuleList(
            nn.Embedding(config.codebook_size, config.code_channels)
            for _ in range(config.num_codebooks)
        )
        self.null_codes = nn.Parameter(torch.zeros(config.code_channels))
        self.null_context = nn.Parameter(torch.randn(1, config.context_dim) * 0.02)
        self.null_global = nn.Parameter(torch.randn(config.global_dim) * 0.02)
        self.frame_encoder: nn.Module | None = None
        if config.frame_dim:
            width = config.frame_channels
            self.frame_encoder = nn.Sequential(
                nn.Conv1d(config.frame_dim, width, kernel_size=5, padding=2),
                nn.GELU(),
                nn.Conv1d(width, width, kernel_size=5, padding=2),
            )
            self.null_frames = nn.Parameter(torch.zeros(width))
        # Per-channel statistics of the VAE latents: the DiT works on standardized latents.
        self.register_buffer("latent_mean", torch.zeros(config.latent_dim))
        self.register_buffer("latent_std", torch.ones(config.latent_dim))
        self.transformer = StableAudioDiTModel(
            sample_size=1024,
            in_channels=config.in_channels * config.patch_size,
            num_layers=config.num_layers,
            attention_head_dim=config.attention_head_dim,
            num_attention_heads=config.num_attention_heads,
            num_key_value_attention_heads=config.num_key_value_heads,
            out_channels=config.latent_dim * config.patch_size,
            cross_attention_dim=config.cross_attention_dim,
            time_proj_dim=config.time_proj_dim,
            global_states_input_dim=config.global_dim,
            cross_attention_input_dim=config.context_dim,
        )

    def set_latent_statistics(self, mean: torch.Tensor, std: torch.Tensor) -> None:
        """Store the per-channel mean and std `[D]` of the VAE latents it is trained on."""
        d = self.config.latent_dim
        if mean.shape != (d,) or std.shape != (d,) or bool((std <= 0).any()):
            raise ValueError(f"latent statistics must be [{d}] with std > 0")
        self.latent_mean.copy_(mean)
        self.latent_std.copy_(std)

    def normalize(self, latents: torch.Tensor) -> torch.Tensor:
        """VAE latents `[B, D, T]` -> the standardized space the DiT works in."""
        return (latents - self.latent_mean[:, None]) / self.latent_std[:, None]

    def denormalize(self, x: torch.Tensor) -> torch.Tensor:
        """The inverse of `normalize`."""
        return x * self.latent_std[:, None] + self.latent_mean[:, None]

    def forward(
        self,
        noisy: torch.Tensor,
        t: torch.Tensor,
        codes: torch.Tensor | None = None,
        known_latents: torch.Tensor | None = None,
        known_mask: torch.Tensor | None = None,
        context: torch.Tensor | None = None,
        context_mask: torch.Tensor | None = None,
        global_embedding: torch.Tensor | None = None,
        drop_conditions: torch.Tensor | None = None,
        score_frames: torch.Tensor | None = None,
        drop_codes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Predict the velocity `noise - x0`.

        Args:
            noisy: `[B, D, T]` noisy latents x_t.
            t: `[B]` (or scalar) times in [0, 1] (1 = pure noise).
            codes: `[B, K, T]` audio-token codes, or None (unconditional on codes).
            known_latents: `[B, D, T]` clean latents of the known frames (others ignored).
            known_mask: `[B, 1, T]` 1 where a frame is known; None = nothing known.
            context: `[B, S, E]` cross-attention sequence, or None.
            context_mask: `[B, S]` 1 for real context positions (with `context`).
            global_embedding: `[B, G]`, or None.
            drop_conditions: `[B]` bool; True replaces codes, frames, context and global
                embedding of that example by the null embeddings (classifier-free guidance).
            score_frames: `[B, F, T]` score frames (models with `frame_dim > 0`), or None.
            drop_codes: `[B]` bool; True drops only the codes (rendering from the score alone).

        Returns:
            velocity `[B, D, T]`.
        """
        b, d, frames = noisy.shape
        if d != self.config.latent_dim:
            raise ValueError(
                f"latents must be [batch, {self.config.latent_dim}, frames], got {tuple(noisy.shape)}"
            )
        drop = self._drop_mask(drop_conditions, b, noisy.device)  # [B]
        code_drop = drop | self._drop_mask(drop_codes, b, noisy.device)
        code_emb = self._embed_codes(codes, b, frames, code_drop)  # [B, C, T]
        known, mask = self._inpainting_inputs(known_latents, known_mask, noisy)
        parts = [noisy, code_emb, known, mask]
        if self.frame_encoder is not None:
            parts.append(self._encode_frames(score_frames, b, frames, drop))
        elif score_frames is not None:
            raise ValueError("this DiT takes no score frames (frame_dim is 0)")
        hidden = _patchify(torch.cat(parts, dim=1), self.config.patch_size)  # [B, in*p, T/p]
        ctx, ctx_mask = self._context(context, context_mask, b, drop)
        glob = self._global(global_embedding, b, drop)[:, None]  # [B, 1, G]
        rotary = get_1d_rotary_pos_embed(
            self.config.attention_head_dim // 2,
            hidden.shape[-1] + 1,
            use_real=True,
            repeat_interleave_real=False,
        )
        rotary = (rotary[0].to(noisy.device), rotary[1].to(noisy.device))
        times = torch.as_tensor(t, dtype=noisy.dtype, device=noisy.device).reshape(-1).expand(b)
        out = self.transformer(
            hidden,
            timestep=times,
            encoder_hidden_states=ctx,
            global_hidden_states=glob,
            rotary_embedding=rotary,
            encoder_attention_mask=ctx_mask,
            return_dict=False,
        )[0]  # [B, D * p, T / p]
        return _unpatchify(out, self.config.patch_size)[..., :frames]  # [B, D, T]

    def _drop_mask(self, drop: torch.Tensor | None, b: int, device: torch.device) -> torch.Tensor:
        if drop is None:
            return torch.zeros(b, dtype=torch.bool, device=device)
        if drop.shape != (b,):
            raise ValueError(f"drop_conditions must be [{b}], got {tuple(drop.shape)}")
        return drop.to(device=device, dtype=torch.bool)

    def _embed_codes(
        self, codes: torch.Tensor | None, b: int, frames: int, drop: torch.Tensor
    ) -> torch.Tensor:
        null = self.null_codes[None, :, None].expand(b, -1, frames)  # [B, C, T]
        if codes is None:
            return null
        k = self.config.num_codebooks
        if codes.dim() != 3 or codes.shape != (b, k, frames):
            raise ValueError(f"codes must be [{b}, {k}, {frames}], got {tuple(codes.shape)}")
        if codes.numel() and (
            int(codes.min()) < 0 or int(codes.max()) >= self.config.codebook_size
        ):
            raise ValueError(f"codes must lie in [0, {self.config.codebook_size})")
        emb = sum(table(codes[:, i].long()) for i, table in enumerate(self.code_embeddings))
        emb = torch.as_tensor(emb).transpose(1, 2)  # [B, C, T]
        return torch.where(drop[:, None, None], null, emb)

    def _encode_frames(
        self, score_frames: torch.Tensor | None, b: int, frames: int, drop: torch.Tensor
    ) -> torch.Tensor:
        assert self.frame_encoder is not None
        null = self.null_frames[None, :, None].expand(b, -1, frames)  # [B, W, T]
        if score_frames is None:
            return null
        f = self.config.frame_dim
        if score_frames.shape != (b, f, frames):
            raise ValueError(
                f"score_frames must be [{b}, {f}, {frames}], got {tuple(score_frames.shape)}"
            )
        encoded = self.frame_encoder(score_frames.to(null.dtype))  # [B, W, T]
        return torch.where(drop[:, None, None], null, encoded)

    def _inpainting_inputs(
        self, known: torch.Tensor | None, mask: torch.Tensor | None, noisy: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        b, _, frames = noisy.shape
        if mask is None:
            mask = torch.zeros(b, 1, frames, dtype=noisy.dtype, device=noisy.device)
        if mask.shape != (b, 1, frames):
            raise ValueError(f"known_mask must be [{b}, 1, {frames}], got {tuple(mask.shape)}")
        mask = mask.to(noisy.dtype)
        if known is None:
            if bool(mask.any()):
                raise ValueError("known_mask marks known frames but known_latents is None")
            known = torch.zeros_like(noisy)
        if known.shape != noisy.shape:
            raise ValueError(
                f"known_latents must be {tuple(noisy.shape)}, got {tuple(known.shape)}"
            )
        return known * mask, mask

    def _context(
        self, context: torch.Tensor | None, mask: torch.Tensor | None, b: int, drop: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor | None]:
        null = self.null_context[None].expand(b, -1, -1)  # [B, 1, E]
        if context is None:
            return null, None
        if (
            context.dim() != 3
            or context.shape[0] != b
            or context.shape[2] != self.config.context_dim
        ):
            raise ValueError(
                f"context must be [{b}, S, {self.config.context_dim}], got {tuple(context.shape)}"
            )
        if mask is None:
            mask = torch.ones(context.shape[:2], dtype=torch.bool, device=context.device)
        mask = mask.to(torch.bool)
        # A dropped example attends to the null embedding alone (position 0, the rest masked).
        null_seq = torch.zeros_like(context)
        null_seq[:, :1] = self.null_context[None]
        null_mask = torch.zeros_like(mask)
        null_mask[:, 0] = True
        context = torch.where(drop[:, None, None], null_seq, context)
        mask = torch.where(drop[:, None], null_mask, mask)
        return context, mask

    def _global(self, embedding: torch.Tensor | None, b: int, drop: torch.Tensor) -> torch.Tensor:
        null = self.null_global[None].expand(b, -1)  # [B, G]
        if embedding is None:
            return null
        if embedding.shape != (b, self.config.global_dim):
            raise ValueError(
                f"global_embedding must be [{b}, {self.config.global_dim}], got {tuple(embedding.shape)}"
            )
        return torch.where(drop[:, None], null, embedding)


def _patchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """`[B, C, T]` -> `[B, C * p, ceil(T / p)]` (zero-padded at the end); channel `c * p + j`
    holds frame `j` of each token."""
    if p == 1:
        return x
    b, c, frames = x.shape
    x = nn.functional.pad(x, (0, -frames % p))
    return x.reshape(b, c, -1, p).permute(0, 1, 3, 2).reshape(b, c * p, -1)


def _unpatchify(x: torch.Tensor, p: int) -> torch.Tensor:
    """The inverse of `_patchify` (without removing the padding)."""
    if p == 1:
        return x
    b, cp, tokens = x.shape
    return x.reshape(b, cp // p, p, tokens).permute(0, 1, 3, 2).reshape(b, cp // p, tokens * p)
