"""WebDAV-Push on the address-book home: a member hears when a book appears in its home,
goes from it, or changes its title there, and of nothing else; leaving a book takes the
member's registrations on it along."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import defusedxml.ElementTree as SafeET
import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from circlebook.storage.schema import dav_push_registrations
from tests.conftest import FakeClock, Person, sign_in
from tests.e2e.dav import DavUser, book_with, dav_user
from tests.e2e.dav_push import QUIET
from tests.e2e.dav_push.test_dav_push_messages import rename
from tests.e2e.push_service import Endpoint, PushService
from tests.e2e.test_dav_push import DECLARE, P, register

OWNER, ANN, BO = "+8613400134001", "+8613400134002", "+8613400134003"


@pytest.fixture
def person(app: TestClient, outbox: Path) -> Callable[..., Person]:
    def _sign_in(phone: str, name: str | None = None) -> Person:
        return sign_in(app, outbox, phone, name)

    return _sign_in


def listening(user: DavUser, service: PushService, path: str | None = None) -> Endpoint:
    """A push resource registered on the user's home (or on `path`)."""
    endpoint = service.subscribe()
    made = register(user, path or user.home, endpoint)
    assert made.status_code == 201, made.text
    return endpoint


def home_message(user: DavUser, message: dict[str, Any]) -> None:
    """A push-message for the user's home: its topic, and a content-update without a
    sync token, since the home reports none."""
    root = SafeET.fromstring(message["xml"])
    assert root.tag == f"{P}push-message"
    seen = user.propfind(user.home, f"P:topic {DECLARE}", "d:sync-token")
    topic = seen.answers[user.home].text(f"{P}topic")
    assert root.findtext(f"{P}topic") == topic and message["topic"] == topic
    update = root.find(f"{P}content-update")
    assert update is not None and list(update) == []
    assert "{DAV:}sync-token" in seen.answers[user.home].missing


def titles(user: DavUser) -> set[str]:
    """The books the user's home lists, by their displayname (PROPFIND Depth 1)."""
    listing = user.propfind(user.home, "d:displayname", depth="1").answers
    return {a.text("{DAV:}displayname") for href, a in listing.items() if href != user.home}


def invite(owner: Person, book: str, *people: Person) -> None:
    asked = owner.post(
        f"/v1/books/{book}/invitations",
        json={"invitees": [{"phone": p.phone, "name": p.account["name"]} for p in people]},
    )
    assert asked.status_code == 200, asked.text


def retitle(owner: Person, book: str, title: str) -> None:
    renamed = owner.patch(f"/v1/books/{book}", json={"title": title})
    assert renamed.status_code == 200, renamed.text


def registrations_on(engine: Engine, collection: str) -> list[str]:
    with engine.connect() as conn:
        rows = conn.execute(
            select(dav_push_registrations.c.account_id).where(
                dav_push_registrations.c.collection == collection
            )
        )
        return sorted(r.account_id for r in rows)


def test_the_home_hears_when_its_listing_changes_and_only_then(
    person: Callable[..., Person], service: PushService
) -> None:
    olivia, ann, bo = person(OWNER, "Olivia"), person(ANN, "Ann"), person(BO, "Bo")
    owner, member = dav_user(olivia), dav_user(ann)
    owner_home, ann_home = listening(owner, service), listening(member, service)
    # A new book appears in its owner's home.
    book = olivia.post("/v1/books", json={"title": "Club", "invitees": []}).json()["id"]
    home_message(owner, owner_home.next())
    # Ann joins: it appears in hers, and the owner's lists nothing new.
    invite(olivia, book, ann)
    ann.accept(book)
    home_message(member, ann_home.next())
    assert titles(member) == {"Club"}
    owner_home.nothing_more(within=QUIET)
    # Changes inside the book, or another member joining, leave the homes' listings
    # as they were: the book's own registrations hear of those.
    ids = {e["phone"]: e["id"] for e in olivia.entries(book)["entries"]}
    rename(olivia, book, ids[ANN], "Ann B.")
    invite(olivia, book, bo)
    bo.accept(book)
    ann_home.nothing_more(within=QUIET)
    owner_home.nothing_more(within=0)
    # A new title is what each home shows of the book: both hear of it; the same
    # title again changes nothing.
    retitle(olivia, book, "Chess club")
    home_message(member, ann_home.next())
    home_message(owner, owner_home.next())
    assert titles(member) == {"Chess club"}
    retitle(olivia, book, "Chess club")
    ann_home.nothing_more(within=QUIET)
    owner_home.nothing_more(within=0)
    # Ann leaves: the book goes from her home, and the owner's still lists it.
    assert ann.delete(f"/v1/books/{book}/entries/{ids[ANN]}").status_code == 204
    home_message(member, ann_home.next())
    assert titles(member) == set()
    owner_home.nothing_more(within=QUIET)


