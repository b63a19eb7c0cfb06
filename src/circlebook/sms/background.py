"""Sends texts on a thread of its own, so that a request never waits for an SMS gateway."""

from __future__ import annotations

import logging
import threading
from concurrent.futures import Future, ThreadPoolExecutor

from circlebook.services.ports import SmsSender

log = logging.getLogger("circlebook.sms")


class BackgroundSender:
    """Queues each text for `sender` and returns at once; `drain()` waits for the queue."""

    def __init__(self, sender: SmsSender, workers: int = 2) -> None:
        self._sender = sender
        self._workers = workers
        self._lock = threading.Lock()
        self._pool = self._new_pool()

    def _new_pool(self) -> ThreadPoolExecutor:
        return ThreadPoolExecutor(max_workers=self._workers, thread_name_prefix="circlebook-sms")

    def send(self, to: str, text: str) -> None:
        with self._lock:
            future = self._pool.submit(self._sender.send, to, text)
        future.add_done_callback(_report)

    def drain(self) -> None:
        """Wait until every queued text was handed over; later texts still queue."""
        with self._lock:
            pool, self._pool = self._pool, self._new_pool()
        pool.shutdown(wait=True)


def _report(future: Future[None]) -> None:
    error = future.exception()
    if error is not None:
        # The number is personal data: the log says that a text failed, not to whom.
        log.warning("an invitation text could not be sent: %s", error)
