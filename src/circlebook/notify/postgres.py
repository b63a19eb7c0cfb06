"""Events between server instances through PostgreSQL LISTEN/NOTIFY: no other service needed."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Sequence

import psycopg

from circlebook.domain.events import Event
from circlebook.notify import wire
from circlebook.notify.relay import Relay

log = logging.getLogger("circlebook.notify")
CHANNEL = "circlebook_events"
PING_SECONDS = 3


class PostgresBroker(Relay):
    lost = (psycopg.Error, OSError)
    service = "PostgreSQL"

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._lock = threading.Lock()
        self._sender: psycopg.Connection[tuple[object, ...]] | None = None

    async def _messages(self) -> AsyncIterator[str]:
        async with await psycopg.AsyncConnection.connect(self.url, autocommit=True) as conn:
            await conn.execute(f'LISTEN "{self.channel}"')
            self._connected()
            async for note in conn.notifies():
                yield note.payload

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

    def _ping(self) -> None:
        with psycopg.connect(self.url, autocommit=True, connect_timeout=PING_SECONDS) as conn:
            conn.execute("SELECT 1")

    def _close(self) -> None:
        with self._lock:
            if self._sender is not None:
                self._sender.close()
                self._sender = None
