"""What happened, told to the people it concerns: the server's pushes to terminals.

An event carries ids and sync tokens, never entries: a terminal that hears of
a change fetches it with `since=` and so sees only what the rules let it see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum

from circlebook.domain.model import Role
from circlebook.domain.visibility import Viewer, can_see


class EventType(StrEnum):
    INVITATION_RECEIVED = "invitation.received"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_DECLINED = "invitation.declined"
    BOOK_CHANGED = "book.changed"
    BOOK_LEFT = "book.left"
    # Told to the old owner and the new one when a book is handed on.
    BOOK_OWNER_CHANGED = "book.owner_changed"


@dataclass(frozen=True, slots=True)
class Event:
    """Addressed to one account, or (book.changed) to the members of a book it concerns.

    For a book event, `subject_id` is the account whose entry changed and
    `old_tags`/`new_tags` its tags before and after (None: no entry then). A
    book event without tags on either side (a new title, the owner's entry)
    concerns every member. `version` is the book version a book event made.
    """

    type: EventType
    data: dict[str, str]
    account_id: str | None = None
    book_id: str | None = None
    subject_id: str | None = None
    old_tags: frozenset[str] | None = None
    new_tags: frozenset[str] | None = None
    created_at: str = ""
    id: int = 0
    version: int | None = None

    def numbered(self, event_id: int) -> Event:
        return replace(self, id=event_id)


def concerns(viewer: Viewer, event: Event) -> bool:
    """Whether a book event changes what `viewer` sees of its book.

    Nothing from before the viewer's own place in the book (it joined, or its
    tags or role changed, at `tags_version`) does: it fetched the book whole then.
    """
    if event.version is not None and event.version < viewer.tags_version:
        return False
    if viewer.is_owner or event.subject_id in (None, viewer.account_id):
        return True
    if event.old_tags is None and event.new_tags is None:
        return True  # the book itself or the owner's entry: everyone sees those
    return any(
        tags is not None and can_see(viewer, event.subject_id, Role.MEMBER, tags)
        for tags in (event.old_tags, event.new_tags)
    )


def kinds_concerned(kinds: Iterable[frozenset[str]], event: Event) -> list[frozenset[str]]:
    """The kinds of member (by the tags they hold) whose view of the book `event` changes."""
    return [tags for tags in kinds if concerns(Viewer.kind(tags), event)]
