"""Sing the vocal track of a `Score`: espeak-ng syllables, pitch- and time-corrected with Praat.

The corpus renders every instrument with FluidSynth (`seedmusic.data.synth`); the vocal stem is
instead a voice singing the lyrics on the melody, with exact timing. Each syllable (a vocal note
with a lyric, plus the melisma notes after it with `lyric=None`) is

1. spoken by espeak-ng (Debian `espeak-ng`) in the score's language, at the espeak base pitch
   nearest its notes (so that the pitch shift below is small);
2. split with Praat (`praat-parselmouth`) into onset consonants, a vowel core (the voiced frames
   within `CORE_DB` of the loudest) and coda consonants; a long note first gets its vowel held
   by repeating a few pitch periods of it (`hold_vowel`);
3. resynthesised by Praat's PSOLA (`Manipulation`): a duration tier stretches the vowel core so
   that the syllable lasts exactly from its first note's onset to its last note's end, and a
   pitch tier holds each note's MIDI pitch (with `GLIDE_SECONDS` glides inside a melisma);
4. placed at its onset sample with 5 ms fades, and gated by the notes, so rests are silent.

A track without any lyric (an instrumental melody) is sung on "la". The output has
`render_score`'s length, so it mixes sample-aligned with the FluidSynth stems. The voice is an
espeak-ng female variant for a melody at or above C4 (median pitch), male below, drawn with
`seed`; the output is deterministic for a seed. Robotic, but real sung lyrics, aligned.
"""

from __future__ import annotations

import functools
import io
import logging
import random
import re
import shutil
import subprocess
from dataclasses import dataclass, replace
from math import ceil, gcd
from types import ModuleType
from typing import Any

import numpy as np
import soundfile as sf
from scipy.signal import butter, resample_poly, sosfiltfilt

from score_tokens.score import Note, Score
from seedmusic.data.synth import TAIL_SECONDS
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

ESPEAK_VOICES: dict[str, str] = {"en": "en-us", "de": "de"}
"""Language codes -> espeak-ng voices (CMUdict is American); other codes go to espeak as is."""
FEMALE_VARIANTS: tuple[str, ...] = ("f1", "f2", "f3", "f4")
MALE_VARIANTS: tuple[str, ...] = ("m1", "m2", "m3", "m4")
HIGH_VOICE_PITCH = 60
"""A melody whose median MIDI pitch is at least this (C4) is sung by a female variant."""
NEUTRAL_SYLLABLE = "la"
ESPEAK_RATE = 22050
ESPEAK_SPEED_WPM = 140
ESPEAK_PITCHES: tuple[int, ...] = (0, 10, 20, 30, 40, 50, 60, 70, 80, 90, 99)
"""espeak-ng base pitches (`-p`) to choose from; a syllable takes the one nearest its notes."""
PITCH_FLOOR_HZ, PITCH_CEILING_HZ = 50.0, 600.0
"""Praat's f0 search range when measuring a voice's base pitches."""
F0_SPREAD = 1.8
"""A syllable's spoken f0 is searched within this factor of its speaker's base f0 (so that
Praat's pitch marks cannot jump an octave, nor lock onto a held vowel's repetition)."""
CORE_DB = 12.0
"""Voiced frames within this many dB of a syllable's loudest frame form its vowel core."""
ONSET_SHARE, CODA_SHARE = 0.5, 0.25
"""The onset consonants take at most this share of the first note, the coda consonants of the
last; the vowel takes the rest (so a melisma's notes are sung on the vowel)."""
HOLD_AT = 1.0 / 3.0
"""Where in the vowel core a long note's vowel is held (early, before a diphthong glides)."""
HOLD_PERIODS = (6.0, 12.0)
"""Length range, in spoken pitch periods, of the repeated piece of a held vowel (at least 2,
so that the repetition lies below the f0 search range)."""
MAX_STRETCH = 1.5
"""The vowel is held by repetition until PSOLA has to stretch it at most this much
(Praat's overlap-add writes at most 3 times the source's length)."""
GLIDE_SECONDS = 0.03
"""Pitch glide into each later note of a melisma."""
FADE_SECONDS = 0.005
TARGET_RMS = 0.1
"""RMS of a syllable's vowel at velocity 100."""
HIGHPASS_HZ = 40.0
"""The sung mix is high-passed here (zero phase): PSOLA leaves an offset and rumble."""

