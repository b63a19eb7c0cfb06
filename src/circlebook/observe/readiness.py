"""Whether this instance can serve now: for load balancers, beyond being alive (/v1/health)."""

from __future__ import annotations

import logging
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
