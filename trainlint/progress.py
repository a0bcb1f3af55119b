"""A one-line `checking 120/300 files` counter on stderr, only when stderr is a terminal.

It stays silent for the first half second, so quick runs never flash a counter, and redraws at
most ten times a second. It never writes to stdout, which carries the findings.
"""

from __future__ import annotations

import sys
import time
from typing import Callable, Optional, TextIO

DELAY_S = 0.5
INTERVAL_S = 0.1


class TerminalProgress:
    def __init__(self, stream: TextIO, clock: Callable[[], float] = time.monotonic) -> None:
        self.stream = stream
        self.clock = clock
        self.started = clock()
        self.last_draw: Optional[float] = None
        self.width = 0

    def __call__(self, stage: str, done: int, total: int) -> None:
        now = self.clock()
        if now - self.started < DELAY_S:
            return
        if self.last_draw is not None and now - self.last_draw < INTERVAL_S and done < total:
            return
        self.last_draw = now
        text = f"trainlint: {stage} {done}/{total} files"
        self.stream.write("\r" + text.ljust(self.width))
        self.stream.flush()
        self.width = len(text)

    def close(self) -> None:
        """Erase the counter so the summary line starts on a clean line."""
        if self.width:
            self.stream.write("\r" + " " * self.width + "\r")
            self.stream.flush()
            self.width = 0


def for_stderr(stream: Optional[TextIO] = None) -> Optional[TerminalProgress]:
    """A counter for `stream` (stderr by default), or None when it is not a terminal."""
    stream = stream if stream is not None else sys.stderr
    isatty = getattr(stream, "isatty", None)
    if isatty is None or not isatty():
        return None
    return TerminalProgress(stream)
