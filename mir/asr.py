"""Optional lyrics recognition: a local Whisper checkpoint (transformers) turns sung audio into
lyric text, which `analyze` then places on the vocal notes like `--lyrics` text.

Off by default and never downloaded: `LyricsRecognizer.from_pretrained(DIR)` reads a folder
saved by `save_pretrained` (e.g. a copy of openai/whisper-small made on a machine that has
internet) with `local_files_only=True`. The audio is averaged to mono, resampled to 16 kHz and
cut into Whisper's 30 s windows; near-silent windows are skipped and the rest are transcribed in
batches. Checkpoints with a multilingual generation config get `language` and `task` through
`generate`; others (e.g. a model built for a test) get the same start-of-transcript prompt as
explicit decoder input ids.
"""

from __future__ import annotations

import logging
import os
from pathlib import Path
from typing import Any

import numpy as np
import torch

from mir.audio import Audio

logger = logging.getLogger(__name__)

WHISPER_SAMPLE_RATE = 16000
WINDOW_SECONDS = 30.0
SILENCE_RMS = 1e-4
BATCH_WINDOWS = 4
MAX_NEW_TOKENS = 224


class AsrError(ValueError):
    """A Whisper checkpoint folder is missing or cannot be loaded."""


class LyricsRecognizer:
    """Sung audio -> lyric text with a Whisper model and its processor.

    Args:
        model: a `WhisperForConditionalGeneration`.
        processor: the matching `WhisperProcessor` (feature extractor + tokenizer).
    """

    def __init__(self, model: Any, processor: Any) -> None:
        self.model = model.eval()
        self.processor = processor

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str]) -> LyricsRecognizer:
        """Load a Whisper model and processor saved in `directory` (no network access).

        Raises:
            AsrError: the folder is missing or does not hold a loadable Whisper checkpoint.
        """
        from transformers import WhisperForConditionalGeneration, WhisperProcessor

        folder = Path(directory)
        if not (folder / "config.json").is_file():
            raise AsrError(f"{folder} is not a Whisper checkpoint folder (no config.json)")
        try:
            model = WhisperForConditionalGeneration.from_pretrained(folder, local_files_only=True)
            processor = WhisperProcessor.from_pretrained(folder, local_files_only=True)
        except Exception as exc:  # transformers and huggingface_hub raise many error types
            first_line = (
                str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            )
            raise AsrError(f"cannot load the Whisper checkpoint {folder}: {first_line}") from None
        return cls(model, processor)

    def transcribe(self, audio: Audio, language: str = "en") -> str:
        """The lyric text sung in `audio` (windows joined by spaces; empty for silence).

        Args:
            audio: any sample rate, mono or multi-channel.
            language: ISO code of the sung language ("en", "de", ...).
        """
        samples = audio.to_mono().resample(WHISPER_SAMPLE_RATE).samples  # [S]
        windows = _windows(samples)
        texts: list[str] = []
        for first in range(0, len(windows), BATCH_WINDOWS):
            batch = windows[first : first + BATCH_WINDOWS]
            features = self.processor(
                batch, sampling_rate=WHISPER_SAMPLE_RATE, return_tensors="pt"
            ).input_features  # [W, mels, 3000]
            with torch.no_grad():
                ids = self._generate(features.to(self.model.dtype), language)
            texts += self.processor.batch_decode(ids, skip_special_tokens=True)
        text = " ".join(t.strip() for t in texts if t.strip())
        logger.info("recognised %d words in %d window(s)", len(text.split()), len(windows))
        return text

    def _generate(self, features: torch.Tensor, language: str) -> torch.Tensor:
        config = self.model.generation_config
        if getattr(config, "lang_to_id", None):
            new_tokens = min(MAX_NEW_TOKENS, self.model.config.max_target_positions // 2)
            out: torch.Tensor = self.model.generate(
                features, language=language, task="transcribe", max_new_tokens=new_tokens
            )
            return out
        prompt = self._prompt(language)  # [P]
        limit = self.model.config.max_target_positions - len(prompt)
        decoder_ids = torch.tensor([prompt] * features.shape[0])  # [W, P]
        out = self.model.generate(
            features, decoder_input_ids=decoder_ids, max_new_tokens=min(MAX_NEW_TOKENS, limit)
        )
        return out

    def _prompt(self, language: str) -> list[int]:
        """Start of transcript, language, task and no-timestamps tokens that the vocabulary has."""
        tokenizer = self.processor.tokenizer
        wanted = ["<|startoftranscript|>", f"<|{language}|>", "<|transcribe|>", "<|notimestamps|>"]
        ids = [tokenizer.convert_tokens_to_ids(token) for token in wanted]
        return [i for i in ids if i is not None and i != tokenizer.unk_token_id]


def _windows(samples: np.ndarray) -> list[np.ndarray]:
    """Consecutive 30 s windows of 16 kHz audio `[S]`, near-silent ones left out."""
    length = int(WINDOW_SECONDS * WHISPER_SAMPLE_RATE)
    windows = [samples[start : start + length] for start in range(0, samples.size, length)]
    return [w for w in windows if w.size and float(np.sqrt(np.mean(w**2))) >= SILENCE_RMS]
