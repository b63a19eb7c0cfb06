"""The consent ledger: GET /v1/me/ledger records what happened to my consent, chained by hash."""

from __future__ import annotations

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from circlebook.hashchain import verify
from circlebook.services import answers, auth, books
from circlebook.storage.schema import ledger
from tests.conftest import FakeClock, sign_in
from tests.e2e.dav import book_with
from tests.e2e.test_invite_links import code_for, create, token_of

OWNER, ME, OTHER, LATE, STRANGER = (f"+861370013740{n}" for n in range(1, 6))
PHONES = [OWNER, ME, OTHER, LATE, STRANGER]


def spellings(phone: str) -> list[str]:
    """Every way a Chinese mobile number could be written down."""
    national = phone[3:]
    return [
        phone,
        phone[1:],
        national,
        f"{national[:3]} {national[3:7]} {national[7:]}",
        f"{national[:3]}-{national[3:7]}-{national[7:]}",
    ]


def whole(person: Any) -> list[dict[str, Any]]:
    """Every record of a person's ledger, oldest first, read page by page."""
    records: list[dict[str, Any]] = []
    after = None
    while True:
        params = {"limit": 3} if after is None else {"limit": 3, "after": after}
        response = person.get("/v1/me/ledger", params=params)
        assert response.status_code == 200, response.text
        body = response.json()
        records.extend(body["records"])
        after = body["next_after"]
        if after is None:
            return list(reversed(records))


def kinds(person: Any) -> list[str]:
    return [r["kind"] for r in whole(person)]


def bodies(engine: Engine) -> list[str]:
    with engine.connect() as conn:
        return list(conn.execute(select(ledger.c.body)).scalars())


def ledger_rows(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(select(func.count()).select_from(ledger)).scalar_one())


def test_every_change_to_my_consent_is_recorded_for_me(people: Any, engine: Engine) -> None:
    owner, me, other = people(OWNER, "Olga"), people(ME, "Mia"), people(OTHER, "Otto")
    book_id, entry_ids = book_with(owner, "Club", [(me, ["red"]), (other, [])])
    owner_entry, my_entry = entry_ids[OWNER], entry_ids[ME]
    retag = owner.patch(f"/v1/books/{book_id}/entries/{my_entry}", json={"tags": ["blue"]})
    assert retag.status_code == 200, retag.text
    assert owner.patch(f"/v1/books/{book_id}", json={"title": "Club 2"}).status_code == 200
    given = owner.post(f"/v1/books/{book_id}/owner", json={"entry_id": entry_ids[OTHER]})
    assert given.status_code == 200, given.text
    assert me.delete(f"/v1/books/{book_id}/entries/{my_entry}").status_code == 204

    records = whole(me)

    assert [r["kind"] for r in records] == [
        "invited",
        "accepted",
        "retagged",
        "renamed",
        "owner_changed",
        "left",
    ]
    invited, accepted, retagged, renamed, handed, left = records
    assert invited["book"] == {"id": book_id, "title": "Club"}
    assert invited["by"] == {"entry_id": owner_entry, "role": "owner"}
    assert invited["tags"] == ["red"]
    assert (accepted["entry_id"], accepted["tags"]) == (my_entry, ["red"])
    assert (retagged["old_tags"], retagged["new_tags"]) == (["red"], ["blue"])
    assert retagged["by"] == {"entry_id": owner_entry, "role": "owner"}
    assert (renamed["old_title"], renamed["new_title"], renamed["book"]["title"]) == (
        "Club",
        "Club 2",
        "Club 2",
    )
    assert handed["to"] == {"entry_id": entry_ids[OTHER], "role": "owner"}
    assert handed["from"] == {"entry_id": owner_entry, "role": "member"}
    assert left["entry_id"] == my_entry
    assert verify(records, None) is None
    # The owner's own ledger holds the book-wide changes, not the members' own.
    assert kinds(owner) == ["renamed", "owner_changed"]
    assert kinds(other) == ["invited", "accepted", "renamed", "owner_changed"]


