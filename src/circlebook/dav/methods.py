"""The DAV methods: PROPFIND (RFC 4918 9.1), GET and HEAD, OPTIONS, and writes refused.

Every book is read-only over CardDAV, for its owner too: changes go through the
app and the JSON API, where consent and tags are checked. A client that tries
to write is told which privilege it lacks (RFC 3744 section 7.1.1).
"""

from __future__ import annotations

from collections.abc import Sequence
from xml.etree.ElementTree import Element

from starlette.responses import Response

from circlebook.dav import carddav, push
from circlebook.dav.card_cache import CardCache
from circlebook.dav.errors import DavError, need_privileges
from circlebook.dav.multistatus import XML_MEDIA_TYPE, Multistatus, propstats
from circlebook.dav.properties import Resource
from circlebook.dav.xml import dav, element, tags
from circlebook.domain import entity_tags

ALLOW = "OPTIONS, GET, HEAD, PROPFIND, REPORT"
# RFC 4918 section 18 classes 1 and 3, RFC 3744 for the privilege set, RFC 6352 section 6.1.
DAV_CLASSES = "1, 3, access-control, addressbook"
WRITES = frozenset(
    {"PUT", "DELETE", "MKCOL", "PROPPATCH", "MOVE", "COPY", "LOCK", "UNLOCK", "POST", "ACL"}
)
PROPERTIES = {**carddav.PROPERTIES, **{prop.name: prop for prop in push.PUSH_PROPERTIES}}
_ALLPROP = tuple(name for name, prop in PROPERTIES.items() if prop.in_allprop)


def multistatus_response(body: bytes) -> Response:
    return Response(body, 207, media_type=XML_MEDIA_TYPE)


def requested(prop: Element | None) -> list[str]:
    """The names inside a DAV:prop, in the client's order (RFC 4918 section 14.18)."""
    return [] if prop is None else [str(child.tag) for child in prop]


class Renderer:
    """Renders the properties `names` of one resource after another.

    Each name's property and tags are looked up once, not once per resource: a
    REPORT on a book of 10,000 renders the same two or three for every card.
    With a `cache`, the propstats of a resource with a content key are kept when
    every property asked for follows from that content alone, each asked once
    (so what is kept per card stays the size of a card, whatever a client sends).
    """

    def __init__(self, names: Sequence[str], cache: CardCache | None = None) -> None:
        self._wanted = [(PROPERTIES.get(name), tags(name)) for name in names]
        self._names = tuple(names)
        keep = len(set(names)) == len(names) and all(
            prop is not None and prop.of_content for prop, _ in self._wanted
        )
        self._cache = cache if keep else None

    def __call__(self, resource: Resource) -> tuple[list[str], list[str]]:
        """The properties the resource has, as XML, and empty elements for the rest."""
        found: list[str] = []
        missing: list[str] = []
        for prop, (opening, closing, empty) in self._wanted:
            value = None if prop is None else prop.render(resource)
            if value is None:
                missing.append(empty)
            else:
                # As `element` writes it: an empty value is an empty element.
                found.append(f"{opening}{value}{closing}" if value else empty)
        return found, missing

    def propstats(self, resource: Resource) -> bytes:
        """The resource's propstats, found and missing (multistatus.propstats), encoded;
        kept or made."""
        cache = self._cache
        content = None if cache is None else resource.content_key()
        if cache is None or content is None:
            return propstats(*self(resource)).encode()
        key = (self._names, content)
        kept = cache.get(key)
        if kept is None:
            kept = propstats(*self(resource)).encode()
            cache.put(key, kept, resource.content_source())
        return kept


def depth_of(header: str | None) -> int:
    """0 or 1. No resource here lies deeper than one level below another that
    lists members, so infinity (also the default, RFC 4918 section 9.1) is answered as 1."""
    value = (header or "infinity").strip().lower()
    if value not in ("0", "1", "infinity"):
        raise DavError(400, "Depth is 0, 1 or infinity")
    return 0 if value == "0" else 1


def propfind(resource: Resource, body: Element | None, depth: int) -> Response:
    """Properties of the resource, and of its members at Depth: 1 (RFC 4918 section 9.1)."""
    names, only_found, names_only = _propfind_request(body)
    multistatus = Multistatus()
    targets = [resource, *resource.members()] if depth else [resource]
    render = Renderer(names)
    for target in targets:
        found, missing = render(target)
        if names_only:
            found = [element(name) for name in names if PROPERTIES[name].render(target) is not None]
        multistatus.properties(target.path, found, () if only_found else missing)
    return multistatus_response(multistatus.render())


def _propfind_request(body: Element | None) -> tuple[Sequence[str], bool, bool]:
    """(names, whether to leave out missing ones, whether to give names only)."""
    if body is None:
        return _ALLPROP, True, False  # an empty PROPFIND is an allprop (section 9.1)
    if body.tag != dav("propfind"):
        raise DavError(400, "a PROPFIND body is a DAV:propfind")
    prop = body.find(dav("prop"))
    if prop is not None:
        return requested(prop), False, False
    if body.find(dav("propname")) is not None:
        return tuple(PROPERTIES), True, True
    if body.find(dav("allprop")) is not None:
        extra = [n for n in requested(body.find(dav("include"))) if n not in _ALLPROP]
        return (*_ALLPROP, *extra), True, False
    raise DavError(400, "a DAV:propfind holds prop, allprop or propname")


def get(resource: Resource, if_none_match: str | None, *, head: bool) -> Response:
    """The card, with its ETag; 304 when the client's copy is current (RFC 9110 13.1.2)."""
    content = resource.content()
    if content is None:
        raise DavError(405, "a collection has no body: use PROPFIND", headers={"Allow": ALLOW})
    etag = resource.etag() or ""
    # A card comes in the vCard version Accept names (RFC 6352 section 5.1.1).
    headers = {"ETag": etag, "Vary": "Accept"}
    if etag and entity_tags.matches_any(if_none_match, etag):
        return Response(status_code=304, headers=headers)
    data = content.encode()
    if head:
        headers["Content-Length"] = str(len(data))
        data = b""
    return Response(data, 200, headers, media_type=resource.content_type())


def options(push_on: bool = False) -> Response:
    """What the server speaks (RFC 4918 section 10.1, RFC 6352 section 6.1, WebDAV-Push)."""
    classes = f"{DAV_CLASSES}, {push.DAV_CLASS}" if push_on else DAV_CLASSES
    allow = f"{ALLOW}, POST, DELETE" if push_on else ALLOW
    return Response(status_code=200, headers={"DAV": classes, "Allow": allow})


def write_refused(path: str) -> DavError:
    return DavError(
        403,
        "books are read-only over CardDAV: change them in the circlebook app",
        condition=need_privileges(path),
    )
