"""Lyrics + style -> a seven-track song `Score`: the composer's entry point.

    composer = Composer.from_pretrained("checkpoints/composer")
    result = composer.compose(ComposeRequest(sheet, style, prompt="a slow waltz", seed=1))
    result.score   # lyrics, chords, sections, vocal, bass, piano, guitar, drums

1. The plan: an intro, the user's sections in order (their syllables, with stress, word and
   line starts), an outro; a section whose words equal an earlier one's repeats its melody.
2. The LM writes the lead sheet (key, meter, tempo, sections, chords, the vocal melody with
   every syllable placed) under `LeadSheetGrammar`; the user's key, meter and tempo are forced,
   anything unset is the model's choice. A grammar dead end (rare) retries with the next seed.
   A song longer than the LM's positions is written in windows, each a continuation of the song
   so far (`seedmusic.composer.long_song`); one that fits is written in one pass, as always.
3. The band (bass, piano, guitar, drums) is MMA's arrangement of the chord chart in the genre's
   groove (`seedmusic.data.accompaniment`), the same arranger that made the corpus; no two
   notes of one pitch overlap on a track (`score_tokens.score.repair_overlaps`).

`recompose(score, first_bar, last_bar, ...)` re-writes a bar range of an existing song with the
LM's causal-masking infill: the lead sheet outside the range is kept token for token; inside
it, the same syllables get new notes and chords; the band is re-arranged in those bars only.
"""

from __future__ import annotations

import contextlib
import logging
import os
import random
import time
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import torch

from score_tokens.score import Score, Track, repair_overlaps
from seedmusic.composer.decode import (
    ContextFullError,
    GrammarDeadEndError,
    LmScorer,
    Sampling,
    Scorer,
    sample_tokens,
    snapshot,
)
from seedmusic.composer.grammar import LeadSheetGrammar, SpanLimits
from seedmusic.composer.leadsheet import (
    MASK,
    STEP_TICKS,
    TOKEN_ID,
    VOCAB,
    PlanSection,
    SungSyllable,
    SyllableInfo,
    decode_lead_sheet,
    encode_lead_sheet,
)
from seedmusic.composer.long_song import (
    check_length,
    compose_in_windows,
    may_fit_one_window,
    split_long_sections,
)
from seedmusic.composer.lyrics_input import LyricSheet, Syllable, syllables_from_note_lyrics
from seedmusic.composer.model import ComposerLM
from seedmusic.composer.style import ComposeStyle
from seedmusic.conditioning import Conditions
from seedmusic.data.accompaniment import accompany, styles_for
from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

DEFAULT_CHECKPOINT = Path(__file__).resolve().parents[2] / "checkpoints" / "composer"
MODEL_LABELS = {"prechorus": "bridge", "instrumental": "intro"}
"""Section labels the corpus never has, told to the model as the nearest one it knows."""
VOICE_SPLIT = 62
"""A melody whose median pitch is below D4 is summarised as a male vocal, else female."""
RETRIES = 4


@dataclass(frozen=True)
class ComposeRequest:
    """What to compose: lyrics, style, optional free text, seed and sampling."""

    lyrics: LyricSheet
    style: ComposeStyle = field(default_factory=ComposeStyle)
    prompt: str | None = None
    seed: int = 0
    sampling: Sampling = field(default_factory=Sampling)


@dataclass
class Composition:
    """A composed song: the full score, its lead-sheet tokens and a summary."""

    score: Score
    tokens: list[str]
    summary: dict[str, Any]


