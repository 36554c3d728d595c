"""REMI tokens: a bar-interleaved, grid-quantized encoding of a `Score`.

Sequence layout (Seed-Music's event types: lyric phoneme, bar, chord, vocal/bass/piano/guitar/drum
notes)::

    BOS  Key_A_minor  [Track_x Program_p]*          header: key, non-default GM programs
    Bar  [TimeSig_n/d]                              per bar; the signature where it changes
      Position_k  [Tempo_t] [Section_s]             k = grid step within the bar
                  [Chord_root_quality Duration_d]
                  Track_x  [Phoneme_p* [Syllable Byte_xx*]] Pitch_p|Drum_p Duration_d Velocity_v ...
    ...  EOS

`Position_k` is written when the position changes, `Track_x` when the track changes within a
position. Durations are in grid steps (1..`max_duration_steps`, longer ones are clipped).

Lyrics text: a vocal note whose `lyric` is not None carries a `Syllable` token followed by the
UTF-8 bytes of the syllable as `Byte_xx` tokens (two hex digits), after its phonemes. The
vocabulary stays closed and any text (any script, the empty string) comes back exactly.

Exactness: Score -> REMI -> Score is exact for notes, chords, tempos and sections on the grid,
velocities on `velocity_values()` and tempos at `tempo_decimals`; everything else is quantized
to the nearest representable value.

Speed: both directions work on numpy arrays of token ids (`score_tokens.remi_arrays`), with
Python loops over bars, tempos, sections, chords and lyrics only. Decoding checks with array
operations that the sequence follows the layout above; one that does not (or is malformed) goes
through `_RemiDecoder`, a state machine over single tokens that decodes the other orders it allows
and names the position and reason of every error.

This module never imports torch.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field

import numpy as np

from score_tokens.errors import ScoreError, ScoreTokenError
from score_tokens.remi_arrays import DRUMS, VOCAL, _decode_arrays, _IdTables, _RemiEncoder
from score_tokens.score import (
    CHORD_QUALITIES,
    NOTE_TRACKS,
    PITCH_CLASS_NAMES,
    SECTION_LABELS,
    Chord,
    Note,
    Score,
    Section,
    TempoChange,
    TimeSignature,
)
from score_tokens.vocab import BOS, EOS, PAD, Vocabulary, phoneme_inventory, special_tokens

KEY_MODES: tuple[str, ...] = ("major", "minor")


def _default_pitch_ranges() -> dict[str, tuple[int, int]]:
    return {name: (0, 127) for name in NOTE_TRACKS}


@dataclass(frozen=True)
class RemiConfig:
    """What the REMI vocabulary can express."""

    positions_per_beat: int = 12
    """Grid steps per quarter note; 12 holds 16ths and 8th/16th triplets."""
    ticks_per_beat: int = 480
    """Resolution of decoded scores."""
    pitch_ranges: dict[str, tuple[int, int]] = field(default_factory=_default_pitch_ranges)
    """Inclusive MIDI pitch range per note track (drums: GM drum instruments)."""
    velocity_bins: int = 32
    """Number of velocity levels, spread evenly over 1..127 (127 keeps every velocity)."""
    max_duration_steps: int = 192
    """Longest duration in grid steps (192 = four 4/4 bars at 12 steps per beat)."""
    tempo_min: int = 20
    tempo_max: int = 300
    tempo_decimals: int = 0
    """Tempo tokens at 10**-tempo_decimals bpm resolution between tempo_min and tempo_max."""
    max_numerator: int = 16
    denominators: tuple[int, ...] = (1, 2, 4, 8, 16)
    num_mask_tokens: int = 8

    def __post_init__(self) -> None:
        if self.positions_per_beat < 1 or self.ticks_per_beat % self.positions_per_beat:
            raise ScoreError("ticks_per_beat must be a multiple of positions_per_beat")
        if not 1 <= self.velocity_bins <= 127:
            raise ScoreError("velocity_bins must be in 1..127")
        if set(self.pitch_ranges) != set(NOTE_TRACKS):
            raise ScoreError(f"pitch_ranges must name exactly the tracks {list(NOTE_TRACKS)}")
        for name, (low, high) in self.pitch_ranges.items():
            if not 0 <= low <= high <= 127:
                raise ScoreError(f"illegal pitch range {low}..{high} for {name}")
        if not 1 <= self.tempo_min < self.tempo_max <= 1000 or not 0 <= self.tempo_decimals <= 2:
            raise ScoreError("tempo range must lie in 1..1000 bpm with 0..2 decimals")
        if self.max_duration_steps < 1 or self.max_numerator < 1 or self.num_mask_tokens < 0:
            raise ScoreError("max_duration_steps and max_numerator must be positive")

    def __hash__(self) -> int:
        return hash(self.to_json())

    def velocity_values(self) -> list[int]:
        """The velocity of each bin: round(127 * (i + 1) / bins)."""
        return [round(127 * (i + 1) / self.velocity_bins) for i in range(self.velocity_bins)]

    def to_json(self) -> str:
        data = asdict(self)
        data["pitch_ranges"] = {k: list(v) for k, v in self.pitch_ranges.items()}
        data["denominators"] = list(self.denominators)
        return json.dumps(data, sort_keys=True)

    @classmethod
    def from_json(cls, text: str) -> RemiConfig:
        try:
            data = json.loads(text)
            data["pitch_ranges"] = {
                k: (int(v[0]), int(v[1])) for k, v in data["pitch_ranges"].items()
            }
            data["denominators"] = tuple(int(d) for d in data["denominators"])
            return cls(**data)
        except (ValueError, KeyError, TypeError, IndexError) as exc:
            if isinstance(exc, ScoreError):
                raise
            raise ScoreError(f"malformed REMI config JSON: {exc}") from None


def key_token(key: str) -> str:
    """ "A minor" -> "Key_A_minor" (a `ScoreError` for anything else)."""
    parts = key.split()
    if len(parts) != 2 or parts[0] not in PITCH_CLASS_NAMES or parts[1] not in KEY_MODES:
        raise ScoreError(f"cannot tokenize key {key!r}: expected e.g. 'A minor' or 'Eb major'")
    return f"Key_{parts[0]}_{parts[1]}"


def chord_token(chord: Chord) -> str:
    return "Chord_N" if chord.root is None else f"Chord_{chord.root}_{chord.quality}"


class RemiTokenizer:
    """Score <-> REMI tokens (strings or int64 ids of `.vocab`)."""

    def __init__(self, config: RemiConfig | None = None) -> None:
        self.config = config or RemiConfig()
        self.vocab = Vocabulary(self._build_tokens())
        levels = np.array(self.config.velocity_values())
        self._velocity_tokens = [
            f"Velocity_{int(levels[np.abs(levels - v).argmin()])}" for v in range(128)
        ]  # nearest level of every MIDI velocity
        self.parsed: dict[str, tuple[str, str]] = {
            token: (token.partition("_")[0], token.partition("_")[2]) for token in self.vocab.tokens
        }  # token -> (kind, value), so decoding splits no strings
        self._tables = _IdTables(self)

    # ------------------------------------------------------------------ vocabulary

    def _build_tokens(self) -> list[str]:
        c = self.config
        low, high = _pitch_span(c)
        drum_low, drum_high = c.pitch_ranges[DRUMS]
        tempo_scale = 10**c.tempo_decimals
        tokens = [*special_tokens(c.num_mask_tokens), "Bar", "Syllable"]
        tokens += [
            f"TimeSig_{n}/{d}" for n in range(1, c.max_numerator + 1) for d in c.denominators
        ]
        tokens += [f"Key_{p}_{m}" for m in KEY_MODES for p in PITCH_CLASS_NAMES]
        tokens += [f"Section_{label}" for label in SECTION_LABELS]
        tokens += [
            f"Tempo_{self._tempo_text(i / tempo_scale)}"
            for i in range(c.tempo_min * tempo_scale, c.tempo_max * tempo_scale + 1)
        ]
        tokens += [f"Position_{k}" for k in range(_max_positions(c))]
        tokens += ["Chord_N", *(f"Chord_{r}_{q}" for r in range(12) for q in CHORD_QUALITIES)]
        tokens += [f"Track_{name}" for name in NOTE_TRACKS]
        tokens += [f"Program_{p}" for p in range(128)]
        tokens += [f"Phoneme_{p}" for p in phoneme_inventory()]
        tokens += [f"Byte_{b:02x}" for b in range(256)]
        tokens += [f"Pitch_{p}" for p in range(low, high + 1)]
        tokens += [f"Drum_{p}" for p in range(drum_low, drum_high + 1)]
        tokens += [f"Duration_{d}" for d in range(1, c.max_duration_steps + 1)]
        tokens += [f"Velocity_{v}" for v in dict.fromkeys(c.velocity_values())]
        return tokens

    def _tempo_text(self, bpm: float) -> str:
        decimals = self.config.tempo_decimals
        return f"{bpm:.{decimals}f}" if decimals else str(round(bpm))

    # ------------------------------------------------------------------ encoding

    def encode(self, score: Score) -> list[str]:
        """`score` as REMI tokens, BOS..EOS. Raises `ScoreError` for what cannot be expressed.

        A value outside the vocabulary (a time signature past `max_numerator`, a program outside
        0..127 in an unvalidated score) comes out as its token text; `encode_ids` rejects it.
        """
        ids, extra = self._encode(score)
        vocabulary = [*self.vocab.tokens, *extra]
        return [vocabulary[i] for i in ids.tolist()]

    def encode_ids(self, score: Score) -> np.ndarray:
        """`score` as token ids.  # [N] int64"""
        ids, extra = self._encode(score)
        if extra:
            position = int(np.argmax(ids >= len(self.vocab)))
            token = extra[int(ids[position]) - len(self.vocab)]
            raise ScoreTokenError(position, f"unknown token {token!r}")
        return ids

    def _encode(self, score: Score) -> tuple[np.ndarray, list[str]]:
        """The ids of `score` and the tokens outside the vocabulary (see `_RemiEncoder`)."""
        key = key_token(score.key)
        return _RemiEncoder(self, score, key, [chord_token(c) for c in score.chords]).ids()

    def decode(self, tokens: Sequence[str]) -> Score:
        """REMI tokens -> a validated Score; anything malformed raises `ScoreTokenError`."""
        lookup = self.vocab.token_to_id
        if all(isinstance(token, str) and token in lookup for token in tokens):
            ids = np.fromiter(map(lookup.__getitem__, tokens), np.int64, len(tokens))
            score = _decode_fast(self, ids)
            if score is not None:
                return score
        return _RemiDecoder(self, tokens).score()

    def decode_ids(self, ids: Sequence[int] | np.ndarray) -> Score:
        """Token ids -> a validated Score (see `decode`).  ids: [N] integers in 0..len(vocab)-1"""
        array = np.asarray(ids)
        if (
            array.ndim == 1
            and array.size
            and np.issubdtype(array.dtype, np.integer)
            and array.min() >= 0
            and array.max() < len(self.vocab)
        ):
            score = _decode_fast(self, array.astype(np.int64, copy=False))
            if score is not None:
                return score
        return _RemiDecoder(self, self.vocab.decode(ids)).score()

    # ------------------------------------------------------------------ quantizers

    def steps(self, tick: int, ticks_per_beat: int) -> int:
        """Nearest grid step of `tick`."""
        ppb = self.config.positions_per_beat
        return (tick * ppb * 2 + ticks_per_beat) // (2 * ticks_per_beat)

    def velocity_token(self, velocity: int) -> str:
        return self._velocity_tokens[min(max(velocity, 0), 127)]

    def duration_token(self, steps: int) -> str:
        return f"Duration_{min(max(steps, 1), self.config.max_duration_steps)}"

    def tempo_token(self, bpm: float) -> str:
        c = self.config
        return f"Tempo_{self._tempo_text(min(max(round(bpm, c.tempo_decimals), c.tempo_min), c.tempo_max))}"


