"""The codec task: train the VAE vocoder (+ GAN) and fit the RVQ on its latents.

Phases, by optimizer step:
    0 ..                       VAE reconstruction: multi-resolution STFT + mel + KL.
    adversarial_start_step ..  plus a multi-scale STFT discriminator (hinge + feature matching),
                               trained by its own optimizer after each generator step.
    rvq_start_step ..          the RVQ is fitted jointly, on the DETACHED posterior means: its
                               EMA codebooks (k-means initialised) follow the latents as the VAE
                               keeps training, and no gradient flows back into the VAE, so the
                               codec's tokens never distort the vocoder.

The RVQ lives inside the trained module, so under DDP its EMA buffers are broadcast from rank 0
at every forward (rank 0's latents drive the codebooks). The export is an `AudioCodec`
(`final/vae/`, `final/rvq/`).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import torch
from torch import nn

from renderer.codec import AudioCodec, load_audio
from renderer.discriminator import (
    DiscriminatorConfig,
    MultiScaleStftDiscriminator,
    discriminator_loss,
    feature_matching_loss,
    generator_adversarial_loss,
)
from renderer.losses import (
    MultiResolutionMelLoss,
    MultiResolutionStftLoss,
    PhaseAdvanceLoss,
    PitchLoss,
)
from renderer.modeling import CheckpointError
from renderer.rvq import ResidualVQ, RvqConfig, RvqOutput
from renderer.vae import Vae, VaeConfig, VaeLatents
from seedmusic.errors import UserError
from seedmusic.train.loop import StepOutput, TrainConfig, TrainTask

logger = logging.getLogger(__name__)

AUDIO_SUFFIXES = (".wav", ".flac", ".ogg", ".mp3")
SILENT_CROP_RMS = 1e-3
"""Crops quieter than this (a stem where its instrument rests) are drawn again: their spectral
convergence divides by an almost-zero norm and would swamp the batch's loss."""
SILENT_CROP_RETRIES = 8
DECODER_LOW_BAND = "spectral_decoder.low_band_out."
"""Parameter names of the decoder's low band (a warm start from a codec without one keeps
their silent start)."""


@dataclass(frozen=True)
class CodecDataConfig:
    """Where the audio is: a built corpus's mixes, every audio file under `audio_dir`, or the
    paths in `manifest` (the first of these that is set).

    Attributes:
        corpus: a folder built by `seedmusic data build`; its `split` mixes are used.
        split: the corpus split to train on.
        audio_dir: folder searched recursively for .wav/.flac/.ogg/.mp3.
        manifest: a text file with one audio path per line (relative to the manifest).
        crop_seconds: length of the random training crops (rounded to whole latent frames).
        stems: with `corpus`, also train on every piece's stems (each instrument alone, the
            vocal alone), not only on its mix.
    """

    corpus: str | None = None
    split: Literal["train", "valid", "test"] = "train"
    audio_dir: str | None = None
    manifest: str | None = None
    crop_seconds: float = 1.0
    stems: bool = False


@dataclass(frozen=True)
class CodecLossConfig:
    """Loss weights and phase starts (see the module docstring); `pitch_weight` and
    `chroma_weight` weigh `renderer.losses.PitchLoss`'s low-band and chroma terms,
    `phase_weight` the `PhaseAdvanceLoss` on the VAE's own STFT grid (bins up to
    `phase_max_hz`)."""

    stft_fft_sizes: tuple[int, ...] = (2048, 1024, 512, 256, 128)
    mel_fft_sizes: tuple[int, ...] = (2048, 1024, 512)
    mel_n_mels: tuple[int, ...] = (128, 80, 64)
    stft_weight: float = 1.0
    mel_weight: float = 1.0
    kl_weight: float = 1e-4
    adversarial_weight: float = 0.1
    feature_weight: float = 2.0
    adversarial_start_step: int = 10000
    rvq_start_step: int = 0
    pitch_weight: float = 0.0
    chroma_weight: float = 0.0
    pitch_fft: int = 8192
    pitch_max_hz: float = 1000.0
    phase_weight: float = 0.0
    phase_max_hz: float = 4000.0


