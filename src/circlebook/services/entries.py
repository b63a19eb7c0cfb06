"""Entries: a member's view (in full or as a delta); changing, removing, leaving."""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from datetime import timedelta

from circlebook.domain import entity_tags
from circlebook.domain.errors import ConflictError, ForbiddenError, InvalidInputError, NotFoundError
from circlebook.domain.events import BookLeft
from circlebook.domain.model import Account, Departure, Entry, Role
from circlebook.domain.names import clean_name
from circlebook.domain.sync import check_answerable, check_kept, removed_ids
from circlebook.domain.tags import normalize_tags, split_tags
from circlebook.domain.visibility import (
    Viewer,
    can_remove,
    can_rename,
    can_retag,
    can_see,
    shown_tags,
)
from circlebook.services import dav_push, events, ledger, sync_tokens
from circlebook.services.clock import stamp
from circlebook.services.ids import is_wellformed
from circlebook.services.membership import view_version, viewer_in
from circlebook.services.ports import EntryRow, UnitOfWork
from circlebook.services.runtime import Runtime


@dataclass
class VisibleEntry:
    """An entry as one viewer may see it: `tags` holds only what the viewer is told.

    A plain dataclass because orjson writes one as a JSON object (its fields in
    this order) straight from its `__dict__`, with no dict made per entry; at
    10,000 entries that is a fraction of the old cost. Measured: slots or
    `frozen` make each one slower to build, slots slower to write too. Nothing
    changes one after it is made.
    """

    id: str
    phone: str
    name: str
    tags: list[str]
    role: str
    created_at: str
    updated_at: str


@dataclass(frozen=True, slots=True)
class View:
    """What one member may see of a book (or what changed in it), and the next sync token."""

    viewer: Viewer
    entries: list[VisibleEntry]
    removed: list[str]
    sync_token: str

    def etag(self, representation: str) -> str:
        """The entity tag of this (whole) view in `representation`; see `view_tag`."""
        return entity_tags.of_view(self.sync_token, self.viewer.entry_id, representation)


def visible_entries(
    viewer: Viewer, rows: Iterable[EntryRow], *, exclude_self: bool = False
) -> list[VisibleEntry]:
    """Apply the visibility rule to raw rows.

    Whether another member's entry is visible, and which of its tags are shown,
    depends only on its tags; a book has few distinct tag sets, so each is
    judged once per request rather than once per row.
    """
    judged: dict[str, list[str] | None] = {}
    out: list[VisibleEntry] = []
    # Names looked up once, not once per row: at 10,000 rows this loop is a share
    # of the whole fetch worth keeping small.
    add, me, owner = out.append, viewer.account_id, Role.OWNER.value
    for id_, account_id, phone, name, tags, role, created_at, updated_at in rows:
        if account_id == me:
            if exclude_self:
                continue
            shown = sorted(split_tags(tags))
        elif role == owner:
            shown = []  # the owner's entry carries no tags and everyone sees it
        else:
            found = judged.get(tags, _UNJUDGED)
            if found is _UNJUDGED:
                parsed = split_tags(tags)
                visible = can_see(viewer, account_id, role, parsed)
                found = judged[tags] = sorted(shown_tags(viewer, parsed)) if visible else None
            if found is None:
                continue
            shown = found
        add(VisibleEntry(id_, phone, name, shown, role, created_at, updated_at))
    return out


# Marks a tag set not judged yet (None in `judged` means: judged, and hidden).
_UNJUDGED: list[str] = []


