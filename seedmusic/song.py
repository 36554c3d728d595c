"""Score -> song: the mix, optional stems, and how well our own MIR hears the score in it.

`render_song(score, RenderRequest(renderer, stems, seed, language, adherence))` renders with
one of two renderers:

- `"synth"`, the exact reference (DESIGN.md §13): every instrument with FluidSynth and the
  vocal sung with espeak-ng + Praat (`seedmusic.data.render.render_stems`). Nothing learnt is
  involved, so the song counts as `trained`. Equal seeds give sample-identical audio.
- `"neural"`, the trained chain (score frames -> DiT -> VAE vocoder) in
  `seedmusic.neural_render.render_neural`, imported only when used. It reports itself whether
  the models it ran were trained.

and then, unless the request says not to, measures the song's adherence to its score
(`measure_adherence`): `mir.analyze` (with the shipped transcriber, when there is one) on the mix,
scored against the score with `mir.evaluate` (beat and downbeat F, tempo, key, chords, sections
and per-instrument note onset F1).

`song_writers(song, score)` gives the writers for `song.wav`, `stems/*.wav` and the score
files, for `seedmusic.outputs.write_all_or_nothing`; `write_song` writes them with
`summary.json`. Audio is 24 kHz mono 16-bit PCM WAV (as the demo writes its songs).
"""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

import numpy as np
import soundfile as sf
from tqdm.auto import tqdm

from score_tokens.score import DEFAULT_PROGRAMS, NOTE_TRACKS, Score, Track
from seedmusic.data.render import INSTRUMENTS, PEAK
from seedmusic.errors import UserError
from seedmusic.outputs import Writer, score_writers, write_all_or_nothing, write_json

logger = logging.getLogger(__name__)

Renderer = Literal["neural", "synth"]
RENDERERS: tuple[Renderer, ...] = ("neural", "synth")
SAMPLE_RATE = 24000
MAX_SECONDS = 1800.0
"""Scores longer than this (30 minutes) are refused rather than rendered."""
STEM_ORDER: tuple[str, ...] = ("vocal", "accompaniment", *INSTRUMENTS)
"""The stems written with `--stems`: vocal and accompaniment always (silent when the score has
no such part; they sum to the mix), then each instrument track the score has notes on."""


@dataclass(frozen=True)
class RenderRequest:
    """How to render a score."""

    renderer: Renderer = "neural"
    """"synth" (FluidSynth + sung vocal, exact) or "neural" (the trained chain)."""
    stems: bool = False
    """Also render the stems (`STEM_ORDER`)."""
    seed: int = 0
    """The synth singer's voice, or the neural renderer's sampling noise."""
    language: str = "en"
    """Of the lyrics, for the synth renderer's singer ("en", "de")."""
    adherence: bool = True
    """Measure how well our MIR hears the score in the mix (`measure_adherence`)."""
    reference: Path | None = None
    """An audio file whose sound the neural renderer's mix follows (no stems)."""


Adherence = dict[str, Any]
"""`{"metrics": {name: value or None}, "heard": {"tempo", "key", "time_signature"},
"transcriber": bool}`: `mir.evaluate`'s metrics of the song against its score, what the
analysis heard, and whether notes were transcribed (no note metrics without a transcriber)."""


@dataclass
class RenderedSong:
    """A rendered song. Every array is mono float32 `[S]` at `sample_rate`, of equal length."""

    mix: np.ndarray
    stems: dict[str, np.ndarray]
    """`STEM_ORDER` names -> audio; empty when stems were not asked for."""
    sample_rate: int
    renderer: Renderer
    trained: bool
    """False when any model the renderer ran was untrained (the neural renderer says)."""
    seed: int
    timings: dict[str, float] = field(default_factory=dict)
    """Seconds per stage: "render", the neural renderer's own stages, "adherence"."""
    details: dict[str, Any] = field(default_factory=dict)
    """What the renderer says about how it rendered (the neural chain, its steps, guidance)."""
    adherence: Adherence | None = None
    """None when it was not measured."""

    @property
    def seconds(self) -> float:
        return len(self.mix) / self.sample_rate

    def stem_files(self) -> list[str]:
        """The stem files `song_writers` writes, relative to the song's folder."""
        return [f"stems/{name}.wav" for name in self.stems]


def with_every_track(score: Score) -> Score:
    """`score`, or a copy with an empty track added for each note track it lacks (a score read
    from JSON or MIDI holds only the tracks it plays; the renderers ask for all five)."""
    missing = [name for name in NOTE_TRACKS if name not in score.tracks]
    if not missing:
        return score
    result = score.copy()
    for name in missing:
        result.tracks[name] = Track(DEFAULT_PROGRAMS[name])
    return result


