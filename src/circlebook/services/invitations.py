"""Inviting people by phone, and their answer: accept or decline."""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from enum import StrEnum

from circlebook.domain.errors import (
    CirclebookError,
    NotFoundError,
    RateLimitedError,
    TooManyInviteesError,
)
from circlebook.domain.events import InvitationRevoked
from circlebook.domain.model import Account, Book, Invitation
from circlebook.domain.names import clean_name
from circlebook.domain.tags import normalize_tags
from circlebook.phonebook.numbers import region_of
from circlebook.services import events, ledger, reach
from circlebook.services.auth import phone_key
from circlebook.services.clock import stamp
from circlebook.services.ids import is_wellformed, new_id
from circlebook.services.membership import owner_in, owner_of
from circlebook.services.phones import normalize_phone
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Policy, Runtime


class Status(StrEnum):
    INVITED = "invited"
    ALREADY_MEMBER = "already_member"
    ALREADY_INVITED = "already_invited"
    INVALID = "invalid"
    # The number asked never to be invited again: no invitation, no text.
    OPTED_OUT = "opted_out"


@dataclass(frozen=True, slots=True)
class Invitee:
    """One person the owner picked from a local address book."""

    phone: str
    name: str | None = None
    tags: Sequence[str] = ()


@dataclass(frozen=True, slots=True)
class Outcome:
    input: str
    status: Status
    phone: str | None = None
    invitation_id: str | None = None
    reason: str | None = None
    field: str | None = None
    # For an invitation made: its personal link, a ready message, and whether the
    # server texted it (only where the deployment turned its own texts on).
    invite_url: str | None = None
    invite_text: str | None = None
    text_sent: bool | None = None


@dataclass(frozen=True, slots=True)
class Invited:
    """What inviting made: an outcome per invitee, and the texts to send once committed."""

    outcomes: list[Outcome]
    texts: list[reach.Text]


def reading_region(rt: Runtime, account: Account, region: str | None) -> str:
    """Where to read numbers typed without a country code: as asked, else the caller's own."""
    return region or region_of(account.phone) or rt.policy.region


def invite_into(
    rt: Runtime,
    uow: UnitOfWork,
    book: Book,
    owner: Account,
    invitees: Sequence[Invitee],
    region: str,
    via: reach.Reach,
    owner_name: str,
) -> Invited:
    """Create invitations for a book inside the caller's unit of work; one outcome each.

    Every way of inviting comes through here, so here the size of a request is bounded."""
    check_invitee_count(rt, invitees)
    now = rt.clock.now()
    # Counted as deleted, before this unit of work commits: it fails only if the request does.
    rt.tally.invitations_ended("expired", purge_expired(uow, now))
    members = uow.entries.phones(book.id)
    invited = uow.invitations.phones(book.id, stamp(now))
    expires = stamp(now + timedelta(days=rt.policy.invitation_ttl_days))
    outcomes: list[Outcome | Invitation] = []
    for i, invitee in enumerate(invitees):
        try:
            phone, name, tags = _read_invitee(i, invitee, region)
        except CirclebookError as exc:
            outcomes.append(
                Outcome(invitee.phone, Status.INVALID, reason=exc.detail, field=exc.field)
            )
            continue
        if phone in members:
            outcomes.append(Outcome(invitee.phone, Status.ALREADY_MEMBER, phone))
        elif phone in invited:
            outcomes.append(Outcome(invitee.phone, Status.ALREADY_INVITED, phone))
        else:
            outcomes.append(
                Invitation(new_id("i"), book.id, phone, name, tags, owner.id, stamp(now), expires)
            )
            invited.add(phone)
    _drop_opted_out(rt, uow, outcomes, invitees)
    fresh = [o for o in outcomes if isinstance(o, Invitation)]
    _spend_quota(uow, owner, len(fresh), now, rt.policy)
    texts: list[reach.Text] = []
    done: list[Outcome] = []
    for i, item in enumerate(outcomes):
        if isinstance(item, Outcome):
            done.append(item)
            continue
        done.append(_ask(rt, uow, item, invitees[i].phone, book, via, owner_name, texts))
    return Invited(done, texts)


def _read_invitee(i: int, invitee: Invitee, region: str) -> tuple[str, str | None, frozenset[str]]:
    """The invitee's number, name and tags as stored; errors name the invitee's place."""
    phone = normalize_phone(invitee.phone, region, field=f"invitees[{i}].phone")
    name = clean_name(invitee.name, field=f"invitees[{i}].name") if invitee.name else None
    return phone, name, normalize_tags(invitee.tags, field=f"invitees[{i}].tags")


def _drop_opted_out(
    rt: Runtime,
    uow: UnitOfWork,
    outcomes: list[Outcome | Invitation],
    invitees: Sequence[Invitee],
) -> None:
    """Numbers on the do-not-invite list get no invitation, from anyone."""
    keys = {
        phone_key(rt.secret_key, o.phone): i
        for i, o in enumerate(outcomes)
        if isinstance(o, Invitation)
    }
    for key in uow.do_not_invite.hashes_among(set(keys)):
        i = keys[key]
        outcomes[i] = Outcome(invitees[i].phone, Status.OPTED_OUT, outcomes[i].phone)


