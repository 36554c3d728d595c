"""The REMI tokenizer's array paths: whole sequences encoded and decoded with numpy.

`RemiTokenizer` (in `score_tokens.remi`) encodes and decodes through this module, for throughput:
token ids are laid out and read back as numpy arrays, with Python loops over bars, tempos,
sections, chords and lyrics only.

- `_IdTables`: lookup arrays over a tokenizer's vocabulary (kind and value of every id, the id
  bases of the numbered tokens), built once per tokenizer.
- `_RemiEncoder`: Score -> ids; timed events, then bars, then one scatter into the id array.
- `_decode_arrays`: ids -> Score for a sequence that follows the layout of `score_tokens.remi`
  exactly (checked with array operations); anything else gives None.

The step-by-step decoder `_RemiDecoder` of `score_tokens.remi` stays the reference: it decodes
every sequence the fast path hands back (and names the position and reason of every error), and
its handlers build the header, bars, tempos, sections and chords here too, so both paths give
the same Score.

`score_tokens.remi` imports this module, so this one imports remi for type hints only: what it
needs from there comes in as arguments (the tokenizer, a fresh `_RemiDecoder`, the key and chord
tokens). This module never imports torch.
"""

from __future__ import annotations

import operator
from bisect import bisect_left
from collections.abc import Callable, Sequence
from dataclasses import replace
from functools import partial
from itertools import chain
from typing import TYPE_CHECKING

import numpy as np

from score_tokens.errors import ScoreError
from score_tokens.score import (
    DEFAULT_PROGRAMS,
    NOTE_TRACKS,
    SECTION_LABELS,
    Note,
    Score,
    TempoChange,
    Track,
)
from score_tokens.vocab import BOS, EOS

if TYPE_CHECKING:
    from score_tokens.remi import RemiTokenizer, _RemiDecoder

# Track names the array code shares with `score_tokens.remi` (which exports them): they live
# here, where both modules can import them.
DRUMS = "drums"
VOCAL = "vocal"


class _Kind:
    """Token kinds of the id tables: the upper-cased token prefix; END is the end of a sequence."""

    OTHER, PAD, BOS, EOS, KEY, TRACK, PROGRAM, BAR, TIMESIG, POSITION, TEMPO = range(11)
    SECTION, CHORD, PHONEME, SYLLABLE, BYTE, PITCH, DRUM, DURATION, VELOCITY, END = range(11, 21)


_NUMBERED = {_Kind.POSITION, _Kind.PITCH, _Kind.DRUM, _Kind.DURATION, _Kind.VELOCITY, _Kind.PROGRAM}


class _IdTables:
    """Lookup arrays over a tokenizer's ids, for `_RemiEncoder` and `_decode_arrays`."""

    def __init__(self, tokenizer: RemiTokenizer) -> None:
        c, ids = tokenizer.config, tokenizer.vocab.token_to_id
        pairs = [tokenizer.parsed[token] for token in tokenizer.vocab.tokens]
        kind_of = {p: getattr(_Kind, p.upper(), _Kind.OTHER) for p in {p for p, _ in pairs}}
        self.kind = np.array([kind_of[p] for p, _ in pairs], dtype=np.int8)  # [V]
        self.value = np.zeros(len(pairs), dtype=np.int64)  # [V] number, byte or track index
        read: dict[int, Callable[[str], int]] = {kind: int for kind in _NUMBERED}
        read |= {_Kind.BYTE: partial(int, base=16), _Kind.TRACK: NOTE_TRACKS.index}
        for kind, parse in read.items():
            at = np.flatnonzero(self.kind == kind)
            self.value[at] = [parse(pairs[i][1]) for i in at.tolist()]
        self.text = [text for _, text in pairs]  # [V]
        self.pitch_base = self._base(_Kind.PITCH)  # id of Pitch_p is pitch_base + p
        self.drum_base = self._base(_Kind.DRUM)
        self.duration_base = self._base(_Kind.DURATION)
        self.position_base = self._base(_Kind.POSITION)
        self.byte_base = self._base(_Kind.BYTE)
        self.num_positions = int(np.count_nonzero(self.kind == _Kind.POSITION))
        self.track = np.array([ids[f"Track_{name}"] for name in NOTE_TRACKS])  # [5]
        self.velocity = np.array([ids[t] for t in tokenizer._velocity_tokens])  # [128]
        self.low = np.array([c.pitch_ranges[name][0] for name in NOTE_TRACKS])  # [5]
        self.high = np.array([c.pitch_ranges[name][1] for name in NOTE_TRACKS])  # [5]

    def _base(self, kind: int) -> int:
        """The id of value 0 of a numbered `kind`, whose ids run up with their values."""
        first = int(np.flatnonzero(self.kind == kind)[0])
        return first - int(self.value[first])


