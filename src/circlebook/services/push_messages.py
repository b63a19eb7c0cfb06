"""What a pushed event says on a phone, in the language the subscribing browser asked in.

Written from what the database holds when the message is sent: ids in the event,
names and titles from the book. Never a phone number: a lock screen is public.
"""

from __future__ import annotations

from circlebook.domain.events import BookLeft, InvitationAccepted, InvitationReceived
from circlebook.domain.push import Message, Outgoing
from circlebook.services.ports import UnitOfWork

# (title, body) per event, and per language; {book} is a book's title, {name} a member's.
TEXTS: dict[str, dict[str, tuple[str, str]]] = {
    "en": {
        "invitation.received": ("New invitation", "{name} invites you to {book}"),
        "invitation.accepted": ("New member", "{name} accepted your invitation to {book}"),
        "invitation.declined": ("Invitation declined", "An invitation to {book} was declined"),
        "book.left": ("Left a book", "You are no longer in {book}"),
        "book.gone": ("Book dissolved", "A book you were in was dissolved"),
    },
    "zh-Hans": {
        "invitation.received": ("新邀请", "{name}邀请您加入“{book}”"),
        "invitation.accepted": ("新成员", "{name}接受了您加入“{book}”的邀请"),
        "invitation.declined": ("邀请被拒绝", "一份加入“{book}”的邀请被拒绝了"),
        "book.left": ("已离开通讯录", "您已不在“{book}”中"),
        "book.gone": ("通讯录已解散", "您所在的一本通讯录已解散"),
    },
}


def _text(language: str, key: str, **values: str) -> tuple[str, str]:
    title, body = TEXTS.get(language, TEXTS["en"])[key]
    return title, body.format(**values)


# Stands for a member whose entry has gone since (a name is never left blank).
SOMEONE = {"en": "Someone", "zh-Hans": "有人"}


def message_for(uow: UnitOfWork, outgoing: Outgoing) -> Message | None:
    """The message for one claimed row; None when what it told of is no longer so."""
    event, language = outgoing.event, outgoing.subscription.language
    book_id = event.book_id
    book = uow.books.get(book_id) if book_id else None
    key: str = event.type.value
    values = {"book": book.title if book else "", "name": ""}
    url = f"/books/{book_id}" if book else "/books"
    if book is None and not isinstance(event, BookLeft):
        return None  # the book was dissolved since: nothing left to answer or see
    if isinstance(event, InvitationReceived):
        if uow.invitations.get(event.invitation_id) is None:
            return None  # answered, revoked or expired since
        owner = uow.entries.of_account(book_id, book.owner_id) if book else None
        values["name"] = owner.name if owner else ""
        url = "/inbox"
    elif isinstance(event, InvitationAccepted):
        entry = uow.entries.get(book_id, event.entry_id) if book else None
        values["name"] = entry.name if entry else ""
    elif isinstance(event, BookLeft) and book is None:
        key = "book.gone"
    values["name"] = values["name"] or SOMEONE.get(language, SOMEONE["en"])
    title, body = _text(language, key, **values)
    return Message(event.type.value, title, body, url)
