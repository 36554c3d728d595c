"""Conditions -> prefix embeddings for the language model.

A `Conditions` holds what a user asks for: style tags, a free-text embedding, numbers (tempo,
duration, ...), lyric phonemes and a reference clip's audio codes. `ConditionEncoder` turns a
batch of them into prefix embeddings `[B, P, H]` and a mask `[B, P]` (True = a real position),
which the LM splices in front of the audio tokens.

Per sample the prefix is the concatenation, in this order, of

    style      one position per tag (lookup table over the config's closed tag list)
    text       one position: the precomputed text vector (e.g. 384-d all-MiniLM-L6-v2), projected
    numbers    one position per configured number, xVal-encoded (see below)
    phonemes   one position per phoneme (lookup table over the config's phoneme list)
    reference  one position per reference frame (K codebook embeddings summed), or one pooled
               track-level position (mean over frames, projected)

followed by padding up to the longest prefix in the batch (so the real positions of every
sample are contiguous and start at 0). Every position also gets a learned embedding of its
condition kind, so the model knows what it is looking at.

A condition that is absent (no tags, no text, a number left out, ...) or dropped becomes ONE
position holding that condition's learned null embedding. Dropping happens for every condition
independently with probability `dropout` while the module is training (classifier-free guidance
training), and for all of them with `drop_all=True` (the unconditional half of CFG sampling).

Numbers use xVal (Golkar et al. 2023): one learned `[NUM]` embedding is multiplied by the
normalised value, `x_norm = clip(2 * (x - lo) / (hi - lo) - 1, -1, 1)` with `(lo, hi)` the
number's range in the config, and a learned per-number name embedding is added to say which
quantity it is.

Not every parameter is used in every step (an absent text vector leaves its projection idle):
DDP training must pass `find_unused_parameters=True`.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import torch
from torch import nn

logger = logging.getLogger(__name__)

DEFAULT_STYLE_TAGS: tuple[str, ...] = (
    # genres
    "pop", "rock", "jazz", "blues", "classical", "folk", "country", "electronic", "hip hop",
    "r&b", "soul", "funk", "metal", "punk", "reggae", "latin", "ambient", "orchestral",
    "children", "hymn",
    # voices and instruments
    "female vocal", "male vocal", "choir", "instrumental", "piano", "guitar", "acoustic guitar",
    "electric guitar", "bass", "drums", "strings",
    # moods and energy
    "happy", "sad", "calm", "energetic", "romantic", "dark", "epic", "dreamy", "upbeat", "slow",
    "fast",
)  # fmt: skip
"""The closed style vocabulary of the default config (lower case)."""

ARPABET: tuple[str, ...] = (
    "AA", "AE", "AH", "AO", "AW", "AY", "B", "CH", "D", "DH", "EH", "ER", "EY", "F", "G", "HH",
    "IH", "IY", "JH", "K", "L", "M", "N", "NG", "OW", "OY", "P", "R", "S", "SH", "T", "TH", "UH",
    "UW", "V", "W", "Y", "Z", "ZH",
)  # fmt: skip
"""The 39 ARPAbet phonemes (CMUdict, stress digits stripped): the default phoneme list."""

CONDITION_KINDS: tuple[str, ...] = ("style", "text", "number", "phoneme", "reference")
_STRESS = re.compile(r"[0-2]$")


@dataclass(frozen=True)
class ConditionConfig:
    """What the condition encoder accepts.

    Attributes:
        style_tags: the closed tag vocabulary (lower case, unique).
        max_style_tags: most tags per sample.
        text_dim: width of the precomputed text vector; 0 disables the text condition.
        number_names: the numbers it accepts, e.g. tempo in bpm and duration in seconds.
        number_ranges: `(lo, hi)` per number: the span mapped onto [-1, 1] by xVal.
        phonemes: the phoneme vocabulary; a phoneme outside it maps to an `<unk>` entry.
        max_phonemes: most phonemes per sample (longer lyrics are an error).
        reference_mode: `"frames"` (one position per reference frame) or `"pooled"` (one
            track-level position).
        max_reference_frames: most reference frames kept in `"frames"` mode (the first ones).
        dropout: per-condition drop probability in training mode (classifier-free guidance).
    """

    style_tags: tuple[str, ...] = DEFAULT_STYLE_TAGS
    max_style_tags: int = 8
    text_dim: int = 384
    number_names: tuple[str, ...] = ("tempo_bpm", "duration_s")
    number_ranges: tuple[tuple[float, float], ...] = ((40.0, 240.0), (0.0, 600.0))
    phonemes: tuple[str, ...] = ARPABET
    max_phonemes: int = 512
    reference_mode: Literal["frames", "pooled"] = "pooled"
    max_reference_frames: int = 256
    dropout: float = 0.1

    def __post_init__(self) -> None:
        if len(set(self.style_tags)) != len(self.style_tags) or not self.style_tags:
            raise ValueError("style_tags must be a non-empty list of unique tags")
        if len(set(self.phonemes)) != len(self.phonemes) or not self.phonemes:
            raise ValueError("phonemes must be a non-empty list of unique symbols")
        if len(self.number_names) != len(self.number_ranges):
            raise ValueError(
                f"number_names {self.number_names} and number_ranges {self.number_ranges} "
                "must have the same length"
            )
        for name, (lo, hi) in zip(self.number_names, self.number_ranges, strict=True):
            if not hi > lo:
                raise ValueError(f"number range of {name!r} must have hi > lo, got ({lo}, {hi})")
        if min(self.max_style_tags, self.max_phonemes, self.max_reference_frames) < 1:
            raise ValueError("max_style_tags, max_phonemes and max_reference_frames must be >= 1")
        if self.text_dim < 0:
            raise ValueError(f"text_dim must be >= 0, got {self.text_dim}")
        if not 0.0 <= self.dropout < 1.0:
            raise ValueError(f"dropout must be in [0, 1), got {self.dropout}")
        if self.reference_mode not in ("frames", "pooled"):
            raise ValueError(
                f"reference_mode must be 'frames' or 'pooled', got {self.reference_mode!r}"
            )

    @classmethod
    def tiny(cls) -> ConditionConfig:
        """A small config for tests: a few tags, a 16-d text vector, few phonemes."""
        return cls(
            style_tags=("pop", "rock", "jazz", "female vocal", "male vocal"),
            max_style_tags=4,
            text_dim=16,
            phonemes=("AA", "AE", "B", "D", "K", "L", "M", "N", "S", "T"),
            max_phonemes=32,
            max_reference_frames=16,
        )


@dataclass(frozen=True, eq=False)
class Conditions:
    """What one generated piece should be (every field optional; compared by identity).

    Attributes:
        style_tags: tags from the config's closed list (case-insensitive).
        text_embedding: a precomputed text vector `[text_dim]` (numpy or torch).
        numbers: values by name, e.g. `{"tempo_bpm": 100.0, "duration_s": 30.0}`.
        phonemes: lyric phonemes in order (ARPAbet stress digits are ignored).
        reference_codes: a reference clip's audio codes `[K, T_ref]` (numpy or torch).
    """

    style_tags: tuple[str, ...] = ()
    text_embedding: np.ndarray | torch.Tensor | None = None
    numbers: Mapping[str, float] = field(default_factory=dict)
    phonemes: tuple[str, ...] = ()
    reference_codes: np.ndarray | torch.Tensor | None = None


class ConditionEncoder(nn.Module):
    """Embeds a batch of `Conditions` as an LM prefix `[B, P, H]` (see the module docstring)."""

    def __init__(
        self, config: ConditionConfig, hidden_size: int, num_codebooks: int, codebook_size: int
    ) -> None:
        super().__init__()
        self.config = config
        self.hidden_size = hidden_size
        self.num_codebooks = num_codebooks
        self.codebook_size = codebook_size
        self._tag_index = {tag.lower(): i for i, tag in enumerate(config.style_tags)}
        self._phoneme_index = {p: i for i, p in enumerate(config.phonemes)}
        self._number_index = {n: i for i, n in enumerate(config.number_names)}
        # Submodules in the order they are called.
        self.kind_embedding = nn.Embedding(len(CONDITION_KINDS), hidden_size)
        self.null_embedding = nn.Embedding(len(CONDITION_KINDS), hidden_size)
        self.style_embedding = nn.Embedding(len(config.style_tags), hidden_size)
        self.text_projection = nn.Linear(config.text_dim, hidden_size) if config.text_dim else None
        self.number_embedding = nn.Parameter(torch.randn(hidden_size) * 0.02)  # xVal [NUM]
        self.number_name_embedding = nn.Embedding(max(1, len(config.number_names)), hidden_size)
        self.phoneme_embedding = nn.Embedding(len(config.phonemes) + 1, hidden_size)  # + <unk>
        self.reference_embedding = nn.Embedding(num_codebooks * codebook_size, hidden_size)
        self.reference_pool = nn.Linear(hidden_size, hidden_size)
        for embedding in (self.kind_embedding, self.null_embedding):
            nn.init.normal_(embedding.weight, std=0.02)

    @property
    def device(self) -> torch.device:
        return self.kind_embedding.weight.device

    # ------------------------------------------------------------------ validation helpers

    def style_ids(self, tags: Sequence[str]) -> list[int]:
        """Tag strings -> ids; unknown tags are a `ValueError` that lists the known ones."""
        ids = []
        for tag in tags:
            key = tag.strip().lower()
            if key not in self._tag_index:
                known = ", ".join(self.config.style_tags)
                raise ValueError(f"unknown style tag {tag!r} (known: {known})")
            ids.append(self._tag_index[key])
        if len(ids) > self.config.max_style_tags:
            raise ValueError(f"{len(ids)} style tags, at most {self.config.max_style_tags}")
        return ids

    def phoneme_ids(self, phonemes: Sequence[str]) -> list[int]:
        """Phonemes -> ids; stress digits are stripped; unknown symbols map to `<unk>`."""
        if len(phonemes) > self.config.max_phonemes:
            raise ValueError(f"{len(phonemes)} phonemes, at most {self.config.max_phonemes}")
        unk = len(self.config.phonemes)
        ids = []
        for p in phonemes:
            index = self._phoneme_index.get(p, self._phoneme_index.get(_STRESS.sub("", p), unk))
            ids.append(index)
        if unk in ids:
            logger.debug("%d phoneme(s) outside the vocabulary mapped to <unk>", ids.count(unk))
        return ids

    def normalise_number(self, name: str, value: float) -> float:
        """xVal normalisation: `clip(2 * (x - lo) / (hi - lo) - 1, -1, 1)`."""
        if name not in self._number_index:
            raise ValueError(
                f"unknown number {name!r} (known: {', '.join(self.config.number_names)})"
            )
        if not np.isfinite(value):
            raise ValueError(f"number {name!r} must be finite, got {value}")
        lo, hi = self.config.number_ranges[self._number_index[name]]
        return float(np.clip(2.0 * (value - lo) / (hi - lo) - 1.0, -1.0, 1.0))

    # ------------------------------------------------------------------ per-condition embeddings

    def _null(self, kind: str) -> torch.Tensor:
        index = torch.tensor([CONDITION_KINDS.index(kind)], device=self.device)
        return self.null_embedding(index)  # [1, H]

    def _style(self, tags: Sequence[str]) -> torch.Tensor:
        ids = self.style_ids(tags)
        if not ids:
            return self._null("style")
        return self.style_embedding(torch.tensor(ids, device=self.device))  # [n_tags, H]

    def _text(self, vector: np.ndarray | torch.Tensor | None) -> torch.Tensor:
        if vector is None or self.text_projection is None:
            if vector is not None:
                raise ValueError("this model has no text condition (text_dim = 0)")
            return self._null("text")
        tensor = torch.as_tensor(vector, dtype=torch.float32, device=self.device)
        if tensor.shape != (self.config.text_dim,):
            raise ValueError(
                f"text_embedding must have shape [{self.config.text_dim}], got {tuple(tensor.shape)}"
            )
        return self.text_projection(tensor)[None]  # [1, H]

    def _numbers(self, numbers: Mapping[str, float], dropped: bool) -> torch.Tensor:
        rows = []
        for name in numbers:
            self.normalise_number(name, numbers[name])  # validate names even when dropped
        for i, name in enumerate(self.config.number_names):
            if dropped or name not in numbers:
                rows.append(self._null("number")[0])
                continue
            x = self.normalise_number(name, float(numbers[name]))
            name_emb = self.number_name_embedding(torch.tensor(i, device=self.device))
            rows.append(name_emb + self.number_embedding * x)
        if not rows:
            return self._null("number")
        return torch.stack(rows)  # [n_numbers, H]

    def _phonemes(self, phonemes: Sequence[str]) -> torch.Tensor:
        ids = self.phoneme_ids(phonemes)
        if not ids:
            return self._null("phoneme")
        return self.phoneme_embedding(torch.tensor(ids, device=self.device))  # [n_phonemes, H]

    def _reference(self, codes: np.ndarray | torch.Tensor | None) -> torch.Tensor:
        if codes is None:
            return self._null("reference")
        tensor = torch.as_tensor(codes, device=self.device).long()
        if tensor.ndim != 2 or tensor.shape[0] != self.num_codebooks or tensor.shape[1] < 1:
            raise ValueError(
                f"reference_codes must have shape [K={self.num_codebooks}, T_ref >= 1], "
                f"got {tuple(tensor.shape)}"
            )
        if int(tensor.min()) < 0 or int(tensor.max()) >= self.codebook_size:
            raise ValueError(f"reference_codes must lie in [0, {self.codebook_size})")
        if self.config.reference_mode == "frames":
            tensor = tensor[:, : self.config.max_reference_frames]
        offsets = torch.arange(self.num_codebooks, device=self.device)[:, None] * self.codebook_size
        frames = self.reference_embedding(tensor + offsets).sum(dim=0)  # [T_ref, H]
        if self.config.reference_mode == "pooled":
            return self.reference_pool(frames.mean(dim=0, keepdim=True))  # [1, H]
        return frames

    def _embed_one(self, conditions: Conditions, drop: Sequence[bool]) -> torch.Tensor:
        """One sample's prefix `[P_i, H]`; `drop[j]` drops `CONDITION_KINDS[j]`.

        Every condition is embedded (and so validated) even when it is then dropped, so a
        bad input fails the same way whatever the dropout draws.
        """
        parts = {
            "style": self._style(conditions.style_tags),
            "text": self._text(conditions.text_embedding),
            "number": self._numbers(conditions.numbers, drop[CONDITION_KINDS.index("number")]),
            "phoneme": self._phonemes(conditions.phonemes),
            "reference": self._reference(conditions.reference_codes),
        }
        rows = []
        for kind, embedding in parts.items():
            index = CONDITION_KINDS.index(kind)
            if drop[index] and kind != "number":  # numbers drop slot by slot, keeping P fixed
                embedding = self._null(kind)
            rows.append(embedding + self.kind_embedding(torch.tensor(index, device=self.device)))
        return torch.cat(rows, dim=0)

    def forward(
        self,
        conditions: Sequence[Conditions],
        drop_all: bool = False,
        generator: torch.Generator | None = None,
    ) -> tuple[torch.Tensor, torch.Tensor]:
        """Embed a batch of conditions.

        Args:
            conditions: B samples.
            drop_all: replace every condition by its null embedding (unconditional prefix).
            generator: random source for training-mode dropout (CPU generator).

        Returns:
            `prefix [B, P, H]` (zeros at padding) and `mask [B, P]` (True = real position).
        """
        if not conditions:
            raise ValueError("conditions must hold at least one sample")
        num_kinds = len(CONDITION_KINDS)
        if drop_all:
            drops = torch.ones(len(conditions), num_kinds, dtype=torch.bool)
        elif self.training and self.config.dropout > 0:
            drops = (
                torch.rand(len(conditions), num_kinds, generator=generator) < self.config.dropout
            )
        else:
            drops = torch.zeros(len(conditions), num_kinds, dtype=torch.bool)
        samples = [self._embed_one(c, d.tolist()) for c, d in zip(conditions, drops, strict=True)]
        length = max(s.shape[0] for s in samples)
        prefix = torch.zeros(len(samples), length, self.hidden_size, device=self.device)
        mask = torch.zeros(len(samples), length, dtype=torch.bool, device=self.device)
        for i, sample in enumerate(samples):
            prefix[i, : sample.shape[0]] = sample
            mask[i, : sample.shape[0]] = True
        return prefix, mask


def parse_style(text: str, config: ConditionConfig) -> tuple[tuple[str, ...], dict[str, float]]:
    """Split a style string like `"pop, female vocal, 100 bpm"` into tags and numbers.

    Comma-separated items; `<x> bpm` sets `tempo_bpm` and `<x> s`/`<x> sec` sets `duration_s`
    when the config has those numbers. Anything else must be a known tag (case-insensitive).

    Raises:
        ValueError: for an item that is neither a known tag nor a number, naming the item.
    """
    tags: list[str] = []
    numbers: dict[str, float] = {}
    known = {t.lower() for t in config.style_tags}
    units = {"bpm": "tempo_bpm", "s": "duration_s", "sec": "duration_s", "seconds": "duration_s"}
    for raw in text.split(","):
        item = raw.strip().lower()
        if not item:
            continue
        match = re.fullmatch(r"(\d+(?:\.\d+)?)\s*(bpm|s|sec|seconds)", item)
        if match and units[match.group(2)] in config.number_names:
            numbers[units[match.group(2)]] = float(match.group(1))
        elif item in known:
            tags.append(item)
        else:
            raise ValueError(
                f"unknown style {raw.strip()!r} (known tags: {', '.join(config.style_tags)})"
            )
    return tuple(tags), numbers
