"""WebDAV-Push: what address books advertise, and how contacts apps register and unregister."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from datetime import timedelta
from email.utils import format_datetime, parsedate_to_datetime
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from circlebook.storage.schema import dav_push_registrations
from tests.conftest import FakeClock, Person, sign_in
from tests.e2e.dav import DavUser, book_with, dav_user
from tests.e2e.push_service import Endpoint, PushService, b64url, push_service

OWNER, ANN, BO = "+8613600136001", "+8613600136002", "+8613600136003"
P = "{https://bitfire.at/webdav-push}"
DECLARE = 'xmlns:d="DAV:" xmlns:P="https://bitfire.at/webdav-push"'


@pytest.fixture
def service() -> Iterator[PushService]:
    with push_service() as running:
        yield running


@pytest.fixture
def app(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(push_allow_loopback=True)


@pytest.fixture
def person(app: TestClient, outbox: Path) -> Callable[..., Person]:
    def _sign_in(phone: str, name: str | None = None) -> Person:
        return sign_in(app, outbox, phone, name)

    return _sign_in


@pytest.fixture
def club(person: Callable[..., Person]) -> dict[str, Any]:
    """Olivia's book with Ann and Bo in it; both sync over CardDAV."""
    owner, ann, bo = person(OWNER, "Olivia"), person(ANN, "Ann"), person(BO, "Bo")
    book_id, _ = book_with(owner, "Club", [(ann, ["team"]), (bo, ["team"])])
    return {"owner": owner, "ann": dav_user(ann), "bo": dav_user(bo), "book": book_id}


def register_body(
    endpoint: Endpoint | str,
    expires: str | None = None,
    keys: bool = True,
    encoding: str = "aes128gcm",
) -> str:
    if isinstance(endpoint, Endpoint):
        url, key = endpoint.url, endpoint.to_json()["keys"]
    else:
        url, key = endpoint, {"p256dh": "", "auth": ""}
    encryption = (
        f"<P:content-encoding>{encoding}</P:content-encoding>"
        f'<P:subscription-public-key type="p256dh">{key["p256dh"]}</P:subscription-public-key>'
        f"<P:auth-secret>{key['auth']}</P:auth-secret>"
        if keys
        else ""
    )
    when = f"<P:expires>{expires}</P:expires>" if expires else ""
    return (
        f"<P:push-register {DECLARE}><P:subscription><P:web-push-subscription>"
        f"<P:push-resource>{url}</P:push-resource>{encryption}"
        "</P:web-push-subscription></P:subscription>"
        "<P:trigger><P:content-update><d:depth>1</d:depth></P:content-update></P:trigger>"
        f"{when}</P:push-register>"
    )


def register(user: DavUser, path: str, endpoint: Endpoint | str, **kw: Any) -> Any:
    return user.request("POST", path, register_body(endpoint, **kw))


def test_options_names_webdav_push_in_the_dav_header(club: dict[str, Any]) -> None:
    ann = club["ann"]
    answer = ann.request("OPTIONS", ann.book(club["book"]))
    assert answer.status_code == 200
    assert "webdav-push" in [c.strip() for c in answer.headers["DAV"].split(",")]


def test_books_and_the_home_advertise_web_push_with_the_vapid_key_and_a_topic(
    app: TestClient, club: dict[str, Any]
) -> None:
    ann, bo, book = club["ann"], club["bo"], club["book"]
    key = app.get("/v1/push/key").json()["public_key"]
    names = ("P:transports", "P:topic", "P:supported-triggers")
    seen = ann.propfind(ann.book(book), *(f"{n} {DECLARE}" for n in names))
    found = seen.answers[ann.book(book)]
    vapid = found.props[f"{P}transports"].find(f"{P}web-push/{P}vapid-public-key")
    assert vapid is not None and vapid.text == key and vapid.get("type") == "p256ecdsa"
    trigger = found.props[f"{P}supported-triggers"].find(f"{P}content-update/{{DAV:}}depth")
    assert trigger is not None and trigger.text == "1"
    topic = found.text(f"{P}topic")
    # Opaque: RFC 8030's Topic alphabet and length, and nothing of the book in it.
    assert len(topic) == 32 and book not in topic and ann.account_id not in topic
    again = ann.propfind(ann.book(book), f"P:topic {DECLARE}").answers[ann.book(book)]
    assert again.text(f"{P}topic") == topic
    # Another member's view of the same book has its own topic; so has the home.
    bos = bo.propfind(bo.book(book), f"P:topic {DECLARE}").answers[bo.book(book)]
    home = ann.propfind(ann.home, f"P:topic {DECLARE}").answers[ann.home]
    assert len({topic, bos.text(f"{P}topic"), home.text(f"{P}topic")}) == 3


