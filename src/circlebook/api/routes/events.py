"""GET /v1/events: the signed-in account's events as Server-Sent Events, resumable."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator, Callable
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from starlette.concurrency import run_in_threadpool
from starlette.types import Receive, Scope, Send

from circlebook.api.limits import StreamSlots
from circlebook.domain.events import Event
from circlebook.domain.model import Account
from circlebook.edge.deps import HubDep, RuntimeDep, StreamTokenDep
from circlebook.notify import Hub, Subscriber
from circlebook.observe.metrics import Metrics
from circlebook.services import auth, event_stream
from circlebook.services.event_stream import Heard, Ready, Resync
from circlebook.services.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["events"])


RETRY = b"retry: 2000\n\n"


def frame(heard: Heard) -> bytes:
    """What a stream hears, in the text/event-stream format (HTML Living Standard, 9.2)."""
    if isinstance(heard, Event):
        data = orjson.dumps({**heard.data, "type": heard.type.value}).decode()
        return f"id: {heard.id}\nevent: {heard.type.value}\ndata: {data}\n\n".encode()
    if isinstance(heard, Resync):
        # The client missed what the log no longer holds: it fetches its books in full.
        return f'id: {heard.last_id}\nevent: resync\ndata: {{"type": "resync"}}\n\n'.encode()
    if isinstance(heard, Ready):
        cursor = heard.last_event_id
        return f'event: ready\ndata: {{"type": "ready", "last_event_id": {cursor}}}\n\n'.encode()
    return b": keep-alive\n\n"  # keeps proxies from closing an idle stream


async def _frames(
    rt: Runtime, hub: Hub, subscriber: Subscriber, account: Account, last_event_id: str | None
) -> AsyncGenerator[bytes, None]:
    yield RETRY
    async for heard in event_stream.follow(rt, hub, subscriber, account, last_event_id):
        yield frame(heard)


class EventStream(StreamingResponse):
    """The answer that carries one stream: StreamingResponse made lean for long, idle streams.

    StreamingResponse runs two tasks and a task group for each answer, and a
    stream a phone holds for hours costs that all along. Here the request's own
    task writes the frames, and one small task waits for the client to leave and
    wakes the stream so that it ends. The account's slot is given back here
    rather than in the generator's `finally`: a generator that never started
    (the client left before the first byte) never runs it.
    """

    def __init__(
        self,
        frames: AsyncGenerator[bytes, None],
        subscriber: Subscriber,
        release: Callable[[], None],
    ) -> None:
        super().__init__(
            frames,
            media_type="text/event-stream",
            headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"},
        )
        self._frames = frames
        self._subscriber = subscriber
        self._release = release

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        gone = asyncio.ensure_future(_disconnected(receive))
        gone.add_done_callback(lambda _: self._subscriber.close())
        try:
            await send({"type": "http.response.start", "status": 200, "headers": self.raw_headers})
            async for chunk in self._frames:
                await send({"type": "http.response.body", "body": chunk, "more_body": True})
            await send({"type": "http.response.body", "body": b"", "more_body": False})
        finally:
            gone.cancel()
            await self._frames.aclose()
            self._release()


async def _disconnected(receive: Receive) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    rt: RuntimeDep,
    hub: HubDep,
    token: StreamTokenDep,
    last_event_id: Annotated[str | None, Header(alias="Last-Event-ID", max_length=32)] = None,
) -> StreamingResponse:
    """Events for the signed-in account: invitations, answers, book changes it can see.

    Each carries ids and a sync token, never entries. Reconnect with
    Last-Event-ID to get what was missed, or a `resync` event when it is gone.
    A `ready` event follows the replay: from then on nothing is missed.
    An account may hold CIRCLEBOOK_STREAMS_PER_ACCOUNT streams open at once
    (per server process); one more answers 429 with Retry-After.
    """
    account = await run_in_threadpool(auth.authenticate, rt, token)
    slots: StreamSlots = request.app.state.stream_slots
    release = slots.take(account.id)
    meter: Metrics | None = request.app.state.metrics
    if meter is not None:
        release = meter.stream_opened(release)
    subscriber = Subscriber(account.id)
    return EventStream(_frames(rt, hub, subscriber, account, last_event_id), subscriber, release)
