"""Fixtures shared by every suite: databases on each backend, the app, signed-in people."""

from __future__ import annotations

import json
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import psycopg
import pytest
import redis
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from circlebook.app import create_app
from circlebook.domain.model import Entry, Role
from circlebook.settings import load_settings
from circlebook.sms import FileOutboxSender
from circlebook.storage import migrate
from circlebook.storage.database import make_engine
from circlebook.storage.schema import metadata

# A pytest-xdist worker starts with COLUMNS=80 in its environment, and Rich fixes a console's
# width from COLUMNS when the console is made (at import): the CLI's tables and messages
# would wrap at 80 columns for the whole run, unlike under plain pytest.
os.environ.pop("COLUMNS", None)

POSTGRES_URL = os.environ.get(
    "CIRCLEBOOK_TEST_POSTGRES_URL", "postgresql://postgres@127.0.0.1:5432/test"
)
# CI sets this so that a missing PostgreSQL fails the run instead of skipping tests.
REQUIRE_SERVICES = os.environ.get("CIRCLEBOOK_REQUIRE_SERVICES") == "1"
SECRET = "test-secret-key-0123456789abcdef-0123456789"


@pytest.hookimpl(optionalhook=True)
def pytest_xdist_make_scheduler(config: pytest.Config, log: Any) -> Any:
    """`make test` runs under pytest-xdist: see tests/scheduling.py."""
    if config.getoption("dist") != "load":  # another --dist was asked for
        return None
    from tests.scheduling import ModuleFixtureScheduling

    return ModuleFixtureScheduling(config, log)


def services_unavailable(what: str, why: object) -> None:
    message = f"{what} is not reachable ({why}); set its URL or start it to run these tests"
    if REQUIRE_SERVICES:
        pytest.fail(f"CIRCLEBOOK_REQUIRE_SERVICES=1 but {message}", pytrace=False)
    pytest.skip(message)


@pytest.fixture(scope="session")
def postgres_database() -> Iterator[str]:
    """A database of its own for this test run, migrated once and dropped at the end."""
    name = f"circlebook_test_{uuid.uuid4().hex[:12]}"
    try:
        admin = psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as exc:
        services_unavailable(f"PostgreSQL at {POSTGRES_URL}", exc)
    with admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    url = POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    engine.dispose()
    yield url
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


REDIS_URL = os.environ.get("CIRCLEBOOK_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


@pytest.fixture(scope="session")
def redis_url() -> str:
    """A reachable Redis; tests give their brokers a channel of their own run."""
    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=3)
    try:
        client.ping()
    except redis.RedisError as exc:
        services_unavailable(f"Redis at {REDIS_URL}", exc)
    finally:
        client.close()
    return REDIS_URL


@pytest.fixture
def run_channel() -> str:
    """A broker channel no other test run shares."""
    return f"circlebook_test_{uuid.uuid4().hex[:16]}"


@pytest.fixture
def empty_postgres(postgres_database: str) -> str:
    """The run's PostgreSQL database, emptied, for servers started as processes."""
    engine = make_engine(postgres_database)
    with engine.begin() as conn:
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return postgres_database


@pytest.fixture(scope="session")
def sqlite_template(tmp_path_factory: pytest.TempPathFactory) -> Path:
    path = tmp_path_factory.mktemp("template") / "circlebook.db"
    engine = make_engine(f"sqlite:///{path}")
    migrate.upgrade(engine)
    with engine.connect() as conn:
        conn.exec_driver_sql("PRAGMA wal_checkpoint(TRUNCATE)")
    engine.dispose()
    return path


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def database_url(request: pytest.FixtureRequest, tmp_path: Path, sqlite_template: Path) -> str:
    """A migrated, empty database on each backend."""
    if request.param == "sqlite":
        path = tmp_path / "circlebook.db"
        shutil.copy(sqlite_template, path)
        return f"sqlite:///{path}"
    url: str = request.getfixturevalue("postgres_database")
    engine = make_engine(url)
    with engine.begin() as conn:
        tables = ", ".join(t.name for t in metadata.sorted_tables)
        conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
    engine.dispose()
    return url


@pytest.fixture
def engine(database_url: str) -> Iterator[Engine]:
    engine = make_engine(database_url)
    yield engine
    engine.dispose()


@dataclass
class FakeClock:
    """A clock tests move by hand: codes and invitations expire without sleeping."""

    moment: datetime = field(default_factory=lambda: datetime(2026, 3, 1, 9, 0, tzinfo=UTC))

    def now(self) -> datetime:
        return self.moment

    def advance(self, **delta: float) -> None:
        self.moment += timedelta(**delta)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def outbox(tmp_path: Path) -> Path:
    return tmp_path / "sms-outbox.jsonl"