@dataclass(frozen=True)
class CodecTaskConfig:
    """The whole codec run: optimisation, models, data and losses."""

    train: TrainConfig = field(default_factory=TrainConfig)
    vae: VaeConfig = field(default_factory=VaeConfig)
    rvq: RvqConfig = field(default_factory=RvqConfig)
    discriminator: DiscriminatorConfig = field(default_factory=DiscriminatorConfig)
    data: CodecDataConfig = field(default_factory=CodecDataConfig)
    loss: CodecLossConfig = field(default_factory=CodecLossConfig)
    init_from: str | None = None
    """A codec checkpoint folder whose VAE weights start this one (`warm_start_vae`)."""
    freeze_encoder: bool = False
    """Train the decoder only, with the encoder and the RVQ of `init_from` kept as they are: the
    latent space, the audio tokens and every model trained on them (the DiT) stay valid."""
    quantized_share: float = 0.0
    """With `freeze_encoder`: the share of steps whose decoder input is the RVQ's quantized
    latents (all codebooks) instead of a posterior sample, so that decoding tokens improves too."""

    def __post_init__(self) -> None:
        if self.freeze_encoder and self.init_from is None:
            raise ValueError("freeze_encoder needs init_from: the codec whose encoder is kept")
        if not 0.0 <= self.quantized_share <= 1.0:
            raise ValueError(f"quantized_share must be in [0, 1], got {self.quantized_share}")


class CodecTrainModel(nn.Module):
    """VAE + RVQ trained together; the RVQ sees detached latent means. With `frozen_encoder`
    only the decoder trains: the encoder and the RVQ are fixed (no gradient, no EMA)."""

    def __init__(self, vae: Vae, rvq: ResidualVQ, frozen_encoder: bool = False) -> None:
        super().__init__()
        self.vae = vae
        self.rvq = rvq
        self.frozen_encoder = frozen_encoder
        if frozen_encoder:
            for param in [*vae.encoder.parameters(), *rvq.parameters()]:
                param.requires_grad_(False)

    def forward(
        self, wav: torch.Tensor, quantize: bool, decode_codes: bool = False
    ) -> tuple[torch.Tensor, VaeLatents, RvqOutput | None]:
        """`wav [B, C, S]` -> `(recon [B, C, S], posterior [B, D, T], rvq output or None)`;
        `decode_codes` (frozen encoder only): decode the RVQ's quantized latent means."""
        if not self.frozen_encoder:
            recon, posterior = self.vae(wav)
            rvq_out = self.rvq(posterior.mean.detach()) if quantize else None
            return recon, posterior, rvq_out
        with torch.no_grad():
            posterior = self.vae.encode(wav)
            if decode_codes:
                z = self.rvq.decode(self.rvq.encode(posterior.mean))  # [B, D, T]
            else:
                z = posterior.sample()  # [B, D, T]
        return self.vae.decode(z, length=wav.shape[-1]), posterior, None


class AudioCrops:
    """Random fixed-length crops of audio files, loaded (and resampled) once into memory."""

    def __init__(self, data: CodecDataConfig, vae: VaeConfig) -> None:
        paths = _audio_paths(data)
        hop = vae.hop_length
        self.length = max(hop, round(data.crop_seconds * vae.sample_rate / hop) * hop)
        self.clips = [load_audio(p, vae.sample_rate, vae.audio_channels) for p in paths]

    def __len__(self) -> int:
        return len(self.clips)

    def sample(self, index: int, rng: np.random.Generator) -> dict[str, torch.Tensor]:
        clip = self.clips[index]  # [C, S]
        if clip.shape[1] < self.length:
            clip = np.pad(clip, ((0, 0), (0, self.length - clip.shape[1])))
        for _ in range(SILENT_CROP_RETRIES):
            start = int(rng.integers(0, clip.shape[1] - self.length + 1))
            crop = clip[:, start : start + self.length]
            if float(np.sqrt(np.mean(crop**2))) >= SILENT_CROP_RMS:
                break
        return {"audio": torch.from_numpy(crop.copy())}


