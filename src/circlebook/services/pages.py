"""What one page shows, read in one unit of work.

A page read in several transactions could show a book at two moments (a header
counting an entry its list lacks); one read sees one state, and costs one
connection and one snapshot instead of three.
"""

from __future__ import annotations

from dataclasses import dataclass

from circlebook.domain.model import Account
from circlebook.services import reach
from circlebook.services.books import BookSummary, summarise
from circlebook.services.clock import stamp
from circlebook.services.entries import VisibleEntry, visible_entries
from circlebook.services.invitations import Pending, shown_pending
from circlebook.services.membership import book_seen, owner_in, viewer_in
from circlebook.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class BookPage:
    """A book as one member sees it: the header and every entry it may see."""

    summary: BookSummary
    entries: list[VisibleEntry]


@dataclass(frozen=True, slots=True)
class ManagePage:
    """The owner's page of a book: the header, every member, the invitations still waiting."""

    summary: BookSummary
    members: list[VisibleEntry]
    pending: list[Pending]


def book_page(rt: Runtime, account: Account, book_id: str) -> BookPage:
    """The caller's book page; a non-member gets the same 404 as for the book."""
    with rt.uow() as uow:
        viewer, me = viewer_in(uow, book_id, account)
        # The header (and its sync token) is read before the rows: a change landing
        # in between is then sent again at the next sync, never skipped.
        book = book_seen(uow, book_id, me)
        rows = uow.entries.rows(book_id)
    seen = visible_entries(viewer, rows)
    # The rows are read for the list anyway, so they are the count too.
    return BookPage(summarise(rt, book, me, len(seen)), seen)


def manage_page(rt: Runtime, account: Account, book_id: str, via: reach.Reach) -> ManagePage:
    """The owner's page of a book; anyone else is refused (a non-member with a 404)."""
    with rt.uow() as uow:
        viewer, me = owner_in(uow, book_id, account)
        book = book_seen(uow, book_id, me)
        rows = uow.entries.rows(book_id)
        waiting = uow.invitations.pending_for_book(book_id, stamp(rt.clock.now()))
    members = visible_entries(viewer, rows)
    pending = shown_pending(rt, waiting, book.title, me.name, via)
    return ManagePage(summarise(rt, book, me, len(members)), members, pending)
