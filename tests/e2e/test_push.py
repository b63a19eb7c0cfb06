"""Web Push: who hears of what on their phone, through a real local push service."""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select

from circlebook.storage.schema import push_outbox, push_subscriptions
from tests.conftest import FakeClock, Person, sign_in
from tests.e2e.push_service import Endpoint, PushService, b64url, push_service
from tests.e2e.web import Visitor

OWNER, FRIEND, OTHER = "+8613900139001", "+8613900139002", "+8613900139003"
PUSH = {"push_allow_loopback": True}
# 65 bytes in the uncompressed form, but no point on P-256.
OFF_CURVE = b64url(b"\x04" + b"\x01" * 64)


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as running:
        yield running


@pytest.fixture
def app(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(**PUSH)


@pytest.fixture
def person(app: TestClient, outbox: Path) -> Callable[..., Person]:
    def _sign_in(phone: str, name: str | None = None) -> Person:
        return sign_in(app, outbox, phone, name)

    return _sign_in


def subscribe(person: Person, endpoint: Endpoint, **headers: str) -> str:
    response = person.client.post(
        "/v1/push/subscriptions", json=endpoint.to_json(), headers={**person.headers, **headers}
    )
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def drained(engine: Engine) -> None:
    """Wait until every queued message was sent (or given up): the outbox is empty."""
    deadline = time.monotonic() + 20
    while True:
        with engine.connect() as conn:
            if conn.execute(select(func.count()).select_from(push_outbox)).scalar_one() == 0:
                return
        assert time.monotonic() < deadline, "the push outbox did not drain"
        time.sleep(0.05)


def waiting_after(engine: Engine, failures: int) -> None:
    """Wait until the one queued message has failed `failures` times and waits to be retried."""
    deadline = time.monotonic() + 20
    while True:
        with engine.connect() as conn:
            row = conn.execute(select(push_outbox.c.attempts, push_outbox.c.claimed_by)).one()
        if row.attempts == failures and row.claimed_by is None:
            return
        assert time.monotonic() < deadline, f"the message did not fail {failures} times"
        time.sleep(0.05)


def subscriptions(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(push_subscriptions)).scalar_one())


def new_book(owner: Person, title: str, *phones: str) -> str:
    invitees = [{"phone": p} for p in phones]
    response = owner.post("/v1/books", json={"title": title, "invitees": invitees})
    assert response.status_code == 201, response.text
    return str(response.json()["id"])