def test_a_change_to_the_name_i_am_shown_by_is_recorded_for_me_alone(people: Any) -> None:
    owner, me = people(OWNER, "Olga"), people(ME, "Mia")
    book_id, entry_ids = book_with(owner, "Club", [(me, [])])
    my_entry = entry_ids[ME]
    url = f"/v1/books/{book_id}/entries/{my_entry}"
    assert owner.patch(url, json={"name": "Mia Chen"}).status_code == 200
    assert owner.patch(url, json={"name": "Mia Chen"}).status_code == 200  # no change: no record
    assert me.patch(url, json={"name": "Mimi"}).status_code == 200
    records = whole(me)
    assert [r["kind"] for r in records] == ["invited", "accepted", "renamed", "renamed"]
    by_owner, by_me = records[2:]
    assert (by_owner["old_name"], by_owner["new_name"]) == ("Mia", "Mia Chen")
    assert by_owner["by"] == {"entry_id": entry_ids[OWNER], "role": "owner"}
    assert (by_me["old_name"], by_me["new_name"], by_me["by"]["role"]) == (
        "Mia Chen",
        "Mimi",
        "member",
    )
    assert by_me["entry_id"] == my_entry and verify(records, None) is None
    assert kinds(owner) == []  # a member's name is the member's record, not the owner's


def test_removal_decline_withdrawal_and_dissolution_are_recorded(people: Any) -> None:
    owner, me = people(OWNER, "Olga"), people(ME, "Mia")
    book_id, entry_ids = book_with(owner, "Club", [(me, [])])
    assert owner.delete(f"/v1/books/{book_id}/entries/{entry_ids[ME]}").status_code == 204
    second = create(owner, {"phone": ME}, title="Second")["id"]
    assert me.post(f"/v1/invitations/{me.invitation_to(second)}/decline").status_code == 204
    third = create(owner, {"phone": ME}, title="Third")["id"]
    invitation = me.invitation_to(third)
    assert owner.delete(f"/v1/books/{third}/invitations/{invitation}").status_code == 204
    fourth, _ = book_with(owner, "Fourth", [(me, [])])
    assert owner.delete(f"/v1/books/{fourth}").status_code == 204

    records = whole(me)

    assert [(r["kind"], r["book"]["title"]) for r in records] == [
        ("invited", "Club"),
        ("accepted", "Club"),
        ("removed", "Club"),
        ("invited", "Second"),
        ("declined", "Second"),
        ("invited", "Third"),
        ("withdrawn", "Third"),
        ("invited", "Fourth"),
        ("accepted", "Fourth"),
        ("book_dissolved", "Fourth"),
    ]
    assert records[2]["by"] == {"entry_id": entry_ids[OWNER], "role": "owner"}
    assert records[-1]["by"]["role"] == "owner"
    assert verify(records, None) is None
    assert kinds(owner) == ["book_dissolved"]


def test_invitations_waiting_for_a_number_begin_its_ledger_when_it_signs_up(
    people: Any, clock: FakeClock
) -> None:
    owner = people(OWNER, "Olga")
    first = create(owner, {"phone": LATE, "tags": ["x"]}, title="First")["id"]
    clock.advance(seconds=1)
    create(owner, {"phone": LATE}, title="Second")
    clock.advance(hours=1)
    late = people(LATE, "Lena")
    records = whole(late)
    assert [(r["kind"], r["book"]["title"]) for r in records] == [
        ("invited", "First"),
        ("invited", "Second"),
    ]
    assert records[0]["tags"] == ["x"]
    assert records[0]["book"]["id"] == first
    assert records[0]["invited_at"] < records[1]["invited_at"] < records[0]["at"]
    late.accept(first)
    assert kinds(late)[-1] == "accepted"


