"""Reads under way in this process, so that requests asking the same thing at once share one.

A remembered value (services.recent_sign_ins) runs out for every poller at the
same moment: fifty phones polling one book would then each take a worker thread
to read it again, and the slowest of them wait for all the others. Instead the
first one reads and the rest wait for its answer.

A read is shared only by requests that arrive while no write of this process
has committed since it began (the same count `RecentSignIns` keeps): a request
that follows a change made here never gets an answer read before it.

`ahead` starts such a read in a background thread of its own, for a remembered
value about to run out (`RecentSignIns.due`): no request waits for it, and one
that misses while it is under way shares it like any other.
"""

from __future__ import annotations

import logging
import threading
from collections.abc import Callable
from concurrent.futures import Future, ThreadPoolExecutor
from typing import Any, TypeVar

V = TypeVar("V")

log = logging.getLogger(__name__)

# Threads for reads ahead: each is one short transaction, and on SQLite or a small
# pool more at once would only queue for the database.
AHEAD_THREADS = 2
# Reads ahead waiting at most: past that, more would not start before the values
# they refresh run out, and those are read when asked for, as without reading ahead.
MAX_AHEAD = 256


class SharedReads:
    """One `read()` at a time per key and write count; callers run in worker threads."""

    def __init__(self, writes: Callable[[], int]) -> None:
        self._writes = writes
        self._lock = threading.Lock()
        self._reading: dict[tuple[str, int], Future[Any]] = {}
        self._pool: ThreadPoolExecutor | None = None
        self._ahead = 0
        self._closed = False

    def ahead(self, key: str, read: Callable[[], object], failed: Callable[[], None]) -> None:
        """Start `read()` in the background, shared as `read` shares it; `failed()` if it
        raises. Nothing is started once `MAX_AHEAD` wait, or after `close`."""
        with self._lock:
            if self._closed or self._ahead >= MAX_AHEAD:
                return
            self._ahead += 1
            if self._pool is None:
                self._pool = ThreadPoolExecutor(AHEAD_THREADS, thread_name_prefix="read-ahead")
            self._pool.submit(self._read_ahead, key, read, failed)

    def _read_ahead(self, key: str, read: Callable[[], object], failed: Callable[[], None]) -> None:
        try:
            self.read(key, read)
        except Exception as exc:  # a signed-out token, a removed member, the database away
            log.debug("a read ahead failed (%s): the next request reads again", exc)
            failed()
        finally:
            with self._lock:
                self._ahead -= 1

    def close(self) -> None:
        """Start no more reads ahead, and wait for those under way (before the engine goes)."""
        with self._lock:
            self._closed = True
            pool, self._pool = self._pool, None
        if pool is not None:
            pool.shutdown(wait=True, cancel_futures=True)

    def read(self, key: str, read: Callable[[], V]) -> V:
        """`read()`'s answer, or that of the same read another caller has under way."""
        under = (key, self._writes())
        with self._lock:
            shared = self._reading.get(under)
            if shared is None:
                mine: Future[V] = Future()
                self._reading[under] = mine
        if shared is not None:
            found: V = shared.result()
            return found
        try:
            value = read()
        except BaseException as exc:
            mine.set_exception(exc)
            raise
        else:
            mine.set_result(value)
            return value
        finally:
            with self._lock:
                self._reading.pop(under, None)