_NOTE_FIELDS = operator.attrgetter("tick", "duration", "pitch", "velocity")


def _ranges(starts: np.ndarray, lengths: np.ndarray) -> np.ndarray:
    """The ranges [starts[i], starts[i] + lengths[i]) one after another.  # [sum(lengths)]"""
    offsets = np.repeat(starts - (np.cumsum(lengths) - lengths), lengths)
    return offsets + np.arange(len(offsets))


class _RemiEncoder:
    """One encoding pass over arrays: timed events, then bars, then one scatter into the ids.

    `ids()` gives the id sequence and the texts of tokens outside the vocabulary, which take the
    ids `len(vocab)`, `len(vocab) + 1`, ... (see `RemiTokenizer.encode`). `key` and `chords` are
    the key token and the chord tokens of `score`, as `score_tokens.remi` spells them.
    """

    def __init__(
        self, tokenizer: RemiTokenizer, score: Score, key: str, chords: Sequence[str]
    ) -> None:
        self.tokenizer = tokenizer
        self.tables = tokenizer._tables
        self.config = tokenizer.config
        self.score = score
        self.key = key
        self.chords = chords
        self.extra: list[str] = []
        self.ends: list[int] = []  # note ends per track, for the end of the score

    def id(self, token: str) -> int:
        index = self.tokenizer.vocab.token_to_id.get(token)
        if index is None:
            self.extra.append(token)
            return len(self.tokenizer.vocab) + len(self.extra) - 1
        return index

    def steps(self, ticks: np.ndarray) -> np.ndarray:
        """`RemiTokenizer.steps` of every tick.  # [N] int64"""
        tpb = self.score.ticks_per_beat
        return (ticks * self.config.positions_per_beat * 2 + tpb) // (2 * tpb)

    def ids(self) -> tuple[np.ndarray, list[str]]:
        score, t = self.score, self.tables
        header = [BOS, self.key]
        for name in NOTE_TRACKS:
            track = score.tracks.get(name)
            if track is not None and track.program != DEFAULT_PROGRAMS[name]:
                header += [f"Track_{name}", f"Program_{track.program}"]
        header_ids = [self.id(token) for token in header]
        steps, orders, body, lengths = self._events()
        sources = np.cumsum(lengths) - lengths  # where each event's tokens start in `body`
        order = np.lexsort((orders, steps))  # stable, as the original list.sort
        steps, orders, lengths, sources = (a[order] for a in (steps, orders, lengths, sources))
        bar_start, bar_signature, bar_end = self._bars(steps.tolist())
        counts = np.diff(bar_end, prepend=0)
        bar = np.repeat(np.arange(len(counts)), counts)  # [E] bar of each event
        new_position = np.ones(len(steps), dtype=bool)
        new_position[1:] = (bar[1:] != bar[:-1]) | (steps[1:] != steps[:-1])
        previous = np.concatenate([[-1], orders[:-1]])
        new_track = (orders >= 3) & (new_position | (previous != orders))  # notes only
        position = steps - bar_start[bar]
        position_ids = t.position_base + position
        outside = (position < 0) | (position >= t.num_positions)
        for index in np.flatnonzero(new_position & outside):
            position_ids[index] = self.id(f"Position_{position[index]}")
        sizes = np.empty(len(counts) + len(steps), dtype=np.int64)  # bars and events, in order
        bar_item = np.arange(len(counts)) + bar_end - counts
        event_item = np.arange(len(steps)) + bar + 1
        sizes[bar_item] = 1 + (bar_signature >= 0)
        sizes[event_item] = lengths + new_position + new_track
        starts = len(header_ids) + np.cumsum(sizes) - sizes
        out = np.empty(len(header_ids) + int(sizes.sum()) + 1, dtype=np.int64)
        out[: len(header_ids)] = header_ids
        out[starts[bar_item]] = self.tokenizer.vocab.token_to_id["Bar"]
        signed = bar_signature >= 0
        out[starts[bar_item][signed] + 1] = bar_signature[signed]
        at = starts[event_item]
        out[at[new_position]] = position_ids[new_position]
        at = at + new_position
        out[at[new_track]] = t.track[orders[new_track] - 3]
        out[_ranges(at + new_track, lengths)] = body[_ranges(sources, lengths)]
        out[-1] = self.tokenizer.vocab.token_to_id[EOS]
        return out, self.extra

    def _events(self) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Every timed event: grid step, order (0 tempo, 1 section, 2 chord, 3 + track index),
        flat token ids of the event bodies and the body lengths.  # [E], [E], [sum], [E]"""
        score, tok = self.score, self.tokenizer
        tpb = score.ticks_per_beat
        steps, orders, bodies = [], [], []
        for tempo in score.tempos:
            steps.append(tok.steps(tempo.tick, tpb))
            orders.append(0)
            bodies.append([self.id(tok.tempo_token(tempo.bpm))])
        for section in score.sections:
            if section.label not in SECTION_LABELS:
                raise ScoreError(f"cannot tokenize section label {section.label!r}")
            steps.append(tok.steps(section.tick, tpb))
            orders.append(1)
            bodies.append([self.id(f"Section_{section.label}")])
        for chord, token in zip(score.chords, self.chords, strict=True):
            duration = tok.steps(chord.tick + chord.duration, tpb) - tok.steps(chord.tick, tpb)
            steps.append(tok.steps(chord.tick, tpb))
            orders.append(2)
            bodies.append([self.id(token), self.id(tok.duration_token(duration))])
        parts = [(np.array(steps, dtype=np.int64), np.array(orders, dtype=np.int64))]
        flat = [np.array([i for body in bodies for i in body], dtype=np.int64)]
        lengths = [np.array([len(body) for body in bodies], dtype=np.int64)]
        for order, name in enumerate(NOTE_TRACKS):
            track = score.tracks.get(name)
            if track is not None and track.notes:
                note_steps, note_body, note_lengths = self._notes(name, track.notes)
                parts.append((note_steps, np.full(len(note_steps), 3 + order)))
                flat.append(note_body)
                lengths.append(note_lengths)
        return (
            np.concatenate([p[0] for p in parts]),
            np.concatenate([p[1] for p in parts]),
            np.concatenate(flat),
            np.concatenate(lengths),
        )

    def _notes(self, name: str, notes: list[Note]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Onset steps, flat body ids and body lengths of one track's notes.  # [N], [sum], [N]"""
        t, c = self.tables, self.config
        fields = np.fromiter(
            chain.from_iterable(map(_NOTE_FIELDS, notes)), np.int64, 4 * len(notes)
        ).reshape(-1, 4)  # [N, 4] tick, duration, pitch, velocity
        tick, duration, pitch, velocity = fields.T
        self.ends.append(int((tick + duration).max()))
        low, high = c.pitch_ranges[name]
        bad = np.flatnonzero((pitch < low) | (pitch > high))
        stop = int(bad[0]) if bad.size else len(notes)
        prefix, prefix_lengths = (  # lyric errors of earlier notes come first
            self._lyrics(notes[:stop], len(notes)) if name == VOCAL else (None, None)
        )
        if bad.size:
            note = notes[stop]
            raise ScoreError(
                f"{name} note pitch {note.pitch} at tick {note.tick} is outside {low}..{high}"
            )
        start = self.steps(tick)
        length = np.clip(self.steps(tick + duration) - start, 1, c.max_duration_steps)
        base = t.drum_base if name == DRUMS else t.pitch_base
        triples = np.stack(
            [base + pitch, t.duration_base + length, t.velocity[np.clip(velocity, 0, 127)]], axis=1
        )  # [N, 3] Pitch|Drum, Duration, Velocity
        if prefix is None or prefix_lengths is None or not prefix.size:
            return start, triples.ravel(), np.full(len(notes), 3)
        lengths = prefix_lengths + 3
        body = np.empty(int(lengths.sum()), dtype=np.int64)
        first = np.cumsum(lengths) - lengths
        body[_ranges(first, prefix_lengths)] = prefix
        body[(first + prefix_lengths)[:, None] + np.arange(3)] = triples
        return start, body, lengths

    def _lyrics(self, notes: list[Note], count: int) -> tuple[np.ndarray, np.ndarray]:
        """Phoneme, Syllable and Byte ids before each vocal note, flat, and their counts."""
        lookup, byte_base = self.tokenizer.vocab.token_to_id, self.tables.byte_base
        flat: list[int] = []
        lengths = np.zeros(count, dtype=np.int64)
        for index, note in enumerate(notes):
            if not note.phonemes and note.lyric is None:
                continue
            before = len(flat)
            for phoneme in note.phonemes:
                token_id = lookup.get(f"Phoneme_{phoneme}")
                if token_id is None:
                    raise ScoreError(f"vocal note at tick {note.tick}: unknown phoneme {phoneme!r}")
                flat.append(token_id)
            if note.lyric is not None:
                flat.append(lookup["Syllable"])
                flat += [byte_base + b for b in note.lyric.encode("utf-8")]
            lengths[index] = len(flat) - before
        return np.array(flat, dtype=np.int64), lengths

    def _bars(self, steps: list[int]) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Per bar: start step, TimeSig id (-1: none) and the end of its events in `steps`.

        `steps` are the sorted event steps; events past the last bar extend the last meter.
        """
        score, tok = self.score, self.tokenizer
        tpb = score.ticks_per_beat
        bar_ticks = self._bar_starts()
        bar_steps = [tok.steps(t, tpb) for t in bar_ticks]
        rows: list[tuple[int, int, int]] = []
        signature = None
        current = score.signature_at(0)
        cursor = 0
        index = 0
        while index < len(bar_steps) or cursor < len(steps):
            if index >= len(bar_steps):
                bar_ticks.append(bar_ticks[-1] + score.bar_length(current))
                bar_steps.append(tok.steps(bar_ticks[-1], tpb))
            current = score.signature_at(bar_ticks[index])
            stop = bar_steps[index + 1] if index + 1 < len(bar_steps) else None
            if stop is None:
                stop = tok.steps(bar_ticks[index] + score.bar_length(current), tpb)
                stop = stop if cursor < len(steps) and steps[-1] >= stop else None
            time_signature = -1
            if signature is None or (current.numerator, current.denominator) != signature:
                signature = (current.numerator, current.denominator)
                time_signature = self.id(f"TimeSig_{signature[0]}/{signature[1]}")
            cursor = len(steps) if stop is None else max(cursor, bisect_left(steps, stop))
            rows.append((bar_steps[index], time_signature, cursor))
            index += 1
        start, time_signatures, end = (
            np.array(column, dtype=np.int64) for column in zip(*rows, strict=True)
        )
        return start, time_signatures, end

    def _bar_starts(self) -> list[int]:
        """`score.bar_starts()`, with the end of the last event from the arrays when needed."""
        score = self.score
        if score.end_tick is not None:
            return score.bar_starts()
        ends = [*self.ends, *(c.tick + c.duration for c in score.chords)]
        ends += [s.tick for s in score.sections]
        ends += [
            n.end for name, t in score.tracks.items() if name not in NOTE_TRACKS for n in t.notes
        ]
        return replace(score, end_tick=max(ends, default=0)).bar_starts()


def _follow_table() -> np.ndarray:
    """[kind, next kind]: may `next` follow `kind` after the first Bar.

    The layout is the one the docstring of `score_tokens.remi` draws.
    """
    K = _Kind
    event_next = (K.TEMPO, K.SECTION, K.CHORD, K.TRACK, K.POSITION, K.BAR, K.END)
    note_start = (K.PHONEME, K.SYLLABLE, K.PITCH, K.DRUM)
    followers = {
        K.BAR: (K.BAR, K.TIMESIG, K.POSITION, K.END),
        K.TIMESIG: (K.BAR, K.POSITION, K.END),
        K.POSITION: (K.TEMPO, K.SECTION, K.CHORD, K.TRACK),
        K.TEMPO: event_next,
        K.SECTION: event_next,
        K.CHORD: (K.DURATION,),
        K.DURATION: (K.VELOCITY, *event_next),  # Velocity iff a note's Duration: checked apart
        K.TRACK: note_start,
        K.PHONEME: (K.PHONEME, K.SYLLABLE, K.PITCH),
        K.SYLLABLE: (K.BYTE, K.PITCH),
        K.BYTE: (K.BYTE, K.PITCH),
        K.PITCH: (K.DURATION,),
        K.DRUM: (K.DURATION,),
        K.VELOCITY: (*note_start, K.TRACK, K.POSITION, K.BAR, K.END),
    }
    table = np.zeros((K.END + 1, K.END + 1), dtype=bool)
    for kind, allowed in followers.items():
        table[kind, list(allowed)] = True
    return table


_CAN_FOLLOW = _follow_table()


def _decode_arrays(machine: _RemiDecoder, ids: np.ndarray) -> Score | None:
    """Decode `ids` with array operations if they follow the layout exactly, else None.

    None hands the sequence to the state machine `_RemiDecoder`, which also decodes the orders
    the layout does not name (a Tempo after the notes of a position, ...) and names the position
    and reason of every error. The header, bars, tempos, sections and chords go through the
    handlers of `machine`, a fresh `_RemiDecoder` with no tokens, so both paths build the same
    Score.  ids: [N] int64
    """
    K = _Kind
    if not ids.size:
        return None
    kind = machine.tokenizer._tables.kind[ids]
    keep = kind != K.PAD
    keep[0] &= kind[0] != K.BOS  # BOS only at position 0
    ids, kind = ids[keep], kind[keep]
    if kind.size and kind[-1] == K.EOS:
        ids, kind = ids[:-1], kind[:-1]
    bars = np.flatnonzero(kind == K.BAR)
    if not bars.size:
        return None
    try:
        if not _decode_header(machine, ids[: bars[0]]):
            return None
        return _decode_body(machine, kind[bars[0] :], ids[bars[0] :])
    except ScoreError:
        return None


def _decode_header(machine: _RemiDecoder, ids: np.ndarray) -> bool:
    """Key and Track+Program tokens before the first Bar; False for anything else."""
    kinds, text = machine.tokenizer._tables.kind[ids].tolist(), machine.tokenizer._tables.text
    index = 0
    while index < len(kinds):
        if kinds[index] == _Kind.KEY:
            machine.on_key(index, text[ids[index]])
            index += 1
        elif kinds[index] == _Kind.TRACK and kinds[index + 1 : index + 2] == [_Kind.PROGRAM]:
            machine.on_track(index, text[ids[index]])
            machine.on_program(index + 1, text[ids[index + 1]])
            index += 2
        else:
            return False
    return True


def _decode_body(machine: _RemiDecoder, kind: np.ndarray, ids: np.ndarray) -> Score | None:
    """Everything from the first Bar on (see `_decode_arrays`).  kind, ids: [N]"""
    K, t = _Kind, machine.tokenizer._tables
    following = np.append(kind[1:], K.END)
    note = (kind == K.PITCH) | (kind == K.DRUM)
    note_duration = (kind == K.DURATION) & np.concatenate([[False], note[:-1]])
    if not _CAN_FOLLOW[kind, following].all() or (
        not np.array_equal(following == K.VELOCITY, note_duration)
    ):
        return None
    value = t.value[ids]
    index = np.arange(len(kind))
    bar_at = np.flatnonzero(kind == K.BAR)
    bar_start, bar_length = np.empty((2, len(bar_at)), dtype=np.int64)
    signed = (following[bar_at] == K.TIMESIG).tolist()
    for k, at in enumerate(bar_at.tolist()):
        machine.on_bar(at, "")
        if signed[k]:
            machine.bar_tokens = 0
            machine.on_timesig(at + 1, t.text[ids[at + 1]])
        bar_start[k], bar_length[k] = machine.bar_start, machine.bar_length
    bar = np.cumsum(kind == K.BAR) - 1  # [N] bar of each token
    position_at = np.flatnonzero(kind == K.POSITION)
    in_bar = value[position_at] * machine.step_ticks
    ticks = bar_start[bar[position_at]] + in_bar
    if (in_bar >= bar_length[bar[position_at]]).any() or (np.diff(ticks) < 0).any():
        return None
    tick = np.zeros(len(kind), dtype=np.int64)
    tick[position_at] = ticks
    tick = tick[np.maximum.accumulate(np.where(kind == K.POSITION, index, 0))]  # [N] its Position
    track = value[np.maximum.accumulate(np.where(kind == K.TRACK, index, 0))]  # [N] its Track
    for at in np.flatnonzero((kind == K.TEMPO) | (kind == K.SECTION) | (kind == K.CHORD)).tolist():
        machine.position = int(tick[at])
        if kind[at] == K.TEMPO:
            machine.on_tempo(at, t.text[ids[at]])
        elif kind[at] == K.SECTION:
            machine.on_section(at, t.text[ids[at]])
        else:
            machine.on_chord(at, t.text[ids[at]])
            machine.complete(at + 1, "Duration", t.text[ids[at + 1]])
    note_at = np.flatnonzero(note)
    note_track, pitch = track[note_at], value[note_at]
    vocal = NOTE_TRACKS.index(VOCAL)
    if (
        not np.array_equal(kind[note_at] == K.DRUM, note_track == NOTE_TRACKS.index(DRUMS))
        or ((pitch < t.low[note_track]) | (pitch > t.high[note_track])).any()
        or (track[(kind == K.PHONEME) | (kind == K.SYLLABLE)] != vocal).any()
    ):
        return None
    lyrics = _note_lyrics(machine, kind, ids, note_at)
    if lyrics is None:
        return None
    columns = (tick[note_at], value[note_at + 1] * machine.step_ticks, pitch, value[note_at + 2])
    out = machine.out
    for number, name in enumerate(NOTE_TRACKS):
        mine = np.flatnonzero(note_track == number)
        mine = mine[np.lexsort((columns[1][mine], pitch[mine], columns[0][mine]))]  # as Score.sort
        fields = [column[mine].tolist() for column in columns]
        if number == vocal:
            fields += [[lyric[i] for i in mine.tolist()] for lyric in lyrics]
        out.tracks[name].notes = list(map(Note, *fields))
    return _finish(machine, int((columns[0] + columns[1]).max(initial=0)))


def _note_lyrics(
    machine: _RemiDecoder, kind: np.ndarray, ids: np.ndarray, note_at: np.ndarray
) -> tuple[list[str | None], list[tuple[str, ...]]] | None:
    """The syllable and phonemes of each note (None: a syllable is not UTF-8)."""
    K, t = _Kind, machine.tokenizer._tables
    syllables: list[str | None] = [None] * len(note_at)
    phonemes: list[tuple[str, ...]] = [()] * len(note_at)
    syllable_at = np.flatnonzero(kind == K.SYLLABLE)
    if syllable_at.size:
        byte_at = np.flatnonzero(kind == K.BYTE)
        byte_note = np.searchsorted(note_at, byte_at)  # the note each byte belongs to
        owner = np.searchsorted(note_at, syllable_at)
        first, stop = (np.searchsorted(byte_note, owner, side) for side in ("left", "right"))
        data = t.value[ids[byte_at]].astype(np.uint8).tobytes()
        try:
            for number, a, b in zip(owner.tolist(), first.tolist(), stop.tolist(), strict=True):
                syllables[number] = data[a:b].decode("utf-8")
        except UnicodeDecodeError:
            return None
    phoneme_at = np.flatnonzero(kind == K.PHONEME)
    if phoneme_at.size:
        names = [t.text[i] for i in ids[phoneme_at].tolist()]
        owners, first = np.unique(np.searchsorted(note_at, phoneme_at), return_index=True)
        bounds = zip(
            owners.tolist(), first.tolist(), [*first[1:].tolist(), len(names)], strict=True
        )
        for number, a, b in bounds:
            phonemes[number] = tuple(names[a:b])
    return syllables, phonemes


def _finish(machine: _RemiDecoder, last_note_end: int) -> Score:
    """`_RemiDecoder.finish` for notes that are sorted and valid by construction already."""
    out = machine.out
    if not out.tempos or out.tempos[0].tick != 0:
        out.tempos.insert(0, TempoChange(0, 120.0))
    ends = [last_note_end, *(c.tick + c.duration for c in out.chords)]
    ends += [s.tick for s in out.sections]
    if len(replace(out, end_tick=max(ends)).bar_starts()) != machine.num_bars:
        out.end_tick = machine.bar_start + machine.bar_length
    replace(out, tracks={}).sort()  # the same lists, less the notes
    replace(out, tracks={name: Track(t.program) for name, t in out.tracks.items()}).validate()
    return out
