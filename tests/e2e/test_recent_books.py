"""A book's header, remembered for a second, is never stale after a change on the same instance,
and is fresh again on every other instance within the second.

`GET /v1/books/{id}` and the CardDAV CTag poll answer from memory a header read
within the last second (services.books.recent_book). A change committed by the
same process counts at once; two apps over one PostgreSQL database stand for two
servers behind a load balancer. The polls have a deadline; nothing here asserts
how fast a request is.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, event

from circlebook.dav.push import message as dav_push_message
from circlebook.push import WebPushSender
from circlebook.services import dav_push, push
from circlebook.services.runtime import Runtime
from circlebook.settings import vapid_key
from tests.conftest import Person, sign_in
from tests.e2e.dav import DavUser, book_with, dav_user, parse_multistatus, propfind_body

OWNER, ANN, BOB = "+8613500135101", "+8613500135102", "+8613500135103"
CTAG = "{http://calendarserver.org/ns/}getctag"
# One second of remembering, and room for a slow machine to answer.
DEADLINE_SECONDS = 3.0
# A slow machine may let a second pass between two requests: this many tries.
TRIES = 20
# A steady poll lasting this many lifetimes of a remembered header.
POLL_LIFETIMES = 2.5


@pytest.fixture
def statements(engine: Engine) -> Iterator[list[str]]:
    """The SQL the app sends, from the moment the list is cleared."""
    seen: list[str] = []

    def record(_conn: Any, _cursor: Any, statement: str, *_: Any) -> None:
        seen.append(statement)

    event.listen(engine, "before_cursor_execute", record)
    yield seen
    event.remove(engine, "before_cursor_execute", record)


def from_memory(ask: Callable[[], httpx.Response], statements: list[str]) -> httpx.Response:
    """The answer to `ask()` once one comes without a single SQL statement."""
    for _ in range(TRIES):
        statements.clear()
        response = ask()
        if not statements:
            return response
    raise AssertionError(f"never answered from memory: {statements}")


def ctag_poll(user: DavUser, book_id: str) -> httpx.Response:
    body = propfind_body("cs:getctag", "d:sync-token")
    return user.request("PROPFIND", user.book(book_id), body, depth="0")


def ctag(response: httpx.Response) -> str:
    (answer,) = parse_multistatus(response).answers.values()
    return answer.text(CTAG)


def test_a_change_here_shows_at_once_in_a_remembered_header_and_ctag(
    people: Any, statements: list[str]
) -> None:
    owner, ann, bob = people(OWNER, "Olga"), people(ANN, "Ann"), people(BOB, "Bob")
    book_id, entry_ids = book_with(owner, "Club", [(ann, ["red"]), (bob, ["blue"])])
    phone = dav_user(ann)
    header = from_memory(lambda: ann.get(f"/v1/books/{book_id}"), statements).json()
    polled = from_memory(lambda: ctag_poll(phone, book_id), statements)
    assert header["title"] == "Club"
    assert header["entry_count"] == 2  # the owner and herself: Bob is blue
    assert ctag(polled) == f"urn:circlebook:sync:{header['sync_token']}"

    assert owner.patch(f"/v1/books/{book_id}", json={"title": "Choir"}).status_code == 200
    renamed = ann.get(f"/v1/books/{book_id}").json()
    assert renamed["title"] == "Choir"
    assert renamed["sync_token"] != header["sync_token"]
    assert ctag(ctag_poll(phone, book_id)) != ctag(polled)

    from_memory(lambda: ann.get(f"/v1/books/{book_id}"), statements)
    retag = {"tags": ["blue", "red"]}
    retagged = owner.patch(f"/v1/books/{book_id}/entries/{entry_ids[BOB]}", json=retag)
    assert retagged.status_code == 200, retagged.text
    assert ann.get(f"/v1/books/{book_id}").json()["entry_count"] == 3

    from_memory(lambda: ann.get(f"/v1/books/{book_id}"), statements)
    from_memory(lambda: ctag_poll(phone, book_id), statements)
    removed = owner.delete(f"/v1/books/{book_id}/entries/{entry_ids[ANN]}")
    assert removed.status_code == 204
    assert ann.get(f"/v1/books/{book_id}").status_code == 404
    assert ctag_poll(phone, book_id).status_code == 404


def test_a_push_round_with_nothing_to_send_leaves_remembered_headers_in_memory(
    people: Any, statements: list[str]
) -> None:
    """The push loop looks for due messages every few seconds; finding none changes nothing."""
    owner, ann = people(OWNER, "Olga"), people(ANN, "Ann")
    book_id, _ = book_with(owner, "Club", [(ann, ["red"])])
    phone = dav_user(ann)
    rt: Runtime = ann.client.app.state.runtime  # type: ignore[attr-defined]
    settings = ann.client.app.state.settings  # type: ignore[attr-defined]
    sender = WebPushSender(vapid_key(settings, rt.secret_key), "mailto:ops@example.com")

    def still_remembered_after_a_round() -> bool:
        from_memory(lambda: ann.get(f"/v1/books/{book_id}"), statements)
        from_memory(lambda: ctag_poll(phone, book_id), statements)
        assert push.deliver_due(rt, sender, "round", 10) == 0
        assert dav_push.deliver_due(rt, sender, "round", 10, dav_push_message) == 0
        statements.clear()
        assert ann.get(f"/v1/books/{book_id}").status_code == 200
        assert ctag_poll(phone, book_id).status_code == 207
        return not statements

    # A slow machine may let the second run out between the polls: a few tries.
    assert any(still_remembered_after_a_round() for _ in range(TRIES))


def test_a_steady_poller_never_waits_for_its_header_to_be_read_again(
    make_client: Callable[..., TestClient], outbox: Path, engine: Engine
) -> None:
    """A header and a sign-in in use are read again in the background before they run
    out (services.recent_sign_ins): past the first, no poll reads the database itself."""
    client = make_client(push="off")  # nothing else here reads the database meanwhile
    owner = sign_in(client, outbox, OWNER, "Olga")
    ann = sign_in(client, outbox, ANN, "Ann")
    book_id, _ = book_with(owner, "Club", [(ann, ["red"])])
    phone = dav_user(ann)
    by_thread: list[str] = []

    def record(*_: Any) -> None:
        by_thread.append(threading.current_thread().name)

    def a_steady_poll_read_only_ahead() -> bool:
        assert ann.get(f"/v1/books/{book_id}").status_code == 200
        assert ctag_poll(phone, book_id).status_code == 207
        by_thread.clear()
        until = time.monotonic() + POLL_LIFETIMES
        while time.monotonic() < until:
            assert ann.get(f"/v1/books/{book_id}").status_code == 200
            assert ctag_poll(phone, book_id).status_code == 207
            time.sleep(0.02)
        ahead = [name for name in by_thread if name.startswith("read-ahead")]
        return bool(ahead) and len(ahead) == len(by_thread)

    event.listen(engine, "before_cursor_execute", record)
    try:
        # A slow machine may hold a poll up past a lifetime: a few tries.
        assert any(a_steady_poll_read_only_ahead() for _ in range(5))
    finally:
        event.remove(engine, "before_cursor_execute", record)


def test_a_remembered_header_is_the_one_the_database_gives(
    make_client: Callable[..., TestClient], outbox: Path, statements: list[str]
) -> None:
    remembering, reading = make_client(), make_client(book_cache_seconds=0)
    owner = sign_in(remembering, outbox, OWNER, "Olga")
    ann = sign_in(remembering, outbox, ANN, "Ann")
    book_id, _ = book_with(owner, "Club", [(ann, ["red"])])
    phone = dav_user(ann)
    remembered = from_memory(lambda: ann.get(f"/v1/books/{book_id}"), statements)
    polled = from_memory(lambda: ctag_poll(phone, book_id), statements)

    ann_there = Person(reading, ann.phone, ann.account, ann.token)
    read = ann_there.get(f"/v1/books/{book_id}")
    statements.clear()
    read_poll = ctag_poll(DavUser(ann_there, phone.password), book_id)
    assert statements  # the app told to remember nothing read the database
    assert remembered.content == read.content
    assert polled.content == read_poll.content
    assert polled.headers["content-type"] == read_poll.headers["content-type"]


def settles(check: Callable[[], bool]) -> bool:
    """Whether `check()` comes true before the deadline; it may be false until then."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while not check():
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)
    return True


