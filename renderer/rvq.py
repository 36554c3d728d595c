"""Residual vector quantization of VAE latents into the language model's audio tokens.

    z [B, D, T] --codebook 0--> q0, r1 = z - q0 --codebook 1--> q1, r2 = r1 - q1 ... --> codes [B, K, T]
    codes [B, k, T] --sum of the first k codebook lookups--> z_hat [B, D, T]

Codebook k quantizes the residual that codebooks < k leave. The codebooks are buffers, not
parameters: they are learned by exponential moving averages (EMA) of the vectors assigned to
each entry (cluster sizes + embedding sums, with Laplace smoothing), initialised by k-means on
the residuals of the first training batch. Entries whose EMA cluster size falls below
`dead_code_threshold` are restarted from random residual vectors of the current batch. The
encoder upstream gets gradients through the straight-through estimator and a commitment loss.
"""

from __future__ import annotations

import logging
import math
from dataclasses import dataclass

import torch
import torch.distributed as dist
import torch.nn.functional as F
from torch import nn

from renderer.modeling import PretrainedModel

logger = logging.getLogger(__name__)

_EPS = 1e-5  # Laplace smoothing of the EMA cluster sizes


@dataclass(frozen=True)
class RvqConfig:
    """Shape and training rule of a `ResidualVQ`.

    Attributes:
        dim: D, the width of the vectors quantized (the VAE latent width).
        num_codebooks: K, the number of residual codebooks.
        codebook_size: entries per codebook (`log2` of it is the bits per code).
        ema_decay: decay of the EMA codebook updates, in [0, 1).
        dead_code_threshold: entries with an EMA cluster size below this are restarted.
        commitment_weight: weight of the commitment loss `||z - sg(q)||^2`.
        kmeans_iters: Lloyd iterations of the k-means initialisation (0: random batch vectors).
    """

    dim: int = 64
    num_codebooks: int = 8
    codebook_size: int = 1024
    ema_decay: float = 0.99
    dead_code_threshold: float = 1.0
    commitment_weight: float = 0.25
    kmeans_iters: int = 10

    def __post_init__(self) -> None:
        for name in ("dim", "num_codebooks", "codebook_size"):
            if getattr(self, name) < 1:
                raise ValueError(f"{name} must be >= 1, got {getattr(self, name)}")
        if not 0.0 <= self.ema_decay < 1.0:
            raise ValueError(f"ema_decay must be in [0, 1), got {self.ema_decay}")
        if self.dead_code_threshold < 0 or self.commitment_weight < 0 or self.kmeans_iters < 0:
            raise ValueError("dead_code_threshold, commitment_weight and kmeans_iters must be >= 0")

    @classmethod
    def tiny(cls) -> RvqConfig:
        """A small quantizer for tests: D=8, K=2, 16 entries."""
        return cls(dim=8, num_codebooks=2, codebook_size=16, kmeans_iters=4)

    @classmethod
    def reference(cls) -> RvqConfig:
        """D=64, K=8, 1024 entries: at 25 frames/s, 250 bits/s per codebook, K=8 -> 2 kbps."""
        return cls()

    def bitrate(self, frame_rate: float, num_codebooks: int | None = None) -> float:
        """Bits per second at `frame_rate` using the first `num_codebooks` (default K)."""
        k = self.num_codebooks if num_codebooks is None else num_codebooks
        return frame_rate * k * math.log2(self.codebook_size)


@dataclass
class RvqOutput:
    """What `ResidualVQ.forward` returns.

    Attributes:
        quantized: `[B, D, T]` sum of the K codebook vectors (straight-through to `z`).
        codes: `[B, K, T]` int64 code indices.
        commit_loss: scalar commitment loss (already weighted by `commitment_weight`).
        stats: per-codebook figures of this batch, `[K]` each: `perplexity`, `usage`
            (fraction of entries used), `mse` (residual error after codebook k).
    """

    quantized: torch.Tensor
    codes: torch.Tensor
    commit_loss: torch.Tensor
    stats: dict[str, torch.Tensor]


