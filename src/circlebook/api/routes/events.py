"""GET /v1/events: the signed-in account's events as Server-Sent Events, resumable.

A server holds thousands of these streams open for hours, nearly all idle, so
each costs what it must and no more: `EventsFirst` answers GET /v1/events ahead
of FastAPI, whose dependency machinery, request objects and middleware would
otherwise stay alive for each stream's whole life. The route below documents
the stream in the OpenAPI document and serves it the same way where FastAPI
routes the request itself. Either way the rules of the stream are those of
services.event_stream; here it is only framed and written out.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from typing import Annotated

import orjson
from fastapi import APIRouter, Header, Request
from fastapi.responses import StreamingResponse
from fastapi.routing import APIRoute
from fastapi.security import HTTPBearer
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import State
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from circlebook.api.limits import StreamSlots
from circlebook.api.problems import from_error, problem
from circlebook.domain.errors import CirclebookError
from circlebook.domain.events import Event
from circlebook.domain.model import Account
from circlebook.edge.deps import SESSION_COOKIE, StreamTokenDep, get_stream_token
from circlebook.notify import Hub, Subscriber, wire
from circlebook.observe.metrics import Metrics
from circlebook.services import auth, event_stream
from circlebook.services.event_stream import Heard, Ready, Resync
from circlebook.services.runtime import Runtime

log = logging.getLogger("circlebook.api")

router = APIRouter(prefix="/v1", tags=["events"])

PATH = "/v1/events"
LAST_EVENT_ID_MAX = 32
COOKIE_MAX = 128  # as edge.deps reads the session cookie
RETRY = b"retry: 2000\n\n"
HEADERS = (
    (b"cache-control", b"no-cache"),
    (b"x-accel-buffering", b"no"),  # nginx: pass each event on at once
    (b"content-type", b"text/event-stream; charset=utf-8"),
)


def frame(heard: Heard) -> bytes:
    """What a stream hears, in the text/event-stream format (HTML Living Standard, 9.2)."""
    if isinstance(heard, Event):
        data = orjson.dumps({**wire.data(heard), "type": heard.type.value}).decode()
        return f"id: {heard.id}\nevent: {heard.type.value}\ndata: {data}\n\n".encode()
    if isinstance(heard, Resync):
        # The client missed what the log no longer holds: it fetches its books in full.
        return f'id: {heard.last_id}\nevent: resync\ndata: {{"type": "resync"}}\n\n'.encode()
    if isinstance(heard, Ready):
        cursor = heard.last_event_id
        return f'event: ready\ndata: {{"type": "ready", "last_event_id": {cursor}}}\n\n'.encode()
    return b": keep-alive\n\n"  # keeps proxies from closing an idle stream


async def open_stream(state: State, token: str) -> tuple[Account, Callable[[], None]]:
    """The token's account, holding one of its stream slots; and what gives the slot back."""
    rt: Runtime = state.runtime
    account = await run_in_threadpool(auth.authenticate, rt, token)
    slots: StreamSlots = state.stream_slots
    release = slots.take(account.id)
    meter: Metrics | None = state.metrics
    if meter is not None:
        release = meter.stream_opened(release)
    return account, release


async def write_stream(
    state: State,
    account: Account,
    last_event_id: str | None,
    receive: Receive,
    send: Send,
) -> None:
    """Write the account's stream out until it ends or the client goes."""
    hub: Hub = state.hub
    subscriber = Subscriber(account.id)
    heard = event_stream.follow(state.runtime, hub, subscriber, account, last_event_id)
    # The request's own task writes the frames; one small task waits for the
    # client to leave, and wakes the stream so that it ends.
    gone = asyncio.ensure_future(_close_when_gone(receive, subscriber))
    try:
        await send({"type": "http.response.start", "status": 200, "headers": HEADERS})
        await send({"type": "http.response.body", "body": RETRY, "more_body": True})
        async for item in heard:
            await send({"type": "http.response.body", "body": frame(item), "more_body": True})
        await send({"type": "http.response.body", "body": b"", "more_body": False})
    finally:
        gone.cancel()
        await heard.aclose()


async def _close_when_gone(receive: Receive, subscriber: Subscriber) -> None:
    while (await receive())["type"] != "http.disconnect":
        pass
    subscriber.close()


async def _serve(
    state: State,
    account: Account,
    release: Callable[[], None],
    last_event_id: str | None,
    receive: Receive,
    send: Send,
) -> None:
    """Write an opened stream out, then give its slot back.

    The slot is given back here rather than in the stream's `finally`: a generator
    that never started (the client left first) never runs it.
    """
    try:
        await write_stream(state, account, last_event_id, receive, send)
    finally:
        release()


