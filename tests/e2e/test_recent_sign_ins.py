"""A token or app password ended on one instance is refused by every other within a second.

Each instance remembers a credential it has just checked for at most a second
(services.recent_sign_ins), so two apps over one PostgreSQL database stand for
two servers behind a load balancer. The polls have a deadline; nothing here
asserts how fast a request is.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from tests.conftest import sign_in

pytestmark = [
    pytest.mark.postgres,
    pytest.mark.parametrize("database_url", ["postgres"], indirect=True),
]

ANN = "+8613500135011"
# One second of remembering, and room for a slow machine to answer.
DEADLINE_SECONDS = 1.5


def refused_in_time(status: Callable[[], int]) -> bool:
    """Whether `status()` turns 401 before the deadline; it may answer 200 until then."""
    deadline = time.monotonic() + DEADLINE_SECONDS
    while True:
        answered = status()
        assert answered in (200, 207, 401), answered
        if answered == 401:
            return True
        if time.monotonic() > deadline:
            return False
        time.sleep(0.05)


def test_a_token_signed_out_on_one_instance_is_refused_by_another_within_a_second(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    here, there = make_client(), make_client()
    ann = sign_in(here, outbox, ANN, "Ann")
    assert there.get("/v1/me", headers=ann.headers).status_code == 200  # now remembered there
    assert here.get("/v1/me", headers=ann.headers).status_code == 200  # and here
    assert here.delete("/v1/auth/sessions/current", headers=ann.headers).status_code == 204
    # Where it was signed out, at once; elsewhere, within the second.
    assert here.get("/v1/me", headers=ann.headers).status_code == 401
    assert refused_in_time(lambda: there.get("/v1/me", headers=ann.headers).status_code)


def test_a_device_signed_out_from_another_is_refused_by_every_instance_within_a_second(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    here, there = make_client(), make_client()
    laptop = sign_in(here, outbox, ANN, "Ann")
    phone = sign_in(here, outbox, ANN)
    assert there.get("/v1/books", headers=laptop.headers).status_code == 200
    sessions = here.get("/v1/me/sessions", headers=phone.headers).json()["sessions"]
    (laptop_id,) = [s["id"] for s in sessions if not s["current"]]
    assert here.delete(f"/v1/me/sessions/{laptop_id}", headers=phone.headers).status_code == 204
    assert here.get("/v1/books", headers=laptop.headers).status_code == 401
    assert refused_in_time(lambda: there.get("/v1/books", headers=laptop.headers).status_code)
    assert there.get("/v1/me", headers=phone.headers).status_code == 200


def test_an_app_password_revoked_on_one_instance_is_refused_over_carddav_within_a_second(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    here, there = make_client(), make_client()
    ann = sign_in(here, outbox, ANN, "Ann")
    made = here.post("/v1/app-passwords", headers=ann.headers, json={"label": "phone"}).json()
    auth = (ANN, made["password"])

    def poll(client: TestClient) -> int:
        response = client.request("PROPFIND", "/dav/", auth=auth, headers={"Depth": "0"})
        return response.status_code

    assert poll(there) == 207  # now remembered there
    assert poll(here) == 207
    assert here.delete(f"/v1/app-passwords/{made['id']}", headers=ann.headers).status_code == 204
    assert poll(here) == 401
    assert refused_in_time(lambda: poll(there))