def test_the_public_key_is_the_one_that_signs_the_messages(
    app: TestClient, person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    key = app.get("/v1/push/key")
    assert key.status_code == 200
    public = key.json()["public_key"]
    assert len(public) == 87 and "=" not in public  # 65 bytes, base64url without padding
    owner, friend = person(OWNER, "Li Lei"), person(FRIEND, "Han Meimei")
    subscribe(friend, service.subscribe())
    new_book(owner, "Class of 2012", FRIEND)
    drained(engine)
    assert service.vapid_keys == {public}


def test_each_event_reaches_its_persons_phones_and_nobody_elses(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    owner, friend, other = person(OWNER, "Li Lei"), person(FRIEND, "Han Meimei"), person(OTHER)
    owner_phone, friend_phone, other_phone = (service.subscribe() for _ in range(3))
    friend_laptop = service.subscribe()
    subscribe(owner, owner_phone)
    subscribe(friend, friend_phone)
    subscribe(friend, friend_laptop)
    subscribe(other, other_phone)

    book = new_book(owner, "Class of 2012", FRIEND)
    for reached in (friend_phone, friend_laptop):
        message = reached.next()
        assert message["type"] == "invitation.received"
        assert message["body"] == "Li Lei invites you to Class of 2012"
        assert message["url"] == "/inbox" and message["title"]

    friend.accept(book)
    accepted = owner_phone.next()
    assert accepted["type"] == "invitation.accepted"
    assert accepted["body"] == "Han Meimei accepted your invitation to Class of 2012"
    assert accepted["url"] == f"/books/{book}"

    entry = next(e for e in owner.entries(book)["entries"] if e["name"] == "Han Meimei")
    assert owner.delete(f"/v1/books/{book}/entries/{entry['id']}").status_code == 204
    for reached in (friend_phone, friend_laptop):
        removed = reached.next()
        assert removed["type"] == "book.left"
        assert removed["body"] == "You are no longer in Class of 2012"

    second = new_book(owner, "Choir", OTHER)
    assert other_phone.next()["type"] == "invitation.received"
    invitation = other.invitation_to(second)
    assert other.post(f"/v1/invitations/{invitation}/decline").status_code == 204
    declined = owner_phone.next()
    assert declined["type"] == "invitation.declined"
    assert declined["body"] == "An invitation to Choir was declined"

    drained(engine)
    for endpoint in (owner_phone, friend_phone, friend_laptop, other_phone):
        assert endpoint.received.empty(), endpoint.received.get()


def test_messages_are_written_in_the_language_the_browser_asked_in(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    owner, friend = person(OWNER, "李雷"), person(FRIEND)
    phone = service.subscribe()
    subscribe(friend, phone, **{"Accept-Language": "zh-CN,zh;q=0.9"})
    new_book(owner, "2012届同学", FRIEND)
    message = phone.next()
    assert message["body"] == "李雷邀请您加入“2012届同学”"


def test_a_gone_subscription_is_deleted_and_not_tried_again(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    owner, friend = person(OWNER, "Li Lei"), person(FRIEND)
    phone = service.subscribe()
    subscribe(friend, phone)
    service.answer(phone, 410)
    new_book(owner, "Class of 2012", FRIEND)
    drained(engine)
    assert subscriptions(engine) == 0
    assert friend.get("/v1/push/subscriptions").json()["push_subscriptions"] == []
    new_book(owner, "Choir", FRIEND)
    drained(engine)
    assert service.hits[phone.url.removeprefix(service.origin)] == 1


def test_a_failed_message_is_retried_after_a_wait_until_it_is_taken(
    person: Callable[..., Person], service: PushService, engine: Engine, clock: FakeClock
) -> None:
    owner, friend = person(OWNER, "Li Lei"), person(FRIEND)
    phone = service.subscribe()
    subscribe(friend, phone)
    service.answer(phone, 500, 503)
    new_book(owner, "Class of 2012", FRIEND)
    path = phone.url.removeprefix(service.origin)
    for failures in (1, 2):
        waiting_after(engine, failures)
        clock.advance(minutes=1)  # past the backoff: the next poll sends it again
    assert phone.next()["type"] == "invitation.received"
    drained(engine)
    assert service.hits[path] == 3 and subscriptions(engine) == 1


@pytest.mark.parametrize(
    ("change", "field"),
    [
        (lambda s: {**s, "endpoint": s["endpoint"].replace("http://", "ftp://")}, "endpoint"),
        (lambda s: {**s, "endpoint": "http://example.com/push/x"}, "endpoint"),
        (lambda s: {**s, "endpoint": "https://10.1.2.3/push/x"}, "endpoint"),
        (lambda s: {**s, "endpoint": "https://169.254.169.254/latest"}, "endpoint"),
        (lambda s: {**s, "endpoint": "https://[::1]/push"}, "endpoint"),
        (lambda s: {**s, "endpoint": "https://localhost/push"}, "endpoint"),
        (lambda s: {**s, "endpoint": s["endpoint"] + "x" * 1024}, "endpoint"),
        (lambda s: {**s, "keys": {**s["keys"], "p256dh": "AAAA"}}, "keys.p256dh"),
        (
            lambda s: {**s, "keys": {**s["keys"], "p256dh": OFF_CURVE}},
            "keys.p256dh",
        ),
        (lambda s: {**s, "keys": {**s["keys"], "auth": "not base64!"}}, "keys.auth"),
        (lambda s: {**s, "keys": {**s["keys"], "auth": s["keys"]["auth"] + "AA"}}, "keys.auth"),
    ],
)
def test_an_endpoint_or_key_the_server_must_not_use_is_refused(
    person: Callable[..., Person],
    service: PushService,
    engine: Engine,
    change: Callable[[dict[str, Any]], dict[str, Any]],
    field: str,
) -> None:
    friend = person(FRIEND)
    response = friend.post("/v1/push/subscriptions", json=change(service.subscribe().to_json()))
    assert response.status_code == 422, response.text
    assert response.headers["content-type"] == "application/problem+json"
    assert subscriptions(engine) == 0


def test_loopback_endpoints_are_refused_unless_allowed(
    make_client: Callable[..., TestClient], outbox: Path, service: PushService
) -> None:
    friend = sign_in(make_client(), outbox, FRIEND)
    response = friend.post("/v1/push/subscriptions", json=service.subscribe().to_json())
    assert response.status_code == 422, response.text


def test_the_same_endpoint_again_updates_its_subscription(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    friend = person(FRIEND)
    phone = service.subscribe()
    first = subscribe(friend, phone)
    again = friend.post("/v1/push/subscriptions", json=phone.to_json())
    assert again.status_code == 200 and again.json()["id"] == first
    assert [s["id"] for s in friend.get("/v1/push/subscriptions").json()["push_subscriptions"]] == [
        first
    ]
    assert subscriptions(engine) == 1


def test_unsubscribing_stops_the_messages_and_is_only_for_the_owner(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    owner, friend = person(OWNER, "Li Lei"), person(FRIEND)
    phone = service.subscribe()
    made = subscribe(friend, phone)
    assert owner.delete(f"/v1/push/subscriptions/{made}").status_code == 404
    assert friend.delete(f"/v1/push/subscriptions/{made}").status_code == 204
    assert friend.delete(f"/v1/push/subscriptions/{made}").status_code == 404
    new_book(owner, "Class of 2012", FRIEND)
    drained(engine)
    assert service.hits == {}


def test_signing_out_or_ending_the_session_drops_its_subscriptions(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    phone, tablet = person(FRIEND), person(FRIEND)
    subscribe(phone, service.subscribe())
    subscribe(tablet, service.subscribe())
    assert subscriptions(engine) == 2
    assert phone.delete("/v1/auth/sessions/current").status_code == 204
    assert subscriptions(engine) == 1
    sessions = tablet.get("/v1/me/sessions").json()["sessions"]
    current = next(s["id"] for s in sessions if s["current"])
    assert tablet.delete(f"/v1/me/sessions/{current}").status_code == 204
    assert subscriptions(engine) == 0


def test_erasing_the_account_deletes_its_subscriptions_and_the_export_lists_them(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    friend = person(FRIEND)
    phone = service.subscribe()
    made = subscribe(friend, phone)
    exported = friend.get("/v1/me/export").json()["push_subscriptions"]
    assert [(s["id"], s["endpoint"]) for s in exported] == [(made, phone.url)]
    assert "p256dh" not in exported[0] and "auth" not in exported[0]
    assert (
        friend.client.request(
            "DELETE", "/v1/me", json={"confirm": FRIEND}, headers=friend.headers
        ).status_code
        == 204
    )
    assert subscriptions(engine) == 0


def test_the_web_app_subscribes_with_its_session_cookie_and_csrf_token(
    app: TestClient, outbox: Path, service: PushService, engine: Engine
) -> None:
    browser = Visitor(app, outbox)
    browser.sign_in(FRIEND, "Han Meimei")
    body = service.subscribe().to_json()
    refused = app.post("/v1/push/subscriptions", json=body)
    assert refused.status_code == 403, refused.text
    forged = app.post("/v1/push/subscriptions", json=body, headers={"X-CSRF-Token": "x" * 43})
    assert forged.status_code == 403, forged.text
    made = app.post("/v1/push/subscriptions", json=body, headers={"X-CSRF-Token": browser.token})
    assert made.status_code == 201, made.text
    listed = app.get("/v1/push/subscriptions").json()["push_subscriptions"]
    assert [s["id"] for s in listed] == [made.json()["id"]]
    gone = app.delete(
        f"/v1/push/subscriptions/{made.json()['id']}", headers={"X-CSRF-Token": browser.token}
    )
    assert gone.status_code == 204
    assert subscriptions(engine) == 0


def test_with_push_off_there_is_no_key_and_nothing_is_queued(
    make_client: Callable[..., TestClient], outbox: Path, service: PushService, engine: Engine
) -> None:
    app = make_client(push="off", push_allow_loopback=True)
    assert app.get("/v1/push/key").status_code == 404
    friend = sign_in(app, outbox, FRIEND)
    refused = friend.post("/v1/push/subscriptions", json=service.subscribe().to_json())
    assert refused.status_code == 404, refused.text
    owner = sign_in(app, outbox, OWNER, "Li Lei")
    new_book(owner, "Class of 2012", FRIEND)
    with engine.connect() as conn:
        assert conn.execute(select(func.count()).select_from(push_outbox)).scalar_one() == 0


def test_members_of_a_dissolved_book_hear_it_is_gone(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    owner, friend = person(OWNER, "Li Lei"), person(FRIEND)
    owners_phone, friends_phone = service.subscribe(), service.subscribe()
    subscribe(owner, owners_phone)
    book = new_book(owner, "Class of 2012", FRIEND)
    friend.accept(book)
    assert owners_phone.next()["type"] == "invitation.accepted"
    subscribe(friend, friends_phone)
    assert owner.delete(f"/v1/books/{book}").status_code == 204
    gone = friends_phone.next()
    assert gone["type"] == "book.left"
    assert gone["body"] == "A book you were in was dissolved"
    assert gone["url"] == "/books"
    drained(engine)
    assert friends_phone.received.empty()
