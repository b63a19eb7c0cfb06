"""App passwords over the JSON API: shown once, listed without secrets, revoked one by one."""

from __future__ import annotations

import re
from typing import Any

from tests.conftest import FakeClock

ANN, BO = "+8613500135001", "+8613500135002"


def test_a_new_app_password_is_shown_once_and_listed_without_its_secret(people: Any) -> None:
    ann = people(ANN, "Ann")
    made = ann.post("/v1/app-passwords", json={"label": "  iPhone  contacts "})
    assert made.status_code == 201, made.text
    body = made.json()
    assert re.fullmatch(r"([a-z2-9]{4}-){5}[a-z2-9]{4}", body["password"])
    assert body["user_name"] == ANN
    assert body["label"] == "iPhone contacts"
    assert body["last_used_at"] is None

    listed = ann.get("/v1/app-passwords").json()["app_passwords"]
    assert listed == [
        {k: body[k] for k in ("id", "label", "created_at", "last_used_at")},
    ]
    assert body["password"] not in ann.get("/v1/app-passwords").text


def test_every_app_password_is_different(people: Any) -> None:
    ann = people(ANN, "Ann")
    passwords = {
        ann.post("/v1/app-passwords", json={"label": f"d{n}"}).json()["password"] for n in range(5)
    }
    assert len(passwords) == 5


def test_use_over_carddav_is_recorded_coarsely(people: Any, clock: FakeClock) -> None:
    ann = people(ANN, "Ann")
    password = ann.post("/v1/app-passwords", json={"label": "phone"}).json()["password"]

    def last_used() -> str | None:
        (only,) = ann.get("/v1/app-passwords").json()["app_passwords"]
        return only["last_used_at"]  # type: ignore[no-any-return]

    assert ann.client.request("PROPFIND", "/dav/", auth=(ANN, password)).status_code == 207
    first = last_used()
    assert first is not None
    clock.advance(minutes=1)
    ann.client.request("PROPFIND", "/dav/", auth=(ANN, password))
    assert last_used() == first  # within 15 minutes: no write per request
    clock.advance(minutes=20)
    ann.client.request("PROPFIND", "/dav/", auth=(ANN, password))
    assert last_used() != first


def test_revoking_is_per_password_and_per_account(people: Any) -> None:
    ann, bo = people(ANN, "Ann"), people(BO, "Bo")
    keep = ann.post("/v1/app-passwords", json={"label": "keep"}).json()
    drop = ann.post("/v1/app-passwords", json={"label": "drop"}).json()
    assert bo.delete(f"/v1/app-passwords/{drop['id']}").status_code == 404  # not Bo's
    assert ann.delete(f"/v1/app-passwords/{drop['id']}").status_code == 204
    assert ann.delete(f"/v1/app-passwords/{drop['id']}").status_code == 404
    # The dot-dots are resolved before sending: /me is a web page, and no DELETE.
    assert ann.delete("/v1/app-passwords/../../me").status_code in (404, 405)
    assert ann.get("/v1/me").status_code == 200
    listed = ann.get("/v1/app-passwords").json()["app_passwords"]
    assert [p["id"] for p in listed] == [keep["id"]]
    dav = ann.client
    assert dav.request("PROPFIND", "/dav/", auth=(ANN, drop["password"])).status_code == 401
    assert dav.request("PROPFIND", "/dav/", auth=(ANN, keep["password"])).status_code == 207


def test_app_passwords_need_a_signed_in_account_and_a_label(people: Any, client: Any) -> None:
    assert client.get("/v1/app-passwords").status_code == 401
    assert client.post("/v1/app-passwords", json={"label": "x"}).status_code == 401
    ann = people(ANN, "Ann")
    for body in ({}, {"label": ""}, {"label": "   "}, {"label": "x" * 101}, {"label": "a\x00b"}):
        response = ann.post("/v1/app-passwords", json=body)
        assert response.status_code == 422, body
        assert response.json()["field"] == "label"


def test_an_account_holds_at_most_fifty(people: Any) -> None:
    ann = people(ANN, "Ann")
    for n in range(50):
        assert ann.post("/v1/app-passwords", json={"label": f"d{n}"}).status_code == 201
    refused = ann.post("/v1/app-passwords", json={"label": "one more"})
    assert refused.status_code == 409
    assert refused.headers["content-type"] == "application/problem+json"
