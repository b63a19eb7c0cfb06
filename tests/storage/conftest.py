"""The repositories' contract, checked on SQLite and PostgreSQL alike.

Every test here takes `engine`, which the root conftest builds over a migrated,
empty database on each backend (`database_url`); PostgreSQL is skipped where it is
not reachable, and demanded under CIRCLEBOOK_REQUIRE_SERVICES=1 (as `.ci/run` sets).
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

import pytest
from sqlalchemy import Engine

from circlebook.domain.model import Account, Book, Entry, Role
from circlebook.storage.unit_of_work import SqlUnitOfWork, SqlUnitOfWorkFactory

AT = "2026-03-01T09:00:00.000000Z"


def at(day: int, hour: int = 9) -> str:
    """A moment in March 2026, as storage keeps it."""
    return f"2026-03-{day:02d}T{hour:02d}:00:00.000000Z"


class Store:
    """One transaction at a time over the database, through the unit of work's repositories."""

    def __init__(self, engine: Engine) -> None:
        self._uow = SqlUnitOfWorkFactory(engine)

    @contextmanager
    def write(self) -> Iterator[SqlUnitOfWork]:
        """A write transaction, committed when the block ends without error."""
        with self._uow(write=True) as uow:
            yield uow
            uow.commit()

    @contextmanager
    def read(self) -> Iterator[SqlUnitOfWork]:
        with self._uow() as uow:
            yield uow

    def account(self, n: int, name: str = "") -> Account:
        account = Account(f"a_account{n:04d}", f"+86138002{n:05d}", name or f"Person {n}", AT)
        with self.write() as uow:
            uow.accounts.add(account)
        return account

    def book(self, owner: Account, n: int = 1, version: int = 1) -> tuple[Book, Entry]:
        """A book with its owner's entry."""
        book = Book(f"b_book{n:04d}", f"Book {n}", owner.id, version, AT, AT)
        entry = make_entry(book, owner, role=Role.OWNER, n=n * 1000)
        with self.write() as uow:
            uow.books.add(book)
            uow.entries.add(entry)
        return book, entry


def make_entry(
    book: Book,
    account: Account,
    *,
    n: int,
    tags: frozenset[str] = frozenset(),
    role: Role = Role.MEMBER,
    version: int = 1,
    created_at: str = AT,
) -> Entry:
    return Entry(
        id=f"e_entry{n:05d}",
        book_id=book.id,
        account_id=account.id,
        phone=account.phone,
        name=account.name,
        tags=tags,
        role=role,
        created_at=created_at,
        updated_at=created_at,
        version=version,
        tags_version=version,
    )


@pytest.fixture
def store(engine: Engine) -> Store:
    return Store(engine)
