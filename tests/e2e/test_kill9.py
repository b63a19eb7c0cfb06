"""A server killed with SIGKILL mid-write loses no answered write and leaves none half done.

Eight people join, rename themselves and leave one book over and over while the
server is killed at random moments and restarted on the same database. Then:
every write the server answered 2xx is still there, every change to the book
left exactly one event and no stray row, and a delta sync from a token taken
early equals a full fetch.
"""

from __future__ import annotations

import json
import os
import random
import signal
import threading
import time
from contextlib import ExitStack
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import bench.server as bench_server
import httpx
import pytest
from bench.server import Server, server_process
from sqlalchemy import create_engine, text

from tests.conftest import SECRET

SEED = 20260301
KILLS = 20
PEOPLE = 8
OWNER_PHONE = "+8613800138000"
# Past this many write cycles a person stops, so a slow machine still ends.
MAX_CYCLES = 400
# How long a client waits before sending again to a server that is down.
RETRY = 0.2


class Gone(Exception):
    """The main thread asked the clients to stop."""


class Live:
    """The server's current base URL, which changes at every restart."""

    def __init__(self, url: str) -> None:
        self._lock = threading.Lock()
        self._url = url
        self.stop = threading.Event()
        self._local = threading.local()
        self._clients: list[httpx.Client] = []
        # What went wrong in a client thread, for the main thread to fail on.
        self.errors: list[str] = []

    def http(self) -> httpx.Client:
        """This thread's client: one connection pool each, not a new client per request."""
        client: httpx.Client | None = getattr(self._local, "client", None)
        if client is None:
            client = self._local.client = httpx.Client(timeout=5.0)
            with self._lock:
                self._clients.append(client)
        return client

    def close(self) -> None:
        with self._lock:
            for client in self._clients:
                client.close()

    @property
    def url(self) -> str:
        with self._lock:
            return self._url

    @url.setter
    def url(self, value: str) -> None:
        with self._lock:
            self._url = value


@dataclass
class Write:
    """One write a person attempted, the state it leads to, and whether it was answered 2xx.

    `state` is None for "not a member", else the member's name. `answered` is
    True (2xx), False (refused with no earlier send lost: it did nothing) or
    None (an answer was lost: it may or may not have happened).
    """

    kind: str
    state: str | None
    answered: bool | None = None


@dataclass
class Person:
    phone: str
    token: str
    writes: list[Write] = field(default_factory=list)


def call(
    live: Live,
    method: str,
    path: str,
    token: str,
    body: dict[str, Any] | None = None,
) -> tuple[httpx.Response, bool]:
    """Send until answered below 500; also say whether an earlier send's answer was lost."""
    lost = False
    while True:
        if live.stop.is_set():
            raise Gone
        try:
            response = live.http().request(
                method, live.url + path, json=body, headers={"authorization": f"Bearer {token}"}
            )
        except httpx.ConnectError:
            # Nothing reached the server: this send did nothing.
            time.sleep(RETRY)
            continue
        except httpx.TransportError:
            lost = True
            time.sleep(RETRY)
            continue
        if response.status_code >= 500:
            lost = True
            time.sleep(RETRY)
            continue
        return response, lost


def write(live: Live, person: Person, w: Write, method: str, path: str, body: Any = None) -> bool:
    """Attempt one write (resending the same request until answered) and record it."""
    person.writes.append(w)
    w.answered = None
    response, lost = call(live, method, path, person.token, body)
    if response.is_success:
        w.answered = True
    elif not lost:
        w.answered = False
    return response.is_success


def own_entry(live: Live, person: Person, book_id: str) -> dict[str, Any] | None:
    response, _ = call(live, "GET", f"/v1/books/{book_id}/entries", person.token)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    mine = [e for e in response.json()["entries"] if e["phone"] == person.phone]
    return mine[0] if mine else None


def churn(live: Live, owner: Person, person: Person, book_id: str, n: int) -> None:
    """Join, rename, leave, again and again, until told to stop."""
    attempt = 0

    def fresh(what: str) -> str:
        nonlocal attempt
        attempt += 1
        return f"p{n}-{what}-{attempt}"

    try:
        for _ in range(MAX_CYCLES):
            entry = own_entry(live, person, book_id)
            if entry is None:
                inbox, _ = call(live, "GET", "/v1/invitations", person.token)
                mine = [i for i in inbox.json()["invitations"] if i["book_id"] == book_id]
                if not mine:
                    # The owner's write: it changes invitations, not the book.
                    write(
                        live,
                        owner,
                        Write("invite", None),
                        "POST",
                        f"/v1/books/{book_id}/invitations",
                        {"invitees": [{"phone": person.phone}]},
                    )
                    continue
                name = fresh("joined")
                write(
                    live,
                    person,
                    Write("accept", name),
                    "POST",
                    f"/v1/invitations/{mine[0]['id']}/accept",
                    {"name": name},
                )
                continue
            path = f"/v1/books/{book_id}/entries/{entry['id']}"
            name = fresh("renamed")
            if write(live, person, Write("rename", name), "PATCH", path, {"name": name}):
                write(live, person, Write("leave", None), "DELETE", path)
    except Gone:
        return
    except Exception as exc:  # handed to the main thread, which fails the test
        live.errors.append(f"{person.phone}: {exc!r}")


