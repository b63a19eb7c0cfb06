"""GET /v1/ready: 200 only while the database answers, its schema is current and the broker answers.

GET /v1/health stays the liveness check: it does not look at the broker or the schema.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from fastapi.testclient import TestClient

from circlebook.app import create_app
from circlebook.notify import PostgresBroker, RedisBroker
from circlebook.settings import load_settings
from circlebook.storage import migrate
from circlebook.storage.database import make_engine
from tests.conftest import SECRET
from tests.e2e.test_server_process import free_port


def checks(response: object) -> list[str]:
    body = response.json()  # type: ignore[attr-defined]
    assert body["type"] == "urn:circlebook:problem:not-ready"
    return [c["check"] for c in body["checks"]]


def test_ready_when_database_schema_and_broker_answer(
    make_client: Callable[..., TestClient],
) -> None:
    # SQLite's local broker, or PostgreSQL's LISTEN/NOTIFY: the backend's own broker.
    ready = make_client().get("/v1/ready")
    assert ready.status_code == 200, ready.text
    assert ready.json() == {"status": "ok"}


def test_ready_through_redis_when_redis_answers(
    make_client: Callable[..., TestClient], redis_url: str, run_channel: str
) -> None:
    ready = make_client(broker=redis_url, broker_channel=run_channel).get("/v1/ready")
    assert ready.status_code == 200, ready.text


def test_not_ready_while_the_database_is_behind_on_migrations(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'behind.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine, "0008")
    settings = load_settings(database_url=url, secret_key=SECRET)
    with TestClient(create_app(settings, engine=engine), raise_server_exceptions=False) as client:
        refused = client.get("/v1/ready")
        assert refused.status_code == 503
        assert refused.headers["content-type"] == "application/problem+json"
        assert checks(refused) == ["migrations"]
        assert "0008" in refused.json()["detail"] and migrate.head() in refused.json()["detail"]
        assert client.get("/v1/health").status_code == 200  # alive all the same
        migrate.upgrade(engine)
        assert client.get("/v1/ready").status_code == 200
    engine.dispose()


def test_not_ready_while_the_broker_does_not_answer(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'circlebook.db'}"
    engine = make_engine(url)
    migrate.upgrade(engine)
    settings = load_settings(database_url=url, secret_key=SECRET)
    nobody = f"redis://127.0.0.1:{free_port()}/0"  # a port nothing listens on
    # Not entered: the app's start-up would wait for the broker it cannot reach.
    client = TestClient(create_app(settings, engine=engine, broker=RedisBroker(nobody)))
    refused = client.get("/v1/ready")
    assert refused.status_code == 503
    assert checks(refused) == ["broker"]
    assert nobody not in refused.text  # where the broker lives is the operator's business
    assert client.get("/v1/health").status_code == 200
    gone = PostgresBroker(f"postgresql://postgres@127.0.0.1:{free_port()}/test")
    refused = TestClient(create_app(settings, engine=engine, broker=gone)).get("/v1/ready")
    assert checks(refused) == ["broker"]
    engine.dispose()


def test_not_ready_while_the_database_does_not_answer(tmp_path: Path) -> None:
    url = f"postgresql://postgres@127.0.0.1:{free_port()}/test"
    settings = load_settings(database_url=url, secret_key=SECRET, broker="local")
    engine = make_engine(url, connect_args={"connect_timeout": 3})
    refused = TestClient(create_app(settings, engine=engine)).get("/v1/ready")
    assert refused.status_code == 503
    assert checks(refused) == ["database"]
    engine.dispose()
