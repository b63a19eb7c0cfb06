"""WebDAV-Push (draft-bitfire-webdav-push): a contacts app's registration for one collection."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass

# The address-book home's `collection`: a book's is the book's id.
HOME = ""


@dataclass(frozen=True, slots=True)
class Registration:
    """A push resource (RFC 8030) that hears of changes to one member's view of a collection.

    `p256dh` and `auth` are the RFC 8291 keys when the client gave them (then messages
    are encrypted with aes128gcm), else None.
    """

    id: str
    account_id: str
    collection: str
    push_resource: str
    p256dh: str | None
    auth: str | None
    expires_at: str
    created_at: str
    updated_at: str


# The registrations the request being answered asked not to be told of its own
# changes (its `Push-Dont-Notify` header), by id; "*" stands for all of them.
DONT_NOTIFY: ContextVar[frozenset[str]] = ContextVar("dont_notify", default=frozenset())
EVERYONE = "*"


def dont_notify(header: str | None) -> frozenset[str]:
    """The registration ids a `Push-Dont-Notify` header names: `*`, or quoted
    registration URLs separated by commas (their last path segment is the id)."""
    if not header:
        return frozenset()
    if header.strip() == EVERYONE:
        return frozenset({EVERYONE})
    named = set()
    for part in header.split(","):
        url = part.strip().strip('"').rstrip("/")
        if url:
            named.add(url.rpartition("/")[2])
    return frozenset(named)
