"""Abuse limits on codes: per client address, per number across codes, the hour's texts; and
counters that hold under concurrent requests on both backends."""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from circlebook.domain.errors import InvalidCodeError, RateLimitedError
from circlebook.services import auth, invitations, reach
from circlebook.services.invitations import Invitee
from circlebook.services.limits import client_of
from circlebook.services.runtime import Runtime
from tests.conftest import FakeClock, last_code, sign_in
from tests.e2e.web import Visitor

PHONES = [f"+86138001386{i:02d}" for i in range(60)]


def ask(client: TestClient, phone: str) -> Any:
    return client.post("/v1/auth/codes", json={"phone": phone})


def guess(client: TestClient, phone: str, code: str) -> Any:
    return client.post("/v1/auth/sessions", json={"phone": phone, "code": code, "device": "t"})


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 1_000_000:06d}"


def runtime_of(client: TestClient) -> Runtime:
    rt: Runtime = client.app.state.runtime  # type: ignore[attr-defined]
    return rt


def assert_limited(response: Any, status: int = 429) -> int:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/problem+json"
    retry = int(response.headers["Retry-After"])
    assert retry >= 1 and response.json()["retry_after"] == retry
    return retry


def test_one_client_may_ask_for_only_so_many_codes_per_window(
    make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    client = make_client(code_requests_per_client=3)
    for phone in PHONES[:3]:
        assert ask(client, phone).status_code == 202
    retry = assert_limited(ask(client, PHONES[3]))
    assert retry <= 900
    clock.advance(seconds=retry)
    assert ask(client, PHONES[3]).status_code == 202


def test_the_client_limit_holds_on_the_web_and_on_invitation_links_too(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    client = make_client(code_requests_per_client=2)
    owner = sign_in(client, outbox, PHONES[0], "Li Lei")  # one code spent
    book = owner.post(
        "/v1/books", json={"title": "T", "invitees": [{"phone": PHONES[1]}, {"phone": PHONES[2]}]}
    ).json()
    first, second = (o["invite_url"].rsplit("/i/", 1)[1] for o in book["outcomes"])
    assert client.post(f"/v1/invites/{first}/code").status_code == 202
    assert_limited(client.post(f"/v1/invites/{second}/code"))
    browser = Visitor(client, outbox)
    browser.get("/signin")
    page = browser.post("/signin", {"phone": PHONES[3]})
    assert page.status_code == 429 and "Too many tries" in page.text
    assert int(page.headers["Retry-After"]) >= 1
    browser.get(f"/i/{second}")
    refused = browser.post(f"/i/{second}/code")
    assert refused.status_code == 429 and int(refused.headers["Retry-After"]) >= 1


def test_one_client_may_guess_wrong_only_so_often_even_across_numbers(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    client = make_client(signin_failures_per_client=3)
    for phone in PHONES[:4]:
        assert ask(client, phone).status_code == 202
    for phone in PHONES[:3]:
        assert guess(client, phone, wrong(last_code(outbox, phone))).status_code == 401
    # The right code is refused too once this address has guessed wrong enough.
    assert_limited(guess(client, PHONES[3], last_code(outbox, PHONES[3])))


def test_wrong_codes_to_one_number_lock_it_for_longer_each_time(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock
) -> None:
    client = make_client(signin_failures_per_phone=2)
    phone = PHONES[0]
    assert ask(client, phone).status_code == 202
    code = last_code(outbox, phone)
    assert guess(client, phone, wrong(code)).status_code == 401
    assert guess(client, phone, wrong(code)).status_code == 401
    first = assert_limited(guess(client, phone, code))
    assert first <= 60
    clock.advance(seconds=first)
    assert guess(client, phone, wrong(code)).status_code == 401
    second = assert_limited(guess(client, phone, code))
    assert 60 < second <= 120
    clock.advance(seconds=second)
    assert guess(client, phone, code).status_code == 201  # the code outlived the lockout


def test_the_deployment_sends_at_most_its_hourly_budget_of_texts(
    make_client: Callable[..., TestClient], clock: FakeClock
) -> None:
    client = make_client(sms_per_hour=2)
    assert ask(client, PHONES[0]).status_code == 202
    assert ask(client, PHONES[1]).status_code == 202
    response = ask(client, PHONES[2])
    retry = assert_limited(response, 503)
    assert response.json()["type"] == "urn:circlebook:problem:sms-budget-spent"
    clock.advance(seconds=retry)
    assert ask(client, PHONES[2]).status_code == 202


def test_a_limit_set_to_zero_is_off(make_client: Callable[..., TestClient]) -> None:
    client = make_client(code_requests_per_client=0, sms_per_hour=0)
    assert all(ask(client, phone).status_code == 202 for phone in PHONES[:15])


def test_concurrent_wrong_guesses_are_each_counted_and_never_exceed_a_codes_attempts(
    make_client: Callable[..., TestClient], outbox: Path, engine: Engine
) -> None:
    client = make_client(signin_failures_per_phone=1000)
    rt = runtime_of(client)
    phone = PHONES[0]
    assert ask(client, phone).status_code == 202
    code = last_code(outbox, phone)

    def try_wrong(_: int) -> str:
        try:
            auth.sign_in(rt, phone, wrong(code), "t", client="198.51.100.7")
        except InvalidCodeError:
            return "refused"
        return "signed in"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(try_wrong, range(50)))
    assert results == ["refused"] * 50
    key = auth.phone_key(rt.secret_key, phone)
    with engine.connect() as conn:
        counted = conn.execute(
            text("SELECT count FROM rate_counters WHERE key = :k"), {"k": f"wrong-to:{key}"}
        ).scalar_one()
        attempts = conn.execute(
            text("SELECT attempts FROM auth_codes WHERE phone_hash = :k"), {"k": key}
        ).scalar_one()
    assert counted == 50
    assert attempts == rt.policy.code_max_attempts
    # The code's attempts are spent: the right code no longer opens it.
    assert guess(client, phone, code).status_code == 401


def test_concurrent_invitations_never_overrun_the_owners_daily_quota(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    client = make_client(invites_per_day=5)
    owner = sign_in(client, outbox, PHONES[0], "Li Lei")
    book = owner.post("/v1/books", json={"title": "T", "invitees": []}).json()
    rt = runtime_of(client)
    account = auth.authenticate(rt, owner.token)
    via = reach.Reach("http://127.0.0.1")

    def invite(i: int) -> str:
        try:
            invitations.invite(rt, account, book["id"], [Invitee(PHONES[10 + i])], via)
        except RateLimitedError:
            return "refused"
        return "invited"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(invite, range(12)))
    assert results.count("invited") == 5 and results.count("refused") == 7
    pending = owner.get(f"/v1/books/{book['id']}/invitations").json()["invitations"]
    assert len(pending) == 5


@pytest.mark.parametrize(
    ("address", "counted_as"),
    [
        ("203.0.113.9", "203.0.113.9"),
        ("2001:db8:1:2:3:4:5:6", "2001:db8:1:2::/64"),
        ("2001:db8:1:2:ffff::1", "2001:db8:1:2::/64"),
        ("::ffff:203.0.113.9", "203.0.113.9"),
        (None, "unknown"),
        ("testclient", "testclient"),
    ],
)
def test_a_client_is_its_ipv4_address_or_its_ipv6_64(address: str | None, counted_as: str) -> None:
    assert client_of(address) == counted_as


def test_concurrent_code_requests_for_one_number_get_exactly_the_windows_codes(
    client: TestClient, outbox: Path
) -> None:
    rt = runtime_of(client)

    def request(_: int) -> str:
        try:
            auth.request_code(rt, PHONES[0], client="198.51.100.8")
        except RateLimitedError:
            return "refused"
        return "sent"

    with ThreadPoolExecutor(max_workers=10) as pool:
        results = list(pool.map(request, range(20)))
    assert results.count("sent") == rt.policy.codes_per_window == 3
    assert len([line for line in outbox.read_text().splitlines() if PHONES[0] in line]) == 3
