"""DAV errors: the one table mapping failures to DAV answers and their preconditions.

A failed precondition answers with a DAV:error body naming it (RFC 4918
section 16), which is what clients act on: DAV:valid-sync-token, for one, makes
them start over with an initial sync (RFC 6578 section 3.2).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping

from starlette.requests import Request
from starlette.responses import PlainTextResponse, Response

from circlebook.dav.multistatus import XML_MEDIA_TYPE, error_document
from circlebook.dav.xml import WEBDAV_PUSH, carddav, dav, element, href
from circlebook.domain import errors
from circlebook.edge.errors import nearest

# The challenge every 401 carries (RFC 7617); CardDAV clients send Basic credentials.
BASIC_CHALLENGE = 'Basic realm="circlebook", charset="UTF-8"'

VALID_SYNC_TOKEN = element(dav("valid-sync-token"))  # RFC 6578 section 3.2
SUPPORTED_REPORT = element(dav("supported-report"))  # RFC 3253 section 3.6
SUPPORTED_FILTER = element(carddav("supported-filter"))  # RFC 6352 section 8.6
SUPPORTED_COLLATION = element(carddav("supported-collation"))  # RFC 6352 section 8.3
# RFC 6352 section 5.1.1.1: the card cannot be had in the media type or version asked for.
SUPPORTED_ADDRESS_DATA_CONVERSION = element(carddav("supported-address-data-conversion"))
# draft-bitfire-webdav-push, "Subscription Registration": 403 with this precondition
# when the user may not register (here: the account holds as many as it may).
PUSH_NOT_AVAILABLE = element(f"{{{WEBDAV_PUSH}}}push-not-available")


def need_privileges(path: str, privilege: str = "write") -> str:
    """DAV:need-privileges: the privilege the request lacked, and where (RFC 3744 section 7.1.1)."""
    wanted = element(dav("privilege"), element(dav(privilege)))
    return element(dav("need-privileges"), element(dav("resource"), href(path) + wanted))


class DavError(Exception):
    """An answer other than success, with the precondition that failed if there is one."""

    def __init__(
        self,
        status: int,
        detail: str,
        *,
        condition: str = "",
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.condition = condition
        self.headers = dict(headers or {})

    def response(self) -> Response:
        if self.condition:
            body = error_document(self.condition)
            return Response(body, self.status, self.headers, media_type=XML_MEDIA_TYPE)
        return PlainTextResponse(self.detail + "\n", self.status, self.headers)


# The status and the failed precondition, if any, or how to name it from the path.
# Looked up by the error's classes, nearest first (see edge.errors.nearest).
_TABLE: dict[type[errors.CirclebookError], tuple[int, str | Callable[[str], str]]] = {
    errors.NotAuthenticatedError: (401, ""),
    errors.NotFoundError: (404, ""),
    errors.ForbiddenError: (403, need_privileges),
    errors.RateLimitedError: (429, ""),
    errors.StaleSyncTokenError: (403, VALID_SYNC_TOKEN),
    errors.BadSyncTokenError: (403, VALID_SYNC_TOKEN),
    errors.InvalidInputError: (400, ""),
    errors.ConflictError: (409, ""),
    errors.LimitReachedError: (403, PUSH_NOT_AVAILABLE),
}


def from_error(exc: errors.CirclebookError, path: str) -> DavError:
    """The DAV answer to an error a service raised on `path`."""
    status, condition = nearest(_TABLE, exc) or (400, "")
    headers: dict[str, str] = {}
    if status == 401:
        headers["WWW-Authenticate"] = BASIC_CHALLENGE
    if isinstance(exc, errors.RateLimitedError):
        headers["Retry-After"] = str(exc.retry_after)
    condition = condition(path) if callable(condition) else condition
    return DavError(status, exc.detail, condition=condition, headers=headers)


def body_too_large(limit: int) -> DavError:
    return DavError(413, f"a request body may be at most {limit} bytes")


async def too_large(request: Request, limit: int) -> Response:
    """DAV's answer to a body over the limit that came through the router (edge.bodies)."""
    return body_too_large(limit).response()
