"""The streams open in this process, and handing each event to those it may concern.

A server may hold ten thousand streams that are idle nearly all the time, so an
open stream costs as little as it can: a subscriber here, its list of events
not yet sent, and one future while it waits. There is no queue, timer or task
per stream: one heartbeat tick for the whole hub tells a slice of the streams
at a time to send a keep-alive, so every stream hears one each heartbeat and
the writes are spread over the heartbeat rather than made all at once.
"""

from __future__ import annotations

import asyncio
from collections import defaultdict

from circlebook.domain.events import AccountEvent, BookChanged, Event, concerns
from circlebook.domain.visibility import Viewer
from circlebook.services.ports import Signal

__all__ = ["DEFAULT_HEARTBEAT", "QUEUE_LIMIT", "SLICES", "Hub", "Signal", "Subscriber"]

QUEUE_LIMIT = 512
# The heartbeat tick wakes one slice of the streams every heartbeat / SLICES seconds.
SLICES = 16
DEFAULT_HEARTBEAT = 15.0


class Subscriber:
    """One open event stream of one account, with its place in each of its books."""

    __slots__ = ("_beat", "_closed", "_pending", "_waiter", "account_id", "overflowed", "viewers")

    def __init__(self, account_id: str) -> None:
        self.account_id = account_id
        self.viewers: dict[str, Viewer] = {}
        # Set when the stream fell too far behind to be sent every event.
        self.overflowed = False
        self._pending: list[Event] = []
        self._waiter: asyncio.Future[None] | None = None
        self._beat = False
        self._closed = False

    def wants(self, event: Event) -> bool:
        if isinstance(event, AccountEvent):
            return event.account_id == self.account_id
        if not isinstance(event, BookChanged):
            return False
        viewer = self.viewers.get(event.book_id)
        if viewer is not None and event.version is not None and event.version < viewer.tags_version:
            return False  # from before its place in the book: a replay starts no earlier
        if event.subject_id == self.account_id:
            return True  # its own entry: joined, renamed, retagged or removed
        return viewer is not None and concerns(viewer, event)

    def offer(self, event: Event) -> None:
        if len(self._pending) >= QUEUE_LIMIT:
            self.overflowed = True
        else:
            self._pending.append(event)
        self._wake()

    def beat(self) -> None:
        """Ask for a keep-alive, unless an event is about to be sent anyway."""
        if not self._pending:
            self._beat = True
            self._wake()

    def close(self) -> None:
        """The client went away: the stream ends once it has noticed."""
        self._closed = True
        self._wake()

    def take(self) -> Event | None:
        """The next event waiting, without waiting for one."""
        return self._pending.pop(0) if self._pending else None

    async def next(self) -> Event | Signal:
        """The next event, or a keep-alive when one is due, or CLOSED; waits for one of them."""
        while True:
            if self._closed:
                return Signal.CLOSED
            if self._pending:
                return self._pending.pop(0)
            if self._beat:
                self._beat = False
                return Signal.KEEP_ALIVE
            self._waiter = asyncio.get_running_loop().create_future()
            try:
                await self._waiter
            finally:
                self._waiter = None

    def _wake(self) -> None:
        if self._waiter is not None and not self._waiter.done():
            self._waiter.set_result(None)


class Hub:
    """Indexes streams by account and by book; runs on the server's event loop.

    The event streams' `Subscriptions` (services.ports), over `Subscriber`s.
    """

    def __init__(self, heartbeat: float = DEFAULT_HEARTBEAT) -> None:
        self._by_account: defaultdict[str, set[Subscriber]] = defaultdict(set)
        self._by_book: defaultdict[str, set[Subscriber]] = defaultdict(set)
        self._heartbeat = heartbeat
        self._slices: list[set[Subscriber]] = [set() for _ in range(SLICES)]
        self._slice_of: dict[Subscriber, int] = {}
        self._attached = 0
        self._turn = 0
        self._tick: asyncio.TimerHandle | None = None

    @property
    def streams(self) -> int:
        return len(self._slice_of)

    def attach(self, subscriber: Subscriber) -> None:
        self._by_account[subscriber.account_id].add(subscriber)
        # Round robin, so each slice holds about as many streams as the others.
        where = self._attached % SLICES
        self._attached += 1
        self._slices[where].add(subscriber)
        self._slice_of[subscriber] = where
        if self._tick is None:
            self._schedule()

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
        where = self._slice_of.pop(subscriber, None)
        if where is not None:
            self._slices[where].discard(subscriber)
        if not self._slice_of and self._tick is not None:
            self._tick.cancel()
            self._tick = None

    @staticmethod
    def _discard(index: defaultdict[str, set[Subscriber]], key: str, sub: Subscriber) -> None:
        members = index.get(key)
        if members is not None:
            members.discard(sub)
            if not members:
                del index[key]

    def deliver(self, event: Event) -> None:
        candidates: set[Subscriber] = set()
        for key, index in self._routes(event):
            if key is not None and key in index:
                candidates |= index[key]
        for subscriber in candidates:
            if subscriber.wants(event):
                subscriber.offer(event)

    def _routes(self, event: Event) -> list[tuple[str | None, defaultdict[str, set[Subscriber]]]]:
        """Where the streams an event may concern are found: by account, or by book."""
        if isinstance(event, BookChanged):
            return [(event.subject_id, self._by_account), (event.book_id, self._by_book)]
        if isinstance(event, AccountEvent):
            return [(event.account_id, self._by_account)]
        return []

    def _schedule(self) -> None:
        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            return  # driven by hand, off any loop (as in unit tests): nothing to keep alive
        self._tick = loop.call_later(self._heartbeat / SLICES, self._beat)

    def _beat(self) -> None:
        """One tick: the streams of one slice send a keep-alive; the next tick, the next slice."""
        for subscriber in self._slices[self._turn]:
            subscriber.beat()
        self._turn = (self._turn + 1) % SLICES
        self._schedule()
