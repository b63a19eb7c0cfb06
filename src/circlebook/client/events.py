"""Reading the server's event stream (text/event-stream, HTML Living Standard 9.2)."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator, Iterable, Iterator
from dataclasses import dataclass, field
from typing import Any


@dataclass(frozen=True, slots=True)
class ServerEvent:
    """One event: `type` such as invitation.received or book.changed, its id, and its data."""

    type: str
    id: str | None
    data: dict[str, Any] = field(default_factory=dict)


class EventParser:
    """Turns stream lines into events; comments (keep-alives) and retry hints are skipped."""

    def __init__(self) -> None:
        self._reset()

    def _reset(self) -> None:
        self._type = "message"
        self._id: str | None = None
        self._data: list[str] = []

    def feed(self, line: str) -> ServerEvent | None:
        if line == "":
            if not self._data:
                self._reset()
                return None
            raw = "\n".join(self._data)
            try:
                data = json.loads(raw)
            except ValueError:
                data = {"text": raw}
            event = ServerEvent(self._type, self._id, data if isinstance(data, dict) else {})
            self._reset()
            return event
        if line.startswith(":"):
            return None
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._type = value
        elif name == "data":
            self._data.append(value)
        elif name == "id":
            self._id = value
        return None


def parse(lines: Iterable[str]) -> Iterator[ServerEvent]:
    parser = EventParser()
    for line in lines:
        event = parser.feed(line)
        if event is not None:
            yield event


async def aparse(lines: AsyncIterator[str]) -> AsyncIterator[ServerEvent]:
    parser = EventParser()
    async for line in lines:
        event = parser.feed(line)
        if event is not None:
            yield event