def fetch_entries(
    rt: Runtime,
    account: Account,
    book_id: str,
    *,
    since: str | None = None,
    exclude_self: bool = False,
) -> View:
    """The caller's view of a book, or only what changed in it since a sync token."""
    with rt.uow() as uow:
        viewer, me = viewer_in(uow, book_id, account)
        # The version of the caller's view is read before the rows: a change landing
        # in between is then sent again next time, never skipped.
        version = view_version(uow, book_id, me)
        if version is None:  # pragma: no cover - dissolved between the two reads
            raise NotFoundError("no such book")
        removed: list[str] = []
        if since is None:
            seen = visible_entries(viewer, _whole_book(rt, uow, book_id), exclude_self=exclude_self)
        else:
            base = sync_tokens.read(rt.secret_key, book_id, since, version)
            check_answerable(viewer, base)
            rows = uow.entries.rows(book_id, since=base)
            seen = visible_entries(viewer, rows, exclude_self=exclude_self)
            departures = uow.departures.since(book_id, base)
            # The floor is read after the departures: should the sweep commit in
            # between (PostgreSQL reads committed data per statement), the token
            # is refused rather than answered without the departures it took.
            check_kept(base, uow.departures.floor(book_id))
            if departures:
                removed = removed_ids(viewer, departures, {e.id for e in seen})
    return View(viewer, seen, removed, sync_tokens.issue(rt.secret_key, book_id, version))


def _whole_book(rt: Runtime, uow: UnitOfWork, book_id: str) -> Sequence[EntryRow]:
    """Every entry row of the book, kept from an earlier fetch of the same version when
    there is one (see services.book_rows)."""
    if not rt.book_rows.max_rows:
        return uow.entries.rows(book_id)
    version = uow.books.version(book_id)
    if version is None:  # pragma: no cover - dissolved since the member was found
        raise NotFoundError("no such book")
    rows = rt.book_rows.get(book_id, version)
    if rows is None:
        rows = uow.entries.rows(book_id)
        rt.book_rows.put(book_id, version, rows)
    return rows


def view_tag(rt: Runtime, account: Account, book_id: str, representation: str) -> str:
    """The entity tag of the caller's whole view, from its own entry and its view's version.

    No other entry is read: a client whose copy is current is told so at the cost
    of a sync-token poll. A non-member gets the same 404 as for the entries.
    """
    with rt.uow() as uow:
        _, me = viewer_in(uow, book_id, account)
        version = view_version(uow, book_id, me)
    if version is None:  # pragma: no cover - dissolved between the two reads
        raise NotFoundError("no such book")
    token = sync_tokens.issue(rt.secret_key, book_id, version)
    return entity_tags.of_view(token, me.id, representation)


def fetch_entries_by_id(
    rt: Runtime, account: Account, book_id: str, entry_ids: Sequence[str]
) -> list[VisibleEntry]:
    """The entries among `entry_ids` the caller may see; unknown and hidden ones are left out."""
    wanted = [i for i in dict.fromkeys(entry_ids) if is_wellformed(i)]
    with rt.uow() as uow:
        viewer, _ = viewer_in(uow, book_id, account)
        rows = uow.entries.rows_by_id(book_id, wanted) if wanted else []
    return visible_entries(viewer, rows)


def _target(uow: UnitOfWork, viewer: Viewer, book_id: str, entry_id: str) -> Entry:
    entry = uow.entries.get(book_id, entry_id) if is_wellformed(entry_id) else None
    if entry is None or not can_see(viewer, entry.account_id, entry.role, entry.tags):
        raise NotFoundError("no such entry")
    return entry


def update_entry(
    rt: Runtime,
    account: Account,
    book_id: str,
    entry_id: str,
    *,
    name: str | None = None,
    tags: Sequence[str] | None = None,
) -> Entry:
    """The owner renames or retags any entry; a member renames its own."""
    new_name = clean_name(name) if name is not None else None
    new_tags = normalize_tags(tags) if tags is not None else None
    now = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        viewer, me = viewer_in(uow, book_id, account)
        target = _target(uow, viewer, book_id, entry_id)
        if not can_rename(viewer, target):
            raise ForbiddenError("only the owner changes another member's entry")
        if new_tags is not None and not can_retag(viewer, target):
            raise ForbiddenError("only the owner changes tags", field="tags")
        if new_tags is not None and target.role is Role.OWNER and new_tags:
            raise InvalidInputError("the owner's entry has no tags: everyone sees it", field="tags")
        version = uow.books.bump(book_id, now)
        changed = replace(target, updated_at=now, version=version)
        if new_name is not None:
            changed = replace(changed, name=new_name)
            if new_name != target.name:
                ledger.entry_renamed(uow, target, new_name, me, now)
        if new_tags is not None and new_tags != target.tags:
            changed = _retagged(uow, changed, target, new_tags, me, now)
        uow.entries.save(changed)
        new_tags_now = changed.tags
        events.book_changed(
            rt, uow, book_id, version, now, target, old_tags=target.tags, new_tags=new_tags_now
        )
        uow.commit()
    return changed


