"""`circlebook serve` as a person runs it: a real process on loopback."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import httpx
import pytest

from circlebook.storage import migrate
from circlebook.storage.database import make_engine
from tests.conftest import LIMITS_OFF


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any CIRCLEBOOK_ setting, plus `extra`."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("CIRCLEBOOK_")}
    # Many people sign in from this one address: its limits are off unless asked for.
    off = {f"CIRCLEBOOK_{key.upper()}": str(value) for key, value in LIMITS_OFF.items()}
    return {**base, **off, **extra}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@contextmanager
def serving(env: dict[str, str], log: Path) -> Iterator[httpx.Client]:
    port = free_port()
    with log.open("ab") as sink:
        process = subprocess.Popen(
            [sys.executable, "-m", "circlebook", "serve", "--port", str(port)],
            env=clean_env(**env),
            stdout=sink,
            stderr=subprocess.STDOUT,
        )
    try:
        with httpx.Client(base_url=f"http://127.0.0.1:{port}", timeout=5) as client:
            deadline = time.monotonic() + 20
            while True:
                try:
                    client.get("/openapi.json")
                    break
                except httpx.TransportError:
                    if process.poll() is not None or time.monotonic() > deadline:
                        pytest.fail(f"server did not start:\n{log.read_text()}")
                    time.sleep(0.1)
            yield client
    finally:
        process.terminate()
        process.wait(timeout=10)


def sign_in(client: httpx.Client, outbox: Path, phone: str) -> str:
    assert client.post("/v1/auth/codes", json={"phone": phone}).status_code == 202
    text = json.loads(outbox.read_text().splitlines()[-1])["text"]
    code = text.split("code is ")[1][:6]
    response = client.post("/v1/auth/sessions", json={"phone": phone, "code": code})
    assert response.status_code == 201, response.text
    return str(response.json()["token"])


def test_serve_migrates_an_empty_sqlite_database_and_tokens_survive_a_restart(
    tmp_path: Path,
) -> None:
    outbox = tmp_path / "outbox.jsonl"
    env = {
        "CIRCLEBOOK_DATABASE_URL": f"sqlite:///{tmp_path}/data/circlebook.db",
        "CIRCLEBOOK_SMS": f"file:{outbox}",
    }
    with serving(env, tmp_path / "server.log") as client:
        token = sign_in(client, outbox, "+8613800138501")
        auth = {"Authorization": f"Bearer {token}"}
        book = client.post("/v1/books", headers=auth, json={"title": "Kept"}).json()
    assert (tmp_path / "data" / "circlebook.db.secret").exists()
    with serving(env, tmp_path / "server.log") as client:
        books = client.get("/v1/books", headers=auth).json()["books"]
        assert [b["id"] for b in books] == [book["id"]]


def test_serve_refuses_bad_settings_with_one_line(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "circlebook", "serve"],
        env=clean_env(CIRCLEBOOK_REGION="ZZ"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "CIRCLEBOOK_REGION" in result.stderr
    assert "Traceback" not in result.stderr


def test_serve_refuses_a_database_behind_the_code_until_migrated(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path}/old.db"
    engine = make_engine(url)
    migrate.upgrade(engine)
    with engine.begin() as conn:
        conn.exec_driver_sql("UPDATE alembic_version SET version_num = 'ffffffffffff'")
    engine.dispose()
    assert migrate.state(make_engine(url)) is migrate.SchemaState.UNKNOWN
    result = subprocess.run(
        [sys.executable, "-m", "circlebook", "serve"],
        env=clean_env(CIRCLEBOOK_DATABASE_URL=url),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "circlebook migrate" in result.stderr


def test_serve_refuses_several_workers_without_a_shared_broker(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "circlebook", "serve", "--workers", "2"],
        env=clean_env(CIRCLEBOOK_DATABASE_URL=f"sqlite:///{tmp_path}/cb.db"),
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    assert result.returncode == 2
    assert "redis://" in result.stderr
