"""Inviting people into a book, and their answers: accept, decline; the owner's revoke."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from circlebook.domain.errors import (
    ForbiddenError,
    NotFoundError,
    RateLimitedError,
    TooManyInviteesError,
)
from circlebook.domain.model import Role
from circlebook.notify import wire
from circlebook.services import answers, books, entries, invitations
from circlebook.services.invitations import Invitee, Status
from circlebook.services.runtime import Runtime
from tests.conftest import FakeClock
from tests.services.world import VIA, World


def pending_phones(rt: Runtime, world: World, owner_id: str, book_id: str) -> list[str]:
    owner = world.read(lambda uow: uow.accounts.get(owner_id))
    assert owner is not None
    return [p.invitation.phone for p in invitations.pending_for_book(rt, owner, book_id, VIA)]


def test_an_invitee_with_an_account_finds_the_invitation_in_its_inbox_and_is_told(
    rt: Runtime, world: World
) -> None:
    owner, friend = world.person("Owner"), world.person("Friend")
    summary, _ = world.book(owner)
    mark = world.heard.mark()
    (outcome,) = world.invite(owner, summary.book.id, Invitee(friend.phone))
    (item,) = answers.inbox(rt, friend)
    assert (item.invitation.id, item.book.id, item.owner.account_id) == (
        outcome.invitation_id,
        summary.book.id,
        owner.id,
    )
    assert world.heard.since(mark) == [
        ("invitation.received", frozenset({friend.id, summary.book.id, item.invitation.id}))
    ]


def test_an_invitation_waits_for_the_number_to_sign_up(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    later = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(later))
    mark = world.heard.mark()
    friend = world.person("Friend", later)
    assert [i.invitation.id for i in answers.inbox(rt, friend)] == [outcome.invitation_id]
    assert outcome.invitation_id is not None
    assert (
        "invitation.received",
        frozenset({friend.id, summary.book.id, outcome.invitation_id}),
    ) in world.heard.since(mark)


def test_inviting_oneself_or_a_member_again_invites_nobody(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, _ = world.member(owner, summary.book.id, "Member")
    outcomes = world.invite(owner, summary.book.id, Invitee(owner.phone), Invitee(member.phone))
    assert [o.status for o in outcomes] == [Status.ALREADY_MEMBER, Status.ALREADY_MEMBER]
    assert pending_phones(rt, world, owner.id, summary.book.id) == []


def test_inviting_a_number_twice_makes_one_invitation(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    friend = world.new_phone()
    summary, _ = world.book(owner, Invitee(friend))
    (again,) = world.invite(owner, summary.book.id, Invitee(friend))
    # One number in two spellings, in one request.
    twice = world.invite(
        owner, summary.book.id, Invitee("+86 138 0019 9999"), Invitee("13800199999")
    )
    assert again.status is Status.ALREADY_INVITED
    assert [o.status for o in twice] == [Status.INVITED, Status.ALREADY_INVITED]
    assert len(pending_phones(rt, world, owner.id, summary.book.id)) == 2


def test_a_bad_number_is_reported_by_its_place_and_the_others_are_invited(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    friend = world.new_phone()
    bad, good = world.invite(owner, summary.book.id, Invitee("not a number"), Invitee(friend))
    assert (bad.status, bad.field) == (Status.INVALID, "invitees[0].phone")
    assert good.status is Status.INVITED
    assert pending_phones(rt, world, owner.id, summary.book.id) == [friend]


def test_one_request_invites_at_most_the_policys_number_and_keeps_nothing_past_it(
    make_runtime: Callable[..., Runtime], world: World
) -> None:
    world.rt = rt = make_runtime(max_invitees_per_request=2)
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    three = [Invitee(world.new_phone()) for _ in range(3)]
    with pytest.raises(TooManyInviteesError) as caught:
        invitations.invite(rt, owner, summary.book.id, three, VIA)
    assert caught.value.limit == 2
    with pytest.raises(TooManyInviteesError):
        books.create_book(rt, owner, "Too many", three, VIA)
    assert pending_phones(rt, world, owner.id, summary.book.id) == []
    assert [s.book.title for s in books.list_books(rt, owner)] == ["Club"]


def test_an_owner_sends_at_most_the_policys_invitations_a_day(
    make_runtime: Callable[..., Runtime], world: World, clock: FakeClock
) -> None:
    world.rt = rt = make_runtime(invites_per_day=2)
    owner = world.person("Owner")
    summary, _ = world.book(owner, Invitee(world.new_phone()))
    world.invite(owner, summary.book.id, Invitee(world.new_phone()))
    with pytest.raises(RateLimitedError):
        world.invite(owner, summary.book.id, Invitee(world.new_phone()))
    assert len(pending_phones(rt, world, owner.id, summary.book.id)) == 2
    clock.advance(days=1)
    (outcome,) = world.invite(owner, summary.book.id, Invitee(world.new_phone()))
    assert outcome.status is Status.INVITED


def test_only_the_owner_invites(rt: Runtime, world: World) -> None:
    owner, stranger = world.person("Owner"), world.person("Stranger")
    summary, _ = world.book(owner)
    member, _ = world.member(owner, summary.book.id, "Member")
    with pytest.raises(ForbiddenError):
        world.invite(member, summary.book.id, Invitee(world.new_phone()))
    with pytest.raises(NotFoundError):
        world.invite(stranger, summary.book.id, Invitee(world.new_phone()))


def test_accepting_puts_the_invitee_in_the_book_and_tells_the_owner(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number, "Named by owner", ["team"]))
    friend = world.person("Friend", number)
    assert outcome.invitation_id is not None
    mark = world.heard.mark()
    entry = answers.accept(rt, friend, outcome.invitation_id)
    assert (entry.name, entry.tags, entry.role) == (
        "Named by owner",
        frozenset({"team"}),
        Role.MEMBER,
    )
    view = entries.fetch_entries(rt, owner, summary.book.id)
    assert {(e.id, e.phone) for e in view.entries} == {
        (summary.me.id, owner.phone),
        (entry.id, number),
    }
    assert answers.inbox(rt, friend) == []
    told = world.heard.since(mark)
    assert (
        "invitation.accepted",
        frozenset({owner.id, summary.book.id, outcome.invitation_id, entry.id}),
    ) in told
    assert ("book.changed", frozenset({summary.book.id, friend.id})) in told


def test_an_invitee_may_choose_its_own_name_when_accepting(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    _, (outcome,) = world.book(owner, Invitee(number, "Named by owner"))
    friend = world.person("Friend", number)
    assert outcome.invitation_id is not None
    assert answers.accept(rt, friend, outcome.invitation_id, "Chosen").name == "Chosen"


def test_accepting_twice_makes_one_entry(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number))
    friend = world.person("Friend", number)
    assert outcome.invitation_id is not None
    first = answers.accept(rt, friend, outcome.invitation_id)
    assert answers.accept(rt, friend, outcome.invitation_id) == first
    assert books.get_book(rt, owner, summary.book.id).visible_entries == 2


def test_nobody_accepts_an_invitation_sent_to_another_number(rt: Runtime, world: World) -> None:
    owner, thief = world.person("Owner"), world.person("Thief")
    summary, (outcome,) = world.book(owner, Invitee(world.new_phone()))
    assert outcome.invitation_id is not None
    with pytest.raises(NotFoundError):
        answers.accept(rt, thief, outcome.invitation_id)
    with pytest.raises(NotFoundError):
        answers.decline(rt, thief, outcome.invitation_id)
    assert books.get_book(rt, owner, summary.book.id).visible_entries == 1
    assert len(pending_phones(rt, world, owner.id, summary.book.id)) == 1


def test_declining_deletes_the_invitation_with_the_number_and_name_it_held(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number, "Kept until the answer"))
    friend = world.person("Friend", number)
    assert outcome.invitation_id is not None
    mark = world.heard.mark()
    answers.decline(rt, friend, outcome.invitation_id)
    assert world.read(lambda uow: uow.invitations.get(str(outcome.invitation_id))) is None
    assert world.read(lambda uow: uow.invitations.take_all_for_phone(number)) == []
    assert pending_phones(rt, world, owner.id, summary.book.id) == []
    assert books.get_book(rt, owner, summary.book.id).visible_entries == 1
    assert world.heard.since(mark) == [
        ("invitation.declined", frozenset({owner.id, summary.book.id, outcome.invitation_id}))
    ]
    with pytest.raises(NotFoundError):
        answers.accept(rt, friend, outcome.invitation_id)


def test_the_owner_revokes_a_pending_invitation_and_the_invitee_is_told(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number))
    friend = world.person("Friend", number)
    assert outcome.invitation_id is not None
    mark = world.heard.mark()
    invitations.revoke(rt, owner, summary.book.id, outcome.invitation_id)
    assert answers.inbox(rt, friend) == []
    assert world.heard.since(mark) == [
        ("invitation.revoked", frozenset({friend.id, summary.book.id, outcome.invitation_id}))
    ]
    with pytest.raises(NotFoundError):
        answers.accept(rt, friend, outcome.invitation_id)
    with pytest.raises(NotFoundError):
        invitations.revoke(rt, owner, summary.book.id, outcome.invitation_id)


def test_only_the_owner_revokes_an_invitation(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    summary, (outcome,) = world.book(owner, Invitee(world.new_phone()))
    member, _ = world.member(owner, summary.book.id, "Member")
    assert outcome.invitation_id is not None
    with pytest.raises(ForbiddenError):
        invitations.revoke(rt, member, summary.book.id, outcome.invitation_id)
    assert len(pending_phones(rt, world, owner.id, summary.book.id)) == 1


def test_an_expired_invitation_can_no_longer_be_accepted(
    rt: Runtime, world: World, clock: FakeClock
) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number))
    friend = world.person("Friend", number)
    assert outcome.invitation_id is not None
    clock.advance(days=rt.policy.invitation_ttl_days, seconds=1)
    assert answers.inbox(rt, friend) == []
    with pytest.raises(NotFoundError):
        answers.accept(rt, friend, outcome.invitation_id)
    assert pending_phones(rt, world, owner.id, summary.book.id) == []


def test_the_sweep_deletes_expired_invitations_and_the_notices_of_them(
    rt: Runtime, world: World, clock: FakeClock
) -> None:
    owner, friend = world.person("Owner"), world.person("Friend")
    _, (outcome,) = world.book(owner, Invitee(friend.phone))
    assert outcome.invitation_id is not None
    invitation_id = outcome.invitation_id
    clock.advance(days=rt.policy.invitation_ttl_days, seconds=1)
    invitations.prune(rt)
    assert world.read(lambda uow: uow.invitations.get(invitation_id)) is None
    replayed = world.read(lambda uow: uow.events.after(0, friend.id, []))
    assert [e for e in replayed if wire.data(e).get("invitation_id") == invitation_id] == []


def test_inviting_again_after_a_decline_asks_again(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number))
    friend = world.person("Friend", number)
    assert outcome.invitation_id is not None
    answers.decline(rt, friend, outcome.invitation_id)
    (again,) = world.invite(owner, summary.book.id, Invitee(number))
    assert again.status is Status.INVITED
    assert again.invitation_id != outcome.invitation_id
