"""The streams open in this process, and handing each event to those it may concern."""

from __future__ import annotations

import asyncio
from collections import defaultdict

from circlebook.domain.events import Event, EventType, concerns
from circlebook.domain.visibility import Viewer

QUEUE_LIMIT = 512


class Subscriber:
    """One open event stream of one account, with its place in each of its books."""

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.viewers: dict[str, Viewer] = {}
        self.queue: asyncio.Queue[Event] = asyncio.Queue(QUEUE_LIMIT)
        # Set when the stream fell too far behind to be sent every event.
        self.overflowed = False

    def wants(self, event: Event) -> bool:
        if event.type is not EventType.BOOK_CHANGED:
            return event.account_id == self.account_id
        viewer = self.viewers.get(event.book_id or "")
        if viewer is not None and event.version is not None and event.version < viewer.tags_version:
            return False  # from before its place in the book: a replay starts no earlier
        if event.subject_id == self.account_id:
            return True  # its own entry: joined, renamed, retagged or removed
        return viewer is not None and concerns(viewer, event)

    def offer(self, event: Event) -> None:
        try:
            self.queue.put_nowait(event)
        except asyncio.QueueFull:
            self.overflowed = True


class Hub:
    """Indexes streams by account and by book; runs on the server's event loop."""

    def __init__(self) -> None:
        self._by_account: defaultdict[str, set[Subscriber]] = defaultdict(set)
        self._by_book: defaultdict[str, set[Subscriber]] = defaultdict(set)

    @property
    def streams(self) -> int:
        return sum(len(s) for s in self._by_account.values())

    def attach(self, subscriber: Subscriber) -> None:
        self._by_account[subscriber.account_id].add(subscriber)

    def watch(self, subscriber: Subscriber, book_id: str, viewer: Viewer | None) -> None:
        """Follow a book with this place in it; None stops following it."""
        if viewer is None:
            subscriber.viewers.pop(book_id, None)
            self._discard(self._by_book, book_id, subscriber)
        else:
            subscriber.viewers[book_id] = viewer
            self._by_book[book_id].add(subscriber)

    def detach(self, subscriber: Subscriber) -> None:
        self._discard(self._by_account, subscriber.account_id, subscriber)
        for book_id in list(subscriber.viewers):
            self._discard(self._by_book, book_id, subscriber)

    @staticmethod
    def _discard(index: defaultdict[str, set[Subscriber]], key: str, sub: Subscriber) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(sub)
            if not members:
                del index[key]

    def deliver(self, event: Event) -> None:
        candidates: set[Subscriber] = set()
        for key, index in (
            (event.account_id, self._by_account),
            (event.subject_id, self._by_account),
            (event.book_id, self._by_book),
        ):
            if key is not None and key in index:
                candidates |= index[key]
        for subscriber in candidates:
            if subscriber.wants(event):
                subscriber.offer(event)
