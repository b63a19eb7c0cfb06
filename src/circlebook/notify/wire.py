"""Events in their wire form: the record the log stores and the brokers carry, and the SSE frame.

The one place an event becomes names and strings and back. A record holds the
event's `type`, its `data` (what a client is told: ids and a sync token) and
what routing needs; the stored row and the broker's JSON message are that
record, and an SSE frame carries its `data`.
"""

from __future__ import annotations

from typing import Any

import orjson

from circlebook.domain.events import (
    AccountEvent,
    BookChanged,
    BookLeft,
    BookOwnerChanged,
    Event,
    InvitationAccepted,
    InvitationDeclined,
    InvitationReceived,
    InvitationRevoked,
)

# The keys of each kind's `data`, in the order clients have always been sent them.
_DATA: dict[type[Event], tuple[str, ...]] = {
    InvitationReceived: ("invitation_id", "book_id"),
    InvitationRevoked: ("invitation_id", "book_id"),
    InvitationAccepted: ("invitation_id", "book_id", "entry_id"),
    InvitationDeclined: ("invitation_id", "book_id"),
    BookChanged: ("book_id", "sync_token"),
    BookLeft: ("book_id",),
    BookOwnerChanged: ("book_id",),
}
_KINDS: dict[str, type[Event]] = {kind.type.value: kind for kind in _DATA}


class UnknownEventError(ValueError):
    """A record names a type of event this server does not know."""


def data(event: Event) -> dict[str, str]:
    """What a client is told of the event."""
    return {key: getattr(event, key) for key in _DATA[type(event)]}


def _tags(value: list[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def _listed(tags: frozenset[str] | None) -> list[str] | None:
    return None if tags is None else sorted(tags)


def record(event: Event) -> dict[str, Any]:
    """The event as one flat record: what the log stores and the brokers carry."""
    changed = event if isinstance(event, BookChanged) else None
    return {
        "id": event.id,
        "type": event.type.value,
        "data": data(event),
        # An account's event is routed by the account, a book's by the book.
        "account_id": event.account_id if isinstance(event, AccountEvent) else None,
        "book_id": None if changed is None else changed.book_id,
        "subject_id": None if changed is None else changed.subject_id,
        "old_tags": None if changed is None else _listed(changed.old_tags),
        "new_tags": None if changed is None else _listed(changed.new_tags),
        "created_at": event.created_at,
        "version": None if changed is None else changed.version,
    }


def from_record(raw: dict[str, Any]) -> Event:
    """The event a record holds; UnknownEventError for a type this server does not know."""
    kind = _KINDS.get(raw["type"])
    if kind is None:
        raise UnknownEventError(f"unknown event type {raw['type']!r}")
    given: dict[str, Any] = {key: raw["data"][key] for key in _DATA[kind]}
    given.update(created_at=raw["created_at"], id=raw["id"])
    if issubclass(kind, AccountEvent):
        given["account_id"] = raw["account_id"]
    if kind is BookChanged:
        given.update(
            subject_id=raw["subject_id"],
            old_tags=_tags(raw["old_tags"]),
            new_tags=_tags(raw["new_tags"]),
            # An instance not yet upgraded sends none: then no replay floor applies.
            version=raw.get("version"),
        )
    return kind(**given)


def dumps(event: Event) -> str:
    """The event as a message between server instances."""
    return orjson.dumps(record(event)).decode()


def loads(text: str | bytes) -> Event:
    return from_record(orjson.loads(text))
