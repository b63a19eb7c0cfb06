"""GET /metrics: Prometheus text that counts what happened and never says who it happened to."""

from __future__ import annotations

import time
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

import httpx
import pytest
from fastapi.testclient import TestClient
from prometheus_client.parser import text_string_to_metric_families

from circlebook.observe.requests import UNMATCHED
from tests.conftest import FakeClock, sign_in
from tests.e2e.live import live_server

OWNER, FRIEND, STRANGER, LATE = "+8613800138801", "+8613800138802", "+8613800138803", "+12015550188"
TITLE, FRIEND_NAME, OWNER_NAME = "Choir of Ravensholm", "Zebedee Quill", "Ottoline Marsh"
PROPFIND = '<d:propfind xmlns:d="DAV:"><d:prop><d:displayname/></d:prop></d:propfind>'


def samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample, by name and labels, parsed by the Prometheus parser itself."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(text: str, name: str, **labels: str) -> float:
    return samples(text).get((name, frozenset(labels.items())), 0.0)


def scrape(client: TestClient, **headers: str) -> str:
    response = client.get("/metrics", headers=headers)
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain")
    return str(response.text)


def test_metrics_count_requests_texts_and_answers_by_template_and_never_name_anyone(
    make_client: Callable[..., TestClient], outbox: Path
) -> None:
    client = make_client(metrics="on")
    before = scrape(client)
    owner = sign_in(client, outbox, OWNER, OWNER_NAME)
    friend = sign_in(client, outbox, FRIEND, FRIEND_NAME)
    stranger = sign_in(client, outbox, STRANGER, "Stranger Danger")
    made = owner.post(
        "/v1/books",
        json={
            "title": TITLE,
            "invitees": [
                {"phone": FRIEND, "name": FRIEND_NAME},
                {"phone": STRANGER},
                {"phone": LATE},
            ],
        },
    )
    assert made.status_code == 201, made.text
    book_id = made.json()["id"]
    friend.accept(book_id)
    declined = stranger.post(f"/v1/invitations/{stranger.invitation_to(book_id)}/decline")
    assert declined.status_code == 204
    waiting = owner.get(f"/v1/books/{book_id}/invitations").json()["invitations"]
    late = next(i["id"] for i in waiting if i["phone"] == LATE)
    assert owner.delete(f"/v1/books/{book_id}/invitations/{late}").status_code == 204
    for _ in range(3):
        assert owner.get(f"/v1/books/{book_id}/entries").status_code == 200
    assert client.get(f"/v1/lookup/{OWNER}").status_code == 404  # no such route
    assert client.request("BREW", "/v1/health").status_code == 405  # an invented method
    password = owner.post("/v1/app-passwords", json={"label": "phone"}).json()["password"]
    listed = client.request(
        "PROPFIND",
        f"/dav/addressbooks/{owner.account['id']}/",
        headers={"Depth": "1"},
        content=PROPFIND,
        auth=(OWNER, password),
    )
    assert listed.status_code == 207

    after = scrape(client)
    entries = {"route": "/v1/books/{book_id}/entries", "method": "GET", "status": "200"}
    moved = value(after, "circlebook_http_requests_total", **entries) - value(
        before, "circlebook_http_requests_total", **entries
    )
    assert moved == 3
    assert (
        value(
            after,
            "circlebook_http_request_duration_seconds_count",
            route=entries["route"],
            method="GET",
        )
        == 3
    )
    assert (
        value(after, "circlebook_http_requests_total", route=UNMATCHED, method="GET", status="404")
        == 1
    )
    assert (
        value(
            after,
            "circlebook_http_requests_total",
            route="/dav/{path}",
            method="PROPFIND",
            status="207",
        )
        == 1
    )
    assert (
        value(
            after,
            "circlebook_http_requests_total",
            route="/v1/health",
            method="other",
            status="405",
        )
        == 1
    )
    assert value(after, "circlebook_texts_sent_total", kind="code") == 3
    for outcome in ("accepted", "declined", "withdrawn"):
        assert value(after, "circlebook_invitations_ended_total", outcome=outcome) == 1, outcome
    assert value(after, "circlebook_db_pool_size") > 0
    assert value(after, "circlebook_broker_lag_seconds_count") >= 3  # each answer's events
    routes = {
        dict(labels)["route"]
        for (name, labels) in samples(after)
        if name == "circlebook_http_requests_total"
    }
    assert all(r == UNMATCHED or r.startswith("/") for r in routes)
    assert "/v1/invitations/{invitation_id}/accept" in routes
    personal = [OWNER, FRIEND, STRANGER, LATE, TITLE, FRIEND_NAME, OWNER_NAME, "Stranger Danger"]
    personal += [book_id, late, owner.account["id"], friend.account["id"], password, owner.token]
    for phone in (OWNER, FRIEND, STRANGER, LATE):
        personal += [phone.removeprefix("+86").removeprefix("+1"), phone.replace("+", "%2B")]
    for secret in personal:
        assert secret not in after, f"{secret} in the metrics"


