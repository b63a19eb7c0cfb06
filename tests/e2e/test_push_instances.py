"""Web Push from several server instances on one PostgreSQL: each message is sent once."""

from __future__ import annotations

from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest

from circlebook.storage.database import make_engine
from tests.conftest import SECRET
from tests.e2e.live import Server, live_server
from tests.e2e.push_service import push_service
from tests.e2e.test_dav_push import register_body
from tests.e2e.test_push import drained

OWNER = "+8613900139101"
FRIENDS = [f"+86139001392{i:02d}" for i in range(4)]
BOOKS = 12


def signed_in(server: Server, phone: str, name: str) -> httpx.Client:
    code = server.send_code(phone)
    answer = server.http.post(
        "/v1/auth/sessions", json={"phone": phone, "code": code, "device": "t", "name": name}
    )
    assert answer.status_code == 201, answer.text
    token = answer.json()["token"]
    return httpx.Client(
        base_url=server.url, headers={"Authorization": f"Bearer {token}"}, timeout=10
    )


@pytest.mark.postgres
def test_two_instances_send_each_message_exactly_once(
    tmp_path: Path, empty_postgres: str, run_channel: str
) -> None:
    settings = {
        "database_url": empty_postgres,
        "secret_key": SECRET,
        "broker_channel": run_channel,
        "push_allow_loopback": "1",
    }
    with ExitStack() as stack:
        service = stack.enter_context(push_service())
        a = stack.enter_context(live_server(tmp_path, "a", **settings))
        b = stack.enter_context(live_server(tmp_path, "b", **settings))
        # Both instances give the same public key: a browser's subscription works with either.
        assert a.http.get("/v1/push/key").json() == b.http.get("/v1/push/key").json()
        owner = stack.enter_context(signed_in(a, OWNER, "Li Lei"))
        phones = {}
        for number, server in zip(FRIENDS, [a, b, a, b], strict=True):
            friend = stack.enter_context(signed_in(server, number, f"Friend {number[-2:]}"))
            phones[number] = service.subscribe()
            made = friend.post("/v1/push/subscriptions", json=phones[number].to_json())
            assert made.status_code == 201, made.text
        # Every event wakes the senders of both instances (through the PostgreSQL
        # broker); each message must still reach its phone once.
        for n in range(BOOKS):
            invitees = [{"phone": p} for p in FRIENDS]
            made = owner.post("/v1/books", json={"title": f"Book {n}", "invitees": invitees})
            assert made.status_code == 201, made.text
        engine = make_engine(empty_postgres)
        try:
            drained(engine)
        finally:
            engine.dispose()
        for number, phone in phones.items():
            bodies = []
            while not phone.received.empty():
                bodies.append(phone.received.get()["body"])
            assert sorted(bodies) == sorted(f"Li Lei invites you to Book {n}" for n in range(BOOKS))
            assert service.hits[phone.url.removeprefix(service.origin)] == BOOKS, number


@pytest.mark.postgres
def test_two_instances_send_each_webdav_push_message_once(
    tmp_path: Path, empty_postgres: str, run_channel: str
) -> None:
    settings = {
        "database_url": empty_postgres,
        "secret_key": SECRET,
        "broker_channel": run_channel,
        "push_allow_loopback": "1",
        "dav_push_merge_seconds": "0",
    }
    changes = 6
    with ExitStack() as stack:
        service = stack.enter_context(push_service())
        a = stack.enter_context(live_server(tmp_path, "a", **settings))
        b = stack.enter_context(live_server(tmp_path, "b", **settings))
        owner = stack.enter_context(signed_in(a, OWNER, "Li Lei"))
        friend = stack.enter_context(signed_in(b, FRIENDS[0], "Han Meimei"))
        made = owner.post("/v1/books", json={"title": "Class", "invitees": [{"phone": FRIENDS[0]}]})
        assert made.status_code == 201, made.text
        book = made.json()["id"]
        invitation = friend.get("/v1/invitations").json()["invitations"][0]["id"]
        assert friend.post(f"/v1/invitations/{invitation}/accept", json={}).status_code == 200
        account = friend.get("/v1/me").json()["id"]
        password = friend.post("/v1/app-passwords", json={"label": "phone"}).json()["password"]
        phone = service.subscribe()
        registered = b.http.post(
            f"/dav/addressbooks/{account}/{book}/",
            content=register_body(phone),
            headers={"Content-Type": "application/xml"},
            auth=(FRIENDS[0], password),
        )
        assert registered.status_code == 201, registered.text
        mine = owner.get(f"/v1/books/{book}/entries").json()["entries"]
        owner_entry = next(e["id"] for e in mine if e["phone"] == OWNER)
        # One change at a time, each told once: both instances hear every change
        # (the PostgreSQL broker wakes both senders), one of them sends.
        for n in range(changes):
            renamed = owner.patch(f"/v1/books/{book}/entries/{owner_entry}", json={"name": f"L{n}"})
            assert renamed.status_code == 200, renamed.text
            assert "push-message" in phone.next()["xml"]
        phone.nothing_more(within=3.0)
        assert service.hits[phone.url.removeprefix(service.origin)] == changes
        assert service.errors == []
