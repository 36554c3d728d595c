"""The lead-sheet grammar: which tokens may come next, and the state features the LM reads.

`LeadSheetGrammar` walks a lead-sheet token sequence (`seedmusic.composer.leadsheet`) against a
plan of sections and syllables. Sampling masks the LM to `allowed()` at every step, so whatever
is sampled decodes to a valid song in which every syllable is sung once, in order; `features()`
describes the state (section, next syllable's stress, word/line starts, syllables left, bars
into the section, melisma) for the model. In an infill span (`SpanLimits`) the grammar must land
exactly on the span's end with the span's syllables.

This module never imports torch.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from score_tokens.score import SECTION_LABELS
from seedmusic.composer.leadsheet import (
    BAR,
    CHORD_IDS,
    DURATION_IDS,
    EOS,
    KEY_IDS,
    MAX_DURATION,
    PITCH_IDS,
    PITCH_RANGE,
    POSITION_IDS,
    SECTION_IDS,
    STEP_TICKS,
    STEPS_PER_BEAT,
    SYLLABLE,
    TEMPO_IDS,
    TIMESIG_IDS,
    TOKEN_ID,
    VOCAB,
    PlanSection,
    SyllableInfo,
    bar_steps,
    key_token,
)


@dataclass
class GrammarLimits:
    """Bounds that keep every decode finite (defaults fit the corpus)."""

    max_instrumental_bars: int = 8
    max_bars_after_last_syllable: int = 2
    max_empty_bars: int = 2
    max_notes_per_syllable: int = 4
    max_notes_per_bar: int = 16
    pitch_range: tuple[int, int] = PITCH_RANGE


NUM_FEATURES = 8
FEATURE_SIZES: tuple[int, ...] = (len(SECTION_LABELS) + 1, 4, 2, 2, 17, 9, 33, 3)
"""Per step: section label, next stress (3 = none left), word start, line start, syllables left
in the line (0..16), syllables left in the section (log buckets), bars in the section (0..32),
melisma state (0 none, 1 after a syllable, 2 after a melisma)."""


def _line_left(syllables: Sequence[SyllableInfo], start: int) -> int:
    """Syllables from `start` to the end of its line (at most 16)."""
    count = 1
    while count < 16 and start + count < len(syllables) and not syllables[start + count].line_start:
        count += 1
    return count


def _bucket(count: int) -> int:
    """0, 1, 2, 3-4, 5-8, 9-16, 17-32, 33-64, 65+ -> 0..8."""
    if count <= 2:
        return count
    return min(8, (count - 1).bit_length() + 1)


@dataclass
class SpanLimits:
    """Where an infilled bar range ends: the grammar must land exactly there.

    Attributes:
        end_bar: the first bar after the span (absolute index).
        end_section: the section index at the span's end.
        end_syllable: the syllable index (within `end_section`) the music after the span sings next.
        vocal_limit: the tick of the first vocal note after the span (None: none follows).
        section_bars: bars inside the span where a section starts.
    """

    end_bar: int
    end_section: int
    end_syllable: int
    vocal_limit: int | None = None
    section_bars: frozenset[int] = frozenset()


@dataclass
class LeadSheetGrammar:
    """A state machine over lead-sheet tokens: what may come next, and features of the state.

    `allowed()` lists the ids that keep the sequence a valid lead sheet: the header takes the
    forced key/meter/tempo (when given); sections follow `plan` in order, a section ends only
    when its syllables are all sung, intro/outro/instrumental sections have no vocal notes;
    vocal notes never overlap; each `Syllable` consumes the next syllable, so every syllable is
    sung exactly once, in order. `step(id)` advances; `features()` describes the state for the
    model (`FEATURE_SIZES`).
    """

    plan: Sequence[PlanSection]
    key: str | None = None
    meter: tuple[int, int] | None = None
    tempo: int | None = None
    limits: GrammarLimits = field(default_factory=GrammarLimits)

    # state
    header: list[str] = field(default_factory=list)
    numerator: int = 4
    denominator: int = 4
    bar: int = -1
    position: int = -1
    expect: str = "header"  # header | event | pitch | duration | after_note | section | done
    section: int = -1
    syllable: int = 0
    bars_in_section: int = 0
    bars_after_last: int = 0
    empty_bars: int = 0
    bar_has_vocal: bool = False
    bar_notes: int = 0
    chord_here: bool = False
    note_here: bool = False
    has_chord: bool = False
    vocal_end: int = 0  # tick where the last vocal note ends
    melisma: int = 0  # notes since the last syllable start in this section (0: none yet)
    span: SpanLimits | None = None

    # ------------------------------------------------------------------ derived

    @property
    def bar_steps(self) -> int:
        return bar_steps(self.numerator, self.denominator)

    @property
    def bar_tick(self) -> int:
        return max(self.bar, 0) * self.bar_steps * STEP_TICKS

    def _current(self) -> PlanSection | None:
        return self.plan[self.section] if 0 <= self.section < len(self.plan) else None

    def _syllables_left(self) -> int:
        current = self._current()
        if current is None:
            return 0
        end = len(current.syllables)
        if self.span and self.section == self.span.end_section:
            end = self.span.end_syllable
        return end - self.syllable

    def _section_done(self) -> bool:
        current = self._current()
        if current is None:
            return False
        if current.instrumental:
            return True  # the bar it is in counts
        return self._syllables_left() == 0

    def _section_must_end(self) -> bool:
        current = self._current()
        if current is None or not self._section_done():
            return False
        if current.instrumental:
            return self.bars_in_section >= self.limits.max_instrumental_bars
        return self.bars_after_last >= self.limits.max_bars_after_last_syllable

    def _last_section(self) -> bool:
        return self.section == len(self.plan) - 1

    # ------------------------------------------------------------------ allowed tokens

    def allowed(self) -> list[int]:
        """Ids that may come next (never empty while the sequence is unfinished)."""
        if self.expect == "header":
            return self._allowed_header()
        if self.expect == "section":
            return [SECTION_IDS[self.plan[self.section + 1].label]]
        if self.expect == "pitch":
            return self._allowed_pitches()
        if self.expect == "duration":
            return self._allowed_durations()
        if self.expect == "done":
            return []
        if self.expect == "event_or_section":
            return [SECTION_IDS[self.plan[self.section + 1].label], *self._allowed_events()]
        return self._allowed_events()

    def _allowed_header(self) -> list[int]:
        if len(self.header) == 0:
            return [TOKEN_ID[key_token(self.key)]] if self.key else list(KEY_IDS.values())
        if len(self.header) == 1:
            if self.meter:
                return [TIMESIG_IDS[f"{self.meter[0]}/{self.meter[1]}"]]
            return list(TIMESIG_IDS.values())
        if len(self.header) == 2:
            return [TEMPO_IDS[self.tempo]] if self.tempo else list(TEMPO_IDS.values())
        return [TOKEN_ID[BAR]]

    def _can_sing_later(self) -> bool:
        """A vocal note could start at a later position of this bar (time permitting)."""
        current = self._current()
        if (
            current is None
            or current.instrumental
            or self.bar_notes >= self.limits.max_notes_per_bar
        ):
            return False
        return self._syllables_left() > 0 or 0 < self.melisma < self.limits.max_notes_per_syllable

    def _beat_unit(self) -> int:
        """Grid steps of the notated beat (chords change on beats only)."""
        return STEPS_PER_BEAT * 4 // self.denominator

    def _vocal_possible(self) -> bool:
        current = self._current()
        if current is None or current.instrumental or self.note_here:
            return False
        if self.bar_notes >= self.limits.max_notes_per_bar:
            return False
        tick = self.bar_tick + self.position * STEP_TICKS
        if tick < self.vocal_end:
            return False
        if self.span and self.span.vocal_limit is not None and tick >= self.span.vocal_limit:
            return False
        return self._syllables_left() > 0 or 0 < self.melisma < self.limits.max_notes_per_syllable

    def _allowed_events(self) -> list[int]:
        ids: list[int] = []
        at_position = self.expect == "event" and self.position >= 0
        on_beat = self.position % self._beat_unit() == 0
        if at_position and on_beat and not self.chord_here and not self.note_here:
            ids += CHORD_IDS.values()
        if self.position >= 0 and self.has_chord and self._vocal_possible():
            if self._syllables_left() > 0:
                ids.append(TOKEN_ID[SYLLABLE])
            here = self.bar * self.bar_steps + self.position
            tight = self.span is not None and self._free_steps(here) <= self._syllables_left()
            if 0 < self.melisma < self.limits.max_notes_per_syllable and not tight:
                ids += list(PITCH_IDS.values())
        if at_position and not (self.chord_here or self.note_here):
            return ids  # a position holds at least one event
        if not self.has_chord:
            return [POSITION_IDS[0]] if self.position < 0 else ids
        base = self.bar * self.bar_steps
        left = self._syllables_left()
        singable = self._can_sing_later()
        ids += [
            POSITION_IDS[k]
            for k in range(self.position + 1, self.bar_steps)
            if (
                k % self._beat_unit() == 0
                or (singable and (base + k) * STEP_TICKS >= self.vocal_end)
            )
            and (not (self.span and left) or self._free_steps(base + k) >= left)
        ]
        ids += self._allowed_bar_ends()
        return ids

    def _allowed_bar_ends(self) -> list[int]:
        """`Bar` (next bar) and/or `EOS` at the end of the current bar."""
        if self.span:
            return self._allowed_span_bar_ends()
        current = self._current()
        vocal = current is not None and not current.instrumental
        if (
            vocal
            and self._syllables_left() > 0
            and self.empty_bars >= self.limits.max_empty_bars
            and not self.bar_has_vocal
            and self._can_still_sing_in_bar()
        ):
            return []  # a note must start in this bar
        if self._last_section() and self._section_done():
            if self._section_must_end():
                return [TOKEN_ID[EOS]]
            return [TOKEN_ID[BAR], TOKEN_ID[EOS]]
        return [TOKEN_ID[BAR]]

    def _allowed_span_bar_ends(self) -> list[int]:
        assert self.span is not None
        left = self._syllables_left()
        if self.bar + 1 >= self.span.end_bar:
            return [TOKEN_ID[EOS]] if left == 0 else []
        if self.bar + 1 in self.span.section_bars:
            return [TOKEN_ID[BAR]] if left == 0 else []
        return [TOKEN_ID[BAR]] if self._free_steps((self.bar + 1) * self.bar_steps) >= left else []

    def _boundary_step(self) -> int:
        """In a span: the absolute grid step where the current section's part of it ends."""
        assert self.span is not None
        later = [b for b in self.span.section_bars if b > self.bar]
        return min([self.span.end_bar, *later]) * self.bar_steps

    def _can_still_sing_in_bar(self) -> bool:
        """A vocal note can still start in this bar (here, or at a later position)."""
        if self.expect == "event" and self._vocal_possible() and self.has_chord:
            return True
        first_free = max(self.position + 1, -(-(self.vocal_end - self.bar_tick) // STEP_TICKS))
        return first_free < self.bar_steps

    def _free_steps(self, step: int) -> int:
        """In a span: grid steps from `step` (or the held note's end) to the span's boundary."""
        first = max(step, -(-self.vocal_end // STEP_TICKS))
        return self._boundary_step() - first

    def _allowed_pitches(self) -> list[int]:
        low, high = self.limits.pitch_range
        return [PITCH_IDS[p] for p in range(low, high + 1)]

    def _allowed_durations(self) -> list[int]:
        tick = self.bar_tick + self.position * STEP_TICKS
        longest = MAX_DURATION
        if self.span and self.span.vocal_limit is not None:
            longest = min(longest, (self.span.vocal_limit - tick) // STEP_TICKS)
        if self.span:
            room = self._boundary_step() - (self.bar * self.bar_steps + self.position)
            longest = min(longest, room - self._syllables_left())
        return DURATION_IDS[: max(1, longest)]

    # ------------------------------------------------------------------ advancing

    def step(self, token_id: int) -> None:
        """Advance by one token (which must be in `allowed()`; `check` raises otherwise)."""
        token = VOCAB[token_id]
        if self.expect == "header":
            self._step_header(token)
        elif token == BAR:
            self._start_bar()
        elif token == EOS:
            self.expect = "done"
        elif token.startswith("Section_"):
            self._start_section()
        elif token.startswith("Position_"):
            self.position = int(token[9:])
            self.chord_here = self.note_here = False
            self.expect = "event"
        elif token.startswith("Chord_"):
            self.chord_here = self.has_chord = True
        elif token == SYLLABLE:
            self.syllable += 1
            self.melisma = 0
            self.bars_after_last = 0
            self.expect = "pitch"
        elif token.startswith("Pitch_"):
            self.melisma += 1
            self.expect = "duration"
        elif token.startswith("Duration_"):
            tick = self.bar_tick + self.position * STEP_TICKS
            self.vocal_end = tick + int(token[9:]) * STEP_TICKS
            self.note_here = self.bar_has_vocal = True
            self.bar_notes += 1
            self.expect = "after_note"
        else:
            raise ValueError(f"token {token!r} cannot come here")

    def check(self, token_id: int) -> None:
        """`step`, but first raise `ValueError` if `token_id` is not allowed here."""
        if token_id not in self.allowed():
            raise ValueError(f"token {VOCAB[token_id]!r} is not allowed here")
        self.step(token_id)

    def _step_header(self, token: str) -> None:
        if token == BAR:
            self.expect = "event"
            self._start_bar()
            return
        self.header.append(token)
        if token.startswith("TimeSig_"):
            n, d = token[8:].split("/")
            self.numerator, self.denominator = int(n), int(d)

    def _start_bar(self) -> None:
        if self.bar >= 0:
            self.bars_in_section += 1
            if self._current() is not None and self._syllables_left() == 0:
                self.bars_after_last += 1
            sounding = self.vocal_end > self.bar_tick
            self.empty_bars = 0 if (self.bar_has_vocal or sounding) else self.empty_bars + 1
        self.bar += 1
        self.position = -1
        self.bar_has_vocal = self.chord_here = self.note_here = False
        self.bar_notes = 0
        self.expect = "event"
        if self.span is not None:
            if self.bar in self.span.section_bars:
                self.expect = "section"
            return
        if self.section + 1 < len(self.plan):
            if self.section < 0 or self._section_must_end():
                self.expect = "section"
            elif self._section_done():
                self.expect = "event_or_section"

    def _start_section(self) -> None:
        self.section += 1
        self.syllable = 0
        self.bars_in_section = self.bars_after_last = self.empty_bars = 0
        self.melisma = 0
        self.expect = "event"

    # ------------------------------------------------------------------ features

    def features(self) -> tuple[int, ...]:
        """The state as `NUM_FEATURES` small integers (see `FEATURE_SIZES`)."""
        current = self._current()
        label = SECTION_LABELS.index(current.label) + 1 if current else 0
        left = self._syllables_left()
        if current is not None and left > 0:
            nxt = current.syllables[self.syllable]
            stress, word, line = min(nxt.stress, 2), int(nxt.word_start), int(nxt.line_start)
            line_left = _line_left(current.syllables, self.syllable)
        else:
            stress, word, line, line_left = 3, 0, 0, 0
        melisma = 0 if self.melisma == 0 else (1 if self.melisma == 1 else 2)
        return (
            label,
            stress,
            word,
            line,
            line_left,
            _bucket(left),
            min(self.bars_in_section, 32),
            melisma,
        )