def test_a_push_resource_registers_renews_and_is_removed_by_its_owner_only(
    club: dict[str, Any], service: PushService, clock: FakeClock
) -> None:
    ann, bo, book = club["ann"], club["bo"], club["book"]
    endpoint = service.subscribe()
    first = register(ann, ann.book(book), endpoint)
    assert first.status_code == 201, first.text
    location = first.headers["Location"]
    assert location.startswith("/dav/push/")
    expires = parsedate_to_datetime(first.headers["Expires"])
    assert (expires - clock.now()).days >= 3
    # The same push resource again renews the same registration, for as long as asked
    # within the bounds: a day is raised to three.
    soon = "Mon, 02 Mar 2026 09:00:00 GMT"
    again = register(ann, ann.book(book), endpoint, expires=soon)
    assert again.status_code == 204, again.text
    assert again.headers["Location"] == location
    assert (parsedate_to_datetime(again.headers["Expires"]) - clock.now()).days == 3
    # The home takes registrations too, each its own.
    home = register(ann, ann.home, endpoint)
    assert home.status_code == 201 and home.headers["Location"] != location
    # Bo cannot remove Ann's registration; Ann can, once.
    assert bo.request("DELETE", location).status_code == 404
    assert ann.request("DELETE", location).status_code == 204
    assert ann.request("DELETE", location).status_code == 404
    assert register(ann, ann.book(book), endpoint).status_code == 201


@pytest.mark.parametrize(
    ("resource", "kw", "status"),
    [
        ("https://10.0.0.8/push/x", {}, 400),  # a private address
        ("http://push.example.com/x", {}, 400),  # not https
        ("https://example.com/" + "a" * 1100, {}, 400),  # over 1 KiB
        ("", {}, 400),
        (None, {"keys": False}, 400),  # messages are always encrypted: keys are required
        (None, {"expires": "next week"}, 400),
        (None, {"encoding": "aesgcm"}, 400),  # the older draft of RFC 8291
    ],
)
def test_a_registration_the_server_must_not_use_is_refused(
    club: dict[str, Any], service: PushService, resource: str | None, kw: Any, status: int
) -> None:
    ann, book = club["ann"], club["book"]
    target: Endpoint | str = service.subscribe() if resource is None else resource
    answer = register(ann, ann.book(book), target, **kw)
    assert answer.status_code == status, answer.text


def test_bad_keys_and_bodies_are_refused(club: dict[str, Any], service: PushService) -> None:
    ann, book = club["ann"], club["book"]
    endpoint = service.subscribe()
    bad = Endpoint(endpoint.url, endpoint.key, b"short")
    assert register(ann, ann.book(book), bad).status_code == 400
    off_curve = register_body(endpoint).replace(
        endpoint.to_json()["keys"]["p256dh"], b64url(b"\x04" + b"\x01" * 64)
    )
    assert ann.request("POST", ann.book(book), off_curve).status_code == 400
    propfind = f"<d:propfind {DECLARE}><d:allprop/></d:propfind>"
    assert ann.request("POST", ann.book(book), propfind).status_code == 415
    assert ann.request("POST", ann.book(book), "<oops").status_code == 400
    # A book Ann is not in is not found; nor is a card.
    assert register(ann, ann.home + "b_nosuchbook123/", endpoint).status_code == 404


