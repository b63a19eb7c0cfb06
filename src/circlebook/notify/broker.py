"""What every broker does: start listening, publish after commit, stop."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Protocol

from circlebook.domain.events import Event


class Broker(Protocol):
    async def start(self, deliver: Callable[[Event], None]) -> None:
        """Listen, handing every event (this instance's and others') to `deliver` on the loop."""

    def publish(self, events: Sequence[Event]) -> None:
        """Send committed events to every instance; may be called from any thread."""

    async def ping(self) -> None:
        """Raise unless the service that carries events between instances answers now."""

    async def stop(self) -> None: ...
