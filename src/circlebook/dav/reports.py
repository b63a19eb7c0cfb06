"""REPORTs: sync-collection (RFC 6578), addressbook-multiget and addressbook-query (RFC 6352).

A REPORT that answers with the whole collection (an addressbook-query, or a
sync-collection without a token) carries an ETag of the member's view and of
the report asked for. Sent back in If-None-Match, it is answered 412 when the
view has not changed, before any card is read: RFC 9110 section 13.1.2 keeps
304 for GET and HEAD and makes a false If-None-Match on any other method a 412.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from urllib.parse import unquote, urlsplit
from xml.etree.ElementTree import Element, tostring

from starlette.responses import Response

from circlebook.dav.card_cache import CardCache
from circlebook.dav.carddav import (
    ADDRESSBOOK_MULTIGET,
    ADDRESSBOOK_QUERY,
    VCARD,
    VCardResource,
    card_version,
)
from circlebook.dav.errors import SUPPORTED_REPORT, DavError
from circlebook.dav.filters import parse_filter
from circlebook.dav.methods import Renderer, multistatus_response, requested
from circlebook.dav.multistatus import XML_MEDIA_TYPE, Multistatus
from circlebook.dav.properties import SYNC_COLLECTION, Resource
from circlebook.dav.xml import carddav, dav, element
from circlebook.domain import entity_tags
from circlebook.domain.numbers import whole_number
from circlebook.services.vcards import CardVersion, card_format

# What makes an href more than a plain path: a query, a fragment, a percent-escape,
# or the tabs and line breaks that urlsplit drops.
_NOT_PLAIN = re.compile(r"[?#%\t\r\n]")
# RFC 6352 section 8.6.1 and RFC 6578 section 3.6: a truncated answer says so on the collection.
_TRUNCATED = element(dav("number-of-matches-within-limits"))


def report(
    resource: Resource,
    body: Element | None,
    if_none_match: str | None = None,
    cache: CardCache | None = None,
) -> Response:
    """Answer the REPORT named by the body's root element, if the resource supports it;
    the propstats of cards are taken from `cache` where it has them."""
    if body is None:
        raise DavError(400, "a REPORT needs a body naming the report")
    if body.tag not in resource.reports:
        raise DavError(403, f"no {body.tag} REPORT here", condition=SUPPORTED_REPORT)
    etag = whole_answer_tag(resource, body)
    if etag is not None and entity_tags.matches_any(if_none_match, etag):
        return Response(status_code=412, headers={"ETag": etag})
    response = _HANDLERS[body.tag](resource, body, cache)
    if etag is not None:
        response.headers["ETag"] = etag
    return response


def whole_answer_tag(resource: Resource, body: Element) -> str | None:
    """The ETag of a REPORT that lists every member, or None for one that depends on a token
    or names its cards. The request itself (properties, filter, limit) and the paths in the
    answer are part of the representation."""
    if body.tag == SYNC_COLLECTION and (body.findtext(dav("sync-token")) or "").strip():
        return None
    if body.tag not in (SYNC_COLLECTION, ADDRESSBOOK_QUERY):
        return None
    asked = tostring(body, encoding="unicode")
    cards = card_format(requested_version(body))
    return resource.view_tag(f"{XML_MEDIA_TYPE};{cards};{resource.path};{asked}")


def requested_version(body: Element) -> CardVersion:
    """The vCard version the REPORT's CARDDAV:address-data asks for (RFC 6352 section 10.4:
    content-type text/vcard and version 3.0 unless given), or the
    CARDDAV:supported-address-data-conversion precondition (section 5.1.1.1)."""
    asked = body.find(f"{dav('prop')}/{carddav('address-data')}")
    if asked is None:
        return card_version(VCARD, None)
    return card_version(asked.get("content-type", VCARD), asked.get("version"))


def sync_collection(resource: Resource, body: Element, cache: CardCache | None) -> Response:
    """Members changed since the token, and 404 for those gone (RFC 6578 section 3.2).

    No token is an initial sync: every member. A token the book cannot answer
    from (not issued here, or from before the member's tags changed) fails the
    DAV:valid-sync-token precondition, upon which clients sync from scratch.
    """
    token = (body.findtext(dav("sync-token")) or "").strip()
    level = (body.findtext(dav("sync-level")) or "1").strip()
    if level not in ("1", "infinite"):
        raise DavError(400, "DAV:sync-level is 1 or infinite")
    render = Renderer(requested(body.find(dav("prop"))), cache)
    answer = resource.sync(token or None, _limit(body, dav))
    multistatus = Multistatus()
    for member in answer.changed:
        multistatus.response(member.path, render.propstats(member))
    for path in answer.removed:
        multistatus.status(path, 404)
    if answer.truncated:
        # RFC 6578 sections 3.6 and 3.7: the token is where the rest begins.
        multistatus.status(resource.path, 507, _TRUNCATED)
    return multistatus_response(multistatus.render(sync_token=answer.token))


def _path(href: str) -> str:
    """The path an href names, whether sent absolute or as a path."""
    href = href.strip()
    if href.startswith("/") and not href.startswith("//") and not _NOT_PLAIN.search(href):
        return href  # a plain absolute path, as clients send: nothing to split or decode
    return unquote(urlsplit(href).path)


def multiget(resource: Resource, body: Element, cache: CardCache | None) -> Response:
    """The cards named by DAV:href, each found or 404 (RFC 6352 section 8.7)."""
    render = Renderer(requested(body.find(dav("prop"))), cache)
    paths = list(dict.fromkeys(_path(node.text or "") for node in body.findall(dav("href"))))
    found = resource.members_at(paths)
    multistatus = Multistatus()
    for path in paths:
        member = found.get(path)
        if member is None:
            multistatus.status(path, 404)
        else:
            multistatus.response(path, render.propstats(member))
    return multistatus_response(multistatus.render())


def _limit(body: Element, namespace: Callable[[str], str] = carddav) -> int | None:
    """The limit/nresults of a report: CARDDAV's for addressbook-query (RFC 6352 section 8.6),
    DAV's for sync-collection (RFC 6578 section 3.7, from RFC 5323 section 5.17)."""
    text = body.findtext(f"{namespace('limit')}/{namespace('nresults')}")
    if text is None:
        return None
    limit = whole_number(text.strip())
    if limit is None:
        raise DavError(400, "nresults is a number")
    return limit


def query(resource: Resource, body: Element, cache: CardCache | None) -> Response:
    """The cards matching CARDDAV:filter (RFC 6352 section 8.6), at most CARDDAV:limit of them."""
    render = Renderer(requested(body.find(dav("prop"))), cache)
    card_filter = parse_filter(body.find(carddav("filter")))
    limit = _limit(body)
    matched = [
        member
        for member in resource.members()
        if isinstance(member, VCardResource)
        and (card_filter.takes_all or card_filter.matches(member.vcard()))
    ]
    multistatus = Multistatus()
    for member in matched[:limit]:
        multistatus.response(member.path, render.propstats(member))
    if limit is not None and len(matched) > limit:
        multistatus.status(resource.path, 507, _TRUNCATED)
    return multistatus_response(multistatus.render())


_HANDLERS: dict[str, Callable[[Resource, Element, CardCache | None], Response]] = {
    SYNC_COLLECTION: sync_collection,
    ADDRESSBOOK_MULTIGET: multiget,
    ADDRESSBOOK_QUERY: query,
}
