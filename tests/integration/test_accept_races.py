"""Racing answers to one invitation, on each backend, through the real storage."""

from __future__ import annotations

import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from circlebook.domain.errors import NotFoundError
from circlebook.services import answers, auth
from circlebook.services.runtime import Runtime

OWNER, A = "+8613800138301", "+8613800138302"
RACERS = 8


def race(calls: list[Callable[[], Any]]) -> list[Any]:
    """Run the calls at once from as many threads; each result or the exception it raised."""
    barrier = threading.Barrier(len(calls))

    def run(call: Callable[[], Any]) -> Any:
        barrier.wait()
        try:
            return call()
        except Exception as exc:  # the race's outcome is what we assert on
            return exc

    with ThreadPoolExecutor(len(calls)) as pool:
        return list(pool.map(run, calls))


def setup(client: TestClient, people: Any) -> tuple[Runtime, Any, str, str]:
    owner, a = people(OWNER, "Owner"), people(A, "A")
    book = owner.post("/v1/books", json={"title": "Race", "invitees": [{"phone": A}]}).json()
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return rt, auth.authenticate(rt, a.token), a.invitation_to(book["id"]), book["id"]


def entries_of(engine: Engine, book_id: str) -> int:
    with engine.connect() as conn:
        query = text("SELECT count(*) FROM entries WHERE book_id = :b")
        return int(conn.execute(query, {"b": book_id}).scalar_one())


def test_racing_accepts_yield_exactly_one_entry(
    client: TestClient, people: Any, engine: Engine
) -> None:
    rt, account, inv, book_id = setup(client, people)
    results = race([lambda: answers.accept(rt, account, inv)] * RACERS)
    assert not [r for r in results if isinstance(r, Exception)]
    assert len({r.id for r in results}) == 1
    assert entries_of(engine, book_id) == 2


def test_racing_accept_and_decline_leave_one_consistent_answer(
    client: TestClient, people: Any, engine: Engine
) -> None:
    rt, account, inv, book_id = setup(client, people)
    results = race(
        [
            lambda: answers.accept(rt, account, inv),
            lambda: answers.decline(rt, account, inv),
        ]
    )
    accepted, declined = results
    with engine.connect() as conn:
        pending = conn.execute(text("SELECT count(*) FROM invitations")).scalar_one()
    assert pending == 0
    if isinstance(declined, NotFoundError):  # the accept won
        assert entries_of(engine, book_id) == 2
    else:  # the decline won: the accept found nothing to accept
        assert isinstance(accepted, NotFoundError)
        assert entries_of(engine, book_id) == 1
