"""`circlebook backup` of a busy server, and `circlebook restore` into the other backend.

A server on one backend is kept busy (invitations, accepts, renames, departures)
while `circlebook backup` runs; the backup is restored into an empty database
of the other backend and served. A backup taken under load is checked for
consistency (versions, events, foreign keys, every ledger chain); one taken
when the server is quiet must give every member exactly the view the original
gives them, sessions and all.
"""

from __future__ import annotations

import subprocess
import threading
import uuid
from collections.abc import Callable, Iterator
from contextlib import ExitStack
from pathlib import Path
from typing import Any

import httpx
import psycopg
import pytest
from sqlalchemy import text

from circlebook.hashchain import verify
from circlebook.storage.database import make_engine
from tests.conftest import POSTGRES_URL, SECRET, services_unavailable
from tests.e2e.live import CIRCLEBOOK, Server, live_server
from tests.e2e.test_server_process import clean_env

OWNER = "+8613800139000"
MEMBERS = [f"+86138001390{n:02d}" for n in range(1, 7)]
CHURNERS = ["+8613800139101", "+8613800139102"]
# The load runs at least this many cycles before the backup and one more during or after it.
WARM_UP_CYCLES = 3


def cli(*args: str, database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CIRCLEBOOK, *args],
        env=clean_env(CIRCLEBOOK_DATABASE_URL=database_url),
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


@pytest.fixture
def blank_postgres() -> Iterator[Callable[[], str]]:
    """make() gives a new PostgreSQL database with nothing in it, dropped at the end."""
    made: list[str] = []

    def make() -> str:
        name = f"circlebook_test_{uuid.uuid4().hex[:12]}"
        try:
            with psycopg.connect(POSTGRES_URL, autocommit=True, connect_timeout=3) as admin:
                admin.execute(f'CREATE DATABASE "{name}"')
        except psycopg.OperationalError as exc:
            services_unavailable(f"PostgreSQL at {POSTGRES_URL}", exc)
        made.append(name)
        return POSTGRES_URL.rsplit("/", 1)[0] + f"/{name}"

    yield make
    with psycopg.connect(POSTGRES_URL, autocommit=True) as admin:
        for name in made:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def signed_in(server: Server, stack: ExitStack, phone: str, name: str) -> httpx.Client:
    code = server.send_code(phone)
    body = {"phone": phone, "code": code, "device": "test", "name": name}
    response = server.http.post("/v1/auth/sessions", json=body)
    assert response.status_code == 201, response.text
    headers = {"authorization": f"Bearer {response.json()['token']}"}
    return stack.enter_context(httpx.Client(base_url=server.url, headers=headers, timeout=30))


def ok(response: httpx.Response) -> Any:
    assert response.is_success, f"{response.request.method} {response.request.url}: {response.text}"
    return response.json() if response.content else None


def accept(person: httpx.Client, book_id: str, name: str | None = None) -> str:
    inbox = ok(person.get("/v1/invitations"))["invitations"]
    invitation = next(i for i in inbox if i["book_id"] == book_id)
    body = {"name": name} if name else {}
    return str(ok(person.post(f"/v1/invitations/{invitation['id']}/accept", json=body))["entry_id"])