@pytest.mark.postgres
@pytest.mark.parametrize("database_url", ["postgres"], indirect=True)
def test_a_change_on_one_instance_reaches_a_header_remembered_on_another_within_a_second(
    make_client: Callable[..., TestClient], outbox: Path, statements: list[str]
) -> None:
    here, there = make_client(), make_client()
    owner = sign_in(here, outbox, OWNER, "Olga")
    ann = sign_in(here, outbox, ANN, "Ann")
    book_id, entry_ids = book_with(owner, "Club", [(ann, ["red"])])
    phone = dav_user(ann)
    ann_there = Person(there, ann.phone, ann.account, ann.token)
    phone_there = DavUser(ann_there, phone.password)
    from_memory(lambda: ann_there.get(f"/v1/books/{book_id}"), statements)
    polled = ctag(from_memory(lambda: ctag_poll(phone_there, book_id), statements))

    assert owner.patch(f"/v1/books/{book_id}", json={"title": "Choir"}).status_code == 200
    assert settles(lambda: ann_there.get(f"/v1/books/{book_id}").json()["title"] == "Choir")
    assert settles(lambda: ctag(ctag_poll(phone_there, book_id)) != polled)

    from_memory(lambda: ann_there.get(f"/v1/books/{book_id}"), statements)
    from_memory(lambda: ctag_poll(phone_there, book_id), statements)
    assert owner.delete(f"/v1/books/{book_id}/entries/{entry_ids[ANN]}").status_code == 204
    assert settles(lambda: ann_there.get(f"/v1/books/{book_id}").status_code == 404)
    assert settles(lambda: ctag_poll(phone_there, book_id).status_code == 404)
