"""Taking one's data: GET /v1/me/export is one JSON file of all of it, without any secret."""

from __future__ import annotations

import json
from typing import Any

from fastapi.testclient import TestClient

from tests.conftest import sign_in
from tests.e2e.dav import book_with

ME, OWNER, RED, BLUE, INVITEE = (f"+861370013730{n}" for n in range(1, 6))


def test_the_export_holds_my_account_devices_books_and_waiting_invitations(
    people: Any, client: TestClient, outbox: Any
) -> None:
    me = people(ME, "Mia")
    other_device = sign_in(client, outbox, ME)
    owner, red, blue = people(OWNER, "Olga"), people(RED, "Rex"), people(BLUE, "Bo")
    made = me.post("/v1/app-passwords", json={"label": "phone"}).json()
    theirs, _ = book_with(owner, "Theirs", [(me, ["red"]), (red, ["red"]), (blue, ["blue"])])
    mine, _ = book_with(me, "Mine", [])
    invited = me.post(
        f"/v1/books/{mine}/invitations",
        json={"invitees": [{"phone": INVITEE, "name": "Ivy", "tags": ["x"]}]},
    )
    assert invited.status_code == 200

    response = me.get("/v1/me/export")

    assert response.status_code == 200, response.text
    assert response.headers["content-disposition"] == (
        'attachment; filename="circlebook-export-2026-03-01.json"'
    )
    document = response.json()
    assert document["exported_at"].startswith("2026-03-01T")
    assert document["account"] == me.get("/v1/me").json()
    sessions = {s["id"]: s for s in document["sessions"]}
    assert len(sessions) == 2
    assert [s["current"] for s in document["sessions"]].count(True) == 1
    assert all(
        set(s) == {"id", "device", "created_at", "last_used_at", "current"}
        for s in sessions.values()
    )
    assert document["app_passwords"] == [
        {k: made[k] for k in ("id", "label", "created_at", "last_used_at")}
    ]
    books = {b["book_id"]: b for b in document["books"]}
    assert (books[theirs]["title"], books[theirs]["role"], books[theirs]["tags"]) == (
        "Theirs",
        "member",
        ["red"],
    )
    # Each book's entries are exactly what I see of it: Bo (blue) is not among them.
    assert books[theirs]["entries"] == me.entries(theirs)["entries"]
    assert {e["name"] for e in books[theirs]["entries"]} == {"Olga", "Mia", "Rex"}
    assert books[mine]["role"] == "owner"
    waiting = document["invitations_sent"]
    assert [(i["book_id"], i["book_title"], i["phone"], i["name"], i["tags"]) for i in waiting] == [
        (mine, "Mine", INVITEE, "Ivy", ["x"])
    ]
    assert set(waiting[0]) == {
        "book_id",
        "book_title",
        "phone",
        "name",
        "tags",
        "created_at",
        "expires_at",
    }
    # No secret leaves: neither token nor password nor any hash of them.
    for secret in (me.token, other_device.token, made["password"]):
        assert secret not in response.text
    # (The ledger's records carry their chain hashes, which are no secret.)
    assert "hash" not in json.dumps({k: v for k, v in document.items() if k != "ledger"})
    assert [r["kind"] for r in document["ledger"]] == ["invited", "accepted"]


def test_the_export_needs_a_signed_in_account(client: TestClient) -> None:
    refused = client.get("/v1/me/export")
    assert refused.status_code == 401
    assert refused.headers["content-type"] == "application/problem+json"
