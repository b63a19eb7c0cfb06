"""Delta sync over HTTP: a copy kept current with ?since= always equals a full fetch."""

from __future__ import annotations

import itertools
import sys
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from fastapi.testclient import TestClient
from hypothesis import HealthCheck, event, settings
from hypothesis import strategies as st
from hypothesis.stateful import (
    RuleBasedStateMachine,
    initialize,
    invariant,
    precondition,
    rule,
    run_state_machine_as_test,
)
from sqlalchemy import Engine, select

from circlebook.services.sweep import sweep
from circlebook.storage.schema import departures
from tests.conftest import FakeClock, Person, sign_in

STALE = "urn:circlebook:problem:stale-sync-token"
BAD = "urn:circlebook:problem:bad-sync-token"
OWNER, ANN, BO, CY = "+8613900139001", "+8613900139002", "+8613900139003", "+8613900139004"

# Every person in the property test gets a number never signed in before: the
# SMS code limit is per number, and examples share one database.
_numbers = itertools.count(1)


def fresh_phone() -> str:
    return f"+86137{next(_numbers):08d}"


def entries_url(book_id: str) -> str:
    return f"/v1/books/{book_id}/entries"


def by_id(entries: list[dict[str, Any]]) -> dict[str, dict[str, Any]]:
    return {e["id"]: e for e in entries}


def start_book(owner: Person, members: list[tuple[Person, list[str]]]) -> tuple[str, list[str]]:
    """A book of `owner` that each of `members` joined with its tags; the members' entry ids."""
    invitees = [{"phone": p.phone, "tags": tags} for p, tags in members]
    created = owner.post("/v1/books", json={"title": "Club", "invitees": invitees})
    assert created.status_code == 201, created.text
    book_id: str = created.json()["id"]
    return book_id, [p.accept(book_id)["entry_id"] for p, _ in members]


def delta(person: Person, book_id: str, token: str) -> Any:
    return person.get(entries_url(book_id), params={"since": token})


