"""A Runtime over a real unit of work on an in-memory SQLite database, one per test.

The schema is migrated once per worker, as the app's database is (`migrate.upgrade`),
and copied into each test's fresh in-memory database with SQLite's backup API,
which takes a millisecond where migrating takes a good part of a second.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Callable, Iterator
from typing import Any

import pytest
from sqlalchemy import Engine

from circlebook.composition import policy_from
from circlebook.services.recent_sign_ins import RecentSignIns
from circlebook.services.runtime import Runtime
from circlebook.services.shared_reads import SharedReads
from circlebook.settings import load_settings, secret_key_bytes
from circlebook.storage import migrate
from circlebook.storage.database import make_engine
from circlebook.storage.group_commit import GroupCommit
from circlebook.storage.unit_of_work import SqlUnitOfWorkFactory
from tests.conftest import LIMITS_OFF, SECRET, FakeClock
from tests.services.world import Heard, RecordingSms, World

# `sqlite://` is one database per connection, and SQLAlchemy gives each thread one
# connection of its own: every use case runs in the test's thread, so all of them
# see one database.
MEMORY = "sqlite://"


@pytest.fixture(scope="session")
def migrated_memory() -> Iterator[sqlite3.Connection]:
    """An in-memory database migrated to the head, to copy from."""
    engine = make_engine(MEMORY)
    migrate.upgrade(engine)
    with engine.connect() as conn:
        template = sqlite3.connect(":memory:")
        source = conn.connection.driver_connection
        assert isinstance(source, sqlite3.Connection)
        source.backup(template)
    engine.dispose()
    yield template
    template.close()


@pytest.fixture
def memory_engine(migrated_memory: sqlite3.Connection) -> Iterator[Engine]:
    engine = make_engine(MEMORY)
    with engine.connect() as conn:
        target = conn.connection.driver_connection
        assert isinstance(target, sqlite3.Connection)
        migrated_memory.backup(target)
    yield engine
    engine.dispose()


@pytest.fixture
def sms() -> RecordingSms:
    return RecordingSms()


@pytest.fixture
def heard() -> Iterator[Heard]:
    listening = Heard()
    yield listening
    listening.close()


@pytest.fixture
def make_runtime(
    memory_engine: Engine, clock: FakeClock, sms: RecordingSms, heard: Heard
) -> Callable[..., Runtime]:
    """make_runtime(**settings): a Runtime as the app builds it, with these settings."""

    def _make(**overrides: Any) -> Runtime:
        settings = load_settings(
            database_url=MEMORY, secret_key=SECRET, **{"region": "CN", **LIMITS_OFF, **overrides}
        )
        uow = SqlUnitOfWorkFactory(memory_engine, heard.broker)
        return Runtime(
            uow=uow,
            sms=sms,
            clock=clock,
            secret_key=secret_key_bytes(settings),
            policy=policy_from(settings),
            # Invitation texts are recorded as they are handed over, in the test's thread.
            background_sms=sms,
            # 0: each write commits alone, in the caller's thread.
            group_commit=GroupCommit(uow, 0),
            sessions_seen=RecentSignIns(0.0, uow.writes),
            app_passwords_seen=RecentSignIns(0.0, uow.writes),
            books_seen=RecentSignIns(0.0, uow.writes),
            shared_reads=SharedReads(uow.writes),
        )

    return _make


@pytest.fixture
def rt(make_runtime: Callable[..., Runtime]) -> Runtime:
    return make_runtime()


@pytest.fixture
def world(rt: Runtime, sms: RecordingSms, heard: Heard) -> World:
    return World(rt, sms, heard)
