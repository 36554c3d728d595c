"""Grammar-constrained sampling of lead-sheet tokens from a scorer (the LM or an n-gram baseline).

At every step the scorer's distribution is masked to `LeadSheetGrammar.allowed()` (so every
output decodes and every syllable is sung once, in order), divided by the temperature, cut to
its top-p nucleus and sampled with a seeded generator. A token that the grammar forces (the only
one allowed) is taken without sampling; a section whose words equal an earlier section's is
copied from it token for token (a repeated chorus keeps its melody), as long as the grammar
accepts the copy.

Scorers:
- `LmScorer`: the `ComposerLM` with a KV cache; optional classifier-free guidance (a second,
  unconditional stream: `logits_u + g * (logits_c - logits_u)`).
- `NGramScorer`: an `NGramLM` over the same tokens (the classic baseline).
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

import numpy as np
import torch

from seedmusic.composer.grammar import LeadSheetGrammar
from seedmusic.composer.leadsheet import BOS, SECTION_IDS, TOKEN_ID, VOCAB
from seedmusic.composer.model import ComposerLM
from seedmusic.composer.ngram import NGramLM
from seedmusic.conditioning import Conditions

logger = logging.getLogger(__name__)


class GrammarDeadEndError(RuntimeError):
    """The grammar allows nothing at some step (the caller retries with another seed)."""


class ContextFullError(GrammarDeadEndError):
    """The sequence outgrew the model's positions (a shorter window may fit)."""


class Scorer(Protocol):
    """Log-probabilities of the next token after feeding tokens with their grammar features."""

    def feed(self, tokens: Sequence[int], features: Sequence[Sequence[int]]) -> np.ndarray: ...


@dataclass(frozen=True)
class Sampling:
    """How tokens are drawn: temperature, nucleus and guidance (1.0: no CFG)."""

    temperature: float = 1.0
    top_p: float = 0.95
    guidance: float = 1.0

    def __post_init__(self) -> None:
        if not 0.0 < self.temperature <= 5.0:
            raise ValueError(f"temperature must be in (0, 5], got {self.temperature}")
        if not 0.0 < self.top_p <= 1.0:
            raise ValueError(f"top_p must be in (0, 1], got {self.top_p}")


class LmScorer:
    """`ComposerLM` as a scorer (KV cache; CFG when `guidance != 1`)."""

    def __init__(self, model: ComposerLM, conditions: Conditions, guidance: float = 1.0) -> None:
        self.model, self.guidance = model, guidance
        self.cache, self.mask = model.start([conditions])
        self.uncond = model.start([conditions], drop_all=True) if guidance != 1.0 else None

    def feed(self, tokens: Sequence[int], features: Sequence[Sequence[int]]) -> np.ndarray:
        if self.mask.shape[1] + len(tokens) > self.model.config.max_positions:
            raise ContextFullError(
                f"longer than the model's {self.model.config.max_positions} positions"
            )
        ids = torch.tensor([list(tokens)], device=self.model.device)  # [1, n]
        feats = torch.tensor([list(map(list, features))], device=self.model.device)  # [1, n, F]
        logits, self.mask = self.model.step(self.cache, self.mask, ids, feats)
        if self.uncond is not None:
            cache, mask = self.uncond
            plain, mask = self.model.step(cache, mask, ids, feats)
            self.uncond = (cache, mask)
            logits = plain + self.guidance * (logits - plain)
        return torch.log_softmax(logits[0].float(), dim=-1).numpy()


class NGramScorer:
    """An n-gram LM over the same token ids as a scorer."""

    def __init__(self, ngram: NGramLM) -> None:
        self.ngram = ngram
        self.context: list[int] = []

    def feed(self, tokens: Sequence[int], features: Sequence[Sequence[int]]) -> np.ndarray:
        self.context += list(tokens)
        return np.asarray(self.ngram.log_probs(self.context), dtype=np.float64)