def _retagged(
    uow: UnitOfWork, changed: Entry, target: Entry, new_tags: frozenset[str], me: Entry, now: str
) -> Entry:
    """`changed` with `new_tags`; those who saw `target` under its old tags learn it left them."""
    version = changed.version
    uow.departures.add(
        target.book_id, Departure(target.id, target.account_id, target.tags, version), now
    )
    ledger.retagged(uow, target, target.tags, new_tags, me, now)
    return replace(changed, tags=new_tags, tags_version=version)


def remove_entry(rt: Runtime, account: Account, book_id: str, entry_id: str) -> None:
    """The owner removes a member; a member removing its own entry leaves the book."""
    now = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        viewer, me = viewer_in(uow, book_id, account)
        target = _target(uow, viewer, book_id, entry_id)
        _removed(rt, uow, viewer, me, target, now)
        uow.commit()
    forget_removed(rt, book_id, [target.id])


def leave_book(rt: Runtime, account: Account, book_id: str) -> None:
    """A member removes its own entry, and so leaves the book; its owner dissolves it instead."""
    now = stamp(rt.clock.now())
    with rt.uow(write=True) as uow:
        viewer, me = viewer_in(uow, book_id, account)
        _removed(rt, uow, viewer, me, me, now)
        uow.commit()
    forget_removed(rt, book_id, [me.id])


def forget_removed(rt: Runtime, book_id: str, entry_ids: Sequence[str]) -> None:
    """Once the removal is committed (else a read under way could keep what it read
    before): the book's kept rows go, and whatever the edges keep of those entries."""
    rt.book_rows.forget(book_id)
    for heard in rt.entries_removed:
        heard(entry_ids)


def _removed(
    rt: Runtime, uow: UnitOfWork, viewer: Viewer, me: Entry, target: Entry, now: str
) -> None:
    """`target` leaves the book if `viewer` (whose entry is `me`) may take it out."""
    if target.role is Role.OWNER:
        raise ConflictError("the owner's entry goes only when the book is dissolved")
    if not can_remove(viewer, target):
        raise ForbiddenError("only the owner removes another member")
    leave(rt, uow, target, now)
    ledger.departed(uow, target, me, now)


def leave(rt: Runtime, uow: UnitOfWork, entry: Entry, now: str) -> None:
    """Inside the caller's unit of work (the right to do so checked): the entry leaves its book.

    The departure lets every member who could see it learn at its next sync that it is gone.
    """
    version = uow.books.bump(entry.book_id, now)
    uow.entries.remove(entry.id)
    uow.departures.add(
        entry.book_id, Departure(entry.id, entry.account_id, entry.tags, version), now
    )
    events.book_changed(rt, uow, entry.book_id, version, now, entry, old_tags=entry.tags)
    uow.events.add(BookLeft(account_id=entry.account_id, book_id=entry.book_id, created_at=now))
    dav_push.left(uow, entry.account_id, entry.book_id, now)


def prune_departures(rt: Runtime) -> None:
    """The sweep's share: forget who left, and with which tags, once no kept token needs it."""
    if not rt.policy.sync_token_days:
        return
    cutoff = rt.clock.now() - timedelta(days=rt.policy.sync_token_days)
    with rt.uow(write=True) as uow:
        uow.departures.prune_before(stamp(cutoff))
        uow.commit()
