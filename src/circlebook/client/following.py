"""Staying on the event stream: reconnecting with Last-Event-ID after a drop."""

from __future__ import annotations

import time
from collections.abc import Iterator

from circlebook.client.errors import TransportError
from circlebook.client.events import ServerEvent
from circlebook.client.sdk import Client


def follow(
    client: Client, *, last_event_id: str | None = None, pause: float = 2.0
) -> Iterator[ServerEvent]:
    """Every event of the account, for as long as the caller iterates.

    A dropped connection is resumed from the last event seen, so nothing is
    missed; the server says `resync` when it can no longer replay. Refusals
    (a signed-out token, say) are raised, not retried.
    """
    while True:
        try:
            for event in client.events(last_event_id=last_event_id):
                if event.id is not None:
                    last_event_id = event.id
                yield event
        except TransportError:
            pass
        time.sleep(pause)
