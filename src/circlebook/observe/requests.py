"""The outermost layer of every request: its id, its access-log line, and its metrics."""

from __future__ import annotations

import logging
import os
from time import perf_counter
from typing import Protocol

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from circlebook.observe.logs import ACCESS_LOGGER, REQUEST_ID

HEADER = b"x-request-id"
MAX_ID_LENGTH = 128
# The label of a request no route took (a 404, or a redirect to add a slash):
# never its path, which may be anything a client typed, a phone number included.
UNMATCHED = "(unmatched)"
# Mounted apps routed before the router (see dav.app.DavFirst): their template.
MOUNTED: tuple[tuple[str, str], ...] = (("/dav/", "/dav/{path}"),)

access_log = logging.getLogger(ACCESS_LOGGER)


class RequestMeter(Protocol):
    def request_done(self, route: str, method: str, status: int, seconds: float) -> None: ...


def request_id(headers: list[tuple[bytes, bytes]]) -> str:
    """The client's X-Request-ID when it is 1 to 128 printable ASCII characters, else a new one."""
    for name, value in headers:
        if name == HEADER:
            if 0 < len(value) <= MAX_ID_LENGTH and all(32 <= byte < 127 for byte in value):
                return value.decode("ascii")
            break
    return new_request_id()


def new_request_id() -> str:
    """A random UUID (version 4, RFC 9562 section 5.4) as 32 hex digits.

    What uuid.uuid4().hex gives, without building a UUID object on every request.
    """
    raw = bytearray(os.urandom(16))
    raw[6] = raw[6] & 0x0F | 0x40  # version 4
    raw[8] = raw[8] & 0x3F | 0x80  # variant 10
    return raw.hex()


def route_of(scope: Scope) -> str:
    """The template of the route that took the request (`/v1/books/{book_id}`), never its path."""
    route = scope.get("route")
    template = getattr(route, "path_format", None)
    if isinstance(template, str):
        return template
    path: str = scope["path"]
    for prefix, label in MOUNTED:
        if path.startswith(prefix):
            return label
    return UNMATCHED


def _client(scope: Scope) -> str:
    client = scope.get("client")
    return f"{client[0]}:{client[1]}" if client else ""


class RequestLog:
    """Gives each request an id (kept in `REQUEST_ID`, sent back in X-Request-ID), then logs it
    by route template and hands its figures to `meter` (None: metrics are off, nothing is counted).

    It wraps the whole app, the error handler included, so a 500 carries the id too.
    """

    def __init__(self, app: ASGIApp, *, meter: RequestMeter | None) -> None:
        self.app = app
        self.meter = meter

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        rid = request_id(scope["headers"])
        header = (HEADER, rid.encode("ascii"))
        status = 500  # what the client gets if the app fails before answering

        async def send_with_id(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", ()), header]
            await send(message)

        context = REQUEST_ID.set(rid)
        started = perf_counter()
        try:
            await self.app(scope, receive, send_with_id)
        finally:
            self._done(scope, rid, status, perf_counter() - started)
            REQUEST_ID.reset(context)

    def _done(self, scope: Scope, rid: str, status: int, seconds: float) -> None:
        route = route_of(scope)
        if self.meter is not None:
            self.meter.request_done(route, scope["method"], status, seconds)
        if access_log.isEnabledFor(logging.INFO):
            # uvicorn's own access line (its formatter reads these five arguments), with the
            # route template where uvicorn puts the path; the fields are for JSON lines.
            access_log.info(
                '%s - "%s %s HTTP/%s" %d',
                _client(scope),
                scope["method"],
                route,
                scope.get("http_version", "1.1"),
                status,
                extra={
                    "route": route,
                    "method": scope["method"],
                    "status": status,
                    "duration": round(seconds, 6),
                    "request_id": rid,
                },
            )
