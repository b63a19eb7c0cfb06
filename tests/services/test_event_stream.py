"""The event stream's resume rules, without HTTP: a fake subscription over a real SQLite log."""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from circlebook.composition import policy_from
from circlebook.domain.events import (
    AccountEvent,
    BookChanged,
    BookLeft,
    Event,
    EventType,
    InvitationReceived,
)
from circlebook.domain.model import Account, Book, Entry, Role
from circlebook.domain.visibility import Viewer
from circlebook.services import event_stream, events
from circlebook.services.event_stream import Heard, Ready, Resync
from circlebook.services.ports import Signal
from circlebook.services.runtime import Runtime
from circlebook.settings import load_settings
from circlebook.sms import ConsoleSender
from circlebook.storage.database import make_engine
from circlebook.storage.group_commit import GroupCommit
from circlebook.storage.unit_of_work import SqlUnitOfWorkFactory
from tests.conftest import SECRET, FakeClock, an_entry

ME, OTHER = "acc_me", "acc_other"
AT = "2026-03-01T09:00:00Z"
LONG_AGO = "2026-01-01T09:00:00Z"


class FakeListener:
    """One stream; when it has nothing to hear it runs the next step of the test, else closes."""

    def __init__(self, account_id: str, steps: Sequence[Callable[[], None]] = ()) -> None:
        self.account_id = account_id
        self.viewers: dict[str, Viewer] = {}
        self.overflowed = False
        self.pending: list[Event] = []
        self.steps = list(steps)

    def wants(self, event: Event) -> bool:
        if isinstance(event, AccountEvent):
            return event.account_id == self.account_id
        assert isinstance(event, BookChanged)
        viewer = self.viewers.get(event.book_id)
        if viewer is not None and (event.version or 0) < viewer.tags_version:
            return False  # from before its place in the book
        return event.subject_id == self.account_id or viewer is not None

    async def next(self) -> Event | Signal:
        while not self.pending and self.steps:
            self.steps.pop(0)()
        return self.pending.pop(0) if self.pending else Signal.CLOSED


class FakeSubscriptions:
    """The streams of this process, and the publisher the unit of work hands committed events."""

    def __init__(self) -> None:
        self.attached: list[FakeListener] = []

    def attach(self, listener: FakeListener) -> None:
        self.attached.append(listener)

    def watch(self, listener: FakeListener, book_id: str, viewer: Viewer | None) -> None:
        if viewer is None:
            listener.viewers.pop(book_id, None)
        else:
            listener.viewers[book_id] = viewer

    def detach(self, listener: FakeListener) -> None:
        self.attached.remove(listener)

    def publish(self, committed: Sequence[Event]) -> None:
        for listener in self.attached:
            listener.pending += [e for e in committed if listener.wants(e)]


@dataclass
class World:
    rt: Runtime
    hub: FakeSubscriptions
    me: Account

    def commit(self, *recorded: Event, entries: Sequence[Entry] = (), gone: str = "") -> list[int]:
        """Record these events (and add or remove entries) in one transaction; their ids."""
        with self.rt.uow(write=True) as uow:
            for entry in entries:
                uow.entries.add(entry)
            if gone:
                uow.entries.remove(gone)
            ids = [uow.events.add(e).id for e in recorded]
            uow.commit()
        return ids

    def hear(self, listener: FakeListener, last_event_id: str | None = None) -> list[Heard]:
        async def run() -> list[Heard]:
            stream = event_stream.follow(self.rt, self.hub, listener, self.me, last_event_id)
            return [heard async for heard in stream]

        return asyncio.run(run())


@pytest.fixture
def world(tmp_path: Path, sqlite_template: Path) -> Iterator[World]:
    path = tmp_path / "circlebook.db"
    shutil.copy(sqlite_template, path)
    engine = make_engine(f"sqlite:///{path}")
    hub = FakeSubscriptions()
    uow = SqlUnitOfWorkFactory(engine, hub)
    settings = load_settings(database_url="sqlite://", secret_key=SECRET)
    rt = Runtime(
        uow=uow,
        sms=ConsoleSender(),
        clock=FakeClock(),
        secret_key=SECRET.encode(),
        policy=policy_from(settings),
        background_sms=ConsoleSender(),
        group_commit=GroupCommit(uow, 1),
    )
    me = Account(ME, "+8613800000001", "Me", AT)
    with uow(write=True) as setup:
        setup.accounts.add(me)
        setup.accounts.add(Account(OTHER, "+8613800000002", "Other", AT))
        setup.books.add(Book("b1", "Shared", OTHER, 1, AT, AT))
        setup.entries.add(entry(OTHER, Role.OWNER))
        setup.commit()
    yield World(rt, hub, me)
    engine.dispose()