def _ask(
    rt: Runtime,
    uow: UnitOfWork,
    invitation: Invitation,
    raw: str,
    book: Book,
    via: reach.Reach,
    owner_name: str,
    texts: list[reach.Text],
) -> Outcome:
    """Store one invitation with its link; tell the invitee's account, or queue a text."""
    now = rt.clock.now()
    token = reach.link_token(rt.secret_key, invitation.id)
    uow.invitations.add(invitation, reach.link_hash(rt.secret_key, token))
    known = uow.accounts.by_phone(invitation.phone)
    if known is not None:
        events.invitation_received(uow, invitation, known.id, stamp(now))
        ledger.invited(uow, known.id, invitation, book, stamp(now))
    url, text = reach.link_and_text(rt.secret_key, invitation, book.title, owner_name, via)
    sent = reach.claim_text(rt, uow, invitation.phone, now)
    if sent:
        lang = reach.text_language(invitation.phone, via.lang)
        texts.append(reach.Text(invitation.phone, reach.with_opt_out(text, lang)))
    return Outcome(
        raw,
        Status.INVITED,
        invitation.phone,
        invitation.id,
        invite_url=url,
        invite_text=text,
        text_sent=sent,
    )


def _spend_quota(
    uow: UnitOfWork, owner: Account, count: int, now: datetime, policy: Policy
) -> None:
    if not count:
        return
    day = now.strftime("%Y-%m-%d")
    # One atomic claim: concurrent requests of one owner cannot both take the last ones.
    if not uow.invite_quota.claim(owner.id, day, count, policy.invites_per_day):
        used = uow.invite_quota.used(owner.id, day)
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        raise RateLimitedError(
            f"an owner may send {policy.invites_per_day} invitations a day; "
            f"{max(0, policy.invites_per_day - used)} are left today",
            retry_after=max(1, math.ceil((midnight - now).total_seconds())),
        )


def invite(
    rt: Runtime,
    account: Account,
    book_id: str,
    invitees: Sequence[Invitee],
    via: reach.Reach,
    region: str | None = None,
) -> list[Outcome]:
    check_invitee_count(rt, invitees)  # again in invite_into; here before the write lock
    with rt.uow(write=True) as uow:
        owner_of(uow, book_id, account)
        book = uow.books.get(book_id)
        owner = uow.entries.of_account(book_id, account.id)
        if book is None or owner is None:  # pragma: no cover - the owner's entry implies both
            raise NotFoundError("no such book")
        invited = invite_into(
            rt,
            uow,
            book,
            account,
            invitees,
            reading_region(rt, account, region),
            via,
            owner.name,
        )
        uow.commit()
    reach.send_after_commit(rt, invited.texts)
    return invited.outcomes


def check_invitee_count(rt: Runtime, invitees: Sequence[Invitee]) -> None:
    limit = rt.policy.max_invitees_per_request
    if len(invitees) > limit:
        raise TooManyInviteesError(limit)


@dataclass(frozen=True, slots=True)
class Pending:
    """An invitation waiting for its answer, with the link the owner can send again."""

    invitation: Invitation
    invite_url: str
    invite_text: str


def pending_for_book(
    rt: Runtime, account: Account, book_id: str, via: reach.Reach
) -> list[Pending]:
    with rt.uow() as uow:
        _, owner = owner_in(uow, book_id, account)
        book = uow.books.get(book_id)
        assert book is not None  # owner_in found the owner, so the book
        waiting = uow.invitations.pending_for_book(book_id, stamp(rt.clock.now()))
    return shown_pending(rt, waiting, book.title, owner.name, via)


def shown_pending(
    rt: Runtime, waiting: Sequence[Invitation], title: str, owner_name: str, via: reach.Reach
) -> list[Pending]:
    """Pending invitations as the owner sees them: each with its link and the text to send."""
    return [
        Pending(i, *reach.link_and_text(rt.secret_key, i, title, owner_name, via)) for i in waiting
    ]


def revoke(rt: Runtime, account: Account, book_id: str, invitation_id: str) -> None:
    with rt.uow(write=True) as uow:
        owner_of(uow, book_id, account)
        invitation = uow.invitations.get(invitation_id) if is_wellformed(invitation_id) else None
        if invitation is None or not uow.invitations.remove(book_id, invitation_id):
            raise NotFoundError("no such pending invitation")
        tell_invitee_revoked(uow, invitation, stamp(rt.clock.now()))
        uow.commit()
    rt.tally.invitations_ended("withdrawn")


def tell_invitee_revoked(uow: UnitOfWork, invitation: Invitation, now: str) -> None:
    """The invitee's account, if the number has one, hears the invitation is withdrawn."""
    invitee = uow.accounts.by_phone(invitation.phone)
    if invitee is not None:
        events.about_invitation(uow, InvitationRevoked, invitee.id, invitation, now)
        ledger.withdrawn(uow, invitee.id, invitation, now)


def purge_expired(uow: UnitOfWork, now: datetime) -> int:
    """Delete expired invitations, and the notices that told their invitees of them; how many."""
    gone = uow.invitations.purge_expired(stamp(now))
    if gone:
        uow.events.forget_invitations(gone)
    return len(gone)


def prune(rt: Runtime) -> None:
    """The sweep's share: expired invitations go even if their owners never invite again,
    and so do the daily invitation counts of days before yesterday (only today's is checked)."""
    now = rt.clock.now()
    with rt.uow(write=True) as uow:
        expired = purge_expired(uow, now)
        uow.invite_quota.purge_before((now - timedelta(days=1)).strftime("%Y-%m-%d"))
        uow.commit()
    rt.tally.invitations_ended("expired", expired)
