"""What happened, told to the people it concerns: the server's pushes to terminals.

An event carries ids and sync tokens, never entries: a terminal that hears of
a change fetches it with `since=` and so sees only what the rules let it see.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, replace
from enum import StrEnum
from typing import ClassVar, Self

from circlebook.domain.model import Role
from circlebook.domain.visibility import Viewer, can_see


class EventType(StrEnum):
    """Each kind of event by the name the stream and the log know it by."""

    INVITATION_RECEIVED = "invitation.received"
    INVITATION_REVOKED = "invitation.revoked"
    INVITATION_ACCEPTED = "invitation.accepted"
    INVITATION_DECLINED = "invitation.declined"
    BOOK_CHANGED = "book.changed"
    BOOK_LEFT = "book.left"
    BOOK_OWNER_CHANGED = "book.owner_changed"


@dataclass(frozen=True, slots=True, kw_only=True)
class Event:
    """Something that happened to a book; `id` is its place in the log once recorded."""

    type: ClassVar[EventType]
    book_id: str
    created_at: str = ""
    id: int = 0

    def numbered(self, event_id: int) -> Self:
        return replace(self, id=event_id)


@dataclass(frozen=True, slots=True, kw_only=True)
class AccountEvent(Event):
    """Addressed to one account: told to it alone, whatever book it is about."""

    account_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InvitationEvent(AccountEvent):
    invitation_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InvitationReceived(InvitationEvent):
    """Told to the invitee's account: an invitation waits for its answer."""

    type: ClassVar[EventType] = EventType.INVITATION_RECEIVED


@dataclass(frozen=True, slots=True, kw_only=True)
class InvitationRevoked(InvitationEvent):
    """Told to the invitee's account: the owner withdrew the invitation."""

    type: ClassVar[EventType] = EventType.INVITATION_REVOKED


@dataclass(frozen=True, slots=True, kw_only=True)
class InvitationAccepted(InvitationEvent):
    """Told to the book's owner: the invitee said yes and is `entry_id` now."""

    type: ClassVar[EventType] = EventType.INVITATION_ACCEPTED
    entry_id: str


@dataclass(frozen=True, slots=True, kw_only=True)
class InvitationDeclined(InvitationEvent):
    """Told to the book's owner: the invitee said no."""

    type: ClassVar[EventType] = EventType.INVITATION_DECLINED


@dataclass(frozen=True, slots=True, kw_only=True)
class BookLeft(AccountEvent):
    """Told to an account that is no longer in the book: it left, was removed, or the book ended."""

    type: ClassVar[EventType] = EventType.BOOK_LEFT


@dataclass(frozen=True, slots=True, kw_only=True)
class BookOwnerChanged(AccountEvent):
    """Told to the old owner and the new one when a book is handed on."""

    type: ClassVar[EventType] = EventType.BOOK_OWNER_CHANGED


@dataclass(frozen=True, slots=True, kw_only=True)
class BookChanged(Event):
    """Told to the members of the book it concerns, who fetch from `sync_token` on.

    `subject_id` is the account whose entry changed and `old_tags`/`new_tags`
    its tags before and after (None: no entry then). A change without tags on
    either side (a new title, the owner's entry) concerns every member.
    `version` is the book version the change made.
    """

    type: ClassVar[EventType] = EventType.BOOK_CHANGED
    sync_token: str
    subject_id: str | None = None
    old_tags: frozenset[str] | None = None
    new_tags: frozenset[str] | None = None
    version: int | None = None


def concerns(viewer: Viewer, event: BookChanged) -> bool:
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


def kinds_concerned(kinds: Iterable[frozenset[str]], event: BookChanged) -> list[frozenset[str]]:
    """The kinds of member (by the tags they hold) whose view of the book `event` changes."""
    return [tags for tags in kinds if concerns(Viewer.kind(tags), event)]
