"""Events between server instances through PostgreSQL LISTEN/NOTIFY: no other service needed."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence

import psycopg

from circlebook.domain.events import Event
from circlebook.notify import wire

log = logging.getLogger("circlebook.notify")
CHANNEL = "circlebook_events"


class PostgresBroker:
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self._lock = threading.Lock()
        self._sender: psycopg.Connection[tuple[object, ...]] | None = None
        self._listener: asyncio.Task[None] | None = None

    async def start(self, deliver: Callable[[Event], None]) -> None:
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(deliver, ready))
        # Serve only once this instance hears the channel, or its own first
        # events could go out before anyone here listens.
        await asyncio.wait_for(ready.wait(), timeout=30)

    async def _listen(self, deliver: Callable[[Event], None], ready: asyncio.Event) -> None:
        delay = 0.5
        while True:
            try:
                async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
                    await conn.execute(f'LISTEN "{self.channel}"')
                    ready.set()
                    delay = 0.5
                    async for note in conn.notifies():
                        try:
                            deliver(wire.loads(note.payload))
                        except (ValueError, KeyError) as exc:
                            log.warning("dropped a malformed event notification: %s", exc)
            except psycopg.Error as exc:
                # Streams stay open; what is missed meanwhile they get by resuming.
                log.warning("event listener lost PostgreSQL (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)

    def publish(self, events: Sequence[Event]) -> None:
        with self._lock:
            try:
                if self._sender is None or self._sender.closed:
                    self._sender = psycopg.connect(self.url, autocommit=True)
                for event in events:
                    self._sender.execute(
                        "SELECT pg_notify(%s, %s)", (self.channel, wire.dumps(event))
                    )
            except psycopg.Error as exc:
                log.warning("could not publish %d events: %s", len(events), exc)
                self._sender = None

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        with self._lock:
            if self._sender is not None:
                self._sender.close()
                self._sender = None
