"""Start `seedmusic serve` in a child process and wait until it serves (for the benchmarks, the
screenshot script and the browser tests)."""

from __future__ import annotations

import collections
import os
import re
import socket
import subprocess
import sys
import threading
import time

READY = re.compile(r"seedmusic serve: (http://\S+)")
"""The line `seedmusic serve` prints once it serves."""


def free_port() -> int:
    """A TCP port on 127.0.0.1 that nothing listens on now."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def start_server(*options: str, timeout: float = 300.0) -> tuple[subprocess.Popen[str], str]:
    """`seedmusic serve --port FREE OPTIONS...` in a child process and its URL, once it serves.

    The child's output is read on a thread for as long as it runs, so a chatty server never
    blocks on a full pipe. Raises `RuntimeError` (with its last lines) if it does not start.
    """
    process = subprocess.Popen(
        [sys.executable, "-m", "seedmusic", "serve", "--port", str(free_port()), *options],
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    assert process.stdout is not None
    deadline = time.monotonic() + timeout
    seen: collections.deque[str] = collections.deque(maxlen=30)
    for line in process.stdout:
        seen.append(line)
        match = READY.search(line)
        if match:
            threading.Thread(
                target=collections.deque, args=(process.stdout, 0), daemon=True
            ).start()
            return process, match.group(1)
        if time.monotonic() > deadline:
            break
    process.kill()
    raise RuntimeError("seedmusic serve did not start:\n" + "".join(seen))
