"""Signing in by a one-time code: expiry, lockout, rate limits, sessions."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import FakeClock, last_code

PHONE = "+8613800138101"


def ask_code(client: TestClient, phone: str = PHONE) -> Any:
    return client.post("/v1/auth/codes", json={"phone": phone})


def sign_in(client: TestClient, code: str, phone: str = PHONE) -> Any:
    return client.post("/v1/auth/sessions", json={"phone": phone, "code": code, "device": "phone"})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def test_code_is_sent_as_six_digits_and_signs_in_once(client: TestClient, outbox: Path) -> None:
    assert ask_code(client, "138 0013 8101").status_code == 202
    message = json.loads(outbox.read_text().splitlines()[-1])
    assert message["to"] == PHONE
    code = last_code(outbox, PHONE)
    assert len(code) == 6 and code.isdigit()
    first = sign_in(client, code)
    assert first.status_code == 201
    assert first.json()["account"]["phone"] == PHONE
    again = sign_in(client, code)
    assert again.status_code == 401
    assert again.headers["content-type"] == "application/problem+json"


def test_answer_is_the_same_whether_or_not_the_number_has_an_account(
    client: TestClient, outbox: Path
) -> None:
    unknown = ask_code(client, "+8613800138102")
    assert sign_in(client, last_code(outbox, "+8613800138102"), "+8613800138102").status_code == 201
    known = ask_code(client, "+8613800138102")
    assert (unknown.status_code, unknown.json()) == (known.status_code, known.json())


def test_code_expires_after_ten_minutes(client: TestClient, outbox: Path, clock: FakeClock) -> None:
    ask_code(client)
    clock.advance(minutes=10, seconds=1)
    response = sign_in(client, last_code(outbox, PHONE))
    assert response.status_code == 401
    assert response.json()["field"] == "code"


def test_code_dies_after_five_wrong_tries(client: TestClient, outbox: Path) -> None:
    ask_code(client)
    code = last_code(outbox, PHONE)
    for _ in range(5):
        assert sign_in(client, wrong(code)).status_code == 401
    assert sign_in(client, code).status_code == 401


def test_four_wrong_tries_still_leave_the_right_code_usable(
    client: TestClient, outbox: Path
) -> None:
    ask_code(client)
    code = last_code(outbox, PHONE)
    for _ in range(4):
        sign_in(client, wrong(code))
    assert sign_in(client, code).status_code == 201


def test_fourth_code_in_fifteen_minutes_is_refused_with_retry_after(
    client: TestClient, clock: FakeClock
) -> None:
    for _ in range(3):
        assert ask_code(client).status_code == 202
        clock.advance(minutes=1)
    refused = ask_code(client)
    assert refused.status_code == 429
    assert refused.headers["content-type"] == "application/problem+json"
    # The first code was asked 3 minutes ago: the window frees up 12 minutes from now.
    assert int(refused.headers["Retry-After"]) == 12 * 60
    clock.advance(minutes=12)
    assert ask_code(client).status_code == 202


def test_only_a_keyed_hash_of_a_code_is_stored(
    client: TestClient, outbox: Path, engine: Engine
) -> None:
    ask_code(client)
    code = last_code(outbox, PHONE)
    with engine.connect() as conn:
        rows = conn.execute(text("SELECT phone_hash, code_hash FROM auth_codes")).all()
    assert rows
    for phone_hash, code_hash in rows:
        assert code not in code_hash
        assert PHONE not in phone_hash and PHONE.lstrip("+") not in phone_hash


@pytest.mark.parametrize(
    "body",
    [
        {"phone": "12", "code": "123456", "device": "x"},
        {"phone": PHONE, "code": "12345", "device": "x"},
        {"phone": PHONE, "code": "abcdef", "device": "x"},
        {"phone": PHONE, "code": "123456", "device": ""},
        {"phone": PHONE},
        {"phone": PHONE, "code": "123456", "device": "x", "extra": 1},
    ],
)
def test_malformed_sign_in_is_a_422_naming_the_field(client: TestClient, body: Any) -> None:
    response = client.post("/v1/auth/sessions", json=body)
    assert response.status_code == 422
    problem = response.json()
    assert problem["status"] == 422 and problem["field"]


def test_one_account_holds_many_device_sessions_and_sign_out_ends_only_one(
    client: TestClient, outbox: Path, clock: FakeClock
) -> None:
    tokens = []
    for _ in range(2):
        ask_code(client)
        tokens.append(sign_in(client, last_code(outbox, PHONE)).json()["token"])
    laptop, phone = ({"Authorization": f"Bearer {t}"} for t in tokens)
    assert client.get("/v1/me", headers=laptop).json() == client.get("/v1/me", headers=phone).json()
    assert client.delete("/v1/auth/sessions/current", headers=laptop).status_code == 204
    assert client.get("/v1/me", headers=laptop).status_code == 401
    assert client.get("/v1/me", headers=phone).status_code == 200


@pytest.mark.parametrize("header", [None, "Bearer", "Bearer nonsense", "Basic abc", "bearer "])
def test_routes_needing_a_token_answer_401_without_a_valid_one(
    client: TestClient, header: str | None
) -> None:
    headers = {"Authorization": header} if header is not None else {}
    for method, url in [("GET", "/v1/me"), ("GET", "/v1/books"), ("GET", "/v1/invitations")]:
        response = client.request(method, url, headers=headers)
        assert response.status_code == 401, (url, header)
        assert response.json()["type"] == "urn:circlebook:problem:not-authenticated"


def test_me_can_be_renamed(people: Any) -> None:
    person = people(PHONE)
    assert person.get("/v1/me").json()["name"] == ""
    renamed = person.patch("/v1/me", json={"name": "  Zhang   San "})
    assert renamed.json()["name"] == "Zhang San"
    assert person.patch("/v1/me", json={"name": "   "}).status_code == 422
