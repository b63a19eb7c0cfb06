"""Engines for SQLite and PostgreSQL, set up for safe concurrent writes."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

from sqlalchemy import Engine, create_engine, event
from sqlalchemy.engine import Connection, make_url

WRITE = "circlebook_write"


def sqlalchemy_url(url: str) -> str:
    """Map a user's `postgresql://` URL to the psycopg 3 driver SQLAlchemy should use."""
    parsed = make_url(url)
    if parsed.drivername in ("postgresql", "postgres"):
        parsed = parsed.set(drivername="postgresql+psycopg")
    return parsed.render_as_string(hide_password=False)


def is_sqlite(url: str) -> bool:
    return make_url(url).get_backend_name() == "sqlite"


def make_engine(url: str, **kwargs: Any) -> Engine:
    if is_sqlite(url):
        return _sqlite_engine(url, **kwargs)
    return create_engine(
        sqlalchemy_url(url), pool_size=10, max_overflow=20, pool_pre_ping=True, **kwargs
    )


def sqlite_file(url: str) -> Path | None:
    """The file a SQLite URL names; None for an in-memory database (or a URI filename)."""
    parsed = make_url(url)
    database = parsed.database
    if not database or database == ":memory:" or parsed.query.get("uri"):
        return None
    return Path(database)


def create_private_sqlite_file(path: Path) -> None:
    """Make the database file, and its folder, readable by this user only, if they are new.

    The book holds everyone's phone numbers and the session and code hashes, so
    no other local user may read it. The file is created 0600 here, before SQLite
    opens it, because SQLite creates the -wal, -shm and -journal files with the
    mode of the database file itself (os_unix.c, findCreateFileMode): they
    follow it whatever the process umask. That is sturdier than changing the
    umask, which is process-wide and would race with other threads, or than a
    chmod of each file after the fact, which leaves a window. An existing file
    or folder keeps the mode its operator gave it.
    """
    # Only the last folder is ours to restrict: parents such as ~/.local/share are
    # made with the usual mode, and a folder that exists is left as it is.
    path.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return
    os.close(fd)


def _sqlite_engine(url: str, **kwargs: Any) -> Engine:
    path = sqlite_file(url)
    if path is not None:
        create_private_sqlite_file(path)
    # As many pooled connections as worker threads may hold at once (anyio's 40 by
    # default): with the usual 5, a busy server opened and closed a connection, and
    # ran the pragmas below, for most of its requests.
    kwargs.setdefault("pool_size", 40)
    engine = create_engine(url, connect_args={"timeout": 30, "check_same_thread": False}, **kwargs)

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, _record: Any) -> None:
        # Let SQLAlchemy's "begin" event below issue BEGIN itself, so that write
        # transactions can take the write lock up front.
        dbapi_connection.isolation_level = None
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        # FULL: an acknowledged commit survives a power cut, not only a crash.
        cursor.execute("PRAGMA synchronous=FULL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=30000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(conn: Connection) -> None:
        # IMMEDIATE takes the write lock at BEGIN: two writers queue instead of
        # both reading and then one failing with "database is locked" on upgrade.
        if conn.get_execution_options().get(WRITE):
            conn.exec_driver_sql("BEGIN IMMEDIATE")
        else:
            conn.exec_driver_sql("BEGIN")

    return engine
