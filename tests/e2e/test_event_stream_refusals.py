"""What GET /v1/events answers a request it refuses: the problem+json every JSON route gives."""

from __future__ import annotations

from typing import Any

import pytest
from fastapi.testclient import TestClient

OWNER = "+8615200152101"
NOT_SIGNED_IN = "sign in first: send Authorization: Bearer <token>"
WRONG_TOKEN = "sign in first: the token is missing, wrong or signed out"
LONG_ID = "1" * 33
LONG_COOKIE = "circlebook_session=" + "a" * 129
COOKIE_TOO_LONG = {
    "field": "cookie.circlebook_session",
    "message": "String should have at most 128 characters",
}
ID_TOO_LONG = {"field": "Last-Event-ID", "message": "String should have at most 32 characters"}


def not_authenticated(detail: str) -> dict[str, Any]:
    return {
        "type": "urn:circlebook:problem:not-authenticated",
        "title": "Not signed in",
        "status": 401,
        "detail": detail,
        "instance": "/v1/events",
    }


def invalid(*errors: dict[str, str]) -> dict[str, Any]:
    first = errors[0]
    return {
        "type": "urn:circlebook:problem:invalid-input",
        "title": "Invalid input",
        "status": 422,
        "detail": f"{first['field']}: {first['message']}",
        "instance": "/v1/events",
        "field": first["field"],
        "errors": list(errors),
    }


@pytest.mark.parametrize(
    ("headers", "status", "body"),
    [
        ({}, 401, not_authenticated(NOT_SIGNED_IN)),
        ({"Authorization": "Basic abc"}, 401, not_authenticated(NOT_SIGNED_IN)),
        ({"Authorization": "Bearer "}, 401, not_authenticated(NOT_SIGNED_IN)),
        ({"Authorization": "Bearer nope"}, 401, not_authenticated(WRONG_TOKEN)),
        ({"Cookie": "circlebook_session="}, 401, not_authenticated(NOT_SIGNED_IN)),
        ({"Cookie": "circlebook_session=nope"}, 401, not_authenticated(WRONG_TOKEN)),
        ({"Last-Event-ID": LONG_ID}, 401, not_authenticated(NOT_SIGNED_IN)),
        ({"Authorization": "Bearer nope", "Last-Event-ID": LONG_ID}, 422, invalid(ID_TOO_LONG)),
        ({"Cookie": LONG_COOKIE}, 422, invalid(COOKIE_TOO_LONG)),
        ({"Cookie": LONG_COOKIE, "Authorization": "Bearer x"}, 422, invalid(COOKIE_TOO_LONG)),
        (
            {"Cookie": LONG_COOKIE, "Last-Event-ID": LONG_ID},
            422,
            invalid(COOKIE_TOO_LONG, ID_TOO_LONG),
        ),
    ],
)
def test_a_refused_stream_gets_the_problem_every_json_route_gives(
    client: TestClient, headers: dict[str, str], status: int, body: dict[str, Any]
) -> None:
    refused = client.get("/v1/events", headers={**headers, "X-Request-ID": "refused-1"})
    assert refused.status_code == status
    assert refused.headers["content-type"] == "application/problem+json"
    assert refused.headers["x-request-id"] == "refused-1"
    assert refused.json() == body
    assert ("www-authenticate" in refused.headers) is (status == 401)


def test_a_signed_in_client_with_an_overlong_last_event_id_gets_a_422(
    client: TestClient, people: Any
) -> None:
    owner = people(OWNER, "Owner")
    refused = client.get("/v1/events", headers={**owner.headers, "Last-Event-ID": LONG_ID})
    assert refused.status_code == 422
    assert refused.json() == invalid(ID_TOO_LONG)


@pytest.mark.parametrize("method", ["HEAD", "POST", "PUT", "DELETE"])
def test_only_get_opens_a_stream(client: TestClient, method: str) -> None:
    refused = client.request(method, "/v1/events")
    assert refused.status_code == 405
    assert refused.headers["content-type"] == "application/problem+json"


def test_the_stream_stays_in_the_openapi_document(client: TestClient) -> None:
    described = client.get("/openapi.json").json()["paths"]["/v1/events"]["get"]
    assert described["security"] == [{"HTTPBearer": []}]
    assert [p["name"] for p in described["parameters"]] == ["Last-Event-ID"]
    assert "text/event-stream" in described["responses"]["200"]["content"]
