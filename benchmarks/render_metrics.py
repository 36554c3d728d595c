"""The metrics of the renderer benchmark (`benchmarks.render`): score adherence of a rendered
clip, and its vocal stem against the score's vocal line.

Score adherence (`adherence_metrics`): our MIR (`mir.analyze.analyze` with the note transcriber)
on a system's audio of a clip, scored with `mir.evaluate.evaluate` against the clip's truth:

- beat F, downbeat F: mir_eval F-measure (70 ms window) of the beats and downbeats;
- key: mir_eval's weighted key score (1 same key, 0.5 a fifth off, 0.3 relative, 0.2 parallel);
- chords majmin: mir_eval's majmin chord score (time-weighted);
- chords by bar: the share of bars whose majority chord, reduced to root + maj/min, is the
  truth's (`benchmarks.adherence.chords_by_bar`);
- vocal .. drums: note onset F1 (onset within 50 ms, pitch within 50 cents; drums by class), 0
  when the truth has notes of the instrument in the clip and the analysis none;

Beside them the benchmark reports each system's log-mel L1 to the ceiling
(`renderer.codec.log_mel_l1`, 80 mel bands): how close it sounds to the exact render, not how
well it follows the score.

Vocal (`vocal_metrics`), a vocal stem over the frames and syllables of the clip's score vocal
line (`monophonic`: of notes starting together the highest):

- voiced: the share of frames inside a score vocal note that pYIN (fmin 65 Hz, fmax 1000 Hz,
  10 ms hop) finds voiced;
- on pitch: the share of those voiced frames whose f0 lies within 50 cents of the score's
  sounding vocal pitch (no octave folding);
- syllable onsets: the share of the line's syllables (`group_syllables`: a note with a lyric
  starts one; a line without lyrics is sung on "la", one syllable a note) with a detected onset
  within 50 ms (librosa's spectral-flux detector backtracked to the energy minimum,
  `benchmarks.vocal.syllable_onset_errors`).
"""

from __future__ import annotations

import math

import librosa
import numpy as np

from benchmarks.adherence import MIR_TRACKS, chords_by_bar, onset_f1s
from benchmarks.vocal import syllable_onset_errors
from mir.analyze import Analysis
from mir.evaluate import GroundTruth, evaluate
from score_tokens.score import Score
from seedmusic.data.vocal import group_syllables, midi_to_hz, monophonic

ADHERENCE: dict[str, str] = {
    "beat_f": "beat F",
    "downbeat_f": "downbeat F",
    "key_weighted": "key",
    "chord_majmin": "chords majmin",
    "chords_by_bar": "chords by bar",
    **{track: track for track in MIR_TRACKS},
}
"""Score-adherence metrics (keys of `adherence_metrics`) and their column names."""
VOCAL: dict[str, str] = {
    "voiced": "voiced",
    "on_pitch": "on pitch (±50 c)",
    "syllable_onsets": "syllable onsets (50 ms)",
}
"""Vocal metrics (keys of `vocal_metrics`) and their column names."""
PYIN_FMIN_HZ, PYIN_FMAX_HZ, PYIN_HOP_S = 65.0, 1000.0, 0.01
PITCH_TOLERANCE_CENTS = 50.0
ONSET_TOLERANCE_MS = 50.0


def score_vocal_notes(score: Score, seconds: float) -> list[tuple[float, float, int]]:
    """(start, end, MIDI pitch) in seconds of the score's monophonic vocal line, the notes that
    start before `seconds`, cut there."""
    notes = []
    for note in monophonic(score.notes("vocal")):
        start, end = score.tick_to_seconds(note.tick), score.tick_to_seconds(note.end)
        if start < seconds:
            notes.append((start, min(end, seconds), note.pitch))
    return notes


def pitch_shares(
    times: np.ndarray, f0: np.ndarray, voiced: np.ndarray, notes: list[tuple[float, float, int]]
) -> tuple[float | None, float | None]:
    """(voiced, on pitch) of an f0 track against score notes.

    Args:
        times: `[F]` frame times in seconds.
        f0: `[F]` f0 in Hz (NaN where unvoiced).
        voiced: `[F]` voicing flags.
        notes: (start, end, MIDI pitch) of the sounding notes, as `score_vocal_notes` gives.

    Returns:
        the share of the frames inside a note that are voiced, and the share of those voiced
        frames within `PITCH_TOLERANCE_CENTS` of the note's pitch (0 when none is voiced);
        (None, None) when no frame lies inside a note.
    """
    target = np.full(times.shape, np.nan)  # [F] the score's pitch in Hz, NaN outside notes
    for start, end, pitch in notes:
        target[(times >= start) & (times < end)] = midi_to_hz(pitch)
    inside = np.isfinite(target)
    if not inside.any():
        return None, None
    sung = inside & voiced & np.isfinite(f0) & (f0 > 0)
    if not sung.any():
        return 0.0, 0.0
    cents = 1200.0 * np.abs(np.log2(f0[sung] / target[sung]))
    return float(sung.sum() / inside.sum()), float(np.mean(cents <= PITCH_TOLERANCE_CENTS))


