"""A progress bar on stderr for long verifications, drawn only when stderr is a terminal.

Plain text and carriage returns: no dependency, nothing written to pipes or log files, and
never to stdout (which carries the verdict, and JSON with ``--json``).
"""

from __future__ import annotations

import sys
import time
from typing import TextIO

WIDTH = 30
MIN_INTERVAL_S = 0.1


class ProgressBar:
    """Call with ``(done, total)``; :meth:`close` ends the line. A no-op off a terminal."""

    def __init__(self, label: str, *, stream: TextIO | None = None, enabled: bool | None = None):
        self._stream = stream or sys.stderr
        self._label = label
        self._enabled = self._stream.isatty() if enabled is None else enabled
        self._drawn = False
        self._last = 0.0

    def __call__(self, done: int, total: int) -> None:
        if not self._enabled or total <= 0:
            return
        now = time.monotonic()
        if done < total and now - self._last < MIN_INTERVAL_S:
            return
        self._last = now
        filled = WIDTH * min(done, total) // total
        bar = "#" * filled + "-" * (WIDTH - filled)
        percent = 100 * min(done, total) // total
        self._stream.write(f"\r{self._label} [{bar}] {percent:3d}% {done:,}/{total:,}")
        self._stream.flush()
        self._drawn = True

    def close(self) -> None:
        if self._drawn:
            self._stream.write("\n")
            self._stream.flush()
            self._drawn = False
