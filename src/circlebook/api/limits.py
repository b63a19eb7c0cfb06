"""Bounds on requests: the answer to a body too large, in problem+json; open streams."""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable

from starlette.requests import Request
from starlette.responses import Response

from circlebook.api.problems import problem
from circlebook.domain.errors import RateLimitedError


async def too_large(request: Request, limit: int) -> Response:
    """The JSON API's answer to a body over the limit (see edge.bodies.BodyLimit)."""
    return problem(
        413,
        "too-large",
        "Request body too large",
        f"a request body may be at most {limit} bytes",
        instance=request.scope.get("path"),
    )


class StreamSlots:
    """How many event streams each account holds open in this process, at most `limit`.

    An open stream costs a connection and some memory for as long as it
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
        return _Slot(self, account_id)

    def _give_back(self, account_id: str) -> None:
        self._open[account_id] -= 1
        if self._open[account_id] <= 0:
            del self._open[account_id]

    def open_for(self, account_id: str) -> int:
        return self._open[account_id]


class _Slot:
    """One stream's slot: calling it gives the slot back, however often it is called.

    A small object rather than a closure, kept by every open stream for its whole life.
    """

    __slots__ = ("_account_id", "_slots")

    def __init__(self, slots: StreamSlots, account_id: str) -> None:
        self._slots: StreamSlots | None = slots
        self._account_id = account_id

    def __call__(self) -> None:
        if self._slots is not None:
            self._slots._give_back(self._account_id)
            self._slots = None