_NOT_SPOKEN = re.compile(r"[^\w' ]|[\d_]")


@dataclass(frozen=True)
class Speaker:
    """An espeak-ng voice (`language+variant`) at one base pitch (`-p`), and its f0 in Hz."""

    voice: str
    pitch: int
    hz: float

    @property
    def f0_range(self) -> tuple[float, float]:
        """Where Praat looks for this speaker's f0."""
        return self.hz / F0_SPREAD, self.hz * F0_SPREAD


@dataclass(frozen=True)
class Syllable:
    """One sung syllable: its text and the notes it is sung on (several for a melisma)."""

    text: str
    notes: tuple[Note, ...]


# ---------------------------------------------------------------------------------- public


def sing(score: Score, sample_rate: int = 24000, language: str = "en", seed: int = 0) -> np.ndarray:
    """Sing the score's vocal track: mono float32 audio `[S]` at `sample_rate`.

    `S` is `round((score.duration_seconds() + TAIL_SECONDS) * sample_rate)`, as for
    `render_score`, and sample `round(t * sample_rate)` is score time `t`.

    Args:
        score: the score; only its "vocal" track is sung.
        sample_rate: output sample rate in Hz.
        language: "en", "de" or another espeak-ng language code.
        seed: picks the voice variant (equal seeds give equal audio).

    Raises:
        UserError: espeak-ng or praat-parselmouth is missing, or espeak-ng lacks the language.
    """
    if sample_rate <= 0:
        raise ValueError(f"sample_rate must be positive, got {sample_rate}")
    length = round((score.duration_seconds() + TAIL_SECONDS) * sample_rate)
    notes = monophonic(score.notes("vocal"))
    if not notes:
        return np.zeros(length, dtype=np.float32)
    _parselmouth()  # fail early if a program or package is missing
    espeak_binary()
    voice = choose_voice(language, notes, seed)
    syllables = group_syllables(notes)
    logger.debug("singing %d notes as %d syllables (%s)", len(notes), len(syllables), voice)
    spoken_length = ceil(length * ESPEAK_RATE / sample_rate)
    mix = np.zeros(spoken_length, dtype=np.float64)  # [S'] at ESPEAK_RATE
    try:
        for index, syllable in enumerate(syllables):
            onset = score.tick_to_seconds(syllable.notes[0].tick)
            sung = sing_syllable(score, syllable, voice, random_seed=seed * 1_000_003 + index)
            _add(mix, sung, round(onset * ESPEAK_RATE))
    finally:
        _parselmouth().praat.run("random_initializeSafelyAndUnpredictably ()")
    mix = sosfiltfilt(_highpass(), mix)
    out = _resample(mix, ESPEAK_RATE, sample_rate, length)  # [S]
    out *= note_gate(score, notes, sample_rate, length)
    return out.astype(np.float32)


def monophonic(notes: list[Note]) -> list[Note]:
    """The notes as one voice: of notes starting together the highest is kept, and a note that
    overlaps the next is cut where the next starts."""
    kept: list[Note] = []
    for note in sorted(notes, key=lambda n: (n.tick, -n.pitch)):
        if kept and kept[-1].tick == note.tick:
            continue
        if kept and kept[-1].end > note.tick:
            kept[-1] = replace(kept[-1], duration=note.tick - kept[-1].tick)
        kept.append(note)
    return kept


def group_syllables(notes: list[Note]) -> list[Syllable]:
    """The syllables of a monophonic line: a note with a lyric starts one; a note without (None,
    or only punctuation) continues the one before. A line without any lyric is sung on "la"."""
    texts = [clean_lyric(n.lyric) for n in notes]
    if not any(texts):
        return [Syllable(NEUTRAL_SYLLABLE, (n,)) for n in notes]
    syllables: list[Syllable] = []
    for note, text in zip(notes, texts, strict=True):
        if text or not syllables:
            syllables.append(Syllable(text or NEUTRAL_SYLLABLE, (note,)))
        else:
            syllables[-1] = Syllable(syllables[-1].text, (*syllables[-1].notes, note))
    return syllables


def clean_lyric(lyric: str | None) -> str:
    """A lyric as espeak-ng should read it: lower case, without punctuation, digits, hyphens."""
    if not lyric:
        return ""
    text = _NOT_SPOKEN.sub(" ", lyric.replace("’", "'").lower())
    return " ".join(word.strip("'") for word in text.split() if word.strip("'"))


