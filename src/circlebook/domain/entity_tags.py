"""Entity tags of a member's whole view of a book, and If-None-Match (RFC 9110 8.8.3, 13.1.2).

A view's tag is made from the member's sync token, which moves exactly when
what the member may see changes, from the member's entry (two members can
stand at the same version and see different entries; a browser shared by two
accounts must not be told that one's copy is the other's), and from the name of
the representation (media type, format version, options such as `exclude_self`).
It is a hash of the sealed token, so it tells nothing either. It is weak (`W/`): the same view
sent compressed or not, or with rows read a moment later, is the same
content to the client, not the same bytes.
"""

from __future__ import annotations

import hashlib
import re

# RFC 9110 section 8.8.3: entity-tag = [ "W/" ] DQUOTE *etagc DQUOTE. A comma is a
# valid etagc, so a list is read tag by tag rather than split at commas.
# Empty list elements are allowed (RFC 9110 section 5.6.1) and skipped.
_ENTITY_TAG = re.compile(r'[\s,]*(W/)?"([^"]*)"\s*(?:,|$)')


def of_view(sync_token: str, member: str, representation: str) -> str:
    """The entity tag of the view a sync token stands for, of the member with entry id
    `member`, in one representation."""
    digest = hashlib.blake2b(
        f"{representation}\x1f{member}\x1f{sync_token}".encode(),
        digest_size=16,
        person=b"circlebook etag",
    )
    return f'W/"{digest.hexdigest()}"'


def _opaque(tag: str) -> str:
    return tag.removeprefix("W/")


def matches_any(if_none_match: str | None, current: str) -> bool:
    """Whether If-None-Match names the current tag: then the client's copy is current.

    `*` matches any current representation; a list matches when one of its tags
    does by the weak comparison (RFC 9110 section 13.1.2: a recipient MUST use
    it for If-None-Match). A header that cannot be read matches nothing, so the
    request is answered in full rather than refused.
    """
    if if_none_match is None:
        return False
    value = if_none_match.strip()
    if value == "*":
        return True
    wanted = _opaque(current)
    position = 0
    while position < len(value):
        found = _ENTITY_TAG.match(value, position)
        if found is None:
            return False
        if f'"{found.group(2)}"' == wanted:
            return True
        position = found.end()
    return False
