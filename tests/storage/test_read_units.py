"""A unit of work that only reads, on each backend: what it costs the database."""

from __future__ import annotations

import pytest
from sqlalchemy import text

from circlebook.storage.unit_of_work import SqlUnitOfWork
from tests.storage.conftest import Store


def each_statement_alone(uow: SqlUnitOfWork) -> bool:
    """Whether the unit's statements run as transactions of their own."""
    return bool(
        uow.accounts.conn.execute(
            text("SELECT transaction_timestamp() = statement_timestamp()")
        ).scalar_one()
    )


# SQLite's reads begin a transaction as before: it costs no round trip there.
ON_POSTGRESQL = pytest.mark.parametrize(
    "database_url", [pytest.param("postgres", marks=pytest.mark.postgres)], indirect=True
)


@ON_POSTGRESQL
def test_a_read_on_postgresql_takes_no_transaction_of_its_own(store: Store) -> None:
    owner = store.account(1)
    with store.read() as uow:
        assert uow.accounts.get(owner.id) == owner
        # Each statement is a transaction of its own: no BEGIN and ROLLBACK around them.
        assert each_statement_alone(uow)


@ON_POSTGRESQL
def test_a_write_on_postgresql_is_one_transaction(store: Store) -> None:
    owner = store.account(1)
    with store.write() as uow:
        assert uow.accounts.get(owner.id) == owner
        assert not each_statement_alone(uow)
