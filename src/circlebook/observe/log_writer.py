"""Log lines written by a thread of their own, never by the event loop that logged them.

Every request logs its access line. Written where it was logged, a line is a
blocking write to stderr or stdout: a file whose disk is flushing, or a pipe
that its reader has not emptied, held the one event loop, and every request
open on it, for 30 to 80 ms (seen under load, a few times a second). Here the
logging thread formats the line, as before, and only leaves the text; one
writer thread per process writes what has gathered, in the order it came, in
one write per stream, a few dozen times a second at most.

Nothing is lost: at most `MAX_WAITING` lines wait, and beyond that the logging
thread waits, as it would have waited for the write. `flush()` (which logging calls at
exit) returns once every line queued before it is written.
"""

from __future__ import annotations

import logging
import os
import threading
import time
from typing import TextIO

# Lines waiting at most; a burst beyond it makes the loggers wait for the disk.
MAX_WAITING = 10_000
# How long the writer lets lines gather before it writes them. Waking it for
# each line cost more than the line (a fifth of a small request's throughput).
GATHER_SECONDS = 0.02

_Line = tuple["BackgroundStreamHandler", logging.LogRecord, str]


class _Writer:
    """The one writer thread of this process, and the lines waiting for it."""

    def __init__(self) -> None:
        self.pid = os.getpid()
        self._lock = threading.Lock()
        self._changed = threading.Condition(self._lock)  # lines taken or written
        self._waiting: list[_Line] = []
        self._queued = 0  # lines ever given, and of those, written
        self._written = 0
        self._wake = threading.Event()
        self.thread = threading.Thread(target=self._write_forever, name="log-writer", daemon=True)
        self.thread.start()

    def is_current(self) -> bool:
        return threading.current_thread() is self.thread

    def put(self, line: _Line) -> None:
        with self._lock:
            while len(self._waiting) >= MAX_WAITING and not self.is_current():
                self._changed.wait()
            self._waiting.append(line)
            self._queued += 1
            first = len(self._waiting) == 1
        if first:
            self._wake.set()

    def join(self) -> None:
        """Return once every line given before this call is written."""
        with self._lock:
            given = self._queued
            self._wake.set()
            while self._written < given:
                self._changed.wait()

    def _write_forever(self) -> None:
        while True:
            self._wake.wait()
            time.sleep(GATHER_SECONDS)
            self._wake.clear()
            with self._lock:
                lines, self._waiting = self._waiting, []
                self._changed.notify_all()
            try:
                _write(lines)
            finally:
                with self._lock:
                    self._written += len(lines)
                    self._changed.notify_all()


def _write(lines: list[_Line]) -> None:
    """Each stream's lines in order, one write and one flush per stream."""
    streams: dict[int, tuple[BackgroundStreamHandler, TextIO, list[_Line]]] = {}
    for line in lines:
        handler = line[0]
        streams.setdefault(id(handler.stream), (handler, handler.stream, []))[2].append(line)
    for handler, stream, its_lines in streams.values():
        try:
            stream.write("".join(text for _, _, text in its_lines))
            stream.flush()
        except Exception:
            handler.handleError(its_lines[0][1])


_writer: _Writer | None = None
_starting = threading.Lock()


def _the_writer() -> _Writer:
    global _writer
    writer = _writer
    # A forked child has the parent's queue object but not its thread.
    if writer is None or writer.pid != os.getpid():
        with _starting:
            if _writer is None or _writer.pid != os.getpid():
                _writer = _Writer()
            writer = _writer
    return writer


class BackgroundStreamHandler(logging.StreamHandler):  # type: ignore[type-arg]
    """A `logging.StreamHandler` whose lines are written by the log-writer thread."""

    def emit(self, record: logging.LogRecord) -> None:
        try:
            # Formatted here: the line holds what only the logging thread knows
            # (the request id of its context), and the writer needs no more than text.
            text = self.format(record) + self.terminator
        except Exception:
            self.handleError(record)
            return
        _the_writer().put((self, record, text))

    def flush(self) -> None:
        writer = _writer
        if writer is not None and writer.pid == os.getpid() and not writer.is_current():
            writer.join()
        super().flush()
