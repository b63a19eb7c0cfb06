"""Restoring a backup file (storage.archive) into an empty database of either backend.

The schema is first brought to the backup's revision, the rows go in with one
SQLAlchemy Core code path for both backends, in one transaction (a damaged file
leaves the database as empty as it was), and then the schema is brought to
this code's head, as after any upgrade. Ids, versions, times and the ledger's
bodies and hashes are copied as they are, so every chain still verifies; the
counters that hand out ids are moved past everything restored.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from sqlalchemy import Connection, Engine, Table, func, inspect, literal, select, table, text

from circlebook.storage import migrate as migrations
from circlebook.storage.archive import ArchiveError, ArchiveReader
from circlebook.storage.backup import BackupError, Summary, counted_tables, tables_at
from circlebook.storage.database import WRITE, make_engine


def restore(database_url: str, source: Path) -> Summary:
    """Restore the backup at `source` into the empty database at `database_url`."""
    with source.open("rb") as stream:
        # The header is read first: a file that is no backup leaves no database behind.
        reader = ArchiveReader(stream)
        revision = reader.header.revision
        if revision not in migrations.revisions():
            raise BackupError(
                f"the backup is of schema revision {revision}, newer than this circlebook "
                f"knows ({migrations.head()}): restore it with a newer circlebook"
            )
        engine = make_engine(database_url)
        try:
            _refuse_unless_empty(engine)
            migrations.move_to(engine, revision)
            with engine.connect() as conn:
                writing = conn.execution_options(**{WRITE: True})
                with writing.begin():
                    _refuse_unless_empty_on(writing)
                    rows = _insert_all(writing, reader, revision)
            migrations.upgrade(engine)
        finally:
            engine.dispose()
    return Summary(revision, rows)


def _refuse_unless_empty(engine: Engine) -> None:
    with engine.connect() as conn:
        at = migrations.current(conn)
        if at is None and _table_names(conn):
            raise BackupError(
                "the database holds tables but no circlebook schema: restore into an empty one"
            )
        if at is not None and at not in migrations.revisions():
            raise BackupError(
                f"the database is at schema revision {at}, which this circlebook does not know"
            )
        _refuse_unless_empty_on(conn)


def _table_names(conn: Connection) -> list[str]:
    return [n for n in inspect(conn).get_table_names() if n != "alembic_version"]


def _refuse_unless_empty_on(conn: Connection) -> None:
    for name in _table_names(conn):
        if conn.scalar(select(literal(1)).select_from(table(name)).limit(1)) is not None:
            raise BackupError(
                f"the database is not empty (table {name} holds rows): restore only into an "
                "empty database, so that nothing in it is overwritten or mixed"
            )


def _insert_all(conn: Connection, reader: ArchiveReader, revision: str) -> dict[str, int]:
    tables = {t.name: t for t in tables_at(conn, revision)}
    rows: dict[str, int] = {}
    for stream in reader.tables():
        target = tables.get(stream.name)
        if target is None:
            raise ArchiveError(
                f"the backup has a table {stream.name} that revision {revision} lacks"
            )
        unknown = set(stream.columns) - set(target.c.keys())
        if unknown:
            raise ArchiveError(f"the backup's table {stream.name} has unknown columns {unknown}")
        count = 0
        for batch in stream.batches:
            conn.execute(
                target.insert(), [dict(zip(stream.columns, row, strict=True)) for row in batch]
            )
            count += len(batch)
        rows[stream.name] = count
    assert reader.trailer is not None
    _advance_counters(conn, list(tables.values()), reader.trailer.sequences)
    return rows


def _advance_counters(conn: Connection, tables: Sequence[Table], positions: dict[str, int]) -> None:
    """Move each id counter past the ids restored and the position the backup carried.

    Rows went in with their own ids, which no PostgreSQL sequence or SQLite
    AUTOINCREMENT counter saw; left alone, the next insert would reuse an id.
    """
    for target in counted_tables(tables):
        column = target.autoincrement_column
        assert column is not None
        top = max(int(conn.scalar(select(func.max(column))) or 0), positions.get(target.name, 0))
        if top == 0:
            continue
        if conn.dialect.name == "postgresql":
            conn.execute(
                text("SELECT setval(pg_get_serial_sequence(:t, :c), :top)"),
                {"t": target.name, "c": column.name, "top": top},
            )
        elif _sqlite_autoincrement(conn, target.name):
            updated = conn.execute(
                text("UPDATE sqlite_sequence SET seq = :top WHERE name = :t"),
                {"t": target.name, "top": top},
            )
            if updated.rowcount == 0:
                conn.execute(
                    text("INSERT INTO sqlite_sequence (name, seq) VALUES (:t, :top)"),
                    {"t": target.name, "top": top},
                )
        # A SQLite table without AUTOINCREMENT takes max(id) + 1: nothing to move.


def _sqlite_autoincrement(conn: Connection, name: str) -> bool:
    sql = conn.scalar(
        text("SELECT sql FROM sqlite_master WHERE type = 'table' AND name = :t"), {"t": name}
    )
    return "AUTOINCREMENT" in str(sql or "").upper()
