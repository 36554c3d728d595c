"""The Gradio app of `seedmusic serve`: Generate, Analyze and Edit tabs over the CLI's verbs.

Each browser session gets its own folder under the server's workspace (`Workspace`), and each
request a folder inside it; the session's folder is removed when the session ends, the whole
workspace when the server stops. The work itself is `seedmusic.web.jobs`; this module only lays
out the page and turns a `JobError` (or anything unexpected) into one message in the page.
"""

from __future__ import annotations

import logging
import shutil
import tempfile
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import gradio as gr

from score_tokens.score import PITCH_CLASS_NAMES
from seedmusic.composer.style import GENRES, METERS, MOODS, VOICES
from seedmusic.web.jobs import (
    EDIT_OPERATIONS,
    Edit,
    JobError,
    Limits,
    Song,
    analyze_recording,
    edit_bars,
    gate_errors,
    generate_song,
)
from seedmusic.web.views import ab_picture, analysis_readout, song_readout

logger = logging.getLogger(__name__)

MODEL_CHOICE = "model's choice"
KEYS: tuple[str, ...] = tuple(
    f"{name} {mode}" for mode in ("major", "minor") for name in PITCH_CLASS_NAMES
)
EXAMPLE_LYRICS = """[verse]
the morning light is on the hill
the river runs and all is still

[chorus]
sing with me, sing it slow
all the way home we go"""
STYLE_HELP = (
    f"comma-separated: a genre ({', '.join(GENRES)}), {' or '.join(VOICES)}, "
    f"moods ({', '.join(MOODS)})"
)
GRADIO_CACHE_LIFETIME = (600, 3600)
"""Gradio's copies of uploads and results: checked every 10 minutes, removed after an hour."""
WORK_QUEUE = "seedmusic-work"
"""All heavy work shares one queue: one job at a time on the CPU."""
EDIT_VALUE_HELP = (
    "transpose: semitones (2, -3); lyrics: the new words; chord: a label at the first bar "
    "(Am, G7, F:maj7); regenerate: nothing; extend: bars to append after the song, with "
    "optional words to sing (4 or 4:and the night is falling)"
)


@dataclass
class Workspace:
    """The server's folder for request files: one sub-folder per browser session, removed when
    the session's page is closed (`end_session`)."""

    root: Path
    _sessions: dict[str, SessionFiles] = field(default_factory=dict)
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def session(self, session_hash: str | None = None) -> SessionFiles:
        """A new session folder, remembered under Gradio's `session_hash` when there is one."""
        files = SessionFiles(Path(tempfile.mkdtemp(prefix="session-", dir=self.root)))
        if session_hash:
            with self._lock:
                self._sessions[session_hash] = files
        return files

    def end_session(self, session_hash: str | None) -> None:
        """Remove the folder of the session whose page was closed."""
        with self._lock:
            files = self._sessions.pop(session_hash or "", None)
        _remove_session(files)

    def remove(self) -> None:
        shutil.rmtree(self.root, ignore_errors=True)


@dataclass(frozen=True)
class SessionFiles:
    """One browser session's folder; each request writes into a new folder inside it."""

    folder: Path

    def request_folder(self, kind: str) -> Path:
        return Path(tempfile.mkdtemp(prefix=f"{kind}-", dir=self.folder))

    def remove(self) -> None:
        shutil.rmtree(self.folder, ignore_errors=True)


def _remove_session(files: SessionFiles | None) -> None:
    """Remove a session's folder (Gradio's `State` deletion callback; also `end_session`)."""
    if files is not None:
        logger.info("session ended: removing %s", files.folder)
        files.remove()


@contextmanager
def _page_errors() -> Iterator[None]:
    """Show a `JobError` as its one line in the page; anything else as one line too (the
    traceback goes to the server's log, never to the page)."""
    try:
        yield
    except JobError as exc:
        raise gr.Error(str(exc), duration=None, print_exception=False) from None
    except gr.Error:
        raise
    except Exception as exc:
        logger.exception("request failed")
        raise gr.Error(
            f"internal error ({type(exc).__name__}); the server log has the details",
            duration=None,
            print_exception=False,
        ) from None


@contextmanager
def _request(
    workspace: Workspace, session: SessionFiles | None, kind: str, request: gr.Request | None
) -> Iterator[tuple[SessionFiles, Path]]:
    """This session's files (new on its first request) and a new folder for one request; a
    request that fails leaves nothing behind (a session it created is removed with it)."""
    files = session or workspace.session(getattr(request, "session_hash", None))
    folder = files.request_folder(kind)
    try:
        yield files, folder
    except BaseException:
        shutil.rmtree(folder if session is not None else files.folder, ignore_errors=True)
        raise


