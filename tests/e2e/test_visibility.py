"""Who sees what, as tables: each viewer's view of one book, each caller against each route.

One book (see `build`): the owner; A tagged red; B tagged red and blue; C tagged blue;
U1 and U2 untagged; P invited but silent; D invited and declined; S signed in and
never invited. Every test builds the book afresh, so no row depends on another.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

import pytest
from fastapi.testclient import TestClient

PHONES = {
    "owner": "+8613900139001",
    "A": "+8613900139002",
    "B": "+8613900139003",
    "C": "+8613900139004",
    "U1": "+8613900139005",
    "U2": "+8613900139006",
    "P": "+8613900139007",
    "D": "+8613900139008",
    "S": "+8613900139009",
}
SURNAMES = ["Zhao", "Qian", "Sun", "Li", "Zhou", "Wu", "Zheng", "Wang", "Feng"]
NAMES = dict(zip(PHONES, SURNAMES, strict=True))  # no name contains a tag word
TAGS = {  # P and D were invited with tags too; neither joins, so neither sees anything
    "A": ["red"],
    "B": ["red", "blue"],
    "C": ["blue"],
    "U1": [],
    "U2": [],
    "P": ["red"],
    "D": ["blue"],
}
MEMBERS = ("A", "B", "C", "U1", "U2")
NEWCOMER = "+8613900139099"
MISSING_BOOK = "b_" + "x" * 24

# Table 1: viewer -> {whose entry it sees: the tags it is shown on that entry}.
VIEWS: dict[str, dict[str, list[str]]] = {
    "owner": {"owner": [], "A": ["red"], "B": ["blue", "red"], "C": ["blue"], "U1": [], "U2": []},
    "A": {"owner": [], "A": ["red"], "B": ["red"]},
    "B": {"owner": [], "A": ["red"], "B": ["blue", "red"], "C": ["blue"]},
    "C": {"owner": [], "B": ["blue"], "C": ["blue"]},
    "U1": {"owner": [], "U1": [], "U2": []},
    "U2": {"owner": [], "U1": [], "U2": []},
}

# Table 2: expected status per route and caller. Paths are under /v1/books/{book}.
# Callers: owner; same = B, who shares "red" with the target {A}; other = C (blue only);
# untag = U1; pend = P (invited, never answered); decl = D (declined); strgr = S (never
# invited); anon = no token. Targets: {A} = A's entry (red), {U2} = an untagged member's,
# {owner} = the owner's entry, {me} = the caller's own (so "-" for those without one),
# {invitation} = P's pending invitation, {token} = a sync token issued after all joined.
# A member PATCHing an entry it can see gets 403; one it cannot see gets 404.
STATUS_TABLE = """
method path                       body   owner same other untag pend decl strgr anon
GET    /                          -      200   200  200   200   404  404  404   401
PATCH  /                          title  200   403  403   403   404  404  404   401
GET    /entries                   -      200   200  200   200   404  404  404   401
GET    /entries?since={token}     -      200   200  200   200   404  404  404   401
GET    /export.vcf                -      200   200  200   200   404  404  404   401
PATCH  /entries/{A}               name   200   403  404   404   404  404  404   401
PATCH  /entries/{A}               tags   200   403  404   404   404  404  404   401
PATCH  /entries/{U2}              name   200   404  404   403   404  404  404   401
PATCH  /entries/{owner}           name   200   403  403   403   404  404  404   401
PATCH  /entries/{me}              name   200   200  200   200   -    -    -     -
PATCH  /entries/{me}              tags   422   403  403   403   -    -    -     -
POST   /invitations               invite 200   403  403   403   404  404  404   401
GET    /invitations               -      200   403  403   403   404  404  404   401
DELETE /invitations/{invitation}  -      204   403  403   403   404  404  404   401
"""

# Table 3: the destructive routes, same callers and targets. The owner's entry goes
# only with the book (409), whoever asks; a member removing its own entry leaves.
DESTRUCTIVE_TABLE = """
method path                       body   owner same other untag pend decl strgr anon
DELETE /                          -      204   403  403   403   404  404  404   401
DELETE /entries/{A}               -      204   403  404   404   404  404  404   401
DELETE /entries/{U2}              -      204   404  404   403   404  404  404   401
DELETE /entries/{owner}           -      409   409  409   409   404  404  404   401
DELETE /entries/{me}              -      409   204  204   204   -    -    -     -
"""

CALLERS = {
    "owner": "owner",
    "same": "B",
    "other": "C",
    "untag": "U1",
    "pend": "P",
    "decl": "D",
    "strgr": "S",
    "anon": None,
}
BODIES: dict[str, Any] = {
    "-": None,
    "title": {"title": "Renamed choir"},
    "name": {"name": "Renamed"},
    "tags": {"tags": ["green"]},
    "invite": {"invitees": [{"phone": NEWCOMER, "tags": ["red"]}]},
}


def cells(table: str) -> list[Any]:
    """One pytest param per (route, caller) cell of a table; "-" cells are left out."""
    lines = table.strip().splitlines()
    callers = lines[0].split()[3:]
    out = []
    for line in lines[1:]:
        method, path, body, *codes = line.split()
        for caller, code in zip(callers, codes, strict=True):
            if code != "-":
                route = f"{method} {path} {body}".removesuffix(" -")
                out.append(
                    pytest.param(method, path, body, caller, int(code), id=f"{route}|{caller}")
                )
    return out


def rows(table: str) -> list[Any]:
    out = []
    for line in table.strip().splitlines()[1:]:
        method, path, body = line.split()[:3]
        out.append(
            pytest.param(method, path, body, id=f"{method} {path} {body}".removesuffix(" -"))
        )
    return out


@dataclass
class World:
    client: TestClient
    who: dict[str, Any]
    book: str
    entry: dict[str, str]
    invitation: str
    # Each member's own sync token, issued after all joined: a token stands for
    # one member's view, and another's is refused.
    tokens: dict[str, str]

    @property
    def token(self) -> str:
        return self.tokens["owner"]

    def url(self, path: str, caller: str | None = None, book: str | None = None) -> str:
        person = CALLERS.get(caller or "") or ""
        me = self.entry.get(person, "")
        token = self.tokens.get(person, self.token)
        path = path.format(invitation=self.invitation, token=token, me=me, **self.entry)
        return f"/v1/books/{book or self.book}" + ("" if path == "/" else path)

    def call(self, method: str, path: str, body: str, caller: str, book: str | None = None) -> Any:
        person = CALLERS[caller]
        headers = self.who[person].headers if person else {}
        url = self.url(path, caller, book)
        return self.client.request(method, url, headers=headers, json=BODIES[body])

    def snapshot(self) -> Any:
        """Everything the owner can read about the book: any change shows up here."""
        owner = self.who["owner"]
        return [owner.get(self.url(p)).json() for p in ("/", "/entries", "/invitations")]


def build(people: Any, client: TestClient) -> World:
    who = {k: people(phone, NAMES[k]) for k, phone in PHONES.items()}
    invitees = [{"phone": PHONES[k], "tags": TAGS[k]} for k in (*MEMBERS, "P", "D")]
    created = who["owner"].post("/v1/books", json={"title": "Choir", "invitees": invitees})
    assert created.status_code == 201, created.text
    book = created.json()["id"]
    invitation = {o["phone"]: o["invitation_id"] for o in created.json()["outcomes"]}
    for k in MEMBERS:
        who[k].accept(book)
    declined = who["D"].post(f"/v1/invitations/{invitation[PHONES['D']]}/decline")
    assert declined.status_code == 204, declined.text
    full = who["owner"].entries(book)
    by_phone = {e["phone"]: e["id"] for e in full["entries"]}
    entry = {k: by_phone[PHONES[k]] for k in ("owner", *MEMBERS)}
    tokens = {k: who[k].entries(book)["sync_token"] for k in MEMBERS}
    tokens["owner"] = full["sync_token"]
    return World(client, who, book, entry, invitation[PHONES["P"]], tokens)


@pytest.fixture
def world(people: Any, client: TestClient) -> World:
    return build(people, client)


def assert_problem(response: Any, status: int) -> None:
    """A 4xx is RFC 9457 problem+json with type, title, status and detail."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    body = response.json()
    assert {"type", "title", "status", "detail"} <= body.keys(), body
    assert body["type"].startswith("urn:circlebook:problem:")
    assert body["status"] == status
    assert body["title"]
    assert body["detail"]
    if status == 401:
        assert response.headers["www-authenticate"] == "Bearer"


