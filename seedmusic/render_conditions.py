"""What the neural renderer is conditioned on, built the same way in training and inference.

- **score frames** `[F, T]` (`score_tokens.frames.score_frames`) of the tracks a stem holds;
- a **global vector** `[G]`: which note tracks sound (the stem), whether the vocal is sung
  (the corpus also plays some vocal lines on a GM lead instrument), and the tempo;
- for a DiT that reads one, a **reference embedding** `[1 + 2D]` appended to the global vector:
  a flag (1 = a reference is given) and the per-channel mean and standard deviation over time of
  the standardized VAE latents of reference audio of the same stem (in training another stretch
  of the same piece; in `edit`, the source song), which says what the song sounds like —
  SoundFont, programs, mix — beyond what the score says. Without a reference it is all zeros.

A stem names the tracks it holds: `mix` (every track), `vocal`, `accompaniment` (every track
but the vocal) or one instrument.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np
import torch

from score_tokens.frames import score_frames
from score_tokens.score import NOTE_TRACKS, Score

GLOBAL_DIM = len(NOTE_TRACKS) + 2
TEMPO_SCALE = 120.0


def reference_width(latent_dim: int) -> int:
    """Width of the reference embedding of `latent_dim`-channel latents: flag, mean, std."""
    return 1 + 2 * latent_dim


def global_width(latent_dim: int, reference: bool) -> int:
    """Width of the global vector a DiT reads, with or without the reference embedding."""
    return GLOBAL_DIM + (reference_width(latent_dim) if reference else 0)


def reads_reference(global_dim: int, latent_dim: int) -> bool:
    """Whether a DiT with this global width reads the reference embedding."""
    return global_dim == global_width(latent_dim, reference=True)


def reference_embedding(
    normalized: torch.Tensor | None, batch: int, latent_dim: int
) -> torch.Tensor:
    """`[B, 1 + 2D]`: flag 1, then the mean and std over time of `normalized` `[B, D, T]`
    (standardized latents of reference audio); all zeros when `normalized` is None."""
    if normalized is None:
        return torch.zeros(batch, reference_width(latent_dim))
    if (
        normalized.dim() != 3
        or normalized.shape[:2] != (batch, latent_dim)
        or normalized.shape[2] < 2
    ):
        raise ValueError(
            f"reference latents must be [{batch}, {latent_dim}, T >= 2], got {tuple(normalized.shape)}"
        )
    x = normalized.float()
    flag = torch.ones(batch, 1)
    return torch.cat([flag, x.mean(dim=2), x.std(dim=2)], dim=1)


def stem_tracks(stem: str, present: Iterable[str]) -> tuple[str, ...]:
    """The note tracks of `present` that `stem` holds."""
    have = [t for t in NOTE_TRACKS if t in set(present)]
    if stem == "mix":
        return tuple(have)
    if stem == "accompaniment":
        return tuple(t for t in have if t != "vocal")
    if stem in NOTE_TRACKS:
        return (stem,) if stem in have else ()
    raise ValueError(f"unknown stem {stem!r} (mix, accompaniment or one of {NOTE_TRACKS})")


def global_condition(tracks: Iterable[str], sung_vocal: bool, tempo_bpm: float) -> np.ndarray:
    """`[G]` float32: tracks present (one per note track), sung vocal, tempo / 120."""
    present = set(tracks)
    vector = [1.0 if t in present else 0.0 for t in NOTE_TRACKS]
    vector += [1.0 if sung_vocal and "vocal" in present else 0.0, tempo_bpm / TEMPO_SCALE]
    return np.asarray(vector, dtype=np.float32)


def score_tempo(score: Score) -> float:
    """The song's tempo (bpm): of the score's tempos, the one that lasts the most ticks (an
    analyzed recording's score starts with a lead-in of its own tempo, up to the first tracked
    beat; the corpus's scores have one tempo)."""
    tempos = sorted(score.tempos, key=lambda t: t.tick)
    end = max(score.last_event_tick(), tempos[-1].tick + 1)
    stops = [t.tick for t in tempos[1:]] + [end]
    lengths = [stop - tempo.tick for tempo, stop in zip(tempos, stops, strict=True)]
    return tempos[lengths.index(max(lengths))].bpm


def render_conditions(
    score: Score,
    stem: str,
    frame_rate: float,
    num_frames: int | None = None,
    sung_vocal: bool = True,
) -> tuple[np.ndarray, np.ndarray]:
    """`(score frames [F, T], global vector [G])` for rendering `stem` of `score`."""
    present = [t for t in NOTE_TRACKS if score.notes(t)]
    tracks = stem_tracks(stem, present)
    frames = score_frames(score, frame_rate, num_frames, tracks)
    return frames, global_condition(tracks, sung_vocal, score_tempo(score))
