"""Finding the caller's place in a book: the one access check every book use case starts with."""

from __future__ import annotations

from circlebook.domain.errors import ForbiddenError, NotFoundError
from circlebook.domain.model import Account, Book, Entry, Role
from circlebook.domain.sync import as_seen, seen_version
from circlebook.domain.visibility import Viewer
from circlebook.services.ids import is_wellformed
from circlebook.services.ports import UnitOfWork


def viewer_in(uow: UnitOfWork, book_id: str, account: Account) -> tuple[Viewer, Entry]:
    """The caller as a viewer of the book; a non-member learns nothing, not even that it exists."""
    entry = uow.entries.of_account(book_id, account.id) if is_wellformed(book_id) else None
    if entry is None:
        raise NotFoundError("no such book")
    return Viewer.of(entry), entry


def view_version(uow: UnitOfWork, book_id: str, me: Entry) -> int | None:
    """The version of `me`'s view of the book: what its sync token stands for."""
    mark = None if me.role is Role.OWNER else uow.views.of(book_id, me.tags)
    return uow.books.version(book_id) if mark is None else seen_version(me, mark)


def book_seen(uow: UnitOfWork, book_id: str, me: Entry) -> Book:
    """The book as `me` sees it (domain.sync.as_seen); `me`'s entry implies its book."""
    book = uow.books.get(book_id)
    assert book is not None  # the caller's entry implies its book
    return as_seen(book, me, None if me.role is Role.OWNER else uow.views.of(book_id, me.tags))


def owner_in(uow: UnitOfWork, book_id: str, account: Account) -> tuple[Viewer, Entry]:
    """`viewer_in`, for what only the book's owner may do."""
    viewer, me = viewer_in(uow, book_id, account)
    if not viewer.is_owner:
        raise ForbiddenError("only the book's owner may do this")
    return viewer, me


def owner_of(uow: UnitOfWork, book_id: str, account: Account) -> Viewer:
    return owner_in(uow, book_id, account)[0]


def display_name(account: Account) -> str:
    """The name an account goes by where it gave none: its number."""
    return account.name or account.phone