def song_plan(
    sheet: LyricSheet,
) -> tuple[list[PlanSection], list[str], list[Syllable], dict[int, int]]:
    """The grammar plan (intro + sections + outro), the labels to write, the syllables in order,
    and which sections repeat an earlier one's words (index -> earlier index)."""
    sections = list(sheet.sections)
    labels = [s.label for s in sections]
    if not labels or labels[0] != "intro":
        labels.insert(0, "intro")
        sections.insert(0, None)  # type: ignore[arg-type]
    if labels[-1] != "outro":
        labels.append("outro")
        sections.append(None)  # type: ignore[arg-type]
    plan, sung, repeats = [], [], {}
    seen: dict[str, int] = {}
    for index, (label, section) in enumerate(zip(labels, sections, strict=True)):
        syllables = list(section.syllables) if section is not None else []
        infos = tuple(SyllableInfo(s.stress, s.word_start, s.line_start) for s in syllables)
        model_label = MODEL_LABELS.get(label, label)
        plan.append(PlanSection(model_label, infos))
        sung += syllables
        if syllables:
            key = section.words_key
            if key in seen:
                repeats[index] = seen[key]
            else:
                seen[key] = index
    return plan, labels, sung, repeats


class Composer:
    """The trained composer LM plus the grammar, sampler and arranger around it."""

    def __init__(self, model: ComposerLM, checkpoint: str = "") -> None:
        self.model = model.eval()
        self.checkpoint = checkpoint
        self._encoder: Any = None

    @classmethod
    def from_pretrained(cls, folder: str | os.PathLike[str] | None = None) -> Composer:
        """Load a composer checkpoint (default: the shipped `checkpoints/composer`)."""
        from renderer.modeling import CheckpointError

        path = Path(folder) if folder is not None else DEFAULT_CHECKPOINT
        try:
            model = ComposerLM.from_pretrained(path)
        except CheckpointError as exc:
            raise UserError(str(exc)) from None
        return cls(model, str(path))

    # ------------------------------------------------------------------ conditions

    def conditions(self, style: ComposeStyle, prompt: str | None) -> Conditions:
        text = None
        if prompt:
            if self._encoder is None:
                from seedmusic.text_encoder import packaged_encoder

                self._encoder = packaged_encoder()
            text = self._encoder.encode([prompt])[0]
            if text.shape[0] != self.model.config.conditions.text_dim:
                raise UserError(
                    "the sentence encoder's width does not match the composer checkpoint"
                )
        numbers = {"tempo_bpm": float(style.tempo)} if style.tempo else {}
        return Conditions(style_tags=style.tags(), text_embedding=text, numbers=numbers)

    def _scorer(self, conditions: Conditions, sampling: Sampling) -> Scorer:
        return LmScorer(self.model, conditions, sampling.guidance)

    def compose(
        self, request: ComposeRequest, progress: bool = False, scorer_factory: Any = None
    ) -> Composition:
        """Compose a whole song for `request` (see the module docstring)."""
        with one_thread():
            return self._compose(request, progress, scorer_factory)

    # ------------------------------------------------------------------ compose

    def _compose(self, request: ComposeRequest, progress: bool, scorer_factory: Any) -> Composition:
        started = time.perf_counter()
        check_length(request.lyrics)
        plan, labels, sung, repeats = song_plan(request.lyrics)
        style = request.style
        conditions = self.conditions(style, request.prompt)

        def make_scorer() -> Scorer:
            return (
                scorer_factory() if scorer_factory else self._scorer(conditions, request.sampling)
            )

        def make_grammar(sections: Sequence[PlanSection]) -> LeadSheetGrammar:
            tempo = round(style.tempo) if style.tempo else None
            return LeadSheetGrammar(sections, key=style.key, meter=style.meter, tempo=tempo)

        capacity = self.model.config.max_positions - self._prefix_length(conditions)
        windows = None
        found = None
        if may_fit_one_window(plan, capacity):
            found = self._one_window(plan, repeats, make_scorer, make_grammar, request, progress)
        if found is None:  # longer than one window: compose it in several
            plan, labels, sung, repeats = song_plan(split_long_sections(request.lyrics))
            windows = compose_in_windows(
                plan,
                repeats,
                make_scorer,
                capacity,
                make_grammar(plan),
                request.sampling,
                request.seed,
                RETRIES,
                progress,
            )
            ids, seed = windows.ids, windows.seeds[0]
        else:
            ids, seed = found
        lead = decode_lead_sheet(ids, [SungSyllable(s.text, s.phonemes) for s in sung])
        for section, label in zip(lead.sections, labels, strict=True):
            section.label = label
        genre = style.genre or _pick_genre(lead, seed)
        voice = style.voice or _voice_of(lead)
        score = _without_overlaps(accompany(lead, _groove(genre, lead), seed))
        summary = _summary(score, request, genre, voice, len(sung), time.perf_counter() - started)
        summary["checkpoint"] = self.checkpoint
        summary["seed_used"] = seed
        if windows is not None:
            summary["windows"] = windows.windows
        return Composition(score, [VOCAB[i] for i in ids], summary)

    def _prefix_length(self, conditions: Conditions) -> int:
        """Positions the condition prefix takes."""
        with torch.no_grad():
            return int(self.model.prefix([conditions])[1].shape[1])

    def _one_window(
        self,
        plan: Sequence[PlanSection],
        repeats: dict[int, int],
        make_scorer: Callable[[], Scorer],
        make_grammar: Callable[[Sequence[PlanSection]], LeadSheetGrammar],
        request: ComposeRequest,
        progress: bool,
    ) -> tuple[list[int], int] | None:
        """The song's ids (BOS ... EOS) sampled in one pass, and the seed used; None when every
        attempt outgrew the model's positions."""
        full = False
        for attempt in range(RETRIES):
            seed = request.seed + attempt
            torch.manual_seed(seed)
            grammar = make_grammar(plan)
            scorer = make_scorer()
            bar = _progress(sum(len(s.syllables) for s in plan), progress)
            try:
                ids = sample_tokens(
                    scorer,
                    grammar,
                    np.random.default_rng(seed),
                    request.sampling,
                    repeats=repeats,
                    on_token=bar.update_to if bar else None,
                )
                return [TOKEN_ID["BOS"], *ids], seed
            except GrammarDeadEndError as exc:
                full = full or isinstance(exc, ContextFullError)
                logger.info("seed %d reached a dead end (%s); retrying", seed, exc)
            finally:
                if bar:
                    bar.close()
        if full:
            return None
        raise UserError(f"the composer found no complete song in {RETRIES} attempts")

    # ------------------------------------------------------------------ infill

    def recompose(
        self,
        score: Score,
        first_bar: int,
        last_bar: int,
        style: ComposeStyle | None = None,
        seed: int = 0,
        sampling: Sampling | None = None,
        language: str = "en",
    ) -> Composition:
        """Re-compose bars `first_bar..last_bar` (1-based, inclusive) of `score`, keeping the rest."""
        with one_thread():
            return self._recompose(score, first_bar, last_bar, style, seed, sampling, language)

    def _recompose(
        self,
        score: Score,
        first_bar: int,
        last_bar: int,
        style: ComposeStyle | None,
        seed: int,
        sampling: Sampling | None,
        language: str,
    ) -> Composition:
        started = time.perf_counter()
        sampling = sampling or Sampling()
        style = style or ComposeStyle()
        vocal = score.notes("vocal")
        syllables = syllables_from_note_lyrics([n.lyric for n in vocal], language)
        infos = [
            None if s is None else SyllableInfo(s.stress, s.word_start, s.line_start)
            for s in syllables
        ]
        try:
            ids, plan = encode_lead_sheet(score, infos)
        except (ValueError, KeyError, IndexError) as exc:
            raise UserError(f"the score cannot be re-composed ({exc})") from None
        bars = [i for i, t in enumerate(ids) if VOCAB[t] == "Bar"]
        if not 1 <= first_bar <= last_bar <= len(bars):
            raise UserError(
                f"--bars {first_bar}-{last_bar} is outside the score's bars 1-{len(bars)}"
            )
        start = bars[first_bar - 1]
        stop = bars[last_bar] if last_bar < len(bars) else len(ids) - 1
        states = _grammar_states(ids, plan)
        if states is None:
            raise UserError(
                "the score does not follow the composer's lead-sheet grammar (sections on bar "
                "lines, one meter, a sung vocal line with words; an analyzed recording's "
                "transcribed vocal usually is not one): the composer cannot re-compose it"
            )
        before, after = states[start - 1], states[stop - 1]
        span_grammar = snapshot(before)
        span_end = last_bar * after.bar_steps * STEP_TICKS
        later_vocal = [round(n.tick / STEP_TICKS) * STEP_TICKS for n in vocal if n.tick >= span_end]
        span_grammar.span = SpanLimits(
            end_bar=last_bar,
            end_section=after.section,
            end_syllable=after.syllable,
            vocal_limit=min(later_vocal) if later_vocal else None,
            section_bars=frozenset(
                b
                for b in range(first_bar - 1, last_bar)
                if VOCAB[ids[bars[b] + 1]].startswith("Section_")
            ),
        )
        prompt = [*ids[:start], TOKEN_ID[MASK], *ids[stop:-1], TOKEN_ID[MASK]]
        feats = [s.features() for s in states]
        prompt_features = [*feats[:start], after.features(), *feats[stop:-1], before.features()]
        conditions = self.conditions(style, None)
        for attempt in range(RETRIES):
            torch.manual_seed(seed + attempt)
            grammar = snapshot(span_grammar)
            try:
                span = sample_tokens(
                    self._scorer(conditions, sampling),
                    grammar,
                    np.random.default_rng(seed + attempt),
                    sampling,
                    prompt=prompt,
                    prompt_features=prompt_features,
                    force=[TOKEN_ID["Bar"]],
                )
                break
            except GrammarDeadEndError as exc:
                logger.info("infill seed %d reached a dead end (%s); retrying", seed + attempt, exc)
        else:
            raise UserError(
                f"the composer found no infill for bars {first_bar}-{last_bar} in {RETRIES} attempts"
            )
        new_ids = [*ids[:start], *span[:-1], *ids[stop:]]
        sung = [SungSyllable(n.lyric, n.phonemes) for n in vocal if n.lyric]
        lead = decode_lead_sheet(new_ids, sung, program=score.tracks["vocal"].program)
        lead.sections = list(score.sections)
        result = _splice_band(score, lead, first_bar, last_bar, style, seed)
        summary = _summary(
            result,
            None,
            style.genre or "",
            style.voice or _voice_of(lead),
            len(sung),
            time.perf_counter() - started,
        )
        summary["recomposed_bars"] = [first_bar, last_bar]
        return Composition(result, [VOCAB[i] for i in new_ids], summary)


