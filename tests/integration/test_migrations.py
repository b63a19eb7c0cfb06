"""The Alembic migrations build exactly the schema the code describes, on each backend."""

from __future__ import annotations

from alembic.autogenerate import compare_metadata
from alembic.runtime.migration import MigrationContext
from sqlalchemy import Engine

from circlebook.storage import migrate
from circlebook.storage.schema import metadata


def test_migrated_database_matches_the_schema_in_code(engine: Engine) -> None:
    with engine.connect() as conn:
        differences = compare_metadata(MigrationContext.configure(conn), metadata)
    assert differences == []


def test_migrated_database_is_current(engine: Engine) -> None:
    assert migrate.state(engine) is migrate.SchemaState.CURRENT
