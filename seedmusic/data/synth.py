"""Render a `Score` to audio with FluidSynth and a General-MIDI SoundFont.

The score is written as a Standard MIDI File (`score_tokens.midi`) and rendered offline by the
`fluidsynth` program (Debian package `fluidsynth`) with `--fast-render`; the result is read back
with soundfile and mixed to mono. Rendering a subset of the tracks gives a stem.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
import tempfile
from collections.abc import Iterable
from pathlib import Path

import numpy as np
import soundfile as sf

from score_tokens.midi import write_midi
from score_tokens.score import NOTE_TRACKS, Score, Track
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

SOUNDFONT_DIRS: tuple[Path, ...] = (
    Path("/usr/share/sounds/sf2"),
    Path("/usr/share/sounds/sf3"),
    Path("/usr/share/soundfonts"),
)
SOUNDFONTS: dict[str, str] = {
    "fluidr3": "FluidR3_GM.sf2",  # Debian fluid-soundfont-gm (MIT)
    "fluidr3mono": "FluidR3Mono_GM.sf3",  # Debian fluidr3mono-gm-soundfont (MIT)
    "csound": "sf_GMbank.sf2",  # Debian csound-soundfont (LGPL-2.1)
    "opl3": "OPL-3_FM_128M.sf2",  # Debian opl3-soundfont (FM synthesis; public domain)
    "timgm6mb": "TimGM6mb.sf2",  # Debian timgm6mb-soundfont (GPL-2)
}
DEFAULT_SOUNDFONT = "fluidr3"
TRAINING_SOUNDFONTS: tuple[str, ...] = ("fluidr3", "fluidr3mono", "csound", "opl3")
"""The SoundFonts a varied-timbre corpus is rendered with. Debian's fluid-soundfont-gs is not
among them: it holds only 33 GS sound-effect presets (rain, dog, explosion ...) and renders GM
instruments as silence."""
HELD_OUT_SOUNDFONTS: tuple[str, ...] = ("timgm6mb",)
"""Never in any training data: the unseen timbres every benchmark tests on."""
GAIN = 0.5
TAIL_SECONDS = 1.0
"""Audio kept after the score's last bar, so that release tails are not cut."""


def find_soundfont(name_or_path: str = DEFAULT_SOUNDFONT) -> Path:
    """A SoundFont by short name (`fluidr3`, `timgm6mb`) or path; `UserError` if missing."""
    candidate = Path(name_or_path)
    if candidate.suffix in (".sf2", ".sf3"):
        if candidate.is_file():
            return candidate
        raise UserError(f"SoundFont not found: {name_or_path}")
    if name_or_path not in SOUNDFONTS:
        raise UserError(
            f"unknown SoundFont {name_or_path!r} (known: {', '.join(SOUNDFONTS)}, or a .sf2 path)"
        )
    for folder in SOUNDFONT_DIRS:
        path = folder / SOUNDFONTS[name_or_path]
        if path.is_file():
            return path
    raise UserError(
        f"SoundFont {SOUNDFONTS[name_or_path]} is not installed; run `make setup` "
        "(Debian packages fluid-soundfont-gm, fluidr3mono-gm-soundfont, csound-soundfont, "
        "opl3-soundfont, timgm6mb-soundfont)"
    )


def fluidsynth_binary() -> str:
    """Path of the `fluidsynth` program; `UserError` if it is not installed."""
    binary = shutil.which("fluidsynth")
    if binary is None:
        raise UserError("the fluidsynth program is not installed; run `make setup`")
    return binary


def only_tracks(score: Score, tracks: Iterable[str]) -> Score:
    """A copy of `score` whose note tracks outside `tracks` are emptied (for stems)."""
    keep = set(tracks)
    unknown = keep - set(NOTE_TRACKS)
    if unknown:
        raise ValueError(f"unknown track(s) {sorted(unknown)}; tracks are {list(NOTE_TRACKS)}")
    stem = score.copy()
    stem.tracks = {
        name: track if name in keep else Track(track.program) for name, track in stem.tracks.items()
    }
    return stem


def render_score(
    score: Score,
    sample_rate: int = 24000,
    soundfont: str = DEFAULT_SOUNDFONT,
    tracks: Iterable[str] | None = None,
) -> np.ndarray:
    """Render `score` (or only `tracks` of it) to mono float32 audio `[S]` at `sample_rate`.

    The audio lasts the score's duration (to the end of its last bar) plus `TAIL_SECONDS`, so
    that sample `round(t * sample_rate)` is score time `t` for every rendered stem alike.
    """
    if tracks is not None:
        score = only_tracks(score, tracks)
    sf2 = find_soundfont(soundfont)
    length = round((score.duration_seconds() + TAIL_SECONDS) * sample_rate)
    with tempfile.TemporaryDirectory(prefix="seedmusic-render-") as tmp:
        midi_path, wav_path = Path(tmp) / "score.mid", Path(tmp) / "score.wav"
        write_midi(score, midi_path)
        command = [
            fluidsynth_binary(),
            "-q",
            "-n",
            "-i",
            "-g",
            str(GAIN),
            "-r",
            str(sample_rate),
            "-T",
            "wav",
            "-O",
            "float",
            "-F",
            str(wav_path),
            str(sf2),
            str(midi_path),
        ]
        proc = subprocess.run(command, capture_output=True, text=True, check=False)
        if proc.returncode != 0 or not wav_path.exists():
            raise RuntimeError(f"fluidsynth failed ({proc.returncode}): {proc.stderr.strip()}")
        audio, rate = sf.read(wav_path, dtype="float32", always_2d=True)  # [S, C]
    if rate != sample_rate:
        raise RuntimeError(f"fluidsynth wrote {rate} Hz audio, asked for {sample_rate} Hz")
    mono = audio.mean(axis=1)
    out = np.zeros(length, dtype=np.float32)
    out[: min(length, mono.size)] = mono[:length]
    return out
