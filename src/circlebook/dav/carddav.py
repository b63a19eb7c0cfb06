"""CardDAV (RFC 6352) on the generic DAV layer: kinds of resource and their properties."""

from __future__ import annotations

from typing import ClassVar

from circlebook.dav.properties import (
    COLLECTION,
    PRINCIPAL,
    SYNC_COLLECTION,
    WEBDAV_PROPERTIES,
    Property,
    Resource,
)
from circlebook.dav.xml import attribute, carddav, element, href, text

ADDRESSBOOK = carddav("addressbook")
ADDRESSBOOK_MULTIGET = carddav("addressbook-multiget")
ADDRESSBOOK_QUERY = carddav("addressbook-query")
VCARD_MEDIA_TYPE = "text/vcard; charset=utf-8"


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
    _VCARD_3 = element(
        carddav("address-data-type"),
        attributes=attribute("content-type", "text/vcard") + attribute("version", "3.0"),
    )

    def render(self, resource: Resource) -> str | None:
        return self._VCARD_3 if isinstance(resource, AddressBookCollection) else None


class AddressData(Property):
    """CARDDAV:address-data, RFC 6352 section 10.4: the card itself, inside a REPORT answer.

    Always vCard 3.0 and always whole: the server may return more than a client
    asked for with CARDDAV:prop, and every card here is a handful of lines.
    """

    name: ClassVar[str] = carddav("address-data")

    def render(self, resource: Resource) -> str | None:
        return text(resource.vcard()) if isinstance(resource, VCardResource) else None


PROPERTIES: dict[str, Property] = {
    prop.name: prop
    for prop in (*WEBDAV_PROPERTIES, AddressbookHomeSet(), SupportedAddressData(), AddressData())
}
