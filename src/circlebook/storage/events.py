"""The event log: numbered in commit order, read by id, pruned by age."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

import orjson
from sqlalchemy import Label, Row, delete, func, insert, select
from sqlalchemy.engine import Connection

from circlebook.domain.events import Event, EventType
from circlebook.domain.tags import join_tags, split_tags
from circlebook.notify import wire
from circlebook.storage.aliases import replace_per_book
from circlebook.storage.schema import events

# Built once, as every change runs it (see storage.accounts).
_ADD_EVENT = insert(events).returning(events.c.id)


# Tags are a sorted list in a record, one comma-joined text in a row.
def _tags_listed(text: str | None) -> list[str] | None:
    return None if text is None else sorted(split_tags(text))


def _tags_joined(tags: list[str] | None) -> str | None:
    return None if tags is None else join_tags(frozenset(tags))


def _row_of(event: Event) -> dict[str, Any]:
    """The event's wire record as a row: `data` as JSON text, tags joined."""
    row = wire.record(event)
    del row["id"]  # drawn by the database
    row.update(
        data=orjson.dumps(row["data"]).decode(),
        old_tags=_tags_joined(row["old_tags"]),
        new_tags=_tags_joined(row["new_tags"]),
    )
    return row


def event_columns(prefix: str) -> list[Label[Any]]:
    """The log's columns named `prefix` + name, to read an event beside another table's row."""
    return [column.label(prefix + column.name) for column in events.c]


def event_from_row(row: Row[*tuple[Any, ...]], prefix: str = "") -> Event:
    """The event a row holds (its columns named as `event_columns` names them): its record,
    with `data` parsed and tags split."""
    raw = {column.name: getattr(row, prefix + column.name) for column in events.c}
    raw.update(
        data=orjson.loads(raw["data"]),
        old_tags=_tags_listed(raw["old_tags"]),
        new_tags=_tags_listed(raw["new_tags"]),
    )
    return wire.from_record(raw)


# Any constant: the key of the advisory lock that orders event ids on PostgreSQL.
# The consent ledger takes the same one: every change that writes a ledger record
# records events too, and one lock held to commit cannot deadlock with another.
ORDER_LOCK = 7_250_101
TAKE_ORDER_LOCK = select(func.pg_advisory_xact_lock(ORDER_LOCK))


class OrderLock:
    """The lock that orders event ids (and ledger records), taken at most once a transaction.

    On PostgreSQL it is held to the end of the transaction once taken, so asking
    again would be one more round trip for nothing; a rollback to a savepoint
    gives it back, which the unit of work notes in `held`. SQLite's writers take
    turns already: there it counts as held from the start.
    """

    def __init__(self, conn: Connection) -> None:
        self.conn = conn
        self.held = conn.dialect.name != "postgresql"

    def take(self) -> None:
        if not self.held:
            self.conn.execute(TAKE_ORDER_LOCK)
            self.held = True


class SqlEvents:
    _ORDER_LOCK = ORDER_LOCK

    def __init__(self, conn: Connection, order: OrderLock | None = None) -> None:
        self.conn = conn
        self.order = order or OrderLock(conn)

    def add(self, event: Event) -> Event:
        # On PostgreSQL ids come from a sequence, and concurrent transactions could
        # commit 11 before 10; a reader resuming after 11 would then miss 10. Taking
        # this lock until commit makes ids commit in the order they are drawn.
        self.order.take()
        event_id = self.conn.execute(_ADD_EVENT, _row_of(event)).scalar_one()
        return event.numbered(int(event_id))

    def after(self, event_id: int, account_id: str, book_ids: Sequence[str]) -> list[Event]:
        """Events after `event_id` addressed to the account or to one of its books, in order."""
        audience = events.c.account_id == account_id
        if book_ids:
            audience = audience | events.c.book_id.in_(book_ids)
        rows = self.conn.execute(
            select(events).where(events.c.id > event_id, audience).order_by(events.c.id)
        )
        return [event_from_row(r) for r in rows]

    def first_id(self) -> int | None:
        return self.conn.execute(select(func.min(events.c.id))).scalar_one_or_none()

    def last_id(self) -> int:
        return int(self.conn.execute(select(func.coalesce(func.max(events.c.id), 0))).scalar_one())

    def prune_before(self, cutoff: str) -> None:
        self.conn.execute(delete(events).where(events.c.created_at < cutoff))

    def forget_invitations(self, invitation_ids: Sequence[str]) -> None:
        """Delete the `invitation.received` notices of these (deleted) invitations.

        The invitation's id is only in the notice's data, so the notices are read
        and matched here; the log keeps a week of them, which keeps this small.
        """
        wanted = set(invitation_ids)
        rows = self.conn.execute(
            select(events.c.id, events.c.data).where(
                events.c.type == EventType.INVITATION_RECEIVED.value
            )
        )
        doomed = [r.id for r in rows if orjson.loads(r.data).get("invitation_id") in wanted]
        for start in range(0, len(doomed), 500):
            self.conn.execute(delete(events).where(events.c.id.in_(doomed[start : start + 500])))

    def forget_account(self, account_id: str) -> None:
        """Delete the events addressed to the account."""
        self.conn.execute(delete(events).where(events.c.account_id == account_id))

    def replace_subject(self, account_id: str, alias: Callable[[str], str]) -> None:
        """Put `alias(book_id)` where the account is the subject of a book's event."""
        replace_per_book(self.conn, events.c.subject_id, account_id, alias)
