"""Sign-ins this process checked in the last second, so that a poll need not read the database.

A phone polls with the same token (or app password) again and again; each
check is a transaction. Remembering a good one for at most `seconds` (never
more than 1 s: `MAX_SECONDS`) keeps the rule that a signed-out or revoked
credential stops working within a second on every instance, with no message
between instances: another instance's sign-out reaches this one when the entry
runs out.

What this process itself writes must count at once, not a second later: each
entry remembers how many write transactions this process had committed when
its database read began, and is worthless as soon as that number moves. A
sign-out, a revocation, a rename or a deletion here is therefore seen by the
very next request, and an entry read before such a write can never outlive it.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Generic, TypeVar

MAX_SECONDS = 1.0
# Entries kept at once; past this the map starts afresh (it refills within a second).
_MAX_ENTRIES = 100_000

V = TypeVar("V")


class RecentSignIns(Generic[V]):
    """Values by credential hash, good for `seconds` of `monotonic` time and no write of ours.

    `writes` answers how many write transactions this process has committed. A
    lifetime of 0 turns the cache off. Reads run on the event loop and writes in
    worker threads; each is one dict operation, which needs no lock.
    """

    def __init__(
        self,
        seconds: float,
        writes: Callable[[], int],
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        if not 0 <= seconds <= MAX_SECONDS:
            raise ValueError(f"a sign-in may be remembered for at most {MAX_SECONDS:g} s")
        self.seconds = seconds
        self._writes = writes
        self._monotonic = monotonic
        self._entries: dict[str, tuple[float, int, V]] = {}

    def mark(self) -> int:
        """Take this before reading the database for a value to `put` with it."""
        return self._writes()

    def get(self, key: str) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        until, mark, value = found
        if self._monotonic() >= until or mark != self._writes():
            self._entries.pop(key, None)
            return None
        return value

    def put(self, key: str, value: V, mark: int) -> None:
        if not self.seconds:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        self._entries[key] = (self._monotonic() + self.seconds, mark, value)

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)
