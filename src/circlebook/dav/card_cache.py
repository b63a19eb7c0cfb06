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
from collections.abc import Hashable


class CardCache:
    """At most `size` rendered propstats (UTF-8), the oldest dropped first; a size of 0 keeps none.

    Lookups take no lock (a dict's `get` is atomic); additions take one, so that
    two requests filling the cache at once never drop the same oldest entry twice.
    """

    def __init__(self, size: int) -> None:
        self.size = size
        self._kept: dict[Hashable, bytes] = {}
        self._lock = threading.Lock()

    def __len__(self) -> int:
        return len(self._kept)

    def get(self, key: Hashable) -> bytes | None:
        return self._kept.get(key)

    def put(self, key: Hashable, value: bytes) -> None:
        if not self.size:
            return
        with self._lock:
            if key not in self._kept and len(self._kept) >= self.size:
                del self._kept[next(iter(self._kept))]
            self._kept[key] = value
