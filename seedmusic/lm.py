"""The audio-token language model: conditions -> RVQ codes `[B, K, T]`.

A decoder-only transformer (transformers' `LlamaModel`, driven through `inputs_embeds`, SDPA
attention, KV cache) over the MusicGen delay pattern of K codebooks (`seedmusic.patterns`).
The input sequence of one sample is

    [condition prefix (P positions, padded)] [BOS] [delayed step 0] ... [delayed step L-2]

where one step is the sum of K codebook embeddings. The hidden state at BOS and at each step
goes through K output heads, so position `j` of `forward`'s logits predicts delayed step `j`:
the K codebooks of that step at once, codebook k of frame t after codebook k-1 of frame t.

Token ids per codebook: codes `0 .. C-1`, then the specials `pad = C`, `bos = C + 1` and the
mask tokens `C + 2 ...` used by causal-masking (infill) training. The heads predict the whole
vocabulary; sampling draws codes only and writes pad where the delay pattern has no code.

Training: `loss(conditions, delayed)` on `model.delay(codes)` (plain generation) or on
`causal_mask_rearrange(...)` sequences (infill), batched with `stack_padded`. Sampling:
`generate` (optionally continuing `prompt_codes`) and `infill` (re-generate a span given both
sides). Absent conditions leave some condition-encoder weights idle in a step, so DDP needs
`find_unused_parameters=True`.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn
from tqdm.auto import tqdm
from transformers import DynamicCache, LlamaConfig, LlamaModel

from renderer.modeling import PretrainedModel
from seedmusic.conditioning import ConditionConfig, ConditionEncoder, Conditions
from seedmusic.patterns import DelayPattern, causal_mask_rearrange

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class LmConfig:
    """Shape of an `AudioTokenLM`.

    Attributes:
        num_codebooks: K, the RVQ codebooks per frame.
        codebook_size: C, codes per codebook.
        hidden_size: transformer width H.
        num_layers: transformer blocks.
        num_heads: attention heads (must divide `hidden_size`).
        num_kv_heads: key/value heads (grouped-query attention; must divide `num_heads`).
        intermediate_size: MLP width.
        max_positions: longest input (prefix + BOS + delayed steps).
        rope_theta: RoPE base.
        num_mask_tokens: mask tokens `<M_1> ...` for causal-masking infill.
        conditions: the condition encoder's config.
    """

    num_codebooks: int = 4
    codebook_size: int = 1024
    hidden_size: int = 512
    num_layers: int = 8
    num_heads: int = 8
    num_kv_heads: int = 8
    intermediate_size: int = 1408
    max_positions: int = 4096
    rope_theta: float = 10000.0
    num_mask_tokens: int = 4
    conditions: ConditionConfig = field(default_factory=ConditionConfig)

    def __post_init__(self) -> None:
        sizes = {
            "num_codebooks": self.num_codebooks,
            "codebook_size": self.codebook_size,
            "hidden_size": self.hidden_size,
            "num_layers": self.num_layers,
            "num_heads": self.num_heads,
            "num_kv_heads": self.num_kv_heads,
            "intermediate_size": self.intermediate_size,
            "max_positions": self.max_positions,
        }
        for name, value in sizes.items():
            if value < 1:
                raise ValueError(f"{name} must be >= 1, got {value}")
        if self.hidden_size % self.num_heads or (self.hidden_size // self.num_heads) % 2:
            raise ValueError(
                f"hidden_size {self.hidden_size} must split into {self.num_heads} heads of even width"
            )
        if self.num_heads % self.num_kv_heads:
            raise ValueError(
                f"num_kv_heads {self.num_kv_heads} must divide num_heads {self.num_heads}"
            )
        if self.num_mask_tokens < 0:
            raise ValueError(f"num_mask_tokens must be >= 0, got {self.num_mask_tokens}")

    @classmethod
    def tiny(cls) -> LmConfig:
        """2 layers, width 32, K = 4 codebooks of 16 codes: for tests and smoke runs."""
        return cls(
            num_codebooks=4,
            codebook_size=16,
            hidden_size=32,
            num_layers=2,
            num_heads=4,
            num_kv_heads=2,
            intermediate_size=64,
            max_positions=512,
            conditions=ConditionConfig.tiny(),
        )

    @property
    def pad_id(self) -> int:
        return self.codebook_size

    @property
    def bos_id(self) -> int:
        return self.codebook_size + 1

    @property
    def mask_token_ids(self) -> tuple[int, ...]:
        first = self.codebook_size + 2
        return tuple(range(first, first + self.num_mask_tokens))

    @property
    def vocab_size(self) -> int:
        """Ids per codebook: C codes + pad + bos + mask tokens."""
        return self.codebook_size + 2 + self.num_mask_tokens


@dataclass(frozen=True)
class SamplingOptions:
    """How `AudioTokenLM` samples (see `AudioTokenLM.generate` for the meaning)."""

    temperature: float = 1.0
    top_k: int | None = 250
    top_p: float | None = None
    guidance_scale: float = 1.0
    use_cache: bool = True
    progress: bool = False


def sample_logits(
    logits: torch.Tensor,
    temperature: float = 1.0,
    top_k: int | None = None,
    top_p: float | None = None,
    generator: torch.Generator | None = None,
) -> torch.Tensor:
    """Sample one id per row of `logits [N, V]` -> `[N]`.

    `temperature == 0` is greedy (argmax). Otherwise the logits are divided by the
    temperature, restricted to the `top_k` largest and then to the smallest set whose
    probability reaches `top_p` (nucleus), and sampled with `generator`.
    """
    if temperature < 0:
        raise ValueError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and top_k < 1:
        raise ValueError(f"top_k must be >= 1, got {top_k}")
    if top_p is not None and not 0.0 < top_p <= 1.0:
        raise ValueError(f"top_p must be in (0, 1], got {top_p}")
    if temperature == 0:
        return logits.argmax(dim=-1)
    logits = logits.float() / temperature
    if top_k is not None and top_k < logits.shape[-1]:
        kth = torch.topk(logits, top_k, dim=-1).values[..., -1:]  # [N, 1]
        logits = logits.masked_fill(logits < kth, float("-inf"))
    if top_p is not None and top_p < 1.0:
        sorted_logits, order = torch.sort(logits, dim=-1, descending=True)
        probs = sorted_logits.softmax(dim=-1)
        # Drop a token when the tokens ranked above it already reach top_p (keeps >= 1).
        drop_sorted = probs.cumsum(dim=-1) - probs >= top_p
        drop = torch.zeros_like(drop_sorted).scatter(-1, order, drop_sorted)
        logits = logits.masked_fill(drop, float("-inf"))
    probs = logits.softmax(dim=-1)
    return torch.multinomial(probs, 1, generator=generator)[:, 0]


class AudioTokenLM(nn.Module, PretrainedModel):
    """Conditions -> audio tokens over the delay pattern (see the module docstring)."""

    config_class = LmConfig

    def __init__(self, config: LmConfig) -> None:
        super().__init__()
        self.config = config
        self.pattern = DelayPattern(config.num_codebooks)
        hidden = config.hidden_size
        self.condition_encoder = ConditionEncoder(
            config.conditions, hidden, config.num_codebooks, config.codebook_size
        )
        tables = [nn.Embedding(config.vocab_size, hidden) for _ in range(config.num_codebooks)]
        for table in tables:
            nn.init.normal_(table.weight, std=0.02)
        self.token_embeddings = nn.ModuleList(tables)
        self.backbone = llama_backbone(
            hidden,
            config.intermediate_size,
            config.num_layers,
            config.num_heads,
            config.num_kv_heads,
            config.max_positions,
            config.rope_theta,
        )
        self.heads = nn.ModuleList(
            nn.Linear(hidden, config.vocab_size, bias=False) for _ in range(config.num_codebooks)
        )

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    # ------------------------------------------------------------------ building blocks

    def embed_tokens(self, tokens: torch.Tensor) -> torch.Tensor:
        """Sum the K codebook embeddings: tokens `[B, K, L]` -> `[B, L, H]`."""
        return sum(table(tokens[:, k]) for k, table in enumerate(self.token_embeddings))

    def _head_logits(self, hidden: torch.Tensor) -> torch.Tensor:
        """Hidden `[B, L, H]` -> logits `[B, K, L, V]`."""
        return torch.stack([head(hidden) for head in self.heads], dim=1)

    def _start(
        self, conditions: Sequence[Conditions], drop_all: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Prefix + BOS: embeddings `[B, P + 1, H]` and mask `[B, P + 1]`."""
        prefix, mask = self.condition_encoder(conditions, drop_all=drop_all)
        batch = prefix.shape[0]
        bos = torch.full(
            (batch, self.config.num_codebooks, 1), self.config.bos_id, device=self.device
        )
        embeds = torch.cat([prefix, self.embed_tokens(bos)], dim=1)
        mask = torch.cat([mask, torch.ones(batch, 1, dtype=torch.bool, device=self.device)], dim=1)
        return embeds, mask

    def _backbone(
        self,
        embeds: torch.Tensor,
        mask: torch.Tensor,
        cache: DynamicCache | None = None,
    ) -> torch.Tensor:
        """Run the transformer on `embeds [B, n, H]`; `mask [B, past + n]` covers the cache too.

        Position ids count real (unmasked) positions only, so prefix padding does not shift
        the positions of what follows it.
        """
        return run_backbone(self.backbone, embeds, mask, cache)

    def _check_tokens(self, delayed_codes: torch.Tensor, batch: int) -> None:
        expected = f"[B={batch}, K={self.config.num_codebooks}, L >= 1]"
        if delayed_codes.ndim != 3 or delayed_codes.shape[0] != batch:
            raise ValueError(
                f"delayed_codes must have shape {expected}, got {tuple(delayed_codes.shape)}"
            )
        if delayed_codes.shape[1] != self.config.num_codebooks or delayed_codes.shape[2] < 1:
            raise ValueError(
                f"delayed_codes must have shape {expected}, got {tuple(delayed_codes.shape)}"
            )
        if int(delayed_codes.min()) < 0 or int(delayed_codes.max()) >= self.config.vocab_size:
            raise ValueError(f"delayed_codes must lie in [0, {self.config.vocab_size})")

    def _check_codes(self, codes: torch.Tensor, batch: int, name: str) -> None:
        expected = f"[B={batch}, K={self.config.num_codebooks}, T]"
        if codes.ndim != 3 or tuple(codes.shape[:2]) != (batch, self.config.num_codebooks):
            raise ValueError(f"{name} must have shape {expected}, got {tuple(codes.shape)}")
        if codes.numel() and (
            int(codes.min()) < 0 or int(codes.max()) >= self.config.codebook_size
        ):
            raise ValueError(f"{name} must lie in [0, {self.config.codebook_size})")

    # ------------------------------------------------------------------ training

    def forward(
        self, conditions: Sequence[Conditions], delayed_codes: torch.Tensor
    ) -> torch.Tensor:
        """Teacher-forced logits.

        Args:
            conditions: B samples' conditions.
            delayed_codes: `[B, K, L]` delayed tokens (`DelayPattern.apply` with `pad_id`, or
                a causal-masking rearrangement).

        Returns:
            logits `[B, K, L, V]`; position j predicts `delayed_codes[:, :, j]` from the
            conditions and steps `< j`.
        """
        self._check_tokens(delayed_codes, len(conditions))
        start, start_mask = self._start(conditions)
        steps = delayed_codes.shape[2]
        inputs = torch.cat([start, self.embed_tokens(delayed_codes[:, :, :-1])], dim=1)
        ones = torch.ones(len(conditions), steps - 1, dtype=torch.bool, device=self.device)
        hidden = self._backbone(inputs, torch.cat([start_mask, ones], dim=1))
        return self._head_logits(hidden[:, start.shape[1] - 1 :])

    def loss(self, conditions: Sequence[Conditions], delayed_codes: torch.Tensor) -> torch.Tensor:
        """Mean cross-entropy over every non-pad target of `delayed_codes [B, K, L]`.

        Pad positions (outside the delay pattern, or padding after a short sample) are
        ignored. In training mode the condition encoder drops conditions for CFG.
        """
        logits = self(conditions, delayed_codes)  # [B, K, L, V]
        return F.cross_entropy(
            logits.reshape(-1, self.config.vocab_size),
            delayed_codes.reshape(-1),
            ignore_index=self.config.pad_id,
        )

    def delay(self, codes: torch.Tensor) -> torch.Tensor:
        """Codes `[B, K, T]` -> delayed `[B, K, T + K - 1]` with this model's pad id."""
        return self.pattern.apply(codes, self.config.pad_id)

    # ------------------------------------------------------------------ sampling

    @torch.no_grad()
    def generate(
        self,
        conditions: Sequence[Conditions],
        num_frames: int,
        temperature: float = 1.0,
        top_k: int | None = 250,
        top_p: float | None = None,
        guidance_scale: float = 1.0,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
        progress: bool = False,
        prompt_codes: torch.Tensor | None = None,
    ) -> torch.Tensor:
        """Sample codes `[B, K, num_frames]` autoregressively over the delay pattern.

        Args:
            conditions: B samples' conditions.
            num_frames: T, frames to generate.
            temperature: 0 is greedy.
            top_k: keep the k most likely codes (None: all).
            top_p: nucleus sampling threshold (None: off).
            guidance_scale: classifier-free guidance; 1 is plain conditional sampling. Otherwise
                a null-conditioned copy of the batch runs alongside and the logits become
                `null + scale * (cond - null)`.
            generator: random source (on the model's device) for reproducible sampling.
            use_cache: reuse keys/values between steps (False recomputes everything: slow,
                for checking).
            progress: show a tqdm bar over the steps.
            prompt_codes: codes `[B, K, T_p]` to continue (the delay pattern runs over prompt
                and continuation together; the prompt's codes are forced where they fall).

        Returns:
            The new codes (after the prompt, if any) in `[0, C)`, shape `[B, K, T]`, on the
            model's device.
        """
        cfg = self.config
        options = SamplingOptions(temperature, top_k, top_p, guidance_scale, use_cache, progress)
        if num_frames < 1:
            raise ValueError(f"num_frames must be >= 1, got {num_frames}")
        if prompt_codes is None:
            prompt_codes = torch.empty(len(conditions), cfg.num_codebooks, 0, dtype=torch.long)
        self._check_codes(prompt_codes, len(conditions), "prompt_codes")
        prompt_frames = prompt_codes.shape[2]
        frames = torch.zeros(len(conditions), cfg.num_codebooks, num_frames, dtype=torch.long)
        full = self.delay(torch.cat([prompt_codes.cpu(), frames], dim=2)).to(self.device)
        # Columns < T_p are wholly known; after them the prompt still fills the lower-right
        # triangle of the pattern (codebook k's frames t < T_p sit at columns t + k).
        valid = self.pattern.valid_mask(prompt_frames + num_frames)[:, prompt_frames:]
        steps = np.arange(prompt_frames, prompt_frames + valid.shape[1])[None, :]
        known = steps - np.arange(cfg.num_codebooks)[:, None] < prompt_frames
        free = torch.from_numpy(valid & ~known).to(self.device)  # [K, T + K - 1]
        tokens = self._sample(
            conditions,
            full[:, :, :prompt_frames],
            full[:, :, prompt_frames:],
            free,
            options,
            generator,
        )
        delayed = torch.cat([full[:, :, :prompt_frames], tokens], dim=2)
        return self.pattern.revert(delayed, pad_id=cfg.pad_id)[:, :, prompt_frames:]

    @torch.no_grad()
    def infill(
        self,
        conditions: Sequence[Conditions],
        codes: torch.Tensor,
        span: tuple[int, int],
        num_new_frames: int | None = None,
        temperature: float = 1.0,
        top_k: int | None = 250,
        top_p: float | None = None,
        guidance_scale: float = 1.0,
        generator: torch.Generator | None = None,
        use_cache: bool = True,
    ) -> torch.Tensor:
        """Re-generate frames `span = (start, end)` of `codes [B, K, T]` given both sides.

        The prompt is the causal-masking layout `D(S_0) <M_1> D(S_1) <M_1>` (see
        `seedmusic.patterns.causal_mask_rearrange`), after which the model writes the delayed
        span; a span that ends at T is a continuation. Needs a model trained with causal
        masking and at least one mask token.

        Args:
            conditions: B samples' conditions.
            codes: the codes to edit, `[B, K, T]`, all in `[0, C)`.
            span: the half-open frame range to replace.
            num_new_frames: frames to write in its place (default: the span's length).
            temperature, top_k, top_p, guidance_scale, generator, use_cache: as in `generate`.

        Returns:
            The edited codes `[B, K, T - (end - start) + num_new_frames]`.
        """
        cfg = self.config
        if not cfg.mask_token_ids:
            raise ValueError("infill needs a model with num_mask_tokens >= 1")
        self._check_codes(codes, len(conditions), "codes")
        start, end = span
        new_frames = end - start if num_new_frames is None else num_new_frames
        if new_frames < 1:
            raise ValueError(f"num_new_frames must be >= 1, got {new_frames}")
        prompts = []
        for sample in codes:
            rearranged = causal_mask_rearrange(sample, [span], cfg.mask_token_ids, cfg.pad_id)
            prompts.append(
                rearranged[:, : _second_mask_column(rearranged, cfg.mask_token_ids[0]) + 1]
            )
        options = SamplingOptions(temperature, top_k, top_p, guidance_scale, use_cache, False)
        prompt = torch.stack(prompts).to(self.device)  # [B, K, Lp]
        steps = self.pattern.delayed_length(new_frames)
        pads = torch.full(
            (len(conditions), cfg.num_codebooks, steps), cfg.pad_id, device=self.device
        )
        free = torch.from_numpy(self.pattern.valid_mask(new_frames)).to(self.device)
        delayed = self._sample(conditions, prompt, pads, free, options, generator)
        middle = self.pattern.revert(delayed, pad_id=cfg.pad_id).to(codes.device)
        return torch.cat([codes[:, :, :start], middle, codes[:, :, end:]], dim=2)

    def _cfg_start(
        self, conditions: Sequence[Conditions], guided: bool
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Prefix + BOS for sampling; with guidance the null-conditioned copy is appended."""
        embeds, mask = self._start(conditions)
        if not guided:
            return embeds, mask
        null_embeds, null_mask = self._start(conditions, drop_all=True)
        length = max(embeds.shape[1], null_embeds.shape[1])
        # Pad each half's prefix in front of its BOS so that BOS stays the last position.
        halves = [
            self._pad_prefix(e, m, length) for e, m in ((embeds, mask), (null_embeds, null_mask))
        ]
        return torch.cat([h[0] for h in halves]), torch.cat([h[1] for h in halves])

    @staticmethod
    def _pad_prefix(
        embeds: torch.Tensor, mask: torch.Tensor, length: int
    ) -> tuple[torch.Tensor, torch.Tensor]:
        extra = length - embeds.shape[1]
        if extra == 0:
            return embeds, mask
        pad_embeds = embeds.new_zeros(embeds.shape[0], extra, embeds.shape[2])
        pad_mask = mask.new_zeros(mask.shape[0], extra)
        embeds = torch.cat([embeds[:, :-1], pad_embeds, embeds[:, -1:]], dim=1)
        mask = torch.cat([mask[:, :-1], pad_mask, mask[:, -1:]], dim=1)
        return embeds, mask

    def _next_logits(self, hidden: torch.Tensor, batch: int, guidance_scale: float) -> torch.Tensor:
        """Last hidden state `[N, H]` -> (guided) logits `[B, K, V]`."""
        logits = self._head_logits(hidden[:, None])[:, :, 0].float()  # [N, K, V]
        if logits.shape[0] == batch:
            return logits
        cond, null = logits[:batch], logits[batch:]
        return null + guidance_scale * (cond - null)

    def _sample(
        self,
        conditions: Sequence[Conditions],
        prompt: torch.Tensor,
        forced: torch.Tensor,
        free: torch.Tensor,
        options: SamplingOptions,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        """Sample the steps after `prompt [B, K, Lp]`.

        Args:
            prompt: token columns fed (after prefix and BOS) before sampling starts.
            forced: `[B, K, L]` tokens written where `free` is False (pad or known codes).
            free: `[K, L]` True where a code is sampled.

        Returns:
            The L sampled/forced columns `[B, K, L]`.
        """
        if options.guidance_scale < 0:
            raise ValueError(f"guidance_scale must be >= 0, got {options.guidance_scale}")
        was_training = self.training
        self.eval()
        try:
            return self._sampling_loop(conditions, prompt, forced, free, options, generator)
        finally:
            self.train(was_training)

    def _sampling_loop(
        self,
        conditions: Sequence[Conditions],
        prompt: torch.Tensor,
        forced: torch.Tensor,
        free: torch.Tensor,
        options: SamplingOptions,
        generator: torch.Generator | None,
    ) -> torch.Tensor:
        batch, cfg = len(conditions), self.config
        start, mask = self._cfg_start(conditions, options.guidance_scale != 1.0)
        copies = start.shape[0] // batch
        steps = forced.shape[2]
        if mask.shape[1] + prompt.shape[2] + steps - 1 > cfg.max_positions:
            raise ValueError(
                f"{steps} steps after a prompt of {prompt.shape[2]} exceed "
                f"max_positions {cfg.max_positions}"
            )
        start = torch.cat([start, self.embed_tokens(prompt.repeat(copies, 1, 1))], dim=1)
        mask = torch.cat([mask, mask.new_ones(mask.shape[0], prompt.shape[2])], dim=1)
        cache = DynamicCache(config=self.backbone.config) if options.use_cache else None
        hidden = self._backbone(start, mask, cache)[:, -1]  # [N, H]
        tokens = torch.empty(batch, cfg.num_codebooks, 0, dtype=torch.long, device=self.device)
        for step in tqdm(range(steps), desc="lm", disable=not options.progress, leave=False):
            logits = self._next_logits(hidden, batch, options.guidance_scale)  # [B, K, V]
            logits[..., cfg.codebook_size :] = float("-inf")  # codes only
            flat = sample_logits(
                logits.reshape(-1, cfg.vocab_size),
                options.temperature,
                options.top_k,
                options.top_p,
                generator,
            )
            column = flat.view(batch, cfg.num_codebooks)
            column = torch.where(free[:, step], column, forced[:, :, step])
            tokens = torch.cat([tokens, column[:, :, None]], dim=2)
            if step == steps - 1:
                break
            mask = torch.cat([mask, mask.new_ones(mask.shape[0], 1)], dim=1)
            if cache is not None:
                new = self.embed_tokens(column[:, :, None].repeat(copies, 1, 1))  # [N, 1, H]
                hidden = self._backbone(new, mask, cache)[:, -1]
            else:
                embeds = torch.cat([start, self.embed_tokens(tokens.repeat(copies, 1, 1))], dim=1)
                hidden = self._backbone(embeds, mask)[:, -1]
        return tokens


def llama_backbone(
    hidden: int,
    intermediate: int,
    layers: int,
    heads: int,
    kv_heads: int,
    max_positions: int,
    rope_theta: float,
) -> LlamaModel:
    """A `LlamaModel` (SDPA attention) driven by `inputs_embeds`: its token table is dropped so
    that no weight goes unused."""
    llama_config = LlamaConfig(
        vocab_size=1,
        hidden_size=hidden,
        intermediate_size=intermediate,
        num_hidden_layers=layers,
        num_attention_heads=heads,
        num_key_value_heads=kv_heads,
        max_position_embeddings=max_positions,
        rope_parameters={"rope_type": "default", "rope_theta": rope_theta},
        bos_token_id=None,
        eos_token_id=None,
        pad_token_id=None,
    )
    llama_config._attn_implementation = "sdpa"
    backbone = LlamaModel(llama_config)
    backbone.embed_tokens = None  # type: ignore[assignment]
    return backbone


def run_backbone(
    backbone: LlamaModel,
    embeds: torch.Tensor,
    mask: torch.Tensor,
    cache: DynamicCache | None = None,
) -> torch.Tensor:
    """Run `backbone` on `embeds [B, n, H]`; `mask [B, past + n]` covers the cache too.

    Position ids count real (unmasked) positions only, so prefix padding does not shift the
    positions of what follows it.
    """
    limit = backbone.config.max_position_embeddings
    if mask.shape[1] > limit:
        raise ValueError(f"sequence of {mask.shape[1]} positions exceeds max_positions {limit}")
    positions = (mask.long().cumsum(dim=-1) - 1).clamp(min=0)[:, -embeds.shape[1] :]
    out = backbone(
        inputs_embeds=embeds,
        attention_mask=mask.long(),
        position_ids=positions,
        past_key_values=cache,
        use_cache=cache is not None,
    )
    return out.last_hidden_state


def _second_mask_column(rearranged: torch.Tensor, mask_id: int) -> int:
    """Index of the second column made of `mask_id` (where the moved span begins)."""
    columns = (rearranged == mask_id).all(dim=0).nonzero()[:, 0]  # [2]
    return int(columns[1])
