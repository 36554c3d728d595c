"""`seedmusic serve`: the web UI, a Gradio page to generate, analyze and edit songs.

    seedmusic serve                       # http://127.0.0.1:7860
    seedmusic serve --port 8000 --max-upload-mb 20 --max-upload-seconds 300

Binds to 127.0.0.1 unless `--host` says otherwise. Nothing in the page is fetched from outside
this machine: no analytics, no web fonts, no share link. Request files live in a temporary
workspace (one folder per browser session, removed when the session ends; all of it when the
server stops).
"""

from __future__ import annotations

import argparse
import logging
import os
import signal
import socket
import tempfile
from pathlib import Path

from seedmusic.errors import UserError

logger = logging.getLogger(__name__)

GRADIO_ENVIRONMENT = {
    "GRADIO_ANALYTICS_ENABLED": "False",
    "GRADIO_SHARE": "False",
    "GRADIO_SSR_MODE": "False",
}
"""Set before Gradio is imported: no usage reports, no share tunnel, no Node server."""


def register(subparsers: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    """Add the `serve` verb."""
    parser = subparsers.add_parser(
        "serve",
        help="the web UI: generate, analyze and edit songs in a browser",
        description=(
            "Serve a Gradio page with Generate, Analyze and Edit tabs on HOST:PORT (127.0.0.1 by "
            "default: only this machine can open it). Stop it with Ctrl-C."
        ),
    )
    parser.add_argument("--host", default="127.0.0.1", help="address to bind (127.0.0.1)")
    parser.add_argument("--port", type=int, default=7860, help="port (7860)")
    parser.add_argument(
        "--max-upload-mb", type=float, default=50.0, metavar="MB", help="largest upload (50)"
    )
    parser.add_argument(
        "--max-upload-seconds",
        type=float,
        default=600.0,
        metavar="S",
        help="longest recording to analyze or edit (600)",
    )
    parser.add_argument(
        "--workdir",
        type=Path,
        default=None,
        metavar="DIR",
        help="where request files are kept while a session lasts (a new temporary folder)",
    )
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    """Serve until interrupted."""
    from seedmusic.web.jobs import Limits

    if not 0 < args.port < 65536:
        raise UserError(f"--port {args.port} is not a port number (1-65535)")
    if args.max_upload_mb <= 0 or args.max_upload_seconds <= 0:
        raise UserError("--max-upload-mb and --max-upload-seconds must be positive")
    _check_port_free(args.host, args.port)
    limits = Limits(max_upload_mb=args.max_upload_mb, max_upload_seconds=args.max_upload_seconds)
    if args.workdir is not None:
        args.workdir.mkdir(parents=True, exist_ok=True)
    root = Path(tempfile.mkdtemp(prefix="seedmusic-serve-", dir=args.workdir))
    os.environ.update(GRADIO_ENVIRONMENT)
    os.environ["GRADIO_TEMP_DIR"] = str(root / "gradio")
    from seedmusic.web.app import Workspace, build_app, theme

    workspace = Workspace(root)
    signal.signal(signal.SIGTERM, _interrupt)
    app = build_app(workspace, limits)
    app.queue(default_concurrency_limit=1)
    try:
        app.launch(
            server_name=args.host,
            server_port=args.port,
            share=False,
            inbrowser=False,
            show_error=False,
            max_file_size=limits.max_file_size(),
            ssr_mode=False,
            pwa=False,
            mcp_server=False,
            footer_links=["api", "settings"],
            theme=theme(),
            quiet=True,
            prevent_thread_lock=True,
        )
        print(f"seedmusic serve: http://{args.host}:{args.port} (Ctrl-C stops it)", flush=True)
        app.block_thread()
    finally:
        workspace.remove()
    return 0


def _interrupt(signum: int, frame: object) -> None:
    """SIGTERM stops the server like Ctrl-C does (so the workspace is removed)."""
    raise KeyboardInterrupt


def _check_port_free(host: str, port: int) -> None:
    with socket.socket(socket.AF_INET6 if ":" in host else socket.AF_INET) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as exc:
            raise UserError(f"cannot serve on {host}:{port}: {exc.strerror}") from None
