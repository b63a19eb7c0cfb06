"""Books: create one with its first invitations, list, read, rename, dissolve."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace

from circlebook.domain.errors import ConflictError, NotFoundError
from circlebook.domain.events import BookLeft, BookOwnerChanged
from circlebook.domain.model import Account, Book, Entry, Role
from circlebook.domain.names import clean_name, clean_title
from circlebook.domain.sync import as_seen
from circlebook.domain.visibility import Viewer
from circlebook.services import dav_push, events, ledger, reach, sync_tokens
from circlebook.services.clock import stamp
from circlebook.services.ids import is_wellformed, new_book_id, new_id
from circlebook.services.invitations import (
    Invitee,
    Outcome,
    check_invitee_count,
    invite_into,
    reading_region,
)
from circlebook.services.membership import (
    book_seen,
    display_name,
    owner_in,
    owner_of,
    viewer_in,
)
from circlebook.services.ports import UnitOfWork
from circlebook.services.runtime import Runtime


@dataclass(frozen=True, slots=True)
class BookSummary:
    """A book as one member sees it: its version and `updated_at` are the member's view's,
    so that nothing the member cannot see moves them (nor its token, nor its count)."""

    book: Book
    me: Entry
    visible_entries: int
    sync_token: str


@dataclass(frozen=True, slots=True)
class Membership:
    """A book as one member holds it, without counting what it sees: cheap to list."""

    book: Book
    me: Entry
    sync_token: str


def create_book(
    rt: Runtime,
    account: Account,
    title: str,
    invitees: Sequence[Invitee],
    via: reach.Reach,
    *,
    name: str | None = None,
    region: str | None = None,
) -> tuple[BookSummary, list[Outcome]]:
    """The caller becomes the owner and first entry; each invitee is asked to join."""
    title = clean_title(title)
    check_invitee_count(rt, invitees)  # again in invite_into; here before the write lock
    owner_name = clean_name(name) if name is not None else display_name(account)
    now = rt.clock.now()
    at = stamp(now)
    book = Book(new_book_id(), title, account.id, 1, at, at)
    me = Entry(
        id=new_id("e"),
        book_id=book.id,
        account_id=account.id,
        phone=account.phone,
        name=owner_name,
        tags=frozenset(),
        role=Role.OWNER,
        created_at=at,
        updated_at=at,
        version=1,
        tags_version=1,
    )
    with rt.uow(write=True) as uow:
        uow.books.add(book)
        uow.entries.add(me)
        invited = invite_into(
            rt, uow, book, account, invitees, reading_region(rt, account, region), via, owner_name
        )
        # The owner's open streams learn of the new book and follow it from here.
        events.book_changed(rt, uow, book.id, book.version, at, me)
        dav_push.homes_changed(uow, [account.id], at)
        uow.commit()
    reach.send_after_commit(rt, invited.texts)
    token = sync_tokens.issue(rt.secret_key, book.id, book.version)
    return BookSummary(book, me, 1, token), invited.outcomes


def summarise(rt: Runtime, book: Book, me: Entry, visible_entries: int) -> BookSummary:
    """`book` as the member `me` sees it (membership.book_seen), with its sync token."""
    token = sync_tokens.issue(rt.secret_key, book.id, book.version)
    return BookSummary(book, me, visible_entries, token)


def _summary(rt: Runtime, uow: UnitOfWork, book: Book, me: Entry) -> BookSummary:
    return summarise(rt, book, me, uow.entries.count_visible(book.id, Viewer.of(me)))


def _held(uow: UnitOfWork, account: Account) -> list[tuple[Book, Entry]]:
    """The caller's books, each as it sees it, in two queries whatever their number."""
    marks = uow.views.of_account(account.id)
    return [
        (as_seen(book, me, marks.get(book.id)), me)
        for book, me in uow.books.memberships(account.id)
    ]


