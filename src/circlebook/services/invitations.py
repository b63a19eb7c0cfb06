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
)
from circlebook.domain.events import EventType
from circlebook.domain.model import Account, Book, Entry, Invitation, Role
from circlebook.domain.names import clean_name
from circlebook.domain.tags import normalize_tags
from circlebook.services import events
from circlebook.services.clock import stamp
from circlebook.services.ids import is_wellformed, new_id
from circlebook.services.membership import display_name, owner_of
from circlebook.services.phones import normalize_phone, region_of
from circlebook.services.ports import Policy, Runtime, UnitOfWork


class Status(StrEnum):
    INVITED = "invited"
    ALREADY_MEMBER = "already_member"
    ALREADY_INVITED = "already_invited"
    INVALID = "invalid"


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


@dataclass(frozen=True, slots=True)
class InboxItem:
    invitation: Invitation
    book: Book
    owner: Entry


def reading_region(rt: Runtime, account: Account, region: str | None) -> str:
    """Where to read numbers typed without a country code: as asked, else the caller's own."""
    return region or region_of(account.phone) or rt.policy.region


def invite_into(
    uow: UnitOfWork,
    book: Book,
    owner: Account,
    invitees: Sequence[Invitee],
    region: str,
    now: datetime,
    policy: Policy,
) -> list[Outcome]:
    """Create invitations for a book inside the caller's unit of work; one outcome each."""
    uow.invitations.purge_expired(stamp(now))
    members = uow.entries.phones(book.id)
    invited = uow.invitations.phones(book.id, stamp(now))
    outcomes: list[Outcome] = []
    fresh: list[Invitation] = []
    expires = stamp(now + timedelta(days=policy.invitation_ttl_days))
    for i, invitee in enumerate(invitees):
        try:
            phone = normalize_phone(invitee.phone, region, field=f"invitees[{i}].phone")
            name = clean_name(invitee.name, field=f"invitees[{i}].name") if invitee.name else None
            tags = normalize_tags(invitee.tags, field=f"invitees[{i}].tags")
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
            invitation = Invitation(
                new_id("i"), book.id, phone, name, tags, owner.id, stamp(now), expires
            )
            fresh.append(invitation)
            invited.add(phone)
            outcomes.append(Outcome(invitee.phone, Status.INVITED, phone, invitation.id))
    _spend_quota(uow, owner, len(fresh), now, policy)
    for invitation in fresh:
        uow.invitations.add(invitation)
        known = uow.accounts.by_phone(invitation.phone)
        if known is not None:
            events.invitation_received(uow, invitation, known.id, stamp(now))
    return outcomes


def _spend_quota(
    uow: UnitOfWork, owner: Account, count: int, now: datetime, policy: Policy
) -> None:
    if not count:
        return
    day = now.strftime("%Y-%m-%d")
    used = uow.invite_quota.used(owner.id, day)
    if used + count > policy.invites_per_day:
        midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
        raise RateLimitedError(
            f"an owner may send {policy.invites_per_day} invitations a day; "
            f"{max(0, policy.invites_per_day - used)} are left today",
            retry_after=max(1, math.ceil((midnight - now).total_seconds())),
        )
    uow.invite_quota.spend(owner.id, day, count)


def invite(
    rt: Runtime,
    account: Account,
    book_id: str,
    invitees: Sequence[Invitee],
    region: str | None = None,
) -> list[Outcome]:
    now = rt.clock.now()
    with rt.uow(write=True) as uow:
        owner_of(uow, book_id, account)
        book = uow.books.get(book_id)
        if book is None:  # pragma: no cover - the owner's entry implies the book
            raise NotFoundError("no such book")
        outcomes = invite_into(
            uow, book, account, invitees, reading_region(rt, account, region), now, rt.policy
        )
        uow.commit()
    return outcomes


def pending_for_book(rt: Runtime, account: Account, book_id: str) -> list[Invitation]:
    with rt.uow() as uow:
        owner_of(uow, book_id, account)
        return uow.invitations.pending_for_book(book_id, stamp(rt.clock.now()))


def revoke(rt: Runtime, account: Account, book_id: str, invitation_id: str) -> None:
    with rt.uow(write=True) as uow:
        owner_of(uow, book_id, account)
        invitation = uow.invitations.get(invitation_id) if is_wellformed(invitation_id) else None
        if invitation is None or not uow.invitations.remove(book_id, invitation_id):
            raise NotFoundError("no such pending invitation")
        invitee = uow.accounts.by_phone(invitation.phone)
        if invitee is not None:
            events.to_account(
                uow,
                EventType.INVITATION_REVOKED,
                invitee.id,
                stamp(rt.clock.now()),
                invitation_id=invitation_id,
                book_id=book_id,
            )
        uow.commit()


def inbox(rt: Runtime, account: Account) -> list[InboxItem]:
    """Pending invitations to the caller's phone, including those sent before it signed up."""
    items = []
    with rt.uow() as uow:
        for invitation in uow.invitations.pending_for_phone(account.phone, stamp(rt.clock.now())):
            book = uow.books.get(invitation.book_id)
            owner = uow.entries.of_account(invitation.book_id, book.owner_id) if book else None
            if book is not None and owner is not None:
                items.append(InboxItem(invitation, book, owner))
    return items


def accept(rt: Runtime, account: Account, invitation_id: str, name: str | None = None) -> Entry:
    """Join the book: exactly one entry, however often or concurrently this is called."""
    chosen = clean_name(name) if name is not None else None
    now = rt.clock.now()
    if not is_wellformed(invitation_id):
        raise NotFoundError("no such invitation: it was answered, revoked or has expired")
    with rt.uow(write=True) as uow:
        invitation = uow.invitations.take(invitation_id, account.phone, stamp(now))
        if invitation is None:
            done = uow.entries.by_invitation(invitation_id)
            if done is not None and done.account_id == account.id:
                return done
            raise NotFoundError("no such invitation: it was answered, revoked or has expired")
        existing = uow.entries.of_account(invitation.book_id, account.id)
        if existing is not None:
            uow.commit()
            return existing
        version = uow.books.bump(invitation.book_id, stamp(now))
        entry = Entry(
            id=new_id("e"),
            book_id=invitation.book_id,
            account_id=account.id,
            phone=account.phone,
            name=chosen or invitation.name or display_name(account),
            tags=invitation.tags,
            role=Role.MEMBER,
            created_at=stamp(now),
            updated_at=stamp(now),
            version=version,
            tags_version=version,
        )
        uow.entries.add(entry, invitation_id=invitation.id)
        book = uow.books.get(invitation.book_id)
        assert book is not None  # its row was just locked by bump()
        at = stamp(now)
        events.to_account(
            uow,
            EventType.INVITATION_ACCEPTED,
            book.owner_id,
            at,
            invitation_id=invitation.id,
            book_id=book.id,
            entry_id=entry.id,
        )
        events.book_changed(rt, uow, book.id, version, at, entry, new_tags=entry.tags)
        uow.commit()
    return entry


def decline(rt: Runtime, account: Account, invitation_id: str) -> None:
    """Say no: the invitation, with the phone and name it held, is deleted outright."""
    now = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        invitation = (
            uow.invitations.take(invitation_id, account.phone, now)
            if is_wellformed(invitation_id)
            else None
        )
        if invitation is None:
            raise NotFoundError("no such invitation: it was answered, revoked or has expired")
        book = uow.books.get(invitation.book_id)
        if book is not None:
            events.to_account(
                uow,
                EventType.INVITATION_DECLINED,
                book.owner_id,
                now,
                invitation_id=invitation.id,
                book_id=book.id,
            )
        uow.commit()
