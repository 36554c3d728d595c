"""Re-render only what changed: a song and an edited score -> the song with those bars redone.

    source audio ─► codec VAE latents (24 kHz mono)           [1, D, T]
    diff(score, edited) ─► bar spans ─► frame spans
    for each span: the DiT inpaints its frames, conditioned on the edited score's frames, with the
        original latents around it (`context` frames each side) as known frames, re-imposed at
        every step ─► VAE decode of that window ─► one gain per half-octave band giving the span
        the source's long-term spectrum there (±6 dB at most) ─► the span's audio
    output = the source, sample for sample, outside the spans; the new audio inside them, with
        crossfades `crossfade` seconds long just inside each seam, of constant power for the
        correlation the two sides have there (equal-power when they are unrelated)

A DiT that reads a reference embedding (`seedmusic.render_conditions`) gets the source song's
(`NeuralRenderer.reference_latents`: at most a minute of it, spread over the song), so the new
bars are told how the whole song sounds and not only the 2 s around them.

The output keeps the source's sample rate, channels and length: outside the spans it *is* the
source. A span whose timing changes the rest of the song (a new tempo, bars added or removed)
runs to the end of the song: everything after it moves. An edited score that ends later than the
song (bars appended, `extend`) lengthens it: the song is continued, from the new bars' first bar
line to the edited score's end, with the song before them as the DiT's context.
"""

from __future__ import annotations

import logging
import math
import time
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np
import torch

from renderer.sampling import sample_latents
from score_tokens.edit import diff
from score_tokens.score import Score
from seedmusic.errors import UserError
from seedmusic.neural_render import NeuralRenderer, NeuralRenderSettings
from seedmusic.render_conditions import render_conditions

logger = logging.getLogger(__name__)

CONTEXT_FRAMES = 50
"""Known frames of the original on each side of a span (2 s at 25 frames/s)."""
CROSSFADE_SECONDS = 0.05
MONO_BLOCK = 1 << 20
"""Samples the source is mixed down to mono at a time."""
FULL_SCALE = 0.999
LIMITER_SECONDS = 0.005
MATCH_BANDS_PER_OCTAVE = 2
"""Resolution of the spectral match (`_spectrum_matched`): bands half an octave wide are too
broad to carry the notes themselves (with 40 mel bands, 83 Hz apart below 1 kHz, a
transposed span took back some of the source's chroma: the shift was heard in 18 of 28
recordings against 23 without a match; 22 with half-octave bands)."""
MATCH_LOWEST_HZ = 62.5
"""Centre of the lowest band; every band below it is this one."""
MATCH_MAX_DB = 6.0
"""The most the spectral match turns a band up or down (at 9 or 12 dB the transposition was heard
in 19 of 28 recordings: the match starts to undo it)."""
MATCH_FFT = 2048
MATCH_SILENCE = 1e-3
"""RMS under which a stretch is too quiet to match a spectrum to (or from)."""


@dataclass(frozen=True)
class Span:
    """Bars [first_bar, stop_bar) (0-based) of the edited score, and their time in seconds."""

    first_bar: int
    stop_bar: int
    start: float
    end: float

    def to_json(self) -> dict[str, Any]:
        """`{"bars": [a, b], "start": s, "end": s}` with bars 1-based and inclusive (as in
        `score.png`)."""
        return {
            "bars": [self.first_bar + 1, self.stop_bar],
            "start": round(self.start, 3),
            "end": round(self.end, 3),
        }


@dataclass
class EditedSong:
    """The edited audio `[C, S]` (the source's rate and channels; its length, or longer when bars
    were appended) and what changed."""

    audio: np.ndarray
    sample_rate: int
    spans: list[Span]
    timings: dict[str, float] = field(default_factory=dict)

    @property
    def unchanged_seconds(self) -> float:
        """Seconds of the song copied from the source untouched (crossfades count as changed)."""
        total = self.audio.shape[1] / self.sample_rate
        return max(0.0, total - sum(s.end - s.start for s in self.spans))

    def to_json(self) -> dict[str, Any]:
        return {
            "spans": [s.to_json() for s in self.spans],
            "unchanged_seconds": round(self.unchanged_seconds, 3),
        }