def populate(server: Server, stack: ExitStack) -> dict[str, httpx.Client]:
    """Two books with tags, answers both ways, renames, a retag and a departure."""
    people = {OWNER: signed_in(server, stack, OWNER, "Olga Owner")}
    for n, phone in enumerate(MEMBERS + CHURNERS):
        people[phone] = signed_in(server, stack, phone, f"Member {n} 成员")
    owner = people[OWNER]
    tags = [["red"], ["red", "blue"], ["blue"], []]
    club = ok(
        owner.post(
            "/v1/books",
            json={
                "title": "Club",
                "invitees": [
                    {"phone": p, "name": f"Club name {i}", "tags": t}
                    for i, (p, t) in enumerate(zip(MEMBERS[:4], tags, strict=True))
                ],
            },
        )
    )["id"]
    school = ok(
        owner.post("/v1/books", json={"title": "School", "invitees": [{"phone": MEMBERS[4]}]})
    )["id"]
    entries = {p: accept(people[p], club, f"Self {p[-2:]}") for p in MEMBERS[:3]}
    invitation = ok(people[MEMBERS[3]].get("/v1/invitations"))["invitations"][0]["id"]
    ok(people[MEMBERS[3]].post(f"/v1/invitations/{invitation}/decline"))
    accept(people[MEMBERS[4]], school)
    ok(owner.post(f"/v1/books/{school}/invitations", json={"invitees": [{"phone": MEMBERS[5]}]}))
    ok(owner.patch(f"/v1/books/{club}", json={"title": "Club 2026"}))
    ok(owner.patch(f"/v1/books/{club}/entries/{entries[MEMBERS[1]]}", json={"tags": ["blue"]}))
    ok(people[MEMBERS[2]].delete(f"/v1/books/{club}/entries/{entries[MEMBERS[2]]}"))
    return people


class Load(threading.Thread):
    """People join a book, rename themselves and leave, and the owner renames it, until stopped."""

    def __init__(self, people: dict[str, httpx.Client], book_id: str) -> None:
        super().__init__(daemon=True)
        self.people, self.book_id = people, book_id
        self.stop = threading.Event()
        self.cycles = 0
        self.cycled = threading.Condition()
        self.error: BaseException | None = None

    def run(self) -> None:
        owner = self.people[OWNER]
        try:
            while not self.stop.is_set():
                for phone in CHURNERS:
                    book = f"/v1/books/{self.book_id}"
                    ok(owner.post(f"{book}/invitations", json={"invitees": [{"phone": phone}]}))
                    entry = accept(self.people[phone], self.book_id, f"Joined {self.cycles}")
                    ok(self.people[phone].patch(f"{book}/entries/{entry}", json={"name": "R"}))
                    ok(owner.patch(book, json={"title": f"Busy {self.cycles}"}))
                    ok(self.people[phone].delete(f"{book}/entries/{entry}"))
                with self.cycled:
                    self.cycles += 1
                    self.cycled.notify_all()
        except BaseException as exc:  # handed to the test, which fails on it
            self.error = exc
            with self.cycled:
                self.cycled.notify_all()

    def wait_for(self, cycles: int) -> None:
        with self.cycled:
            self.cycled.wait_for(lambda: self.cycles >= cycles or self.error is not None)
        assert self.error is None, repr(self.error)


def whole_ledger(person: httpx.Client) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = []
    after = None
    while True:
        params = {"limit": 50} if after is None else {"limit": 50, "after": after}
        page = ok(person.get("/v1/me/ledger", params=params))
        records.extend(page["records"])
        if (after := page["next_after"]) is None:
            return list(reversed(records))


def views(url: str, people: dict[str, httpx.Client]) -> dict[str, Any]:
    """What every person sees, through the server at `url`, with the same sessions."""
    seen: dict[str, Any] = {}
    for phone, original in people.items():
        headers = {"authorization": original.headers["authorization"]}
        with httpx.Client(base_url=url, headers=headers, timeout=30) as person:
            books = ok(person.get("/v1/books"))
            ledger = whole_ledger(person)
            assert verify(ledger, None) is None, f"{phone}'s ledger does not verify"
            seen[phone] = {
                "me": ok(person.get("/v1/me")),
                "books": books,
                "entries": {
                    b["id"]: ok(person.get(f"/v1/books/{b['id']}/entries")) for b in books["books"]
                },
                "inbox": ok(person.get("/v1/invitations")),
                "ledger": ledger,
            }
    return seen


