"""Pitch, timing and speed of the sung vocal stem (`seedmusic.data.vocal.sing`).

    .venv/bin/python -m benchmarks.vocal [--chorales bwv10.7 ...] [--seed 0] [--f0 pyin]

Sings the example song (English) and the soprano lines of a few Bach chorales from music21's
bundled corpus (German lyrics; converted with `score_tokens.musicxml.score_from_music21`, which
maps the part named "Soprano" onto the vocal track), then measures the output independently of
how it was made:

- pitch error per note: f0 over the middle half of each note (median of the voiced frames), in
  cents from the written MIDI pitch (median / 95th percentile / max of the absolute error; a
  note without a voiced frame in its middle counts as unvoiced). f0 by Praat (parselmouth):
  autocorrelation gives the value, folded into the octave that subharmonic summation finds;
  or, with `--f0 pyin`, by librosa's pYIN (10 cent bins; many times slower);
- onset error per syllable: librosa's onset detector (spectral flux, 5 ms hop, backtracked to
  the preceding minimum of the RMS energy) on the output; each note that starts a syllable is
  matched to the nearest detected onset within 100 ms (median / 95th percentile of the
  absolute error, and the share of all syllables matched within 30 ms). Soft onsets (w, m, j, l) often give the
  detector nothing at the boundary, so it matches an onset inside a neighbouring syllable:
  the errors bound the detector as much as the singing, which places syllables exactly;
- voiced: the share of f0 frames inside notes that are voiced (consonants are not; Praat's
  full-range autocorrelation, or pYIN);
- real-time factor: seconds of audio per second of `sing` (one process, one core; every cache
  cleared before each piece, so espeak-ng speaks every syllable and measures its voice anew).

music21's `bach/bwv66.6` carries no lyrics; it is sung on "la" and shows the neutral case.
"""

from __future__ import annotations

import argparse
import logging
import time
from dataclasses import dataclass
from typing import Any, Literal

import numpy as np

from score_tokens.score import Score
from seedmusic.data import vocal
from seedmusic.data.vocal import group_syllables, midi_to_hz, monophonic

F0Method = Literal["praat", "pyin"]
Track = tuple[np.ndarray, np.ndarray]  # (frame times [F], voiced flags [F])

SAMPLE_RATE = 24000
STEP_S = 0.005
FMIN_HZ, FMAX_HZ = 60.0, 1400.0
ONSET_WINDOW_S = 0.1
ONSET_GOOD_MS = 30.0
DEFAULT_CHORALES: tuple[str, ...] = (
    "bwv66.6",
    "bwv10.7",
    "bwv101.7",
    "bwv102.7",
    "bwv108.6",
    "bwv110.7",
)


@dataclass(frozen=True)
class Measurement:
    """Per-note errors of one sung piece."""

    cents: np.ndarray  # [N] absolute pitch error of each voiced note, cents
    unvoiced_notes: int
    onset_ms: np.ndarray  # [M] absolute onset error of each matched syllable, ms
    syllables: int
    voiced_share: float


def middle_halves(score: Score) -> list[tuple[float, float]]:
    """(start, end) seconds of the middle half of each note of the monophonic vocal line."""
    spans = []
    for note in monophonic(score.notes("vocal")):
        start, end = score.tick_to_seconds(note.tick), score.tick_to_seconds(note.end)
        spans.append((start + (end - start) / 4, end - (end - start) / 4))
    return spans


