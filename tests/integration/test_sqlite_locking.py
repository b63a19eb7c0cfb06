"""SQLite runs in WAL mode, fsyncs each commit, and a write takes its lock at BEGIN."""

from __future__ import annotations

import sqlite3
from pathlib import Path

import pytest

from circlebook.storage.database import make_engine
from circlebook.storage.unit_of_work import SqlUnitOfWork


def test_sqlite_connections_are_wal_full_sync_with_foreign_keys(tmp_path: Path) -> None:
    engine = make_engine(f"sqlite:///{tmp_path}/cb.db")
    with engine.connect() as conn:
        pragmas = [
            conn.exec_driver_sql(f"PRAGMA {name}").scalar()
            for name in ("journal_mode", "synchronous", "foreign_keys")
        ]
    assert pragmas == ["wal", 2, 1]


def test_a_write_unit_of_work_holds_the_write_lock_from_its_start(tmp_path: Path) -> None:
    path = tmp_path / "cb.db"
    engine = make_engine(f"sqlite:///{path}")
    with SqlUnitOfWork(engine, write=True):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        with pytest.raises(sqlite3.OperationalError, match="locked"):
            other.execute("BEGIN IMMEDIATE")
        other.close()
    with SqlUnitOfWork(engine, write=False):
        other = sqlite3.connect(path, timeout=0, isolation_level=None)
        other.execute("BEGIN IMMEDIATE")  # a reader leaves the write lock free
        other.execute("ROLLBACK")
        other.close()