class ResidualVQ(nn.Module, PretrainedModel):
    """K residual codebooks with EMA updates, k-means init and dead-code restarts.

    Args:
        config: the quantizer's shape and training rule.
    """

    config_class = RvqConfig

    def __init__(self, config: RvqConfig) -> None:
        super().__init__()
        self.config = config
        k, n, d = config.num_codebooks, config.codebook_size, config.dim
        codebooks = torch.randn(k, n, d)  # [K, N, D]
        self.codebooks: torch.Tensor
        self.cluster_size: torch.Tensor
        self.embed_sum: torch.Tensor
        self.initialized: torch.Tensor
        self.register_buffer("codebooks", codebooks)
        self.register_buffer("cluster_size", torch.ones(k, n))  # [K, N]
        self.register_buffer("embed_sum", codebooks.clone())  # [K, N, D]
        self.register_buffer("initialized", torch.zeros((), dtype=torch.bool))

    # ------------------------------------------------------------------ public API

    def forward(self, z: torch.Tensor) -> RvqOutput:
        """Quantize `z` `[B, D, T]`; in training mode also initialise / update the codebooks."""
        vectors = self._flatten(z)  # [B*T, D]
        if self.training and not bool(self.initialized):
            self._kmeans_init(vectors)
        residual = vectors
        total = torch.zeros_like(vectors)
        codes, commit, perplexity, usage, mse = [], [], [], [], []
        for k in range(self.config.num_codebooks):
            idx = self._nearest(residual, k)  # [B*T]
            if self.training:
                self._ema_update(residual.detach(), idx, k)
                self._restart_dead_codes(residual.detach(), k)
            q = F.embedding(idx, self.codebooks[k])  # [B*T, D]
            commit.append(F.mse_loss(residual, q.detach()))
            perplexity.append(_perplexity(idx, self.config.codebook_size))
            usage.append(idx.unique().numel() / self.config.codebook_size)
            codes.append(idx)
            total = total + q
            residual = residual - q.detach()
            mse.append(residual.detach().pow(2).mean())
        quantized_flat = vectors + (total - vectors).detach()  # straight-through estimator
        b, _, t = z.shape
        quantized = quantized_flat.reshape(b, t, -1).transpose(1, 2)  # [B, D, T]
        code_tensor = torch.stack(codes, dim=-1).reshape(b, t, -1).transpose(1, 2)  # [B, K, T]
        commit_loss = self.config.commitment_weight * torch.stack(commit).sum()
        stats = {
            "perplexity": torch.stack(perplexity),
            "usage": torch.tensor(usage),
            "mse": torch.stack(mse),
        }
        return RvqOutput(quantized, code_tensor, commit_loss, stats)

    @torch.no_grad()
    def encode(self, z: torch.Tensor, num_codebooks: int | None = None) -> torch.Tensor:
        """Codes `[B, k, T]` (int64) of `z` `[B, D, T]` with the first k (default K) codebooks."""
        k = self._check_num_codebooks(num_codebooks)
        residual = self._flatten(z)  # [B*T, D]
        codes = []
        for i in range(k):
            idx = self._nearest(residual, i)
            residual = residual - F.embedding(idx, self.codebooks[i])
            codes.append(idx)
        b, _, t = z.shape
        return torch.stack(codes, dim=-1).reshape(b, t, k).transpose(1, 2)  # [B, k, T]

    def decode(self, codes: torch.Tensor) -> torch.Tensor:
        """Latents `[B, D, T]` from codes `[B, k, T]`, k <= K (the first k codebooks)."""
        if codes.dim() != 3:
            raise ValueError(f"codes must be [batch, codebooks, frames], got {tuple(codes.shape)}")
        k = self._check_num_codebooks(codes.shape[1])
        if codes.dtype.is_floating_point or codes.dtype == torch.bool:
            raise ValueError(f"codes must be integers, got {codes.dtype}")
        size = self.config.codebook_size
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= size):
            raise ValueError(f"codes must lie in [0, {size})")
        z = torch.zeros(
            codes.shape[0],
            codes.shape[2],
            self.config.dim,
            device=codes.device,
            dtype=self.codebooks.dtype,
        )  # [B, T, D]
        for i in range(k):
            z = z + F.embedding(codes[:, i].long(), self.codebooks[i])
        return z.transpose(1, 2)  # [B, D, T]

    def codebook_usage(self) -> torch.Tensor:
        """`[K]` fraction of entries whose EMA cluster size is at least the dead-code threshold."""
        alive = self.cluster_size >= max(self.config.dead_code_threshold, _EPS)
        return alive.float().mean(dim=1)

    def codebook_perplexity(self) -> torch.Tensor:
        """`[K]` perplexity of the EMA cluster-size distribution (codebook_size when uniform)."""
        p = self.cluster_size / self.cluster_size.sum(dim=1, keepdim=True).clamp_min(_EPS)
        entropy = -(p * torch.log(p.clamp_min(1e-12))).sum(dim=1)
        return entropy.exp()

    # ------------------------------------------------------------------ internals

    def _flatten(self, z: torch.Tensor) -> torch.Tensor:
        if z.dim() != 3 or z.shape[1] != self.config.dim:
            raise ValueError(
                f"latents must be [batch, {self.config.dim}, frames], got {tuple(z.shape)}"
            )
        return z.transpose(1, 2).reshape(-1, self.config.dim)  # [B*T, D]

    def _check_num_codebooks(self, num_codebooks: int | None) -> int:
        k = self.config.num_codebooks if num_codebooks is None else int(num_codebooks)
        if not 1 <= k <= self.config.num_codebooks:
            raise ValueError(f"can use 1..{self.config.num_codebooks} codebooks, asked for {k}")
        return k

    def _nearest(self, x: torch.Tensor, k: int) -> torch.Tensor:
        """Index `[N]` of the nearest entry of codebook k for each row of `x` `[N, D]`."""
        book = self.codebooks[k]  # [C, D]
        dist = x.pow(2).sum(1, keepdim=True) - 2 * x @ book.t() + book.pow(2).sum(1)[None]
        return dist.argmin(dim=1)

    @torch.no_grad()
    def _kmeans_init(self, vectors: torch.Tensor) -> None:
        """Initialise each codebook by k-means on the residuals the previous ones leave."""
        residual = vectors.detach()
        for k in range(self.config.num_codebooks):
            centroids = _kmeans(residual, self.config.codebook_size, self.config.kmeans_iters)
            self.codebooks[k] = centroids
            idx = self._nearest(residual, k)
            counts = torch.bincount(idx, minlength=self.config.codebook_size).to(residual.dtype)
            self.cluster_size[k] = counts
            self.embed_sum[k] = centroids * counts[:, None]
            residual = residual - F.embedding(idx, centroids)
        self.initialized.fill_(True)
        _broadcast_from_first_rank(self.codebooks, self.cluster_size, self.embed_sum)
        logger.info("initialised %d codebooks by k-means", self.config.num_codebooks)

    @torch.no_grad()
    def _ema_update(self, x: torch.Tensor, idx: torch.Tensor, k: int) -> None:
        """EMA of cluster sizes and sums of codebook k; entries = smoothed mean of their cluster."""
        decay, size = self.config.ema_decay, self.config.codebook_size
        onehot = F.one_hot(idx, size).to(x.dtype)  # [N, C]
        counts, sums = onehot.sum(0), onehot.t() @ x  # [C], [C, D]
        if _distributed():
            dist.all_reduce(counts)  # statistics of the whole global batch
            dist.all_reduce(sums)
        self.cluster_size[k].mul_(decay).add_(counts, alpha=1 - decay)
        self.embed_sum[k].mul_(decay).add_(sums, alpha=1 - decay)
        n = self.cluster_size[k].sum()
        smoothed = (self.cluster_size[k] + _EPS) / (n + size * _EPS) * n  # Laplace smoothing
        self.codebooks[k] = self.embed_sum[k] / smoothed[:, None]

    @torch.no_grad()
    def _restart_dead_codes(self, x: torch.Tensor, k: int) -> None:
        """Replace entries of codebook k used less than the threshold by random rows of `x`."""
        dead = self.cluster_size[k] < self.config.dead_code_threshold  # [C]
        num_dead = int(dead.sum())
        if num_dead == 0 or x.shape[0] == 0:
            return
        rows = torch.randint(0, x.shape[0], (num_dead,), device=x.device)
        self.codebooks[k][dead] = x[rows]
        self.embed_sum[k][dead] = x[rows] * self.config.dead_code_threshold
        self.cluster_size[k][dead] = self.config.dead_code_threshold
        _broadcast_from_first_rank(self.codebooks, self.cluster_size, self.embed_sum)
        logger.debug("restarted %d dead codes of codebook %d", num_dead, k)