def assert_consistent(database_url: str) -> None:
    """What any single moment of a circlebook database satisfies."""
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            for book_id, version, newest_event in conn.execute(
                text(
                    "SELECT b.id, b.version, (SELECT max(e.version) FROM events e"
                    " WHERE e.book_id = b.id) FROM books b"
                )
            ):
                assert version == newest_event, f"book {book_id} is at {version}, its events not"
            for check in (
                "SELECT count(*) FROM entries n JOIN books b ON b.id = n.book_id"
                " WHERE n.version > b.version OR n.tags_version > b.version",
                "SELECT count(*) FROM departures d JOIN books b ON b.id = d.book_id"
                " WHERE d.version > b.version",
                "SELECT count(*) FROM book_views v JOIN books b ON b.id = v.book_id"
                " WHERE v.version > b.version",
                "SELECT count(*) FROM entries n LEFT JOIN accounts a ON a.id = n.account_id"
                " WHERE a.id IS NULL",
                "SELECT count(*) FROM ledger l LEFT JOIN accounts a ON a.id = l.account_id"
                " WHERE a.id IS NULL",
            ):
                assert conn.scalar(text(check)) == 0, check
    finally:
        engine.dispose()


def newest_event_id(database_url: str) -> int:
    engine = make_engine(database_url)
    try:
        with engine.connect() as conn:
            return int(conn.scalar(text("SELECT max(id) FROM events")) or 0)
    finally:
        engine.dispose()


@pytest.mark.slow
@pytest.mark.parametrize(
    "source", [pytest.param("sqlite"), pytest.param("postgres", marks=pytest.mark.postgres)]
)
def test_a_busy_server_backed_up_restores_into_the_other_backend_with_every_view(
    source: str, tmp_path: Path, blank_postgres: Callable[[], str], empty_postgres: str
) -> None:
    def sqlite(name: str) -> str:
        return f"sqlite:///{tmp_path / name}"

    if source == "sqlite":
        original, under_load, quiet = sqlite("original.db"), blank_postgres(), blank_postgres()
    else:
        original, under_load, quiet = empty_postgres, sqlite("under-load.db"), sqlite("quiet.db")
        # One target already migrated and empty, as `circlebook migrate` leaves it.
        assert cli("migrate", database_url=quiet).returncode == 0
    busy_file, quiet_file = tmp_path / "busy.backup", tmp_path / "quiet.backup"

    with ExitStack() as stack:
        server = stack.enter_context(
            live_server(tmp_path, "original", database_url=original, secret_key=SECRET)
        )
        people = populate(server, stack)
        busy_book = ok(people[OWNER].post("/v1/books", json={"title": "Busy"}))["id"]
        load = Load(people, busy_book)
        load.start()
        try:
            load.wait_for(WARM_UP_CYCLES)
            backed_up = cli("backup", str(busy_file), database_url=original)
            load.wait_for(load.cycles + 1)
        finally:
            load.stop.set()
            load.join()
        assert load.error is None, repr(load.error)
        assert backed_up.returncode == 0, backed_up.stderr

        taken = cli("backup", str(quiet_file), database_url=original)
        assert taken.returncode == 0, taken.stderr
        before = views(server.url, people)

        restored = cli("restore", str(busy_file), database_url=under_load)
        assert restored.returncode == 0, restored.stderr
        assert_consistent(under_load)
        last_restored_event = newest_event_id(under_load)
        with live_server(
            tmp_path, "under-load", database_url=under_load, secret_key=SECRET
        ) as copy:
            views(copy.url, people)  # every ledger verifies, every book answers
            owner = {"authorization": people[OWNER].headers["authorization"]}
            renamed = copy.http.patch(
                f"/v1/books/{busy_book}", json={"title": "After"}, headers=owner
            )
            assert renamed.status_code == 200, renamed.text
        # The id counters were moved past the restored rows: the new event has a new id.
        assert newest_event_id(under_load) > last_restored_event

        restored = cli("restore", str(quiet_file), database_url=quiet)
        assert restored.returncode == 0, restored.stderr
        with live_server(tmp_path, "quiet", database_url=quiet, secret_key=SECRET) as copy:
            after = views(copy.url, people)
        assert after == before

        again = cli("restore", str(quiet_file), database_url=quiet)
        assert again.returncode == 1
        assert "not empty" in again.stderr
        assert "Traceback" not in again.stderr
