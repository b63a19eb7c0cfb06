"""Sessions end: listed and signed out one by one or everywhere else; idle and absolute expiry."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from sqlalchemy import Engine, text

from circlebook.services import auth
from tests.conftest import FakeClock, last_code
from tests.e2e.web import Visitor

PHONE, OTHER = "+8613800138801", "+8613800138802"


def new_session(client: TestClient, outbox: Path, phone: str, device: str) -> dict[str, str]:
    assert client.post("/v1/auth/codes", json={"phone": phone}).status_code == 202
    signed = client.post(
        "/v1/auth/sessions",
        json={"phone": phone, "code": last_code(outbox, phone), "device": device},
    )
    assert signed.status_code == 201, signed.text
    return {"Authorization": f"Bearer {signed.json()['token']}"}


def listed(client: TestClient, headers: dict[str, str]) -> list[dict[str, Any]]:
    response = client.get("/v1/me/sessions", headers=headers)
    assert response.status_code == 200, response.text
    sessions: list[dict[str, Any]] = response.json()["sessions"]
    return sessions


def test_a_person_sees_every_signed_in_device_and_which_is_this_one(
    client: TestClient, outbox: Path
) -> None:
    laptop = new_session(client, outbox, PHONE, "laptop")
    phone = new_session(client, outbox, PHONE, "phone")
    new_session(client, outbox, OTHER, "someone else's")
    sessions = listed(client, phone)
    assert {s["device"]: s["current"] for s in sessions} == {"laptop": False, "phone": True}
    assert all(
        set(s) == {"id", "device", "created_at", "last_used_at", "current"} for s in sessions
    )
    assert all(s["id"].startswith("s_") for s in sessions)
    assert [s["current"] for s in listed(client, laptop) if s["device"] == "laptop"] == [True]


def test_ending_one_session_signs_that_device_out_only(client: TestClient, outbox: Path) -> None:
    laptop = new_session(client, outbox, PHONE, "laptop")
    phone = new_session(client, outbox, PHONE, "phone")
    other = new_session(client, outbox, OTHER, "other")
    laptop_id = next(s["id"] for s in listed(client, phone) if s["device"] == "laptop")
    # Another account's session is not there for this one.
    assert client.delete(f"/v1/me/sessions/{laptop_id}", headers=other).status_code == 404
    assert client.get("/v1/me", headers=laptop).status_code == 200
    assert client.delete(f"/v1/me/sessions/{laptop_id}", headers=phone).status_code == 204
    assert client.get("/v1/me", headers=laptop).status_code == 401
    assert client.get("/v1/me", headers=phone).status_code == 200
    for bad in (laptop_id, "s_nope", "x" * 300, "%00"):
        response = client.delete(f"/v1/me/sessions/{bad}", headers=phone)
        assert response.status_code == 404, bad
        assert response.headers["content-type"] == "application/problem+json"


def test_signing_out_everywhere_else_keeps_only_this_session(
    client: TestClient, outbox: Path
) -> None:
    devices = [new_session(client, outbox, PHONE, f"device {i}") for i in range(3)]
    other = new_session(client, outbox, OTHER, "other")
    assert client.delete("/v1/me/sessions", headers=devices[0]).status_code == 204
    assert [s["device"] for s in listed(client, devices[0])] == ["device 0"]
    assert [client.get("/v1/me", headers=d).status_code for d in devices] == [200, 401, 401]
    assert client.get("/v1/me", headers=other).status_code == 200


def test_a_session_unused_for_the_idle_time_ends(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock
) -> None:
    client = make_client(session_idle_days=90)
    kept, left = (new_session(client, outbox, PHONE, d) for d in ("kept", "left"))
    for _ in range(3):  # used every 60 days: alive after 180
        clock.advance(days=60)
        assert client.get("/v1/me", headers=kept).status_code == 200
    assert client.get("/v1/me", headers=left).status_code == 401


def test_a_session_ends_a_year_after_sign_in_however_often_it_is_used(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock
) -> None:
    client = make_client(session_max_days=365)
    headers = new_session(client, outbox, PHONE, "phone")
    for _ in range(12):
        clock.advance(days=30)
        assert client.get("/v1/me", headers=headers).status_code == 200
    clock.advance(days=6)
    response = client.get("/v1/me", headers=headers)
    assert response.status_code == 401 and "ended" in response.json()["detail"]


def test_expiry_set_to_zero_is_off(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock
) -> None:
    client = make_client(session_idle_days=0, session_max_days=0)
    headers = new_session(client, outbox, PHONE, "phone")
    clock.advance(days=2000)
    assert client.get("/v1/me", headers=headers).status_code == 200


def test_last_use_is_written_at_most_once_an_hour(
    client: TestClient, outbox: Path, clock: FakeClock, engine: Engine
) -> None:
    headers = new_session(client, outbox, PHONE, "phone")
    first = listed(client, headers)[0]["last_used_at"]
    clock.advance(minutes=30)
    for _ in range(5):
        client.get("/v1/me", headers=headers)
    assert listed(client, headers)[0]["last_used_at"] == first  # reads stayed reads
    clock.advance(minutes=31)
    client.get("/v1/me", headers=headers)
    assert listed(client, headers)[0]["last_used_at"] > first


def test_the_sweep_deletes_expired_sessions(
    client: TestClient, outbox: Path, clock: FakeClock, engine: Engine
) -> None:
    new_session(client, outbox, PHONE, "old")
    clock.advance(days=91)
    new_session(client, outbox, PHONE, "new")
    auth.prune_sessions(client.app.state.runtime)  # type: ignore[attr-defined]
    with engine.connect() as conn:
        devices = conn.execute(text("SELECT device FROM sessions")).scalars().all()
    assert devices == ["new"]


def test_the_devices_page_signs_one_device_or_every_other_one_out(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    here, there, elsewhere = (Visitor(make_client(), outbox) for _ in range(3))
    for browser in (here, there, elsewhere):
        browser.sign_in(PHONE)
    page = here.get("/devices").text
    ids = re.findall(r'data-session="([^"]+)"', page)
    assert len(ids) == 3 and page.count(">this device<") == 1
    theirs = [i for i in ids if f'action="/devices/sessions/{i}/end"' in page]
    assert len(theirs) == 2  # no button to end the session the page is seen with
    ended = here.post(f"/devices/sessions/{theirs[0]}/end")
    assert "That device is signed out." in ended.text
    assert sum(b.get("/books").url.path == "/signin" for b in (there, elsewhere)) == 1
    done = here.post("/devices/sessions/end-others")
    assert "You are signed out everywhere else." in done.text
    assert [b.get("/books").url.path for b in (here, there, elsewhere)] == [
        "/books",
        "/signin",
        "/signin",
    ]
    # Another account's session id is not found, and a post without the token is refused.
    assert here.post(f"/devices/sessions/{theirs[1]}/end").status_code == 404
    assert here.client.post("/devices/sessions/end-others").status_code == 403
