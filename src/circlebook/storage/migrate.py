"""Schema migrations with Alembic, run on the same engine the server uses."""

from __future__ import annotations

from enum import StrEnum
from functools import cache
from pathlib import Path

from alembic import command
from alembic.config import Config
from alembic.runtime.migration import MigrationContext
from alembic.script import ScriptDirectory
from sqlalchemy import Connection, Engine, inspect, text

MIGRATIONS = Path(__file__).parent / "migrations"


class SchemaState(StrEnum):
    EMPTY = "empty"
    CURRENT = "current"
    BEHIND = "behind"
    UNKNOWN = "unknown"


def _config() -> Config:
    config = Config()
    config.set_main_option("script_location", str(MIGRATIONS))
    return config


@cache  # the scripts ship with the code; reading them anew finds the same head
def head() -> str:
    revision = ScriptDirectory.from_config(_config()).get_current_head()
    assert revision is not None
    return revision


def revision(engine: Engine) -> str | None:
    """The revision the database is at (None: never migrated).

    Read straight from Alembic's table: a MigrationContext would log two lines
    on each call, and readiness probes call this every few seconds.
    """
    with engine.connect() as conn:
        if not inspect(conn).has_table("alembic_version"):
            return None
        found = conn.execute(text("SELECT version_num FROM alembic_version")).scalar()
        return None if found is None else str(found)


def state(engine: Engine) -> SchemaState:
    with engine.connect() as conn:
        current = MigrationContext.configure(conn).get_current_revision()
        tables = set(inspect(conn).get_table_names()) - {"alembic_version"}
    if current is None:
        return SchemaState.EMPTY if not tables else SchemaState.UNKNOWN
    if current == head():
        return SchemaState.CURRENT
    script = ScriptDirectory.from_config(_config())
    known = {rev.revision for rev in script.walk_revisions()}
    return SchemaState.BEHIND if current in known else SchemaState.UNKNOWN


def upgrade(engine: Engine, revision: str = "head") -> None:
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        command.upgrade(config, revision)


def revisions() -> list[str]:
    """Every revision this code knows, oldest first."""
    script = ScriptDirectory.from_config(_config())
    return [rev.revision for rev in reversed(list(script.walk_revisions()))]


def current(conn: Connection) -> str | None:
    """The revision the database on `conn` is at; None if it was never migrated."""
    return MigrationContext.configure(conn).get_current_revision()


def move_to(engine: Engine, revision: str) -> None:
    """Upgrade or downgrade the schema to exactly `revision`."""
    config = _config()
    with engine.begin() as conn:
        config.attributes["connection"] = conn
        at = current(conn)
        order = revisions()
        if at is not None and order.index(at) > order.index(revision):
            command.downgrade(config, revision)
        else:
            command.upgrade(config, revision)