def check_renderable(score: Score) -> None:
    """Raise `UserError` for a score there is nothing to render of (or far too much)."""
    if score.num_notes() == 0:
        raise UserError("the score has no notes to render")
    seconds = score.duration_seconds()
    if seconds > MAX_SECONDS:
        raise UserError(
            f"the score lasts {seconds / 60:.0f} minutes; songs up to "
            f"{MAX_SECONDS / 60:.0f} minutes are rendered"
        )


def render_song(
    score: Score, request: RenderRequest | None = None, progress: bool = False
) -> RenderedSong:
    """Render `score` to a song and, if asked, measure its adherence (module docstring).

    Args:
        score: a validated score with at least one note.
        request: renderer, stems, seed, language, adherence (default: `RenderRequest()`).
        progress: show a progress bar over the stages (and the stages' own bars).

    Raises:
        UserError: an empty or overlong score, an unknown renderer, or one that is not
            available (a missing program, module or checkpoint; the neural renderer may also
            raise `renderer.modeling.CheckpointError`).
    """
    request = request or RenderRequest()
    if request.renderer not in RENDERERS:
        raise UserError(f"unknown renderer {request.renderer!r}; use one of {', '.join(RENDERERS)}")
    check_renderable(score)
    check_reference(request)
    score = with_every_track(score)
    total = 2 if request.adherence else 1
    with tqdm(total=total, desc="song", unit="stage", disable=not progress, leave=False) as bar:
        bar.set_postfix_str("render")
        started = time.perf_counter()
        song = _render(score, request, progress)
        song.timings = {"render": time.perf_counter() - started, **song.timings}
        bar.update()
        if request.adherence:
            bar.set_postfix_str("adherence")
            started = time.perf_counter()
            song.adherence = measure_adherence(song, score, progress)
            song.timings["adherence"] = time.perf_counter() - started
            bar.update()
    logger.debug("rendered %.1f s with the %s renderer", song.seconds, request.renderer)
    return song


def check_reference(request: RenderRequest) -> None:
    """Refuse a `reference` the request cannot use, before any work: with the synth renderer,
    with stems, a file that does not exist, or a shipped DiT that reads no reference.

    Raises:
        UserError: what is wrong, in one line.
    """
    if request.reference is None:
        return
    if request.renderer != "neural" or request.stems:
        raise UserError("--reference works with the neural renderer, without --stems")
    if not request.reference.is_file():
        raise UserError(f"--reference: {request.reference} is not a file")
    from renderer.dit import LatentDiT
    from seedmusic.checkpoints import reference_checkpoint
    from seedmusic.neural_render import NO_REFERENCE
    from seedmusic.render_conditions import reads_reference

    config = LatentDiT.read_config(reference_checkpoint("dit"))  # CheckpointError: one line
    if not reads_reference(config.global_dim, config.latent_dim):
        raise UserError(NO_REFERENCE)


def _render(score: Score, request: RenderRequest, progress: bool) -> RenderedSong:
    info: dict[str, Any] = {"trained": True}
    if request.renderer == "synth":
        mix, parts = _render_synth(score, request.seed, request.language)
    else:
        mix, parts, info = _render_neural(score, request, progress)
        mix, parts = _limited(mix, parts)
    timings = {str(stage): float(seconds) for stage, seconds in info.get("timings", {}).items()}
    details = {k: v for k, v in info.items() if k not in ("trained", "timings")}
    return RenderedSong(
        mix=mix,
        stems=_stem_set(score, mix, parts) if request.stems else {},
        sample_rate=SAMPLE_RATE,
        renderer=request.renderer,
        trained=bool(info.get("trained", False)),
        seed=request.seed,
        timings=timings,
        details=details,
    )