def changed_spans(original: Score, edited: Score, seconds: float) -> list[Span]:
    """The bar spans where `edited` differs from `original`, in the edited score's time, cut at
    `seconds` (the song's length). A span after which the bars start at other times (a tempo
    or meter change, bars added or removed) runs to the end."""
    edited_starts = edited.bar_starts()
    original_starts = original.bar_starts()
    spans: list[Span] = []
    for first, stop in diff(original, edited):
        stop = min(stop, len(edited_starts))
        if first >= stop:
            continue
        if _timing_moves(original, edited, original_starts, edited_starts, stop):
            stop = len(edited_starts)
        spans += _bar_span(edited, edited_starts, first, stop, seconds)
    return _merged(spans)


def with_retakes(
    original: Score, edited: Score, seconds: float, bars: Sequence[tuple[int, int]]
) -> list[Span]:
    """The spans where `edited` differs from `original` (`changed_spans`) and the bars
    [first, stop) of `bars` (0-based, of `edited`) re-rendered as they are, merged; bars that
    start after the song's end (`seconds`) are left out."""
    starts = edited.bar_starts()
    spans = changed_spans(original, edited, seconds)
    for first, stop in bars:
        spans += _bar_span(edited, starts, first, stop, seconds)
    return _merged(spans)


def _bar_span(score: Score, starts: list[int], first: int, stop: int, seconds: float) -> list[Span]:
    """Bars [first, stop) of `score` (`starts`: its bar starts in ticks) as a span cut at
    `seconds`: `[span]`, or `[]` when they start after it. The last bar runs to the later of the
    score's end and `seconds`."""
    start = score.tick_to_seconds(starts[first])
    if start >= seconds:
        return []
    end = (
        score.tick_to_seconds(starts[stop])
        if stop < len(starts)
        else max(seconds, score.duration_seconds())
    )
    return [Span(first, stop, start, min(end, seconds))]


def _timing_moves(
    original: Score, edited: Score, a_starts: list[int], b_starts: list[int], bar: int
) -> bool:
    """Whether bar `bar` and the ones after it start at other seconds in `edited`."""
    if len(a_starts) != len(b_starts):
        return True
    for index in range(bar, len(a_starts)):
        if (
            abs(original.tick_to_seconds(a_starts[index]) - edited.tick_to_seconds(b_starts[index]))
            > 1e-3
        ):
            return True
    return False


def _merged(spans: list[Span]) -> list[Span]:
    out: list[Span] = []
    for span in sorted(spans, key=lambda s: s.start):
        if out and span.start <= out[-1].end + 1e-6:
            last = out[-1]
            out[-1] = Span(
                last.first_bar,
                max(last.stop_bar, span.stop_bar),
                last.start,
                max(last.end, span.end),
            )
        else:
            out.append(span)
    return out


