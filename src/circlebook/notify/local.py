"""The broker of a single process: events go straight to this process's hub."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Sequence

from circlebook.domain.events import Event


class LocalBroker:
    def __init__(self) -> None:
        self._loop: asyncio.AbstractEventLoop | None = None
        self._deliver: Callable[[Event], None] | None = None

    async def start(self, deliver: Callable[[Event], None]) -> None:
        self._loop = asyncio.get_running_loop()
        self._deliver = deliver

    def publish(self, events: Sequence[Event]) -> None:
        """Called after commit, usually from a worker thread: hand over to the loop."""
        if self._loop is None or self._deliver is None or self._loop.is_closed():
            return  # nobody can be listening before start or after stop
        for event in events:
            self._loop.call_soon_threadsafe(self._deliver, event)

    async def ping(self) -> None:
        """The hub is in this process: there is nothing that could fail to answer."""

    async def stop(self) -> None:
        self._loop = None
