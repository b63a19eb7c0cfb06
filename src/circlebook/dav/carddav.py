"""CardDAV (RFC 6352) on the generic DAV layer: kinds of resource and their properties."""

from __future__ import annotations

from typing import ClassVar

from circlebook.dav.errors import SUPPORTED_ADDRESS_DATA_CONVERSION, DavError
from circlebook.dav.properties import (
    COLLECTION,
    PRINCIPAL,
    SYNC_COLLECTION,
    WEBDAV_PROPERTIES,
    Property,
    Resource,
)
from circlebook.dav.xml import attribute, carddav, element, href, text
from circlebook.services.vcards import DEFAULT_VERSION, CardVersion

ADDRESSBOOK = carddav("addressbook")
ADDRESSBOOK_MULTIGET = carddav("addressbook-multiget")
ADDRESSBOOK_QUERY = carddav("addressbook-query")
VCARD_MEDIA_TYPE = "text/vcard; charset=utf-8"
VCARD = "text/vcard"
# The media types that name vCard 3.0 before text/vcard did (RFC 6350 section 10.1).
_VCARD_3_ALIASES = frozenset({"text/x-vcard", "text/directory"})
_ANY = frozenset({"*/*", "text/*"})


def card_version(content_type: str, version: str | None) -> CardVersion:
    """The version of cards asked for as `content_type` (and its version parameter or
    attribute), or the CARDDAV:supported-address-data-conversion precondition."""
    kind = content_type.strip().lower()
    if kind == VCARD and version is None:
        return DEFAULT_VERSION
    if kind == VCARD and version in (CardVersion.V3.value, CardVersion.V4.value):
        return CardVersion(version)
    if kind in _VCARD_3_ALIASES and version in (None, CardVersion.V3.value):
        return CardVersion.V3
    raise DavError(
        403,
        f"cards are served as text/vcard 3.0 or 4.0, not {content_type} {version or ''}".strip(),
        condition=SUPPORTED_ADDRESS_DATA_CONVERSION,
    )


def _media_ranges(accept: str) -> list[tuple[float, str, str | None]]:
    """(q, media type, version parameter) of each range of an Accept header, best first
    (RFC 9110 section 12.5.1); ranges of q=0 are refusals and left out."""
    ranges: list[tuple[float, int, str, str | None]] = []
    for position, item in enumerate(accept.split(",")):
        kind, *params = (part.strip() for part in item.split(";"))
        if not kind:
            continue
        q, version = 1.0, None
        for param in params:
            name, _, value = param.partition("=")
            name, value = name.strip().lower(), value.strip().strip('"')
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
            elif name == "version":
                version = value
        if q > 0:
            ranges.append((-q, position, kind.lower(), version))
    return [(-q, kind, version) for q, _, kind, version in sorted(ranges)]


def accepted_version(accept: str | None) -> CardVersion:
    """The version of a card a GET's Accept asks for (RFC 6352 section 5.1.1).

    vCard 3.0 unless a range asks for text/vcard;version=4.0 before any other that
    a card can be sent as; the precondition when none can be.
    """
    if accept is None or not accept.strip():
        return DEFAULT_VERSION
    ranges = _media_ranges(accept)
    for _, kind, version in ranges:
        if kind in _ANY:
            return DEFAULT_VERSION
        try:
            return card_version(kind, version)
        except DavError:
            continue
    _, kind, version = ranges[0] if ranges else (0.0, accept, None)
    return card_version(kind, version)  # raises: nothing acceptable was asked for


class CardDavPrincipal(Resource):
    """A user, who has one home for address books (RFC 6352 section 7.1)."""

    resource_types = (COLLECTION, PRINCIPAL)

    def addressbook_home(self) -> str:
        raise NotImplementedError


class AddressBookCollection(Resource):
    """An address book: a collection of vCards (RFC 6352 section 5.2)."""

    resource_types = (COLLECTION, ADDRESSBOOK)
    reports = (ADDRESSBOOK_MULTIGET, ADDRESSBOOK_QUERY, SYNC_COLLECTION)


class VCardResource(Resource):
    """One address object: a single vCard (RFC 6352 section 5.1)."""

    def vcard(self) -> str:
        raise NotImplementedError

    def content_type(self) -> str | None:
        return VCARD_MEDIA_TYPE

    def content(self) -> str | None:
        return self.vcard()


class AddressbookHomeSet(Property):
    """CARDDAV:addressbook-home-set, RFC 6352 section 7.1.1: where a principal's books are."""

    name = carddav("addressbook-home-set")

    def render(self, resource: Resource) -> str | None:
        if not isinstance(resource, CardDavPrincipal):
            return None
        return href(resource.addressbook_home())


class SupportedAddressData(Property):
    """CARDDAV:supported-address-data, RFC 6352 section 6.2.2: the card formats served."""

    name = carddav("supported-address-data")
    _TYPES = "".join(
        element(
            carddav("address-data-type"),
            attributes=attribute("content-type", VCARD) + attribute("version", version.value),
        )
        for version in CardVersion
    )

    def render(self, resource: Resource) -> str | None:
        return self._TYPES if isinstance(resource, AddressBookCollection) else None


class AddressData(Property):
    """CARDDAV:address-data, RFC 6352 section 10.4: the card itself, inside a REPORT answer.

    In the version the REPORT's CARDDAV:address-data asked for (3.0 unless it said
    otherwise), and always whole: the server may return more than a client asked
    for with CARDDAV:prop, and every card here is a handful of lines.
    """

    name: ClassVar[str] = carddav("address-data")
    of_content = True

    def render(self, resource: Resource) -> str | None:
        return text(resource.vcard()) if isinstance(resource, VCardResource) else None


PROPERTIES: dict[str, Property] = {
    prop.name: prop
    for prop in (*WEBDAV_PROPERTIES, AddressbookHomeSet(), SupportedAddressData(), AddressData())
}