def list_books(rt: Runtime, account: Account) -> list[BookSummary]:
    """The caller's books, each with how many entries it sees there, counted in one statement."""
    with rt.uow() as uow:
        held = _held(uow, account)
        counts = uow.entries.count_visible_each({book.id: Viewer.of(me) for book, me in held})
    return [summarise(rt, book, me, counts.get(book.id, 0)) for book, me in held]


def _seen_key(account: Account, book_id: str) -> str:
    return f"{account.id}\x1f{book_id}"


def recent_book(rt: Runtime, account: Account, book_id: str) -> BookSummary | None:
    """`get_book`'s answer if this process read it within the last second and has written
    nothing since (see services.recent_sign_ins), with no database read; None: ask `get_book`.

    A poll of one book repeats the same three or four queries again and again. A
    change made here counts at once; one made on another instance within the second,
    as a sign-out does: a member removed there may see the header (never an entry)
    that long.
    """
    found = rt.books_seen.get(_seen_key(account, book_id))
    if found is None:
        return None
    book, me, count = found
    if count is None:  # remembered by `get_membership`, which does not count
        return None
    _read_ahead(rt, account, book_id, counted=True)
    return summarise(rt, book, me, count)


def _read_ahead(rt: Runtime, account: Account, book_id: str, *, counted: bool) -> None:
    """Read a remembered header again in the background before it runs out, if it is due
    (services.recent_sign_ins): as `get_book` when it holds the count, else `get_membership`.
    """
    key = _seen_key(account, book_id)
    if not rt.books_seen.due(key):
        return
    read: Callable[[], object]
    if counted:
        shared, read = f"summary\x1f{key}", lambda: _read_book(rt, account, book_id)
    else:
        shared, read = f"membership\x1f{key}", lambda: _read_membership(rt, account, book_id)
    # A member removed on another instance: its next request reads, and is refused.
    rt.shared_reads.ahead(shared, read, lambda: rt.books_seen.forget(key))


def get_book(rt: Runtime, account: Account, book_id: str) -> BookSummary:
    return rt.shared_reads.read(
        f"summary\x1f{_seen_key(account, book_id)}", lambda: _read_book(rt, account, book_id)
    )


def _read_book(rt: Runtime, account: Account, book_id: str) -> BookSummary:
    mark = rt.books_seen.mark()
    with rt.uow() as uow:
        _, me = viewer_in(uow, book_id, account)
        summary = _summary(rt, uow, book_seen(uow, book_id, me), me)
    rt.books_seen.put(
        _seen_key(account, book_id), (summary.book, me, summary.visible_entries), mark
    )
    return summary


def list_memberships(rt: Runtime, account: Account) -> list[Membership]:
    """Every book the caller belongs to, whatever the books' sizes."""
    with rt.uow() as uow:
        return [
            Membership(book, me, sync_tokens.issue(rt.secret_key, book.id, book.version))
            for book, me in _held(uow, account)
        ]


def recent_membership(rt: Runtime, account: Account, book_id: str) -> Membership | None:
    """`get_membership`'s answer from memory, as `recent_book`; None: ask `get_membership`."""
    found = rt.books_seen.get(_seen_key(account, book_id))
    if found is None:
        return None
    book, me, count = found
    _read_ahead(rt, account, book_id, counted=count is not None)
    return Membership(book, me, sync_tokens.issue(rt.secret_key, book.id, book.version))


def get_membership(rt: Runtime, account: Account, book_id: str) -> Membership:
    """One book the caller belongs to, without reading its entries."""
    return rt.shared_reads.read(
        f"membership\x1f{_seen_key(account, book_id)}",
        lambda: _read_membership(rt, account, book_id),
    )


def _read_membership(rt: Runtime, account: Account, book_id: str) -> Membership:
    mark = rt.books_seen.mark()
    with rt.uow() as uow:
        _, me = viewer_in(uow, book_id, account)
        book = book_seen(uow, book_id, me)
    rt.books_seen.put(_seen_key(account, book_id), (book, me, None), mark)
    return Membership(book, me, sync_tokens.issue(rt.secret_key, book.id, book.version))


