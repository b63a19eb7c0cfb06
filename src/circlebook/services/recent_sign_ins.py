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

An entry in use is read again before it runs out (`due`): past half its
lifetime, one request starts that read in the background and every request
meanwhile still gets the entry, which stays good only until its own end. So a
steady poller never waits for the read, and nothing is remembered for longer.
"""

from __future__ import annotations

import math
import time
from collections.abc import Callable
from typing import Generic, TypeVar

MAX_SECONDS = 1.0
# Entries kept at once; past this the map starts afresh (it refills within a second).
_MAX_ENTRIES = 100_000
# The share of its lifetime after which an entry in use is read again (see `due`):
# the other half is the time that read has to land before anyone would wait for it.
REFRESH_AFTER = 0.5

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
        # By key: good until, read again from, the write count it was read at, the value.
        self._entries: dict[str, tuple[float, float, int, V]] = {}

    def mark(self) -> int:
        """Take this before reading the database for a value to `put` with it."""
        return self._writes()

    def get(self, key: str) -> V | None:
        found = self._entries.get(key)
        if found is None:
            return None
        until, _, mark, value = found
        if self._monotonic() >= until or mark != self._writes():
            self._entries.pop(key, None)
            return None
        return value

    def due(self, key: str) -> bool:
        """Whether the caller should read `key` again now, in the background, while `get`
        still answers: once per entry, past `REFRESH_AFTER` of its lifetime.

        The read then `put`s a new entry, or, when it fails, should `forget` the key.
        """
        found = self._entries.get(key)
        if found is None:
            return False
        until, refresh_from, mark, value = found
        if self._monotonic() < refresh_from:
            return False
        # Claimed: no other caller starts the same read for this entry. Should a `put`
        # land between these two lines, its newer entry is lost: the key is then read
        # again in the foreground when this one runs out, never kept longer.
        self._entries[key] = (until, math.inf, mark, value)
        return True

    def put(self, key: str, value: V, mark: int) -> None:
        if not self.seconds:
            return
        if len(self._entries) >= _MAX_ENTRIES:
            self._entries.clear()
        now = self._monotonic()
        self._entries[key] = (
            now + self.seconds,
            now + self.seconds * REFRESH_AFTER,
            mark,
            value,
        )

    def forget(self, key: str) -> None:
        self._entries.pop(key, None)
