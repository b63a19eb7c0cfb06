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
from circlebook.domain.events import BookChanged, BookLeft, Event
from circlebook.domain.model import Account
from circlebook.domain.numbers import whole_number
from circlebook.edge.deps import HubDep, RuntimeDep, StreamTokenDep
from circlebook.notify import Hub, Signal, Subscriber, wire
from circlebook.observe.metrics import Metrics
from circlebook.services import auth, events
from circlebook.services.runtime import Runtime

router = APIRouter(prefix="/v1", tags=["events"])


def frame(event: Event) -> bytes:
    """One event in the text/event-stream format (HTML Living Standard, 9.2)."""
    data = orjson.dumps({**wire.data(event), "type": event.type.value}).decode()
    return f"id: {event.id}\nevent: {event.type.value}\ndata: {data}\n\n".encode()


def resync(last_id: int) -> bytes:
    """Tell the client it missed what the log no longer holds: fetch its books in full."""
    return f'id: {last_id}\nevent: resync\ndata: {{"type": "resync"}}\n\n'.encode()


async def _follow(
    rt: Runtime, hub: Hub, subscriber: Subscriber, account: Account, event: Event
) -> None:
    """Keep the subscriber's place in a book current after an event about its own entry."""
    book_id = event.book_id
    if isinstance(event, BookLeft):
        hub.watch(subscriber, book_id, None)
    elif isinstance(event, BookChanged) and event.subject_id == account.id:
        hub.watch(
            subscriber, book_id, await run_in_threadpool(events.viewer_of, rt, account, book_id)
        )


async def _stream(
    rt: Runtime, hub: Hub, subscriber: Subscriber, account: Account, last_event_id: str | None
) -> AsyncGenerator[bytes, None]:
    # Attach before reading where the log stands, so nothing committed in between
    # is lost: it arrives live, or in the replay below, and duplicates are skipped.
    hub.attach(subscriber)
    try:
        subscription = await run_in_threadpool(events.subscribe, rt, account)
        for book_id, viewer in subscription.viewers.items():
            hub.watch(subscriber, book_id, viewer)
        yield b"retry: 2000\n\n"
        after = subscription.last_id
        if last_event_id is not None:
            # An id this server could not have sent is unknown: the client resyncs.
            known = whole_number(last_event_id)
            after = -1 if known is None else known
        replay = await run_in_threadpool(
            events.missed, rt, account, max(after, 0), list(subscriber.viewers)
        )
        cursor = max(after, 0)
        if replay is None or after < 0:
            yield resync(subscription.last_id)
            cursor = subscription.last_id
            replay = []
        for event in replay:
            cursor = event.id
            if subscriber.wants(event):
                await _follow(rt, hub, subscriber, account, event)
                yield frame(event)
        # From here on every event reaches this stream live: a client may now act.
        yield f'event: ready\ndata: {{"type": "ready", "last_event_id": {cursor}}}\n\n'.encode()
        while True:
            heard = await subscriber.next()
            if heard is Signal.CLOSED:
                return
            if heard is Signal.KEEP_ALIVE:
                yield b": keep-alive\n\n"  # keeps proxies from closing an idle stream
                continue
            if subscriber.overflowed:
                yield resync(cursor)
                return  # the client reconnects and fetches in full
            if heard.id <= cursor:
                continue
            cursor = heard.id
            await _follow(rt, hub, subscriber, account, heard)
            yield frame(heard)
    finally:
        hub.detach(subscriber)


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
    return EventStream(_stream(rt, hub, subscriber, account, last_event_id), subscriber, release)
