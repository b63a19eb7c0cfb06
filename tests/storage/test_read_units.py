"""A unit of work that only reads, on each backend: what it costs the database."""

from __future__ import annotations

import pytest
from sqlalchemy import Engine, text

from circlebook.storage.unit_of_work import SqlUnitOfWork
from tests.storage.conftest import Store


def each_statement_alone(uow: SqlUnitOfWork) -> bool:
    """Whether the unit's statements run as transactions of their own."""
    return bool(
        uow.accounts.conn.execute(
            text("SELECT transaction_timestamp() = statement_timestamp()")
        ).scalar_one()
    )


def test_a_read_on_postgresql_takes_no_transaction_of_its_own(engine: Engine, store: Store) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("SQLite's reads begin a transaction, which costs no round trip")
    owner = store.account(1)
    with store.read() as uow:
        assert uow.accounts.get(owner.id) == owner
        # Each statement is a transaction of its own: no BEGIN and ROLLBACK around them.
        assert each_statement_alone(uow)


def test_a_write_on_postgresql_is_one_transaction(engine: Engine, store: Store) -> None:
    if engine.dialect.name != "postgresql":
        pytest.skip("only PostgreSQL's reads run outside a transaction")
    owner = store.account(1)
    with store.write() as uow:
        assert uow.accounts.get(owner.id) == owner
        assert not each_statement_alone(uow)
