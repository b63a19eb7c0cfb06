"""Events between server instances through Redis pub/sub."""

from __future__ import annotations

import logging
import threading
from collections.abc import AsyncIterator, Sequence

import redis
import redis.asyncio as aioredis

from circlebook.domain.events import Event
from circlebook.notify import wire
from circlebook.notify.relay import Relay

log = logging.getLogger("circlebook.notify")
CHANNEL = "circlebook:events"
PING_SECONDS = 3.0


class RedisBroker(Relay):
    lost = (redis.RedisError, OSError)
    service = "Redis"

    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._lock = threading.Lock()
        self._sender = redis.Redis.from_url(url)

    async def _messages(self) -> AsyncIterator[bytes]:
        client = aioredis.Redis.from_url(self.url)
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(self.channel)
                self._connected()
                async for message in pubsub.listen():
                    if message.get("type") == "message":
                        yield message["data"]
        finally:
            await client.aclose()

    def publish(self, events: Sequence[Event]) -> None:
        with self._lock:
            try:
                for event in events:
                    self._sender.publish(self.channel, wire.dumps(event))
            except redis.RedisError as exc:
                log.warning("could not publish %d events: %s", len(events), exc)

    def _ping(self) -> None:
        client = redis.Redis.from_url(
            self.url, socket_connect_timeout=PING_SECONDS, socket_timeout=PING_SECONDS
        )
        try:
            client.ping()
        finally:
            client.close()

    def _close(self) -> None:
        self._sender.close()