# Tests sign many people in from one client: the per-client and deployment limits
# are off unless a test turns one on (tests/e2e/test_abuse_limits.py).
LIMITS_OFF = {
    "code_requests_per_client": 0,
    "signin_failures_per_client": 0,
    "signin_failures_per_phone": 0,
    "sms_per_hour": 0,
}


@pytest.fixture
def make_client(
    database_url: str, engine: Engine, clock: FakeClock, outbox: Path
) -> Iterator[Callable[..., TestClient]]:
    """make_client(**settings) builds the app with those settings over the test database."""
    with ExitStack() as stack:

        def _make(**overrides: Any) -> TestClient:
            chosen = {"region": "CN", **LIMITS_OFF, **overrides}
            settings = load_settings(database_url=database_url, secret_key=SECRET, **chosen)
            app = create_app(settings, engine=engine, clock=clock, sms=FileOutboxSender(outbox))
            return stack.enter_context(TestClient(app, raise_server_exceptions=False))

        yield _make


@pytest.fixture
def client(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client()


def last_code(outbox: Path, phone: str) -> str:
    """The code in the newest message sent to `phone`."""
    for line in reversed(outbox.read_text().splitlines()):
        message = json.loads(line)
        if message["to"] == phone:
            return "".join(ch for ch in message["text"].split("code is ")[1][:6])
    raise AssertionError(f"no SMS to {phone}")


@dataclass
class Person:
    """Someone signed in through the API: their account and a client that carries their token."""

    client: TestClient
    phone: str
    account: dict[str, Any]
    token: str

    @property
    def headers(self) -> dict[str, str]:
        return {"Authorization": f"Bearer {self.token}"}

    def get(self, url: str, **kw: Any) -> Any:
        return self.client.get(url, headers=self.headers, **kw)

    def post(self, url: str, **kw: Any) -> Any:
        return self.client.post(url, headers=self.headers, **kw)

    def put(self, url: str, **kw: Any) -> Any:
        return self.client.put(url, headers=self.headers, **kw)

    def patch(self, url: str, **kw: Any) -> Any:
        return self.client.patch(url, headers=self.headers, **kw)

    def delete(self, url: str, **kw: Any) -> Any:
        return self.client.delete(url, headers=self.headers, **kw)

    def entries(self, book_id: str, **params: Any) -> dict[str, Any]:
        response = self.get(f"/v1/books/{book_id}/entries", params=params)
        assert response.status_code == 200, response.text
        body: dict[str, Any] = response.json()
        return body

    def invitation_to(self, book_id: str) -> str:
        response = self.get("/v1/invitations")
        assert response.status_code == 200, response.text
        ids = [i["id"] for i in response.json()["invitations"] if i["book_id"] == book_id]
        assert ids, f"{self.phone} has no invitation to {book_id}"
        return str(ids[0])

    def accept(self, book_id: str, **body: Any) -> dict[str, Any]:
        inv = self.invitation_to(book_id)
        response = self.post(f"/v1/invitations/{inv}/accept", json=body)
        assert response.status_code == 200, response.text
        result: dict[str, Any] = response.json()
        return result


def sign_in(client: TestClient, outbox: Path, phone: str, name: str | None = None) -> Person:
    response = client.post("/v1/auth/codes", json={"phone": phone})
    assert response.status_code == 202, response.text
    body: dict[str, Any] = {"phone": phone, "code": last_code(outbox, phone), "device": "test"}
    if name:
        body["name"] = name
    response = client.post("/v1/auth/sessions", json=body)
    assert response.status_code == 201, response.text
    data = response.json()
    return Person(client, phone, data["account"], data["token"])


@pytest.fixture
def people(client: TestClient, outbox: Path) -> Any:
    """people("+86...", "Name") signs a person in and returns them."""

    def _sign_in(phone: str, name: str | None = None) -> Person:
        return sign_in(client, outbox, phone, name)

    return _sign_in


ENTRY_STAMP = "2026-01-01T00:00:00.000000Z"


def an_entry(**fields: Any) -> Entry:
    """An entry with plain defaults (an untagged member of `b_1`, version 1), `fields` over them."""
    version = fields.get("version", 1)
    plain: dict[str, Any] = {
        "id": "e_1",
        "book_id": "b_1",
        "account_id": "a_1",
        "phone": "+8613800000000",
        "name": "Person",
        "tags": frozenset(),
        "role": Role.MEMBER,
        "created_at": ENTRY_STAMP,
        "updated_at": ENTRY_STAMP,
        "version": version,
        "tags_version": version,
    }
    return Entry(**{**plain, **fields})