def vocal_pitch(
    score: Score, audio: np.ndarray, sample_rate: int, seconds: float
) -> tuple[float | None, float | None]:
    """(voiced, on pitch) of a vocal stem `[S]` (see `pitch_shares`), f0 by librosa's pYIN."""
    notes = score_vocal_notes(score, seconds)
    if not notes:
        return None, None
    hop = round(PYIN_HOP_S * sample_rate)
    frame_length = 2 ** math.ceil(math.log2(0.08 * sample_rate))  # >= 5 periods of 65 Hz
    f0, voiced, _ = librosa.pyin(
        audio.astype(np.float64),
        fmin=PYIN_FMIN_HZ,
        fmax=PYIN_FMAX_HZ,
        sr=sample_rate,
        frame_length=frame_length,
        hop_length=hop,
    )
    times = librosa.times_like(f0, sr=sample_rate, hop_length=hop)  # [F] frame centres
    return pitch_shares(times, f0, voiced, notes)


def syllable_onset_share(
    score: Score, audio: np.ndarray, sample_rate: int, seconds: float
) -> float | None:
    """The share of the vocal line's syllables that start before `seconds` and have a detected
    onset within `ONSET_TOLERANCE_MS` in `audio` `[S]`; None when no syllable starts there."""
    clipped = score.copy()
    clipped.tracks["vocal"].notes = [
        n for n in score.notes("vocal") if score.tick_to_seconds(n.tick) < seconds
    ]
    syllables = group_syllables(monophonic(clipped.notes("vocal")))
    if not syllables:
        return None
    errors = syllable_onset_errors(clipped, audio, sample_rate)  # [M] ms, matched within 100
    return float(np.sum(errors <= ONSET_TOLERANCE_MS)) / len(syllables)


def vocal_metrics(
    score: Score, audio: np.ndarray, sample_rate: int, seconds: float
) -> dict[str, float | None]:
    """The vocal table's metrics (`VOCAL`) of a vocal stem `[S]` against the score's line."""
    voiced, on_pitch = vocal_pitch(score, audio, sample_rate, seconds)
    onsets = syllable_onset_share(score, audio, sample_rate, seconds)
    return {"voiced": voiced, "on_pitch": on_pitch, "syllable_onsets": onsets}


def adherence_metrics(analysis: Analysis, truth: GroundTruth) -> dict[str, float | None]:
    """The score-adherence metrics (`ADHERENCE`) of one clip's analysis against its truth."""
    scores = evaluate(analysis, truth)
    return {
        "beat_f": scores["beat_f"],
        "downbeat_f": scores["downbeat_f"],
        "key_weighted": scores["key_weighted"],
        "chord_majmin": scores["chord_majmin"],
        "chords_by_bar": chords_by_bar(truth, analysis.chords),
        **onset_f1s(scores, truth),
    }


# --- seams ------------------------------------------------------------------------------------

SEAM_CONTEXT_S = 0.1
"""Seconds of spectrum averaged on each side of a time by `spectral_jumps`."""
SEAM_KEEP_OUT_S = 0.25
"""Bar lines this close to a seam are left out of the bar-line reference."""
SEAMS: dict[str, str] = {
    "at_seams": "at window seams",
    "at_bar_lines": "at bar lines",
    "ceiling_at_seams": "ceiling at the same times",
}
"""Seam metrics (keys of `seam_metrics`) and their column names."""


def spectral_jumps(
    audio: np.ndarray, sample_rate: int, times: list[float], context: float = SEAM_CONTEXT_S
) -> list[float]:
    """At each time, how much the sound changes there: the mean absolute difference (in dB,
    over 80 mel bands) between the mean log-mel spectrum of the `context` seconds before it and
    of the `context` seconds after it. Times without `context` on both sides are left out."""
    hop = 256
    mel = librosa.feature.melspectrogram(
        y=np.asarray(audio, dtype=np.float32), sr=sample_rate, n_fft=1024, hop_length=hop, n_mels=80
    )
    db = librosa.power_to_db(mel, ref=1.0, amin=1e-8, top_db=None)  # [80, F]
    span = max(1, round(context * sample_rate / hop))
    jumps = []
    for time in times:
        frame = round(time * sample_rate / hop)
        if frame - span < 0 or frame + span > db.shape[1]:
            continue
        before = db[:, frame - span : frame].mean(axis=1)
        after = db[:, frame : frame + span].mean(axis=1)
        jumps.append(float(np.abs(after - before).mean()))
    return jumps


def seam_metrics(
    audio: np.ndarray,
    ceiling: np.ndarray,
    sample_rate: int,
    seams: list[float],
    bar_lines: list[float],
) -> dict[str, float | None]:
    """The seam table's metrics (`SEAMS`) of a windowed render `[S]`: its spectral jump
    (`spectral_jumps`) at the windows' seams, at the score's bar lines away from the seams
    (where music changes by itself), and the exact render's (`ceiling` `[S]`) at the seams."""
    bars = [t for t in bar_lines if all(abs(t - s) > SEAM_KEEP_OUT_S for s in seams)]

    def mean(values: list[float]) -> float | None:
        return float(np.mean(values)) if values else None

    return {
        "at_seams": mean(spectral_jumps(audio, sample_rate, seams)),
        "at_bar_lines": mean(spectral_jumps(audio, sample_rate, bars)),
        "ceiling_at_seams": mean(spectral_jumps(ceiling, sample_rate, seams)),
    }
