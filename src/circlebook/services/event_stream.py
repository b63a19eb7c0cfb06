"""One account's event stream: what it missed, then every event as it is committed.

The edge frames what `follow` yields and writes it out; the rules that make a
stream resumable without a gap or a repeat live here: attach before reading
where the log stands, replay from the client's Last-Event-ID (or tell it to
resync when the log no longer reaches back that far), skip what the replay
already sent, and keep the stream's place in each book current as the account
joins and leaves books.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TypeVar

from anyio.to_thread import run_sync

from circlebook.domain.events import BookChanged, BookLeft, Event
from circlebook.domain.model import Account
from circlebook.domain.numbers import whole_number
from circlebook.services import events
from circlebook.services.ports import Listener, Signal, Subscriptions
from circlebook.services.runtime import Runtime

L = TypeVar("L", bound=Listener)


@dataclass(frozen=True, slots=True)
class Resync:
    """The stream cannot tell the client all it missed: it fetches its books in full."""

    last_id: int


@dataclass(frozen=True, slots=True)
class Ready:
    """The replay is over: from here on every event reaches the stream live."""

    last_event_id: int


# What a stream hears, in order; of the signals only KEEP_ALIVE is ever yielded.
Heard = Event | Resync | Ready | Signal


@dataclass(slots=True)
class _Replay:
    events: list[Event]
    # Where the stream stands once the replay is sent: the last event id it covers.
    cursor: int
    resync: bool


async def follow(
    rt: Runtime,
    subscriptions: Subscriptions[L],
    listener: L,
    account: Account,
    last_event_id: str | None,
) -> AsyncGenerator[Heard, None]:
    """The account's events after `last_event_id` (None: from now), then live ones."""
    # Attach before reading where the log stands, so nothing committed in between
    # is lost: it arrives live, or in the replay below, and duplicates are skipped.
    subscriptions.attach(listener)
    try:
        replay = await _replay(rt, subscriptions, listener, account, last_event_id)
        if replay.resync:
            yield Resync(replay.cursor)
        heard: Event | Signal
        for heard in replay.events:
            if listener.wants(heard):
                await _follow_book(rt, subscriptions, listener, account, heard)
                yield heard
        cursor = replay.cursor
        # An open stream may last hours: it keeps no replay all along (and the
        # last event it sent, only until it hears the next thing).
        del replay
        yield Ready(cursor)
        while True:
            heard = await listener.next()
            if heard is Signal.CLOSED:
                return
            if heard is Signal.KEEP_ALIVE:
                yield heard
                continue
            if listener.overflowed:
                yield Resync(cursor)
                return  # the client reconnects and fetches in full
            if heard.id <= cursor:
                continue  # the replay sent it already
            cursor = heard.id
            await _follow_book(rt, subscriptions, listener, account, heard)
            yield heard
    finally:
        subscriptions.detach(listener)


async def _replay(
    rt: Runtime,
    subscriptions: Subscriptions[L],
    listener: L,
    account: Account,
    last_event_id: str | None,
) -> _Replay:
    subscription = await run_sync(events.subscribe, rt, account)
    for book_id, viewer in subscription.viewers.items():
        subscriptions.watch(listener, book_id, viewer)
    after = subscription.last_id
    if last_event_id is not None:
        # An id this server could not have sent is unknown: the client resyncs.
        known = whole_number(last_event_id)
        after = -1 if known is None else known
    start = max(after, 0)
    missed = await run_sync(events.missed, rt, account, start, list(listener.viewers))
    if missed is None or after < 0:
        return _Replay([], subscription.last_id, resync=True)
    return _Replay(missed, missed[-1].id if missed else start, resync=False)


async def _follow_book(
    rt: Runtime, subscriptions: Subscriptions[L], listener: L, account: Account, event: Event
) -> None:
    """Keep the listener's place in a book current after an event about its own entry."""
    if isinstance(event, BookLeft):
        subscriptions.watch(listener, event.book_id, None)
    elif isinstance(event, BookChanged) and event.subject_id == account.id:
        viewer = await run_sync(events.viewer_of, rt, account, event.book_id)
        subscriptions.watch(listener, event.book_id, viewer)
