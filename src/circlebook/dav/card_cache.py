"""Cards' parts of a REPORT answer, kept across requests: what a contacts app's sync reads again.

A phone's initial sync asks for the ETag of every card, then every card; the
next phone in the book asks for the same. What a card's propstat holds (its
ETag, its vCard as XML) follows from the properties asked for and the card's
content alone: its vCard version, entry id, name and phone number
(`Resource.content_key`). Those are the key, so a renamed entry or a changed
number is never answered from the cache: its key is a new one, and the old
answer goes when the cache is full.

Nothing here decides who sees what: a card is rendered, and looked up, only
after the entries the member may see were chosen (services.entries), and no
part of it differs between the members who may see it.
"""

from __future__ import annotations

import threading
from collections.abc import Hashable, Iterable


class CardCache:
    """At most `size` rendered propstats (UTF-8), the oldest dropped first; a size of 0
    keeps none. Each is recorded with what it was drawn from (a card's entry), so that
    all of them go at once when that does (`forget`): a removed or erased person's name
    and number are not held until the cache is full.

    Lookups take no lock (a dict's `get` is atomic); changes take one, so that two
    requests filling the cache at once never drop the same oldest entry twice.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: dict[Hashable, bytes] = {}
        self._source: dict[Hashable, str] = {}
        self._by_source: dict[str, set[Hashable]] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: Hashable) -> bytes | None:
        return self._kept.get(key)

    def put(self, key: Hashable, value: bytes, source: str | None = None) -> None:
        if not self.size:
            return
        with self._lock:
            if key not in self._kept and len(self._kept) >= self.size:
                self._drop(next(iter(self._kept)))
            self._kept[key] = value
            if source is not None:
                self._source[key] = source
                self._by_source.setdefault(source, set()).add(key)

    def forget(self, sources: Iterable[str]) -> None:
        """Drop everything drawn from `sources` (entry ids)."""
        with self._lock:
            for source in sources:
                for key in self._by_source.pop(source, ()):
                    self._kept.pop(key, None)
                    self._source.pop(key, None)

    def _drop(self, key: Hashable) -> None:
        del self._kept[key]
        source = self._source.pop(key, None)
        if source is not None:
            keys = self._by_source[source]
            keys.discard(key)
            if not keys:
                del self._by_source[source]
