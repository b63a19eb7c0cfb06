"""A member learns nothing from changes it cannot see.

Its sync token, CTag, DAV sync-token, `updated_at`, `entry_count`, its delta and
the events a replay gives it depend on its own view alone: people outside its
scope joining, being retagged, renamed, removed or leaving move none of them.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass, field
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from circlebook.domain.model import Account
from circlebook.notify import wire
from circlebook.notify.hub import Subscriber
from circlebook.services import events
from tests.conftest import FakeClock, Person
from tests.e2e.dav import D, DavUser, dav_user

CTAG = "{http://calendarserver.org/ns/}getctag"
OWNER, WATCHER, MATE = "+8613600136001", "+8613600136002", "+8613600136003"

# Tag sets a watcher holding `kind` cannot see (by domain.visibility: a tagged
# member sees no untagged entry and no entry without one of its tags; an
# untagged member sees no tagged entry).
HIDDEN = {
    ("a",): [(), ("b",), ("c",), ("b", "c")],
    (): [("b",), ("c",), ("b", "c")],
}

_numbers = itertools.count(1)


def fresh_phone() -> str:
    return f"+86136{next(_numbers) + 100:08d}"


@dataclass
class Book:
    """A book with a watcher, a member the watcher sees, and outsiders it does not."""

    client: TestClient
    owner: Person
    watcher: DavUser
    book_id: str
    kind: tuple[str, ...]
    outsiders: list[tuple[Person, str]] = field(default_factory=list)  # (person, entry id)

    def url(self, path: str = "") -> str:
        return f"/v1/books/{self.book_id}{path}"

    def join(self, person: Person, tags: tuple[str, ...]) -> str:
        invited = self.owner.post(
            self.url("/invitations"), json={"invitees": [{"phone": person.phone, "tags": tags}]}
        )
        assert invited.status_code in (200, 201), invited.text
        return str(person.accept(self.book_id)["entry_id"])


def looks(book: Book, token: str) -> dict[str, Any]:
    """Everything the watcher can read that could move when the book changes."""
    me = book.watcher.person
    shown = me.get(book.url())
    assert shown.status_code == 200, shown.text
    listed = me.get("/v1/books").json()["books"]
    delta = me.entries(book.book_id, since=token)
    full = me.entries(book.book_id)
    dav = book.watcher.propfind(book.watcher.book(book.book_id), "cs:getctag", "d:sync-token")
    home = book.watcher.propfind(book.watcher.home, "cs:getctag", depth="1")
    answer = dav.answers[book.watcher.book(book.book_id)]
    return {
        "book": shown.json(),
        "listed": [b for b in listed if b["id"] == book.book_id],
        "delta": (delta["entries"], delta["removed"], delta["sync_token"]),
        "full": full,
        "ctag": answer.text(CTAG),
        "dav_sync_token": answer.text(f"{D}sync-token"),
        "home": {
            href: a.props.get(CTAG, None) is not None and a.text(CTAG)
            for href, a in home.answers.items()
        },
        "replay": replayed(book.client, me),
    }


def replayed(client: TestClient, person: Person) -> list[tuple[str, dict[str, str]]]:
    """What a stream opened with `Last-Event-ID: 0` replays to `person`, by the same calls
    the events route makes (an SSE stream never ends, so it is not read over HTTP here)."""
    rt = client.app.state.runtime  # type: ignore[attr-defined]
    a = person.account
    account = Account(a["id"], person.phone, a["name"] or "", a["created_at"])
    subscription = events.subscribe(rt, account)
    subscriber = Subscriber(account.id)
    subscriber.viewers.update(subscription.viewers)
    missed = events.missed(rt, account, 0, list(subscription.viewers)) or []
    return [(e.type.value, wire.data(e)) for e in missed if subscriber.wants(e)]


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["join", "retag", "rename", "rename_self", "remove", "leave"]),
        st.integers(min_value=0, max_value=50),
    ),
    min_size=1,
    max_size=6,
)


def act(book: Book, people: Any, clock: FakeClock, action: str, k: int) -> bool:
    """Do one change the watcher cannot see; False when there was no one to do it to."""
    hidden = HIDDEN[book.kind]
    clock.advance(seconds=1)  # so that a moved `updated_at` would show
    if action == "join" or not book.outsiders:
        if action != "join":
            return False
        person = people(fresh_phone(), f"Outsider {k}")
        book.outsiders.append((person, book.join(person, hidden[k % len(hidden)])))
        return True
    person, entry_id = book.outsiders[k % len(book.outsiders)]
    if action == "retag":
        tags = hidden[(k // 3) % len(hidden)]
        response = book.owner.patch(book.url(f"/entries/{entry_id}"), json={"tags": tags})
    elif action == "rename":
        response = book.owner.patch(book.url(f"/entries/{entry_id}"), json={"name": f"N{k}"})
    elif action == "rename_self":
        response = person.patch(book.url(f"/entries/{entry_id}"), json={"name": f"Me {k}"})
    else:
        who = book.owner if action == "remove" else person
        response = who.delete(book.url(f"/entries/{entry_id}"))
        book.outsiders.remove((person, entry_id))
    assert response.status_code in (200, 204), response.text
    return True


@settings(
    max_examples=12,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(kind=st.sampled_from(sorted(HIDDEN)), actions=ACTIONS)
def test_changes_outside_a_members_scope_move_nothing_it_can_read(
    people: Any, client: TestClient, clock: FakeClock, kind: tuple[str, ...], actions: Any
) -> None:
    # Examples share one database, and codes are limited per number: all new people.
    owner, mate = people(fresh_phone(), "Olga"), people(fresh_phone(), "Mate")
    watcher = dav_user(people(fresh_phone(), "Wen"))
    invitees = [{"phone": p.phone, "tags": list(kind)} for p in (watcher.person, mate)]
    created = owner.post("/v1/books", json={"title": "Club", "invitees": invitees})
    assert created.status_code == 201, created.text
    book = Book(client, owner, watcher, created.json()["id"], kind)
    watcher.person.accept(book.book_id)
    mate.accept(book.book_id)
    # Outsiders already there before the watcher looks, so later changes have someone to touch.
    for n, tags in enumerate(HIDDEN[kind][:2]):
        person = people(fresh_phone(), f"Early {n}")
        book.outsiders.append((person, book.join(person, tags)))
    token = watcher.person.entries(book.book_id)["sync_token"]
    owner_token = owner.entries(book.book_id)["sync_token"]
    before = looks(book, token)
    done = [act(book, people, clock, action, k) for action, k in actions]
    if any(done):  # the owner, who sees everything, did see a change
        assert owner.entries(book.book_id)["sync_token"] != owner_token
    assert looks(book, token) == before


def test_a_change_the_member_can_see_moves_its_token_ctag_and_updated_at(
    people: Any, clock: FakeClock, client: TestClient
) -> None:
    """The other half: the test above would pass if nothing ever moved."""
    owner, mate = people(OWNER, "Olga"), people(MATE, "Mate")
    watcher = dav_user(people(WATCHER, "Wen"))
    invitees = [{"phone": p, "tags": ["a"]} for p in (WATCHER, MATE)]
    created = owner.post("/v1/books", json={"title": "Club", "invitees": invitees})
    book = Book(client, owner, watcher, created.json()["id"], ("a",))
    watcher.person.accept(book.book_id)
    mate_entry = mate.accept(book.book_id)["entry_id"]
    token = watcher.person.entries(book.book_id)["sync_token"]
    before = looks(book, token)
    clock.advance(seconds=1)
    renamed = mate.patch(book.url(f"/entries/{mate_entry}"), json={"name": "Mate II"})
    assert renamed.status_code == 200, renamed.text
    after = looks(book, token)
    for key in ("ctag", "dav_sync_token", "replay", "delta"):
        assert after[key] != before[key], key
    assert after["book"]["sync_token"] != before["book"]["sync_token"]
    assert after["book"]["updated_at"] > before["book"]["updated_at"]
    assert [e["name"] for e in after["delta"][0]] == ["Mate II"]
