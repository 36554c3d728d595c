"""The audio codec: a `Vae` plus a `ResidualVQ` over its latent means.

    wav [B, C, S] --Vae.encode--> mean [B, D, T] --ResidualVQ.encode--> codes [B, K, T]
    codes [B, K, T] --ResidualVQ.decode--> z [B, D, T] --Vae.decode--> wav [B, C, T * hop]

The codes are the language model's audio tokens. On disk a codec is a folder with one
checkpoint per part: `DIR/vae/` and `DIR/rvq/` (each `config.json` + `model.safetensors`).
"""

from __future__ import annotations

import logging
import math
import os
from pathlib import Path
from typing import TYPE_CHECKING, Any, Self

import librosa
import numpy as np
import soundfile as sf
import torch
from torch import nn

from renderer.modeling import CheckpointError
from renderer.spectral import SpectralDecoder
from renderer.vae import Vae
from score_tokens.io import atomic_write

if TYPE_CHECKING:
    from renderer.rvq import ResidualVQ

logger = logging.getLogger(__name__)

VAE_DIR = "vae"
RVQ_DIR = "rvq"
WINDOW_FRAMES = 750
"""Long audio is encoded and decoded in windows of this many latent frames (30 s at 25 /s), so
memory stays flat in the audio's length."""
MARGIN_FRAMES = 25
"""Frames of context each window sees on both sides and then drops (1 s): windowed latents and
audio match the whole-file ones to rounding."""


