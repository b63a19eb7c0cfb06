"""The invitee's side of an invitation: the inbox, and the answer (accept or decline)."""

from __future__ import annotations

from concurrent.futures import Future
from dataclasses import dataclass

from circlebook.domain.errors import NotFoundError
from circlebook.domain.events import InvitationAccepted, InvitationDeclined
from circlebook.domain.model import Account, Book, Entry, Invitation, Role
from circlebook.domain.names import clean_name
from circlebook.services import dav_push, events, ledger
from circlebook.services.clock import stamp
from circlebook.services.ids import is_wellformed, new_id
from circlebook.services.membership import display_name
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Runtime

GONE = "no such invitation: it was answered, revoked or has expired"


@dataclass(frozen=True, slots=True)
class InboxItem:
    invitation: Invitation
    book: Book
    owner: Entry


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
    return accepting(rt, account, invitation_id, name).result()


def accepting(
    rt: Runtime, account: Account, invitation_id: str, name: str | None = None
) -> Future[Entry]:
    """`accept` up to the commit, which the caller may wait for or await: its future entry.

    A link that is gone, expired or meant for another number raises here.
    """
    chosen = clean_name(name) if name is not None else None
    if not is_wellformed(invitation_id):
        raise NotFoundError(GONE)
    # Read first, with no lock held: a link that is gone, expired or meant for
    # another number is answered without waiting for the book's writers.
    with rt.uow() as uow:
        invitation = uow.invitations.get(invitation_id)
        if invitation is None or invitation.phone != account.phone:
            done: Future[Entry] = Future()
            done.set_result(already_joined(uow, account, invitation_id))
            return done
    # Accepts into one book arriving together share a commit; join checks again.
    return rt.group_commit.submit(
        invitation.book_id, lambda uow: join(rt, uow, account, invitation_id, chosen)
    )


def join(
    rt: Runtime, uow: UnitOfWork, account: Account, invitation_id: str, chosen: str | None
) -> Entry:
    """Inside the caller's unit of work: take the invitation and make the member's entry."""
    # One moment for all of it, written once: the entry, the ledger and the events agree.
    at = stamp(rt.clock.now())
    invitation = uow.invitations.take(invitation_id, account.phone, at)
    if invitation is None:
        return already_joined(uow, account, invitation_id)
    existing = uow.entries.of_account(invitation.book_id, account.id)
    if existing is not None:
        return existing
    # The book's row is locked from here to commit: everything above only read.
    book = uow.books.advance(invitation.book_id, at)
    version = book.version
    entry = Entry(
        id=new_id("e"),
        book_id=invitation.book_id,
        account_id=account.id,
        phone=account.phone,
        name=chosen or invitation.name or display_name(account),
        tags=invitation.tags,
        role=Role.MEMBER,
        created_at=at,
        updated_at=at,
        version=version,
        tags_version=version,
    )
    uow.entries.add(entry, invitation_id=invitation.id)
    ledger.accepted(uow, book, entry, at)
    uow.events.add(
        InvitationAccepted(
            account_id=book.owner_id,
            invitation_id=invitation.id,
            book_id=book.id,
            entry_id=entry.id,
            created_at=at,
        )
    )
    events.book_changed(rt, uow, book.id, version, at, entry, new_tags=entry.tags)
    dav_push.homes_changed(uow, [account.id], at)
    return entry


def already_joined(uow: UnitOfWork, account: Account, invitation_id: str) -> Entry:
    """The entry this invitation made for the caller, if it was already accepted: an accept
    that is asked again (a retry, a second tab) gets the same entry, not an error."""
    done = uow.entries.by_invitation(invitation_id)
    if done is not None and done.account_id == account.id:
        return done
    raise NotFoundError(GONE)


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
            raise NotFoundError(GONE)
        tell_owner_declined(uow, invitation, now)
        ledger.declined(uow, invitation, now)
        uow.commit()


def tell_owner_declined(uow: UnitOfWork, invitation: Invitation, now: str) -> None:
    book = uow.books.get(invitation.book_id)
    if book is not None:
        events.about_invitation(uow, InvitationDeclined, book.owner_id, invitation, now)
