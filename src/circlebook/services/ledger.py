"""The consent ledger: what happened to each account's consent, written with the change itself.

Each function here records inside the caller's unit of work, so a record exists
exactly when its change was committed. Callers append after they lock the book's
row (by bumping its version), as they record events: the ledger's lock is always
the second one taken, so two changes never wait on each other. A record names only the book (id and
title) and the account's own entry (no invitation id either: an invitation that
expires leaves no trace anywhere); another person appears as their entry id in
that book and their role, never by number, name or account id. Entry ids are
random and mean nothing once that entry is gone, so erasing one person leaves
every other person's chain as it was, and verifying.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any

from circlebook.domain.errors import InvalidInputError
from circlebook.domain.model import Account, Book, Entry, Invitation, Role
from circlebook.domain.numbers import whole_number
from circlebook.hashchain import Kind, Record
from circlebook.services.ids import new_id
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Runtime

DEFAULT_PAGE = 50
MAX_PAGE = 200
# seq is a 32-bit column: an `after` beyond it asks for the newest records.
_MAX_SEQ = 2**31 - 1


def _book(book: Book, title: str | None = None) -> dict[str, str]:
    return {"id": book.id, "title": title if title is not None else book.title}


def _ref(entry: Entry | None, role: Role | None = None) -> dict[str, str] | None:
    """Another person, as their place in the book: meaningless once that entry is gone."""
    if entry is None:
        return None
    return {"entry_id": entry.id, "role": (role or entry.role).value}


def _append(uow: UnitOfWork, account_id: str, kind: Kind, at: str, **fields: Any) -> None:
    uow.ledger.append(new_id("l"), account_id, kind.value, at, fields)


def invited(uow: UnitOfWork, account_id: str, invitation: Invitation, book: Book, at: str) -> None:
    """The account's number was invited (now, or before the account was opened)."""
    inviter = uow.entries.of_account(book.id, invitation.invited_by)
    _append(
        uow,
        account_id,
        Kind.INVITED,
        at,
        book=_book(book),
        by=_ref(inviter),
        tags=sorted(invitation.tags),
        invited_at=invitation.created_at,
    )


def accepted(uow: UnitOfWork, book: Book, entry: Entry, at: str) -> None:
    _append(
        uow,
        entry.account_id,
        Kind.ACCEPTED,
        at,
        book=_book(book),
        entry_id=entry.id,
        tags=sorted(entry.tags),
    )


def declined(uow: UnitOfWork, invitation: Invitation, at: str) -> None:
    """The number said no. A number without an account keeps no ledger: nothing is written."""
    account = uow.accounts.by_phone(invitation.phone)
    book = uow.books.get(invitation.book_id)
    if account is None or book is None:
        return
    _append(uow, account.id, Kind.DECLINED, at, book=_book(book))


def withdrawn(uow: UnitOfWork, account_id: str, invitation: Invitation, at: str) -> None:
    """An invitation the account had not answered was revoked: it is no longer asked."""
    book = uow.books.get(invitation.book_id)
    if book is None:
        return
    _append(uow, account_id, Kind.WITHDRAWN, at, book=_book(book))


def departed(uow: UnitOfWork, entry: Entry, by: Entry, at: str) -> None:
    """The entry left its book: by its own choice (`left`) or the owner's (`removed`)."""
    book = uow.books.get(entry.book_id)
    if book is None:  # pragma: no cover - an entry implies its book
        return
    if by.account_id == entry.account_id:
        _append(uow, entry.account_id, Kind.LEFT, at, book=_book(book), entry_id=entry.id)
    else:
        _append(
            uow,
            entry.account_id,
            Kind.REMOVED,
            at,
            book=_book(book),
            entry_id=entry.id,
            by=_ref(by),
        )


def retagged(
    uow: UnitOfWork, entry: Entry, old: frozenset[str], new: frozenset[str], by: Entry, at: str
) -> None:
    """The owner changed which members the entry is shared with."""
    _about_entry(uow, entry, Kind.RETAGGED, by, at, old_tags=sorted(old), new_tags=sorted(new))


