"""Log lines written by a thread of their own, never by the event loop that logged them.

Every request logs its access line. Written where it was logged, a line is a
blocking write to stderr or stdout: a file whose disk is flushing, or a pipe
that its reader has not emptied, held the one event loop, and every request
open on it, for 30 to 80 ms (seen under load, a few times a second). Here the
logging thread only queues the record; one writer thread per process formats
and writes the records in the order they came.

Nothing is lost: the queue is bounded, and when it is full the logging thread
waits, as it would have waited for the write. `flush()` (which logging calls at
exit) returns once every record queued before it is written.
"""

from __future__ import annotations

import logging
import os
import queue
import threading

from circlebook.observe.logs import REQUEST_ID

# Records waiting at most; a burst beyond it makes the loggers wait for the disk.
MAX_WAITING = 10_000


class _Writer:
    """The one writer thread of this process, and its queue."""

    def __init__(self) -> None:
        self.queue: queue.Queue[tuple[BackgroundStreamHandler, logging.LogRecord]] = queue.Queue(
            MAX_WAITING
        )
        self.pid = os.getpid()
        self.thread = threading.Thread(target=self._write_forever, name="log-writer", daemon=True)
        self.thread.start()

    def is_current(self) -> bool:
        return threading.current_thread() is self.thread

    def _write_forever(self) -> None:
        while True:
            handler, record = self.queue.get()
            try:
                logging.StreamHandler.emit(handler, record)
            finally:
                self.queue.task_done()


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
    """A `logging.StreamHandler` whose records are written by the log-writer thread."""

    def emit(self, record: logging.LogRecord) -> None:
        # What only the logging thread knows is taken with the record.
        if getattr(record, "request_id", None) is None:
            record.request_id = REQUEST_ID.get()
        _the_writer().queue.put((self, record))

    def flush(self) -> None:
        writer = _writer
        if writer is not None and writer.pid == os.getpid() and not writer.is_current():
            writer.queue.join()
        super().flush()
