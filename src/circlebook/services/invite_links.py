"""Answering an invitation through its personal link, without an account.

The person proves the invited number with a code sent to that number itself,
then joins (and is signed in, with an account opened if the number had none),
declines, or stops every invitation to the number. A "no" creates nothing: no
account, no session, and the codes that proved it are forgotten with it.
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from datetime import datetime

from circlebook.domain.errors import (
    ConflictError,
    InvalidPhoneError,
    NotFoundError,
    RateLimitedError,
)
from circlebook.domain.model import Account, Entry, Invitation
from circlebook.domain.names import clean_name
from circlebook.phonebook.numbers import masked
from circlebook.services import auth, ledger, limits, reach
from circlebook.services.answers import join, tell_owner_declined
from circlebook.services.clock import parse_stamp, stamp
from circlebook.services.ids import is_wellformed
from circlebook.services.membership import owner_of
from circlebook.services.phones import normalize_phone
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Runtime

_GONE = "this invitation link no longer works: it was answered, withdrawn or has expired"


@dataclass(frozen=True, slots=True)
class LinkView:
    """What the link's page says: who invites, to what, and which number (masked)."""

    book_id: str
    book_title: str
    owner_name: str
    owner_phone: str
    phone_hint: str
    expires_at: str


@dataclass(frozen=True, slots=True)
class JoinedByLink:
    token: str
    account: Account
    entry: Entry


@dataclass(frozen=True, slots=True)
class Reminder:
    invitation_id: str
    invite_url: str
    invite_text: str
    text_sent: bool


def _find(rt: Runtime, uow: UnitOfWork, token: str) -> Invitation:
    invitation = (
        uow.invitations.by_link(reach.link_hash(rt.secret_key, token), stamp(rt.clock.now()))
        if reach.is_token_shape(token)
        else None
    )
    if invitation is None:
        raise NotFoundError(_GONE)
    return invitation


def view(rt: Runtime, token: str) -> LinkView:
    with rt.uow() as uow:
        invitation = _find(rt, uow, token)
        book = uow.books.get(invitation.book_id)
        owner = uow.entries.of_account(invitation.book_id, book.owner_id) if book else None
    if book is None or owner is None:  # pragma: no cover - an invitation goes with its book
        raise NotFoundError(_GONE)
    hint = masked(invitation.phone)
    return LinkView(book.id, book.title, owner.name, owner.phone, hint, invitation.expires_at)


def request_code(rt: Runtime, token: str, *, lang: str = "en", client: str | None = None) -> int:
    """Text a sign-in code to the invited number itself, under the sign-in limits."""
    with rt.uow() as uow:
        invitation = _find(rt, uow, token)
    return auth.request_code(rt, invitation.phone, lang=lang, client=client)


def accept(
    rt: Runtime,
    token: str,
    code: str,
    name: str | None = None,
    device: str = "invitation link",
    client: str | None = None,
) -> JoinedByLink:
    """Join the book and be signed in; the number's account is opened here if it had none."""
    auth.check_code_shape(code)
    chosen = clean_name(name) if name is not None else None
    device = clean_name(device, field="device")
    at = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        invitation = _find(rt, uow, token)
        auth.redeem_code(rt, uow, invitation.phone, code, client)
        account, _ = auth.find_or_open_account(uow, invitation.phone, chosen, at)
        entry = join(rt, uow, account, invitation.id, chosen)
        session = auth.start_session(uow, account, device, at)
        uow.commit()
    return JoinedByLink(session, account, entry)


def decline(rt: Runtime, token: str, code: str, client: str | None = None) -> None:
    """Say no without an account: the invitation goes, and nothing new is kept."""
    _answer_no(rt, token, code, client, stop=False)


def stop(rt: Runtime, token: str, code: str, client: str | None = None) -> None:
    """Say no, and never be invited again: the number goes on the do-not-invite list."""
    _answer_no(rt, token, code, client, stop=True)


