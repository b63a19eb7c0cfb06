"""The Alembic migrations build exactly the schema the code describes, on each backend."""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from pathlib import Path

import psycopg
import pytest
from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine, text

from circlebook.storage import migrate
from circlebook.storage.database import make_engine
from circlebook.storage.schema import metadata
from tests.conftest import POSTGRES_URL


def test_migrated_database_matches_the_schema_in_code(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrated_database_is_current(engine: Engine) -> None:
    assert migrate.state(engine) is migrate.SchemaState.CURRENT


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def unmigrated_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    """An empty database with no schema at all, on each backend."""
    if request.param == "sqlite":
        yield f"sqlite:///{tmp_path / 'old.db'}"
        return
    name = f"circlebook_test_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    yield POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def test_departures_from_before_0007_are_kept_a_full_retention_from_the_upgrade(
    unmigrated_url: str,
) -> None:
    engine = make_engine(unmigrated_url)
    migrate.upgrade(engine, "0006")
    at = "2026-01-01T00:00:00.000000Z"
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO accounts VALUES ('a_owner0000', '+8613800138001', 'O', :at)"),
            {"at": at},
        )
        conn.execute(
            text("INSERT INTO books VALUES ('b_book0000', 'B', 'a_owner0000', 3, :at, :at)"),
            {"at": at},
        )
        conn.execute(
            text(
                "INSERT INTO departures (book_id, entry_id, account_id, old_tags, version)"
                " VALUES ('b_book0000', 'e_gone0000', 'a_gone0000', '', 2)"
            )
        )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        (created_at,) = conn.execute(text("SELECT created_at FROM departures")).one()
        (floor,) = conn.execute(text("SELECT sync_floor FROM books")).one()
    engine.dispose()
    assert created_at > at  # the upgrade's own time, not the book's
    assert floor == 0


def test_sessions_from_before_0006_get_an_id_and_a_last_use_and_keep_working(
    unmigrated_url: str,
) -> None:
    engine = make_engine(unmigrated_url)
    migrate.upgrade(engine, "0005")
    at = "2026-01-01T00:00:00.000000Z"
    with engine.begin() as conn:
        conn.execute(
            text("INSERT INTO accounts VALUES ('a_owner0000', '+8613800138001', 'O', :at)"),
            {"at": at},
        )
        for n in range(2):
            conn.execute(
                text("INSERT INTO sessions VALUES (:t, 'a_owner0000', 'phone', :at)"),
                {"t": f"{n}" * 64, "at": at},
            )
    migrate.upgrade(engine)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT id, last_used_at FROM sessions")).all()
    engine.dispose()
    assert len({row.id for row in rows}) == 2 and all(r.id.startswith("s_") for r in rows)
    assert all(row.last_used_at == at for row in rows)