def _render_synth(
    score: Score, seed: int, language: str
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    from seedmusic.data.render import render_stems

    mix, parts = render_stems(score, SAMPLE_RATE, language, seed)  # [S], {track: [S]}
    return mix, parts


def _render_neural(
    score: Score, request: RenderRequest, progress: bool
) -> tuple[np.ndarray, dict[str, np.ndarray], dict[str, Any]]:
    """`(mix, stems, info)` from `seedmusic.neural_render.render_neural`."""
    from seedmusic.neural_render import render_neural

    audio, info = render_neural(
        score,
        stems=request.stems,
        seed=request.seed,
        progress=progress,
        reference=request.reference,
    )
    if "mix" not in audio:
        raise RuntimeError("the neural renderer returned no mix")
    arrays = {name: np.asarray(wav, dtype=np.float32).reshape(-1) for name, wav in audio.items()}
    return arrays.pop("mix"), arrays, info


def _limited(
    mix: np.ndarray, parts: dict[str, np.ndarray]
) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Mix and parts scaled by one gain so that none peaks above `PEAK` (as `render_stems`
    does), so that they are written unclipped and still add up."""
    peak = max(float(np.abs(wav).max(initial=0.0)) for wav in (mix, *parts.values()))
    if peak <= PEAK:
        return mix, parts
    gain = np.float32(PEAK / peak)
    return mix * gain, {name: wav * gain for name, wav in parts.items()}


def _stem_set(score: Score, mix: np.ndarray, parts: dict[str, np.ndarray]) -> dict[str, np.ndarray]:
    """`STEM_ORDER` stems from the renderer's parts: vocal and accompaniment always (the
    accompaniment, unless given, is the sum of the instrument parts), then each instrument
    the score has notes on. Every stem is cut or zero-padded to the mix's length."""
    length = len(mix)

    def fit(wav: np.ndarray) -> np.ndarray:
        out = np.zeros(length, dtype=np.float32)
        out[: min(length, len(wav))] = wav[:length]
        return out

    instruments = {
        name: fit(parts[name]) for name in INSTRUMENTS if score.notes(name) and name in parts
    }
    vocal = fit(parts["vocal"]) if "vocal" in parts else np.zeros(length, dtype=np.float32)
    if "accompaniment" in parts:
        accompaniment = fit(parts["accompaniment"])
    else:
        accompaniment = np.sum([*instruments.values(), np.zeros(length)], axis=0)
    return {"vocal": vocal, "accompaniment": accompaniment.astype(np.float32), **instruments}


def measure_adherence(song: RenderedSong, score: Score, progress: bool = False) -> Adherence:
    """Analyze the song's mix with our MIR and score it against `score` (see `Adherence`)."""
    from mir.analyze import analyze
    from mir.audio import Audio
    from mir.evaluate import evaluate, ground_truth_from_score

    transcriber = _shipped_transcriber()
    analysis = analyze(
        Audio(song.mix[np.newaxis, :], song.sample_rate),  # [1, S]
        progress=progress,
        transcriber=transcriber,
    )
    return {
        "metrics": evaluate(analysis, ground_truth_from_score(score)),
        "heard": {
            "tempo": analysis.tempo,
            "key": analysis.key,
            "time_signature": analysis.time_signature,
        },
        "transcriber": transcriber is not None,
    }


def _shipped_transcriber() -> Any:
    """The reference transcriber, or None (with a log line) when it is not there."""
    from mir.transcriber import Transcriber
    from seedmusic.checkpoints import optional_reference_checkpoint

    folder = optional_reference_checkpoint("transcriber", "adherence has no note metrics")
    return None if folder is None else Transcriber.from_pretrained(folder).eval()


def song_summary(song: RenderedSong, timings: dict[str, float] | None = None) -> dict[str, Any]:
    """The render part of `summary.json` (see the `render` verb); `timings` (seconds per
    stage) come before the song's own, e.g. {"compose": s}."""
    stages = {**(timings or {}), **song.timings}
    return {
        "renderer": song.renderer,
        "trained": song.trained,
        "seconds": round(song.seconds, 3),
        "sample_rate": song.sample_rate,
        "seed": song.seed,
        "stems": song.stem_files(),
        "adherence": song.adherence,
        "timings": {stage: round(seconds, 3) for stage, seconds in stages.items()},
        **({"renderer_details": song.details} if song.details else {}),
    }


def song_writers(song: RenderedSong, score: Score) -> dict[str, Writer]:
    """Writers for `song.wav`, each `stems/<name>.wav` and the score files."""
    writers = {"song.wav": _wav_writer(song.mix, song.sample_rate)}
    for name, wav in song.stems.items():
        writers[f"stems/{name}.wav"] = _wav_writer(wav, song.sample_rate)
    writers.update(score_writers(score))
    return writers


def write_song(
    folder: Path,
    song: RenderedSong,
    score: Score,
    summary: dict[str, Any],
    extra: dict[str, Writer] | None = None,
) -> list[str]:
    """Write `song_writers`, `extra` and `summary.json` (`summary`) into `folder`: all of them
    or none. Returns the names written."""
    writers = {**song_writers(song, score), **(extra or {})}
    writers["summary.json"] = lambda path: write_json(path, summary)
    write_all_or_nothing(folder, writers)
    return list(writers)


def _wav_writer(wav: np.ndarray, sample_rate: int) -> Writer:
    """Writes `wav` `[S]` as 16-bit PCM WAV."""

    def write(path: Path) -> None:
        sf.write(path, np.clip(wav, -1.0, 1.0), sample_rate, subtype="PCM_16")

    return write
