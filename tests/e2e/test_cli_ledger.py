"""`circlebook ledger` against a real server: the table, and `--verify` catching a rewrite.

The server runs on SQLite and on PostgreSQL; the tests rewrite and drop stored
records directly in its database, as someone with access to it could.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from sqlalchemy import Engine, text

from circlebook.client import AsyncClient, Client
from circlebook.hashchain import verify
from circlebook.storage.database import make_engine
from circlebook.storage.schema import metadata
from tests.conftest import SECRET
from tests.e2e.live import Server, live_server
from tests.e2e.test_cli import Terminal, create, row, signed_in

OWNER = ("+8615100151201", "Li Lei")
MEMBER = ("+8615100151202", "Han Meimei")
OTHER = ("+8615100151203", "Wang Fang")


@pytest.fixture(
    scope="module", params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)]
)
def backend(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[tuple[Server, Engine]]:
    workdir = tmp_path_factory.mktemp("server")
    url = f"sqlite:///{workdir / 'circlebook.db'}"
    if request.param == "postgres":
        url = request.getfixturevalue("postgres_database")
        engine = make_engine(url)
        with engine.begin() as conn:
            tables = ", ".join(t.name for t in metadata.sorted_tables)
            conn.execute(text(f"TRUNCATE {tables} RESTART IDENTITY CASCADE"))
        engine.dispose()
    with live_server(workdir, database_url=url, secret_key=SECRET) as running:
        engine = make_engine(url)
        yield running, engine
        engine.dispose()


@pytest.fixture
def terminal(
    backend: tuple[Server, Engine], tmp_path_factory: pytest.TempPathFactory
) -> Callable[[tuple[str, str]], Terminal]:
    server, _ = backend

    def _signed_in(who: tuple[str, str]) -> Terminal:
        return signed_in(server, Terminal(tmp_path_factory.mktemp("terminal"), server.url), who)

    return _signed_in


def joined(owner: Terminal, member: Terminal, title: str, phone: str) -> None:
    create(owner, title, phone)
    assert f"You joined {title}" in member.cli("accept", title)


def account_of(term: Terminal) -> str:
    session = json.loads(term.session_file.read_text())
    return str(session["account_id"])


def test_the_ledger_is_a_table_and_verifies_then_a_rewritten_record_fails(
    terminal: Callable[[tuple[str, str]], Terminal], backend: tuple[Server, Engine]
) -> None:
    _, engine = backend
    owner, member = terminal(OWNER), terminal(MEMBER)
    joined(owner, member, "Reunion", MEMBER[0])

    shown = member.cli("ledger")
    assert "My consent record" in shown
    assert "invited" in row(shown, "invited") and "Reunion" in row(shown, "invited")
    assert "by the owner" in row(shown, "invited")
    assert "accepted" in row(shown, "accepted")
    assert [r["kind"] for r in member.json("ledger")] == ["accepted", "invited"]

    verified = member.cli("ledger", "--verify")
    newest = member.json("ledger")[0]
    assert f"ledger verified: 2 records, head 2 {newest['hash'][:12]}" in verified
    heads = json.loads((member.home / "config" / "circlebook" / "ledger_heads.json").read_text())
    assert list(heads.values()) == [{"ledger_head": {"seq": 2, "hash": newest["hash"]}}]

    with engine.begin() as conn:
        changed = conn.execute(
            text(
                "UPDATE ledger SET body = replace(body, 'Reunion', 'Reunited')"
                " WHERE seq = 1 AND account_id = :a"
            ),
            {"a": account_of(member)},
        )
        assert changed.rowcount == 1
    line = member.fails("ledger", "--verify")
    assert "ledger NOT verified: record 1 was changed" in line


def test_dropping_the_newest_record_fails_against_the_kept_head(
    terminal: Callable[[tuple[str, str]], Terminal], backend: tuple[Server, Engine]
) -> None:
    _, engine = backend
    owner, other = terminal(OWNER), terminal(OTHER)
    joined(owner, other, "Choir", OTHER[0])
    joined(owner, other, "Band", OTHER[0])
    assert "ledger verified: 4 records, head 4" in other.cli("ledger", "--verify")

    with engine.begin() as conn:
        conn.execute(
            text("DELETE FROM ledger WHERE seq = 4 AND account_id = :a"), {"a": account_of(other)}
        )
    line = other.fails("ledger", "--verify")
    assert "records were dropped" in line
    # A newcomer to this chain, with no head kept, could not have told.
    assert "ledger verified: 3 records" in terminal(OTHER).cli("ledger", "--verify")


def test_an_empty_ledger_verifies_with_no_head(
    terminal: Callable[[tuple[str, str]], Terminal], tmp_path: Path
) -> None:
    owner = terminal(("+8615100151204", "Zhao"))
    assert "ledger verified: 0 records, no head yet" in owner.cli("ledger", "--verify")
    assert "Nothing recorded yet." in owner.cli("ledger")


def test_the_sdks_read_every_page_newest_first(
    terminal: Callable[[tuple[str, str]], Terminal], backend: tuple[Server, Engine]
) -> None:
    server, _ = backend
    owner = terminal(OWNER)
    member = terminal(("+8615100151205", "Qian"))
    for title in ("One", "Two", "Three"):
        joined(owner, member, title, "+8615100151205")
    token = json.loads(member.session_file.read_text())["token"]

    with Client(server.url, token) as client:
        first = client.ledger(limit=4)
        assert [r["seq"] for r in first.records] == [6, 5, 4, 3]
        assert first.next_after == 3
        assert client.ledger(after=3).records[0]["seq"] == 2
        records = list(client.ledger_records(limit=2))

    async def read_async() -> list[dict[str, Any]]:
        async with AsyncClient(server.url, token) as client:
            return [r async for r in client.ledger_records(limit=4)]

    assert [r["seq"] for r in records] == [6, 5, 4, 3, 2, 1]
    assert asyncio.run(read_async()) == records
    assert verify(list(reversed(records)), None) is None