def _distributed() -> bool:
    return dist.is_available() and dist.is_initialized() and dist.get_world_size() > 1


def _broadcast_from_first_rank(*tensors: torch.Tensor) -> None:
    """Make every process hold rank 0's copy (k-means and restarts draw random vectors)."""
    if _distributed():
        for tensor in tensors:
            dist.broadcast(tensor, src=0)


def _kmeans(x: torch.Tensor, num_clusters: int, iters: int) -> torch.Tensor:
    """Lloyd's k-means of `x` `[N, D]` -> centroids `[num_clusters, D]` (seeded by random rows)."""
    rows = torch.randint(0, x.shape[0], (num_clusters,), device=x.device)
    if x.shape[0] >= num_clusters:
        rows = torch.randperm(x.shape[0], device=x.device)[:num_clusters]
    centroids = x[rows].clone()
    for _ in range(iters):
        dist = x.pow(2).sum(1, keepdim=True) - 2 * x @ centroids.t() + centroids.pow(2).sum(1)[None]
        idx = dist.argmin(dim=1)
        counts = torch.bincount(idx, minlength=num_clusters).to(x.dtype)  # [C]
        sums = torch.zeros_like(centroids).index_add_(0, idx, x)  # [C, D]
        filled = counts > 0
        centroids[filled] = sums[filled] / counts[filled, None]
    return centroids


def _perplexity(idx: torch.Tensor, size: int) -> torch.Tensor:
    """exp(entropy) of the code histogram of `idx`."""
    p = torch.bincount(idx, minlength=size).float() / max(idx.numel(), 1)
    return torch.exp(-(p * torch.log(p.clamp_min(1e-12))).sum())