def edit_song(
    renderer: NeuralRenderer,
    audio: np.ndarray,
    sample_rate: int,
    original: Score,
    edited: Score,
    seed: int = 0,
    settings: NeuralRenderSettings | None = None,
    context: int = CONTEXT_FRAMES,
    crossfade: float = CROSSFADE_SECONDS,
    reference: bool = True,
    in_place: bool = False,
    spans: Sequence[Span] | None = None,
    match_spectrum: bool = True,
    retakes: Sequence[tuple[int, int]] = (),
) -> EditedSong:
    """Re-render the bars of `audio` (`[C, S]` float at `sample_rate`) where `edited` differs
    from `original` (see the module docstring). `reference=False` gives a DiT that reads a
    reference embedding none (to measure what the reference does). `in_place` writes the new
    bars into `audio` itself instead of a copy (an hour of 48 kHz stereo is 1.4 GB as float64).
    `spans` re-renders those bars instead of the ones the scores differ in: with `edited` the
    same as `original`, a retake of them (what the renderer does to bars nothing asked to change).
    `retakes` (bars [first, stop), 0-based) are re-rendered beside the changed bars
    (`with_retakes`).
    `match_spectrum` gives each re-rendered span the source's spectral balance
    (`_spectrum_matched`).

    Raises:
        UserError: the edit changes nothing.
    """
    settings = settings or NeuralRenderSettings()
    source_length = audio.shape[1]
    audio = _lengthened(audio, sample_rate, original, edited)  # [C, S] (S grows when extended)
    seconds = audio.shape[1] / sample_rate
    if spans is None:
        spans = with_retakes(original, edited, seconds, retakes)
    spans = list(spans)
    if not spans:
        raise UserError("the edited score is the same as the song's score: nothing to re-render")
    timings: dict[str, float] = {"encode": 0.0, "dit": 0.0, "vae": 0.0}
    mono = _codec_mono(renderer, audio, sample_rate)  # [S'] at the codec's rate
    out = audio if in_place else audio.copy()
    generator = torch.Generator().manual_seed(seed)
    frame_rate = renderer.codec.frame_rate
    total = math.ceil(mono.size / renderer.codec.hop_length)
    frames, glob = render_conditions(edited, "mix", frame_rate, total)
    cond = torch.from_numpy(frames)[None]  # [1, F, T]
    started = time.perf_counter()
    song = None
    played = math.ceil(source_length / sample_rate * frame_rate)  # frames the source covers
    if renderer.takes_reference and reference:
        song = renderer.reference_latents(
            mono[: round(source_length / sample_rate * renderer.sample_rate)]
        )
    global_vector = renderer.global_vector(glob, song)  # [1, G]
    timings["encode"] += time.perf_counter() - started
    ceiling = _ceiling(audio)
    work = torch.zeros(1, renderer.dit.config.latent_dim, total)  # [1, D, T], normalized
    encoded = torch.zeros(total, dtype=torch.bool)  # frames of `work` that hold latents
    for span in spans:
        a = max(0, math.floor(span.start * frame_rate))
        b = min(total, math.ceil(span.end * frame_rate))
        lo, hi = max(0, a - context), min(total, b + context)
        started = time.perf_counter()
        fresh = ~encoded[lo:hi]  # an earlier span's re-rendered frames stay as they are
        source = renderer.dit.normalize(renderer.encode_frames(mono, lo, hi))
        work[..., lo:hi][..., fresh] = source[..., fresh]
        encoded[lo:hi] = True
        timings["encode"] += time.perf_counter() - started
        started = time.perf_counter()
        work = _inpaint(renderer, work, cond, global_vector, a, b, context, settings, generator)
        timings["dit"] += time.perf_counter() - started
        started = time.perf_counter()
        window = renderer.decode(
            renderer.dit.denormalize(work[..., lo:hi]), (hi - lo) * renderer.codec.hop_length
        )
        if match_spectrum:
            hop = renderer.codec.hop_length
            target = _match_target(mono, a * hop, b * hop, played * hop)
            window = _spectrum_matched(
                window, target, (a - lo) * hop, (b - lo) * hop, renderer.sample_rate
            )
        timings["vae"] += time.perf_counter() - started
        new = _to_source_format(window, renderer.sample_rate, sample_rate, audio.shape[0])
        offset = round(lo / frame_rate * sample_rate)  # the window's first sample in the song
        _splice(out, new, offset, span, sample_rate, crossfade, source_length, ceiling)
    return EditedSong(out, sample_rate, spans, {k: round(v, 3) for k, v in timings.items()})


def _lengthened(audio: np.ndarray, sample_rate: int, original: Score, edited: Score) -> np.ndarray:
    """`audio` `[C, S]`, with silence appended up to the end of `edited` when it ends later than
    `original` does and than the audio does (bars were appended): the room the new bars fill."""
    if edited.duration_seconds() <= original.duration_seconds() + 1e-6:
        return audio
    length = math.ceil(edited.duration_seconds() * sample_rate)
    if length <= audio.shape[1]:
        return audio
    return np.concatenate([audio, np.zeros((audio.shape[0], length - audio.shape[1]))], axis=1)