def phones_of(response: Any) -> dict[str, list[str]]:
    assert response.status_code == 200, response.text
    return {e["phone"]: e["tags"] for e in response.json()["entries"]}


def expected_view(viewer: str) -> dict[str, list[str]]:
    return {PHONES[k]: tags for k, tags in VIEWS[viewer].items()}


@pytest.mark.parametrize("mode", ["full", "delta"])
@pytest.mark.parametrize("viewer", list(VIEWS))
def test_each_viewer_sees_exactly_its_entries_with_only_the_tags_it_holds(
    world: World, viewer: str, mode: str
) -> None:
    person = world.who[viewer]
    if mode == "delta":  # every entry changes; the delta still carries only the viewer's view
        for k, entry_id in world.entry.items():
            renamed = world.who["owner"].patch(
                world.url(f"/entries/{entry_id}"), json={"name": f"{NAMES[k]} II"}
            )
            assert renamed.status_code == 200, renamed.text
    params = {"since": world.tokens[viewer]} if mode == "delta" else {}
    response = person.get(world.url("/entries"), params=params)
    assert phones_of(response) == expected_view(viewer)
    assert response.json()["removed"] == []
    book = person.get(world.url("/")).json()
    assert book["entry_count"] == len(VIEWS[viewer])
    assert book["tags"] == (sorted(TAGS[viewer]) if viewer != "owner" else [])


