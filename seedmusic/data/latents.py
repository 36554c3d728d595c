"""Codec latents of a built corpus: what the renderer's DiT and audio-token LM train on.

`encode_corpus(corpus_dir, codec_dir, out_dir, stems)` writes, for every piece and every
requested stem, `out_dir/<stem>/<piece id>.npz` with

- `latents`: the VAE's posterior mean `[D, T]` (float16),
- `codes`: the RVQ codes of those latents `[K, T]` (int16),

at the codec's frame rate. A stem is `mix`, one track (`vocal`, `bass`, `piano`, `guitar`,
`drums`), or `accompaniment` (every instrument stem but the vocal, summed: the mix without its
voice). `out_dir/latents.json` records the codec it was made with (its config files, hashed) so
that a training run refuses latents of another codec. A re-run skips finished files.
"""

from __future__ import annotations

import hashlib
import json
import logging
import os
from collections.abc import Iterable, Sequence
from pathlib import Path
from typing import Any

import numpy as np
import soundfile as sf
import torch
from tqdm.auto import tqdm

from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

INFO = "latents.json"
INSTRUMENT_STEMS: tuple[str, ...] = ("bass", "piano", "guitar", "drums")
STEMS: tuple[str, ...] = ("mix", "vocal", "accompaniment", *INSTRUMENT_STEMS)
"""Every stem the latents can hold; a stem's audio is `stem_audio`."""


def codec_fingerprint(codec_dir: Path) -> str:
    """A hash of the codec's config files and weights: latents of one codec only."""
    digest = hashlib.sha256()
    for path in sorted(Path(codec_dir).rglob("*")):
        if path.is_file() and path.suffix in (".json", ".safetensors"):
            digest.update(path.relative_to(codec_dir).as_posix().encode())
            digest.update(path.read_bytes())
    return digest.hexdigest()[:16]


def stem_audio(corpus: Corpus, piece: PieceRecord, stem: str) -> np.ndarray | None:
    """The piece's mono audio `[S]` for `stem`, or None when the piece has no such stem."""
    if stem == "mix":
        return _read_mono(corpus.mix_path(piece))
    if stem == "accompaniment":
        parts = [_read_mono(corpus.stem_path(piece, s)) for s in piece.stems if s != "vocal"]
        if not parts:
            return None
        length = max(len(p) for p in parts)
        return np.sum([np.pad(p, (0, length - len(p))) for p in parts], axis=0)  # [S]
    if stem not in piece.stems:
        return None
    return _read_mono(corpus.stem_path(piece, stem))


def _read_mono(path: Path) -> np.ndarray:
    audio, _ = sf.read(path, dtype="float32", always_2d=True)  # [S, C]
    return audio.mean(axis=1)


def encode_corpus(
    corpus_dir: Path,
    codec_dir: Path,
    out_dir: Path,
    stems: Sequence[str] = ("mix", "vocal", "accompaniment"),
    progress: bool = True,
) -> dict[str, int]:
    """Encode every piece's `stems` (see the module docstring); returns files written per stem."""
    from renderer.codec import AudioCodec

    unknown = [s for s in stems if s not in STEMS]
    if unknown:
        raise UserError(f"unknown stem(s) {', '.join(unknown)} (stems: {', '.join(STEMS)})")
    corpus = Corpus(corpus_dir)
    codec = AudioCodec.from_pretrained(codec_dir).eval()
    fingerprint = codec_fingerprint(codec_dir)
    _check_or_write_info(out_dir, codec, fingerprint, corpus_dir)
    written = dict.fromkeys(stems, 0)
    sample_rate = int(corpus.info().get("sample_rate", 24000))
    jobs = [(piece, stem) for stem in stems for piece in corpus.pieces()]
    for piece, stem in tqdm(jobs, desc="latents", unit="stem", disable=not progress):
        target = out_dir / stem / f"{piece.id}.npz"
        if target.is_file():
            continue
        audio = stem_audio(corpus, piece, stem)
        if audio is None:
            continue
        _write_npz(target, *_encode(codec, audio, sample_rate))
        written[stem] += 1
    return written


def _encode(codec: Any, audio: np.ndarray, sample_rate: int) -> tuple[np.ndarray, np.ndarray]:
    if sample_rate != codec.sample_rate:
        raise UserError(
            f"corpus audio is at {sample_rate} Hz but the codec works at {codec.sample_rate} Hz"
        )
    with torch.no_grad():
        wav = torch.from_numpy(audio)[None, None].expand(-1, codec.audio_channels, -1)
        latents = codec.encode_latents(wav)  # [1, D, T]
        codes = codec.rvq.encode(latents)  # [1, K, T]
    return latents[0].numpy().astype(np.float16), codes[0].numpy().astype(np.int16)


def _write_npz(target: Path, latents: np.ndarray, codes: np.ndarray) -> None:
    target.parent.mkdir(parents=True, exist_ok=True)
    partial = target.with_name(f".{target.name}.partial")
    with open(partial, "wb") as handle:
        np.savez(handle, latents=latents, codes=codes)
    os.replace(partial, target)


def _check_or_write_info(out_dir: Path, codec: Any, fingerprint: str, corpus_dir: Path) -> None:
    info = {
        "codec": fingerprint,
        "corpus": str(corpus_dir),
        "frame_rate": codec.frame_rate,
        "latent_dim": codec.vae.config.latent_channels,
        "num_codebooks": codec.num_codebooks,
        "codebook_size": codec.codebook_size,
    }
    path = out_dir / INFO
    if path.is_file():
        old = json.loads(path.read_text())
        if old.get("codec") != fingerprint:
            raise UserError(
                f"{out_dir} holds latents of another codec ({old.get('codec')}, this one is "
                f"{fingerprint}); choose another --out"
            )
        return
    out_dir.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(info, indent=1) + "\n")


def read_info(latents_dir: Path) -> dict[str, Any]:
    """The `latents.json` of a latents folder (a UserError when it is not one)."""
    path = Path(latents_dir) / INFO
    if not path.is_file():
        raise UserError(f"{latents_dir}: no {INFO}; make latents with `seedmusic data latents`")
    data: dict[str, Any] = json.loads(path.read_text())
    return data


def load_stem(latents_dir: Path, stem: str, piece_id: str) -> tuple[np.ndarray, np.ndarray] | None:
    """`(latents [D, T] float32, codes [K, T] int64)` of one piece's stem, or None if absent."""
    path = Path(latents_dir) / stem / f"{piece_id}.npz"
    if not path.is_file():
        return None
    with np.load(path) as data:
        return data["latents"].astype(np.float32), data["codes"].astype(np.int64)


def parse_stems(text: str | Iterable[str]) -> tuple[str, ...]:
    """`"mix,vocal"` -> `("mix", "vocal")`, checked against `STEMS`."""
    names = [s.strip() for s in (text.split(",") if isinstance(text, str) else text) if s.strip()]
    if not names:
        raise UserError("give at least one stem")
    unknown = [s for s in names if s not in STEMS]
    if unknown:
        raise UserError(f"unknown stem(s) {', '.join(unknown)} (stems: {', '.join(STEMS)})")
    return tuple(dict.fromkeys(names))
