"""Whatever a client sends, the answer is a 4xx problem+json, never a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from fastapi.testclient import TestClient

PROBLEM = "application/problem+json"


def assert_problem(response: Any, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == PROBLEM
    body: dict[str, Any] = response.json()
    assert body["status"] == status
    assert body["type"].startswith("urn:circlebook:problem:")
    assert body["title"] and body["detail"]
    return body


def test_body_over_one_mebibyte_is_refused_with_413(client: TestClient) -> None:
    huge = b'{"phone": "' + b"1" * (1024 * 1024) + b'"}'
    response = client.post(
        "/v1/auth/codes", content=huge, headers={"content-type": "application/json"}
    )
    assert_problem(response, 413)


@pytest.mark.parametrize("declared", ["9" * 5000, "²", "+1", " 12"])
def test_a_content_length_that_is_not_a_plain_number_is_refused_with_413(
    client: TestClient, declared: str
) -> None:
    headers = {"content-type": "application/json", "content-length": declared.encode("latin-1")}
    response = client.post("/v1/auth/codes", content=b"{}", headers=headers)
    assert_problem(response, 413)


def test_streamed_body_over_the_limit_is_refused_with_413(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(max_body_bytes=100)

    def chunks() -> Any:
        for _ in range(10):
            yield b"x" * 50

    response = client.post("/v1/auth/codes", content=chunks())
    assert_problem(response, 413)


def test_every_json_route_answers_a_body_over_the_limit_as_a_problem_never_a_page(
    make_client: Callable[..., TestClient],
) -> None:
    client = make_client(max_body_bytes=100)
    for method, path in [
        ("POST", "/v1/books"),
        ("PATCH", "/v1/me"),
        ("DELETE", "/v1/auth/sessions/current"),
        ("POST", "/v1/no-such-route"),
    ]:
        response = client.request(method, path, content=b"x" * 101)
        body = assert_problem(response, 413)
        assert body["type"] == "urn:circlebook:problem:too-large"
        assert body["detail"] == "a request body may be at most 100 bytes"


@pytest.mark.parametrize(
    ("content", "field"),
    [
        (b"{not json", "body"),
        (b"[]", "body"),
        (b"", "body"),
        (b'{"phone": 5}', "phone"),
        (b'{"phone": "13800138000", "region": "CHINA"}', "region"),
    ],
)
def test_malformed_bodies_are_422_naming_the_field(
    client: TestClient, content: bytes, field: str
) -> None:
    response = client.post(
        "/v1/auth/codes", content=content, headers={"content-type": "application/json"}
    )
    assert assert_problem(response, 422)["field"] == field


def test_unknown_route_and_wrong_method_are_problems(client: TestClient) -> None:
    assert_problem(client.get("/v1/nothing-here"), 404)
    assert_problem(client.put("/v1/auth/codes", json={}), 405)


def test_too_many_invitees_in_one_request_is_422(
    make_client: Callable[..., TestClient], people: Any
) -> None:
    owner = people("+8613800138401", "Owner")
    limited = make_client(max_invitees_per_request=2)
    response = limited.post(
        "/v1/books",
        headers=owner.headers,
        json={"title": "t", "invitees": [{"phone": f"+861380013841{i}"} for i in range(3)]},
    )
    assert assert_problem(response, 422)["field"] == "invitees"


@pytest.mark.parametrize(
    "body",
    [
        {"title": ""},
        {"title": "x" * 201},
        {"title": "ok", "name": "\u0000bad"},
        {"title": "ok", "invitees": "nope"},
        {"title": "ok", "invitees": [{"phone": "1", "tags": ["a"] * 17}]},
    ],
)
def test_bad_book_bodies_are_422(people: Any, body: dict[str, Any]) -> None:
    owner = people("+8613800138402", "Owner")
    assert_problem(owner.post("/v1/books", json=body), 422)


def test_odd_ids_and_tokens_in_paths_are_404_or_400(people: Any) -> None:
    owner = people("+8613800138403", "Owner")
    book = owner.post("/v1/books", json={"title": "t"}).json()
    for url in [
        "/v1/books/%00",
        "/v1/books/" + "x" * 5000,
        "/v1/books/../../etc/passwd/entries",
        f"/v1/books/{book['id']}/entries/nope",
    ]:
        assert owner.get(url).status_code in (404, 405)
    assert_problem(owner.get(f"/v1/books/{book['id']}/entries", params={"since": "x" * 65}), 422)
    assert_problem(owner.get(f"/v1/books/{book['id']}/entries", params={"since": "5.abc"}), 400)
    assert_problem(owner.get(f"/v1/books/{book['id']}/entries?exclude_self=maybe"), 422)


def test_an_unknown_route_and_an_unknown_record_answer_the_same_problem_type(
    client: TestClient,
) -> None:
    no_route = assert_problem(client.get("/v1/no-such-route"), 404)
    no_link = assert_problem(client.get("/v1/invites/no-such-link"), 404)
    assert no_route["type"] == no_link["type"] == "urn:circlebook:problem:not-found"
    assert no_route["title"] == no_link["title"] == "Not found"