class _Stream(Response):
    """The documented route's answer: the same stream, once FastAPI has read the request."""

    def __init__(self, state: State, token: str, last_event_id: str | None) -> None:
        self._opening = (state, token, last_event_id)
        self.background = None  # FastAPI may hand it the request's background tasks

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        state, token, last_event_id = self._opening
        account, release = await open_stream(state, token)
        await _serve(state, account, release, last_event_id, receive, send)


@router.get(
    "/events",
    response_class=StreamingResponse,
    responses={200: {"content": {"text/event-stream": {}}}},
)
async def stream_events(
    request: Request,
    token: StreamTokenDep,
    last_event_id: Annotated[
        str | None, Header(alias="Last-Event-ID", max_length=LAST_EVENT_ID_MAX)
    ] = None,
) -> Response:
    """Events for the signed-in account: invitations, answers, book changes it can see.

    Each carries ids and a sync token, never entries. Reconnect with
    Last-Event-ID to get what was missed, or a `resync` event when it is gone.
    A `ready` event follows the replay: from then on nothing is missed.
    An account may hold CIRCLEBOOK_STREAMS_PER_ACCOUNT streams open at once
    (per server process); one more answers 429 with Retry-After.
    """
    return _Stream(request.app.state, token, last_event_id)


# The route a request served by EventsFirst is logged and counted under.
ROUTE = next(r for r in router.routes if isinstance(r, APIRoute) and r.path == PATH)
_bearer = HTTPBearer(auto_error=False)


class EventsFirst:
    """Serves GET /v1/events before FastAPI sees the request; hands every other one to `app`.

    Placed inside the request log (for X-Request-ID, the access line and the
    request metrics) and outside everything else. `state` is the app's.
    """

    def __init__(self, app: ASGIApp, *, state: State) -> None:
        self.app = app
        self.state = state

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["method"] != "GET" or _route_path(scope) != PATH:
            await self.app(scope, receive, send)
            return
        scope["route"] = ROUTE
        request = Request(scope)
        try:
            token, last_event_id = await _read(request)
            account, release = await open_stream(self.state, token)
        except CirclebookError as exc:
            refusal = from_error(exc, request.url.path)
        except _InvalidInputError as exc:
            refusal = exc.answer(request.url.path)
        except Exception:  # what the app's error handler answers for the other routes
            log.exception("unexpected error on %s %s", scope["method"], PATH)
            refusal = _internal_error(request.url.path)
        else:
            del request  # nothing of it is kept while the stream is open
            await _serve(self.state, account, release, last_event_id, receive, send)
            return
        await refusal(scope, receive, send)


def _route_path(scope: Scope) -> str:
    """The path below the app's root path, as the router matches it."""
    path: str = scope["path"]
    root: str = scope.get("root_path", "")
    return path[len(root) :] if root and path.startswith(root + "/") else path


class _InvalidInputError(Exception):
    """A header or cookie over its length: FastAPI's 422 for the documented route."""

    def __init__(self, errors: list[dict[str, str]]) -> None:
        self.errors = errors

    def answer(self, instance: str) -> Response:
        first = self.errors[0]
        detail = f"{first['field']}: {first['message']}"
        return problem(
            422,
            "invalid-input",
            "Invalid input",
            detail,
            instance=instance,
            field=first["field"],
            errors=self.errors,
        )


def _internal_error(instance: str) -> Response:
    """The answer api.problems gives any route that failed unexpectedly."""
    detail = "the server failed; the request was not carried out"
    return problem(500, "internal", "Internal server error", detail, instance=instance)


def _too_long(field: str, limit: int) -> dict[str, str]:
    return {"field": field, "message": f"String should have at most {limit} characters"}


async def _read(request: Request) -> tuple[str, str | None]:
    """The token and Last-Event-ID, checked in the order FastAPI checks the documented
    route's: the session cookie's length, then the token (401 without one), then the
    Last-Event-ID's length."""
    errors: list[dict[str, str]] = []
    session = request.cookies.get(SESSION_COOKIE)
    token = ""
    if session is not None and len(session) > COOKIE_MAX:
        errors.append(_too_long(f"cookie.{SESSION_COOKIE}", COOKIE_MAX))
    else:
        token = await get_stream_token(await _bearer(request), session)
    last_event_id = request.headers.get("last-event-id")
    if last_event_id is not None and len(last_event_id) > LAST_EVENT_ID_MAX:
        errors.append(_too_long("Last-Event-ID", LAST_EVENT_ID_MAX))
    if errors:
        raise _InvalidInputError(errors)
    return token, last_event_id
