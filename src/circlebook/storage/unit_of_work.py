"""The unit of work: one transaction, with the repositories that act inside it."""

from __future__ import annotations

from types import TracebackType

from sqlalchemy import Engine

from circlebook.storage.database import WRITE
from circlebook.storage.repositories import (
    SqlAccounts,
    SqlBooks,
    SqlCodes,
    SqlDepartures,
    SqlEntries,
    SqlInvitations,
    SqlInviteQuota,
    SqlSessions,
)


class SqlUnitOfWork:
    """Opens a transaction on enter; commits only when told, rolls back otherwise."""

    def __init__(self, engine: Engine, *, write: bool) -> None:
        self._engine = engine
        self._write = write

    def __enter__(self) -> SqlUnitOfWork:
        conn = self._engine.connect()
        if self._write:
            conn.execution_options(**{WRITE: True})
        self._conn = conn
        self._tx = conn.begin()
        self.accounts = SqlAccounts(conn)
        self.codes = SqlCodes(conn)
        self.sessions = SqlSessions(conn)
        self.books = SqlBooks(conn)
        self.entries = SqlEntries(conn)
        self.departures = SqlDepartures(conn)
        self.invitations = SqlInvitations(conn)
        self.invite_quota = SqlInviteQuota(conn)
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        try:
            if self._tx.is_active:
                self._tx.rollback()
        finally:
            self._conn.close()

    def commit(self) -> None:
        self._tx.commit()


class SqlUnitOfWorkFactory:
    def __init__(self, engine: Engine) -> None:
        self.engine = engine

    def __call__(self, *, write: bool = False) -> SqlUnitOfWork:
        return SqlUnitOfWork(self.engine, write=write)
