"""Departures: who left a book's view at which version, kept for delta sync."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from sqlalchemy import Row, bindparam, delete, func, insert, select, update
from sqlalchemy.engine import Connection

from circlebook.domain.model import Departure
from circlebook.domain.tags import join_tags, split_tags
from circlebook.storage.aliases import replace_per_book
from circlebook.storage.schema import books, departures

# Built once, as every sync from a token runs them (see storage.accounts).
_DEPARTURES_SINCE = (
    select(departures)
    .where(departures.c.book_id == bindparam("book_id"), departures.c.version > bindparam("since"))
    .order_by(departures.c.version)
)
_SYNC_FLOOR = select(books.c.sync_floor).where(books.c.id == bindparam("book_id"))


def _departure_from_row(row: Row[Any]) -> Departure:
    return Departure(row.entry_id, row.account_id, split_tags(row.old_tags), row.version)


class SqlDepartures:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, book_id: str, departure: Departure, at: str) -> None:
        self.conn.execute(
            insert(departures).values(
                book_id=book_id,
                entry_id=departure.entry_id,
                account_id=departure.account_id,
                old_tags=join_tags(departure.old_tags),
                version=departure.version,
                created_at=at,
            )
        )

    def floor(self, book_id: str) -> int:
        """The newest version whose departures are gone: tokens before it cannot be answered."""
        value = self.conn.execute(_SYNC_FLOOR, {"book_id": book_id}).scalar_one_or_none()
        return int(value or 0)

    def prune_before(self, cutoff: str) -> None:
        """Delete departures older than `cutoff`, raising each book's floor past them first.

        Versions grow with time within a book, so a token issued after `cutoff`
        names a version at or above every departure deleted here.
        """
        old = departures.c.created_at < cutoff
        reached = self.conn.execute(
            select(departures.c.book_id, func.max(departures.c.version))
            .where(old)
            .group_by(departures.c.book_id)
        ).all()
        for book_id, version in reached:
            self.conn.execute(
                update(books)
                .where(books.c.id == book_id, books.c.sync_floor < version)
                .values(sync_floor=version)
            )
        self.conn.execute(delete(departures).where(old))

    def replace_account(self, account_id: str, alias: Callable[[str], str]) -> None:
        """Put `alias(book_id)` where the account's id is, book by book."""
        replace_per_book(self.conn, departures.c.account_id, account_id, alias)

    def since(self, book_id: str, version: int) -> list[Departure]:
        rows = self.conn.execute(_DEPARTURES_SINCE, {"book_id": book_id, "since": version})
        return [_departure_from_row(r) for r in rows]