def snapshot(live: Live, person: Person, book_id: str) -> dict[str, Any] | None:
    response, _ = call(live, "GET", f"/v1/books/{book_id}/entries", person.token)
    if response.status_code == 404:
        return None
    assert response.status_code == 200, response.text
    body: dict[str, Any] = response.json()
    return body


def sign_in(base_url: str, outbox: Path, phone: str) -> str:
    with httpx.Client(base_url=base_url, timeout=10.0) as http:
        before = outbox.read_text().count(phone) if outbox.exists() else 0
        assert http.post("/v1/auth/codes", json={"phone": phone}).status_code == 202
        deadline = time.monotonic() + 20
        while True:
            texts = [
                m["text"]
                for m in map(json.loads, outbox.read_text().splitlines())
                if m["to"] == phone
            ]
            if len(texts) > before:
                break
            assert time.monotonic() < deadline, f"no code was texted to {phone}"
            time.sleep(0.05)
        code = texts[-1].split("code is ")[1][:6]
        response = http.post(
            "/v1/auth/sessions", json={"phone": phone, "code": code, "device": "kill9"}
        )
        assert response.status_code == 201, response.text
        return str(response.json()["token"])


def lost_writes(person: Person, final: str | None) -> list[str]:
    """Empty when the final state is the effect of the last answered write or a later one."""
    answered = [i for i, w in enumerate(person.writes) if w.kind != "invite" and w.answered]
    last = answered[-1] if answered else -1
    own = [w for w in person.writes[last + 1 :] if w.kind != "invite" and w.answered is not False]
    candidates = {w.state for w in own}
    candidates.add(person.writes[last].state if last >= 0 else None)
    if final in candidates:
        return []
    return [f"{person.phone} ends {final!r}, expected one of {sorted(map(str, candidates))}"]


def half_done(database_url: str, book_id: str) -> list[str]:
    """What the database holds that no whole write would have left."""
    problems: list[str] = []
    engine = create_engine(database_url)
    try:
        with engine.connect() as conn:
            version = conn.execute(
                text("SELECT version FROM books WHERE id = :b"), {"b": book_id}
            ).scalar_one()
            changed = conn.execute(
                text(
                    "SELECT version, subject_id FROM events"
                    " WHERE type = 'book.changed' AND book_id = :b"
                ),
                {"b": book_id},
            ).all()
            subjects: dict[int, list[str | None]] = {}
            for at, subject in changed:
                subjects.setdefault(at, []).append(subject)
            # Creating the book is version 1; every later change bumps it by one
            # and records exactly one book.changed in the same transaction.
            versions = sorted(subjects)
            if versions != list(range(1, version + 1)):
                missing = sorted(set(range(1, version + 1)) - set(versions))
                extra = sorted(set(versions) - set(range(1, version + 1)))
                problems.append(f"book.changed versions: missing {missing}, beyond {extra}")
            twice = [v for v, s in subjects.items() if len(s) > 1]
            if twice:
                problems.append(f"book.changed versions recorded twice: {twice}")
            rows = conn.execute(
                text(
                    "SELECT e.account_id, e.version, a.id FROM entries e"
                    " LEFT JOIN accounts a ON a.id = e.account_id WHERE e.book_id = :b"
                ),
                {"b": book_id},
            ).all()
            for account_id, entry_version, found in rows:
                if found is None:
                    problems.append(f"entry of missing account {account_id}")
                # The write that last touched an entry is the change that names it.
                if account_id not in subjects.get(entry_version, []):
                    problems.append(f"entry of {account_id} at v{entry_version} has no event")
            # A member's view never runs ahead of the book it is a view of.
            ahead = conn.execute(
                text("SELECT tags, version FROM book_views WHERE book_id = :b AND version > :v"),
                {"b": book_id, "v": version},
            ).all()
            if ahead:
                problems.append(f"views ahead of the book: {ahead}")
            left = conn.execute(
                text("SELECT account_id, version FROM departures WHERE book_id = :b"),
                {"b": book_id},
            ).all()
            for account_id, departed in left:
                if account_id not in subjects.get(departed, []):
                    problems.append(f"departure of {account_id} at v{departed} has no event")
    finally:
        engine.dispose()
    return problems


def applied(early: dict[str, Any], delta: dict[str, Any]) -> dict[str, dict[str, Any]]:
    view = {e["id"]: e for e in early["entries"]}
    for gone in delta["removed"]:
        view.pop(gone, None)
    view.update({e["id"]: e for e in delta["entries"]})
    return view