@contextlib.contextmanager
def one_thread() -> Iterator[None]:
    """Run torch on one thread: token-by-token decoding of a small LM is ~7x faster than on two
    (measured on 2 CPU cores), as every matrix product is too small to split."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    try:
        yield
    finally:
        torch.set_num_threads(before)


def _grammar_states(
    ids: Sequence[int], plan: Sequence[PlanSection]
) -> list[LeadSheetGrammar] | None:
    """The grammar state after each token (None if the grammar rejects the sequence)."""
    grammar = LeadSheetGrammar(plan)
    states = [snapshot(grammar)]
    try:
        for token in ids[1:]:
            grammar.check(token)
            states.append(snapshot(grammar))
    except ValueError:
        return None
    return states


def _splice_band(
    score: Score, lead: Score, first_bar: int, last_bar: int, style: ComposeStyle, seed: int
) -> Score:
    """`lead`'s vocal and chords; the band from `score` outside the bars, re-arranged inside."""
    starts = score.bar_starts()
    lo = starts[first_bar - 1]
    hi = starts[last_bar] if last_bar < len(starts) else (score.end_tick or lead.end_tick or 0)
    genre = style.genre or "pop"
    fresh = accompany(lead, _groove(genre, lead), seed)
    result = lead.copy()
    for name in ("bass", "piano", "guitar", "drums"):
        kept = [n for n in score.notes(name) if not lo <= n.tick < hi]
        new = [n for n in fresh.notes(name) if lo <= n.tick < hi]
        result.tracks[name] = Track(
            score.tracks[name].program, sorted(kept + new, key=lambda n: n.tick)
        )
    result.end_tick = score.end_tick
    return _without_overlaps(result.sort()).validate()


