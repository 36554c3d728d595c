"""Whether long work shows progress bars: on a terminal, or wherever a caller asks for them.

The command line draws tqdm bars only when stderr is a terminal; the web UI (`seedmusic.web`)
turns them on for the work it runs, and Gradio shows those bars in the page.
"""

from __future__ import annotations

import sys
from collections.abc import Iterator
from contextlib import contextmanager
from contextvars import ContextVar

_forced: ContextVar[bool | None] = ContextVar("seedmusic_progress", default=None)


def progress_bars() -> bool:
    """True when long work should draw progress bars (stderr is a terminal, or `forced_progress`)."""
    forced = _forced.get()
    return sys.stderr.isatty() if forced is None else forced


@contextmanager
def forced_progress(show: bool = True) -> Iterator[None]:
    """Inside this block (in this thread or task), `progress_bars()` is `show`."""
    token = _forced.set(show)
    try:
        yield
    finally:
        _forced.reset(token)