def build_app(workspace: Workspace, limits: Limits = Limits()) -> gr.Blocks:  # noqa: B008
    """The page: Generate, Analyze and Edit tabs sharing this session's current song."""
    with gr.Blocks(
        title="seedmusic", analytics_enabled=False, delete_cache=GRADIO_CACHE_LIFETIME
    ) as app:
        files = gr.State(None, delete_callback=_remove_session)
        current = gr.State(None)
        gr.Markdown(
            "# seedmusic\nLyrics and a style to a song, a recording to a score, and bar-by-bar "
            "edits — everything runs on this machine."
        )
        with gr.Tabs():
            with gr.Tab("Generate", id="generate"):
                generate_view = _generate_tab()
            with gr.Tab("Analyze", id="analyze"):
                analyze_view = _analyze_tab(limits)
            with gr.Tab("Edit", id="edit"):
                edit_view = _edit_tab(limits)
        _wire(workspace, limits, files, current, generate_view, analyze_view, edit_view)

        def end_session(request: gr.Request) -> None:
            workspace.end_session(request.session_hash)

        app.unload(end_session)
    return app


def _generate_tab() -> dict[str, Any]:
    view: dict[str, Any] = {}
    with gr.Row():
        with gr.Column():
            view["lyrics"] = gr.Textbox(
                label="Lyrics",
                value=EXAMPLE_LYRICS,
                lines=9,
                info="one line per phrase; optional [verse] [chorus] [bridge] ... headers",
                elem_id="generate-lyrics",
            )
            view["style"] = gr.Textbox(
                label="Style", value="folk, female vocal", info=STYLE_HELP, elem_id="generate-style"
            )
            with gr.Row():
                view["tempo"] = gr.Number(
                    label="Tempo (bpm)",
                    value=0,
                    minimum=0,
                    maximum=300,
                    info="0: the model's choice",
                    elem_id="generate-tempo",
                )
                view["key"] = gr.Dropdown(
                    [MODEL_CHOICE, *KEYS], value=MODEL_CHOICE, label="Key", elem_id="generate-key"
                )
                view["meter"] = gr.Dropdown(
                    [MODEL_CHOICE, *(f"{a}/{b}" for a, b in METERS)],
                    value=MODEL_CHOICE,
                    label="Meter",
                    elem_id="generate-meter",
                )
            view["prompt"] = gr.Textbox(
                label="Description (optional)",
                placeholder="a quiet song about home",
                elem_id="generate-prompt",
            )
            with gr.Row():
                view["seed"] = gr.Number(
                    label="Seed", value=0, precision=0, elem_id="generate-seed"
                )
                view["renderer"] = gr.Radio(
                    ["neural", "synth"],
                    value="neural",
                    label="Renderer",
                    info="neural: the trained DiT + VAE; synth: FluidSynth and a synthetic singer",
                    elem_id="generate-renderer",
                )
            view["adherence"] = gr.Checkbox(
                value=False,
                label="Check the song against its score with our MIR (beats, key, chords; slower)",
                elem_id="generate-adherence",
            )
            view["button"] = gr.Button("Generate", variant="primary", elem_id="generate-button")
        with gr.Column():
            view["song"] = gr.Audio(
                label="Song", type="filepath", interactive=False, elem_id="generate-song"
            )
            with gr.Row():
                view["vocal"] = gr.Audio(
                    label="Vocal", type="filepath", interactive=False, elem_id="generate-vocal"
                )
                view["accompaniment"] = gr.Audio(
                    label="Accompaniment",
                    type="filepath",
                    interactive=False,
                    elem_id="generate-accompaniment",
                )
            view["readout"] = gr.Markdown(elem_id="generate-readout")
            view["score"] = gr.Image(
                label="Score", type="filepath", interactive=False, elem_id="generate-score"
            )
            view["downloads"] = gr.File(
                label="Downloads",
                file_count="multiple",
                interactive=False,
                elem_id="generate-downloads",
            )
    return view


def _analyze_tab(limits: Limits) -> dict[str, Any]:
    view: dict[str, Any] = {}
    with gr.Row():
        with gr.Column():
            view["upload"] = gr.File(
                label=f"Recording (wav, flac, ogg, mp3; at most {limits.max_upload_mb:g} MB, "
                f"{limits.max_upload_seconds:g} s)",
                type="filepath",
                elem_id="analyze-upload",
            )
            view["lyrics"] = gr.Textbox(
                label="Lyrics (optional)",
                lines=4,
                info="the song's words, placed on the sung notes",
                elem_id="analyze-lyrics",
            )
            view["notes"] = gr.Checkbox(
                value=True,
                label="Transcribe the notes of vocal, bass, piano, guitar and drums",
                elem_id="analyze-notes",
            )
            with gr.Row():
                view["language"] = gr.Radio(
                    ["en", "de"],
                    value="en",
                    label="Language of the lyrics",
                    elem_id="analyze-language",
                )
                view["encoding"] = gr.Radio(
                    ["remi", "xval"],
                    value="remi",
                    label="Score tokens (tokens.json)",
                    elem_id="analyze-encoding",
                )
            view["button"] = gr.Button("Analyze", variant="primary", elem_id="analyze-button")
        with gr.Column():
            view["readout"] = gr.Markdown(elem_id="analyze-readout")
            view["score"] = gr.Image(
                label="Score", type="filepath", interactive=False, elem_id="analyze-score"
            )
            view["downloads"] = gr.File(
                label="Downloads",
                file_count="multiple",
                interactive=False,
                elem_id="analyze-downloads",
            )
    return view