def _choose(
    log_probs: np.ndarray, allowed: Sequence[int], sampling: Sampling, rng: np.random.Generator
) -> int:
    if len(allowed) == 1:
        return allowed[0]
    ids = np.asarray(allowed)
    scores = log_probs[ids] / sampling.temperature
    scores = np.where(np.isfinite(scores), scores, -1e9)
    probs = np.exp(scores - scores.max())
    probs /= probs.sum()
    if sampling.top_p < 1.0:
        order = np.argsort(-probs)
        keep = np.cumsum(probs[order]) - probs[order] < sampling.top_p
        kept = np.zeros_like(probs)
        kept[order[keep]] = probs[order[keep]]
        probs = kept / kept.sum()
    return int(ids[rng.choice(len(ids), p=probs)])


def sample_tokens(
    scorer: Scorer,
    grammar: LeadSheetGrammar,
    rng: np.random.Generator,
    sampling: Sampling = Sampling(),
    repeats: dict[int, int] | None = None,
    prompt: Sequence[int] | None = None,
    prompt_features: Sequence[Sequence[int]] | None = None,
    max_tokens: int = 4000,
    on_token: Callable[[LeadSheetGrammar], None] | None = None,
    force: Sequence[int] = (),
    bodies: Mapping[int, Sequence[int]] | None = None,
    end_section: int | None = None,
) -> list[int]:
    """Sample until the grammar is done; returns the generated ids (after `prompt`).

    Args:
        scorer: gives next-token log-probabilities.
        grammar: the state after `prompt` (advanced in place).
        repeats: section index -> earlier section index whose tokens it repeats.
        prompt: ids fed before sampling (default: BOS).
        prompt_features: their features (default: the grammar's current features for each).
        force: the first generated tokens, taken as given (e.g. the `Bar` that opens an infill).
        bodies: section index -> the tokens to copy into it (after its `Section_x`): a repeat of
            a section written before `prompt`, e.g. in an earlier window of a long song.
        end_section: stop where this section would start: its `Section_x` is chosen but not
            written (the `Bar` before it is), as in a window of a long song that the next
            window continues.
    """
    prompt = [TOKEN_ID[BOS]] if prompt is None else list(prompt)
    feats = prompt_features if prompt_features is not None else [grammar.features()] * len(prompt)
    log_probs = scorer.feed(prompt, feats)
    out: list[int] = []
    section_starts: dict[int, int] = {}
    forced: list[int] = list(force)
    while grammar.expect != "done":
        if len(out) >= max_tokens:
            raise GrammarDeadEndError(f"no end after {max_tokens} tokens")
        allowed = grammar.allowed()
        if not allowed:
            raise GrammarDeadEndError("the grammar allows no token here")
        if forced and forced[0] not in allowed:
            forced = []  # the copy no longer fits: let the model go on
        token = forced.pop(0) if forced else _choose(log_probs, allowed, sampling, rng)
        if token in _SECTION_ID_SET and grammar.section + 1 == end_section:
            return out  # the next window writes that section
        grammar.step(token)
        out.append(token)
        if token in _SECTION_ID_SET:
            section_starts[grammar.section] = len(out)
            source = (repeats or {}).get(grammar.section)
            copy: list[int] | None = None
            if source is not None and source in section_starts and source + 1 in section_starts:
                copy = _section_body(out, section_starts[source], section_starts[source + 1])
            elif bodies and grammar.section in bodies:
                copy = list(bodies[grammar.section])
            if copy is not None:
                forced = copy
                grammar.vocal_end = min(
                    grammar.vocal_end, grammar.bar_tick
                )  # decoding cuts a held note
        if on_token is not None:
            on_token(grammar)
        if grammar.expect != "done":
            log_probs = scorer.feed([token], [grammar.features()])
    return out


_SECTION_ID_SET = frozenset(SECTION_IDS.values())


def _section_body(out: Sequence[int], start: int, next_start: int) -> list[int]:
    """A finished section's tokens after its `Section_x`, up to the `Bar` that ends it."""
    end = next_start - 1  # index of the next Section_ token
    while end > start and VOCAB[out[end - 1]] != "Bar":
        end -= 1
    return list(out[start : end - 1])


def snapshot(grammar: LeadSheetGrammar) -> LeadSheetGrammar:
    """An independent copy of a grammar state (the plan and limits are shared: never mutated)."""
    return dataclasses.replace(grammar, header=list(grammar.header))
