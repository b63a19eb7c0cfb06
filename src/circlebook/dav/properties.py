"""Resources and their WebDAV properties, one class per property citing where it is defined.

A resource answers the hooks it has (`displayname`, `etag`, ...) and leaves the
others None; a property a resource lacks is reported 404 in its propstat.
Nothing here knows about address books: CardDAV builds on it in `carddav`.
"""

from __future__ import annotations

from collections.abc import Hashable, Sequence
from dataclasses import dataclass
from typing import ClassVar

from circlebook.dav.xml import CALENDARSERVER, dav, element, href, text

COLLECTION = dav("collection")
PRINCIPAL = dav("principal")
SYNC_COLLECTION = dav("sync-collection")


@dataclass(frozen=True, slots=True)
class SyncAnswer:
    """What changed in a collection since a token: members to send, paths gone, the next token;
    `truncated` when a limit left changes out, which the next token goes on to."""

    changed: Sequence[Resource]
    removed: Sequence[str]
    token: str
    truncated: bool = False


class Resource:
    """Something at a path, seen by one signed-in user (whose principal is `principal`)."""

    resource_types: ClassVar[tuple[str, ...]] = ()
    reports: ClassVar[tuple[str, ...]] = ()

    def __init__(self, path: str, principal: str) -> None:
        self.path = path
        self.principal = principal

    def displayname(self) -> str | None:
        return None

    def etag(self) -> str | None:
        """The strong entity tag, quotes included."""
        return None

    def content_type(self) -> str | None:
        return None

    def content(self) -> str | None:
        """The body of a GET; None for a collection."""
        return None

    def sync_token(self) -> str | None:
        return None

    def view_tag(self, representation: str) -> str | None:
        """The entity tag of all the members in `representation`, known without listing
        them; None where there is none (then whole answers carry no ETag)."""
        return None

    def principal_url(self) -> str | None:
        return None

    def content_key(self) -> Hashable | None:
        """All that the values of its `Property.of_content` properties follow from; None
        where the resource has no such key (then no answer about it is kept)."""
        return None

    def content_source(self) -> str | None:
        """What its content is drawn from (a card: its entry's id), so that answers kept
        about it can be dropped when that goes; None where nothing is kept of it."""
        return None

    def members(self) -> Sequence[Resource]:
        """The resources one level below (Depth: 1)."""
        return ()

    def members_at(self, paths: Sequence[str]) -> dict[str, Resource]:
        """Those of `paths` that are members here, by path (for a multiget)."""
        raise NotImplementedError

    def sync(self, token: str | None, limit: int | None = None) -> SyncAnswer:
        """Changes since `token`, or every member for None (RFC 6578 section 3.2); at most
        `limit` of them, the token then one to ask for the rest with (section 3.6)."""
        raise NotImplementedError


class Property:
    """One live property: `render` gives its value as XML, or None where the resource lacks it."""

    name: ClassVar[str]
    # DAV:allprop returns only the live properties RFC 4918 defines (section 9.1).
    in_allprop: ClassVar[bool] = False
    # Its value follows from the resource's content alone (`Resource.content_key`), never
    # from who asks: answers made of such properties may be kept (dav.card_cache).
    of_content: ClassVar[bool] = False

    def render(self, resource: Resource) -> str | None:
        raise NotImplementedError


class ResourceType(Property):
    """DAV:resourcetype, RFC 4918 section 15.9: empty, or the kinds of collection it is."""

    name = dav("resourcetype")
    in_allprop = True
    of_content = True

    def render(self, resource: Resource) -> str | None:
        return "".join(element(kind) for kind in resource.resource_types)


class DisplayName(Property):
    """DAV:displayname, RFC 4918 section 15.2: a name for people (a book's title)."""

    name = dav("displayname")
    in_allprop = True

    def render(self, resource: Resource) -> str | None:
        value = resource.displayname()
        return None if value is None else text(value)


class GetETag(Property):
    """DAV:getetag, RFC 4918 section 15.6: the entity tag a GET of the resource carries."""

    name = dav("getetag")
    in_allprop = True
    of_content = True

    def render(self, resource: Resource) -> str | None:
        value = resource.etag()
        return None if value is None else text(value)


class GetContentType(Property):
    """DAV:getcontenttype, RFC 4918 section 15.5: the media type of a GET."""

    name = dav("getcontenttype")
    in_allprop = True
    of_content = True

    def render(self, resource: Resource) -> str | None:
        value = resource.content_type()
        return None if value is None else text(value)


class CurrentUserPrincipal(Property):
    """DAV:current-user-principal, RFC 5397 section 3: where the signed-in user's principal is."""

    name = dav("current-user-principal")

    def render(self, resource: Resource) -> str | None:
        return href(resource.principal)


class PrincipalURL(Property):
    """DAV:principal-URL, RFC 3744 section 4.2: a principal's own canonical path."""

    name = dav("principal-URL")

    def render(self, resource: Resource) -> str | None:
        value = resource.principal_url()
        return None if value is None else href(value)


class CurrentUserPrivilegeSet(Property):
    """DAV:current-user-privilege-set, RFC 3744 section 5.4: read only, everywhere.

    Clients read this to show a book as read-only instead of failing on a save.
    """

    name = dav("current-user-privilege-set")
    _READ = element(dav("privilege"), element(dav("read")))

    def render(self, resource: Resource) -> str | None:
        return self._READ


class SupportedReportSet(Property):
    """DAV:supported-report-set, RFC 3253 section 3.1.5: the REPORTs the resource answers."""

    name = dav("supported-report-set")

    def render(self, resource: Resource) -> str | None:
        return "".join(
            element(dav("supported-report"), element(dav("report"), element(report)))
            for report in resource.reports
        )


class SyncToken(Property):
    """DAV:sync-token, RFC 6578 section 4: the token of the collection's current state."""

    name = dav("sync-token")

    def render(self, resource: Resource) -> str | None:
        value = resource.sync_token()
        return None if value is None else text(value)


class GetCTag(Property):
    """CS:getctag, caldav-ctag-02 section 4.1: changes whenever anything in the collection does.

    Older clients (iOS among them) poll this before anything else.
    """

    name = f"{{{CALENDARSERVER}}}getctag"

    def render(self, resource: Resource) -> str | None:
        value = resource.sync_token()
        return None if value is None else text(value)


WEBDAV_PROPERTIES: tuple[Property, ...] = (
    ResourceType(),
    DisplayName(),
    GetETag(),
    GetContentType(),
    CurrentUserPrincipal(),
    PrincipalURL(),
    CurrentUserPrivilegeSet(),
    SupportedReportSet(),
    SyncToken(),
    GetCTag(),
)
