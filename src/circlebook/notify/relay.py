"""What the brokers between instances share: one listening task that reconnects by itself."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Callable

from circlebook.domain.events import Event
from circlebook.notify import wire

log = logging.getLogger("circlebook.notify")


class Relay:
    """Hears a shared channel and hands each event to this instance's hub.

    Subclasses yield raw messages from `_messages` and say which errors mean
    the connection was lost; this class retries with a growing pause. Streams
    stay open meanwhile, and what they miss they get by resuming.
    """

    lost: tuple[type[BaseException], ...] = (OSError,)
    service = "the broker"

    def __init__(self) -> None:
        self._listener: asyncio.Task[None] | None = None
        self._ready = asyncio.Event()
        self._pause = 0.5

    async def start(self, deliver: Callable[[Event], None]) -> None:
        self._ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(deliver))
        # Serve only once this instance hears the channel, or its own first
        # events could go out before anyone here listens.
        await asyncio.wait_for(self._ready.wait(), timeout=30)

    def _connected(self) -> None:
        self._ready.set()
        self._pause = 0.5

    async def _messages(self) -> AsyncIterator[str | bytes]:
        raise NotImplementedError
        yield b""  # pragma: no cover - makes this an async generator for type checkers

    async def _listen(self, deliver: Callable[[Event], None]) -> None:
        while True:
            try:
                async for message in self._messages():
                    try:
                        deliver(wire.loads(message))
                    except (ValueError, KeyError) as exc:
                        log.warning("dropped a malformed event message: %s", exc)
            except self.lost as exc:
                log.warning(
                    "lost %s (%s); listening again in %.1fs", self.service, exc, self._pause
                )
            await asyncio.sleep(self._pause)
            self._pause = min(self._pause * 2, 10.0)

    async def ping(self) -> None:
        await asyncio.to_thread(self._ping)

    def _ping(self) -> None:
        """Reach the service afresh, within a few seconds, raising if it does not answer."""
        raise NotImplementedError

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        self._close()

    def _close(self) -> None:
        """Release what publishing holds."""