def _pitch_span(config: RemiConfig) -> tuple[int, int]:
    """The lowest and highest `Pitch_p` of the vocabulary (the union of the pitched ranges)."""
    ranges = [r for name, r in config.pitch_ranges.items() if name != DRUMS]
    return min(r[0] for r in ranges), max(r[1] for r in ranges)


def _max_positions(config: RemiConfig) -> int:
    return config.positions_per_beat * 4 * config.max_numerator // min(config.denominators)


def _decode_fast(tokenizer: RemiTokenizer, ids: np.ndarray) -> Score | None:
    """`_decode_arrays` with a fresh state machine: a Score, or None to leave to `_RemiDecoder`.

    ids: [N] int64
    """
    return _decode_arrays(_RemiDecoder(tokenizer, ()), ids)


_NOTE_EXPECT = ("Duration", "Velocity")
_HANDLED_KINDS = (
    "Key", "Track", "Program", "Bar", "TimeSig", "Position", "Tempo", "Section", "Chord",
    "Phoneme", "Syllable", "Byte", "Pitch", "Drum",
)  # fmt: skip


class _RemiDecoder:
    """One decoding pass: a small state machine over the tokens; errors name the position."""

    def __init__(self, tokenizer: RemiTokenizer, tokens: Sequence[str]) -> None:
        self.tokenizer = tokenizer
        self.config = tokenizer.config
        self.tokens = tokens
        self.tpb = self.config.ticks_per_beat
        self.step_ticks = self.tpb // self.config.positions_per_beat
        self.out = Score(ticks_per_beat=self.tpb, tempos=[], time_signatures=[], sections=[])
        self.bar_start = -1  # tick of the current bar; -1 before the first Bar
        self.bar_length = 0
        self.signature = (4, 4)
        self.bar_tokens = 0  # tokens since the current Bar
        self.num_bars = 0
        self.position: int | None = None
        self.track: str | None = None
        self.header_track: str | None = None
        self.phonemes: list[str] = []
        self.syllable: bytearray | None = None
        self.pending: list[object] = []  # the note or chord waiting for Duration/Velocity
        self.expect: tuple[str, ...] = ()

    def fail(self, position: int, reason: str) -> ScoreTokenError:
        return ScoreTokenError(position, reason)

    def score(self) -> Score:
        tokens = self.tokens
        parsed = self.tokenizer.parsed
        handlers = {kind: getattr(self, f"on_{kind.lower()}") for kind in _HANDLED_KINDS}
        ended = False
        for position, token in enumerate(tokens):
            if not isinstance(token, str):
                raise self.fail(position, f"token {token!r} is not a string")
            if token == PAD:
                continue
            if ended:
                raise self.fail(position, f"{token!r} after EOS")
            if token == BOS:
                if position != 0:
                    raise self.fail(position, "BOS is only allowed at the start")
                continue
            entry = parsed.get(token)
            if entry is None:
                raise self.fail(position, f"unknown token {token!r}")
            kind, value = entry
            if self.expect:
                if kind != self.expect[0]:
                    raise self.fail(
                        position,
                        f"expected {self.expect[0]} after {self.pending_kind()}, got {token!r}",
                    )
                self.complete(position, kind, value)
                continue
            if token == EOS:
                ended = True
                continue
            handler = handlers.get(kind)
            if handler is None:
                raise self.fail(position, f"{token!r} cannot appear in a score")
            handler(position, value)
            self.bar_tokens += 1
        if self.expect:
            raise self.fail(
                len(tokens),
                f"sequence ends while a {self.pending_kind()} waits for {self.expect[0]}",
            )
        if self.phonemes or self.syllable is not None:
            raise self.fail(len(tokens), "sequence ends with lyrics but no vocal note")
        return self.finish(len(tokens))

    # ------------------------------------------------------------------ handlers

    def on_key(self, position: int, value: str) -> None:
        self.out.key = value.replace("_", " ")

    def on_track(self, position: int, value: str) -> None:
        if self.phonemes or self.syllable is not None:
            raise self.fail(position, "lyrics must be followed by their vocal note")
        if self.bar_start < 0:
            self.header_track = value
            return
        self.require_position(position, "Track")
        self.track = value

    def on_program(self, position: int, value: str) -> None:
        if self.header_track is None:
            raise self.fail(
                position, "Program must follow a Track in the header, before the first Bar"
            )
        self.out.tracks[self.header_track].program = int(value)
        self.header_track = None

    def on_bar(self, position: int, value: str) -> None:
        if self.header_track is not None:
            raise self.fail(position, "header Track without a Program")
        if self.phonemes or self.syllable is not None:
            raise self.fail(position, "lyrics must be followed by their vocal note")
        self.bar_start = 0 if self.bar_start < 0 else self.bar_start + self.bar_length
        self.num_bars += 1
        self.set_signature(*self.signature)
        self.bar_tokens = -1
        self.position = None
        self.track = None

    def on_timesig(self, position: int, value: str) -> None:
        if self.bar_start < 0 or self.bar_tokens != 0:
            raise self.fail(position, "TimeSig must directly follow Bar")
        numerator, denominator = (int(part) for part in value.split("/"))
        self.set_signature(numerator, denominator)

    def set_signature(self, numerator: int, denominator: int) -> None:
        self.signature = (numerator, denominator)
        self.bar_length = self.tpb * 4 * numerator // denominator
        current = self.out.time_signatures
        if current and current[-1].tick == self.bar_start:
            current.pop()
        if not current or (current[-1].numerator, current[-1].denominator) != self.signature:
            current.append(TimeSignature(self.bar_start, numerator, denominator))

    def on_position(self, position: int, value: str) -> None:
        if self.bar_start < 0:
            raise self.fail(position, "Position before the first Bar")
        if self.phonemes or self.syllable is not None:
            raise self.fail(position, "lyrics must be followed by their vocal note")
        tick = int(value) * self.step_ticks
        if tick >= self.bar_length:
            raise self.fail(
                position,
                f"position {value} is outside the bar ({self.bar_length // self.step_ticks} positions)",
            )
        if self.position is not None and self.bar_start + tick < self.position:
            raise self.fail(position, "position goes backwards within the bar")
        self.position = self.bar_start + tick
        self.track = None

    def on_tempo(self, position: int, value: str) -> None:
        tick = self.require_position(position, "Tempo")
        self.out.tempos.append(TempoChange(tick, float(value)))

    def on_section(self, position: int, value: str) -> None:
        self.out.sections.append(Section(self.require_position(position, "Section"), value))

    def on_chord(self, position: int, value: str) -> None:
        tick = self.require_position(position, "Chord")
        if value == "N":
            chord = Chord(tick, 1, None, "maj")
        else:
            root, _, quality = value.partition("_")
            chord = Chord(tick, 1, int(root), quality)
        self.pending = [chord]
        self.expect = ("Duration",)

    def on_phoneme(self, position: int, value: str) -> None:
        self.require_vocal(position, "Phoneme")
        if self.syllable is not None:
            raise self.fail(position, "Phoneme after the Syllable of the same note")
        self.phonemes.append(value)

    def on_syllable(self, position: int, value: str) -> None:
        self.require_vocal(position, "Syllable")
        if self.syllable is not None:
            raise self.fail(position, "two Syllable tokens for one note")
        self.syllable = bytearray()

    def on_byte(self, position: int, value: str) -> None:
        if self.syllable is None:
            raise self.fail(position, "Byte outside a Syllable")
        self.syllable.append(int(value, 16))

    def on_pitch(self, position: int, value: str) -> None:
        self.start_note(position, int(value), drum=False)

    def on_drum(self, position: int, value: str) -> None:
        self.start_note(position, int(value), drum=True)

    def start_note(self, position: int, pitch: int, drum: bool) -> None:
        tick = self.require_position(position, "a note")
        if self.track is None:
            raise self.fail(position, "note before any Track at this position")
        if drum != (self.track == DRUMS):
            raise self.fail(
                position, f"{'Drum' if drum else 'Pitch'} token on the {self.track} track"
            )
        low, high = self.config.pitch_ranges[self.track]
        if not low <= pitch <= high:
            raise self.fail(
                position, f"pitch {pitch} is outside the {self.track} range {low}..{high}"
            )
        lyric = None
        if self.syllable is not None:
            try:
                lyric = self.syllable.decode("utf-8")
            except UnicodeDecodeError:
                raise self.fail(position, "the syllable bytes are not valid UTF-8") from None
        note = Note(tick, 1, pitch, 96, lyric, tuple(self.phonemes))
        self.phonemes, self.syllable = [], None
        self.pending = [note, self.track]
        self.expect = _NOTE_EXPECT

    def complete(self, position: int, kind: str, value: str) -> None:
        """Apply the Duration or Velocity token that the pending note or chord waits for."""
        item = self.pending[0]
        if kind == "Duration":
            assert isinstance(item, Note | Chord)
            item.duration = int(value) * self.step_ticks
        else:
            assert isinstance(item, Note)
            item.velocity = int(value)
        self.expect = self.expect[1:]
        if self.expect:
            return
        if isinstance(item, Chord):
            self.out.chords.append(item)
        else:
            self.out.tracks[str(self.pending[1])].notes.append(item)
        self.pending = []

    def pending_kind(self) -> str:
        return "chord" if self.pending and isinstance(self.pending[0], Chord) else "note"

    def require_position(self, position: int, what: str) -> int:
        if self.position is None:
            raise self.fail(position, f"{what} before any Position in the bar")
        return self.position

    def require_vocal(self, position: int, what: str) -> None:
        self.require_position(position, what)
        if self.track != VOCAL:
            raise self.fail(position, f"{what} outside the vocal track")

    # ------------------------------------------------------------------ result

    def finish(self, position: int) -> Score:
        out = self.out
        if self.num_bars == 0:
            raise self.fail(position, "no Bar in the sequence")
        if not out.tempos or out.tempos[0].tick != 0:
            out.tempos.insert(0, TempoChange(0, 120.0))
        last_bar_end = self.bar_start + self.bar_length
        if len(out.bar_starts()) != self.num_bars:
            out.end_tick = last_bar_end
        out.sort()
        try:
            return out.validate()
        except ScoreError as exc:
            raise self.fail(position, str(exc)) from None
