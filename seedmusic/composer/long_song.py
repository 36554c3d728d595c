"""Songs longer than one composer window: composed window by window, each a continuation.

The composer LM reads at most `max_positions` tokens (2048 for the shipped one, which end near
a 3-minute song). A longer song is planned as a short one is (intro, the user's sections,
outro: `song_plan`); a section of more than `SECTION_SYLLABLES` syllables is cut at line ends
into parts with its label (`split_long_sections`); and the plan is composed in windows of whole
sections, under one grammar of the whole plan::

    window 1:  BOS header intro verse chorus Bar                  (as a short song starts)
    window 2:  BOS header [the end of the song so far] Section_verse bridge ... Bar
               '------------------ prompt ------------' '-------- sampled --------'
    last:      BOS header [the end of the song so far] Section_chorus ... outro EOS

A window stops where its last section ends: the next section's `Section_x` is chosen, and the
next window writes it. Every later window is a continuation, as `score edit --extend` appends
bars: its prompt is BOS, the song's header (key, meter, tempo) and the song's last tokens
(`CONTEXT_TOKENS` at most, from a section's first bar, else from a bar line), fed with the
grammar features they had; the grammar goes on from its state at the song's end. The windows'
sampled tokens thus join into one lead sheet of the whole plan: one key, meter and tempo, every
syllable sung once and in order. A section whose words equal an earlier one's is copied from
it, whichever window wrote it. Windows are sized by an estimate of tokens per syllable
(`TOKENS_PER_SYLLABLE`, or the rate seen so far if higher); one that still outgrows the
positions is halved (or, for one section, given a shorter prompt) and sampled again. The
model's memory is that of one window, whatever the song's length.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass

import numpy as np
import torch

from seedmusic.composer.decode import (
    ContextFullError,
    GrammarDeadEndError,
    Sampling,
    Scorer,
    sample_tokens,
    snapshot,
)
from seedmusic.composer.grammar import LeadSheetGrammar
from seedmusic.composer.leadsheet import BAR, BOS, EOS, SECTION_IDS, TOKEN_ID, PlanSection
from seedmusic.composer.lyrics_input import LyricSection, LyricSheet, Syllable
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

TOKENS_PER_SYLLABLE = 6.0
"""Prior tokens per sung syllable, chords and bar lines included (the shipped composer writes
about 5.1 in songs of every tempo)."""
SECTION_TOKENS = 16
"""Tokens a sung section costs beyond its syllables (its `Bar Section_x`, bars after the words)."""
INSTRUMENTAL_TOKENS = 48
"""Tokens an intro or outro is budgeted (at most 8 bars of chords)."""
CONTEXT_TOKENS = 512
"""The most tokens of the song so far that a continuation window reads (a quarter of the window
at most): from the first section that starts within them, else from the first bar."""
SECTION_SYLLABLES = 96
"""Longer sections are cut at line ends into parts of this many syllables at most."""
MAX_SYLLABLES = 3600
"""The longest lyrics composed: 30 minutes at 2 syllables a second (the shipped composer sang
1.6 a second in a 10-minute folk song, 2.3 in a 140-bpm pop song)."""
HEADER_TOKENS = 3
"""Key, meter and tempo after BOS."""


@dataclass(frozen=True)
class WindowedSong:
    """Lead-sheet ids of a whole song (BOS ... EOS), the seed of each window, and their count."""

    ids: list[int]
    seeds: list[int]

    @property
    def windows(self) -> int:
        return len(self.seeds)


def check_length(sheet: LyricSheet) -> None:
    """`UserError` for lyrics longer than the composer writes (`MAX_SYLLABLES`)."""
    if sheet.num_syllables > MAX_SYLLABLES:
        raise UserError(
            f"the lyrics have {sheet.num_syllables} syllables: more than the composer writes in "
            f"one song ({MAX_SYLLABLES}, over 30 minutes); split them into several songs"
        )


def may_fit_one_window(plan: Sequence[PlanSection], capacity: int) -> bool:
    """False when even the fewest tokens `plan` can feed the model exceed `capacity` positions:
    BOS, the header, `Bar Section_x` a section and 4 a syllable (`Position Syllable Pitch
    Duration`; the final EOS is not fed)."""
    fewest = 1 + HEADER_TOKENS + sum(2 + 4 * len(s.syllables) for s in plan)
    return fewest <= capacity


def split_long_sections(sheet: LyricSheet, limit: int = SECTION_SYLLABLES) -> LyricSheet:
    """`sheet` with each section of more than `limit` syllables cut at line ends into parts of
    at most `limit` (a longer line is a part of its own), each with the section's label."""
    parts: list[LyricSection] = []
    for section in sheet.sections:
        lines: list[tuple[Syllable, ...]] = []
        count = 0
        for line in section.lines:
            if lines and count + len(line) > limit:
                parts.append(LyricSection(section.label, tuple(lines)))
                lines, count = [], 0
            lines.append(line)
            count += len(line)
        parts.append(LyricSection(section.label, tuple(lines)))
    return LyricSheet(tuple(parts), sheet.language)