def test_invitations_that_expired_are_counted_when_they_are_deleted(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock
) -> None:
    client = make_client(metrics="on")
    owner = sign_in(client, outbox, OWNER)
    made = owner.post("/v1/books", json={"title": TITLE, "invitees": [{"phone": LATE}]})
    assert made.status_code == 201, made.text
    clock.advance(days=31)
    again = owner.post(
        f"/v1/books/{made.json()['id']}/invitations", json={"invitees": [{"phone": FRIEND}]}
    )
    assert again.status_code == 200, again.text
    assert value(scrape(client), "circlebook_invitations_ended_total", outcome="expired") == 1


def test_metrics_ask_for_the_token_when_one_is_set(make_client: Callable[..., TestClient]) -> None:
    client = make_client(metrics="on", metrics_token="s3cret-scraper-token")
    for headers in (
        {},
        {"Authorization": "Bearer wrong"},
        {"Authorization": "Basic s3cret-scraper-token"},
    ):
        refused = client.get("/metrics", headers=headers)
        assert refused.status_code == 401
        assert refused.headers["content-type"] == "application/problem+json"
        assert refused.headers["www-authenticate"] == "Bearer"
        assert "circlebook_" not in refused.text
    scraped = scrape(client, Authorization="Bearer s3cret-scraper-token")
    assert (
        value(
            scraped, "circlebook_http_requests_total", route="/metrics", method="GET", status="401"
        )
        == 3
    )


def test_metrics_are_not_found_unless_turned_on(make_client: Callable[..., TestClient]) -> None:
    client = make_client()
    response = client.get("/metrics")
    assert response.status_code == 404
    assert response.headers["content-type"] == "application/problem+json"
    assert client.app.state.metrics is None  # type: ignore[attr-defined]


def _stream(stack: ExitStack, url: str, token: str) -> None:
    """An event stream held open until `stack` closes, read up to its `ready` event."""
    http = stack.enter_context(httpx.Client(base_url=url, timeout=30))
    response = stack.enter_context(
        http.stream("GET", "/v1/events", headers={"authorization": f"Bearer {token}"})
    )
    assert response.status_code == 200
    lines = response.iter_lines()
    stack.callback(lines.close)
    for line in lines:
        if line == "event: ready":
            return


def _scrape_fresh(url: str) -> str:
    """A scrape on a connection of its own, so that any worker may take it."""
    with httpx.Client(base_url=url, timeout=30) as http:
        response = http.get("/metrics")
        assert response.status_code == 200, response.text
        return response.text


def _until(url: str, check: Callable[[str], bool]) -> str:
    """Scrape until `check` holds: a closed stream is counted once the server saw it close."""
    deadline = time.monotonic() + 30
    while not check(text := _scrape_fresh(url)):
        assert time.monotonic() < deadline, text
        time.sleep(0.1)
    return text


@pytest.mark.slow
def test_the_workers_of_one_server_add_up_in_every_scrape(
    tmp_path: Path, redis_url: str, run_channel: str
) -> None:
    shared = {"broker": redis_url, "broker_channel": run_channel, "metrics": "on"}
    with live_server(tmp_path, workers=2, **shared) as server:
        code = server.send_code(OWNER)
        signed = server.http.post("/v1/auth/sessions", json={"phone": OWNER, "code": code})
        token = signed.json()["token"]
        for _ in range(30):  # each on a new connection: the workers share them out
            with httpx.Client(base_url=server.url) as http:
                assert http.get("/v1/ready").status_code == 200
        with ExitStack() as streams:
            for _ in range(4):
                _stream(streams, server.url, token)
            # Whichever worker answers, it reports both: the same sums every time.
            for _ in range(8):
                text = _scrape_fresh(server.url)
                ready = {"route": "/v1/ready", "method": "GET", "status": "200"}
                assert value(text, "circlebook_http_requests_total", **ready) == 30
                assert value(text, "circlebook_texts_sent_total", kind="code") == 1
                assert value(text, "circlebook_event_streams_open") == 4
                assert value(text, "circlebook_db_pool_size") == 2 * 40  # two SQLite pools
        _until(server.url, lambda text: value(text, "circlebook_event_streams_open") == 0)
