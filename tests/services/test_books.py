"""Books: creating one, reading it as a member, renaming, handing it on, dissolving it."""

from __future__ import annotations

import pytest

from circlebook.domain.errors import (
    ConflictError,
    ForbiddenError,
    InvalidInputError,
    NotFoundError,
    StaleSyncTokenError,
)
from circlebook.domain.model import Role
from circlebook.services import books, entries, invitations
from circlebook.services.invitations import Invitee, Status
from circlebook.services.runtime import Runtime
from tests.services.world import VIA, World


def test_creating_a_book_makes_the_caller_its_owner_and_only_entry(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    mark = world.heard.mark()
    summary, outcomes = world.book(owner, title="  Class  of 2012 ")
    assert outcomes == []
    assert (summary.book.title, summary.book.owner_id, summary.book.version) == (
        "Class of 2012",
        owner.id,
        1,
    )
    assert (summary.me.role, summary.me.name, summary.visible_entries) == (Role.OWNER, "Owner", 1)
    stored = world.read(lambda uow: uow.books.memberships(owner.id))
    assert [(b.id, e.id) for b, e in stored] == [(summary.book.id, summary.me.id)]
    assert world.heard.since(mark) == [("book.changed", frozenset({summary.book.id, owner.id}))]


def test_creating_a_book_invites_the_people_picked(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    friend = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(friend, "Friend", ["team"]))
    assert (outcome.status, outcome.phone) == (Status.INVITED, friend)
    assert outcome.invite_url is not None
    assert outcome.invite_url.startswith("https://book.example/i/")
    (pending,) = invitations.pending_for_book(rt, owner, summary.book.id, VIA)
    assert (pending.invitation.phone, pending.invitation.name) == (friend, "Friend")
    assert pending.invitation.tags == frozenset({"team"})


def test_a_book_without_a_title_is_refused_and_nothing_is_kept(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    with pytest.raises(InvalidInputError):
        world.book(owner, title="   ")
    assert books.list_books(rt, owner) == []


def test_a_non_member_learns_nothing_of_a_book(rt: Runtime, world: World) -> None:
    owner, stranger = world.person("Owner"), world.person("Stranger")
    summary, _ = world.book(owner)
    with pytest.raises(NotFoundError):
        books.get_book(rt, stranger, summary.book.id)
    with pytest.raises(NotFoundError):
        entries.fetch_entries(rt, stranger, summary.book.id)
    assert books.list_books(rt, stranger) == []


def test_a_member_lists_the_books_it_belongs_to(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    world.book(owner, title="First")
    second, _ = world.book(owner, title="Second")
    member, _ = world.member(owner, second.book.id, "Member")
    assert sorted(s.book.title for s in books.list_books(rt, owner)) == ["First", "Second"]
    assert [s.book.id for s in books.list_books(rt, member)] == [second.book.id]
    assert [m.book.id for m in books.list_memberships(rt, member)] == [second.book.id]


def test_the_owner_renames_a_book_and_every_member_sees_the_new_title(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner, title="Old")
    member, _ = world.member(owner, summary.book.id, "Member")
    renamed = books.rename_book(rt, owner, summary.book.id, "New")
    assert renamed.book.title == "New"
    assert books.get_book(rt, member, summary.book.id).book.title == "New"


def test_a_member_may_not_rename_the_book(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner, title="Old")
    member, _ = world.member(owner, summary.book.id, "Member")
    with pytest.raises(ForbiddenError):
        books.rename_book(rt, member, summary.book.id, "Mine")
    assert books.get_book(rt, owner, summary.book.id).book.title == "Old"


def test_handing_a_book_on_makes_the_member_owner_and_the_owner_an_untagged_member(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    book_id = summary.book.id
    heir, heir_entry = world.member(owner, book_id, "Heir", ["team"])
    before = entries.fetch_entries(rt, heir, book_id).sync_token
    mark = world.heard.mark()
    books.hand_on(rt, owner, book_id, heir_entry.id)
    assert books.get_book(rt, heir, book_id).me.role is Role.OWNER
    old = books.get_book(rt, owner, book_id).me
    assert (old.role, old.tags) == (Role.MEMBER, frozenset())
    assert books.get_book(rt, heir, book_id).me.tags == frozenset()
    stored = world.read(lambda uow: uow.books.get(book_id))
    assert stored is not None
    assert stored.owner_id == heir.id
    told = world.heard.since(mark)
    assert ("book.owner_changed", frozenset({owner.id, book_id})) in told
    assert ("book.owner_changed", frozenset({heir.id, book_id})) in told
    # Everyone's view changed at once: tokens from before are refused.
    with pytest.raises(StaleSyncTokenError):
        entries.fetch_entries(rt, heir, book_id, since=before)


def test_only_the_owner_hands_a_book_on_and_only_to_a_member(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, mine = world.member(owner, summary.book.id, "Member")
    with pytest.raises(ForbiddenError):
        books.hand_on(rt, member, summary.book.id, mine.id)
    with pytest.raises(ConflictError):
        books.hand_on(rt, owner, summary.book.id, summary.me.id)
    with pytest.raises(NotFoundError):
        books.hand_on(rt, owner, summary.book.id, "e_notamember000")


def test_dissolving_a_book_removes_it_and_tells_every_member(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner, Invitee(world.new_phone()))
    book_id = summary.book.id
    member, _ = world.member(owner, book_id, "Member")
    mark = world.heard.mark()
    books.dissolve_book(rt, owner, book_id)
    for who in (owner, member):
        with pytest.raises(NotFoundError):
            books.get_book(rt, who, book_id)
    assert world.read(lambda uow: uow.books.get(book_id)) is None
    assert world.read(lambda uow: uow.invitations.pending_for_book(book_id, "0")) == []
    told = world.heard.since(mark)
    assert ("book.left", frozenset({owner.id, book_id})) in told
    assert ("book.left", frozenset({member.id, book_id})) in told


def test_a_member_may_not_dissolve_the_book(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, _ = world.member(owner, summary.book.id, "Member")
    with pytest.raises(ForbiddenError):
        books.dissolve_book(rt, member, summary.book.id)
    assert books.get_book(rt, owner, summary.book.id).visible_entries == 2
