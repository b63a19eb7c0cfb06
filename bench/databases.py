"""A fresh, migrated database per backend for one benchmark run, removed afterwards."""

from __future__ import annotations

import os
import uuid
from collections.abc import Callable, Iterator
from contextlib import AbstractContextManager, contextmanager
from pathlib import Path

import psycopg

from circlebook.storage import migrate
from circlebook.storage.database import make_engine

POSTGRES_ADMIN_URL = os.environ.get(
    "CIRCLEBOOK_BENCH_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)


class BackendUnavailable(Exception):
    """The backend cannot be reached; the message says why."""


def _unreachable(exc: Exception) -> BackendUnavailable:
    why = " ".join(str(exc).split())
    return BackendUnavailable(f"PostgreSQL at {POSTGRES_ADMIN_URL} is not reachable: {why}")


def _migrate(url: str) -> None:
    engine = make_engine(url)
    try:
        migrate.upgrade(engine)
    finally:
        engine.dispose()


@contextmanager
def sqlite_database(directory: Path) -> Iterator[str]:
    """A migrated SQLite file in `directory` (a temporary directory the caller removes)."""
    url = f"sqlite:///{directory / 'circlebook.db'}"
    _migrate(url)
    yield url


def postgres_version() -> str:
    try:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3) as conn:
            row = conn.execute("SHOW server_version").fetchone()
    except psycopg.Error as exc:
        raise _unreachable(exc) from exc
    return str(row[0]) if row else "?"


@contextmanager
def postgres_database() -> Iterator[str]:
    """A database of its own on the admin server, migrated, dropped at the end."""
    name = f"circlebook_bench_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.Error as exc:
        raise _unreachable(exc) from exc
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        url = POSTGRES_ADMIN_URL.rsplit("/", 1)[0] + f"/{name}"
        _migrate(url)
        yield url
    finally:
        with psycopg.connect(POSTGRES_ADMIN_URL, autocommit=True, connect_timeout=10) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def on_each_backend(
    backends: list[str], workdir: Path, say: Callable[[str], None], run: Callable[[str, str], None]
) -> list[str]:
    """Call `run(backend, url)` with a fresh database of each backend; return what was skipped."""
    skipped: list[str] = []
    for backend in backends:
        database: AbstractContextManager[str]
        if backend == "sqlite":
            database = sqlite_database(workdir)
        else:
            try:
                say(f"[postgres] PostgreSQL {postgres_version()} at {POSTGRES_ADMIN_URL}")
            except BackendUnavailable as exc:
                skipped.append(f"postgres skipped: {exc}")
                say(skipped[-1])
                continue
            database = postgres_database()
        try:
            with database as url:
                run(backend, url)
        except BackendUnavailable as exc:
            skipped.append(f"{backend} skipped: {exc}")
            say(skipped[-1])
    return skipped
