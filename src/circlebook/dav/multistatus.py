"""Multi-status answers (RFC 4918 section 13) and the error bodies of preconditions (16)."""

from __future__ import annotations

from collections.abc import Sequence
from functools import cache
from http import HTTPStatus

from circlebook.dav.xml import dav, document, element, href, text

XML_MEDIA_TYPE = "application/xml; charset=utf-8"


@cache
def status_line(code: int) -> str:
    """`<d:status>HTTP/1.1 200 OK</d:status>` (RFC 4918 section 14.28)."""
    return f"<d:status>HTTP/1.1 {code} {HTTPStatus(code).phrase}</d:status>"


_OK = status_line(200)
_END_RESPONSE = b"</d:response>"


def _propstat(props: Sequence[str], code: int) -> str:
    return f"<d:propstat><d:prop>{''.join(props)}</d:prop>{status_line(code)}</d:propstat>"


def propstats(found: Sequence[str], missing: Sequence[str] = ()) -> str:
    """The propstats of one response: the properties found (200) and those lacking (404)."""
    if not missing:  # every card of a REPORT: one propstat, written in one go
        return f"<d:propstat><d:prop>{''.join(found)}</d:prop>{_OK}</d:propstat>"
    # A response holds at least one propstat (RFC 4918 section 14.24), even for an empty prop.
    return (_propstat(found, 200) if found else "") + _propstat(missing, 404)


class Multistatus:
    """A DAV:multistatus body, one DAV:response per resource, written as it is filled.

    Held as UTF-8 parts: a card's propstats come encoded from the card cache, and
    the whole answer is then one join of bytes (see xml.document).
    """

    def __init__(self) -> None:
        self._parts: list[bytes] = []

    def __len__(self) -> int:
        return len(self._parts)

    def properties(self, path: str, found: Sequence[str], missing: Sequence[str] = ()) -> None:
        """A response with the properties found (200) and those this resource lacks (404)."""
        self.response(path, propstats(found, missing).encode())

    def response(self, path: str, stats: bytes) -> None:
        """A response with its propstats already written and encoded (see `propstats`)."""
        self._parts += (f"<d:response>{href(path)}".encode(), stats, _END_RESPONSE)

    def status(self, path: str, code: int, error: str = "") -> None:
        """A response that is only a status (and maybe a precondition), as for a removed member."""
        body = element(dav("error"), error) if error else ""
        part = f"<d:response>{href(path)}{status_line(code)}{body}</d:response>"
        self._parts.append(part.encode())

    def render(self, sync_token: str | None = None) -> bytes:
        """The document; with `sync_token`, the DAV:sync-token that ends a sync (RFC 6578 3.2)."""
        if sync_token is None:
            return document(dav("multistatus"), self._parts)
        token = element(dav("sync-token"), text(sync_token)).encode()
        return document(dav("multistatus"), [*self._parts, token])


def error_document(condition: str) -> bytes:
    """`<d:error>` naming the precondition that failed (RFC 4918 section 16)."""
    return document(dav("error"), condition)