def test_a_member_out_of_a_book_loses_its_registrations_on_it_at_once(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    olivia, ann, bo = person(OWNER, "Olivia"), person(ANN, "Ann"), person(BO, "Bo")
    book, ids = book_with(olivia, "Club", [(ann, []), (bo, [])])
    member, removed = dav_user(ann), dav_user(bo)
    ann_home, bo_home = listening(member, service), listening(removed, service)
    listening(member, service, member.book(book))
    on_book = register(removed, removed.book(book), service.subscribe())
    assert on_book.status_code == 201
    # The owner removes Bo: his registration on the book is gone with the change
    # itself (before any message is sent), and his home hears the book went.
    assert olivia.delete(f"/v1/books/{book}/entries/{ids[BO]}").status_code == 204
    assert registrations_on(engine, book) == [member.account_id]
    assert removed.request("DELETE", on_book.headers["Location"]).status_code == 404
    home_message(removed, bo_home.next())
    # Ann leaves by removing her own entry: hers goes the same way.
    assert ann.delete(f"/v1/books/{book}/entries/{ids[ANN]}").status_code == 204
    assert registrations_on(engine, book) == []
    home_message(member, ann_home.next())
    assert len(registrations_on(engine, "")) == 2  # the homes' registrations stay


def test_a_dissolved_book_takes_every_registration_on_it_and_tells_each_home(
    person: Callable[..., Person], service: PushService, engine: Engine
) -> None:
    olivia, ann = person(OWNER, "Olivia"), person(ANN, "Ann")
    book, _ = book_with(olivia, "Club", [(ann, ["team"])])
    owner, member = dav_user(olivia), dav_user(ann)
    owner_home, ann_home = listening(owner, service), listening(member, service)
    on_book = [listening(user, service, user.book(book)) for user in (owner, member)]
    assert olivia.delete(f"/v1/books/{book}").status_code == 204
    assert registrations_on(engine, book) == []
    home_message(owner, owner_home.next())
    home_message(member, ann_home.next())
    for endpoint in on_book:
        endpoint.nothing_more(within=0)


@pytest.mark.parametrize("merge", [5])
def test_a_burst_of_changes_to_a_home_is_merged_into_one_message(
    person: Callable[..., Person], service: PushService, clock: FakeClock, merge: int
) -> None:
    olivia, ann = person(OWNER, "Olivia"), person(ANN, "Ann")
    member = dav_user(ann)
    ann_home = listening(member, service)
    book, ids = book_with(olivia, "Club", [(ann, [])])
    home_message(member, ann_home.next())
    # Within the window after that message, the book is renamed twice and Ann
    # leaves it: nothing goes yet...
    retitle(olivia, book, "Chess club")
    retitle(olivia, book, "Go club")
    assert ann.delete(f"/v1/books/{book}/entries/{ids[ANN]}").status_code == 204
    ann_home.nothing_more(within=QUIET)
    # ...then one message says it all.
    clock.advance(seconds=merge + 1)
    home_message(member, ann_home.next())
    ann_home.nothing_more(within=QUIET)


def test_the_export_lists_my_registrations_on_home_and_book_without_their_keys(
    person: Callable[..., Person], service: PushService
) -> None:
    olivia = person(OWNER, "Olivia")
    book = olivia.post("/v1/books", json={"title": "Club", "invitees": []}).json()["id"]
    owner = dav_user(olivia)
    on_home, on_book = listening(owner, service), listening(owner, service, owner.book(book))

    exported = olivia.get("/v1/me/export")

    assert exported.status_code == 200, exported.text
    listed = exported.json()["dav_push_registrations"]
    # The home's registration names no book (null), a book's names the book.
    assert {r["book_id"]: r["push_resource"] for r in listed} == {
        None: on_home.url,
        book: on_book.url,
    }
    fields = {"id", "book_id", "push_resource", "expires_at", "created_at", "updated_at"}
    assert all(set(r) == fields for r in listed)
    for endpoint in (on_home, on_book):
        keys = endpoint.to_json()["keys"]
        assert keys["p256dh"] not in exported.text and keys["auth"] not in exported.text
