"""The server's own invitation texts (opt-in), their cap, reminders, and replies that opt out."""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from tests.conftest import FakeClock, Person, sign_in

OWNERS = [f"+861380013850{i}" for i in range(6)]
INVITEE, US = "+8613800138511", "+12015550124"
INBOUND_SECRET = "inbound-secret-0123456789"


def texts_to(client: TestClient, outbox: Path, phone: str) -> list[str]:
    """The texts sent to `phone`, once the background sender has handed over all it queued."""
    client.app.state.runtime.background_sms.drain()  # type: ignore[attr-defined]
    if not outbox.exists():
        return []
    lines = [json.loads(line) for line in outbox.read_text().splitlines()]
    return [m["text"] for m in lines if m["to"] == phone]


def invite(owner: Person, phone: str, title: str = "Club") -> dict[str, Any]:
    response = owner.post("/v1/books", json={"title": title, "invitees": [{"phone": phone}]})
    assert response.status_code == 201, response.text
    body: dict[str, Any] = response.json()
    return body


@pytest.fixture
def texting(make_client: Callable[..., TestClient]) -> TestClient:
    return make_client(invite_sms="on", sms_inbound_secret=INBOUND_SECRET)


def test_by_default_the_server_texts_nobody(client: TestClient, outbox: Path) -> None:
    owner = sign_in(client, outbox, OWNERS[0], "Li Lei")
    outcome = invite(owner, INVITEE)["outcomes"][0]
    assert outcome["text_sent"] is False
    assert texts_to(client, outbox, INVITEE) == []


def test_when_on_the_server_texts_the_link_with_a_way_out(
    texting: TestClient, outbox: Path
) -> None:
    owner = sign_in(texting, outbox, OWNERS[0], "Li Lei")
    zh = invite(owner, INVITEE)["outcomes"][0]
    en = invite(owner, US, title="Team")["outcomes"][0]
    assert zh["text_sent"] is True and en["text_sent"] is True
    assert texts_to(texting, outbox, INVITEE) == [zh["invite_text"] + " 回复TD退订"]
    assert texts_to(texting, outbox, US) == [en["invite_text"] + " Reply STOP to opt out."]


def test_one_number_gets_at_most_three_texts_in_thirty_days_across_owners(
    texting: TestClient, outbox: Path, clock: FakeClock
) -> None:
    owners = [sign_in(texting, outbox, phone, f"Owner {i}") for i, phone in enumerate(OWNERS[:5])]
    sent = [invite(owner, INVITEE)["outcomes"][0] for owner in owners[:4]]
    assert [o["status"] for o in sent] == ["invited"] * 4
    assert [o["text_sent"] for o in sent] == [True, True, True, False]
    assert len(texts_to(texting, outbox, INVITEE)) == 3
    clock.advance(days=30, seconds=1)
    assert invite(owners[4], INVITEE)["outcomes"][0]["text_sent"] is True


