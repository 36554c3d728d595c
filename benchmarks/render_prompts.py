"""Clips of composed songs for the renderer benchmark (`benchmarks.render --composed N`).

A user's `generate` renders the composer's scores, not the corpus's: these clips are what it
gets for the test prompts. The prompt of a corpus test piece is its lyrics as a user would write
them (`benchmarks.composer.sheet_from_score`: its sections, phrases split at rests) and its
style as tags (genre, voice, moods of the piece's tags that the composer knows; its tempo, key
and meter). The shipped composer writes a song for it (`seed`); the clip is that score's first
whole bars covering the seconds, its truth the score itself (`mir.evaluate.
ground_truth_from_score`), and its ceiling the exact synth render (`seedmusic render --renderer
synth`: FluidSynth and the espeak-ng + Praat singer), whose vocal stem is the vocal ceiling.
"""

from __future__ import annotations

import dataclasses
import logging

from benchmarks.adherence import trim_truth
from benchmarks.codec import fit_length, resample
from benchmarks.composer import sheet_from_score
from benchmarks.render import Clip, cut_score
from benchmarks.render_metrics import score_vocal_notes
from mir.evaluate import ground_truth_from_score
from seedmusic.composer.pipeline import Composer, ComposeRequest
from seedmusic.composer.style import GENRES, METERS, MOODS, VOICES, ComposeStyle
from seedmusic.data.corpus import Corpus, PieceRecord
from seedmusic.song import RenderRequest, render_song

logger = logging.getLogger(__name__)


def prompt_style(piece: PieceRecord) -> ComposeStyle:
    """The style a user would ask for to get `piece`: its genre, voice and moods where the
    composer knows them, its tempo, key and meter."""
    numerator, denominator = (int(part) for part in piece.time_signature.split("/"))
    meter = (numerator, denominator)
    voices = [tag for tag in piece.tags if tag in VOICES]
    return ComposeStyle(
        genre=piece.style if piece.style in GENRES else None,
        voice=voices[0] if voices else None,
        tempo=piece.tempo,
        key=piece.key,
        meter=meter if meter in METERS else None,
        moods=tuple(dict.fromkeys(tag for tag in piece.tags if tag in MOODS)),
    )


def composed_clip(
    corpus: Corpus,
    piece: PieceRecord,
    composer: Composer,
    seconds: float,
    sample_rate: int,
    seed: int,
) -> Clip | None:
    """The composed clip of `piece`'s prompt (None when the piece has no lyrics to give)."""
    sheet = sheet_from_score(corpus.score(piece), piece.language or "en")
    if sheet is None:
        return None
    song = composer.compose(ComposeRequest(sheet, prompt_style(piece), seed=seed))
    score = cut_score(song.score, seconds)
    request = RenderRequest(
        renderer="synth", stems=True, seed=seed, language=piece.language, adherence=False
    )
    synth = render_song(score, request)
    mix = resample(synth.mix, synth.sample_rate, sample_rate)
    mix = fit_length(mix, min(round(seconds * sample_rate), mix.size))
    sings = bool(score_vocal_notes(score, mix.size / sample_rate))
    vocal = None
    if sings:
        vocal = fit_length(resample(synth.stems["vocal"], synth.sample_rate, sample_rate), mix.size)
    truth = trim_truth(ground_truth_from_score(score), mix.size / sample_rate)
    record = dataclasses.replace(piece, id=f"{piece.id} (composed)", vocal="sung")
    return Clip(record, score, truth, mix, vocal)


def composed_clips(
    corpus: Corpus,
    pieces: list[PieceRecord],
    count: int,
    seconds: float,
    sample_rate: int,
    seed: int,
) -> list[Clip]:
    """Composed clips of the first `count` pieces with lyrics among `pieces`."""
    composer = Composer.from_pretrained()
    clips: list[Clip] = []
    for piece in pieces:
        if len(clips) >= count:
            break
        clip = composed_clip(corpus, piece, composer, seconds, sample_rate, seed)
        if clip is None:
            logger.info("%s: no lyrics to compose from; left out", piece.id)
        else:
            clips.append(clip)
    return clips
