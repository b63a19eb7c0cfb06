"""Bounds on requests: body sizes, enforced before any handler reads them; open streams."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from circlebook.api.problems import problem
from circlebook.domain.errors import RateLimitedError
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


class StreamSlots:
    """How many event streams each account holds open in this process, at most `limit`.

    An open stream costs a connection, a queue and a task for as long as it
    lasts, so one token must not open them without end. The count lives in this
    process's memory, like the streams themselves: behind a load balancer with
    several instances, an account may hold `limit` streams on each of them.
    Streams run on the event loop's one thread, so no lock is needed.
    """

    # An open stream frees its slot only when it closes: ask again a while later.
    RETRY_AFTER = 30

    def __init__(self, limit: int) -> None:
        self.limit = limit  # 0: no limit
        self._open: Counter[str] = Counter()

    def take(self, account_id: str) -> Callable[[], None]:
        """Hold a slot for the account, or raise RateLimitedError; returns the release."""
        if self.limit and self._open[account_id] >= self.limit:
            raise RateLimitedError(
                f"at most {self.limit} event streams may be open at once: close one",
                retry_after=self.RETRY_AFTER,
            )
        self._open[account_id] += 1
        released = False

        def release() -> None:
            nonlocal released
            if not released:
                released = True
                self._open[account_id] -= 1
                if self._open[account_id] <= 0:
                    del self._open[account_id]

        return release

    def open_for(self, account_id: str) -> int:
        return self._open[account_id]