def _audio_paths(data: CodecDataConfig) -> list[Path]:
    if data.corpus is not None:
        from seedmusic.data.corpus import Corpus

        corpus = Corpus(data.corpus)
        paths = []
        for piece in corpus.pieces(data.split):
            paths.append(corpus.mix_path(piece))
            if data.stems:
                paths += [corpus.stem_path(piece, stem) for stem in piece.stems]
        if not paths:
            raise UserError(f"{data.corpus}: no {data.split} pieces")
        return paths
    if data.manifest is not None:
        manifest = Path(data.manifest)
        if not manifest.is_file():
            raise FileNotFoundError(f"{manifest}: no such manifest")
        lines = [ln.strip() for ln in manifest.read_text().splitlines() if ln.strip()]
        return [manifest.parent / ln for ln in lines]
    if data.audio_dir is None:
        raise UserError("set data.corpus, data.audio_dir or data.manifest in the codec config")
    folder = Path(data.audio_dir)
    if not folder.is_dir():
        raise FileNotFoundError(f"{folder}: no such audio folder")
    paths = sorted(p for p in folder.rglob("*") if p.suffix.lower() in AUDIO_SUFFIXES)
    if not paths:
        raise UserError(f"{folder}: no audio files ({', '.join(AUDIO_SUFFIXES)})")
    return paths


class CodecTask(TrainTask):
    """VAE (+ GAN) reconstruction training with the RVQ fitted on detached latents."""

    config_class = CodecTaskConfig

    def __init__(self, config: CodecTaskConfig) -> None:
        super().__init__(config)
        loss = config.loss
        self.stft_loss = MultiResolutionStftLoss(loss.stft_fft_sizes)
        self.mel_loss = MultiResolutionMelLoss(
            config.vae.sample_rate, loss.mel_fft_sizes, loss.mel_n_mels
        )
        self.pitch_loss = PitchLoss(config.vae.sample_rate, loss.pitch_fft, loss.pitch_max_hz)
        self.phase_loss = PhaseAdvanceLoss(
            config.vae.sample_rate, config.vae.n_fft, config.vae.stft_hop, loss.phase_max_hz
        )

    def build_model(self) -> nn.Module:
        vae = Vae(self.config.vae)
        rvq = ResidualVQ(self.config.rvq)
        if self.config.init_from is not None:
            warm_start_vae(vae, Path(self.config.init_from))
        if self.config.freeze_encoder:
            assert self.config.init_from is not None
            rvq = _trained_rvq(Path(self.config.init_from), self.config.rvq)
        return CodecTrainModel(vae, rvq, frozen_encoder=self.config.freeze_encoder)

    def build_dataset(self) -> AudioCrops:
        return AudioCrops(self.config.data, self.config.vae)

    def build_discriminator(self) -> nn.Module | None:
        return MultiScaleStftDiscriminator(self.config.discriminator)

    def training_step(
        self,
        model: nn.Module,
        batch: dict[str, torch.Tensor],
        step: int,
        discriminator: nn.Module | None,
    ) -> StepOutput:
        loss_cfg = self.config.loss
        real = batch["audio"]  # [B, C, S]
        quantize = step >= loss_cfg.rvq_start_step
        decode_codes = bool(np.random.default_rng(step).random() < self.config.quantized_share)
        recon, posterior, rvq_out = model(real, quantize=quantize, decode_codes=decode_codes)
        self.stft_loss.to(real.device)
        self.mel_loss.to(real.device)
        stft = self.stft_loss(recon, real)
        mel = self.mel_loss(recon, real)
        kl = posterior.kl()
        loss = loss_cfg.stft_weight * stft + loss_cfg.mel_weight * mel + loss_cfg.kl_weight * kl
        metrics: dict[str, float | torch.Tensor] = {"stft": stft, "mel": mel, "kl": kl}
        if loss_cfg.pitch_weight or loss_cfg.chroma_weight:
            self.pitch_loss.to(real.device)
            low_band, chroma = self.pitch_loss.terms(recon, real)
            loss = loss + loss_cfg.pitch_weight * low_band + loss_cfg.chroma_weight * chroma
            metrics.update({"low_band": low_band, "chroma": chroma})
        if loss_cfg.phase_weight:
            self.phase_loss.to(real.device)
            phase = self.phase_loss(recon, real)
            loss = loss + loss_cfg.phase_weight * phase
            metrics["phase_advance"] = phase
        if rvq_out is not None:
            metrics["rvq_mse"] = rvq_out.stats["mse"][-1]
            metrics["rvq_perplexity"] = rvq_out.stats["perplexity"].mean()
        adversarial = discriminator is not None and step >= loss_cfg.adversarial_start_step
        if adversarial:
            assert discriminator is not None
            out = discriminator(torch.cat([real, recon]))
            real_feats = [[f.chunk(2)[0] for f in scale] for scale in out.features]
            fake_feats = [[f.chunk(2)[1] for f in scale] for scale in out.features]
            adv = generator_adversarial_loss([logit.chunk(2)[1] for logit in out.logits])
            fm = feature_matching_loss(real_feats, fake_feats)
            loss = loss + loss_cfg.adversarial_weight * adv + loss_cfg.feature_weight * fm
            metrics.update({"g_adv": adv, "feature_match": fm})
        disc_input = (real, recon.detach()) if adversarial else None
        return StepOutput(loss=loss, metrics=metrics, discriminator_input=disc_input)

    def discriminator_step(self, discriminator: nn.Module, inputs: Any, step: int) -> StepOutput:
        real, fake = inputs
        out = discriminator(torch.cat([real, fake]))
        halves = [logit.chunk(2) for logit in out.logits]
        loss = discriminator_loss([h[0] for h in halves], [h[1] for h in halves])
        return StepOutput(loss=loss, metrics={"d_loss": loss.detach()})

    def export(self, model: nn.Module, directory: Path) -> None:
        assert isinstance(model, CodecTrainModel)
        AudioCodec(model.vae, model.rvq).save_pretrained(directory)