def _without_overlaps(score: Score) -> Score:
    """`score` (in place) with no two notes of one pitch sounding at once on a track, as the
    input gate reads it back (MMA's guitar can overlap itself; `repair_overlaps`)."""
    repaired = repair_overlaps(score)
    if repaired:
        logger.debug("ended overlapping notes of one pitch: %s", repaired)
    return score


def _groove(genre: str, score: Score) -> str:
    """`genre` if it has a groove for the score's meter, else the first style that does."""
    fitting = styles_for(score.time_signatures[0])
    if genre in fitting:
        return genre
    if not fitting:
        raise UserError("no accompaniment style plays this meter")
    return fitting[0]


def _pick_genre(score: Score, seed: int) -> str:
    fitting = [s for s in styles_for(score.time_signatures[0]) if s != "hymn"]
    return random.Random(seed).choice(fitting) if fitting else "pop"


def _voice_of(score: Score) -> str:
    pitches = sorted(n.pitch for n in score.notes("vocal"))
    median = pitches[len(pitches) // 2] if pitches else VOICE_SPLIT
    return "male vocal" if median < VOICE_SPLIT else "female vocal"


def _summary(
    score: Score,
    request: ComposeRequest | None,
    genre: str,
    voice: str,
    syllables: int,
    seconds: float,
) -> dict[str, Any]:
    signature = score.time_signatures[0]
    bars = len(score.bar_starts())
    return {
        "key": score.key,
        "tempo_bpm": score.tempos[0].bpm,
        "meter": f"{signature.numerator}/{signature.denominator}",
        "genre": genre,
        "voice": voice,
        "bars": bars,
        "duration_s": round(score.duration_seconds(), 2),
        "sections": [s.label for s in sorted(score.sections, key=lambda s: s.tick)],
        "syllables": syllables,
        "vocal_notes": len(score.notes("vocal")),
        "notes": {name: len(score.notes(name)) for name in score.tracks},
        "seed": request.seed if request else None,
        "prompt": request.prompt if request else None,
        "compose_seconds": round(seconds, 2),
    }


class _Progress:
    def __init__(self, total: int) -> None:
        from tqdm.auto import tqdm

        self.bar = tqdm(total=total, desc="composing", unit="syllable")
        self.sung = 0

    def update_to(self, grammar: LeadSheetGrammar) -> None:
        done = (
            sum(len(s.syllables) for s in grammar.plan[: max(grammar.section, 0)])
            + grammar.syllable
        )
        if done > self.sung:
            self.bar.update(done - self.sung)
            self.sung = done

    def close(self) -> None:
        self.bar.close()


def _progress(total: int, enabled: bool) -> _Progress | None:
    return _Progress(total) if enabled else None


def notation_copy(score: Score, steps_per_beat: int = 12) -> Score:
    """A copy on a 1/`steps_per_beat`-beat grid (MMA's humanised timing snapped) for notation.

    MusicXML cannot write the tick-exact micro-timing of the band's grooves (music21 gives up on
    2048th-note rests), so `score.musicxml` holds this copy; `score.json` and `score.mid` keep
    every tick.
    """
    grid = score.ticks_per_beat // steps_per_beat
    result = score.copy()
    for track in result.tracks.values():
        kept = []
        for note in track.notes:
            start = round(note.tick / grid) * grid
            end = max(start + grid, round(note.end / grid) * grid)
            note.tick, note.duration = start, end - start
            kept.append(note)
        track.notes = kept
    for chord in result.chords:
        start = round(chord.tick / grid) * grid
        chord.duration = max(grid, round((chord.tick + chord.duration) / grid) * grid - start)
        chord.tick = start
    return result.sort().validate()