def _answer_no(rt: Runtime, token: str, code: str, client: str | None, *, stop: bool) -> None:
    auth.check_code_shape(code)
    now = rt.clock.now()
    with rt.uow(write=True) as uow:
        invitation = _find(rt, uow, token)
        auth.redeem_code(rt, uow, invitation.phone, code, client)
        taken = uow.invitations.take(invitation.id, invitation.phone, stamp(now))
        if taken is None:  # answered by a racing request a moment ago
            raise NotFoundError(_GONE)
        tell_owner_declined(uow, taken, stamp(now))
        # Only a number with an account has a ledger to write to; a newcomer's no leaves none.
        ledger.declined(uow, taken, stamp(now))
        if stop:
            _opt_out(rt, uow, invitation.phone, now)
        if uow.accounts.by_phone(invitation.phone) is None:
            # The code did its work; a person without an account leaves no row behind.
            key = auth.phone_key(rt.secret_key, invitation.phone)
            uow.codes.forget(key)
            uow.counters.forget(limits.keys_of_number(key))
        uow.commit()


def _opt_out(rt: Runtime, uow: UnitOfWork, phone: str, now: datetime) -> None:
    """Put the number on the list and withdraw every invitation still waiting for it."""
    uow.do_not_invite.add(auth.phone_key(rt.secret_key, phone), stamp(now))
    for invitation in uow.invitations.take_all_for_phone(phone):
        tell_owner_declined(uow, invitation, stamp(now))
        ledger.declined(uow, invitation, stamp(now))


def opt_out_by_reply(rt: Runtime, sender: str, text: str) -> bool:
    """A reply to the server's text: a stop word opts the sender out; anything else is ignored."""
    if not reach.is_stop_reply(text):
        return False
    try:
        phone = normalize_phone(sender, rt.policy.region, field="from")
    except InvalidPhoneError:
        return False  # the provider sent something that is not a number: nothing to do
    with rt.uow(write=True) as uow:
        _opt_out(rt, uow, phone, rt.clock.now())
        uow.commit()
    return True


def is_opted_out(rt: Runtime, account: Account) -> bool:
    with rt.uow() as uow:
        return uow.do_not_invite.has(auth.phone_key(rt.secret_key, account.phone))


def set_opted_out(rt: Runtime, account: Account, opted_out: bool) -> None:
    """A signed-in person's switch: be invited again, or not any more."""
    with rt.uow(write=True) as uow:
        if opted_out:
            _opt_out(rt, uow, account.phone, rt.clock.now())
        else:
            uow.do_not_invite.remove(auth.phone_key(rt.secret_key, account.phone))
        uow.commit()


def remind(
    rt: Runtime, account: Account, book_id: str, invitation_id: str, via: reach.Reach
) -> Reminder:
    """The owner's one reminder, a day or more after the invitation."""
    now = rt.clock.now()
    with rt.uow(write=True) as uow:
        owner_of(uow, book_id, account)
        invitation = uow.invitations.get(invitation_id) if is_wellformed(invitation_id) else None
        live = invitation is not None and invitation.expires_at > stamp(now)
        if invitation is None or not live or invitation.book_id != book_id:
            raise NotFoundError("no such pending invitation")
        due = parse_stamp(invitation.created_at) + reach.REMIND_AFTER
        if now < due:
            raise RateLimitedError(
                "a reminder may go a day after the invitation",
                retry_after=max(1, math.ceil((due - now).total_seconds())),
            )
        if not uow.invitations.mark_reminded(invitation.id, stamp(now)):
            raise ConflictError("this invitation was already reminded once")
        book = uow.books.get(book_id)
        owner = uow.entries.of_account(book_id, account.id)
        assert book is not None  # owner_of found the owner, so the book
        assert owner is not None
        url, text = reach.link_and_text(rt.secret_key, invitation, book.title, owner.name, via)
        sent = reach.claim_text(rt, uow, invitation.phone, now)
        uow.commit()
    if sent:
        lang = reach.text_language(invitation.phone, via.lang)
        reach.send_after_commit(rt, [reach.Text(invitation.phone, reach.with_opt_out(text, lang))])
    return Reminder(invitation.id, url, text, sent)