@pytest.mark.parametrize("member", MEMBERS)
def test_member_never_learns_a_tag_it_does_not_hold(world: World, member: str) -> None:
    person = world.who[member]
    urls = [world.url("/"), world.url("/entries"), "/v1/books", "/v1/invitations"]
    urls.append(world.url(f"/entries?since={world.tokens[member]}"))
    strings: set[str] = set()
    for url in urls:
        response = person.get(url)
        assert response.status_code == 200, response.text
        strings |= strings_in(response.json())
    assert not ({"red", "blue", "green"} - set(TAGS[member])) & strings
    vcf = person.get(world.url("/export.vcf")).text
    assert "CATEGORIES" not in vcf


def strings_in(value: Any) -> set[str]:
    if isinstance(value, dict):
        return set().union(*(strings_in(v) for v in value.values()), set(value))
    if isinstance(value, list):
        return set().union(set(), *(strings_in(v) for v in value))
    return {value} if isinstance(value, str) else set()


@pytest.mark.parametrize("viewer", list(VIEWS))
def test_vcard_export_carries_no_phone_the_viewer_may_not_see(world: World, viewer: str) -> None:
    response = world.who[viewer].get(world.url("/export.vcf"))
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/vcard")
    text = response.text
    hidden = set(PHONES.values()) - set(expected_view(viewer))
    assert [p for p in hidden if p[3:] in text] == []  # not even in national form
    assert set(re.findall(r"^TEL[^:]*:(.+?)\r?$", text, re.M)) == set(expected_view(viewer))


@pytest.mark.parametrize(("method", "path", "body", "caller", "status"), cells(STATUS_TABLE))
def test_each_caller_gets_the_status_its_role_allows_and_a_refusal_changes_nothing(
    world: World, method: str, path: str, body: str, caller: str, status: int
) -> None:
    before = world.snapshot()
    response = world.call(method, path, body, caller)
    if status >= 400:
        assert_problem(response, status)
        assert world.snapshot() == before
    else:
        assert response.status_code == status, response.text


@pytest.mark.parametrize(
    ("method", "path", "body", "caller", "status"),
    [c for c in cells(DESTRUCTIVE_TABLE) if c.values[-1] >= 400],
)
def test_a_refused_removal_leaves_book_entries_and_invitations_untouched(
    world: World, method: str, path: str, body: str, caller: str, status: int
) -> None:
    before = world.snapshot()
    assert_problem(world.call(method, path, body, caller), status)
    assert world.snapshot() == before


@pytest.mark.parametrize(
    ("method", "path", "body", "caller", "status"),
    [c for c in cells(DESTRUCTIVE_TABLE) if c.values[-1] < 400],
)
def test_an_allowed_removal_takes_exactly_its_target(
    world: World, method: str, path: str, body: str, caller: str, status: int
) -> None:
    response = world.call(method, path, body, caller)
    assert response.status_code == status, response.text
    if path == "/":  # the book is dissolved: nobody, not even the owner, finds it any more
        for k in ("owner", *MEMBERS):
            assert_problem(world.who[k].get(world.url("/")), 404)
        return
    target = {"{A}": "A", "{U2}": "U2", "{me}": CALLERS[caller]}[path.removeprefix("/entries/")]
    assert target is not None
    assert_problem(world.who[target].get(world.url("/entries")), 404)
    left = {e["id"] for e in world.who["owner"].entries(world.book)["entries"]}
    assert left == set(world.entry.values()) - {world.entry[target]}


@pytest.mark.parametrize(
    ("method", "path", "body"), [r for r in rows(STATUS_TABLE) if "{me}" not in r.values[1]]
)
@pytest.mark.parametrize("caller", ["pend", "decl", "strgr"])
def test_a_book_the_caller_is_not_in_answers_exactly_like_a_book_that_does_not_exist(
    world: World, method: str, path: str, body: str, caller: str
) -> None:
    def seen(book: str | None) -> tuple[int, str, dict[str, Any]]:
        response = world.call(method, path, body, caller, book)
        problem = {k: v for k, v in response.json().items() if k != "instance"}
        return response.status_code, response.headers["content-type"], problem

    assert seen(None) == seen(MISSING_BOOK)
    assert seen(None)[0] == 404
