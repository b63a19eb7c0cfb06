"""Books: their rows, versions, ownership, and the books an account belongs to."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Row, bindparam, delete, insert, select, update
from sqlalchemy.engine import Connection

from circlebook.domain.model import Book, Entry
from circlebook.storage.entries import ENTRY_ROW, entry_from_row
from circlebook.storage.schema import (
    accounts,
    book_views,
    books,
    departures,
    entries,
    events,
    invitations,
)

# Built once, as every small request runs them (see storage.accounts).
_BOOK = select(books).where(books.c.id == bindparam("book_id"))
_BOOK_VERSION = select(books.c.version).where(books.c.id == bindparam("book_id"))
# And this one every accept runs (services.answers.join), for the same reason:
# a writer holds the book's row, or SQLite's one write lock, while it builds it.
_BUMP = (
    update(books)
    .where(books.c.id == bindparam("book_id"))
    .values(version=books.c.version + 1, updated_at=bindparam("now"))
    .returning(*books.c)
)
_MEMBERSHIPS = (
    select(books, *ENTRY_ROW)
    .join(entries, entries.c.book_id == books.c.id)
    .join(accounts, accounts.c.id == entries.c.account_id)
    .where(entries.c.account_id == bindparam("account_id"))
    .order_by(books.c.created_at, books.c.id)
)


def book_from_row(row: Row[Any]) -> Book:
    """The one mapping of a `books` row, keyed by column: it holds in a join too."""
    m = row._mapping
    return Book(
        m[books.c.id],
        m[books.c.title],
        m[books.c.owner_id],
        m[books.c.version],
        m[books.c.created_at],
        m[books.c.updated_at],
    )


class SqlBooks:
    def __init__(self, conn: Connection) -> None:
        self.conn = conn

    def add(self, book: Book) -> None:
        self.conn.execute(
            insert(books).values(
                id=book.id,
                title=book.title,
                owner_id=book.owner_id,
                version=book.version,
                created_at=book.created_at,
                updated_at=book.updated_at,
            )
        )

    def get(self, book_id: str) -> Book | None:
        row = self.conn.execute(_BOOK, {"book_id": book_id}).first()
        return book_from_row(row) if row else None

    def version(self, book_id: str) -> int | None:
        return self.conn.execute(_BOOK_VERSION, {"book_id": book_id}).scalar_one_or_none()

    def bump(self, book_id: str, now: str, title: str | None = None) -> int:
        """Advance the book's version (locking its row) and return the new one."""
        if title is None:
            return self.advance(book_id, now).version
        values: dict[str, Any] = {"version": books.c.version + 1, "updated_at": now}
        if title is not None:
            values["title"] = title
        return int(
            self.conn.execute(
                update(books)
                .where(books.c.id == book_id)
                .values(**values)
                .returning(books.c.version)
            ).scalar_one()
        )

    def advance(self, book_id: str, now: str) -> Book:
        """Advance the book's version (locking its row); the book as it now is."""
        return book_from_row(self.conn.execute(_BUMP, {"book_id": book_id, "now": now}).one())

    def set_owner(self, book_id: str, account_id: str) -> None:
        self.conn.execute(update(books).where(books.c.id == book_id).values(owner_id=account_id))

    def remove(self, book_id: str) -> None:
        # Children first: SQLite enforces ON DELETE CASCADE only with foreign keys
        # on, and being explicit keeps "all its data goes" true on any connection.
        # The events addressed to the book (its `book.changed` history) go too: the
        # log replays them only to the book's members, and it will have none. Events
        # addressed to accounts carry the book's id in their data, not in this
        # column, so the `book.left` that tells each member the book is gone stays.
        for table in (entries, departures, invitations, events, book_views):
            self.conn.execute(delete(table).where(table.c.book_id == book_id))
        self.conn.execute(delete(books).where(books.c.id == book_id))

    def memberships(self, account_id: str) -> list[tuple[Book, Entry]]:
        rows = self.conn.execute(_MEMBERSHIPS, {"account_id": account_id}).all()
        out = []
        for r in rows:
            book = book_from_row(r)
            out.append((book, entry_from_row(r, book.id)))
        return out
