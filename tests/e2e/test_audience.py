"""Who sees my number: exactly the people whose view holds my entry, and nobody else."""

from __future__ import annotations

import re
from collections.abc import Callable
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient

from tests.e2e.dav import book_with
from tests.e2e.web import Visitor

OWNER, RED1, RED2, BLUE, PLAIN = (f"+861370013710{n}" for n in range(1, 6))


def audience(person: Any) -> dict[str, Any]:
    response = person.get("/v1/me/audience")
    assert response.status_code == 200, response.text
    return {b["book_id"]: b for b in response.json()["books"]}


def test_each_member_is_seen_by_exactly_the_people_it_sees(people: Any) -> None:
    owner, red1, red2, blue, plain = (
        people(p, n)
        for p, n in [(OWNER, "Olivia"), (RED1, "Rex"), (RED2, "Rita"), (BLUE, "Bo"), (PLAIN, "Pat")]
    )
    book_id, _ = book_with(
        owner, "Tags", [(red1, ["red"]), (red2, ["red"]), (blue, ["blue"]), (plain, [])]
    )
    seen = {
        who.phone: {(s["name"], s["role"]) for s in audience(who)[book_id]["seen_by"]}
        for who in (owner, red1, blue, plain)
    }
    member = "member"
    assert seen[OWNER] == {("Rex", member), ("Rita", member), ("Bo", member), ("Pat", member)}
    assert seen[RED1] == {("Olivia", "owner"), ("Rita", member)}
    assert seen[BLUE] == {("Olivia", "owner")}
    assert seen[PLAIN] == {("Olivia", "owner")}
    # Symmetric: whoever I am told sees me is someone I see in the book.
    for who in (red1, blue, plain):
        names = {e["name"] for e in who.entries(book_id)["entries"]} - {who.account["name"]}
        assert {n for n, _ in seen[who.phone]} == names
    mine = audience(red1)[book_id]
    assert (mine["title"], mine["role"], mine["count"]) == ("Tags", member, 2)
    assert set(mine) == {"book_id", "title", "role", "seen_by", "count"}


def test_a_person_in_no_book_is_seen_by_nobody(people: Any, client: TestClient) -> None:
    assert audience(people(PLAIN, "Pat")) == {}
    assert client.get("/v1/me/audience").status_code == 401


def test_the_web_page_lists_who_sees_my_number(
    people: Any, make_client: Callable[..., TestClient], outbox: Path
) -> None:
    owner, red1, red2, blue = (
        people(p, n) for p, n in [(OWNER, "Olivia"), (RED1, "Rex"), (RED2, "Rita"), (BLUE, "Bo")]
    )
    book_with(owner, "Tags", [(red1, ["red"]), (red2, ["red"]), (blue, ["blue"])])
    browser = Visitor(make_client(), outbox)
    browser.sign_in(RED1)
    page = browser.get("/audience")
    assert page.status_code == 200
    assert "Seen by 2 people" in page.text
    # Names as shown, not substrings of the page: a random book id may hold "Bo".
    shown = set(re.findall(r'<span class="name">([^<]*)</span>', page.text))
    assert "Olivia" in shown and "Rita" in shown and "Bo" not in shown
