"""A member's view of a book as vCards, for a phone's contacts app.

vCard 3.0 (RFC 2426) by default, which every phone reads; vCard 4.0 (RFC 6350)
for the clients that ask for it. Cards are written here by hand rather than
through vobject: CardDAV lists a 10,000-entry book card by card, and a template
is a hundred times faster. The export file and CardDAV serve the very same text.
"""

from __future__ import annotations

import hashlib
import re
from enum import StrEnum
from typing import NamedTuple

from circlebook.domain.model import Account
from circlebook.services.entries import VisibleEntry, fetch_entries
from circlebook.services.runtime import Runtime


class CardVersion(StrEnum):
    """The vCard versions served: the VERSION property and the media type's version."""

    V3 = "3.0"
    V4 = "4.0"


DEFAULT_VERSION = CardVersion.V3

# Part of every fingerprint: changing how cards are written must change them all.
_CARD_FORMATS = {CardVersion.V3: "3.0/1", CardVersion.V4: "4.0/1"}


def card_format(version: CardVersion) -> str:
    """How cards of `version` are written, by name: part of every entity tag of them."""
    return _CARD_FORMATS[version]


def representation(version: CardVersion) -> str:
    """The export file's name in its entity tag (see services.entries.view_tag)."""
    return f"text/vcard;{card_format(version)}"


CARD_FORMAT = card_format(DEFAULT_VERSION)
REPRESENTATION = representation(DEFAULT_VERSION)
_FOLD_AT = 75  # octets per line, RFC 2425 section 5.8.1
# What `_text` escapes; a lone CR is left as it is.
_SPECIAL = re.compile(r"[\\,;\n]")
_BEGIN_3 = f"BEGIN:VCARD\r\nVERSION:{CardVersion.V3.value}\r\n"
_BEGIN_4 = f"BEGIN:VCARD\r\nVERSION:{CardVersion.V4.value}\r\n"


def card_uid(entry_id: str) -> str:
    """The card's UID: stable for as long as the entry exists (RFC 2426 section 3.6.7)."""
    return f"{entry_id}@circlebook"


def _text(value: str) -> str:
    """Escape a text value (RFC 2426 section 4: backslash, comma, semicolon, newline)."""
    if _SPECIAL.search(value) is None:
        return value  # most names: one scan instead of five replaces
    return (
        value.replace("\\", "\\\\")
        .replace(",", "\\,")
        .replace(";", "\\;")
        .replace("\r\n", "\\n")
        .replace("\n", "\\n")
    )


def _fold(line: str) -> str:
    """Fold a content line at 75 octets, never inside a UTF-8 character (RFC 2425 5.8.1)."""
    if len(line) <= _FOLD_AT and line.isascii():
        return line + "\r\n"  # as many octets as characters: no need to encode it
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


def _tel_uri(phone: str) -> str:
    """A number as a tel URI (RFC 3966): a global number keeps only its `+` and digits."""
    digits = "".join(c for c in phone if c.isdigit())
    return f"tel:+{digits}" if phone.startswith("+") else f"tel:{_text(phone)}"


def vcard(entry: VisibleEntry, version: CardVersion = DEFAULT_VERSION) -> str:
    """One card: UID, FN, N and the mobile number, in vCard 3.0 or 4.0."""
    name = _text(entry.name)
    if version is CardVersion.V4:
        # RFC 6350: the UID is a URI unless said to be text (6.7.6), and stays the one
        # the 3.0 card has, so a client switching versions sees the same contact;
        # TEL is a tel URI (6.4.1); FN is the one property required besides VERSION.
        begin = _BEGIN_4
        uid = f"UID;VALUE=text:{card_uid(entry.id)}"
        tel = f"TEL;VALUE=uri;TYPE=cell:{_tel_uri(entry.phone)}"
    else:
        begin = _BEGIN_3
        uid = f"UID:{card_uid(entry.id)}"
        tel = f"TEL;TYPE=CELL:{_text(entry.phone)}"
    # A display name is one string; keep it whole as the family name rather than
    # guess where a Chinese or Western name splits.
    return (
        f"{begin}{_fold(uid)}{_fold('FN:' + name)}{_fold(f'N:{name};;;;')}{_fold(tel)}END:VCARD\r\n"
    )


def fingerprint(entry: VisibleEntry, version: CardVersion = DEFAULT_VERSION) -> str:
    """Changes exactly when the entry's card in `version` does: the base of its CardDAV ETag.

    Each version of a card is a representation of its own (RFC 9110 section 8.8.3),
    so the two never share a tag.
    """
    content = f"{card_format(version)}\x1f{entry.id}\x1f{entry.name}\x1f{entry.phone}"
    return hashlib.blake2b(content.encode(), digest_size=12).hexdigest()


class Export(NamedTuple):
    """The caller's view as one vCard file, and its entity tag."""

    text: str
    etag: str


def export_vcards(
    rt: Runtime, account: Account, book_id: str, version: CardVersion = DEFAULT_VERSION
) -> Export:
    """One vCard per entry the caller may see, all in `version`."""
    view = fetch_entries(rt, account, book_id)
    text = "".join(vcard(entry, version) for entry in view.entries)
    return Export(text, view.etag(representation(version)))
