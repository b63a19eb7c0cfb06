"""Invitations: outcomes, waiting for sign-up, expiry, revocation, quota, accept and decline."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import vobject
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from circlebook.services.sweep import sweep
from circlebook.storage.schema import metadata
from tests.conftest import FakeClock, sign_in

OWNER, A, B, C = "+8613800138201", "+8613800138202", "+8613800138203", "+8613800138204"


def new_book(owner: Any, *invitees: dict[str, Any], title: str = "Club") -> dict[str, Any]:
    response = owner.post("/v1/books", json={"title": title, "invitees": list(invitees)})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


def test_each_invitee_gets_an_outcome_in_order(people: Any) -> None:
    owner = people(OWNER, "Owner")
    member = people(A, "A")
    book = new_book(owner, {"phone": A})
    member.accept(book["id"])
    response = owner.post(
        f"/v1/books/{book['id']}/invitations",
        json={
            "invitees": [
                {"phone": A},
                {"phone": B},
                {"phone": "138-0013-8203"},
                {"phone": OWNER},
                {"phone": "not a phone"},
                {"phone": C, "tags": ["bad tag!"]},
            ]
        },
    )
    assert response.status_code == 200, response.text
    outcomes = response.json()["outcomes"]
    assert [o["status"] for o in outcomes] == [
        "already_member",
        "invited",
        "already_invited",
        "already_member",
        "invalid",
        "invalid",
    ]
    assert outcomes[4]["field"] == "invitees[4].phone" and outcomes[4]["reason"]
    assert outcomes[5]["field"] == "invitees[5].tags"


def test_invitation_to_a_number_without_account_waits_for_its_sign_up(people: Any) -> None:
    owner = people(OWNER, "Owner")
    book = new_book(owner, {"phone": B, "name": "Bee"})
    newcomer = people(B)
    inbox = newcomer.get("/v1/invitations").json()["invitations"]
    assert [(i["book_id"], i["name"], i["invited_by"]["name"]) for i in inbox] == [
        (book["id"], "Bee", "Owner")
    ]


def test_accepted_name_is_given_then_owners_then_account_name(people: Any) -> None:
    owner = people(OWNER, "Owner")
    a, b, c = people(A, "Account A"), people(B, "Account B"), people(C, "Account C")
    book = new_book(
        owner, {"phone": A, "name": "Owner's A"}, {"phone": B, "name": "Owner's B"}, {"phone": C}
    )
    a.accept(book["id"], name="Chosen A")
    b.accept(book["id"])
    c.accept(book["id"])
    names = {e["phone"]: e["name"] for e in owner.entries(book["id"])["entries"]}
    assert names == {OWNER: "Owner", A: "Chosen A", B: "Owner's B", C: "Account C"}


def test_accepting_twice_yields_one_entry(people: Any) -> None:
    owner, a = people(OWNER, "Owner"), people(A, "A")
    book = new_book(owner, {"phone": A})
    inv = a.invitation_to(book["id"])
    first = a.post(f"/v1/invitations/{inv}/accept")
    second = a.post(f"/v1/invitations/{inv}/accept")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert len(owner.entries(book["id"])["entries"]) == 2


def test_someone_else_cannot_accept_or_decline_an_invitation(people: Any) -> None:
    owner, a, b = people(OWNER, "Owner"), people(A, "A"), people(B, "B")
    book = new_book(owner, {"phone": A})
    inv = a.invitation_to(book["id"])
    assert b.post(f"/v1/invitations/{inv}/accept").status_code == 404
    assert b.post(f"/v1/invitations/{inv}/decline").status_code == 404
    assert a.post(f"/v1/invitations/{inv}/accept").status_code == 200


def test_declined_invitation_leaves_no_phone_or_name_behind(people: Any, engine: Engine) -> None:
    owner, a = people(OWNER, "Owner"), people(A, "A")
    book = new_book(owner, {"phone": A, "name": "Secret Name", "tags": ["vip"]})
    inv = a.invitation_to(book["id"])
    assert a.post(f"/v1/invitations/{inv}/decline").status_code == 204
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                values = [str(v) for v in row]
                assert "Secret Name" not in values, table.name
                if table.name != "accounts":  # A's own account, made when A signed in
                    assert not any(A in v for v in values), table.name
    assert a.get("/v1/invitations").json()["invitations"] == []
    assert a.post(f"/v1/invitations/{inv}/accept").status_code == 404
    assert owner.get(f"/v1/books/{book['id']}/invitations").json()["invitations"] == []


def test_invitations_expire_after_thirty_days_and_are_purged(
    people: Any, clock: FakeClock, engine: Engine
) -> None:
    owner, a = people(OWNER, "Owner"), people(A, "A")
    book = new_book(owner, {"phone": A})
    inv = a.invitation_to(book["id"])
    clock.advance(days=30, seconds=1)
    assert a.get("/v1/invitations").json()["invitations"] == []
    assert a.post(f"/v1/invitations/{inv}/accept").status_code == 404
    new_book(owner, title="Another")  # any invitation run sweeps expired ones
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM invitations")).scalar_one() == 0


def test_the_sweep_deletes_expired_invitations_from_every_table(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock, engine: Engine
) -> None:
    client = make_client(invitation_ttl_days=2)
    owner, a = sign_in(client, outbox, OWNER, "Owner"), sign_in(client, outbox, A, "A")
    book = new_book(owner, {"phone": A, "name": "Secret A"}, {"phone": B, "name": "Secret B"})
    inv = a.invitation_to(book["id"])
    clock.advance(days=2, seconds=1)  # expired, but the event log still keeps a week
    sweep(client.app.state.runtime)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                values = [str(v) for v in row]
                assert not any(inv in v or "Secret" in v or B in v for v in values), table.name
    assert a.post(f"/v1/invitations/{inv}/accept").status_code == 404


def test_owner_lists_and_revokes_pending_invitations(people: Any) -> None:
    owner, a = people(OWNER, "Owner"), people(A, "A")
    book = new_book(owner, {"phone": A, "name": "A", "tags": ["Team"]}, {"phone": B})
    pending = owner.get(f"/v1/books/{book['id']}/invitations").json()["invitations"]
    assert [(p["phone"], p["tags"]) for p in pending] == [(A, ["team"]), (B, [])]
    url = f"/v1/books/{book['id']}/invitations/{pending[0]['id']}"
    assert owner.delete(url).status_code == 204
    assert owner.delete(url).status_code == 404
    assert a.get("/v1/invitations").json()["invitations"] == []


def test_owner_beyond_the_daily_invitation_quota_gets_429(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock
) -> None:
    owner = sign_in(make_client(invites_per_day=3), outbox, OWNER, "Owner")
    book = new_book(owner, {"phone": A}, {"phone": B})
    url = f"/v1/books/{book['id']}/invitations"
    refused = owner.post(url, json={"invitees": [{"phone": C}, {"phone": "+8613800138205"}]})
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) > 0
    assert len(owner.get(url).json()["invitations"]) == 2
    outcomes = owner.post(url, json={"invitees": [{"phone": C}]}).json()["outcomes"]
    assert [o["status"] for o in outcomes] == ["invited"]
    assert owner.post(url, json={"invitees": [{"phone": "+8613800138205"}]}).status_code == 429
    clock.advance(days=1)
    assert owner.post(url, json={"invitees": [{"phone": "+8613800138205"}]}).status_code == 200


def test_numbers_without_country_code_are_read_in_the_callers_region(people: Any) -> None:
    american = people("+14155552671", "Sam")
    book = new_book(american, {"phone": "(415) 555-2672"}, {"phone": "13800138202"})
    assert [o["phone"] for o in book["outcomes"]] == ["+14155552672", None]
    url = f"/v1/books/{book['id']}/invitations"
    asked = american.post(url, json={"invitees": [{"phone": "13800138202"}], "region": "CN"})
    assert asked.json()["outcomes"][0]["phone"] == A


def test_export_is_vcard_3_with_the_visible_entries(people: Any) -> None:
    owner, a = people(OWNER, "李雷"), people(A, "A")
    book = new_book(owner, {"phone": A, "name": "韩梅梅"})
    a.accept(book["id"])
    response = a.get(f"/v1/books/{book['id']}/export.vcf")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/vcard")
    cards = list(vobject.readComponents(response.text))
    assert {(c.fn.value, c.tel.value, c.version.value) for c in cards} == {
        ("李雷", OWNER, "3.0"),
        ("韩梅梅", A, "3.0"),
    }
