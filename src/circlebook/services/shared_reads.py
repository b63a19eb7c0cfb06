"""Reads under way in this process, so that requests asking the same thing at once share one.

A remembered value (services.recent_sign_ins) runs out for every poller at the
same moment: fifty phones polling one book would then each take a worker thread
to read it again, and the slowest of them wait for all the others. Instead the
first one reads and the rest wait for its answer.

A read is shared only by requests that arrive while no write of this process
has committed since it began (the same count `RecentSignIns` keeps): a request
that follows a change made here never gets an answer read before it.
"""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import Future
from typing import Any, TypeVar

V = TypeVar("V")


class SharedReads:
    """One `read()` at a time per key and write count; callers run in worker threads."""

    def __init__(self, writes: Callable[[], int]) -> None:
        self._writes = writes
        self._lock = threading.Lock()
        self._reading: dict[tuple[str, int], Future[Any]] = {}

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
