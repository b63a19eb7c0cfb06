"""Events between server instances through Redis pub/sub."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import Callable, Sequence

import redis
import redis.asyncio as aioredis

from circlebook.domain.events import Event
from circlebook.notify import wire

log = logging.getLogger("circlebook.notify")
CHANNEL = "circlebook:events"


class RedisBroker:
    def __init__(self, url: str, channel: str = CHANNEL) -> None:
        self.url = url
        self.channel = channel
        self._lock = threading.Lock()
        self._sender = redis.Redis.from_url(url)
        self._listener: asyncio.Task[None] | None = None

    async def start(self, deliver: Callable[[Event], None]) -> None:
        ready = asyncio.Event()
        self._listener = asyncio.create_task(self._listen(deliver, ready))
        await asyncio.wait_for(ready.wait(), timeout=30)

    async def _listen(self, deliver: Callable[[Event], None], ready: asyncio.Event) -> None:
        delay = 0.5
        while True:
            client = aioredis.Redis.from_url(self.url)
            try:
                async with client.pubsub() as pubsub:
                    await pubsub.subscribe(self.channel)
                    ready.set()
                    delay = 0.5
                    async for message in pubsub.listen():
                        if message.get("type") != "message":
                            continue
                        try:
                            deliver(wire.loads(message["data"]))
                        except (ValueError, KeyError) as exc:
                            log.warning("dropped a malformed event message: %s", exc)
            except (redis.RedisError, OSError) as exc:
                log.warning("event listener lost Redis (%s); retrying in %.1fs", exc, delay)
                await asyncio.sleep(delay)
                delay = min(delay * 2, 10.0)
            finally:
                await client.aclose()

    def publish(self, events: Sequence[Event]) -> None:
        with self._lock:
            try:
                for event in events:
                    self._sender.publish(self.channel, wire.dumps(event))
            except redis.RedisError as exc:
                log.warning("could not publish %d events: %s", len(events), exc)

    async def stop(self) -> None:
        if self._listener is not None:
            self._listener.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listener
        self._sender.close()