def midi_to_hz(pitch: float) -> float:
    """Frequency of a MIDI pitch (A4 = 69 = 440 Hz)."""
    return 440.0 * 2.0 ** ((pitch - 69.0) / 12.0)


# ---------------------------------------------------------------------------------- espeak-ng


@functools.cache
def espeak_binary() -> str:
    """Path of the `espeak-ng` program; `UserError` if it is not installed."""
    binary = shutil.which("espeak-ng")
    if binary is None:
        raise UserError("singing needs the espeak-ng program (Debian package espeak-ng)")
    return binary


def choose_voice(language: str, notes: list[Note], seed: int) -> str:
    """The espeak-ng voice (`language+variant`) for this melody and seed."""
    base = ESPEAK_VOICES.get(language, language)
    _check_voice(base)
    high = float(np.median([n.pitch for n in notes])) >= HIGH_VOICE_PITCH
    variants = FEMALE_VARIANTS if high else MALE_VARIANTS
    return f"{base}+{random.Random(seed).choice(variants)}"


@functools.cache
def _check_voice(voice: str) -> None:
    """`UserError` unless espeak-ng has a voice for the language `voice`."""
    listing = subprocess.run(
        [espeak_binary(), f"--voices={voice}"], capture_output=True, text=True, check=False
    )
    if len(listing.stdout.strip().splitlines()) < 2:  # only the header line
        raise UserError(f"espeak-ng has no voice for the language {voice!r}")


@functools.lru_cache(maxsize=4096)
def speak(text: str, voice: str, pitch: int = 50) -> np.ndarray:
    """`text` spoken by espeak-ng at base pitch `pitch` (0..99), silence trimmed: `[S]` float64
    at `ESPEAK_RATE`. Cached: do not modify the result."""
    command = [espeak_binary(), "-v", voice, "-p", str(pitch), "-s", str(ESPEAK_SPEED_WPM), "-z"]
    proc = subprocess.run([*command, "--stdout", text], capture_output=True, check=False)
    if proc.returncode != 0:
        raise RuntimeError(f"espeak-ng failed ({proc.returncode}): {proc.stderr.decode().strip()}")
    audio, rate = sf.read(io.BytesIO(proc.stdout), dtype="float64")  # [S]
    if rate != ESPEAK_RATE:
        raise RuntimeError(f"espeak-ng wrote {rate} Hz audio, expected {ESPEAK_RATE} Hz")
    audio = _trim(audio)
    audio.flags.writeable = False
    return audio


@functools.cache
def base_pitches(voice: str) -> np.ndarray:
    """Median f0 in Hz of `voice` saying "la" at each of `ESPEAK_PITCHES`: `[P]`."""
    result = []
    for pitch in ESPEAK_PITCHES:
        _times, f0 = praat_f0(
            speak(NEUTRAL_SYLLABLE, voice, pitch), (PITCH_FLOOR_HZ, PITCH_CEILING_HZ)
        )
        result.append(float(np.median(f0[f0 > 0])) if (f0 > 0).any() else np.nan)
    return np.asarray(result)


def speaker_for(voice: str, notes: tuple[Note, ...]) -> Speaker:
    """`voice` at the espeak-ng base pitch nearest (in cents) to the notes' mean pitch."""
    target = midi_to_hz(float(np.mean([n.pitch for n in notes])))
    hz = base_pitches(voice)  # [P]
    index = int(np.nanargmin(np.abs(np.log2(hz / target))))
    return Speaker(voice, ESPEAK_PITCHES[index], float(hz[index]))


def _trim(audio: np.ndarray, threshold_db: float = -40.0) -> np.ndarray:
    """`audio` without its leading and trailing samples below `threshold_db` from its peak."""
    peak = float(np.max(np.abs(audio), initial=0.0))
    loud = np.flatnonzero(np.abs(audio) >= peak * 10.0 ** (threshold_db / 20.0))
    return audio[loud[0] : loud[-1] + 1].copy() if peak > 0.0 else audio[:0].copy()


# ---------------------------------------------------------------------------------- Praat


def _parselmouth() -> ModuleType:
    """The parselmouth module; `UserError` if praat-parselmouth is not installed."""
    try:
        import parselmouth
    except ImportError:
        raise UserError("singing needs the praat-parselmouth package") from None
    return parselmouth


