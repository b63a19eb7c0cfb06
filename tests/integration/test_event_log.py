"""The event log on each backend: replay in order, pruning after a week, resync past it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient

from circlebook.services import auth, events
from circlebook.services.ports import Runtime
from tests.conftest import FakeClock

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
