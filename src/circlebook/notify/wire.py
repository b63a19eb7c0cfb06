"""Events as JSON, to cross from one server instance to another."""

from __future__ import annotations

from typing import Any

import orjson

from circlebook.domain.events import Event, EventType


def _tags(value: list[str] | None) -> frozenset[str] | None:
    return None if value is None else frozenset(value)


def dumps(event: Event) -> str:
    return orjson.dumps(
        {
            "id": event.id,
            "type": event.type.value,
            "data": event.data,
            "account_id": event.account_id,
            "book_id": event.book_id,
            "subject_id": event.subject_id,
            "old_tags": None if event.old_tags is None else sorted(event.old_tags),
            "new_tags": None if event.new_tags is None else sorted(event.new_tags),
            "created_at": event.created_at,
            "version": event.version,
        }
    ).decode()


def loads(text: str | bytes) -> Event:
    raw: dict[str, Any] = orjson.loads(text)
    return Event(
        type=EventType(raw["type"]),
        data=raw["data"],
        account_id=raw["account_id"],
        book_id=raw["book_id"],
        subject_id=raw["subject_id"],
        old_tags=_tags(raw["old_tags"]),
        new_tags=_tags(raw["new_tags"]),
        created_at=raw["created_at"],
        id=raw["id"],
        # An instance not yet upgraded sends none: then no replay floor applies.
        version=raw.get("version"),
    )