def entry_renamed(uow: UnitOfWork, entry: Entry, new_name: str, by: Entry, at: str) -> None:
    """The name the account is shown by in a book changed (its own name: no one else's)."""
    _about_entry(uow, entry, Kind.RENAMED, by, at, old_name=entry.name, new_name=new_name)


def _about_entry(
    uow: UnitOfWork, entry: Entry, kind: Kind, by: Entry, at: str, **fields: Any
) -> None:
    """A record in the entry's own account's ledger of a change to that entry."""
    book = uow.books.get(entry.book_id)
    if book is None:  # pragma: no cover - an entry implies its book
        return
    _append(
        uow, entry.account_id, kind, at, book=_book(book), entry_id=entry.id, by=_ref(by), **fields
    )


def _members(uow: UnitOfWork, book_id: str) -> list[str]:
    # Sorted: every book-wide write appends to its members in one order.
    return sorted(uow.entries.account_ids(book_id))


def renamed(uow: UnitOfWork, book: Book, new_title: str, by: Entry, at: str) -> None:
    """The book every member agreed to join now goes by another title: each member hears."""
    for member in _members(uow, book.id):
        _append(
            uow,
            member,
            Kind.RENAMED,
            at,
            book=_book(book, new_title),
            old_title=book.title,
            new_title=new_title,
            by=_ref(by),
        )


def dissolved(uow: UnitOfWork, book: Book, at: str) -> None:
    """Before the book goes: each member, the owner too, records that it ended; an
    account still asked to join records that it no longer is."""
    owner = uow.entries.of_account(book.id, book.owner_id)
    for member in _members(uow, book.id):
        _append(uow, member, Kind.BOOK_DISSOLVED, at, book=_book(book), by=_ref(owner))
    for invitation in uow.invitations.pending_for_book(book.id, at):
        invitee = uow.accounts.by_phone(invitation.phone)
        if invitee is not None:
            _append(uow, invitee.id, Kind.WITHDRAWN, at, book=_book(book))


def owner_changed(uow: UnitOfWork, book: Book, old_owner: Entry, new_owner: Entry, at: str) -> None:
    """The book was handed on; `to` and `from` carry the roles they hold from now on."""
    for member in _members(uow, book.id):
        _append(
            uow,
            member,
            Kind.OWNER_CHANGED,
            at,
            book=_book(book),
            to=_ref(new_owner, Role.OWNER),
            **{"from": _ref(old_owner, Role.MEMBER)},
        )


def invited_before_opening(
    uow: UnitOfWork, account_id: str, waiting: Iterable[Invitation], at: str
) -> None:
    """A new account's ledger begins with the invitations that were waiting for its number."""
    for invitation in waiting:
        book = uow.books.get(invitation.book_id)
        if book is not None:
            invited(uow, account_id, invitation, book, at)


@dataclass(frozen=True, slots=True)
class Page:
    records: list[Record]
    # The `after` that asks for the next, older, page; None when this one reaches seq 1.
    next_after: int | None


def _read(text: str | None, name: str, default: int | None, low: int, high: int) -> int | None:
    if text is None:
        return default
    number = whole_number(text)
    if number is None or number < low or number > high:
        raise InvalidInputError(f"{name} is a whole number from {low} to {high}", field=name)
    return number


def page(rt: Runtime, account: Account, after: str | None, limit: str | None) -> Page:
    """The caller's own records, newest first, older than seq `after` if given."""
    size = _read(limit, "limit", DEFAULT_PAGE, 1, MAX_PAGE)
    before = _read(after, "after", None, 1, 10**18)
    assert size is not None
    with rt.uow() as uow:
        records = uow.ledger.page(
            account.id, None if before is None else min(before, _MAX_SEQ), size
        )
    oldest = records[-1]["seq"] if records else None
    return Page(records, oldest if oldest is not None and oldest > 1 else None)


def whole_chain(rt: Runtime, account: Account) -> list[Record]:
    with rt.uow() as uow:
        return uow.ledger.all(account.id)