def compose_in_windows(
    plan: Sequence[PlanSection],
    repeats: dict[int, int],
    make_scorer: Callable[[], Scorer],
    capacity: int,
    grammar: LeadSheetGrammar,
    sampling: Sampling,
    seed: int,
    retries: int,
    progress: bool = False,
) -> WindowedSong:
    """Compose `plan` window by window (see the module docstring).

    Args:
        plan: the whole song's sections (intro ... outro).
        repeats: section index -> the earlier section whose words it repeats.
        make_scorer: a fresh scorer (KV cache) per window.
        capacity: positions the scorer holds after its condition prefix.
        grammar: a fresh grammar of `plan` (with the forced key, meter and tempo).
        seed: window w's attempt a samples with seed `seed + w * retries + a`.
        retries: attempts per window after a grammar dead end.

    Raises:
        UserError: a window found no continuation in `retries` attempts, or a single section
            outgrows the window.
    """
    song = _Song(grammar)
    seeds: list[int] = []
    done = 0  # sections composed
    rate = TOKENS_PER_SYLLABLE
    sampled = sung = 0
    bar = _WindowBar(_windows_left(plan, 0, capacity, rate)) if progress else None
    try:
        while done < len(plan):
            context = _context_budget(capacity)
            before, stop = len(song.ids), 0
            while True:
                prompt, features = song.prompt(context)
                stop = stop or _fill(plan, done, capacity - len(prompt) - capacity // 16, rate)
                window = _Window(done, stop, prompt, features, seed + len(seeds) * retries)
                try:
                    used = _sample_window(
                        song, window, plan, repeats, make_scorer, sampling, retries
                    )
                    break
                except ContextFullError:
                    if stop - done > 1:
                        stop = done + (stop - done) // 2
                    elif context:
                        context = context // 2 if context > 32 else 0
                    else:
                        raise UserError(
                            f"section {done + 1} of the song is too long for the composer's "
                            f"{capacity}-token window"
                        ) from None
                    logger.info("window %d outgrew the positions: shorter", len(seeds) + 1)
            sampled += len(song.ids) - before
            sung += sum(len(s.syllables) for s in plan[done:stop])
            rate = max(TOKENS_PER_SYLLABLE, sampled / max(1, sung))
            seeds.append(used)
            done = stop
            if bar is not None:
                bar.advance(len(seeds) + _windows_left(plan, done, capacity, rate))
    finally:
        if bar is not None:
            bar.close()
    if song.grammar.expect != "done" or song.ids[-1] != TOKEN_ID[EOS]:
        raise RuntimeError("the windows did not end the song")
    return WindowedSong(song.ids, seeds)


_SECTION_IDS = frozenset(SECTION_IDS.values())
Features = tuple[int, ...]


class _Song:
    """The song so far: its ids (BOS, the header, the sections written; until the last window,
    they end with the `Bar` that opens the next section), the features after each id, and the
    whole plan's grammar after them."""

    def __init__(self, grammar: LeadSheetGrammar) -> None:
        self.grammar = grammar
        self.ids = [TOKEN_ID[BOS]]
        self.features: list[Features] = [grammar.features()]
        self.starts: list[int] = []  # the index in `ids` of each section's opening `Bar`

    def prompt(self, context: int) -> tuple[list[int], list[Features]]:
        """BOS, the header and at most `context` ids of the song's end, from a section's `Bar`
        (or, when the last section is longer, a bar's), with their features."""
        if not self.starts:
            return list(self.ids), list(self.features)
        keep = 1 + HEADER_TOKENS
        lo = max(keep, len(self.ids) - max(context, 1))  # the last id is a `Bar`
        cut = next((i for i in self.starts if i >= lo), None)
        if cut is None:
            cut = next(i for i in range(lo, len(self.ids)) if self.ids[i] == TOKEN_ID[BAR])
        return self.ids[:keep] + self.ids[cut:], self.features[:keep] + self.features[cut:]

    def section_tokens(self, index: int) -> list[int]:
        """Section `index`'s tokens after its `Section_x`, up to the `Bar` that opens the next."""
        later = self.starts[index + 1] if index + 1 < len(self.starts) else len(self.ids) - 1
        return self.ids[self.starts[index] + 2 : later]

    def extend(self, grammar: LeadSheetGrammar, ids: list[int], features: list[Features]) -> None:
        """Append a window's sampled ids, with `grammar`'s state after them."""
        self.grammar = grammar
        self.ids += ids
        self.features += features
        self.starts = [i - 1 for i, t in enumerate(self.ids) if t in _SECTION_IDS]


@dataclass(frozen=True)
class _Window:
    """New sections [done, stop) after `prompt` (the song so far from its context sections)."""

    done: int
    stop: int
    prompt: list[int]
    features: list[Features]
    seed: int


def _sample_window(
    song: _Song,
    window: _Window,
    plan: Sequence[PlanSection],
    repeats: dict[int, int],
    make_scorer: Callable[[], Scorer],
    sampling: Sampling,
    retries: int,
) -> int:
    """Sample the window and append it to `song`; returns the seed used."""
    done, stop = window.done, window.stop
    inside = {t: s for t, s in repeats.items() if done <= t < stop and s >= done}
    bodies = {
        t: song.section_tokens(s) for t, s in repeats.items() if done <= t < stop and s < done
    }
    for attempt in range(retries):
        used = window.seed + attempt
        torch.manual_seed(used)
        grammar = snapshot(song.grammar)
        features: list[Features] = []
        try:
            ids = sample_tokens(
                make_scorer(),
                grammar,
                np.random.default_rng(used),
                sampling,
                repeats=inside,
                prompt=window.prompt,
                prompt_features=window.features,
                on_token=_collect(features),
                force=[SECTION_IDS[plan[done].label]] if done else [],
                bodies=bodies,
                end_section=stop if stop < len(plan) else None,
            )
        except ContextFullError:
            raise
        except GrammarDeadEndError as exc:
            logger.info("window seed %d reached a dead end (%s); retrying", used, exc)
            continue
        song.extend(grammar, ids, features)
        return used
    raise UserError(
        f"the composer found no continuation for sections {done + 1}-{stop} in {retries} attempts"
    )


def _collect(features: list[Features]) -> Callable[[LeadSheetGrammar], None]:
    """An `on_token` that keeps the grammar's features after each token."""
    return lambda grammar: features.append(grammar.features())


def _context_budget(capacity: int) -> int:
    return min(CONTEXT_TOKENS, capacity // 4)


def _cost(section: PlanSection, rate: float) -> float:
    if section.instrumental:
        return INSTRUMENTAL_TOKENS
    return SECTION_TOKENS + rate * len(section.syllables)


def _fill(plan: Sequence[PlanSection], done: int, room: float, rate: float) -> int:
    """The end of the window that starts at section `done`: the sections that fit in `room`
    tokens (at least one)."""
    stop, total = done, 0.0
    while stop < len(plan):
        cost = _cost(plan[stop], rate)
        if stop > done and total + cost > room:
            break
        total += cost
        stop += 1
    return stop


def _windows_left(plan: Sequence[PlanSection], done: int, capacity: int, rate: float) -> int:
    """About how many windows the sections from `done` on take (for the progress bar)."""
    count = 0
    while done < len(plan):
        prompt = 1 + (HEADER_TOKENS + _context_budget(capacity) if done else 0)
        done = _fill(plan, done, capacity - prompt - capacity // 16, rate)
        count += 1
    return count


class _WindowBar:
    def __init__(self, total: int) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="composing", unit="window")

    def advance(self, total: int) -> None:
        self.bar.total = total
        self.bar.update(1)

    def close(self) -> None:
        self.bar.close()