def praat_note_f0s(
    audio: np.ndarray, sample_rate: int, spans: list[tuple[float, float]]
) -> tuple[list[float | None], Track]:
    """(f0 in Hz of each span, None where unvoiced; the f0 track's voicing).

    Praat's autocorrelation f0 (60..1400 Hz) gives the value, folded into the octave that
    Praat's subharmonic summation finds for the span: alone, autocorrelation reads some
    PSOLA-raised notes an octave off (either way), and subharmonic summation is a few cents flat.
    """
    import parselmouth

    sound = parselmouth.Sound(audio.astype(np.float64), sampling_frequency=sample_rate)
    shs = sound.to_pitch_shs(
        time_step=STEP_S, minimum_pitch=FMIN_HZ, maximum_frequency_component=5000, ceiling=FMAX_HZ
    )
    ac = sound.to_pitch_ac(time_step=STEP_S, pitch_floor=FMIN_HZ, pitch_ceiling=FMAX_HZ)
    octave_times, octave_f0 = shs.xs(), shs.selected_array["frequency"]  # [F1], [F1]
    times, f0 = ac.xs(), ac.selected_array["frequency"]  # [F2], [F2]
    result: list[float | None] = []
    for start, end in spans:
        coarse = octave_f0[(octave_times >= start) & (octave_times <= end) & (octave_f0 > 0)]
        fine = f0[(times >= start) & (times <= end) & (f0 > 0)]
        if coarse.size == 0 or fine.size == 0:
            result.append(None)
            continue
        octave = float(np.median(coarse))
        folded = fine * 2.0 ** np.round(np.log2(octave / fine))  # [n] into the octave of `octave`
        result.append(float(np.median(folded)))
    return result, (times, f0 > 0)


def pyin_note_f0s(
    audio: np.ndarray, sample_rate: int, spans: list[tuple[float, float]]
) -> tuple[list[float | None], Track]:
    """(f0 in Hz of each span by librosa's pYIN, None where unvoiced; the voicing track)."""
    import librosa

    hop = round(STEP_S * sample_rate)
    f0, voiced, _ = librosa.pyin(
        audio.astype(np.float64),
        fmin=FMIN_HZ,
        fmax=FMAX_HZ,
        sr=sample_rate,
        frame_length=2048,
        hop_length=hop,
    )
    times = librosa.times_like(f0, sr=sample_rate, hop_length=hop)
    result: list[float | None] = []
    for start, end in spans:
        inside = (times >= start) & (times <= end) & voiced
        result.append(float(np.median(f0[inside])) if inside.any() else None)
    return result, (times, voiced)


def syllable_onset_errors(score: Score, audio: np.ndarray, sample_rate: int) -> np.ndarray:
    """|ms| [M] between each syllable's onset and the nearest detected onset (within 100 ms)."""
    import librosa

    y, hop = audio.astype(np.float64), round(STEP_S * sample_rate)
    strength = librosa.onset.onset_strength(y=y, sr=sample_rate, hop_length=hop)  # [F]
    energy = librosa.feature.rms(y=y, frame_length=4 * hop, hop_length=hop)[0]  # [F]
    detected = librosa.onset.onset_detect(
        onset_envelope=strength,
        sr=sample_rate,
        hop_length=hop,
        backtrack=True,
        energy=energy,
        units="time",
    )
    errors: list[float] = []
    for syllable in group_syllables(monophonic(score.notes("vocal"))):
        onset = score.tick_to_seconds(syllable.notes[0].tick)
        if detected.size == 0:
            continue
        nearest = float(detected[np.argmin(np.abs(detected - onset))])
        if abs(nearest - onset) <= ONSET_WINDOW_S:
            errors.append(abs(nearest - onset) * 1000.0)
    return np.asarray(errors)


def voiced_share(score: Score, track: Track) -> float:
    """Share of the f0 frames inside notes that are voiced."""
    times, voiced = track
    inside = np.zeros(times.size, dtype=bool)
    for note in score.notes("vocal"):
        start, end = score.tick_to_seconds(note.tick), score.tick_to_seconds(note.end)
        inside |= (times >= start) & (times < end)
    return float(voiced[inside].mean()) if inside.any() else float("nan")


