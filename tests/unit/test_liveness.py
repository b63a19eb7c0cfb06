"""Health probes that arrive while the database is being checked share that one check."""

from __future__ import annotations

import asyncio
import threading

from circlebook.observe.readiness import Liveness


class BlockedProbe:
    """Stands in for opening a transaction: counts its calls, and answers once released."""

    def __init__(self, failure: Exception | None = None) -> None:
        self.failure = failure
        self.calls = 0
        self.release = threading.Event()

    def __call__(self) -> None:
        self.calls += 1
        assert self.release.wait(timeout=30)
        if self.failure is not None:
            raise self.failure


async def _probe_ten(liveness: Liveness, probe: BlockedProbe) -> list[BaseException | None]:
    asking = [asyncio.ensure_future(liveness.check()) for _ in range(10)]
    await asyncio.sleep(0)  # every probe has asked before the check answers
    probe.release.set()
    return await asyncio.gather(*asking, return_exceptions=True)


def test_ten_probes_at_once_open_one_transaction() -> None:
    probe = BlockedProbe()
    assert asyncio.run(_probe_ten(Liveness(probe), probe)) == [None] * 10
    assert probe.calls == 1


def test_a_database_that_does_not_answer_fails_every_probe_that_waited_and_is_asked_again() -> None:
    probe = BlockedProbe(ConnectionError("refused"))
    liveness = Liveness(probe)

    async def twice() -> tuple[list[BaseException | None], list[BaseException | None]]:
        first = await _probe_ten(liveness, probe)
        return first, await _probe_ten(liveness, probe)

    first, then = asyncio.run(twice())
    assert all(isinstance(answer, ConnectionError) for answer in first + then)
    assert probe.calls == 2
