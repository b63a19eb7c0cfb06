"""Entries: who may rename, retag and remove which, and leaving a book."""

from __future__ import annotations

import pytest

from circlebook.domain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
)
from circlebook.services import books, entries, events
from circlebook.services.invitations import Invitee, Status
from circlebook.services.runtime import Runtime
from tests.services.world import World


def stored_entry(world: World, book_id: str, entry_id: str) -> tuple[str, frozenset[str]] | None:
    found = world.read(lambda uow: uow.entries.get(book_id, entry_id))
    return None if found is None else (found.name, found.tags)


def test_a_member_renames_its_own_entry(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, mine = world.member(owner, summary.book.id, "Member")
    changed = entries.update_entry(rt, member, summary.book.id, mine.id, name="  New  Name ")
    assert changed.name == "New Name"
    assert stored_entry(world, summary.book.id, mine.id) == ("New Name", frozenset())


def test_a_member_may_not_rename_another_members_entry(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, _ = world.member(owner, summary.book.id, "Member")
    _, other = world.member(owner, summary.book.id, "Other")
    with pytest.raises(ForbiddenError):
        entries.update_entry(rt, member, summary.book.id, other.id, name="Renamed")
    with pytest.raises(ForbiddenError):
        entries.update_entry(rt, member, summary.book.id, summary.me.id, name="Renamed")
    assert stored_entry(world, summary.book.id, other.id) == ("Other", frozenset())


def test_the_owner_renames_any_entry(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    _, theirs = world.member(owner, summary.book.id, "Member")
    entries.update_entry(rt, owner, summary.book.id, theirs.id, name="Renamed")
    assert stored_entry(world, summary.book.id, theirs.id) == ("Renamed", frozenset())


def test_the_owner_retags_a_member_and_the_change_is_announced(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, theirs = world.member(owner, summary.book.id, "Member", ["a"])
    mark = world.heard.mark()
    changed = entries.update_entry(rt, owner, summary.book.id, theirs.id, tags=["B", "c"])
    assert changed.tags == frozenset({"b", "c"})
    assert stored_entry(world, summary.book.id, theirs.id) == ("Member", frozenset({"b", "c"}))
    assert world.heard.since(mark) == [("book.changed", frozenset({summary.book.id, member.id}))]


def test_a_member_may_not_retag_even_its_own_entry(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, mine = world.member(owner, summary.book.id, "Member", ["a"])
    with pytest.raises(ForbiddenError):
        entries.update_entry(rt, member, summary.book.id, mine.id, tags=["b"])
    assert stored_entry(world, summary.book.id, mine.id) == ("Member", frozenset({"a"}))


def test_the_owners_entry_carries_no_tags(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    with pytest.raises(InvalidInputError):
        entries.update_entry(rt, owner, summary.book.id, summary.me.id, tags=["a"])


def test_a_bad_tag_is_refused(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    _, theirs = world.member(owner, summary.book.id, "Member")
    with pytest.raises(InvalidInputError) as caught:
        entries.update_entry(rt, owner, summary.book.id, theirs.id, tags=["two words"])
    assert caught.value.field == "tags"


def test_nobody_outside_the_book_changes_or_removes_its_entries(rt: Runtime, world: World) -> None:
    owner, stranger = world.person("Owner"), world.person("Stranger")
    summary, _ = world.book(owner)
    _, theirs = world.member(owner, summary.book.id, "Member")
    with pytest.raises(NotFoundError):
        entries.update_entry(rt, stranger, summary.book.id, theirs.id, name="Mine")
    with pytest.raises(NotFoundError):
        entries.remove_entry(rt, stranger, summary.book.id, theirs.id)
    assert stored_entry(world, summary.book.id, theirs.id) == ("Member", frozenset())


def test_the_owner_removes_a_member_who_is_told_it_left(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, theirs = world.member(owner, summary.book.id, "Member")
    mark = world.heard.mark()
    entries.remove_entry(rt, owner, summary.book.id, theirs.id)
    assert stored_entry(world, summary.book.id, theirs.id) is None
    with pytest.raises(NotFoundError):
        books.get_book(rt, member, summary.book.id)
    told = world.heard.since(mark)
    assert ("book.left", frozenset({member.id, summary.book.id})) in told
    assert ("book.changed", frozenset({summary.book.id, member.id})) in told


def test_a_member_leaves_by_removing_its_own_entry(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, mine = world.member(owner, summary.book.id, "Member")
    entries.remove_entry(rt, member, summary.book.id, mine.id)
    assert books.list_books(rt, member) == []
    assert books.get_book(rt, owner, summary.book.id).visible_entries == 1


def test_a_member_may_not_remove_another_member(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, _ = world.member(owner, summary.book.id, "Member")
    _, other = world.member(owner, summary.book.id, "Other")
    with pytest.raises(ForbiddenError):
        entries.remove_entry(rt, member, summary.book.id, other.id)
    assert stored_entry(world, summary.book.id, other.id) == ("Other", frozenset())


def test_a_member_cannot_reach_an_entry_it_cannot_see(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, _ = world.member(owner, summary.book.id, "Member", ["a"])
    _, hidden = world.member(owner, summary.book.id, "Hidden", ["b"])
    with pytest.raises(NotFoundError):
        entries.remove_entry(rt, member, summary.book.id, hidden.id)
    with pytest.raises(NotFoundError):
        entries.update_entry(rt, member, summary.book.id, hidden.id, name="Seen")


def test_the_owners_entry_goes_only_with_the_book(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, _ = world.member(owner, summary.book.id, "Member")
    with pytest.raises(ConflictError):
        entries.remove_entry(rt, owner, summary.book.id, summary.me.id)
    with pytest.raises(ConflictError):
        entries.remove_entry(rt, member, summary.book.id, summary.me.id)
    assert stored_entry(world, summary.book.id, summary.me.id) == ("Owner", frozenset())


def test_a_member_who_left_can_be_invited_back(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, mine = world.member(owner, summary.book.id, "Member")
    entries.remove_entry(rt, member, summary.book.id, mine.id)
    (outcome,) = world.invite(owner, summary.book.id, Invitee(member.phone))
    assert outcome.status is Status.INVITED


def test_a_member_who_leaves_is_reported_removed_at_the_others_next_sync(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, mine = world.member(owner, summary.book.id, "Member")
    other, _ = world.member(owner, summary.book.id, "Other")
    token = entries.fetch_entries(rt, other, summary.book.id).sync_token
    entries.remove_entry(rt, member, summary.book.id, mine.id)
    delta = entries.fetch_entries(rt, other, summary.book.id, since=token)
    assert (delta.entries, delta.removed) == ([], [mine.id])


def test_a_member_who_left_no_longer_follows_the_book(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, mine = world.member(owner, summary.book.id, "Member")
    assert list(events.subscribe(rt, member).viewers) == [summary.book.id]
    entries.remove_entry(rt, member, summary.book.id, mine.id)
    assert events.subscribe(rt, member).viewers == {}
    assert events.viewer_of(rt, member, summary.book.id) is None