def praat_f0(audio: np.ndarray, f0_range: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """(frame times [F], f0 Hz [F], 0 where unvoiced) of spoken audio at `ESPEAK_RATE`."""
    sound = _parselmouth().Sound(audio, sampling_frequency=ESPEAK_RATE)
    pitch = sound.to_pitch_ac(time_step=0.005, pitch_floor=f0_range[0], pitch_ceiling=f0_range[1])
    return pitch.xs(), pitch.selected_array["frequency"]


def vowel_core(audio: np.ndarray, f0_range: tuple[float, float]) -> tuple[float, float] | None:
    """(start, end) seconds of the voiced frames within `CORE_DB` of the loudest, or None."""
    if audio.size < 3 * ESPEAK_RATE / f0_range[0]:  # Praat's shortest analysis window
        return None
    times, f0 = praat_f0(audio, f0_range)
    voiced = f0 > 0  # [F]
    if not voiced.any():
        return None
    half = int(0.005 * ESPEAK_RATE)
    centers = np.clip(np.round(times * ESPEAK_RATE).astype(int), 0, audio.size - 1)
    power = np.array([np.mean(audio[max(0, c - half) : c + half] ** 2) for c in centers])
    level = 10.0 * np.log10(power + 1e-12)  # [F] dB
    frames = np.flatnonzero(voiced & (level >= level[voiced].max() - CORE_DB))
    return float(times[frames[0]]), float(times[frames[-1]])


def hold_vowel(
    audio: np.ndarray, core: tuple[float, float], seconds: float, period: float
) -> tuple[np.ndarray, tuple[float, float]]:
    """`audio` whose vowel core lasts at least `seconds` / `MAX_STRETCH`, and its new core.

    A piece of the core `HOLD_PERIODS` pitch periods (of `period` seconds) long, cut where the
    vowel best repeats itself and taken `HOLD_AT` into the core, is repeated.
    """
    start, end = round(core[0] * ESPEAK_RATE), round(core[1] * ESPEAK_RATE)
    missing = seconds / MAX_STRETCH - (core[1] - core[0])
    if missing <= 0:
        return audio, core
    at = start + round(HOLD_AT * (end - start))
    longest = min(round(HOLD_PERIODS[1] * period * ESPEAK_RATE), (end - at) // 2)
    shortest = min(round(HOLD_PERIODS[0] * period * ESPEAK_RATE), longest)
    if shortest < 2 * period * ESPEAK_RATE:  # the f0 search stops below 2 periods
        logger.debug("vowel of %.3f s too short to hold", core[1] - core[0])
        return audio, core
    lag = _best_lag(audio[at : at + 2 * longest], shortest, longest)
    copies = ceil(missing * ESPEAK_RATE / lag)
    piece = audio[at : at + lag]  # [lag]
    held = np.concatenate([audio[: at + lag], np.tile(piece, copies), audio[at + lag :]])
    return held, (core[0], core[1] + copies * lag / ESPEAK_RATE)


def _best_lag(window: np.ndarray, shortest: int, longest: int) -> int:
    """The lag in [shortest, longest] at which `window` (`[2 * longest]`) best repeats."""
    head = window[:longest]
    scores = [
        float(np.dot(head, window[lag : lag + longest]))
        / (np.linalg.norm(window[lag : lag + longest]) * np.linalg.norm(head) + 1e-12)
        for lag in range(shortest, longest + 1)
    ]
    return shortest + int(np.argmax(scores))


@dataclass(frozen=True)
class TimeWarp:
    """A piecewise-linear map from spoken to sung time: the onset consonants (before
    `core_start`) scaled by `head_factor`, the vowel core by `core_factor`, the coda consonants
    (after `core_end`) by `tail_factor`."""

    spoken_duration: float
    core_start: float
    core_end: float
    head_factor: float
    core_factor: float
    tail_factor: float

    @staticmethod
    def fit(
        spoken_duration: float, core: tuple[float, float], notes: tuple[float, ...]
    ) -> TimeWarp:
        """The warp that makes `spoken_duration` last as long as `notes` (seconds each).

        The onset consonants keep their length up to `ONSET_SHARE` of the first note, the coda
        consonants up to `CODA_SHARE` of the last; the vowel core takes the rest.
        """
        core_start, core_end = core[0], max(core[1], core[0] + 0.01)
        head, tail = core_start, max(spoken_duration - core_end, 0.0)
        sung_head = min(head, ONSET_SHARE * notes[0])
        sung_tail = min(tail, CODA_SHARE * notes[-1])
        return TimeWarp(
            spoken_duration,
            core_start,
            core_end,
            sung_head / head if head > 0 else 1.0,
            (sum(notes) - sung_head - sung_tail) / (core_end - core_start),
            sung_tail / tail if tail > 0 else 1.0,
        )

    def to_sung(self, t: float) -> float:
        """Sung time of spoken time `t`."""
        head = min(t, self.core_start) * self.head_factor
        body = (min(max(t, self.core_start), self.core_end) - self.core_start) * self.core_factor
        return head + body + max(t - self.core_end, 0.0) * self.tail_factor

    def to_spoken(self, s: float) -> float:
        """Spoken time of sung time `s` (the inverse of `to_sung`)."""
        core_on, core_off = self.to_sung(self.core_start), self.to_sung(self.core_end)
        if s <= core_on:
            return s / self.head_factor
        if s <= core_off:
            return self.core_start + (s - core_on) / self.core_factor
        return self.core_end + (s - core_off) / self.tail_factor

    def duration_tier(self) -> Any:
        """This warp as a Praat DurationTier (the factors change within 0.1 ms)."""
        call = _parselmouth().praat.call
        tier = call("Create DurationTier", "warp", 0.0, self.spoken_duration)
        step = 1e-4
        points = [
            (0.0, self.head_factor),
            (self.core_start - step, self.head_factor),
            (self.core_start, self.core_factor),
            (self.core_end, self.core_factor),
            (self.core_end + step, self.tail_factor),
            (self.spoken_duration, self.tail_factor),
        ]
        for time, factor in points:
            if 0.0 <= time <= self.spoken_duration:
                call(tier, "Add point", time, factor)
        return tier


def pitch_tier(score: Score, syllable: Syllable, warp: TimeWarp) -> Any:
    """A Praat PitchTier (in spoken time) holding each note's pitch over the note."""
    call = _parselmouth().praat.call
    onset = score.tick_to_seconds(syllable.notes[0].tick)
    tier = call("Create PitchTier", "notes", 0.0, warp.spoken_duration)
    for index, note in enumerate(syllable.notes):
        start = score.tick_to_seconds(note.tick) - onset
        end = score.tick_to_seconds(note.end) - onset
        glide = 0.0 if index == 0 else min(GLIDE_SECONDS, (end - start) / 2)
        for sung in (start + glide, end - 1e-4):
            call(tier, "Add point", warp.to_spoken(sung), midi_to_hz(note.pitch))
    return tier


def sing_syllable(score: Score, syllable: Syllable, voice: str, random_seed: int = 0) -> np.ndarray:
    """One syllable sung on its notes: `[S]` at `ESPEAK_RATE`, from its onset to its end.

    Praat's overlap-add fills unvoiced stretches from its random generator (global to the
    process), which is seeded with `random_seed` first.
    """
    parselmouth = _parselmouth()
    call = parselmouth.praat.call
    parselmouth.praat.run(
        f"random_initializeWithSeedUnsafelyButPredictably ({random_seed % 2**31})"
    )
    lengths = note_lengths(score, syllable)
    seconds = sum(lengths)
    speaker = speaker_for(voice, syllable.notes)
    spoken, core = spoken_with_core(syllable.text, speaker)
    spoken, core = hold_vowel(spoken, core, seconds, 1.0 / speaker.hz)
    sound = parselmouth.Sound(spoken, sampling_frequency=ESPEAK_RATE)
    manipulation = call(sound, "To Manipulation", 0.01, *speaker.f0_range)
    warp = TimeWarp.fit(sound.duration, core, lengths)
    call([warp.duration_tier(), manipulation], "Replace duration tier")
    call([pitch_tier(score, syllable, warp), manipulation], "Replace pitch tier")
    sung = call(manipulation, "Get resynthesis (overlap-add)").values[0]  # [S]
    gain = _gain(sung, warp, syllable.notes[0].velocity)
    return _fit(sung * gain, round(seconds * ESPEAK_RATE))


def note_lengths(score: Score, syllable: Syllable) -> tuple[float, ...]:
    """Seconds from each note's start (or the previous note's end) to its end."""
    start = score.tick_to_seconds(syllable.notes[0].tick)
    ends = [score.tick_to_seconds(note.end) - start for note in syllable.notes]
    return tuple(float(length) for length in np.diff([0.0, *ends]))


@functools.lru_cache(maxsize=4096)
def spoken_with_core(text: str, speaker: Speaker) -> tuple[np.ndarray, tuple[float, float]]:
    """espeak-ng's `text` and its vowel core; the neutral syllable if `text` has no vowel."""
    for candidate in (text, NEUTRAL_SYLLABLE):
        spoken = speak(candidate, speaker.voice, speaker.pitch)
        core = vowel_core(spoken, speaker.f0_range)
        if core is not None:
            return spoken, core
        logger.debug("espeak-ng said %r without a vowel; singing %r", candidate, NEUTRAL_SYLLABLE)
    raise RuntimeError(f"espeak-ng voice {speaker.voice} gave no voiced sound")


def _gain(sung: np.ndarray, warp: TimeWarp, velocity: int) -> float:
    """The gain that gives the sung vowel core `TARGET_RMS` * velocity / 100."""
    lo = int(warp.to_sung(warp.core_start) * ESPEAK_RATE)
    hi = max(lo + 1, int(warp.to_sung(warp.core_end) * ESPEAK_RATE))
    rms = float(np.sqrt(np.mean(sung[lo:hi] ** 2))) if sung[lo:hi].size else 0.0
    return TARGET_RMS * velocity / 100.0 / rms if rms > 1e-9 else 0.0


# ---------------------------------------------------------------------------------- mixing


@functools.cache
def _highpass() -> np.ndarray:
    """Second-order sections of a 2nd-order Butterworth high-pass at `HIGHPASS_HZ`."""
    return butter(2, HIGHPASS_HZ, btype="highpass", fs=ESPEAK_RATE, output="sos")


def _fit(audio: np.ndarray, length: int) -> np.ndarray:
    """`audio` cut or padded to `length` samples, with `FADE_SECONDS` ramps at both ends."""
    out = np.zeros(length, dtype=np.float64)
    out[: min(length, audio.size)] = audio[:length]
    ramp = min(round(FADE_SECONDS * ESPEAK_RATE), length // 2)
    if ramp > 0:
        out[:ramp] *= np.linspace(0.0, 1.0, ramp, endpoint=False)
        out[length - ramp :] *= np.linspace(1.0, 0.0, ramp, endpoint=False)
    return out


def _add(target: np.ndarray, audio: np.ndarray, offset: int) -> None:
    """Add `audio` into `target` from sample `offset` on (cut at the end of `target`)."""
    stop = min(target.size, offset + audio.size)
    if stop > offset:
        target[offset:stop] += audio[: stop - offset]


def _resample(audio: np.ndarray, rate: int, target_rate: int, length: int) -> np.ndarray:
    """`audio` resampled from `rate` to `target_rate` Hz, cut or padded to `length` samples."""
    if rate != target_rate:
        divisor = gcd(rate, target_rate)
        audio = resample_poly(audio, target_rate // divisor, rate // divisor)
    out = np.zeros(length, dtype=np.float64)
    out[: min(length, audio.size)] = audio[:length]
    return out


def note_gate(score: Score, notes: list[Note], sample_rate: int, length: int) -> np.ndarray:
    """1 inside notes, 0 outside, with `FADE_SECONDS` ramps at the edges of rests: `[S]`."""
    gate = np.zeros(length, dtype=np.float64)
    for note in notes:
        lo = round(score.tick_to_seconds(note.tick) * sample_rate)
        hi = round(score.tick_to_seconds(note.end) * sample_rate)
        gate[lo:hi] = 1.0
    edges = np.flatnonzero(np.diff(gate, prepend=0.0, append=0.0))  # run starts, run ends
    ramp_length = max(1, round(FADE_SECONDS * sample_rate))
    for start, end in zip(edges[0::2], edges[1::2], strict=True):
        ramp = min(ramp_length, (end - start) // 2)
        gate[start : start + ramp] *= np.linspace(0.0, 1.0, ramp, endpoint=False)
        gate[end - ramp : end] *= np.linspace(1.0, 0.0, ramp, endpoint=False)
    return gate
