"""Delta sync: what changed in one member's view of a book since a version.

A delta follows the member's view, not the table. An entry that changed and is
visible now is sent whole; an entry that departed (was removed, or retagged away)
is reported removed when this member could have seen it before and cannot now.
A member whose own tags changed since the token cannot be answered from the log
and must fetch in full; so must a token older than the departures the server
keeps (`CIRCLEBOOK_SYNC_TOKEN_DAYS`).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace

from circlebook.domain.errors import StaleSyncTokenError
from circlebook.domain.model import Book, Departure, Entry, Role
from circlebook.domain.visibility import Viewer, can_see


@dataclass(frozen=True, slots=True)
class ViewMark:
    """Where one kind of member's view of a book stands: the version and time of the
    last change that kind could see."""

    version: int
    updated_at: str


def as_seen(book: Book, me: Entry, mark: ViewMark | None) -> Book:
    """The book as `me` sees it: its version and `updated_at` those of the member's view.

    The owner sees everything, so its view is the book. A member's is its kind's
    mark, never behind its own entry or its place in the book (so a token issued
    from it is always answerable); with no mark (none kept yet) the book's own,
    which can only make a member fetch more, never miss a change.
    """
    if me.role is Role.OWNER or mark is None:
        return book
    version = seen_version(me, mark)
    return replace(book, version=version, updated_at=max(mark.updated_at, me.updated_at))


def seen_version(me: Entry, mark: ViewMark) -> int:
    """The version of a member's view, from its kind's mark (see `as_seen`)."""
    return max(mark.version, me.version, me.tags_version)


def check_kept(since: int, floor: int) -> None:
    """Refuse a token older than the departures the server still keeps."""
    if since < floor:
        raise StaleSyncTokenError(
            "this sync token is older than the history the server keeps; fetch the book in full"
        )


def check_answerable(viewer: Viewer, since: int) -> None:
    """Refuse a token from before the viewer's own tags or role last changed (or it joined).

    An owner's tags never change, so its `tags_version` moves only when the book
    is handed on: then its view widened, and the log cannot tell it all it missed.
    """
    if viewer.tags_version > since:
        raise StaleSyncTokenError(
            "your tags in this book changed since this sync token; fetch the book in full"
        )


def removed_ids(
    viewer: Viewer, departures: Iterable[Departure], visible_now: set[str]
) -> list[str]:
    """Ids of departed entries this viewer may have held and no longer sees."""
    gone: dict[str, None] = {}
    for d in departures:
        if d.entry_id in visible_now or d.entry_id in gone:
            continue
        if can_see(viewer, d.account_id, Role.MEMBER, d.old_tags):
            gone[d.entry_id] = None
    return list(gone)
