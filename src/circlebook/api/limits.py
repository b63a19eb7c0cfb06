"""Bounds on request bodies, enforced before any handler reads them."""

from __future__ import annotations

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from circlebook.api.problems import problem
from circlebook.domain.numbers import whole_number


class BodyLimit:
    """Answers 413 for a body over `limit` bytes, whether declared or streamed.

    The body is read here in full (it is at most `limit` bytes) and handed on,
    so a handler never starts on a request that will turn out too large.
    """

    def __init__(self, app: ASGIApp, limit: int) -> None:
        self.app = app
        self.limit = limit

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
        response = problem(
            413,
            "too-large",
            "Request body too large",
            f"a request body may be at most {self.limit} bytes",
            instance=scope.get("path"),
        )
        await response(scope, receive, send)