def rename_book(rt: Runtime, account: Account, book_id: str, title: str) -> BookSummary:
    title = clean_title(title)
    now = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        _, me = owner_in(uow, book_id, account)
        book = uow.books.get(book_id)
        assert book is not None  # owner_in found the owner's entry, so the book
        version = uow.books.bump(book_id, now, title=title)
        if title != book.title:
            ledger.renamed(uow, book, title, me, now)
            # Every member's home lists the book by its title (its displayname).
            dav_push.homes_changed(uow, uow.entries.account_ids(book_id), now)
        events.book_changed(rt, uow, book_id, version, now)
        uow.commit()
    return get_book(rt, account, book_id)


def hand_on(rt: Runtime, account: Account, book_id: str, entry_id: str) -> BookSummary:
    """The owner makes a member the owner, and stays on as an untagged member.

    Everyone's view changes at once (the new owner sees every entry, the old one
    only what an untagged member sees), so every sync token from before is
    refused: each member fetches the book in full once, then deltas resume.
    """
    now = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        _, me = owner_in(uow, book_id, account)
        target = uow.entries.get(book_id, entry_id) if is_wellformed(entry_id) else None
        if target is None:
            raise NotFoundError("no such member in this book", field="entry_id")
        if target.account_id == account.id:
            raise ConflictError("you already own this book", field="entry_id")
        book = uow.books.get(book_id)
        assert book is not None  # owner_in found the owner's entry, so the book
        version = uow.books.bump(book_id, now)
        # After the bump, as everywhere: the book's row is locked before the ledger's
        # lock, never the other way round, so two changes cannot wait on each other.
        ledger.owner_changed(uow, book, me, target, now)
        uow.books.set_owner(book_id, target.account_id)
        # Owners carry no tags: the new one's are cleared, and the old one's entry
        # (which had none) joins the untagged members.
        for entry, role in ((target, Role.OWNER), (me, Role.MEMBER)):
            untagged = replace(entry, role=role, tags=frozenset(), updated_at=now, version=version)
            uow.entries.save(untagged)
        uow.entries.refuse_tokens_before(book_id, version)
        events.book_changed(rt, uow, book_id, version, now)
        # The old owner is an untagged member now: that kind's view is kept from here.
        uow.views.advance(book_id, [frozenset()], version, now)
        for who in (account.id, target.account_id):
            uow.events.add(BookOwnerChanged(account_id=who, book_id=book_id, created_at=now))
        uow.commit()
    return get_book(rt, account, book_id)


def dissolve_book(rt: Runtime, account: Account, book_id: str) -> None:
    """The owner ends the book: its entries, invitations and history all go.

    Its history is the events addressed to the book, deleted with it. What tells
    the members it is gone is a `book.left` to each member's account, recorded
    after the removal in the same transaction: it survives, so a terminal that
    was offline still hears of it on replay (and then stops following the book).
    """
    now = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        owner_of(uow, book_id, account)
        dissolve(uow, book_id, now)
        uow.commit()
    rt.book_rows.forget(book_id)


def dissolve(uow: UnitOfWork, book_id: str, now: str) -> None:
    """Inside the caller's unit of work (the owner checked): remove the book, tell its members."""
    # The bump locks the book's row first: nobody joins between reading its members
    # and removing it, and the ledger's lock is taken after it, as in every change.
    uow.books.bump(book_id, now)
    members = uow.entries.account_ids(book_id)
    book = uow.books.get(book_id)
    if book is not None:
        ledger.dissolved(uow, book, now)
    uow.books.remove(book_id)
    dav_push.dissolved(uow, book_id, members, now)
    for member in members:
        uow.events.add(BookLeft(account_id=member, book_id=book_id, created_at=now))
