"""REPORT answers and the cards in them, written as text for speed, read back exactly as an
XML library and a plain, line-by-line vCard writer would have written them."""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree.ElementTree import Element, SubElement, canonicalize, tostring

import pytest
import vobject

from circlebook.dav.carddav import AddressBookCollection
from circlebook.dav.properties import Resource, SyncAnswer
from circlebook.dav.reports import report
from circlebook.dav.resources import Card
from circlebook.dav.xml import parse
from circlebook.services.entries import VisibleEntry
from circlebook.services.vcards import CardVersion, vcard

BOOK = "/dav/addressbooks/a_owner000000001/b_book0000000001/"
TRICKY = (
    "Li Lei",
    "Bo, Jr; the \\ second",
    "two\nlines",
    "two\r\nlines, CRLF",
    "Tom & Jerry <cartoons> > all",
    "韩梅梅",
    "é" * 40,
    "x" * 69,  # N:{name};;;; is exactly 75 octets
    "x" * 70,  # ... and here one more: folded
    "y" * 200,
    "长" * 30 + ", " + "长" * 30,
    "emoji 😀 at the fold " + "z" * 50,
)
ENTRIES = [
    VisibleEntry(f"e_tricky{i:010d}", f"+86138001380{i:02d}", name, [], "member", "t", "t")
    for i, name in enumerate(TRICKY)
]


def _fold(line: str) -> str:
    """RFC 2425 section 5.8.1, written the plain way: 75 octets, never inside a character."""
    out, current = [], b""
    for char in line:
        octets = char.encode()
        if len(current) + len(octets) > (75 if not out else 74):
            out.append(current.decode())
            current = b""
        current += octets
    out.append(current.decode())
    return "\r\n ".join(out) + "\r\n"


def _escape(value: str) -> str:
    for old, new in (("\\", "\\\\"), (",", "\\,"), (";", "\\;"), ("\r\n", "\\n"), ("\n", "\\n")):
        value = value.replace(old, new)
    return value


def plain_card(entry: VisibleEntry) -> str:
    """A vCard 3.0 as a writer with no shortcuts would write it, line by line."""
    name = _escape(entry.name)
    lines = (
        f"UID:{entry.id}@circlebook",
        f"FN:{name}",
        f"N:{name};;;;",
        f"TEL;TYPE=CELL:{_escape(entry.phone)}",
    )
    return "BEGIN:VCARD\r\nVERSION:3.0\r\n" + "".join(map(_fold, lines)) + "END:VCARD\r\n"


@pytest.mark.parametrize("entry", ENTRIES, ids=lambda e: repr(e.name[:20]))
def test_a_card_is_written_as_a_plain_line_by_line_writer_writes_it(entry: VisibleEntry) -> None:
    text = vcard(entry)
    assert text == plain_card(entry)
    card = vobject.readOne(text)
    # A CRLF in a value is sent as one line break (names never hold one: see domain.names).
    assert card.fn.value == entry.name.replace("\r\n", "\n")


class _Book(AddressBookCollection):
    """A book held in memory: the cards of `ENTRIES`, as a member would be sent them."""

    def __init__(self) -> None:
        super().__init__(BOOK, "/dav/principals/a_owner000000001/")

    def card(self, entry: VisibleEntry) -> Card:
        return Card(f"{BOOK}{entry.id}.vcf", self.principal, entry, CardVersion.V3)

    def members(self) -> Sequence[Resource]:
        return [self.card(e) for e in ENTRIES]

    def members_at(self, paths: Sequence[str]) -> dict[str, Resource]:
        cards = {c.path: c for c in map(self.card, ENTRIES)}
        return {p: cards[p] for p in paths if p in cards}

    def sync(self, token: str | None, limit: int | None = None) -> SyncAnswer:
        return SyncAnswer(self.members(), [f"{BOOK}e_gone.vcf"], "urn:circlebook:sync:t")


