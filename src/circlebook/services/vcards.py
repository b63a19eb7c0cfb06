"""A member's view of a book as vCard 3.0 (RFC 2426), for a phone's contacts app.

Cards are written here by hand rather than through vobject: CardDAV lists a
10,000-entry book card by card, and a template is a hundred times faster. The
export file and CardDAV serve the very same text.
"""

from __future__ import annotations

import hashlib
from typing import NamedTuple

from circlebook.domain.model import Account
from circlebook.services.entries import VisibleEntry, fetch_entries
from circlebook.services.ports import Runtime

# Part of every fingerprint: changing how cards are written must change them all.
CARD_FORMAT = "3.0/1"
# The export file's name in its entity tag (see services.entries.view_tag).
REPRESENTATION = f"text/vcard;{CARD_FORMAT}"
_FOLD_AT = 75  # octets per line, RFC 2425 section 5.8.1


def card_uid(entry_id: str) -> str:
    """The card's UID: stable for as long as the entry exists (RFC 2426 section 3.6.7)."""
    return f"{entry_id}@circlebook"


def _text(value: str) -> str:
    """Escape a text value (RFC 2426 section 4: backslash, comma, semicolon, newline)."""
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets, never inside a UTF-8 character (RFC 2425 5.8.1)."""
    data = line.encode()
    if len(data) <= _FOLD_AT:
        return line + "\r\n"
    parts: list[str] = []
    start, limit = 0, _FOLD_AT
    while start < len(data):
        end = min(start + limit, len(data))
        while end < len(data) and (data[end] & 0xC0) == 0x80:
            end -= 1  # back off to the start of a character
        parts.append(data[start:end].decode())
        start, limit = end, _FOLD_AT - 1  # continuation lines begin with a space
    return "\r\n ".join(parts) + "\r\n"


def vcard(entry: VisibleEntry) -> str:
    """One card: UID, FN, N and the mobile number."""
    name = _text(entry.name)
    # A display name is one string; keep it whole as the family name rather than
    # guess where a Chinese or Western name splits.
    return "".join(
        (
            "BEGIN:VCARD\r\n",
            "VERSION:3.0\r\n",
            _fold(f"UID:{card_uid(entry.id)}"),
            _fold(f"FN:{name}"),
            _fold(f"N:{name};;;;"),
            _fold(f"TEL;TYPE=CELL:{_text(entry.phone)}"),
            "END:VCARD\r\n",
        )
    )


def fingerprint(entry: VisibleEntry) -> str:
    """Changes exactly when the entry's card does: the base of its CardDAV ETag."""
    content = f"{CARD_FORMAT}\x1f{entry.id}\x1f{entry.name}\x1f{entry.phone}"
    return hashlib.blake2b(content.encode(), digest_size=12).hexdigest()


class Export(NamedTuple):
    """The caller's view as one vCard file, and its entity tag."""

    text: str
    etag: str


def export_vcards(rt: Runtime, account: Account, book_id: str) -> Export:
    """One vCard 3.0 per entry the caller may see."""
    view = fetch_entries(rt, account, book_id)
    return Export("".join(vcard(entry) for entry in view.entries), view.etag(REPRESENTATION))