def assert_problem(response: Any, status: int, type_: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/problem+json")
    assert response.json()["type"] == type_


# --- the property: any interleaving of changes and syncs ----------------------------


@dataclass(eq=False)
class Participant:
    """One person's client: its local copy of the book and the token it last got."""

    person: Person
    tags: frozenset[str] = frozenset()
    entry_id: str | None = None  # None while not a member
    local: dict[str, dict[str, Any]] = field(default_factory=dict)
    token: str | None = None
    stale: bool = False  # its own tags changed (or it re-joined) since its token
    seen: set[str] = field(default_factory=set)  # ids in its view at any moment since then
    mark: int = 0  # how many changes the book had seen when its token was issued


TAGS = st.lists(st.sampled_from(["a", "b", "c"]), max_size=2, unique=True)
NAMES = st.sampled_from(["Ann", "Bo", "Cy"])
PICK = st.integers(0, 6)  # a subject, by index among those a step applies to


class DeltaSync(RuleBasedStateMachine):
    """One book changed over HTTP while its participants sync, and what must hold."""

    def __init__(self, people: Any) -> None:
        super().__init__()
        self.people = people
        self.pending: dict[Participant, frozenset[str]] = {}
        self.changes: list[str] = []  # the ids of entries added, renamed or retagged, in order

    @initialize(initial=st.lists(TAGS, max_size=4))
    def start(self, initial: list[list[str]]) -> None:
        """A fresh book, with fresh people, per example; everyone fetches it once."""
        self.owner = Participant(self.people(fresh_phone(), "Owner"))
        joiners = [Participant(self.people(fresh_phone(), "M")) for _ in initial]
        pairs = [(j.person, tags) for j, tags in zip(joiners, initial, strict=True)]
        self.book_id, entry_ids = start_book(self.owner.person, pairs)
        for j, tags, entry_id in zip(joiners, initial, entry_ids, strict=True):
            j.tags, j.entry_id = frozenset(tags), entry_id
        owner_view = self.owner.person.entries(self.book_id)["entries"]
        self.owner.entry_id = next(e["id"] for e in owner_view if e["role"] == "owner")
        self.everyone = [self.owner, *joiners]
        for p in self.everyone:
            self.full_fetch(p)

    @property
    def members(self) -> list[Participant]:
        return [p for p in self.everyone if p.entry_id and p is not self.owner]

    def expected_view(self, p: Participant) -> dict[str, list[str]]:
        """Entry id -> the tags `p` is shown, by the README's rule."""
        view = {}
        for m in [self.owner, *self.members]:
            assert m.entry_id
            if p is self.owner or m is self.owner or m is p:
                view[m.entry_id] = sorted(m.tags if p is self.owner else m.tags & p.tags)
            elif (m.tags & p.tags) or (not m.tags and not p.tags):
                view[m.entry_id] = sorted(m.tags & p.tags)
        return view

    def fetch(self, p: Participant) -> tuple[dict[str, dict[str, Any]], str]:
        body = p.person.entries(self.book_id)
        full = by_id(body["entries"])
        assert {i: e["tags"] for i, e in full.items()} == self.expected_view(p)
        assert body["removed"] == []
        return full, body["sync_token"]

    def full_fetch(self, p: Participant) -> None:
        if p.entry_id is None:
            assert p.person.get(entries_url(self.book_id)).status_code == 404
            return
        p.local, p.token = self.fetch(p)
        p.stale, p.seen, p.mark = False, set(p.local), len(self.changes)

    def sync(self, p: Participant) -> None:
        if p.token is None:
            self.full_fetch(p)
            return
        response = delta(p.person, self.book_id, p.token)
        if p.entry_id is None:
            assert response.status_code == 404, response.text
            return
        if p.stale:
            assert_problem(response, 410, STALE)
            event("sync: 410, then a full fetch")
            self.full_fetch(p)
            return
        assert response.status_code == 200, response.text
        body = response.json()
        changed, removed = by_id(body["entries"]), set(body["removed"])
        p.local.update(changed)
        for entry_id in removed:
            p.local.pop(entry_id, None)
        full, _ = self.fetch(p)
        for entry_id, entry in changed.items():
            assert full.get(entry_id) == entry, f"delta sent {entry_id} outside the view"
        assert changed.keys() <= set(self.changes[p.mark :]), "delta sent an unchanged entry"
        assert not removed & full.keys(), "delta removed an entry still in the view"
        assert removed <= p.seen, "delta named an entry the caller could never see"
        assert p.local == full
        p.token, p.seen, p.mark = body["sync_token"], set(full), len(self.changes)
        event(f"sync: delta with changes={bool(changed)} removed={bool(removed)}")

    def patch(self, by: Participant, target: Participant, **body: Any) -> None:
        r = by.person.patch(f"{entries_url(self.book_id)}/{target.entry_id}", json=body)
        assert r.status_code == 200, r.text
        self.changes.append(str(target.entry_id))

    def drop(self, by: Participant | None, k: int) -> None:
        p = self.members[k % len(self.members)]
        r = (by or p).person.delete(f"{entries_url(self.book_id)}/{p.entry_id}")
        assert r.status_code == 204, r.text
        p.entry_id, p.tags = None, frozenset()

    @rule(tags=TAGS, k=PICK)
    def invite(self, tags: list[str], k: int) -> None:
        """Invite someone who left or was removed, or else a new person."""
        gone = [p for p in self.everyone if p.entry_id is None and p not in self.pending]
        if k < len(gone):
            p = gone[k]
        else:
            p = Participant(self.people(fresh_phone(), "New"))
            self.everyone.append(p)
        invitee = {"phone": p.person.phone, "tags": tags}
        r = self.owner.person.post(
            f"/v1/books/{self.book_id}/invitations", json={"invitees": [invitee]}
        )
        assert r.status_code == 200, r.text
        assert r.json()["outcomes"][0]["status"] == "invited"
        self.pending[p] = frozenset(tags)

    @rule(tags=TAGS, k=PICK)
    def accept(self, tags: list[str], k: int) -> None:
        """A pending invitee joins; with none pending, someone is invited first."""
        if not self.pending:
            self.invite(tags, k)
        p = list(self.pending)[k % len(self.pending)]
        p.entry_id = p.person.accept(self.book_id)["entry_id"]
        self.changes.append(p.entry_id)
        p.tags = self.pending.pop(p)
        p.stale = True  # a token from before it joined cannot be answered

    @precondition(lambda self: self.members)
    @rule(k=PICK, name=NAMES)
    def rename_self(self, k: int, name: str) -> None:
        p = self.members[k % len(self.members)]
        self.patch(p, p, name=name)

    @rule(k=PICK, name=NAMES)
    def owner_renames(self, k: int, name: str) -> None:
        targets = [self.owner, *self.members]
        self.patch(self.owner, targets[k % len(targets)], name=name)

    @precondition(lambda self: self.members)
    @rule(k=PICK, tags=TAGS)
    def retag(self, k: int, tags: list[str]) -> None:
        p = self.members[k % len(self.members)]
        self.patch(self.owner, p, tags=tags)
        p.stale = p.stale or frozenset(tags) != p.tags
        p.tags = frozenset(tags)

    @precondition(lambda self: self.members)
    @rule(k=PICK)
    def remove(self, k: int) -> None:
        self.drop(self.owner, k)

    @precondition(lambda self: self.members)
    @rule(k=PICK)
    def leave(self, k: int) -> None:
        self.drop(None, k)

    @rule(k=PICK)
    def member_syncs(self, k: int) -> None:
        participants = [self.owner, *self.members]
        self.sync(participants[k % len(participants)])

    @rule(k=PICK)
    def anyone_syncs(self, k: int) -> None:  # also those who left, were removed or are invited
        self.sync(self.everyone[k % len(self.everyone)])

    @invariant()
    def note_what_each_could_see(self) -> None:
        for p in getattr(self, "everyone", []):
            if p.entry_id:
                p.seen |= self.expected_view(p).keys()

    def teardown(self) -> None:
        if sys.exc_info()[1] is None and hasattr(self, "everyone"):  # not after a failed step
            for p in self.everyone:
                self.sync(p)


def test_applying_deltas_keeps_every_copy_equal_to_a_full_fetch(people: Any) -> None:
    run_state_machine_as_test(
        lambda: DeltaSync(people),
        settings=settings(
            max_examples=25,
            stateful_step_count=30,
            deadline=None,
            suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
        ),
    )


# --- the RFC 6578-like behaviours, one by one ------------------------------------------


def test_a_full_fetch_gives_a_token_and_one_change_a_delta_of_exactly_that_entry(
    people: Any,
) -> None:
    owner, ann, bo = people(OWNER, "Owner"), people(ANN, "Ann"), people(BO, "Bo")
    book_id, (ann_entry, _) = start_book(owner, [(ann, []), (bo, [])])
    first = bo.entries(book_id)
    assert isinstance(first["sync_token"], str)
    assert first["sync_token"]
    assert len(first["entries"]) == 3
    assert first["removed"] == []
    unchanged = bo.entries(book_id, since=first["sync_token"])
    assert (unchanged["entries"], unchanged["removed"]) == ([], [])

    r = ann.patch(f"{entries_url(book_id)}/{ann_entry}", json={"name": "Annie"})
    assert r.status_code == 200, r.text
    body = bo.entries(book_id, since=unchanged["sync_token"])
    assert [(e["id"], e["name"]) for e in body["entries"]] == [(ann_entry, "Annie")]
    assert body["removed"] == []
    assert by_id(body["entries"])[ann_entry] == by_id(bo.entries(book_id)["entries"])[ann_entry]


def test_a_removed_member_shows_up_in_removed(people: Any) -> None:
    owner, ann, bo = people(OWNER, "Owner"), people(ANN, "Ann"), people(BO, "Bo")
    book_id, (ann_entry, _) = start_book(owner, [(ann, []), (bo, [])])
    tokens = {p.phone: p.entries(book_id)["sync_token"] for p in (owner, bo)}
    assert owner.delete(f"{entries_url(book_id)}/{ann_entry}").status_code == 204
    for p in (owner, bo):
        body = p.entries(book_id, since=tokens[p.phone])
        assert (body["entries"], body["removed"]) == ([], [ann_entry])
    assert ann.get(entries_url(book_id), params={"since": tokens[OWNER]}).status_code == 404


def test_a_retag_removes_the_entry_from_one_scope_and_adds_it_to_another(people: Any) -> None:
    owner, ann, bo, cy = (people(n, "X") for n in (OWNER, ANN, BO, CY))
    book_id, (_, bo_entry, _) = start_book(owner, [(ann, ["a"]), (bo, ["a"]), (cy, ["b"])])
    tokens = {p.phone: p.entries(book_id)["sync_token"] for p in (owner, ann, cy)}
    assert bo_entry in by_id(ann.entries(book_id)["entries"])
    assert bo_entry not in by_id(cy.entries(book_id)["entries"])

    r = owner.patch(f"{entries_url(book_id)}/{bo_entry}", json={"tags": ["b"]})
    assert r.status_code == 200, r.text
    left = ann.entries(book_id, since=tokens[ANN])
    assert (left["entries"], left["removed"]) == ([], [bo_entry])
    for p in (cy, owner):
        came = p.entries(book_id, since=tokens[p.phone])
        assert [(e["id"], e["tags"]) for e in came["entries"]] == [(bo_entry, ["b"])]
        assert came["removed"] == []


def test_a_member_whose_own_tags_changed_must_fetch_in_full(people: Any) -> None:
    owner, ann = people(OWNER, "Owner"), people(ANN, "Ann")
    book_id, (ann_entry,) = start_book(owner, [(ann, ["a"])])
    token = ann.entries(book_id)["sync_token"]
    r = owner.patch(f"{entries_url(book_id)}/{ann_entry}", json={"tags": ["b"]})
    assert r.status_code == 200, r.text
    assert_problem(delta(ann, book_id, token), 410, STALE)
    fresh = ann.entries(book_id)
    assert by_id(fresh["entries"])[ann_entry]["tags"] == ["b"]
    assert ann.entries(book_id, since=fresh["sync_token"])["entries"] == []


def test_removals_older_than_the_retention_are_forgotten_and_tokens_from_before_refused(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock, engine: Engine
) -> None:
    # Sessions would end after 90 idle days; this test is about sync tokens only.
    client = make_client(session_idle_days=0)
    owner, ann, bo, cy = (sign_in(client, outbox, n, "X") for n in (OWNER, ANN, BO, CY))
    book_id, (_, bo_entry, cy_entry) = start_book(owner, [(ann, ["a"]), (bo, ["a"]), (cy, ["a"])])
    old = ann.entries(book_id)["sync_token"]
    assert owner.delete(f"{entries_url(book_id)}/{bo_entry}").status_code == 204
    clock.advance(days=90, seconds=1)  # CIRCLEBOOK_SYNC_TOKEN_DAYS
    recent = ann.entries(book_id)["sync_token"]
    r = owner.patch(f"{entries_url(book_id)}/{cy_entry}", json={"tags": ["b"]})
    assert r.status_code == 200, r.text
    sweep(owner.client.app.state.runtime)  # type: ignore[attr-defined]

    with engine.connect() as conn:
        kept = conn.execute(select(departures.c.entry_id)).scalars().all()
    assert kept == [cy_entry]  # Bo's departure, and its account id and tags, are gone
    assert_problem(delta(ann, book_id, old), 410, STALE)
    body = ann.entries(book_id, since=recent)
    assert (body["entries"], body["removed"]) == ([], [cy_entry])
    assert ann.entries(book_id, since=body["sync_token"])["removed"] == []


def test_with_the_retention_off_an_old_token_still_gets_its_delta(
    make_client: Callable[..., TestClient], outbox: Path, clock: FakeClock
) -> None:
    client = make_client(sync_token_days=0, session_idle_days=0, session_max_days=0)
    owner, ann, bo = (sign_in(client, outbox, n, "X") for n in (OWNER, ANN, BO))
    book_id, (_, bo_entry) = start_book(owner, [(ann, []), (bo, [])])
    old = ann.entries(book_id)["sync_token"]
    assert owner.delete(f"{entries_url(book_id)}/{bo_entry}").status_code == 204
    clock.advance(days=3650)
    sweep(client.app.state.runtime)  # type: ignore[attr-defined]
    assert ann.entries(book_id, since=old)["removed"] == [bo_entry]


def test_a_token_from_another_book_is_refused(people: Any) -> None:
    owner = people(OWNER, "Owner")
    first, _ = start_book(owner, [])
    second, _ = start_book(owner, [])
    foreign = owner.entries(first)["sync_token"]
    # Both books are at the same version: only the book the token was issued for
    # differs, and the sealed tokens differ with it.
    assert foreign != owner.entries(second)["sync_token"]
    response = delta(owner, second, foreign)
    assert_problem(response, 400, BAD)
    assert response.json()["field"] == "since"


def test_a_garbage_or_forged_token_is_refused(people: Any) -> None:
    owner = people(OWNER, "Owner")
    book_id, _ = start_book(owner, [])
    token = owner.entries(book_id)["sync_token"]
    flipped = ("B" if token[0] == "A" else "A") + token[1:]
    forged = [flipped, token[::-1], token[:-1], token + "A", "A" * len(token), "!" * len(token)]
    for bad in ["garbage", ".", "1.", "-1.abc", "1.AAAAAAAAAAAAAAAA", *forged]:
        assert_problem(delta(owner, book_id, bad), 400, BAD)


def test_a_token_whose_version_is_not_in_ascii_digits_is_refused(people: Any) -> None:
    owner = people(OWNER, "Owner")
    book_id, _ = start_book(owner, [])
    signature = owner.entries(book_id)["sync_token"].partition(".")[2]
    # "²", "٣" and a fullwidth 1 all pass str.isdigit(); int() refuses only the first.
    for version in ["²", "٣", "\N{FULLWIDTH DIGIT ONE}", "+1", " 1", "1_0", "9" * 19]:
        for token in [f"{version}.abc", f"{version}.{signature}"]:
            response = delta(owner, book_id, token)
            assert_problem(response, 400, BAD)
            assert response.json()["field"] == "since"
    # A signature outside ASCII is as wrong as any other forged one.
    assert_problem(delta(owner, book_id, "1.\N{LATIN SMALL LETTER E WITH ACUTE}"), 400, BAD)
    raw = owner.get(f"{entries_url(book_id)}?since=%C2%B2.abc")  # as the finding sent it
    assert_problem(raw, 400, BAD)