def _expected(paths: Sequence[str], *, missing: Sequence[str] = (), token: str = "") -> bytes:
    """The answer built with ElementTree: getetag and address-data found, resourcetype
    empty, the client's own property not found, and 404 for the paths in `missing`."""
    by_path = {f"{BOOK}{e.id}.vcf": e for e in ENTRIES}
    root = Element("{DAV:}multistatus")
    for path in paths:
        response = SubElement(root, "{DAV:}response")
        SubElement(response, "{DAV:}href").text = path
        entry = by_path.get(path)
        if entry is None:
            status = "HTTP/1.1 404 Not Found"
            SubElement(response, "{DAV:}status").text = status
            continue
        found = SubElement(response, "{DAV:}propstat")
        prop = SubElement(found, "{DAV:}prop")
        SubElement(prop, "{DAV:}getetag").text = _Book().card(entry).etag()
        SubElement(prop, "{DAV:}resourcetype")
        data = SubElement(prop, "{urn:ietf:params:xml:ns:carddav}address-data")
        data.text = plain_card(entry)
        SubElement(found, "{DAV:}status").text = "HTTP/1.1 200 OK"
        lacking = SubElement(response, "{DAV:}propstat")
        SubElement(SubElement(lacking, "{DAV:}prop"), "{urn:x-client}colour")
        SubElement(lacking, "{DAV:}status").text = "HTTP/1.1 404 Not Found"
    for path in missing:
        response = SubElement(root, "{DAV:}response")
        SubElement(response, "{DAV:}href").text = path
        SubElement(response, "{DAV:}status").text = "HTTP/1.1 404 Not Found"
    if token:
        SubElement(root, "{DAV:}sync-token").text = token
    return tostring(root)


PROP = (
    "<d:prop><d:getetag/><d:resourcetype/><c:address-data/>"
    '<x:colour xmlns:x="urn:x-client"/></d:prop>'
)
NAMESPACES = 'xmlns:d="DAV:" xmlns:c="urn:ietf:params:xml:ns:carddav"'


def _same_document(answer: bytes, expected: bytes) -> None:
    # Canonical XML (C14N 2.0) of what a parser reads: the prefixes chosen, the order of
    # attributes and <a/> against <a></a> aside, any difference a client would see, it sees.
    def canonical(data: bytes) -> str:
        return canonicalize(tostring(parse(data)), rewrite_prefixes=True)  # type: ignore[arg-type]

    assert canonical(answer) == canonical(expected)


def test_a_multiget_answer_reads_back_as_an_xml_library_writes_it() -> None:
    paths = [f"{BOOK}{e.id}.vcf" for e in ENTRIES] + [f"{BOOK}e_nosuchcard.vcf"]
    # Clients may send an href as a full URL or percent-encoded: it names the same card.
    sent = [*paths[2:], "http://example.org" + paths[0], paths[1].replace("e_", "%65_")]
    paths = [*paths[2:], paths[0], paths[1]]
    hrefs = "".join(f"<d:href> {p}\n</d:href>" for p in sent)
    body = f"<c:addressbook-multiget {NAMESPACES}>{PROP}{hrefs}</c:addressbook-multiget>"
    answer = report(_Book(), parse(body.encode()))
    assert answer.status_code == 207
    _same_document(bytes(answer.body), _expected(paths))


def test_query_and_sync_answers_read_back_as_an_xml_library_writes_them() -> None:
    paths = [f"{BOOK}{e.id}.vcf" for e in ENTRIES]
    query = f"<c:addressbook-query {NAMESPACES}>{PROP}</c:addressbook-query>"
    _same_document(bytes(report(_Book(), parse(query.encode())).body), _expected(paths))
    sync = f"<d:sync-collection {NAMESPACES}><d:sync-token/>{PROP}</d:sync-collection>"
    expected = _expected(paths, missing=[f"{BOOK}e_gone.vcf"], token="urn:circlebook:sync:t")
    _same_document(bytes(report(_Book(), parse(sync.encode())).body), expected)
