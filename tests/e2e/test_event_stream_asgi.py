"""Both ways into GET /v1/events, driven in-process: ahead of FastAPI, and FastAPI's own route."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from fastapi import FastAPI
from fastapi.testclient import TestClient
from starlette.types import ASGIApp, Message

from circlebook.api.limits import StreamSlots
from circlebook.notify import Hub

OWNER = "+8615200152201"


def scope(token: str) -> dict[str, Any]:
    return {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "http",
        "path": "/v1/events",
        "raw_path": b"/v1/events",
        "root_path": "",
        "query_string": b"",
        "headers": [(b"host", b"testserver"), (b"authorization", f"Bearer {token}".encode())],
        "client": ("127.0.0.1", 50000),
        "server": ("testserver", 80),
    }


async def until_ready_then_leave(asgi: ASGIApp, token: str) -> list[Message]:
    """Open a stream, read it up to its `ready` event, then go away as a client does."""
    sent: list[Message] = []
    ready = asyncio.Event()

    async def receive() -> Message:
        if not sent:
            return {"type": "http.request", "body": b"", "more_body": False}
        await ready.wait()
        return {"type": "http.disconnect"}

    async def send(message: Message) -> None:
        sent.append(message)
        if b"event: ready" in message.get("body", b""):
            ready.set()

    await asgi(scope(token), receive, send)
    return sent


@pytest.mark.parametrize("way", ["ahead of FastAPI", "through FastAPI"])
def test_a_stream_is_served_until_its_client_leaves_and_then_gives_its_slot_back(
    client: TestClient, people: Any, way: str
) -> None:
    owner = people(OWNER, "Owner")
    app: FastAPI = client.app  # type: ignore[assignment]
    if way == "through FastAPI":
        # The app's stack without EventsFirst: FastAPI routes the request to the documented route.
        app.middleware_stack = FastAPI.build_middleware_stack(app)
    sent = asyncio.run(until_ready_then_leave(app, owner.token))
    start, *body = sent
    assert start["status"] == 200
    assert (b"content-type", b"text/event-stream; charset=utf-8") in start["headers"]
    assert body[0]["body"] == b"retry: 2000\n\n"
    assert body[1]["body"].startswith(b"event: ready\n")
    assert body[-1] == {"type": "http.response.body", "body": b"", "more_body": False}
    slots: StreamSlots = app.state.stream_slots
    hub: Hub = app.state.hub
    assert slots.open_for(owner.account["id"]) == 0
    assert hub.streams == 0