class AudioCodec(nn.Module):
    """Waveform <-> RVQ codes, through the VAE's latent space.

    Args:
        vae: the VAE vocoder.
        rvq: the residual quantizer of the VAE's latents (its dim must be the latent width).
    """

    def __init__(self, vae: Vae, rvq: ResidualVQ) -> None:
        super().__init__()
        rvq_dim = _rvq_dim(rvq)
        if rvq_dim != vae.latent_channels:
            raise ValueError(
                f"the RVQ quantizes {rvq_dim}-dim vectors but the VAE has "
                f"{vae.latent_channels} latent channels"
            )
        self.vae = vae
        self.rvq = rvq

    @property
    def sample_rate(self) -> int:
        """Audio sample rate in Hz."""
        return self.vae.sample_rate

    @property
    def audio_channels(self) -> int:
        """1 (mono) or 2 (stereo)."""
        return self.vae.config.audio_channels

    @property
    def hop_length(self) -> int:
        """Samples per code frame."""
        return self.vae.hop_length

    @property
    def frame_rate(self) -> float:
        """Code frames per second."""
        return self.vae.frame_rate

    @property
    def num_codebooks(self) -> int:
        """K, the number of residual codebooks."""
        return int(self.rvq.config.num_codebooks)

    @property
    def codebook_size(self) -> int:
        """Entries per codebook."""
        return int(self.rvq.config.codebook_size)

    @property
    def bitrate(self) -> float:
        """Bits per second: `frame_rate * K * log2(codebook_size)`."""
        return self.frame_rate * self.num_codebooks * math.log2(self.codebook_size)

    def encode_latents(self, wav: torch.Tensor) -> torch.Tensor:
        """The VAE's posterior mean `[B, D, ceil(S / hop)]` of `[B, C, S]` audio; audio longer
        than `WINDOW_FRAMES` is encoded window by window (each with `MARGIN_FRAMES` of context
        on both sides), so memory does not grow with its length."""
        hop = self.hop_length
        total = math.ceil(wav.shape[-1] / hop)
        if total <= WINDOW_FRAMES + 2 * MARGIN_FRAMES:
            return self.vae.encode(wav).mean
        pieces = []
        for start, stop, lo, hi in _windows(total):
            segment = wav[..., lo * hop : hi * hop]  # [B, C, <= (hi - lo) * hop]
            mean = self.vae.encode(segment).mean  # [B, D, hi - lo]
            pieces.append(mean[..., start - lo : stop - lo])
        return torch.cat(pieces, dim=-1)  # [B, D, total]

    def decode_latents(self, z: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """The VAE's audio `[B, C, T * hop]` (or `[B, C, length]`) of latents `[B, D, T]`,
        window by window when T is longer than `WINDOW_FRAMES` (as `encode_latents`)."""
        hop = self.hop_length
        total = z.shape[-1]
        if total <= WINDOW_FRAMES + 2 * MARGIN_FRAMES:
            return self.vae.decode(z, length=length)
        decoder = self.vae.decoder
        per_frame = hop // self.vae.config.stft_hop if isinstance(decoder, SpectralDecoder) else 0
        pieces = []
        anchor: tuple[int, torch.Tensor] | None = None  # absolute STFT frame, its phases
        for start, stop, lo, hi in _windows(total):
            window = z[..., lo:hi]
            if per_frame:  # carry the running phase across windows (`decode_with_phase`)
                local = None if anchor is None else (anchor[0] - lo * per_frame, anchor[1])
                audio, phase = decoder.decode_with_phase(window, local)
                anchor = (stop * per_frame, phase[..., (stop - lo) * per_frame])
            else:
                audio = self.vae.decode(window)  # [B, C, (hi - lo) * hop]
            pieces.append(audio[..., (start - lo) * hop : (stop - lo) * hop])
        wav = torch.cat(pieces, dim=-1)  # [B, C, total * hop]
        return wav if length is None else wav[..., :length]

    def encode(
        self, wav: torch.Tensor, sample_rate: int | None = None, num_codebooks: int | None = None
    ) -> torch.Tensor:
        """Tokenize audio.

        Args:
            wav: `[B, C, S]` audio at the codec's sample rate.
            sample_rate: the audio's rate, checked against the codec's when given.
            num_codebooks: use the first k codebooks (default all K): a lower bitrate.

        Returns:
            codes `[B, k, ceil(S / hop)]` (int64).
        """
        if sample_rate is not None and sample_rate != self.sample_rate:
            raise ValueError(
                f"audio is at {sample_rate} Hz but the codec works at {self.sample_rate} Hz; "
                "resample it first (encode_file does)"
            )
        return self.rvq.encode(self.encode_latents(wav), num_codebooks).long()

    def decode(self, codes: torch.Tensor, length: int | None = None) -> torch.Tensor:
        """Turn codes `[B, k, T]` (the first k <= K codebooks) into audio `[B, C, T * hop]`
        (or `[B, C, length]`)."""
        self._check_codes(codes)
        z = self.rvq.decode(codes)  # [B, D, T]
        return self.decode_latents(z, length=length)

    def encode_file(
        self, path: str | os.PathLike[str], num_codebooks: int | None = None
    ) -> torch.Tensor:
        """Tokenize an audio file: load, resample, match channels, encode.

        Returns:
            codes `[k, T]` (int64, on the CPU).
        """
        wav = load_audio(path, self.sample_rate, self.audio_channels)  # [C, S]
        device = next(self.parameters()).device
        with torch.no_grad():
            codes = self.encode(torch.from_numpy(wav).to(device)[None], None, num_codebooks)
        return codes[0].cpu()

    def decode_to_file(
        self, codes: torch.Tensor, path: str | os.PathLike[str], length: int | None = None
    ) -> Path:
        """Decode codes `[K, T]` (or `[1, K, T]`) and write the audio atomically with soundfile."""
        if codes.dim() == 2:
            codes = codes[None]
        if codes.dim() != 3 or codes.shape[0] != 1:
            raise ValueError(f"codes must be [K, T] or [1, K, T], got {tuple(codes.shape)}")
        device = next(self.parameters()).device
        with torch.no_grad():
            wav = self.decode(codes.to(device), length=length)[0]  # [C, S]
        return write_audio(path, wav.float().cpu().numpy(), self.sample_rate)

    def save_pretrained(self, directory: str | os.PathLike[str]) -> Path:
        """Write `directory/vae/` and `directory/rvq/`."""
        out = Path(directory)
        self.vae.save_pretrained(out / VAE_DIR)
        self.rvq.save_pretrained(out / RVQ_DIR)
        return out

    @classmethod
    def from_pretrained(cls, directory: str | os.PathLike[str], device: str = "cpu") -> Self:
        """Load a codec saved by `save_pretrained`; raises `CheckpointError` on any mismatch."""
        from renderer.rvq import ResidualVQ

        folder = Path(directory)
        for part in (VAE_DIR, RVQ_DIR):
            if not (folder / part).is_dir():
                raise CheckpointError(f"{folder} is not a codec checkpoint (no {part}/ folder)")
        vae = Vae.from_pretrained(folder / VAE_DIR, device=device)
        rvq = ResidualVQ.from_pretrained(folder / RVQ_DIR, device=device)
        try:
            codec = cls(vae, rvq)
        except ValueError as exc:
            raise CheckpointError(f"{folder}: {exc}") from None
        return codec.eval()

    def _check_codes(self, codes: torch.Tensor) -> None:
        if codes.dim() != 3 or not 1 <= codes.shape[1] <= self.num_codebooks:
            raise ValueError(
                f"codes must be [batch, 1..{self.num_codebooks} codebooks, frames], "
                f"got {tuple(codes.shape)}"
            )
        if codes.dtype.is_floating_point or codes.dtype == torch.bool:
            raise ValueError(f"codes must be integers, got {codes.dtype}")
        if codes.numel() and (int(codes.min()) < 0 or int(codes.max()) >= self.codebook_size):
            raise ValueError(
                f"codes must lie in [0, {self.codebook_size}), got values in "
                f"[{int(codes.min())}, {int(codes.max())}]"
            )


def log_mel_l1(reference: np.ndarray, estimate: np.ndarray, sample_rate: int) -> float:
    """Mean |log(mel_ref + 1e-5) - log(mel_est + 1e-5)| of two mono signals `[S]` (80-band
    power mel, n_fft 1024, hop 256): the codec benchmark's distance."""
    mels = [
        librosa.feature.melspectrogram(y=x, sr=sample_rate, n_fft=1024, hop_length=256, n_mels=80)
        for x in (reference, estimate)
    ]
    return float(np.mean(np.abs(np.log(mels[0] + 1e-5) - np.log(mels[1] + 1e-5))))


def _windows(total: int) -> list[tuple[int, int, int, int]]:
    """`(start, stop, lo, hi)` frame ranges covering `[0, total)`: each window keeps
    `[start, stop)` of the `[lo, hi)` it is computed on."""
    out = []
    for start in range(0, total, WINDOW_FRAMES):
        stop = min(total, start + WINDOW_FRAMES)
        out.append((start, stop, max(0, start - MARGIN_FRAMES), min(total, stop + MARGIN_FRAMES)))
    return out


def _rvq_dim(rvq: ResidualVQ) -> int:
    return int(rvq.config.dim)


STREAM_SECONDS = 600.0
"""Files longer than this are read, downmixed and resampled block by block (`_load_blocks`)."""
BLOCK_SECONDS = 30.0


def load_audio(path: str | os.PathLike[str], sample_rate: int, channels: int) -> np.ndarray:
    """Read an audio file as float32 `[channels, S]` at `sample_rate`.

    Mono files are duplicated to stereo; stereo (or wider) files are averaged to mono. Files
    longer than `STREAM_SECONDS` are read and resampled in blocks, so only the result is held
    whole.
    """
    source = Path(path)
    if not source.is_file():
        raise FileNotFoundError(f"{source}: no such audio file")
    try:
        info = sf.info(str(source))
        if info.frames > STREAM_SECONDS * info.samplerate > 0:
            return _load_blocks(source, info, sample_rate, channels)
        data, rate = sf.read(str(source), dtype="float32", always_2d=True)  # [S, C_in]
    except (sf.LibsndfileError, RuntimeError) as exc:
        raise ValueError(f"{source}: unreadable audio ({exc})") from None
    if data.shape[0] == 0:
        raise ValueError(f"{source}: the audio is empty")
    _check_finite(source, data)
    wav = data.T  # [C_in, S]
    if wav.shape[0] != channels:
        wav = wav.mean(axis=0, keepdims=True)  # [1, S]
        wav = np.repeat(wav, channels, axis=0)  # [channels, S]
    if rate != sample_rate:
        logger.info("resampling %s from %d Hz to %d Hz", source, rate, sample_rate)
        wav = librosa.resample(wav, orig_sr=rate, target_sr=sample_rate, axis=-1)
    return np.ascontiguousarray(wav, dtype=np.float32)


def _check_finite(source: Path, data: np.ndarray) -> None:
    bad = int(np.count_nonzero(~np.isfinite(data)))
    if bad:
        raise ValueError(f"{source}: {bad} of its samples are NaN or infinite")


def _load_blocks(source: Path, info: Any, sample_rate: int, channels: int) -> np.ndarray:
    """`load_audio` of a long file, `BLOCK_SECONDS` at a time (soxr's streaming resampler)."""
    import soxr

    keep = channels if info.channels == channels else 1
    stream = (
        soxr.ResampleStream(info.samplerate, sample_rate, keep, dtype="float32")
        if info.samplerate != sample_rate
        else None
    )
    pieces = []
    block = max(1, round(BLOCK_SECONDS * info.samplerate))
    blocks = sf.blocks(str(source), blocksize=block, dtype="float32", always_2d=True)
    for data in blocks:  # [S_block, C_in]
        _check_finite(source, data)
        part = data if keep == info.channels else data.mean(axis=1, keepdims=True)
        pieces.append(part if stream is None else stream.resample_chunk(part))
    if stream is not None:
        pieces.append(stream.resample_chunk(np.zeros((0, keep), np.float32), last=True))
    wav = np.concatenate(pieces, axis=0).T  # [keep, S]
    length = math.ceil(info.frames * sample_rate / info.samplerate)  # as librosa.resample gives
    wav = np.pad(wav[:, :length], ((0, 0), (0, max(0, length - wav.shape[1]))))
    if keep != channels:
        wav = np.repeat(wav, channels, axis=0)  # [channels, S]
    return np.ascontiguousarray(wav, dtype=np.float32)


def write_audio(path: str | os.PathLike[str], wav: np.ndarray, sample_rate: int) -> Path:
    """Write `[C, S]` float audio with soundfile, atomically (temporary file, then rename)."""
    target = Path(path)
    if wav.ndim != 2:
        raise ValueError(f"audio to write must be [channels, samples], got shape {wav.shape}")
    target.parent.mkdir(parents=True, exist_ok=True)
    atomic_write(target, lambda tmp: sf.write(tmp, np.clip(wav.T, -1.0, 1.0), sample_rate))
    return target
