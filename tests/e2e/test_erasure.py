"""Leaving circlebook: DELETE /v1/me erases the account, and no table keeps a trace of it."""

from __future__ import annotations

from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, select

from circlebook.domain.model import Account
from circlebook.hashchain import head, verify
from circlebook.services import events
from circlebook.storage.schema import metadata
from tests.conftest import sign_in
from tests.e2e.dav import book_with
from tests.e2e.test_ledger import whole

ME = "+8613700137201"
MY_NAME = "Zhu Qiqi"
# Every spelling of my number the server could have kept: E.164, without '+', the
# national digits, and the spaced and dashed forms an owner typed when inviting me.
SPELLINGS = [ME, ME[1:], ME[3:], "137 0013 7201", "137-0013-7201"]
OWNER2, MEMBER1, MEMBER2, MEMBER3, NEWCOMER, STRANGER = (f"+861370013720{n}" for n in range(2, 8))


def traces(engine: Engine, needles: list[str]) -> list[tuple[str, str, str]]:
    """(table, column, value) of every text value in the database holding a needle."""
    found = []
    wanted = [n.casefold() for n in needles]
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(select(table)).mappings():
                for column, value in row.items():
                    text = str(value).casefold() if value is not None else ""
                    if any(n in text for n in wanted):
                        found.append((table.name, column, str(value)))
    return found


def erase(person: Any, body: dict[str, str]) -> Any:
    return person.client.request("DELETE", "/v1/me", headers=person.headers, json=body)


def replayed(client: TestClient, person: Any, book_ids: list[str]) -> list[Any]:
    """What the event log replays to a person from the start, as a reconnecting stream would."""
    account = Account(**person.account)
    found = events.missed(client.app.state.runtime, account, 0, book_ids)  # type: ignore[attr-defined]
    assert found is not None
    return found


def test_erasure_leaves_no_trace_and_the_others_carry_on(
    people: Any, client: TestClient, engine: Engine, outbox: Any
) -> None:
    me = people(ME, MY_NAME)
    sign_in(client, outbox, ME)  # a second session, on another device
    owner2, member1, member2, member3, newcomer = (
        people(p, n)
        for p, n in [
            (OWNER2, "Olga"),
            (MEMBER1, "Ming"),
            (MEMBER2, "Mona"),
            (MEMBER3, "Max"),
            (NEWCOMER, "Nia"),
        ]
    )
    for label in ("phone", "laptop"):
        assert me.post("/v1/app-passwords", json={"label": label}).status_code == 201
    # My book, with members and invitations still waiting (one to a number with an account).
    mine, _ = book_with(me, "Mine", [(member1, ["red"]), (member2, [])])
    invited = me.post(
        f"/v1/books/{mine}/invitations",
        json={"invitees": [{"phone": STRANGER, "name": "Stan"}, {"phone": NEWCOMER}]},
    )
    assert invited.status_code == 200, invited.text
    # A book I started and handed on: the invitation I sent there still waits.
    handed, entry_ids = book_with(me, "Handed", [(member1, [])])
    sent = me.post(f"/v1/books/{handed}/invitations", json={"invitees": [{"phone": NEWCOMER}]})
    assert sent.status_code == 200, sent.text
    given = me.post(f"/v1/books/{handed}/owner", json={"entry_id": entry_ids[MEMBER1]})
    assert given.status_code == 200, given.text
    # Someone else's book, where I am a member and was retagged.
    created = owner2.post(
        "/v1/books",
        json={
            "title": "Theirs",
            "invitees": [
                {"phone": "137-0013-7201", "name": MY_NAME, "tags": ["red"]},
                {"phone": MEMBER3, "tags": ["blue"]},
            ],
        },
    )
    theirs = created.json()["id"]
    my_entry = me.accept(theirs)["entry_id"]
    member3.accept(theirs)
    retag = owner2.patch(f"/v1/books/{theirs}/entries/{my_entry}", json={"tags": ["blue"]})
    assert retag.status_code == 200, retag.text
    # And an invitation to my number that I never answered.
    waiting = owner2.post(
        "/v1/books",
        json={"title": "Waiting", "invitees": [{"phone": "137 0013 7201", "name": MY_NAME}]},
    )
    assert waiting.status_code == 201
    before = {p.phone: p.entries(theirs)["sync_token"] for p in (owner2, member3)}
    assert my_entry in {e["id"] for e in member3.entries(theirs)["entries"]}
    assert traces(engine, [*SPELLINGS, MY_NAME, me.account["id"]])
    others = (owner2, member1, member2, member3, newcomer)
    heads = {p.phone: head(whole(p)) for p in others}
    assert sum(1 for h in heads.values() if h) == 4  # the owner of Theirs has none yet

    gone = erase(me, {"confirm": ME})

    assert gone.status_code == 204, gone.text
    assert traces(engine, [*SPELLINGS, MY_NAME, me.account["id"]]) == []
    assert me.get("/v1/me").status_code == 401
    # The others: my book is gone for its members, my entry left theirs.
    assert member1.get(f"/v1/books/{mine}").status_code == 404
    assert [b["title"] for b in member1.get("/v1/books").json()["books"]] == ["Handed"]
    assert member1.get(f"/v1/books/{handed}/invitations").json()["invitations"] == []
    for person in (owner2, member3):
        delta = person.entries(theirs, since=before[person.phone])
        assert delta["removed"] == [my_entry]
        assert my_entry not in {e["id"] for e in person.entries(theirs)["entries"]}
    assert newcomer.get("/v1/invitations").json()["invitations"] == []
    # Everyone else's ledger still verifies against the head they kept before, and
    # says what my leaving did to their consent, without a word of who I was.
    for person in others:
        assert verify(whole(person), heads[person.phone]) is None, person.phone
    assert [r["kind"] for r in whole(member1)][-1] == "book_dissolved"
    assert [r["kind"] for r in whole(newcomer)][-2:] == ["withdrawn", "withdrawn"]
    kinds = {(e.type.value, e.book_id) for e in replayed(client, owner2, [theirs])}
    assert ("book.changed", theirs) in kinds
    assert ("invitation.declined", waiting.json()["id"]) in kinds
    assert ("book.left", mine) in {
        (e.type.value, e.book_id) for e in replayed(client, member1, [handed])
    }


def test_a_wrong_or_missing_confirmation_changes_nothing(people: Any) -> None:
    me = people(ME, MY_NAME)
    friend = people(MEMBER1, "Ming")
    book_id, _ = book_with(me, "Mine", [(friend, [])])
    for body in ({"confirm": MEMBER1}, {"confirm": "not a number"}, {}, {"confirm": ""}):
        refused = erase(me, body)
        assert refused.status_code == 422, (body, refused.text)
        assert refused.headers["content-type"] == "application/problem+json"
    assert me.get("/v1/me").json()["phone"] == ME
    assert len(friend.entries(book_id)["entries"]) == 2


def test_the_confirmation_may_be_typed_as_the_national_number(people: Any) -> None:
    me = people(ME, MY_NAME)
    assert erase(me, {"confirm": "137 0013 7201"}).status_code == 204
    assert me.get("/v1/me").status_code == 401