def compare_delta_syncs(
    live: Live,
    owner: Person,
    people: list[Person],
    book_id: str,
    early: dict[str, dict[str, Any] | None],
) -> tuple[int, list[str]]:
    """How many delta syncs from the `early` tokens were compared with a full fetch, and
    the phones whose delta applied to their early view differs from it."""
    mismatched: list[str] = []
    compared = 0
    for p in [owner, *people]:
        before = early.get(p.phone)
        if before is None:
            continue
        since = f"/v1/books/{book_id}/entries?since={before['sync_token']}"
        delta, _ = call(live, "GET", since, p.token)
        full = snapshot(live, p, book_id)
        if delta.status_code == 404 or full is None:
            continue  # no longer a member
        if delta.status_code == 410 and p is not owner:
            # Left and joined again since the token: its view started over, and
            # the server says so instead of answering a delta from before.
            continue
        assert delta.status_code == 200, delta.text
        compared += 1
        if applied(before, delta.json()) != {e["id"]: e for e in full["entries"]}:
            mismatched.append(p.phone)
    return compared, mismatched


@pytest.fixture(params=["sqlite", pytest.param("postgres", marks=pytest.mark.postgres)])
def kill_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """An empty database on each backend that the server migrates itself."""
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path / 'kill.db'}"
    url: str = request.getfixturevalue("empty_postgres")
    return url


@pytest.mark.slow
def test_sigkill_at_random_moments_loses_no_answered_write_and_leaves_none_half_done(
    kill_url: str, tmp_path: Path, request: pytest.FixtureRequest, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Only how long to wait for each restart to answer, never part of what is checked:
    # beside other test workers on a busy machine, a start can take more than the minute
    # the benchmarks allow.
    monkeypatch.setattr(bench_server, "STARTUP_TIMEOUT", 300.0)
    backend = request.node.callspec.params["kill_url"]
    outbox = tmp_path / "outbox.jsonl"
    rng = random.Random(SEED)
    restarts = 0
    # Twenty restarts should not compile the sources twenty times where the
    # environment turns bytecode caching off: cache it outside the source tree.
    cache = {"PYTHONDONTWRITEBYTECODE": "", "PYTHONPYCACHEPREFIX": str(tmp_path / "pycache")}

    def start(stack: ExitStack) -> Server:
        nonlocal restarts
        restarts += 1
        log = tmp_path / f"server-{restarts}.log"
        return stack.enter_context(server_process(kill_url, SECRET, outbox, log, cache))

    # The clients close after the last server stops; `servers` is emptied at every kill.
    with ExitStack() as clients, ExitStack() as servers:
        server = start(servers)
        live = Live(server.base_url)
        clients.callback(live.close)
        owner = Person(OWNER_PHONE, sign_in(server.base_url, outbox, OWNER_PHONE))
        phones = [f"+86138001381{n:02d}" for n in range(PEOPLE)]
        people = [Person(phone, sign_in(server.base_url, outbox, phone)) for phone in phones]
        created, _ = call(
            live,
            "POST",
            "/v1/books",
            owner.token,
            {"title": "Kill -9", "invitees": [{"phone": p.phone} for p in people]},
        )
        assert created.status_code == 201, created.text
        book_id = created.json()["id"]

        threads = [
            threading.Thread(target=churn, args=(live, owner, p, book_id, n), daemon=True)
            for n, p in enumerate(people)
        ]
        for t in threads:
            t.start()
        early: dict[str, dict[str, Any] | None] = {}
        try:
            for kill in range(KILLS):
                time.sleep(rng.uniform(0.3, 1.2))
                if kill == 2:
                    # Tokens taken while writes go on, to sync from at the end.
                    early = {p.phone: snapshot(live, p, book_id) for p in [owner, *people]}
                os.kill(server.pid, signal.SIGKILL)
                servers.close()
                server = start(servers)
                live.url = server.base_url
            time.sleep(rng.uniform(0.3, 1.2))
        finally:
            live.stop.set()
            for t in threads:
                t.join(timeout=30)
        assert not any(t.is_alive() for t in threads), "a client did not stop"
        assert not live.errors, "\n".join(live.errors)

        live.stop.clear()
        lost: list[str] = []
        for p in people:
            entry = own_entry(live, p, book_id)
            lost += lost_writes(p, entry["name"] if entry else None)

        compared, mismatched = compare_delta_syncs(live, owner, people, book_id, early)
    broken = half_done(kill_url, book_id)

    writes = [w for p in [owner, *people] for w in p.writes]
    acked = sum(1 for w in writes if w.answered)
    unknown = sum(1 for w in writes if w.answered is None)
    summary = (
        f"{backend}: {KILLS} kills, {acked} writes acknowledged, {unknown} unknown, "
        f"{len(lost)} lost, {len(broken)} half-done, "
        f"{compared} delta syncs compared, {len(mismatched)} differ"
    )
    print(summary)
    assert acked > 0, summary
    assert not lost, f"{summary}\n" + "\n".join(lost)
    assert not broken, f"{summary}\n" + "\n".join(broken)
    assert compared > 0, summary
    assert not mismatched, f"{summary}: {mismatched}"