def test_the_cap_is_a_setting_and_zero_sends_none(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    client = make_client(invite_sms="on", invite_texts_per_number=0)
    owner = sign_in(client, outbox, OWNERS[0], "Li Lei")
    assert invite(owner, INVITEE)["outcomes"][0]["text_sent"] is False
    assert texts_to(client, outbox, INVITEE) == []


def test_racing_owners_share_one_cap(texting: TestClient, outbox: Path, engine: Engine) -> None:
    owners = [sign_in(texting, outbox, phone, f"Owner {i}") for i, phone in enumerate(OWNERS)]
    barrier = threading.Barrier(len(owners))

    def run(owner: Person) -> bool:
        barrier.wait()
        return bool(invite(owner, INVITEE)["outcomes"][0]["text_sent"])

    with ThreadPoolExecutor(len(owners)) as pool:
        results = list(pool.map(run, owners))
    assert sorted(results) == [False] * 3 + [True] * 3
    assert len(texts_to(texting, outbox, INVITEE)) == 3
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count FROM invite_texts")).scalar_one() == 3


def test_a_reminder_waits_a_day_and_goes_once(
    texting: TestClient, outbox: Path, clock: FakeClock
) -> None:
    owner = sign_in(texting, outbox, OWNERS[0], "Li Lei")
    book = invite(owner, INVITEE)
    inv = book["outcomes"][0]["invitation_id"]
    url = f"/v1/books/{book['id']}/invitations/{inv}/remind"
    early = owner.post(url)
    assert early.status_code == 429 and 0 < int(early.headers["retry-after"]) <= 86400
    clock.advance(hours=24)
    reminded = owner.post(url)
    assert reminded.status_code == 200, reminded.text
    body = reminded.json()
    assert body["invitation_id"] == inv and body["text_sent"] is True
    assert body["invite_url"] == book["outcomes"][0]["invite_url"]
    assert len(texts_to(texting, outbox, INVITEE)) == 2
    again = owner.post(url)
    assert again.status_code == 409
    pending = owner.get(f"/v1/books/{book['id']}/invitations").json()["invitations"]
    assert pending[0]["reminded_at"] is not None


def test_only_the_owner_reminds(texting: TestClient, outbox: Path, clock: FakeClock) -> None:
    owner = sign_in(texting, outbox, OWNERS[0], "Li Lei")
    member = sign_in(texting, outbox, OWNERS[1], "Member")
    book = invite(owner, member.phone)
    member.accept(book["id"])
    more = owner.post(f"/v1/books/{book['id']}/invitations", json={"invitees": [{"phone": US}]})
    inv = more.json()["outcomes"][0]["invitation_id"]
    clock.advance(hours=25)
    assert member.post(f"/v1/books/{book['id']}/invitations/{inv}/remind").status_code == 403
    stranger = sign_in(texting, outbox, OWNERS[2], "Stranger")
    assert stranger.post(f"/v1/books/{book['id']}/invitations/{inv}/remind").status_code == 404
    assert (
        owner.post(f"/v1/books/{book['id']}/invitations/i_nonexistent00/remind").status_code == 404
    )


def reply(client: TestClient, sender: str, words: str, secret: str = INBOUND_SECRET) -> Any:
    return client.post(
        "/v1/sms/inbound",
        json={"from": sender, "text": words},
        headers={"Authorization": f"Bearer {secret}"},
    )


@pytest.mark.parametrize("words", ["STOP", " stop ", "Unsubscribe", "退订", "td", "T", " r"])
def test_a_stop_reply_opts_the_sender_out(texting: TestClient, outbox: Path, words: str) -> None:
    owner = sign_in(texting, outbox, OWNERS[0], "Li Lei")
    waiting = invite(owner, INVITEE)
    assert reply(texting, INVITEE, words).status_code == 204
    assert owner.get(f"/v1/books/{waiting['id']}/invitations").json()["invitations"] == []
    again = invite(owner, INVITEE, title="Again")["outcomes"][0]
    assert again["status"] == "opted_out" and again["text_sent"] is None
    assert len(texts_to(texting, outbox, INVITEE)) == 1  # the first invitation's only


@pytest.mark.parametrize("words", ["yes", "stop it", "", "STOPP"])
def test_other_replies_change_nothing(texting: TestClient, outbox: Path, words: str) -> None:
    owner = sign_in(texting, outbox, OWNERS[0], "Li Lei")
    assert reply(texting, INVITEE, words).status_code == 204
    assert invite(owner, INVITEE)["outcomes"][0]["status"] == "invited"


def test_a_wrong_secret_is_refused_and_changes_nothing(
    texting: TestClient, outbox: Path, engine: Engine
) -> None:
    for secret in ("wrong-secret-0123456789", ""):
        response = reply(texting, INVITEE, "STOP", secret=secret)
        assert response.status_code == 401
        assert response.headers["content-type"] == "application/problem+json"
    unauthenticated = texting.post("/v1/sms/inbound", json={"from": INVITEE, "text": "STOP"})
    assert unauthenticated.status_code == 401
    with engine.connect() as conn:
        assert conn.execute(text("SELECT count(*) FROM do_not_invite")).scalar_one() == 0


def test_without_a_secret_the_webhook_does_not_exist(client: TestClient) -> None:
    response = reply(client, INVITEE, "STOP")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"


@pytest.mark.parametrize(
    "body",
    [
        {},
        {"from": INVITEE},
        {"text": "STOP"},
        {"from": 1, "text": "STOP"},
        {"from": "", "text": "x"},
    ],
)
def test_malformed_replies_are_clear_problems(texting: TestClient, body: dict[str, Any]) -> None:
    response = texting.post(
        "/v1/sms/inbound", json=body, headers={"Authorization": f"Bearer {INBOUND_SECRET}"}
    )
    assert response.status_code == 422
    assert response.headers["content-type"] == "application/problem+json"


def test_a_reply_from_something_not_a_number_is_ignored(texting: TestClient) -> None:
    assert reply(texting, "CARRIER", "STOP").status_code == 204
