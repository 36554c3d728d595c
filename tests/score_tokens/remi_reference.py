"""The REMI encoder as it was before it moved to arrays: the reference that tests hold it to.

`reference_encode(tokenizer, score)` is the original token-by-token `_RemiEncoder` of
`score_tokens.remi`, kept verbatim; `RemiTokenizer.encode` must give the same tokens and raise
the same errors.
"""

from __future__ import annotations

from score_tokens.errors import ScoreError
from score_tokens.remi import DRUMS, VOCAL, RemiTokenizer, chord_token, key_token
from score_tokens.score import DEFAULT_PROGRAMS, NOTE_TRACKS, SECTION_LABELS, Note, Score
from score_tokens.vocab import BOS, EOS


def reference_encode(tokenizer: RemiTokenizer, score: Score) -> list[str]:
    """`score` as REMI tokens, by the original encoder."""
    return _RemiEncoder(tokenizer, score).tokens()


class _RemiEncoder:
    """One encoding pass: collects timed events per bar, then writes them in order."""

    def __init__(self, tokenizer: RemiTokenizer, score: Score) -> None:
        self.tokenizer = tokenizer
        self.config = tokenizer.config
        self.score = score

    def tokens(self) -> list[str]:
        score, tok = self.score, self.tokenizer
        tpb = score.ticks_per_beat
        out = [BOS, key_token(score.key)]
        for name in NOTE_TRACKS:
            track = score.tracks.get(name)
            if track is not None and track.program != DEFAULT_PROGRAMS[name]:
                out += [f"Track_{name}", f"Program_{track.program}"]
        events = self._timed_events()
        bar_ticks = score.bar_starts()
        bar_steps = [tok.steps(t, tpb) for t in bar_ticks]
        signature = None
        current = score.signature_at(0)
        cursor = 0
        index = 0
        while index < len(bar_steps) or cursor < len(events):
            if index >= len(bar_steps):  # events past `end_tick`: extend the last meter
                bar_ticks.append(bar_ticks[-1] + score.bar_length(current))
                bar_steps.append(tok.steps(bar_ticks[-1], tpb))
            start = bar_steps[index]
            current = score.signature_at(bar_ticks[index])
            stop = bar_steps[index + 1] if index + 1 < len(bar_steps) else None
            if stop is None:
                stop = tok.steps(bar_ticks[index] + score.bar_length(current), tpb)
                stop = stop if cursor < len(events) and events[-1][0] >= stop else None
            index += 1
            out.append("Bar")
            if signature is None or (current.numerator, current.denominator) != signature:
                signature = (current.numerator, current.denominator)
                out.append(f"TimeSig_{signature[0]}/{signature[1]}")
            position = None
            open_track = None
            while cursor < len(events) and (stop is None or events[cursor][0] < stop):
                step, _, track_name, body = events[cursor]
                cursor += 1
                if step != position:
                    out.append(f"Position_{step - start}")
                    position, open_track = step, None
                if track_name is not None and track_name != open_track:
                    out.append(f"Track_{track_name}")
                    open_track = track_name
                out += body
        out.append(EOS)
        return out

    def _timed_events(self) -> list[tuple[int, int, str | None, list[str]]]:
        """(grid step, order, track or None, tokens) for every timed event, sorted."""
        score, tok, c = self.score, self.tokenizer, self.config
        tpb = score.ticks_per_beat
        events: list[tuple[int, int, str | None, list[str]]] = []
        for tempo in score.tempos:
            events.append((tok.steps(tempo.tick, tpb), 0, None, [tok.tempo_token(tempo.bpm)]))
        for section in score.sections:
            if section.label not in SECTION_LABELS:
                raise ScoreError(f"cannot tokenize section label {section.label!r}")
            events.append((tok.steps(section.tick, tpb), 1, None, [f"Section_{section.label}"]))
        for chord in score.chords:
            duration = tok.steps(chord.tick + chord.duration, tpb) - tok.steps(chord.tick, tpb)
            body = [chord_token(chord), tok.duration_token(duration)]
            events.append((tok.steps(chord.tick, tpb), 2, None, body))
        for order, name in enumerate(NOTE_TRACKS):
            track = score.tracks.get(name)
            if track is None:
                continue
            low, high = c.pitch_ranges[name]
            prefix = "Drum" if name == DRUMS else "Pitch"
            for note in track.notes:
                if not low <= note.pitch <= high:
                    raise ScoreError(
                        f"{name} note pitch {note.pitch} at tick {note.tick} is outside {low}..{high}"
                    )
                start = tok.steps(note.tick, tpb)
                body = self._lyric_tokens(note) if name == VOCAL else []
                body += [
                    f"{prefix}_{note.pitch}",
                    tok.duration_token(tok.steps(note.end, tpb) - start),
                    tok.velocity_token(note.velocity),
                ]
                events.append((start, 3 + order, name, body))
        events.sort(key=lambda e: (e[0], e[1]))
        return events

    def _lyric_tokens(self, note: Note) -> list[str]:
        tokens = []
        for phoneme in note.phonemes:
            token = f"Phoneme_{phoneme}"
            if token not in self.tokenizer.vocab:
                raise ScoreError(f"vocal note at tick {note.tick}: unknown phoneme {phoneme!r}")
            tokens.append(token)
        if note.lyric is not None:
            tokens.append("Syllable")
            tokens += [f"Byte_{b:02x}" for b in note.lyric.encode("utf-8")]
        return tokens
