"""Invitation links: answered with a code sent to the invited number, with or without an account."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, func, select, text

from circlebook.services.auth import phone_key
from circlebook.storage.schema import metadata
from tests.conftest import SECRET, FakeClock, last_code

OWNER, MEMBER, STRANGER, OTHER = (
    "+8613800138401",
    "+8613800138402",
    "+8613800138403",
    "+8613800138404",
)
US = "+12015550123"


def create(
    owner: Any, *invitees: dict[str, Any], title: str = "Class of 2012", lang: str = "en"
) -> Any:
    response = owner.client.post(
        "/v1/books",
        json={"title": title, "invitees": list(invitees)},
        headers={**owner.headers, "Accept-Language": lang},
    )
    assert response.status_code == 201, response.text
    return response.json()


def token_of(outcome: dict[str, Any]) -> str:
    url: str = outcome["invite_url"]
    return url.rsplit("/i/", 1)[1]


def code_for(client: TestClient, outbox: Path, token: str, phone: str) -> str:
    response = client.post(f"/v1/invites/{token}/code")
    assert response.status_code == 202, response.text
    return last_code(outbox, phone)


def rows_holding(engine: Engine, *needles: str) -> list[tuple[str, str]]:
    """Every (table, value) in the database that contains one of the needles."""
    found = []
    with engine.connect() as conn:
        for table in metadata.sorted_tables:
            for row in conn.execute(table.select()):
                for value in row:
                    if any(n in str(value) for n in needles):
                        found.append((table.name, str(value)))
    return found


def counts(engine: Engine, *tables: str) -> dict[str, int]:
    with engine.connect() as conn:
        return {
            t: int(conn.execute(select(func.count()).select_from(metadata.tables[t])).scalar_one())
            for t in tables
        }


def test_each_invitation_comes_with_an_absolute_link_and_a_ready_text(people: Any) -> None:
    owner = people(OWNER, "Li Lei")
    book = create(owner, {"phone": STRANGER, "name": "Meimei"}, {"phone": US})
    zh, en = book["outcomes"]
    assert zh["status"] == en["status"] == "invited"
    assert zh["invite_url"].startswith("http://testserver/i/")
    assert len(token_of(zh)) == 32 and token_of(zh) != token_of(en)
    # A +86 number is asked in Chinese; anyone else in the owner's language.
    assert zh["invite_text"] == (
        f"Li Lei邀请您加入 circlebook 共享通讯录“Class of 2012”。请在此回复：{zh['invite_url']}"  # noqa: RUF001
    )
    assert en["invite_text"].startswith('Li Lei invites you to "Class of 2012"')
    assert en["invite_text"].endswith(en["invite_url"])
    assert zh["text_sent"] is False and en["text_sent"] is False
    pending = owner.get(f"/v1/books/{book['id']}/invitations").json()["invitations"]
    assert {p["phone"]: p["invite_url"] for p in pending} == {
        STRANGER: zh["invite_url"],
        US: en["invite_url"],
    }


def test_the_owners_language_is_the_requests(people: Any) -> None:
    owner = people(OWNER, "Li Lei")
    book = create(owner, {"phone": US}, lang="zh-CN")
    assert "邀请您加入" in book["outcomes"][0]["invite_text"]


def test_public_url_sets_the_base_of_every_link(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    from tests.conftest import sign_in

    client = make_client(public_url="https://book.example.org/")
    owner = sign_in(client, outbox, OWNER, "Li Lei")
    book = create(owner, {"phone": STRANGER})
    assert book["outcomes"][0]["invite_url"].startswith("https://book.example.org/i/")


def test_link_says_who_invites_to_what_without_sign_in(client: TestClient, people: Any) -> None:
    owner = people(OWNER, "Li Lei")
    book = create(owner, {"phone": STRANGER})
    response = client.get(f"/v1/invites/{token_of(book['outcomes'][0])}")
    assert response.status_code == 200, response.text
    body = response.json()
    assert body == {
        "book_title": "Class of 2012",
        "owner_name": "Li Lei",
        "owner_phone": OWNER,
        "phone_hint": "+86 138 **** 8403",
        "expires_at": body["expires_at"],
    }


@pytest.mark.parametrize("token", ["x" * 32, "short", "a" * 200, "bad token!" * 3 + "xx"])
def test_unknown_or_malformed_tokens_are_not_found(client: TestClient, token: str) -> None:
    for method, path in [
        ("GET", ""),
        ("POST", "/code"),
        ("POST", "/accept"),
        ("POST", "/decline"),
        ("POST", "/stop"),
    ]:
        body = None if path in ("", "/code") else {"code": "123456"}
        response = client.request(method, f"/v1/invites/{token}{path}", json=body)
        assert response.status_code == 404, (path, response.text)
        assert response.headers["content-type"] == "application/problem+json"


def test_an_expired_link_is_not_found(client: TestClient, people: Any, clock: FakeClock) -> None:
    owner = people(OWNER, "Li Lei")
    token = token_of(create(owner, {"phone": STRANGER})["outcomes"][0])
    clock.advance(days=30, seconds=1)
    assert client.get(f"/v1/invites/{token}").status_code == 404
    assert client.post(f"/v1/invites/{token}/code").status_code == 404


def test_a_newcomer_joins_through_the_link_and_is_signed_in(
    client: TestClient, people: Any, outbox: Path, engine: Engine
) -> None:
    owner = people(OWNER, "Li Lei")
    book = create(owner, {"phone": STRANGER, "name": "Meimei", "tags": ["class"]})
    token = token_of(book["outcomes"][0])
    code = code_for(client, outbox, token, STRANGER)
    response = client.post(f"/v1/invites/{token}/accept", json={"code": code, "name": "Han Meimei"})
    assert response.status_code == 200, response.text
    joined = response.json()
    assert joined["book_id"] == book["id"]
    assert joined["account"]["phone"] == STRANGER
    assert joined["entry"]["name"] == "Han Meimei" and joined["entry"]["tags"] == ["class"]
    me = client.get("/v1/me", headers={"Authorization": f"Bearer {joined['token']}"})
    assert me.json()["id"] == joined["account"]["id"]
    names = {e["phone"]: e["name"] for e in owner.entries(book["id"])["entries"]}
    assert names == {OWNER: "Li Lei", STRANGER: "Han Meimei"}
    # The link has done its work.
    assert client.get(f"/v1/invites/{token}").status_code == 404
    with engine.connect() as conn:
        accepted = conn.execute(
            text(
                "SELECT count(*) FROM events WHERE type = 'invitation.accepted' AND account_id = :o"
            ),
            {"o": owner.account["id"]},
        ).scalar_one()
    assert accepted == 1


def test_a_member_with_an_account_joins_with_that_account(
    client: TestClient, people: Any, outbox: Path, engine: Engine
) -> None:
    owner, member = people(OWNER, "Li Lei"), people(MEMBER, "Meimei")
    token = token_of(create(owner, {"phone": MEMBER})["outcomes"][0])
    before = counts(engine, "accounts")["accounts"]
    code = code_for(client, outbox, token, MEMBER)
    joined = client.post(f"/v1/invites/{token}/accept", json={"code": code}).json()
    assert joined["account"]["id"] == member.account["id"]
    assert joined["entry"]["name"] == "Meimei"
    assert counts(engine, "accounts")["accounts"] == before


def test_a_code_sent_to_another_number_does_not_open_the_link(
    client: TestClient, people: Any, outbox: Path
) -> None:
    owner = people(OWNER, "Li Lei")
    token = token_of(create(owner, {"phone": STRANGER})["outcomes"][0])
    # Someone who knows the link proves their own number, not the invited one.
    assert client.post("/v1/auth/codes", json={"phone": OTHER}).status_code == 202
    theirs = last_code(outbox, OTHER)
    for action in ("accept", "decline", "stop"):
        response = client.post(f"/v1/invites/{token}/{action}", json={"code": theirs})
        assert response.status_code == 401, response.text
        assert response.json()["type"] == "urn:circlebook:problem:invalid-code"
    assert client.get(f"/v1/invites/{token}").status_code == 200
    assert not [m for m in map(json.loads, outbox.read_text().splitlines()) if m["to"] == STRANGER]


def test_link_codes_obey_the_sign_in_limits(client: TestClient, people: Any) -> None:
    owner = people(OWNER, "Li Lei")
    token = token_of(create(owner, {"phone": STRANGER})["outcomes"][0])
    for _ in range(3):
        assert client.post(f"/v1/invites/{token}/code").status_code == 202
    response = client.post(f"/v1/invites/{token}/code")
    assert response.status_code == 429
    assert int(response.headers["retry-after"]) > 0


def test_wrong_codes_lock_the_link_code_out(client: TestClient, people: Any, outbox: Path) -> None:
    owner = people(OWNER, "Li Lei")
    token = token_of(create(owner, {"phone": STRANGER})["outcomes"][0])
    code = code_for(client, outbox, token, STRANGER)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert client.post(f"/v1/invites/{token}/accept", json={"code": wrong}).status_code == 401
    assert client.post(f"/v1/invites/{token}/accept", json={"code": code}).status_code == 401


@pytest.mark.parametrize("answer", ["decline", "stop"])
def test_no_through_the_link_leaves_nothing_of_the_number_behind(
    client: TestClient, people: Any, outbox: Path, engine: Engine, answer: str
) -> None:
    owner = people(OWNER, "Li Lei")
    book = create(owner, {"phone": STRANGER, "name": "Secret Meimei", "tags": ["vip"]})
    token = token_of(book["outcomes"][0])
    before = counts(engine, "accounts", "sessions")
    code = code_for(client, outbox, token, STRANGER)
    response = client.post(f"/v1/invites/{token}/{answer}", json={"code": code})
    assert response.status_code == 204, response.text
    national = STRANGER.removeprefix("+86")
    assert rows_holding(engine, STRANGER, national, "Secret Meimei") == []
    assert counts(engine, "accounts", "sessions") == before
    key = phone_key(SECRET.encode(), STRANGER)
    with engine.connect() as conn:
        codes = conn.execute(
            text("SELECT count(*) FROM auth_codes WHERE phone_hash = :k"), {"k": key}
        ).scalar_one()
        listed = conn.execute(text("SELECT phone_hash FROM do_not_invite")).scalars().all()
    assert codes == 0
    assert listed == ([key] if answer == "stop" else [])
    assert owner.get(f"/v1/books/{book['id']}/invitations").json()["invitations"] == []
    assert client.get(f"/v1/invites/{token}").status_code == 404


def test_a_stopped_number_is_invited_by_nobody_until_it_says_so(
    client: TestClient, people: Any, outbox: Path, engine: Engine
) -> None:
    owner = people(OWNER, "Li Lei")
    first = create(owner, {"phone": STRANGER}, title="One")
    waiting = create(owner, {"phone": STRANGER}, title="Two")
    token = token_of(first["outcomes"][0])
    code = code_for(client, outbox, token, STRANGER)
    assert client.post(f"/v1/invites/{token}/stop", json={"code": code}).status_code == 204
    # The stop withdraws every invitation still waiting for the number.
    assert owner.get(f"/v1/books/{waiting['id']}/invitations").json()["invitations"] == []
    other_owner = people(OTHER, "Wang")
    again = create(other_owner, {"phone": STRANGER}, {"phone": US})
    assert [o["status"] for o in again["outcomes"]] == ["opted_out", "invited"]
    assert again["outcomes"][0]["invite_url"] is None
    with engine.connect() as conn:
        held = conn.execute(
            text("SELECT count(*) FROM invitations WHERE phone = :p"), {"p": STRANGER}
        ).scalar_one()
    assert held == 0
    # Signed in, the person undoes it.
    person = people(STRANGER, "Meimei")
    assert person.get("/v1/me/do-not-invite").json() == {"do_not_invite": True}
    assert person.delete("/v1/me/do-not-invite").status_code == 204
    assert person.get("/v1/me/do-not-invite").json() == {"do_not_invite": False}
    invited = other_owner.post(
        f"/v1/books/{again['id']}/invitations", json={"invitees": [{"phone": STRANGER}]}
    )
    assert invited.json()["outcomes"][0]["status"] == "invited"
    # And can turn it on again while signed in, which declines what waits.
    assert person.put("/v1/me/do-not-invite").status_code == 204
    assert person.get("/v1/invitations").json()["invitations"] == []


def test_link_tokens_are_stored_only_as_keyed_hashes(
    client: TestClient, people: Any, engine: Engine
) -> None:
    owner = people(OWNER, "Li Lei")
    outcomes = create(owner, {"phone": STRANGER}, {"phone": MEMBER}, {"phone": US})["outcomes"]
    tokens = [token_of(o) for o in outcomes]
    assert len(set(tokens)) == 3
    assert rows_holding(engine, *tokens) == []
    with engine.connect() as conn:
        stored = set(conn.execute(text("SELECT link_hash FROM invitations")).scalars())
    assert len(stored) == 3
    # Not a plain digest anyone could compute from a guessed token.
    assert not stored & {hashlib.sha256(t.encode()).hexdigest() for t in tokens}
    # Each token is 32 URL-safe characters (192 bits); one character off opens nothing.
    token = tokens[0]
    flipped = token[:-1] + ("A" if token[-1] != "A" else "B")
    assert client.get(f"/v1/invites/{flipped}").status_code == 404


def test_bad_bodies_on_the_link_routes_are_clear_problems(client: TestClient, people: Any) -> None:
    owner = people(OWNER, "Li Lei")
    token = token_of(create(owner, {"phone": STRANGER})["outcomes"][0])
    for action in ("accept", "decline", "stop"):
        for body in (
            {},
            {"code": ""},
            {"code": 123456},
            {"code": "1" * 40},
            {"code": "12345", "x": 1},
        ):
            response = client.post(f"/v1/invites/{token}/{action}", json=body)
            assert response.status_code == 422, (action, body, response.text)
            assert response.headers["content-type"] == "application/problem+json"
        response = client.post(f"/v1/invites/{token}/{action}", json={"code": "abcdef"})
        assert response.status_code == 422
        assert response.json()["field"] == "code"
    response = client.post(
        f"/v1/invites/{token}/accept", json={"code": "123456", "name": "x" * 101}
    )
    assert response.status_code == 422
    response = client.post(
        f"/v1/invites/{token}/accept",
        content=b"not json",
        headers={"content-type": "application/json"},
    )
    assert response.status_code == 422
