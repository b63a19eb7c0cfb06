"""The event stream's use cases: recording what happened, and what a subscriber may hear."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from circlebook.domain.events import (
    BookChanged,
    Event,
    InvitationEvent,
    InvitationReceived,
    kinds_concerned,
)
from circlebook.domain.model import Account, Entry, Invitation, Role
from circlebook.domain.visibility import Viewer
from circlebook.services import sync_tokens
from circlebook.services.clock import stamp
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Runtime

# Past this, a terminal that reconnects is told to resync instead of replayed.
RETENTION = timedelta(days=7)


def book_changed(
    rt: Runtime,
    uow: UnitOfWork,
    book_id: str,
    version: int,
    at: str,
    subject: Entry | None = None,
    *,
    old_tags: frozenset[str] | None = None,
    new_tags: frozenset[str] | None = None,
) -> None:
    """Record that a book changed; `subject` is the entry that did (None: all of it),
    and move the views of the members who can see the change.

    The owner's entry is seen by everyone, so a change to it leaves the tags
    out and concerns every member, like a change to the book itself.
    """
    if subject is not None and subject.role is Role.OWNER:
        old_tags = new_tags = None
    event = BookChanged(
        book_id=book_id,
        sync_token=sync_tokens.issue(rt.secret_key, book_id, version),
        subject_id=subject.account_id if subject is not None else None,
        old_tags=old_tags,
        new_tags=new_tags,
        created_at=at,
        version=version,
    )
    uow.events.add(event)
    # The views this change moves, by the rule that decides who hears of it: so a
    # member's token moves exactly when it is told of a change. The kind the
    # subject now belongs to is kept from here on, if it was not already.
    moved = kinds_concerned(uow.views.kinds(book_id), event)
    if new_tags is not None:
        moved.append(new_tags)
    uow.views.advance(book_id, moved, version, at)


def about_invitation(
    uow: UnitOfWork,
    kind: type[InvitationEvent],
    account_id: str,
    invitation: Invitation,
    at: str,
) -> None:
    """Tell one account something of an invitation: every such event names it and its book."""
    uow.events.add(
        kind(
            account_id=account_id,
            invitation_id=invitation.id,
            book_id=invitation.book_id,
            created_at=at,
        )
    )


def invitation_received(uow: UnitOfWork, invitation: Invitation, account_id: str, at: str) -> None:
    about_invitation(uow, InvitationReceived, account_id, invitation, at)


@dataclass(frozen=True, slots=True)
class Subscription:
    """Who listens: the account, its place in each of its books, and where the log stands."""

    account: Account
    viewers: dict[str, Viewer]
    last_id: int


def subscribe(rt: Runtime, account: Account) -> Subscription:
    with rt.uow() as uow:
        memberships = uow.books.memberships(account.id)
        last = uow.events.last_id()
    return Subscription(account, {b.id: Viewer.of(e) for b, e in memberships}, last)


def viewer_of(rt: Runtime, account: Account, book_id: str) -> Viewer | None:
    """The account's current place in a book, after an event that may have changed it."""
    with rt.uow() as uow:
        entry = uow.entries.of_account(book_id, account.id)
    return Viewer.of(entry) if entry else None


def missed(rt: Runtime, account: Account, after: int, book_ids: list[str]) -> list[Event] | None:
    """Events after `after` for this account and its books; None when the log no longer has them."""
    with rt.uow() as uow:
        first = uow.events.first_id()
        if first is not None and after < first - 1:
            return None
        return uow.events.after(after, account.id, book_ids)


def prune(rt: Runtime) -> None:
    with rt.uow(write=True) as uow:
        uow.events.prune_before(stamp(rt.clock.now() - RETENTION))
        uow.commit()