def measure(
    score: Score, audio: np.ndarray, sample_rate: int, method: F0Method = "praat"
) -> Measurement:
    """All measurements of `audio` (`[S]`) as a rendering of the score's vocal track."""
    spans = middle_halves(score)
    note_f0s = praat_note_f0s if method == "praat" else pyin_note_f0s
    f0s, track = note_f0s(audio, sample_rate, spans)
    notes = monophonic(score.notes("vocal"))
    cents = [
        abs(1200.0 * np.log2(hz / midi_to_hz(note.pitch)))
        for note, hz in zip(notes, f0s, strict=True)
        if hz is not None
    ]
    return Measurement(
        cents=np.asarray(cents),
        unvoiced_notes=sum(hz is None for hz in f0s),
        onset_ms=syllable_onset_errors(score, audio, sample_rate),
        syllables=len(group_syllables(notes)),
        voiced_share=voiced_share(score, track),
    )


def chorale_soprano(name: str) -> Score:
    """A Bach chorale of music21's corpus as a `Score` whose vocal track is the soprano."""
    from music21 import corpus

    from score_tokens.musicxml import score_from_music21

    work = corpus.parse(f"bach/{name}")
    for element in work.recurse().notes:
        _first_verse_on_line_one(element)
    score = score_from_music21(work)
    for track in ("bass", "piano", "guitar", "drums"):
        score.tracks[track].notes.clear()
    return score


def _first_verse_on_line_one(element: Any) -> None:
    """Keep a note's first lyric only, as lyric line 1.

    The corpus numbers lyric lines by verse (some chorales carry their only verse on line 2),
    and `score_from_music21` reads line 2 as phonemes.
    """
    if element.lyrics:
        first = min(element.lyrics, key=lambda lyric: lyric.number)
        first.number = 1
        element.lyrics = [first]


def _stat(values: np.ndarray, q: float) -> str:
    return f"{np.percentile(values, q):.1f}" if values.size else "-"


def clear_caches() -> None:
    """Forget every spoken syllable and measured voice."""
    for cached in (vocal.speak, vocal.base_pitches, vocal.spoken_with_core):
        cached.cache_clear()


def row(name: str, language: str, score: Score, seed: int, method: F0Method) -> str:
    """One table row: sing `score`, time it, measure it."""
    clear_caches()
    started = time.perf_counter()
    audio = vocal.sing(score, SAMPLE_RATE, language, seed)  # [S]
    elapsed = time.perf_counter() - started
    result = measure(score, audio, SAMPLE_RATE, method)
    notes = len(monophonic(score.notes("vocal")))
    lyrics = sum(1 for n in score.notes("vocal") if n.lyric)
    cells = [
        f"{name:<14}",
        f"{language:<4}",
        f"{notes:>5}",
        f"{lyrics:>6}",
        f"{_stat(result.cents, 50):>6}",
        f"{_stat(result.cents, 95):>6}",
        f"{_stat(result.cents, 100):>6}",
        f"{result.unvoiced_notes:>5}",
        f"{_stat(result.onset_ms, 50):>6}",
        f"{_stat(result.onset_ms, 95):>6}",
        f"{np.sum(result.onset_ms <= ONSET_GOOD_MS) / max(1, result.syllables):>6.0%}",
        f"{result.voiced_share:>6.0%}",
        f"{audio.size / SAMPLE_RATE / elapsed:>6.1f}",
    ]
    return " ".join(cells)


HEADER = (
    "piece          lang notes lyrics  c-med  c-p95  c-max unvcd  o-med  o-p95  o≤30  voiced"
    "    RTF\n"
    "                                  (pitch error, cents)        (onset error, ms)"
)


def main() -> None:
    """Sing the example song and the chorales and print the table."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chorales", nargs="*", default=list(DEFAULT_CHORALES))
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--f0", choices=["praat", "pyin"], default="praat")
    args = parser.parse_args()
    logging.basicConfig(level=logging.WARNING)
    from seedmusic.data.example_song import example_song

    print(HEADER)
    print(row("example_song", "en", example_song(), args.seed, args.f0))
    for name in args.chorales:
        print(row(name, "de", chorale_soprano(name), args.seed, args.f0))


if __name__ == "__main__":
    main()
