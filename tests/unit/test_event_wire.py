"""Each kind of event crosses the wire and comes back the same, in the form clients know."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator

import orjson
import pytest

from circlebook.api.routes.events import frame
from circlebook.domain.events import (
    BookChanged,
    BookLeft,
    BookOwnerChanged,
    Event,
    EventType,
    InvitationAccepted,
    InvitationDeclined,
    InvitationReceived,
    InvitationRevoked,
)
from circlebook.notify import wire
from circlebook.notify.relay import Relay

AT = "2026-03-01T09:00:00.000000Z"

# One of each kind, numbered, with every field set, and the `data` line its SSE frame
# has always carried (the keys in this order).
EXAMPLES: list[tuple[Event, str]] = [
    (
        InvitationReceived(account_id="a1", invitation_id="i1", book_id="b1", created_at=AT, id=7),
        '{"invitation_id":"i1","book_id":"b1","type":"invitation.received"}',
    ),
    (
        InvitationRevoked(account_id="a1", invitation_id="i1", book_id="b1", created_at=AT, id=8),
        '{"invitation_id":"i1","book_id":"b1","type":"invitation.revoked"}',
    ),
    (
        InvitationAccepted(
            account_id="a1", invitation_id="i1", book_id="b1", entry_id="e1", created_at=AT, id=9
        ),
        '{"invitation_id":"i1","book_id":"b1","entry_id":"e1","type":"invitation.accepted"}',
    ),
    (
        InvitationDeclined(account_id="a1", invitation_id="i1", book_id="b1", created_at=AT, id=10),
        '{"invitation_id":"i1","book_id":"b1","type":"invitation.declined"}',
    ),
    (
        BookChanged(
            book_id="b1",
            sync_token="tok",
            subject_id="a2",
            old_tags=frozenset(),
            new_tags=frozenset({"red", "blue"}),
            version=4,
            created_at=AT,
            id=11,
        ),
        '{"book_id":"b1","sync_token":"tok","type":"book.changed"}',
    ),
    (
        BookLeft(account_id="a1", book_id="b1", created_at=AT, id=12),
        '{"book_id":"b1","type":"book.left"}',
    ),
    (
        BookOwnerChanged(account_id="a1", book_id="b1", created_at=AT, id=13),
        '{"book_id":"b1","type":"book.owner_changed"}',
    ),
]


def test_the_examples_cover_every_kind_of_event() -> None:
    assert {event.type for event, _ in EXAMPLES} == set(EventType)


@pytest.mark.parametrize(("event", "sse_data"), EXAMPLES, ids=lambda e: type(e).__name__)
def test_each_kind_of_event_comes_back_the_same_from_a_broker_message(
    event: Event, sse_data: str
) -> None:
    assert wire.loads(wire.dumps(event)) == event
    assert wire.from_record(wire.record(event)) == event


@pytest.mark.parametrize(("event", "sse_data"), EXAMPLES, ids=lambda e: type(e).__name__)
def test_each_kind_of_event_is_framed_as_clients_have_always_read_it(
    event: Event, sse_data: str
) -> None:
    name = event.type.value
    assert frame(event) == f"id: {event.id}\nevent: {name}\ndata: {sse_data}\n\n".encode()


def test_a_broker_message_keeps_the_form_every_instance_reads() -> None:
    changed = EXAMPLES[4][0]
    assert wire.dumps(changed) == (
        '{"id":11,"type":"book.changed","data":{"book_id":"b1","sync_token":"tok"},'
        '"account_id":null,"book_id":"b1","subject_id":"a2","old_tags":[],'
        '"new_tags":["blue","red"],"created_at":"2026-03-01T09:00:00.000000Z","version":4}'
    )
    left = EXAMPLES[5][0]
    # An account's event is routed by the account alone: the book is only in its data.
    assert orjson.loads(wire.dumps(left)) == {
        "id": 12,
        "type": "book.left",
        "data": {"book_id": "b1"},
        "account_id": "a1",
        "book_id": None,
        "subject_id": None,
        "old_tags": None,
        "new_tags": None,
        "created_at": AT,
        "version": None,
    }


def test_a_message_from_an_instance_without_versions_has_no_replay_floor() -> None:
    record = wire.record(EXAMPLES[4][0])
    del record["version"]
    event = wire.from_record(record)
    assert isinstance(event, BookChanged)
    assert event.version is None


def test_an_unknown_type_of_event_is_refused_by_name() -> None:
    record = wire.record(EXAMPLES[5][0]) | {"type": "book.exploded"}
    with pytest.raises(wire.UnknownEventError, match=r"unknown event type 'book\.exploded'"):
        wire.from_record(record)
    with pytest.raises(ValueError, match=r"book\.exploded"):
        wire.loads(orjson.dumps(record))


def test_a_relay_drops_a_message_of_an_unknown_type_and_hears_the_next(
    caplog: pytest.LogCaptureFixture,
) -> None:
    unknown = orjson.dumps(wire.record(EXAMPLES[5][0]) | {"type": "book.exploded"})
    known = wire.dumps(EXAMPLES[6][0])

    class Once(Relay):
        async def _messages(self) -> AsyncIterator[str | bytes]:
            self._connected()
            yield unknown
            yield known
            await asyncio.Event().wait()

    heard: list[Event] = []

    async def run() -> None:
        relay = Once()
        await relay.start(heard.append)
        for _ in range(100):
            if heard:
                break
            await asyncio.sleep(0.01)
        await relay.stop()

    with caplog.at_level(logging.WARNING, logger="circlebook.notify"):
        asyncio.run(run())
    assert heard == [EXAMPLES[6][0]]
    assert "unknown event type 'book.exploded'" in caplog.text
