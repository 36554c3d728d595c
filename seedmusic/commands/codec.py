"""`seedmusic codec`: audio <-> RVQ audio tokens with the VAE + RVQ codec.

    seedmusic codec encode AUDIO -o CODES.npz [--checkpoint DIR] [--num-codebooks K]
    seedmusic codec decode CODES.npz -o OUT.wav [--checkpoint DIR]

The `.npz` holds `codes` (int16/int32 `[K, T]`), `sample_rate`, `frame_rate`, `codebook_size`
and `num_samples` (the encoded audio's length, so that decoding gives it back exactly).
"""

from __future__ import annotations

import argparse
import logging
from pathlib import Path
from typing import Any

import numpy as np

from score_tokens.io import atomic_write
from seedmusic.errors import UserError
from seedmusic.inputs import check_audio, probe_audio, read_codes_npz

logger = logging.getLogger(__name__)


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `codec` verb with `encode` and `decode`."""
    parser = subparsers.add_parser(
        "codec",
        help="turn audio into RVQ audio tokens and back",
        description="Encode audio into the LM's audio tokens, or decode tokens into audio.",
    )
    actions = parser.add_subparsers(dest="codec_action", metavar="ACTION", required=True)
    encode = actions.add_parser(
        "encode",
        help="audio file -> codes (.npz)",
        description="Encode AUDIO (any rate, mono or stereo) into RVQ codes [K, T].",
    )
    encode.add_argument("audio", type=Path, metavar="AUDIO")
    encode.add_argument("-o", "--output", type=Path, required=True, metavar="CODES.npz")
    encode.add_argument(
        "--num-codebooks", type=int, default=None, metavar="K", help="use the first K (all)"
    )
    _checkpoint_argument(encode)
    encode.set_defaults(func=run_encode)
    decode = actions.add_parser(
        "decode",
        help="codes (.npz) -> audio file",
        description="Decode RVQ codes written by `codec encode` into audio (wav or flac).",
    )
    decode.add_argument("codes", type=Path, metavar="CODES.npz")
    decode.add_argument("-o", "--output", type=Path, required=True, metavar="OUT.wav")
    _checkpoint_argument(decode)
    decode.set_defaults(func=run_decode)


def _checkpoint_argument(parser: argparse.ArgumentParser) -> None:
    parser.add_argument(
        "--checkpoint",
        type=Path,
        default=None,
        metavar="DIR",
        help="a codec folder with vae/ and rvq/ (default: the shipped checkpoints/codec)",
    )


def _load_codec(path: Path | None) -> Any:
    from renderer.codec import AudioCodec
    from seedmusic.checkpoints import reference_checkpoint

    folder = reference_checkpoint("codec") if path is None else path
    if not folder.is_dir():
        raise UserError(f"no codec checkpoint at {folder}")
    return AudioCodec.from_pretrained(folder)


def run_encode(args: argparse.Namespace) -> int:
    """`codec encode AUDIO -o CODES.npz`."""
    from renderer.codec import load_audio

    output: Path = args.output
    if output.suffix != ".npz":
        raise UserError(f"codes are written as .npz; name the output *.npz, not {output.name!r}")
    info = probe_audio(args.audio)  # the header's rate, channels and length, before any work
    codec = _load_codec(args.checkpoint)
    k = args.num_codebooks
    if k is not None and not 1 <= k <= codec.num_codebooks:
        raise UserError(f"--num-codebooks must be 1..{codec.num_codebooks}, got {k}")
    try:  # the codec's reader: files over 10 minutes block by block
        wav = load_audio(args.audio, codec.sample_rate, codec.audio_channels)  # [C, S]
    except ValueError as exc:
        raise UserError(str(exc)) from None
    check_audio(wav, codec.sample_rate, str(args.audio))  # silence, clipping: logged
    if info is not None and info.channels != codec.audio_channels:
        logger.info(
            "%s: mixed %d channels into the codec's %d",
            args.audio,
            info.channels,
            codec.audio_channels,
        )
    import torch

    with torch.no_grad():
        codes = codec.encode(torch.from_numpy(wav)[None], num_codebooks=k)[0].numpy()  # [k, T]
    _write_npz(
        output,
        codes=codes.astype(np.int16 if codec.codebook_size <= 2**15 else np.int32),
        sample_rate=np.int64(codec.sample_rate),
        frame_rate=np.float64(codec.frame_rate),
        codebook_size=np.int64(codec.codebook_size),
        num_samples=np.int64(wav.shape[1]),
    )
    logger.info(
        "wrote %s: %d codebooks x %d frames (%.0f bit/s)",
        output,
        codes.shape[0],
        codes.shape[1],
        codec.frame_rate * codes.shape[0] * np.log2(codec.codebook_size),
    )
    return 0


def run_decode(args: argparse.Namespace) -> int:
    """`codec decode CODES.npz -o OUT.wav`."""
    output: Path = args.output
    if output.suffix.lower() not in (".wav", ".flac"):
        raise UserError(f"write audio as .wav or .flac, not {output.name!r}")
    data = read_codes_npz(args.codes)
    codec = _load_codec(args.checkpoint)
    if int(data["sample_rate"]) != codec.sample_rate:
        raise UserError(
            f"{args.codes} was made by a codec at {int(data['sample_rate'])} Hz; "
            f"this one works at {codec.sample_rate} Hz"
        )
    if int(data["codebook_size"]) != codec.codebook_size:
        raise UserError(
            f"{args.codes} has codebooks of {int(data['codebook_size'])} codes; "
            f"this codec has {codec.codebook_size}"
        )
    import torch

    codes = torch.from_numpy(data["codes"].astype(np.int64))
    length = int(data["num_samples"]) if "num_samples" in data else None
    try:
        codec.decode_to_file(codes, output, length=length)
    except ValueError as exc:
        raise UserError(f"{args.codes}: {exc}") from None
    logger.info("wrote %s", output)
    return 0


def _write_npz(path: Path, **arrays: Any) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)

    def write(temp: Path) -> None:
        with open(temp, "wb") as handle:  # a file object: savez appends no suffix
            np.savez(handle, **arrays)

    atomic_write(path, write)
