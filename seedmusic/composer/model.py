"""The composer LM: conditions + grammar state -> the next lead-sheet token.

A decoder-only transformer (transformers' `LlamaModel` through `inputs_embeds`, SDPA attention,
KV cache) over lead-sheet tokens (`seedmusic.composer.leadsheet`). The input of one sample is

    [condition prefix (P positions)] [BOS] [token 1] ... [token L-1]

- the prefix is the project's `ConditionEncoder` (DESIGN §7): style tags through a lookup
  table, the text vector of `--prompt` (all-MiniLM-L6-v2, 384-d) projected, and xVal numbers
  (tempo in bpm, number of bars); absent or dropped conditions are learned null positions, so
  classifier-free guidance works;
- every token embedding gets the sum of the grammar state's feature embeddings
  (`LeadSheetGrammar.features`: section, the next syllable's stress, word and line starts,
  syllables left in the line and the section, bars into the section, melisma state): the lyric
  syllables reach the model aligned with the step that sings them, the way a singing synthesiser
  gets its phonemes frame by frame, instead of as a prefix it would have to align by attention.

Position j of `forward`'s logits predicts token j+1 (teacher forcing); `step` runs one
position with a KV cache for decoding.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

import torch
import torch.nn.functional as F
from torch import nn
from transformers import DynamicCache

from renderer.modeling import PretrainedModel
from seedmusic.composer.grammar import FEATURE_SIZES
from seedmusic.composer.leadsheet import PAD, TOKEN_ID, VOCAB
from seedmusic.composer.style import GENRES, MOODS, VOICES
from seedmusic.conditioning import ConditionConfig, ConditionEncoder, Conditions
from seedmusic.lm import llama_backbone, run_backbone

COMPOSER_TAGS: tuple[str, ...] = (*GENRES, *VOICES, *MOODS)
NUMBER_NAMES: tuple[str, ...] = ("tempo_bpm", "bars")
NUMBER_RANGES: tuple[tuple[float, float], ...] = ((40.0, 240.0), (8.0, 160.0))


def composer_conditions(dropout: float = 0.1, text_dim: int = 384) -> ConditionConfig:
    """The condition encoder config of the composer: its tags, the text vector, tempo and bars."""
    return ConditionConfig(
        style_tags=COMPOSER_TAGS,
        max_style_tags=6,
        text_dim=text_dim,
        number_names=NUMBER_NAMES,
        number_ranges=NUMBER_RANGES,
        phonemes=("AA",),
        max_phonemes=1,
        max_reference_frames=1,
        dropout=dropout,
    )


@dataclass(frozen=True)
class ComposerConfig:
    """Shape of a `ComposerLM` (the vocabulary is fixed by `leadsheet.VOCAB`)."""

    vocab_size: int = len(VOCAB)
    hidden_size: int = 256
    num_layers: int = 6
    num_heads: int = 8
    num_kv_heads: int = 4
    intermediate_size: int = 704
    max_positions: int = 4096
    rope_theta: float = 10000.0
    feature_sizes: tuple[int, ...] = FEATURE_SIZES
    conditions: ConditionConfig = field(default_factory=composer_conditions)

    def __post_init__(self) -> None:
        if self.vocab_size != len(VOCAB):
            raise ValueError(
                f"vocab_size {self.vocab_size} does not match the lead-sheet vocabulary ({len(VOCAB)})"
            )
        if self.feature_sizes != FEATURE_SIZES:
            raise ValueError("feature_sizes do not match this version's grammar features")
        if self.hidden_size % self.num_heads or self.num_heads % self.num_kv_heads:
            raise ValueError("hidden_size must split into num_heads, a multiple of num_kv_heads")

    @classmethod
    def tiny(cls) -> ComposerConfig:
        """2 layers, width 32: for tests and smoke runs."""
        return cls(
            hidden_size=32,
            num_layers=2,
            num_heads=4,
            num_kv_heads=2,
            intermediate_size=64,
            max_positions=2048,
            conditions=composer_conditions(text_dim=16),
        )


class ComposerLM(nn.Module, PretrainedModel):
    """Lead-sheet token LM with a condition prefix and grammar-state features."""

    config_class = ComposerConfig

    def __init__(self, config: ComposerConfig) -> None:
        super().__init__()
        self.config = config
        hidden = config.hidden_size
        self.condition_encoder = ConditionEncoder(config.conditions, hidden, 1, 1)
        self.token_embedding = nn.Embedding(config.vocab_size, hidden)
        self.feature_embeddings = nn.ModuleList(
            nn.Embedding(n, hidden) for n in config.feature_sizes
        )
        for table in [self.token_embedding, *self.feature_embeddings]:
            nn.init.normal_(table.weight, std=0.02)
        self.backbone = llama_backbone(
            hidden,
            config.intermediate_size,
            config.num_layers,
            config.num_heads,
            config.num_kv_heads,
            config.max_positions,
            config.rope_theta,
        )
        self.head = nn.Linear(hidden, config.vocab_size, bias=False)

    @property
    def device(self) -> torch.device:
        return next(self.parameters()).device

    def embed(self, tokens: torch.Tensor, features: torch.Tensor) -> torch.Tensor:
        """tokens `[B, L]` + features `[B, L, F]` -> `[B, L, H]`."""
        out = self.token_embedding(tokens)
        for index, table in enumerate(self.feature_embeddings):
            out = out + table(features[..., index])
        return out

    def prefix(
        self, conditions: Sequence[Conditions], drop_all: bool = False
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Condition prefix `[B, P, H]` and its mask `[B, P]`."""
        return self.condition_encoder(conditions, drop_all=drop_all)

    def _run(
        self, embeds: torch.Tensor, mask: torch.Tensor, cache: DynamicCache | None = None
    ) -> torch.Tensor:
        return run_backbone(self.backbone, embeds, mask, cache)

    def forward(
        self,
        conditions: Sequence[Conditions],
        tokens: torch.Tensor,
        features: torch.Tensor,
        lengths: torch.Tensor,
    ) -> torch.Tensor:
        """Teacher-forced logits `[B, L, V]`: position j predicts `tokens[:, j + 1]`.

        Args:
            tokens: `[B, L]` ids starting with BOS, PAD after each sample's `lengths`.
            features: `[B, L, F]` grammar features of the state after each token.
            lengths: `[B]` real tokens per sample.
        """
        prefix, prefix_mask = self.prefix(conditions)
        L = tokens.shape[1]
        real = torch.arange(L, device=tokens.device)[None, :] < lengths[:, None]  # [B, L]
        embeds = torch.cat([prefix, self.embed(tokens, features)], dim=1)
        hidden = self._run(embeds, torch.cat([prefix_mask, real], dim=1))
        return self.head(hidden[:, prefix.shape[1] :])

    def loss(
        self,
        conditions: Sequence[Conditions],
        tokens: torch.Tensor,
        features: torch.Tensor,
        lengths: torch.Tensor,
    ) -> torch.Tensor:
        """Mean cross-entropy of every next token (PAD targets ignored)."""
        logits = self(conditions, tokens, features, lengths)[:, :-1]
        targets = tokens[:, 1:]
        return F.cross_entropy(
            logits.reshape(-1, self.config.vocab_size),
            targets.reshape(-1),
            ignore_index=TOKEN_ID[PAD],
        )

    @torch.no_grad()
    def start(
        self, conditions: Sequence[Conditions], drop_all: bool = False
    ) -> tuple[DynamicCache, torch.Tensor]:
        """A KV cache holding the prefix, and its mask, ready for `step`."""
        prefix, mask = self.prefix(conditions, drop_all=drop_all)
        cache = DynamicCache()
        self._run(prefix, mask, cache)
        return cache, mask

    @torch.no_grad()
    def step(
        self, cache: DynamicCache, mask: torch.Tensor, tokens: torch.Tensor, features: torch.Tensor
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Feed tokens `[B, n]` with features `[B, n, F]`; returns last logits `[B, V]` and the mask."""
        ones = torch.ones(mask.shape[0], tokens.shape[1], dtype=torch.bool, device=mask.device)
        mask = torch.cat([mask, ones], dim=1)
        hidden = self._run(self.embed(tokens, features), mask, cache)
        return self.head(hidden[:, -1]), mask


def next_token_loss(logits: torch.Tensor, tokens: torch.Tensor) -> torch.Tensor:
    """Cross-entropy of logits `[B, L, V]` against the next tokens of `tokens [B, L]` (PAD ignored)."""
    return F.cross_entropy(
        logits[:, :-1].reshape(-1, logits.shape[-1]),
        tokens[:, 1:].reshape(-1),
        ignore_index=TOKEN_ID[PAD],
    )