def _edit_tab(limits: Limits) -> dict[str, Any]:
    view: dict[str, Any] = {}
    view["current"] = gr.Markdown(
        "No song yet: generate one, or load a recording here.", elem_id="edit-current"
    )
    with gr.Row():
        view["upload"] = gr.File(
            label=f"or load a recording (analyzed first; at most {limits.max_upload_seconds:g} s)",
            type="filepath",
            scale=3,
            elem_id="edit-upload",
        )
        view["load"] = gr.Button("Load recording", scale=1, elem_id="edit-load")
    view["score"] = gr.Image(
        label="The song's score (bars numbered)",
        height=520,
        type="filepath",
        interactive=False,
        elem_id="edit-score",
    )
    with gr.Row():
        view["first"] = gr.Number(
            label="First bar", value=1, precision=0, minimum=1, elem_id="edit-first"
        )
        view["last"] = gr.Number(
            label="Last bar", value=1, precision=0, minimum=1, elem_id="edit-last"
        )
        view["operation"] = gr.Radio(
            list(EDIT_OPERATIONS), value="transpose", label="Edit", elem_id="edit-operation"
        )
    with gr.Row():
        view["value"] = gr.Textbox(
            label="Value", value="2", info=EDIT_VALUE_HELP, scale=3, elem_id="edit-value"
        )
        view["seed"] = gr.Number(label="Seed", value=0, precision=0, scale=1, elem_id="edit-seed")
    view["button"] = gr.Button("Re-render the bars", variant="primary", elem_id="edit-button")
    view["message"] = gr.Markdown(elem_id="edit-message")
    with gr.Row():
        view["before"] = gr.Audio(
            label="A: before", type="filepath", interactive=False, elem_id="edit-before"
        )
        view["after"] = gr.Audio(
            label="B: after", type="filepath", interactive=False, elem_id="edit-after"
        )
    view["ab"] = gr.Image(
        label="A/B: re-rendered bars shaded", type="filepath", interactive=False, elem_id="edit-ab"
    )
    view["downloads"] = gr.File(
        label="Downloads", file_count="multiple", interactive=False, elem_id="edit-downloads"
    )
    return view


