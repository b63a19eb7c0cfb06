"""Whether this instance can serve now: for load balancers, beyond being alive (/v1/health)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass

from sqlalchemy import Engine
from starlette.concurrency import run_in_threadpool

from circlebook.notify.broker import Broker
from circlebook.storage import migrate

log = logging.getLogger("circlebook.ready")


@dataclass(frozen=True, slots=True)
class Failed:
    check: str  # database, migrations or broker
    detail: str


class Readiness:
    """Three checks: the database answers, its schema is the code's, the broker answers."""

    def __init__(self, engine: Engine, broker: Broker) -> None:
        self.engine = engine
        self.broker = broker
        # Read once: the migration scripts do not change under a running server.
        self.head = migrate.head()

    async def failures(self) -> list[Failed]:
        failed: list[Failed] = []
        try:
            revision = await run_in_threadpool(migrate.revision, self.engine)
        except Exception as exc:  # whatever the driver raises, the database did not answer
            log.warning("readiness: the database does not answer: %s", type(exc).__name__)
            failed.append(Failed("database", "the database does not answer"))
        else:
            if revision != self.head:
                failed.append(
                    Failed(
                        "migrations",
                        f"the database schema is at {revision or 'nothing'}, the code at "
                        f"{self.head}: run `circlebook migrate`",
                    )
                )
        try:
            await self.broker.ping()
        except Exception as exc:  # a broker that cannot be reached raises its client's errors
            log.warning("readiness: the broker does not answer: %s", type(exc).__name__)
            failed.append(Failed("broker", "the broker that carries events does not answer"))
        return failed


class Liveness:
    """Whether the database answers (/v1/health): `probe()` in a worker thread, one at a time.

    Probes that arrive while a check runs share its answer: fifty at once would
    otherwise each take a worker thread and a transaction for the same news.
    Runs on the event loop only.
    """

    def __init__(self, probe: Callable[[], None]) -> None:
        self._probe = probe
        self._running: asyncio.Future[None] | None = None

    async def check(self) -> None:
        """Return once the database answered; raise what `probe()` raised if it did not."""
        running = self._running
        if running is None:
            running = asyncio.ensure_future(run_in_threadpool(self._probe))
            self._running = running
            running.add_done_callback(self._ended)
        # shield: one probe going away must not cancel the check the others share.
        await asyncio.shield(running)

    def _ended(self, _: asyncio.Future[None]) -> None:
        self._running = None
