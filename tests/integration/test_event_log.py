"""The event log on each backend: replay in order, pruning after a week, resync past it."""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from circlebook.services import auth, events
from circlebook.services.runtime import Runtime
from circlebook.storage.events import SqlEvents
from circlebook.storage.schema import events as events_table
from tests.conftest import FakeClock
from tests.unit.test_event_wire import EXAMPLES

OWNER, FRIEND = "+8613800138601", "+8613800138602"


def test_log_replays_an_accounts_events_in_order_then_forgets_them_after_a_week(
    client: TestClient, people: Any, clock: FakeClock
) -> None:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    with rt.uow() as uow:
        start = uow.events.last_id()  # the log may hold earlier tests' events
    owner, friend = people(OWNER, "Owner"), people(FRIEND, "Friend")
    book = owner.post("/v1/books", json={"title": "Log", "invitees": [{"phone": FRIEND}]}).json()
    friend.accept(book["id"])
    account = auth.authenticate(rt, owner.token)
    replayed = events.missed(rt, account, start, [book["id"]])
    assert replayed is not None
    assert [e.type.value for e in replayed] == [
        "book.changed",  # the new book, for the owner's other devices
        "invitation.accepted",
        "book.changed",
    ]
    assert [e.id for e in replayed] == sorted(e.id for e in replayed)
    clock.advance(days=8)
    events.prune(rt)
    assert events.missed(rt, account, start, [book["id"]]) == []
    owner.patch(f"/v1/books/{book['id']}", json={"title": "Log 2"})
    assert events.missed(rt, account, start, [book["id"]]) is None  # what it missed is gone


def test_invitation_waiting_for_a_sign_up_is_announced_when_the_number_signs_up(
    client: TestClient, people: Any
) -> None:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    owner = people(OWNER, "Owner")
    book = owner.post("/v1/books", json={"title": "Wait", "invitees": [{"phone": FRIEND}]}).json()
    with rt.uow() as uow:
        before = uow.events.last_id()
    friend = people(FRIEND, "Friend")  # signs up only now
    account = auth.authenticate(rt, friend.token)
    heard = events.missed(rt, account, before, [])
    assert heard is not None
    assert [(e.type.value, e.book_id) for e in heard] == [("invitation.received", book["id"])]


def test_a_removed_member_is_told_it_left(client: TestClient, people: Any) -> None:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    owner, friend = people(OWNER, "Owner"), people(FRIEND, "Friend")
    book = owner.post("/v1/books", json={"title": "Out", "invitees": [{"phone": FRIEND}]}).json()
    entry = friend.accept(book["id"])["entry_id"]
    with rt.uow() as uow:
        before = uow.events.last_id()
    assert owner.delete(f"/v1/books/{book['id']}/entries/{entry}").status_code == 204
    heard = events.missed(rt, auth.authenticate(rt, friend.token), before, [])
    assert heard is not None
    assert [e.type.value for e in heard] == ["book.left"]


def test_a_dissolved_books_history_goes_with_it_but_its_members_are_told(
    client: TestClient, people: Any, engine: Engine
) -> None:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    owner, friend = people(OWNER, "Owner"), people(FRIEND, "Friend")
    book = owner.post("/v1/books", json={"title": "Gone", "invitees": [{"phone": FRIEND}]}).json()
    friend.accept(book["id"])
    owner.patch(f"/v1/books/{book['id']}", json={"title": "Gone soon"})
    with rt.uow() as uow:
        before = uow.events.last_id()
    assert owner.delete(f"/v1/books/{book['id']}").status_code == 204
    with engine.connect() as conn:
        left = conn.execute(
            select(func.count()).where(events_table.c.book_id == book["id"])
        ).scalar_one()
    assert left == 0
    for person in (owner, friend):
        heard = events.missed(rt, auth.authenticate(rt, person.token), before, [])
        assert heard is not None
        assert [(e.type.value, e.book_id) for e in heard] == [("book.left", book["id"])]


def test_each_kind_of_event_comes_back_the_same_from_its_stored_row(engine: Engine) -> None:
    with engine.begin() as conn:
        log = SqlEvents(conn)
        stored = [log.add(replace(event, id=0)) for event, _ in EXAMPLES]
        read = log.after(0, "a1", ["b1"])
        row = conn.execute(select(events_table).where(events_table.c.id == stored[4].id)).one()
    assert read == stored
    assert [type(e) for e in read] == [type(e) for e, _ in EXAMPLES]
    # The row's form, which every instance and every earlier release reads.
    assert (row.type, row.data, row.old_tags, row.new_tags, row.version) == (
        "book.changed",
        '{"book_id":"b1","sync_token":"tok"}',
        "",
        "blue,red",
        4,
    )