def _codec_mono(renderer: NeuralRenderer, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """The source `[C, S]` downmixed and resampled to the codec's rate: `[S']` float32."""
    mono = np.empty(audio.shape[1], dtype=np.float32)
    for start in range(0, audio.shape[1], MONO_BLOCK):  # no float64 copy of the whole song
        mono[start : start + MONO_BLOCK] = audio[:, start : start + MONO_BLOCK].mean(axis=0)
    if sample_rate != renderer.sample_rate:
        import librosa

        mono = librosa.resample(mono, orig_sr=sample_rate, target_sr=renderer.sample_rate)
    return mono


def _inpaint(
    renderer: NeuralRenderer,
    work: torch.Tensor,
    cond: torch.Tensor,
    global_vector: torch.Tensor,
    a: int,
    b: int,
    context: int,
    settings: NeuralRenderSettings,
    generator: torch.Generator,
) -> torch.Tensor:
    """Frames [a, b) of `work` (normalized latents) generated anew, chunk after chunk of at most
    `settings.window - 2 * context` frames, each with known frames on both sides."""
    total = work.shape[-1]
    chunk = max(1, settings.window - 2 * context)
    work = work.clone()
    for start in range(a, b, chunk):
        stop = min(b, start + chunk)
        lo, hi = max(0, start - context), min(total, stop + context)
        known = torch.ones(1, 1, hi - lo)
        known[..., start - lo : stop - lo] = 0.0
        work[..., lo:hi] = sample_latents(
            renderer.dit,
            None,
            settings.steps,
            guidance_scale=settings.guidance,
            known_latents=work[..., lo:hi],
            known_mask=known,
            global_embedding=global_vector,
            generator=generator,
            progress=False,
            score_frames=cond[..., lo:hi],
        )
    return work


def _match_target(mono: np.ndarray, start: int, stop: int, played: int) -> np.ndarray:
    """The source audio whose spectrum a span re-rendered over samples [start, stop) of `mono`
    is matched to: those same samples (the bars it replaces), or, for bars appended after the
    source's end (`played`), as many samples just before it."""
    if start < played:
        return mono[start : min(stop, played)]
    return mono[max(0, played - (stop - start)) : played]


def _spectrum_matched(
    wav: np.ndarray, target: np.ndarray, start: int, stop: int, rate: int
) -> np.ndarray:
    """`wav` (mono at `rate`) filtered by one fixed gain per half-octave band (`_octave_bands`),
    so that its long-term spectrum over samples [start, stop) matches `target`'s (gains within
    ±`MATCH_MAX_DB`, interpolated between the bands). The DiT knows the sound of its training SoundFonts only: bars it
    re-renders in a recording have their own spectral balance, which this gives back the song's.
    `wav` comes back as it was when either stretch is near silence or shorter than one FFT."""
    import librosa

    part = wav[start:stop]
    if min(part.size, target.size) < MATCH_FFT or min(_rms(part), _rms(target)) < MATCH_SILENCE:
        return wav
    bands = _octave_bands(rate, MATCH_FFT)  # [M, F]

    def band_power(x: np.ndarray) -> np.ndarray:  # [M]
        spectrum = np.abs(librosa.stft(x, n_fft=MATCH_FFT, hop_length=MATCH_FFT // 4)) ** 2
        return bands @ spectrum.mean(axis=1) + 1e-12

    gain_db = 10.0 * np.log10(band_power(target) / band_power(part))
    gain_db = np.clip(gain_db, -MATCH_MAX_DB, MATCH_MAX_DB)
    bins = bands.T @ gain_db  # [F]: the bands' weights add up to 1 in every bin
    stft = librosa.stft(wav, n_fft=MATCH_FFT, hop_length=MATCH_FFT // 4)  # [F, frames]
    out = librosa.istft(
        stft * 10.0 ** (bins[:, None] / 20.0), hop_length=MATCH_FFT // 4, length=wav.size
    )
    return out.astype(wav.dtype)


def _octave_bands(rate: int, n_fft: int) -> np.ndarray:
    """`[M, F]` triangular weights on a log-frequency axis, `MATCH_BANDS_PER_OCTAVE` bands per
    octave from `MATCH_LOWEST_HZ` up to the Nyquist frequency, over the bins of an `n_fft`-point
    rfft; the bins below the lowest centre (and above the highest) belong to the end band, so
    every bin's weights add up to 1."""
    freqs = np.fft.rfftfreq(n_fft, 1.0 / rate)  # [F]
    count = int(np.floor(MATCH_BANDS_PER_OCTAVE * np.log2(rate / 2 / MATCH_LOWEST_HZ))) + 1
    position = MATCH_BANDS_PER_OCTAVE * np.log2(np.maximum(freqs, 1e-6) / MATCH_LOWEST_HZ)
    position = np.clip(position, 0.0, count - 1)  # [F], in bands
    return np.maximum(0.0, 1.0 - np.abs(position[None, :] - np.arange(count)[:, None]))


def _rms(x: np.ndarray) -> float:
    return float(np.sqrt(np.mean(np.square(x, dtype=np.float64)))) if x.size else 0.0


def _ceiling(audio: np.ndarray) -> float:
    """The peak the re-rendered bars may reach: the source's own (read block by block), or just
    under full scale for a near-silent source."""
    peak = 0.0
    for start in range(0, audio.shape[1], MONO_BLOCK):
        peak = max(peak, float(np.max(np.abs(audio[:, start : start + MONO_BLOCK]), initial=0.0)))
    return min(FULL_SCALE, peak) if peak > 1e-3 else FULL_SCALE


def _limited(audio: np.ndarray, ceiling: float, rate: int) -> np.ndarray:
    """`audio` `[C, S]` with its peaks over `ceiling` turned down by a gain that moves smoothly
    (over `LIMITER_SECONDS`) and never lets a sample pass the ceiling: the DiT can draw a burst
    where the generated frames meet the known ones (peaks of 1.4x the source's were measured on
    real recordings), which a 16-bit file would clip."""
    from scipy.ndimage import minimum_filter1d, uniform_filter1d

    peak = np.max(np.abs(audio), axis=0)  # [S]
    if peak.size == 0 or float(peak.max()) <= ceiling:
        return audio
    size = max(1, round(LIMITER_SECONDS * rate)) | 1  # odd: centred windows
    gain = np.minimum(1.0, ceiling / np.maximum(peak, 1e-12))
    # the mean over a window of the window-minimum is at most the gain every sample needs
    gain = uniform_filter1d(minimum_filter1d(gain, size, mode="nearest"), size, mode="nearest")
    return audio * np.minimum(gain, 1.0)


def _to_source_format(wav: np.ndarray, rate: int, target_rate: int, channels: int) -> np.ndarray:
    """Mono `[S]` at `rate` -> `[channels, S']` at `target_rate` (float64)."""
    if rate != target_rate:
        import librosa

        wav = librosa.resample(wav, orig_sr=rate, target_sr=target_rate)
    return np.repeat(wav.astype(np.float64)[None], channels, axis=0)


def _splice(
    out: np.ndarray,
    new: np.ndarray,
    offset: int,
    span: Span,
    rate: int,
    crossfade: float,
    source_length: int | None = None,
    ceiling: float = FULL_SCALE,
) -> None:
    """Write `new` (which starts at sample `offset` of the song) into `out` over the span, with
    constant-power crossfades just inside its edges (`_constant_power_partner`); samples
    outside the span stay untouched. A span that starts where the source ends
    (`source_length`: appended bars) fades nothing in. No sample of the span passes
    `ceiling` (`_limited`)."""
    length = out.shape[1]
    start, end = round(span.start * rate), min(length, round(span.end * rate))
    if end <= start:
        return
    piece = np.zeros((out.shape[0], end - start))
    available = new[:, max(0, start - offset) : max(0, end - offset)]
    piece[:, : available.shape[1]] = available
    fade = min(round(crossfade * rate), (end - start) // 2)
    gain_new = np.ones(end - start)
    gain_old = np.zeros(end - start)
    if fade > 0:
        ramp = np.sin(0.5 * np.pi * (np.arange(fade) + 0.5) / fade)  # 0 -> 1
        old = out[:, start:end]
        if 0 < start < (length if source_length is None else source_length):
            r = _correlation(old[:, :fade], piece[:, :fade])
            gain_new[:fade], gain_old[:fade] = ramp, _constant_power_partner(ramp, r)
        if end < length:
            r = _correlation(old[:, -fade:], piece[:, -fade:])
            gain_new[-fade:], gain_old[-fade:] = ramp[::-1], _constant_power_partner(ramp[::-1], r)
    out[:, start:end] = _limited(gain_old * out[:, start:end] + gain_new * piece, ceiling, rate)


def _correlation(a: np.ndarray, b: np.ndarray) -> float:
    """Normalized correlation of two `[C, N]` stretches, clipped to [0, 1] (0 for silence)."""
    norm = float(np.sqrt(np.sum(a * a) * np.sum(b * b)))
    return 0.0 if norm <= 1e-12 else float(np.clip(np.sum(a * b) / norm, 0.0, 1.0))


def _constant_power_partner(gain_new: np.ndarray, r: float) -> np.ndarray:
    """The outgoing gain g that keeps the crossfade's power constant for signals of correlation
    `r`: g² + n² + 2·r·g·n = 1. Uncorrelated (r = 0): the equal-power sqrt(1 - n²); identical
    (r = 1): the equal-gain 1 - n, where equal-power gains would add up to +3 dB mid-fade (the
    DiT redraws the known frames next to a seam almost as they were, so the two sides at a seam
    are strongly correlated: equal-power fades put peaks of 1.4x the source's there)."""
    return -r * gain_new + np.sqrt(np.clip(1.0 - gain_new**2 * (1.0 - r * r), 0.0, None))
