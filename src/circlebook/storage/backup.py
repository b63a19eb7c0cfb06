"""Backing up a running server's database into the portable backup file (storage.archive).

Both backends write the same file, read from one consistent snapshot while the
server goes on writing:

- SQLite: the online backup API copies the database, as of one moment, into a
  private temporary file beside the backup; the rows are read from that copy.
- PostgreSQL: every table is read in one SERIALIZABLE READ ONLY DEFERRABLE
  transaction, which waits for a snapshot no concurrent writer can make
  inconsistent and then never blocks or aborts them. pg_dump is not used: its
  output restores into PostgreSQL alone, and this file restores into either.
"""

from __future__ import annotations

import os
import sqlite3
import tempfile
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from sqlalchemy import Connection, MetaData, Table, create_engine, func, select, text

from circlebook.storage import migrate as migrations
from circlebook.storage.archive import ArchiveWriter, Header, Trailer
from circlebook.storage.database import is_sqlite, make_engine, sqlite_file
from circlebook.storage.schema import metadata

BATCH = 1000


class BackupError(Exception):
    """A backup or restore that cannot be made; the message says why."""


@dataclass(frozen=True)
class Summary:
    revision: str
    rows: dict[str, int]


def tables_at(conn: Connection, revision: str) -> list[Table]:
    """The tables at `revision`, in dependency order: this code's own at head, else as found."""
    if revision == migrations.head():
        return list(metadata.sorted_tables)
    found = MetaData()
    found.reflect(conn)
    return [t for t in found.sorted_tables if t.name != "alembic_version"]


def counted_tables(tables: Sequence[Table]) -> list[Table]:
    """The tables whose integer key is handed out by the database (a sequence or AUTOINCREMENT)."""
    return [t for t in tables if t.autoincrement_column is not None]


def sequence_positions(conn: Connection, tables: Sequence[Table]) -> dict[str, int]:
    """The last id each counted table has handed out, which can exceed its largest kept id.

    Events are pruned, yet their ids must never come back (a client's
    Last-Event-ID would skip new events that reused them), so the position
    itself is carried, not only the rows.
    """
    positions: dict[str, int] = {}
    for table in counted_tables(tables):
        column = table.autoincrement_column
        assert column is not None
        kept = conn.scalar(select(func.max(column))) or 0
        if conn.dialect.name == "postgresql":
            # NULL until the sequence first hands out an id.
            handed_out = conn.scalar(_PG_SEQUENCE, {"t": table.name, "c": column.name})
        elif _has_sqlite_sequence(conn):
            handed_out = conn.scalar(_SQLITE_SEQUENCE, {"t": table.name})
        else:
            handed_out = None
        positions[str(table.name)] = max(int(kept), int(handed_out or 0))
    return positions


_PG_SEQUENCE = text(
    "SELECT s.last_value FROM pg_sequences s"
    " WHERE format('%I.%I', s.schemaname, s.sequencename)::regclass"
    " = pg_get_serial_sequence(:t, :c)::regclass"
)
_SQLITE_SEQUENCE = text("SELECT seq FROM sqlite_sequence WHERE name = :t")


def _has_sqlite_sequence(conn: Connection) -> bool:
    found = conn.scalar(
        text("SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'sqlite_sequence'")
    )
    return bool(found)


def back_up(database_url: str, destination: Path) -> Summary:
    """Write a consistent backup of the database to `destination`, replacing it only when whole."""
    destination = destination.absolute()
    # mkstemp makes the file 0600: the backup holds everyone's phone numbers.
    fd, partial = tempfile.mkstemp(
        dir=destination.parent, prefix=f".{destination.name}.", suffix=".partial"
    )
    try:
        with os.fdopen(fd, "wb") as sink, _snapshot(database_url) as conn:
            summary = _write(conn, sink, "sqlite" if is_sqlite(database_url) else "postgresql")
            sink.flush()
            os.fsync(sink.fileno())
        os.replace(partial, destination)
    except BaseException:
        Path(partial).unlink(missing_ok=True)
        raise
    return summary


@contextmanager
def _snapshot(database_url: str) -> Iterator[Connection]:
    """A connection that reads one unchanging state of the database."""
    if is_sqlite(database_url):
        with _sqlite_copy(database_url) as conn:
            yield conn
        return
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            snapshot = conn.execution_options(
                isolation_level="SERIALIZABLE", postgresql_readonly=True, postgresql_deferrable=True
            )
            with snapshot.begin():
                yield snapshot
    finally:
        engine.dispose()


@contextmanager
def _sqlite_copy(database_url: str) -> Iterator[Connection]:
    source_path = sqlite_file(database_url)
    if source_path is None:
        raise BackupError("an in-memory database cannot be backed up from another process")
    if not source_path.is_file():
        raise BackupError(f"there is no database at {source_path}")
    with tempfile.TemporaryDirectory(dir=source_path.parent, prefix=".backup-") as folder:
        copy_path = Path(folder) / "snapshot.db"
        source = sqlite3.connect(source_path, timeout=30)
        target = sqlite3.connect(copy_path)
        try:
            # All pages in one step: the copy is the database as of one read
            # transaction, and in WAL mode the server's writers go on meanwhile.
            source.backup(target)
        finally:
            target.close()
            source.close()
        engine = create_engine(f"sqlite:///{copy_path}")
        try:
            with engine.connect() as conn, conn.begin():
                yield conn
        finally:
            engine.dispose()


def _write(conn: Connection, sink: Any, backend: str) -> Summary:
    revision = migrations.current(conn)
    if revision is None:
        raise BackupError("the database holds no circlebook schema: nothing to back up")
    if revision not in migrations.revisions():
        raise BackupError(
            f"the database is at schema revision {revision}, newer than this circlebook knows"
        )
    tables = tables_at(conn, revision)
    created_at = datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    writer = ArchiveWriter(
        sink, Header(revision, backend, created_at, tuple(str(t.name) for t in tables))
    )
    rows: dict[str, int] = {}
    for table in tables:
        ordered = select(table).order_by(*table.primary_key.columns)
        result = conn.execution_options(stream_results=True, yield_per=BATCH).execute(ordered)
        rows[str(table.name)] = writer.table(
            str(table.name), [str(c.name) for c in table.c], iter(result)
        )
    writer.close(Trailer(sequence_positions(conn, tables)))
    return Summary(revision, rows)