def entry(account_id: str, role: Role = Role.MEMBER, version: int = 1) -> Entry:
    phone = "+8613800000001" if account_id == ME else "+8613800000002"
    name = account_id.removeprefix("acc_")
    return an_entry(
        id=f"e_{name}",
        book_id="b1",
        account_id=account_id,
        phone=phone,
        name=name,
        role=role,
        created_at=AT,
        updated_at=AT,
        version=version,
    )


def invited(at: str = AT) -> Event:
    return InvitationReceived(invitation_id="i1", book_id="b1", account_id=ME, created_at=at)


def changed(version: int, subject: str | None = None) -> Event:
    return BookChanged(
        book_id="b1",
        sync_token=f"{version}.x",
        subject_id=subject,
        created_at=AT,
        version=version,
    )


def sent(heard: list[Heard]) -> list[int]:
    return [h.id for h in heard if isinstance(h, Event)]


def test_an_event_committed_while_the_replay_is_read_reaches_the_stream_live(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    late: list[int] = []
    read_missed = events.missed

    def missed_then_commit(*args: object) -> list[Event] | None:
        replay = read_missed(*args)  # type: ignore[arg-type]
        late.extend(world.commit(invited()))  # after the replay was read, before the live part
        return replay

    monkeypatch.setattr(events, "missed", missed_then_commit)
    heard = world.hear(FakeListener(ME))
    assert heard[0] == Ready(late[0] - 1)
    assert sent(heard) == late


def test_an_event_both_replayed_and_heard_live_is_sent_once(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    first, missed = world.commit(invited()), []
    read_where_the_log_stands = events.subscribe

    def subscribe_then_commit(rt: Runtime, account: Account) -> events.Subscription:
        subscription = read_where_the_log_stands(rt, account)
        missed.extend(world.commit(invited(), invited()))  # heard live and in the replay
        return subscription

    monkeypatch.setattr(events, "subscribe", subscribe_then_commit)
    heard = world.hear(FakeListener(ME), last_event_id=str(first[0]))
    assert sent(heard) == missed
    assert Ready(missed[-1]) in heard


def test_a_client_further_back_than_the_log_reaches_is_told_to_resync(world: World) -> None:
    old = world.commit(invited(LONG_AGO), invited(LONG_AGO))
    kept = world.commit(invited())
    events.prune(world.rt)  # a week after LONG_AGO: the first two are gone
    for last_event_id in (str(old[0]), "not-a-number"):
        heard = world.hear(FakeListener(ME), last_event_id)
        assert heard == [Resync(kept[0]), Ready(kept[0])]
    # Within the log, what was missed is replayed instead.
    assert sent(world.hear(FakeListener(ME), str(old[1]))) == kept


def test_a_stream_follows_a_book_once_joined_and_no_longer_once_left(world: World) -> None:
    heard_about_b1: list[int] = []

    def join() -> None:
        world.commit(changed(2, subject=ME), entries=[entry(ME, version=2)])

    def book_renamed() -> None:
        heard_about_b1.extend(world.commit(changed(3)))

    def leave() -> None:
        left = BookLeft(book_id="b1", account_id=ME, created_at=AT)
        world.commit(left, gone="e_me")

    def book_renamed_again() -> None:
        world.commit(changed(5))

    listener = FakeListener(ME, [join, book_renamed, leave, book_renamed_again])
    heard = world.hear(listener)
    assert [h.type for h in heard if isinstance(h, Event)] == [
        EventType.BOOK_CHANGED,  # joined: its own entry
        EventType.BOOK_CHANGED,  # the new title, heard as a member
        EventType.BOOK_LEFT,
    ]
    assert heard_about_b1[0] in sent(heard)
    assert listener.viewers == {}
    assert world.hub.attached == []  # the stream detached when it ended


def test_a_stream_that_fell_behind_is_told_to_resync_and_ends(world: World) -> None:
    class Overflowing(FakeListener):
        async def next(self) -> Event | Signal:
            heard = await super().next()
            self.overflowed = heard is not Signal.CLOSED
            return heard

    def two_events() -> None:
        world.commit(invited(), invited())

    heard = world.hear(Overflowing(ME, [two_events]))
    start = heard[0]
    assert isinstance(start, Ready)
    assert heard[1:] == [Resync(start.last_event_id)]


def test_a_replay_sends_only_what_the_listener_wants_and_keep_alives_pass_through(
    world: World,
) -> None:
    world.commit(entries=[entry(ME, version=4)])
    before_joining, after_joining = world.commit(changed(3), changed(4))

    class KeepAlive(FakeListener):
        beats = 1

        async def next(self) -> Event | Signal:
            if self.beats:
                self.beats -= 1
                return Signal.KEEP_ALIVE
            return await super().next()

    heard = world.hear(KeepAlive(ME), last_event_id="0")
    assert before_joining not in sent(heard)  # from before its place in the book
    assert sent(heard) == [after_joining]
    assert heard[-2:] == [Ready(after_joining), Signal.KEEP_ALIVE]