def _wire(
    workspace: Workspace,
    limits: Limits,
    files: gr.State,
    current: gr.State,
    gen: dict[str, Any],
    ana: dict[str, Any],
    ed: dict[str, Any],
) -> None:
    """Connect the buttons to the jobs; every heavy job waits in `WORK_QUEUE`."""
    song_view = [ed["current"], ed["score"], ed["before"], ed["first"], ed["last"]]

    def generate(
        session: SessionFiles | None,
        lyrics: str,
        style: str,
        tempo: float | None,
        key: str,
        meter: str,
        prompt: str,
        seed: float | None,
        renderer: str,
        adherence: bool,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008 (Gradio's idiom)
    ) -> tuple[Any, ...]:
        with _page_errors(), _request(workspace, session, "generate", request) as (session, folder):
            progress(0, desc="composing and rendering")
            song = generate_song(
                folder,
                lyrics,
                style,
                tempo=tempo if tempo else None,
                key=None if key == MODEL_CHOICE else key,
                meter=None if meter == MODEL_CHOICE else meter,
                prompt=prompt,
                seed=int(seed or 0),
                renderer=renderer,
                adherence=adherence,
                limits=limits,
            )
            return (
                session,
                song,
                str(song.wav),
                _path(song.stem("vocal")),
                _path(song.stem("accompaniment")),
                song_readout(song.summary(), song.bar_count()),
                str(song.score_png),
                [str(p) for p in song.downloads()],
                *_song_view(song, "the song generated in the Generate tab"),
            )

    gen["button"].click(
        generate,
        inputs=[
            files,
            gen["lyrics"],
            gen["style"],
            gen["tempo"],
            gen["key"],
            gen["meter"],
            gen["prompt"],
            gen["seed"],
            gen["renderer"],
            gen["adherence"],
        ],
        outputs=[
            files,
            current,
            gen["song"],
            gen["vocal"],
            gen["accompaniment"],
            gen["readout"],
            gen["score"],
            gen["downloads"],
            *song_view,
        ],
        api_name="generate",
        concurrency_id=WORK_QUEUE,
    )

    def analyze(
        session: SessionFiles | None,
        upload: str | None,
        lyrics: str,
        notes: bool,
        encoding: str,
        language: str,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[Any, ...]:
        with _page_errors(), _request(workspace, session, "analyze", request) as (session, folder):
            progress(0, desc="analyzing")
            result = analyze_recording(
                folder,
                None if upload is None else Path(upload),
                lyrics or "",
                notes=notes,
                encoding=encoding,
                language=language,
                limits=limits,
            )
            return (
                session,
                result.song,
                analysis_readout(result.document()),
                str(result.folder / "score.png"),
                [str(p) for p in result.downloads()],
                *_song_view(result.song, f"the analyzed recording {Path(upload or '').name}"),
            )

    ana["button"].click(
        analyze,
        inputs=[
            files,
            ana["upload"],
            ana["lyrics"],
            ana["notes"],
            ana["encoding"],
            ana["language"],
        ],
        outputs=[files, current, ana["readout"], ana["score"], ana["downloads"], *song_view],
        api_name="analyze",
        concurrency_id=WORK_QUEUE,
    )

    def load(
        session: SessionFiles | None,
        upload: str | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[Any, ...]:
        with _page_errors(), _request(workspace, session, "load", request) as (session, folder):
            progress(0, desc="analyzing the recording")
            result = analyze_recording(
                folder,
                None if upload is None else Path(upload),
                limits=limits,
            )
            return (
                session,
                result.song,
                *_song_view(result.song, f"the recording {Path(upload or '').name}"),
            )

    ed["load"].click(
        load,
        inputs=[files, ed["upload"]],
        outputs=[files, current, *song_view],
        api_name="load_recording",
        concurrency_id=WORK_QUEUE,
    )

    def edit(
        session: SessionFiles | None,
        song: Song | None,
        first: float | None,
        last: float | None,
        operation: str,
        value: str,
        seed: float | None,
        request: gr.Request,
        progress: gr.Progress = gr.Progress(track_tqdm=True),  # noqa: B008
    ) -> tuple[Any, ...]:
        with _page_errors(), _request(workspace, session, "edit", request) as (session, folder):
            progress(0, desc="re-rendering the bars")
            result = edit_bars(
                folder,
                song,
                operation,
                int(first or 0),
                int(last or 0),
                value or "",
                seed=int(seed or 0),
            )
            before = (result.before.wav, f"{result.before.wav.name} (A, before)")
            after = (result.after.wav, f"{result.after.wav.name} (B, after)")
            with gate_errors(before, after):
                picture = ab_picture(
                    result.before.wav, result.after.wav, result.spans, folder / "ab.png"
                )
            return (
                session,
                result.after,
                _edit_message(result),
                str(result.before.wav),
                str(result.after.wav),
                str(picture),
                [str(p) for p in result.after.downloads()],
                result.after.score_png.as_posix(),
                "**Current song:** the edited song (B); further edits start from it.",
            )

    ed["button"].click(
        edit,
        inputs=[files, current, ed["first"], ed["last"], ed["operation"], ed["value"], ed["seed"]],
        outputs=[
            files,
            current,
            ed["message"],
            ed["before"],
            ed["after"],
            ed["ab"],
            ed["downloads"],
            ed["score"],
            ed["current"],
        ],
        api_name="edit",
        concurrency_id=WORK_QUEUE,
    )


def _path(path: Path | None) -> str | None:
    return None if path is None else str(path)


def _song_view(song: Song, what: str) -> tuple[Any, ...]:
    """The Edit tab's view of a new current song: text, score picture, audio A, bars 1..n."""
    bars = song.bar_count()
    text = f"**Current song:** {what} ({bars} bars). Choose bars on its score and an edit."
    return (
        text,
        str(song.score_png),
        str(song.wav),
        gr.Number(value=1, maximum=bars),
        gr.Number(value=min(2, bars), maximum=bars),
    )


def _edit_message(result: Edit) -> str:
    spans = ", ".join(
        (f"bar {a}" if a == b else f"bars {a}-{b}") + f" ({s['start']:.1f}-{s['end']:.1f} s)"
        for s in result.spans
        for a, b in [s["bars"]]
    )
    return (
        f"Re-rendered {spans or 'nothing (the score did not change)'}; "
        f"{result.unchanged_seconds:.1f} s are the source, sample for sample."
    )


def theme() -> gr.themes.Base:
    """Gradio's default look with the system's fonts (no font is fetched from the internet)."""
    return gr.themes.Default(
        font=["ui-sans-serif", "system-ui", "sans-serif"],
        font_mono=["ui-monospace", "monospace"],
    )
