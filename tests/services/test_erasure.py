"""Erasing an account: its books, memberships, invitations and sign-ins all go at once."""

from __future__ import annotations

import pytest

from circlebook.domain.errors import InvalidInputError, NotAuthenticatedError
from circlebook.services import answers, auth, books, entries, invitations, privacy
from circlebook.services.invitations import Invitee
from circlebook.services.runtime import Runtime
from tests.services.world import VIA, World


def test_erasure_needs_the_persons_own_number_typed_in(rt: Runtime, world: World) -> None:
    signed = world.sign_in(world.new_phone(), "Me")
    with pytest.raises(InvalidInputError) as caught:
        privacy.delete_account(rt, signed.account, "138 0000 0000")
    assert caught.value.field == "confirm"
    assert auth.authenticate(rt, signed.token) == signed.account


def test_erasure_accepts_the_number_in_any_spelling_and_ends_every_sign_in(
    rt: Runtime, world: World
) -> None:
    signed = world.sign_in(world.new_phone(), "Me")
    made = auth.list_sessions(rt, signed.account, signed.token)
    privacy.delete_account(rt, signed.account, signed.account.phone.removeprefix("+86"))
    assert world.read(lambda uow: uow.accounts.get(signed.account.id)) is None
    assert world.read(lambda uow: uow.sessions.of_account(signed.account.id)) == []
    assert len(made) == 1
    with pytest.raises(NotAuthenticatedError):
        auth.authenticate(rt, signed.token)


def test_erasing_an_owner_dissolves_its_books_and_tells_their_members(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, _ = world.member(owner, summary.book.id, "Member")
    mark = world.heard.mark()
    privacy.delete_account(rt, owner, owner.phone)
    assert world.read(lambda uow: uow.books.get(summary.book.id)) is None
    assert books.list_books(rt, member) == []
    assert ("book.left", frozenset({member.id, summary.book.id})) in world.heard.since(mark)


def test_erasing_a_member_takes_its_entry_out_and_delta_sync_still_reports_it(
    rt: Runtime, world: World
) -> None:
    owner = world.person("Owner")
    summary, _ = world.book(owner)
    member, mine = world.member(owner, summary.book.id, "Member")
    token = entries.fetch_entries(rt, owner, summary.book.id).sync_token
    privacy.delete_account(rt, member, member.phone)
    delta = entries.fetch_entries(rt, owner, summary.book.id, since=token)
    assert delta.removed == [mine.id]
    departures = world.read(lambda uow: uow.departures.since(summary.book.id, 0))
    # The history keeps a per-book pseudonym, never the erased account's id.
    assert [d.entry_id for d in departures] == [mine.id]
    assert member.id not in {d.account_id for d in departures}


def test_erasure_declines_invitations_to_the_number_and_withdraws_those_it_sent(
    rt: Runtime, world: World
) -> None:
    other_owner, leaving = world.person("Other owner"), world.person("Leaving")
    theirs, (to_me,) = world.book(other_owner, Invitee(leaving.phone))
    # A book it handed on: it stays a member, and what it sent stays pending.
    mine, _ = world.book(leaving)
    heir, heir_entry = world.member(leaving, mine.book.id, "Heir")
    friend = world.person("Friend")
    (from_me,) = world.invite(leaving, mine.book.id, Invitee(friend.phone))
    books.hand_on(rt, leaving, mine.book.id, heir_entry.id)
    assert to_me.invitation_id is not None
    assert from_me.invitation_id is not None
    mark = world.heard.mark()
    privacy.delete_account(rt, leaving, leaving.phone)
    assert answers.inbox(rt, friend) == []
    assert invitations.pending_for_book(rt, other_owner, theirs.book.id, VIA) == []
    assert invitations.pending_for_book(rt, heir, mine.book.id, VIA) == []
    told = world.heard.since(mark)
    assert (
        "invitation.declined",
        frozenset({other_owner.id, theirs.book.id, to_me.invitation_id}),
    ) in told
    assert (
        "invitation.revoked",
        frozenset({friend.id, mine.book.id, from_me.invitation_id}),
    ) in told


def test_an_erased_number_may_sign_up_again_as_a_new_account(rt: Runtime, world: World) -> None:
    first = world.sign_in(world.new_phone(), "Me")
    privacy.delete_account(rt, first.account, first.account.phone)
    again = world.sign_in(first.account.phone, "Me again")
    assert again.created
    assert again.account.id != first.account.id
