"""Handing a book on: a member becomes the owner, the old owner stays as an untagged member."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.e2e.dav import book_with
from tests.e2e.web import Visitor

OWNER, HEIR, RED, PLAIN = (f"+861370013720{n}" for n in range(1, 5))


def entry_of(person: Any, book_id: str, phone: str) -> dict[str, Any]:
    return next(e for e in person.entries(book_id)["entries"] if e["phone"] == phone)


def test_the_owner_hands_the_book_to_a_member_and_stays_untagged(
    people: Any, engine: Engine
) -> None:
    owner, heir, red, plain = (
        people(p, n) for p, n in [(OWNER, "Olivia"), (HEIR, "Hal"), (RED, "Rex"), (PLAIN, "Pat")]
    )
    book_id, ids = book_with(owner, "Club", [(heir, ["red"]), (red, ["red"]), (plain, [])])
    before = {p.phone: p.entries(book_id)["sync_token"] for p in (owner, heir, red, plain)}
    response = owner.post(f"/v1/books/{book_id}/owner", json={"entry_id": ids[HEIR]})
    assert response.status_code == 200, response.text
    assert response.json()["role"] == "member" and response.json()["owner_id"] == heir.account["id"]
    assert heir.get(f"/v1/books/{book_id}").json()["role"] == "owner"
    # The heir now sees everyone, with no tags of its own; the old owner is untagged.
    assert {e["phone"] for e in heir.entries(book_id)["entries"]} == {OWNER, HEIR, RED, PLAIN}
    assert entry_of(heir, book_id, HEIR)["tags"] == []
    assert {e["phone"] for e in owner.entries(book_id)["entries"]} == {OWNER, HEIR, PLAIN}
    assert {e["phone"] for e in red.entries(book_id)["entries"]} == {HEIR, RED}
    # Everyone's view changed: every token from before asks for a full fetch once.
    for person in (owner, heir, red, plain):
        stale = person.get(f"/v1/books/{book_id}/entries", params={"since": before[person.phone]})
        assert stale.status_code == 410, (person.phone, stale.text)
    # Only the new owner may manage the book now.
    assert owner.patch(f"/v1/books/{book_id}", json={"title": "Mine"}).status_code == 403
    assert heir.patch(f"/v1/books/{book_id}", json={"title": "Ours"}).status_code == 200
    with engine.connect() as conn:
        told = conn.execute(
            text("SELECT account_id FROM events WHERE type = 'book.owner_changed'")
        ).scalars()
        assert sorted(told) == sorted([owner.account["id"], heir.account["id"]])


def test_only_the_owner_hands_on_and_only_to_a_member(people: Any) -> None:
    owner, heir, red = (people(p, n) for p, n in [(OWNER, "Olivia"), (HEIR, "Hal"), (RED, "Rex")])
    book_id, ids = book_with(owner, "Club", [(heir, ["red"])])
    _, other_ids = book_with(owner, "Other", [(red, [])])
    assert heir.post(f"/v1/books/{book_id}/owner", json={"entry_id": ids[HEIR]}).status_code == 403
    for body, status in [
        ({"entry_id": other_ids[RED]}, 404),  # a member of another book
        ({"entry_id": "e_nope"}, 404),
        ({"entry_id": ids[OWNER]}, 409),
        ({"entry_id": ""}, 422),
        ({}, 422),
        ({"entry_id": ids[HEIR], "extra": 1}, 422),
    ]:
        response = owner.post(f"/v1/books/{book_id}/owner", json=body)
        assert response.status_code == status, (body, response.text)
        assert response.headers["content-type"] == "application/problem+json"
    assert red.post(f"/v1/books/{book_id}/owner", json={"entry_id": ids[HEIR]}).status_code == 404


def test_the_owner_hands_the_book_on_from_the_manage_page(
    people: Any, make_client: Callable[..., TestClient], outbox: Path
) -> None:
    owner, heir = people(OWNER, "Olivia"), people(HEIR, "Hal")
    book_id, ids = book_with(owner, "Club", [(heir, ["red"])])
    browser = Visitor(make_client(), outbox)
    browser.sign_in(OWNER)
    page = browser.get(f"/books/{book_id}/manage").text
    assert f'action="/books/{book_id}/entries/{ids[HEIR]}/owner"' in page
    done = browser.post(f"/books/{book_id}/entries/{ids[HEIR]}/owner")
    assert done.url.path == f"/books/{book_id}"
    assert "The book has a new owner" in done.text
    assert browser.get(f"/books/{book_id}/manage").status_code == 403
    assert heir.get(f"/v1/books/{book_id}").json()["role"] == "owner"
