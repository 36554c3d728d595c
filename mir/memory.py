"""Keeping long analyses within bounded memory."""

from __future__ import annotations

import ctypes
import functools
from collections.abc import Callable


def release_freed_memory() -> None:
    """Hand the heap memory a stage freed back to the system (glibc's `malloc_trim`), so the
    next stage's peak does not stack on the last one's leftovers (on an hour of audio the
    resident size otherwise creeps up by 0.3 GB over the stages); a no-op elsewhere."""
    trim = _malloc_trim()
    if trim is not None:
        trim(0)


@functools.cache
def _malloc_trim() -> Callable[[int], int] | None:
    """glibc's `malloc_trim`, loaded once; None where there is no glibc."""
    try:
        return getattr(ctypes.CDLL("libc.so.6"), "malloc_trim", None)
    except OSError:
        return None