def test_no_record_holds_any_phone_number(people: Any, engine: Engine) -> None:
    # Nobody gives a name: entries then go by the number, which must still stay out.
    owner, me, other = people(OWNER), people(ME), people(OTHER)
    book_id, entry_ids = book_with(owner, "Club", [(me, ["a"]), (other, ["a"])])
    owner.patch(f"/v1/books/{book_id}/entries/{entry_ids[ME]}", json={"tags": ["b"]})
    owner.post(
        f"/v1/books/{book_id}/invitations",
        json={"invitees": [{"phone": "137 0013 7404", "name": "Late"}, {"phone": STRANGER}]},
    )
    owner.post(f"/v1/books/{book_id}/owner", json={"entry_id": entry_ids[OTHER]})
    people(LATE)
    other.patch(f"/v1/books/{book_id}", json={"title": "Club 2"})
    other.delete(f"/v1/books/{book_id}/entries/{entry_ids[ME]}")
    other.delete(f"/v1/books/{book_id}")

    stored = bodies(engine)

    assert len(stored) >= 10
    for body in stored:
        for phone in PHONES:
            for spelling in spellings(phone):
                assert spelling not in body, (spelling, body)
        for account in (owner, me, other):
            assert account.account["id"] not in body


def test_pages_run_newest_first_and_next_after_leads_to_the_older(people: Any) -> None:
    owner, me = people(OWNER, "Olga"), people(ME, "Mia")
    for n in range(3):
        book_with(owner, f"Book {n}", [(me, [])])  # invited + accepted: 6 records

    first = me.get("/v1/me/ledger", params={"limit": 4}).json()
    second = me.get("/v1/me/ledger", params={"limit": 4, "after": first["next_after"]}).json()

    assert [r["seq"] for r in first["records"]] == [6, 5, 4, 3]
    assert first["next_after"] == 3
    assert [r["seq"] for r in second["records"]] == [2, 1]
    assert second["next_after"] is None
    everything = me.get("/v1/me/ledger").json()
    assert [r["seq"] for r in everything["records"]] == [6, 5, 4, 3, 2, 1]
    assert everything["next_after"] is None
    assert me.get("/v1/me/ledger", params={"after": 1}).json() == {
        "records": [],
        "next_after": None,
    }
    huge = me.get("/v1/me/ledger", params={"after": "9" * 18, "limit": 200}).json()
    assert len(huge["records"]) == 6
    chain = list(reversed(everything["records"]))
    assert verify(chain, (6, chain[-1]["hash"])) is None


@pytest.mark.parametrize(
    "params",
    [
        {"limit": "0"},
        {"limit": "201"},
        {"limit": "-1"},
        {"limit": "ten"},
        {"limit": "1.5"},
        {"limit": "٣"},
        {"limit": ""},
        {"after": "0"},
        {"after": "-3"},
        {"after": "x"},
        {"after": "9" * 30},
        {"after": "²"},
    ],
)
def test_bad_paging_is_a_422_problem(people: Any, params: dict[str, str]) -> None:
    me = people(ME, "Mia")
    refused = me.get("/v1/me/ledger", params=params)
    assert refused.status_code == 422, refused.text
    assert refused.headers["content-type"] == "application/problem+json"


def test_my_ledger_is_mine_alone(client: TestClient, people: Any) -> None:
    owner, me = people(OWNER, "Olga"), people(ME, "Mia")
    book_with(owner, "Club", [(me, [])])
    assert client.get("/v1/me/ledger").status_code == 401
    # Whoever asks gets their own: there is no way to name another account's ledger.
    assert kinds(owner) == []
    assert kinds(me) == ["invited", "accepted"]
    assert client.get(f"/v1/accounts/{me.account['id']}/ledger").status_code == 404


def test_a_newcomer_declining_through_the_link_leaves_no_ledger_row(
    client: TestClient, people: Any, outbox: Path, engine: Engine
) -> None:
    owner = people(OWNER, "Olga")
    token = token_of(create(owner, {"phone": STRANGER})["outcomes"][0])
    before = ledger_rows(engine)
    code = code_for(client, outbox, token, STRANGER)
    assert client.post(f"/v1/invites/{token}/decline", json={"code": code}).status_code == 204
    assert ledger_rows(engine) == before == 0


def test_a_member_with_an_account_declining_through_the_link_is_recorded(
    client: TestClient, people: Any, outbox: Path
) -> None:
    owner, me = people(OWNER, "Olga"), people(ME, "Mia")
    token = token_of(create(owner, {"phone": ME})["outcomes"][0])
    code = code_for(client, outbox, token, ME)
    assert client.post(f"/v1/invites/{token}/stop", json={"code": code}).status_code == 204
    assert kinds(me) == ["invited", "declined"]


