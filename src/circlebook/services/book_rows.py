"""Books' entry rows as last read whole, kept for the next member who fetches the same book.

A book of 10,000 is fetched in full by each of its members (the JSON fetch, a
CardDAV addressbook-query or initial sync), and reading its rows was a third of
each such fetch. Every change to an entry, and every entry added or removed,
moves the book's version in the same transaction (the rule delta sync rests on),
and no row read here holds anything else that changes. So the rows read at a
version are the rows of that version: kept under it, they serve any fetch that
reads the same version, whoever asks, and never one that reads a newer one.

Only rows are kept: what each member may see of them is judged per fetch
(services.entries.visible_entries). One version per book: a newer one replaces
it, and the books kept longest ago go first once `max_rows` are held. Rows of
a book this process changed by removing someone are dropped at once, so that a
removed or erased person's name and number are not held for the next fetch.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence

from circlebook.services.ports import EntryRow


class BookRows:
    """At most `max_rows` rows in all, by book and version; 0 keeps none.

    Lookups take no lock (a dict's `get` is atomic); changes take one.
    """

    def __init__(self, max_rows: int) -> None:
        self.max_rows = max_rows
        self._held = 0
        self._kept: dict[str, tuple[int, Sequence[EntryRow]]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        """How many rows are held."""
        return self._held

    def get(self, book_id: str, version: int) -> Sequence[EntryRow] | None:
        found = self._kept.get(book_id)
        if found is None or found[0] != version:
            return None
        return found[1]

    def put(self, book_id: str, version: int, rows: Sequence[EntryRow]) -> None:
        if len(rows) > self.max_rows:
            return  # a book larger than the whole cache (or the cache is off)
        with self._lock:
            kept = self._kept.get(book_id)
            if kept is not None and kept[0] > version:
                return  # a fetch that read an older version finished late
            self._drop(book_id)
            while self._held + len(rows) > self.max_rows:
                self._drop(next(iter(self._kept)))
            self._kept[book_id] = (version, rows)
            self._held += len(rows)

    def forget(self, book_id: str) -> None:
        with self._lock:
            self._drop(book_id)

    def _drop(self, book_id: str) -> None:
        kept = self._kept.pop(book_id, None)
        if kept is not None:
            self._held -= len(kept[1])
