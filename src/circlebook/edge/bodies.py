"""The request body limit, enforced before any handler reads a body, answered by each edge.

The limit is the same everywhere (CIRCLEBOOK_MAX_BODY_BYTES); what a client is
told is not: problem+json for the JSON API, a page for a browser. The DAV tree
reads and bounds its own bodies, so it answers in DAV's own way.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Mapping

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from circlebook.domain.numbers import whole_number

# How an edge tells a client its body was over `limit` bytes.
Refusal = Callable[[Request, int], Awaitable[Response]]


def by_path(refusals: Mapping[str, Refusal], otherwise: Refusal) -> Refusal:
    """The refusal of the edge whose path prefix the request's path starts with."""

    async def refuse(request: Request, limit: int) -> Response:
        root = request.scope.get("root_path", "")
        path = request.scope["path"]
        if root and path.startswith(root + "/"):
            path = path[len(root) :]
        chosen = next((r for prefix, r in refusals.items() if path.startswith(prefix)), otherwise)
        return await chosen(request, limit)

    return refuse


class BodyLimit:
    """Refuses a body over `limit` bytes, whether declared or streamed, with `refuse`.

    The body is read here in full (it is at most `limit` bytes) and handed on,
    so a handler never starts on a request that will turn out too large.
    """

    def __init__(self, app: ASGIApp, limit: int, refuse: Refusal) -> None:
        self.app = app
        self.limit = limit
        self.refuse = refuse

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] in ("GET", "HEAD", "OPTIONS"):
            await self.app(scope, receive, send)
            return
        declared = dict(scope["headers"]).get(b"content-length")
        # Read by the one rule for client numbers: int() of 5,000 digits raises ValueError.
        size_declared = None if declared is None else whole_number(declared.decode("latin-1"))
        if declared is not None and (size_declared is None or size_declared > self.limit):
            await self._refuse(scope, receive, send)
            return
        chunks: list[bytes] = []
        size = 0
        while True:
            message = await receive()
            if message["type"] != "http.request":
                return  # the client went away
            chunk = message.get("body", b"")
            size += len(chunk)
            if size > self.limit:
                await self._refuse(scope, receive, send)
                return
            chunks.append(chunk)
            if not message.get("more_body", False):
                break
        body = b"".join(chunks)
        delivered = False

        async def replay() -> Message:
            nonlocal delivered
            if not delivered:
                delivered = True
                return {"type": "http.request", "body": body, "more_body": False}
            return await receive()

        await self.app(scope, replay, send)

    async def _refuse(self, scope: Scope, receive: Receive, send: Send) -> None:
        response = await self.refuse(Request(scope, receive), self.limit)
        await response(scope, receive, send)
