"""The patent's whole flow over HTTP: invite, accept, decline, fetch, remove."""

from __future__ import annotations

from typing import Any

from sqlalchemy import Engine, text

OWNER, FRIEND, SHY = "+8613800138001", "+8613800138002", "+8613800138003"


def test_owner_and_accepting_friend_share_a_book_the_decliner_never_enters(
    people: Any, engine: Engine
) -> None:
    owner = people(OWNER, "Li Lei")
    friend = people(FRIEND, "Han Meimei")
    shy = people(SHY, "Wang Fang")
    created = owner.post(
        "/v1/books",
        json={
            "title": "Class of 2012",
            "invitees": [
                {"phone": "138 0013 8002", "name": "Meimei"},
                {"phone": SHY, "name": "Fang"},
                {"phone": "12"},
            ],
        },
    )
    assert created.status_code == 201, created.text
    book = created.json()
    assert [o["status"] for o in book["outcomes"]] == ["invited", "invited", "invalid"]
    assert book["outcomes"][2]["field"] == "invitees[2].phone"

    inbox = friend.get("/v1/invitations").json()["invitations"]
    assert [(i["book_title"], i["invited_by"]["phone"], i["name"]) for i in inbox] == [
        ("Class of 2012", OWNER, "Meimei")
    ]
    accepted = friend.accept(book["id"])
    assert accepted["book_id"] == book["id"]

    inv = shy.invitation_to(book["id"])
    assert shy.post(f"/v1/invitations/{inv}/decline").status_code == 204
    with engine.connect() as conn:
        held = conn.execute(text("SELECT count(*) FROM invitations WHERE phone = :p"), {"p": SHY})
        assert held.scalar_one() == 0

    for person in (owner, friend):
        names = {(e["phone"], e["name"]) for e in person.entries(book["id"])["entries"]}
        assert names == {(OWNER, "Li Lei"), (FRIEND, "Meimei")}
    assert shy.get(f"/v1/books/{book['id']}/entries").status_code == 404
    others = friend.entries(book["id"], exclude_self="true")["entries"]
    assert [e["phone"] for e in others] == [OWNER]