def test_registrations_are_in_the_export_and_go_with_the_account(
    club: dict[str, Any], service: PushService, engine: Engine
) -> None:
    ann, book = club["ann"], club["book"]
    endpoint = service.subscribe()
    assert register(ann, ann.book(book), endpoint).status_code == 201
    exported = ann.person.get("/v1/me/export")
    assert exported.status_code == 200, exported.text
    listed = exported.json()["dav_push_registrations"]
    assert [(r["book_id"], r["push_resource"]) for r in listed] == [(book, endpoint.url)]
    erased = ann.person.client.request(
        "DELETE", "/v1/me", json={"confirm": ann.person.phone}, headers=ann.person.headers
    )
    assert erased.status_code == 204, erased.text
    with engine.connect() as conn:
        assert conn.execute(select(dav_push_registrations)).all() == []


def test_with_push_off_nothing_is_advertised_or_taken(
    make_client: Callable[..., TestClient], outbox: Path, service: PushService
) -> None:
    app = make_client(push="off", push_allow_loopback=True)
    owner = sign_in(app, outbox, OWNER, "Olivia")
    user = dav_user(owner)
    book = owner.post("/v1/books", json={"title": "Club", "invitees": []}).json()["id"]
    assert "webdav-push" not in user.request("OPTIONS", user.book(book)).headers["DAV"]
    seen = user.propfind(user.book(book), f"P:topic {DECLARE}").answers[user.book(book)]
    assert f"{P}topic" in seen.missing
    assert register(user, user.book(book), service.subscribe()).status_code == 403


def test_an_account_holds_at_most_the_registrations_it_may_and_still_renews_them(
    make_client: Callable[..., TestClient], outbox: Path, service: PushService
) -> None:
    app = make_client(push_allow_loopback=True, dav_push_max_registrations=2)
    owner = sign_in(app, outbox, OWNER, "Olivia")
    user = dav_user(owner)
    book = owner.post("/v1/books", json={"title": "Club", "invitees": []}).json()["id"]
    first, second, third = service.subscribe(), service.subscribe(), service.subscribe()
    kept = register(user, user.book(book), first)
    assert kept.status_code == 201
    assert register(user, user.home, second).status_code == 201
    refused = register(user, user.book(book), third)
    # draft-bitfire-webdav-push: 403 with the push-not-available precondition.
    assert refused.status_code == 403, refused.text
    error = SafeET.fromstring(refused.content)
    assert error.tag == "{DAV:}error" and error.find(f"{P}push-not-available") is not None
    # At the cap, a renewal still goes through; once one is removed, there is room.
    assert register(user, user.book(book), first).status_code == 204
    assert user.request("DELETE", kept.headers["Location"]).status_code == 204
    assert register(user, user.book(book), third).status_code == 201


def test_zero_registrations_per_account_means_no_limit(
    make_client: Callable[..., TestClient], outbox: Path, service: PushService
) -> None:
    app = make_client(push_allow_loopback=True, dav_push_max_registrations=0)
    user = dav_user(sign_in(app, outbox, OWNER, "Olivia"))
    for _ in range(3):
        assert register(user, user.home, service.subscribe()).status_code == 201


def test_the_longest_a_registration_lives_is_a_setting(
    make_client: Callable[..., TestClient], outbox: Path, service: PushService, clock: FakeClock
) -> None:
    app = make_client(push_allow_loopback=True, dav_push_max_days=7)
    user = dav_user(sign_in(app, outbox, OWNER, "Olivia"))
    endpoint = service.subscribe()
    unasked = register(user, user.home, endpoint)
    assert (parsedate_to_datetime(unasked.headers["Expires"]) - clock.now()).days == 7
    later = format_datetime(clock.now() + timedelta(days=60), usegmt=True)
    asked = register(user, user.home, endpoint, expires=later)
    assert (parsedate_to_datetime(asked.headers["Expires"]) - clock.now()).days == 7
