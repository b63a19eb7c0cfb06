"""Who sees whom in a book, by tags; and what a delta sync reports as removed."""

from __future__ import annotations

from dataclasses import dataclass

import pytest

from circlebook.domain.errors import BadSyncTokenError, StaleSyncTokenError
from circlebook.domain.model import Account, Entry
from circlebook.services import books, entries
from circlebook.services.runtime import Runtime
from tests.services.world import World


@dataclass
class Club:
    """A book with an owner, an untagged member, and members tagged a, b, and both."""

    book_id: str
    owner: Account
    owner_entry: Entry
    plain: tuple[Account, Entry]
    a: tuple[Account, Entry]
    b: tuple[Account, Entry]
    ab: tuple[Account, Entry]


@pytest.fixture
def club(world: World) -> Club:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    book_id = summary.book.id
    return Club(
        book_id,
        owner,
        summary.me,
        world.member(owner, book_id, "Plain"),
        world.member(owner, book_id, "A", ["a"]),
        world.member(owner, book_id, "B", ["b"]),
        world.member(owner, book_id, "AB", ["a", "b"]),
    )


def seen(rt: Runtime, viewer: Account, book_id: str) -> dict[str, list[str]]:
    """The names the viewer sees, each with the tags it is shown."""
    return {e.name: e.tags for e in entries.fetch_entries(rt, viewer, book_id).entries}


def test_the_owner_sees_every_entry_with_all_its_tags(rt: Runtime, club: Club) -> None:
    assert seen(rt, club.owner, club.book_id) == {
        "Owner": [],
        "Plain": [],
        "A": ["a"],
        "B": ["b"],
        "AB": ["a", "b"],
    }


def test_an_untagged_member_sees_the_owner_and_the_untagged(rt: Runtime, club: Club) -> None:
    assert seen(rt, club.plain[0], club.book_id) == {"Owner": [], "Plain": []}


def test_a_tagged_member_sees_those_sharing_a_tag_and_only_the_tags_it_holds(
    rt: Runtime, club: Club
) -> None:
    assert seen(rt, club.a[0], club.book_id) == {"Owner": [], "A": ["a"], "AB": ["a"]}
    assert seen(rt, club.ab[0], club.book_id) == {
        "Owner": [],
        "A": ["a"],
        "B": ["b"],
        "AB": ["a", "b"],
    }


def test_a_member_may_leave_itself_out_of_the_view(rt: Runtime, club: Club) -> None:
    view = entries.fetch_entries(rt, club.a[0], club.book_id, exclude_self=True)
    assert sorted(e.name for e in view.entries) == ["AB", "Owner"]


def test_a_books_count_is_what_the_member_sees(rt: Runtime, club: Club) -> None:
    counts = {
        who.name: books.get_book(rt, who, club.book_id).visible_entries
        for who in (club.owner, club.plain[0], club.a[0], club.ab[0])
    }
    assert counts == {"Owner": 5, "Plain": 2, "A": 3, "AB": 4}


def test_entries_asked_by_id_leave_out_those_the_member_cannot_see(rt: Runtime, club: Club) -> None:
    wanted = [club.b[1].id, club.ab[1].id, club.plain[1].id, "e_nosuchentry00"]
    found = entries.fetch_entries_by_id(rt, club.a[0], club.book_id, wanted)
    assert [e.id for e in found] == [club.ab[1].id]


def test_a_delta_reports_a_removed_entry_to_those_who_could_see_it(rt: Runtime, club: Club) -> None:
    tokens = {
        who.name: entries.fetch_entries(rt, who, club.book_id).sync_token
        for who in (club.owner, club.plain[0], club.a[0], club.b[0])
    }
    entries.remove_entry(rt, club.owner, club.book_id, club.ab[1].id)
    removed = {
        who.name: entries.fetch_entries(rt, who, club.book_id, since=tokens[who.name]).removed
        for who in (club.owner, club.plain[0], club.a[0], club.b[0])
    }
    gone = [club.ab[1].id]
    assert removed == {"Owner": gone, "Plain": [], "A": gone, "B": gone}


def test_a_delta_reports_an_entry_retagged_out_of_sight_as_removed(rt: Runtime, club: Club) -> None:
    a_token = entries.fetch_entries(rt, club.a[0], club.book_id).sync_token
    b_token = entries.fetch_entries(rt, club.b[0], club.book_id).sync_token
    entries.update_entry(rt, club.owner, club.book_id, club.ab[1].id, tags=["b"])
    a_delta = entries.fetch_entries(rt, club.a[0], club.book_id, since=a_token)
    b_delta = entries.fetch_entries(rt, club.b[0], club.book_id, since=b_token)
    assert (a_delta.entries, a_delta.removed) == ([], [club.ab[1].id])
    assert ([e.id for e in b_delta.entries], b_delta.removed) == ([club.ab[1].id], [])


def test_a_delta_sends_only_what_changed_since_the_token(rt: Runtime, club: Club) -> None:
    token = entries.fetch_entries(rt, club.a[0], club.book_id).sync_token
    entries.update_entry(rt, club.ab[0], club.book_id, club.ab[1].id, name="AB renamed")
    delta = entries.fetch_entries(rt, club.a[0], club.book_id, since=token)
    assert ([e.name for e in delta.entries], delta.removed) == (["AB renamed"], [])


def test_a_change_a_member_cannot_see_leaves_its_sync_token_as_it_was(
    rt: Runtime, club: Club
) -> None:
    before = entries.fetch_entries(rt, club.plain[0], club.book_id).sync_token
    entries.update_entry(rt, club.owner, club.book_id, club.b[1].id, name="B renamed")
    assert entries.fetch_entries(rt, club.plain[0], club.book_id).sync_token == before
    assert entries.fetch_entries(rt, club.b[0], club.book_id).sync_token != before


def test_a_member_whose_tags_changed_must_fetch_in_full(rt: Runtime, club: Club) -> None:
    token = entries.fetch_entries(rt, club.a[0], club.book_id).sync_token
    entries.update_entry(rt, club.owner, club.book_id, club.a[1].id, tags=["b"])
    with pytest.raises(StaleSyncTokenError):
        entries.fetch_entries(rt, club.a[0], club.book_id, since=token)
    assert set(seen(rt, club.a[0], club.book_id)) == {"Owner", "A", "B", "AB"}


def test_a_sync_token_of_another_book_is_refused(rt: Runtime, world: World, club: Club) -> None:
    other, _ = world.book(club.owner, title="Other")
    with pytest.raises(BadSyncTokenError):
        entries.fetch_entries(rt, club.owner, club.book_id, since=other.sync_token)
    with pytest.raises(BadSyncTokenError):
        entries.fetch_entries(rt, club.owner, club.book_id, since="made-up")