def _trained_rvq(source: Path, config: RvqConfig) -> ResidualVQ:
    """The RVQ of the codec checkpoint `source`, which must have `config`."""
    try:
        rvq = ResidualVQ.from_pretrained(source / "rvq")
    except CheckpointError as exc:
        raise UserError(f"init_from: {source} has no readable RVQ ({exc})") from None
    if rvq.config != config:
        raise UserError(f"init_from: {source}'s RVQ has another config than this run's rvq")
    return rvq


def warm_start_vae(vae: Vae, source: Path) -> None:
    """Start `vae` from the VAE of the codec checkpoint `source` (its `vae/` folder).

    Every tensor is copied; the shapes must agree except where this VAE has more: where its
    "stft" encoder also reads a low band the source did not, the source's input weights are
    copied and the low band's are zero, so the encoder starts as the source's; a decoder low
    band the source lacks keeps its silent start. Where this decoder predicts phase
    increments and the source absolute phases, the phase rows start near zero (every bin
    advancing at its own rate: coherent tones at the bin centres, not noise). The RVQ is not
    copied: it is fitted on the new latents from `rvq_start_step`.

    Raises:
        UserError: `source` holds no readable VAE, or one of another shape than this one
            (beyond that low band).
    """
    try:
        source_vae = Vae.from_pretrained(source / "vae")
    except CheckpointError as exc:
        raise UserError(f"init_from: {source} is not a codec checkpoint ({exc})") from None
    state, own = source_vae.state_dict(), vae.state_dict()
    widened = "spectral_encoder.conv_in.weight_v"
    added = sorted(name for name in own.keys() - state.keys() if name.startswith(DECODER_LOW_BAND))
    mismatched = sorted(
        name
        for name in own.keys() | state.keys()
        if name not in added
        and (name not in own or name not in state or own[name].shape != state[name].shape)
    )
    if mismatched not in ([], [widened]):
        raise UserError(f"init_from: {source}'s VAE has another shape ({', '.join(mismatched)})")
    with torch.no_grad():
        for name, tensor in state.items():
            if name == widened and mismatched:
                own[name].zero_()
                own[name][:, : tensor.shape[1]] = tensor  # [out, bins (+ low band), kernel]
            else:
                own[name].copy_(tensor)
        if vae.config.phase == "increment" and source_vae.config.phase == "absolute":
            bins = vae.config.n_fft // 2 + 1
            for channel in range(vae.config.audio_channels):  # rows: [magnitude F, phase F] each
                phase_rows = slice((2 * channel + 1) * bins, (2 * channel + 2) * bins)
                own["spectral_decoder.conv_out.weight_g"][phase_rows] *= 1e-3
                own["spectral_decoder.conv_out.bias"][phase_rows] = 0.0
    vae.load_state_dict(own)
    logger.info(
        "warm start from %s (%d tensors; widened: %s; new: %s)",
        source,
        len(state),
        mismatched,
        added,
    )