def test_a_newcomer_accepting_through_the_link_starts_a_ledger(
    client: TestClient, people: Any, outbox: Path
) -> None:
    owner = people(OWNER, "Olga")
    token = token_of(create(owner, {"phone": STRANGER})["outcomes"][0])
    code = code_for(client, outbox, token, STRANGER)
    joined = client.post(f"/v1/invites/{token}/accept", json={"code": code}).json()
    found = client.get("/v1/me/ledger", headers={"Authorization": f"Bearer {joined['token']}"})
    assert [r["kind"] for r in reversed(found.json()["records"])] == ["invited", "accepted"]


def test_the_export_holds_my_whole_ledger_oldest_first(people: Any) -> None:
    owner, me = people(OWNER, "Olga"), people(ME, "Mia")
    book_with(owner, "Club", [(me, [])])
    exported = me.get("/v1/me/export").json()["ledger"]
    assert exported == whole(me)
    assert [r["seq"] for r in exported] == [1, 2]


def test_a_record_rewritten_in_the_database_no_longer_verifies(
    people: Any, engine: Engine, client: TestClient, outbox: Path
) -> None:
    owner, me = people(OWNER, "Olga"), people(ME, "Mia")
    book_with(owner, "Club", [(me, ["red"])])
    assert verify(whole(me), None) is None
    with engine.begin() as conn:
        conn.execute(text("UPDATE ledger SET body = replace(body, 'red', 'all') WHERE seq = 1"))
    assert "record 1 was changed" in str(verify(whole(sign_in(client, outbox, ME)), None))


def test_concurrent_changes_to_one_account_chain_without_a_gap_or_a_fork(
    client: TestClient, people: Any
) -> None:
    owners = [people(f"+86137001375{n:02d}", f"Owner {n}") for n in range(8)]
    me = people(ME, "Mia")
    book_ids = [create(o, {"phone": ME}, title=f"Book {n}")["id"] for n, o in enumerate(owners)]
    invitations = {b: me.invitation_to(b) for b in book_ids}
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    account = auth.authenticate(rt, me.token)

    def answer(book_id: str) -> None:
        # Half accept and half decline at once: every answer appends to one chain.
        if book_ids.index(book_id) % 2:
            answers.decline(rt, account, invitations[book_id])
        else:
            answers.accept(rt, account, invitations[book_id])

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(answer, book_ids))

    records = whole(me)
    assert [r["seq"] for r in records] == list(range(1, 17))
    assert verify(records, None) is None
    assert sorted(r["kind"] for r in records[8:]) == ["accepted"] * 4 + ["declined"] * 4


def test_renames_and_joins_at_once_neither_fail_nor_lose_a_record(
    client: TestClient, people: Any
) -> None:
    owner = people(OWNER, "Olga")
    joiners = [people(f"+86137001376{n:02d}", f"Joiner {n}") for n in range(6)]
    book_id = create(owner, *({"phone": j.phone} for j in joiners), title="Busy")["id"]
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    waiting = {j.phone: j.invitation_to(book_id) for j in joiners}

    def act(n: int) -> None:
        if n < len(joiners):
            joiner = joiners[n]
            account = auth.authenticate(rt, joiner.token)
            answers.accept(rt, account, waiting[joiner.phone])
        else:
            books.rename_book(rt, auth.authenticate(rt, owner.token), book_id, f"Busy {n}")

    with ThreadPoolExecutor(max_workers=8) as pool:
        list(pool.map(act, range(len(joiners) + 6)))

    for person in (owner, *joiners):
        assert verify(whole(person), None) is None
    # Each joiner saw every rename committed after its own join, and none before it.
    renames_of_owner = kinds(owner).count("renamed")
    assert renames_of_owner == 6
    for joiner in joiners:
        records = whole(joiner)
        assert [r["kind"] for r in records[:2]] == ["invited", "accepted"]
        assert {r["kind"] for r in records[2:]} <= {"renamed"}
