"""Answering an invitation through its personal link, with no account needed."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from circlebook.domain.errors import (
    ConflictError,
    InvalidCodeError,
    NotFoundError,
    RateLimitedError,
)
from circlebook.services import auth, books, invitations, invite_links
from circlebook.services.invitations import Invitee, Outcome, Status
from circlebook.services.runtime import Runtime
from tests.conftest import FakeClock
from tests.services.world import VIA, World


def token_of(outcome: Outcome) -> str:
    assert outcome.invite_url is not None
    return outcome.invite_url.rsplit("/", 1)[1]


def code_for(world: World, token: str, number: str) -> str:
    invite_links.request_code(world.rt, token)
    return world.sms.last_code(number)


def test_a_link_shows_who_invites_to_what_and_masks_the_number(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number), title="Team")
    shown = invite_links.view(rt, token_of(outcome))
    assert (shown.book_id, shown.book_title, shown.owner_name) == (summary.book.id, "Team", "Owner")
    assert number not in shown.phone_hint
    assert shown.phone_hint.endswith(number[-4:])


def test_a_link_sends_its_code_to_the_invited_number_only(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    _, (outcome,) = world.book(owner, Invitee(number))
    invite_links.request_code(rt, token_of(outcome))
    assert [to for to, _ in world.sms.sent][-1] == number


def test_accepting_by_link_opens_an_account_joins_and_signs_in(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number, "Invited"))
    token = token_of(outcome)
    joined = invite_links.accept(rt, token, code_for(world, token, number), name="Newcomer")
    assert (joined.account.phone, joined.entry.name) == (number, "Newcomer")
    assert auth.authenticate(rt, joined.token) == joined.account
    assert books.get_book(rt, owner, summary.book.id).visible_entries == 2
    with pytest.raises(NotFoundError):
        invite_links.view(rt, token)


def test_declining_by_link_leaves_no_account_and_no_code_behind(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number, "Invited"))
    token = token_of(outcome)
    mark = world.heard.mark()
    invite_links.decline(rt, token, code_for(world, token, number))
    assert world.read(lambda uow: uow.accounts.by_phone(number)) is None
    key = auth.phone_key(rt.secret_key, number)
    assert world.read(lambda uow: uow.codes.live(key, "0")) is None
    assert invitations.pending_for_book(rt, owner, summary.book.id, VIA) == []
    assert world.heard.since(mark) == [
        ("invitation.declined", frozenset({owner.id, summary.book.id, outcome.invitation_id}))
    ]


def test_a_wrong_code_answers_nothing(rt: Runtime, world: World) -> None:
    owner = world.person("Owner")
    number = world.new_phone()
    summary, (outcome,) = world.book(owner, Invitee(number))
    token = token_of(outcome)
    code = code_for(world, token, number)
    with pytest.raises(InvalidCodeError):
        invite_links.decline(rt, token, f"{(int(code) + 1) % 10**6:06d}")
    assert len(invitations.pending_for_book(rt, owner, summary.book.id, VIA)) == 1


def test_a_made_up_link_finds_nothing(rt: Runtime) -> None:
    for token in ("short", "A" * 32):
        with pytest.raises(NotFoundError):
            invite_links.view(rt, token)


def test_stopping_by_link_keeps_the_number_from_every_later_invitation(
    rt: Runtime, world: World
) -> None:
    owner, other_owner = world.person("Owner"), world.person("Other owner")
    number = world.new_phone()
    _, (outcome,) = world.book(owner, Invitee(number))
    elsewhere, (waiting,) = world.book(other_owner, Invitee(number))
    token = token_of(outcome)
    invite_links.stop(rt, token, code_for(world, token, number))
    # The other invitation to the number is withdrawn too, and no new one is made.
    assert invitations.pending_for_book(rt, other_owner, elsewhere.book.id, VIA) == []
    (again,) = world.invite(other_owner, elsewhere.book.id, Invitee(number))
    assert again.status is Status.OPTED_OUT
    assert waiting.status is Status.INVITED


def test_a_signed_in_person_may_opt_back_in(rt: Runtime, world: World) -> None:
    owner, me = world.person("Owner"), world.person("Me")
    summary, _ = world.book(owner)
    invite_links.set_opted_out(rt, me, True)
    assert invite_links.is_opted_out(rt, me)
    assert world.invite(owner, summary.book.id, Invitee(me.phone))[0].status is Status.OPTED_OUT
    invite_links.set_opted_out(rt, me, False)
    assert world.invite(owner, summary.book.id, Invitee(me.phone))[0].status is Status.INVITED


def test_a_stop_reply_to_a_text_opts_the_sender_out(rt: Runtime, world: World) -> None:
    me = world.person("Me")
    assert not invite_links.opt_out_by_reply(rt, me.phone, "thanks!")
    assert not invite_links.is_opted_out(rt, me)
    assert invite_links.opt_out_by_reply(rt, me.phone, " stop ")
    assert invite_links.is_opted_out(rt, me)


def test_the_owner_may_remind_once_a_day_after_inviting(
    rt: Runtime, world: World, clock: FakeClock
) -> None:
    owner = world.person("Owner")
    summary, (outcome,) = world.book(owner, Invitee(world.new_phone()))
    assert outcome.invitation_id is not None
    with pytest.raises(RateLimitedError):
        invite_links.remind(rt, owner, summary.book.id, outcome.invitation_id, VIA)
    clock.advance(days=1)
    reminder = invite_links.remind(rt, owner, summary.book.id, outcome.invitation_id, VIA)
    assert (reminder.invite_url, reminder.text_sent) == (outcome.invite_url, False)
    with pytest.raises(ConflictError):
        invite_links.remind(rt, owner, summary.book.id, outcome.invitation_id, VIA)


def test_the_server_texts_an_invitation_only_where_the_deployment_allows_it(
    make_runtime: Callable[..., Runtime], world: World
) -> None:
    owner = world.person("Owner")
    quiet_number, loud_number = world.new_phone(), world.new_phone()
    (quiet,) = world.book(owner, Invitee(quiet_number))[1]
    world.rt = make_runtime(invite_sms="on", invite_texts_per_number=1)
    (loud,) = world.book(owner, Invitee(loud_number))[1]
    assert (quiet.text_sent, loud.text_sent) == (False, True)
    assert world.sms.texts_to(quiet_number) == []
    (text,) = world.sms.texts_to(loud_number)
    assert loud.invite_url is not None
    assert loud.invite_url in text
