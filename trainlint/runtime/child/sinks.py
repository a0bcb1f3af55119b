"""Where the tracer's records go: the pipe to the parent, or a list (the in-process API)."""

from __future__ import annotations

import os
import threading
from typing import List, Protocol

from trainlint.runtime.records import Record, encode


class Sink(Protocol):
    def emit(self, record: Record) -> None: ...


class ListSink:
    """Keeps the records in memory (the in-process API)."""

    def __init__(self) -> None:
        self.records: List[Record] = []

    def emit(self, record: Record) -> None:
        self.records.append(record)


class FdSink:
    """Writes one JSON line per record; only from this process (not from forked workers)."""

    def __init__(self, fd: int) -> None:
        self.fd = fd
        self.pid = os.getpid()
        self.lock = threading.Lock()
        self.broken = False

    def emit(self, record: Record) -> None:
        if self.broken or os.getpid() != self.pid:
            return
        data = (encode(record) + "\n").encode("utf-8", "replace")
        with self.lock:
            try:
                view = memoryview(data)
                while view:
                    n = os.write(self.fd, view)
                    view = view[n:]
            except OSError:
                self.broken = True
